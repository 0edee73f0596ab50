//! The HTTP adapter: two listeners, as in Ory Kratos. The admin listener serves identity
//! management and recovery-code issuance; the public listener serves what end users reach: the
//! self-service API and the built-in pages. Every non-2xx answer of the APIs is the
//! `errorGeneric` envelope (see [`envelope`]); the pages answer people in HTML.

mod csrf;
mod envelope;
mod errors;
mod json;
mod pages;
mod routes;
mod session_auth;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use application::Service;
use application::ports::Store;
use url::Url;

pub use envelope::ApiError;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the HTTP layer needs to know beyond the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Adds `debug` to error envelopes. Never in production.
    pub dev: bool,
    /// Where the public listener is reached from outside (for `schema_url`).
    pub public_base_url: Url,
    /// Where the admin listener is reached from outside (for flows' `request_url`).
    pub admin_base_url: Url,
}

/// Listener sizing.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    pub workers: usize,
}

/// The admin listener's server, not yet running: identities, recovery codes and health.
///
/// # Errors
/// When `listener` cannot be used.
pub fn admin_server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    listener: TcpListener,
    options: ServerOptions,
) -> std::io::Result<Server> {
    server(service, settings, listener, options, |cfg| {
        routes::health::configure::<S>(cfg);
        routes::recovery_codes::configure::<S>(cfg);
        routes::identities::configure::<S>(cfg);
    })
}

/// The public listener's server, not yet running: health, identity schemas, the
/// self-service API and the built-in pages.
///
/// # Errors
/// When `listener` cannot be used.
pub fn public_server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    listener: TcpListener,
    options: ServerOptions,
) -> std::io::Result<Server> {
    server(service, settings, listener, options, |cfg| {
        routes::health::configure::<S>(cfg);
        routes::schemas::configure(cfg);
        routes::self_service::configure::<S>(cfg);
    })
}

/// A server for `routes`, with what every listener shares: the extractor settings, the 404 for
/// unrouted paths and the envelope middleware.
fn server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    listener: TcpListener,
    options: ServerOptions,
    routes: fn(&mut web::ServiceConfig),
) -> std::io::Result<Server> {
    let service = web::Data::from(service);
    let settings = web::Data::new(settings);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(service.clone())
            .app_data(settings.clone())
            .app_data(json::config())
            .app_data(json::query_config())
            .app_data(json::form_config())
            .app_data(json::path_config())
            .configure(routes)
            .default_service(web::to(routes::not_found))
            .wrap(from_fn(envelope::middleware))
    })
    .workers(options.workers)
    .listen(listener)?
    .run())
}
