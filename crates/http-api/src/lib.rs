//! The HTTP adapter: two listeners, as in Ory Kratos. The admin listener serves identity
//! management and recovery-code issuance to the callers [`AdminAccess`] admits; the public
//! listener serves what end users reach: the self-service API and the built-in pages. Every
//! non-2xx answer of the APIs is the `errorGeneric` envelope (see [`envelope`]); the pages
//! answer people in HTML. The public listener knows who its clients are (see
//! [`client_address`]) and limits what each may send (see [`rate_limit`]).

mod admin_auth;
mod client_address;
mod csrf;
mod device;
mod envelope;
mod errors;
mod json;
pub mod metrics;
mod openapi;
mod origin;
mod pages;
mod rate_limit;
mod routes;
mod security_headers;
mod session_auth;
mod wait;
mod wire;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use application::Service;
use application::ports::Store;
use url::Url;

pub use admin_auth::{AdminAccess, ApiKey, InvalidDigest};
pub use client_address::TrustedProxies;
pub use envelope::ApiError;
pub use rate_limit::{Limit, RateLimitSettings, RateLimits};

use crate::security_headers::SecurityHeaders;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the HTTP layer needs to know beyond the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Adds `debug` to error envelopes. Never in production.
    pub dev: bool,
    /// Where the public listener is reached from outside (for `schema_url`).
    pub public_base_url: Url,
    /// Where the admin listener is reached from outside (for `Link` headers, and the host the
    /// `Host` check accepts).
    pub admin_base_url: Url,
}

/// Listener sizing.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    pub workers: usize,
}

/// Who the public listener's clients are and how much each may send.
pub struct ClientPolicy {
    /// The proxies whose `X-Forwarded-For` and `Forwarded` headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// Shared, so that its state can be watched.
    pub rate_limits: Arc<RateLimits>,
}

/// The admin listener's server, not yet running: identities, recovery codes, health and its
/// OpenAPI document, for the callers `access` admits.
///
/// # Errors
/// When `listener` cannot be used.
pub fn admin_server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    access: AdminAccess,
    listener: TcpListener,
    options: ServerOptions,
) -> std::io::Result<Server> {
    let listener_kind = ListenerKind::Admin(access);
    server(service, settings, listener_kind, listener, options, |cfg| {
        routes::health::configure::<S>(cfg);
        openapi::configure(cfg, &openapi::ADMIN);
        routes::recovery_codes::configure::<S>(cfg);
        routes::identities::configure::<S>(cfg);
        routes::sessions::configure::<S>(cfg);
        routes::metrics::configure(cfg);
        routes::audit_events::configure::<S>(cfg);
    })
}

/// The public listener's server, not yet running: health, its OpenAPI document, identity
/// schemas, the self-service API and the built-in pages, each request's client limited by
/// `clients`.
///
/// # Errors
/// When `listener` cannot be used.
pub fn public_server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    listener: TcpListener,
    options: ServerOptions,
    clients: ClientPolicy,
) -> std::io::Result<Server> {
    let listener_kind = ListenerKind::Public(clients);
    server(service, settings, listener_kind, listener, options, |cfg| {
        routes::health::configure::<S>(cfg);
        openapi::configure(cfg, &openapi::PUBLIC);
        routes::schemas::configure::<S>(cfg);
        routes::self_service::configure::<S>(cfg);
    })
}

/// Which listener a server is, with what only that listener needs.
enum ListenerKind {
    Admin(AdminAccess),
    Public(ClientPolicy),
}

/// A server for `routes`, with what every listener shares: the extractor settings, the 404 for
/// unrouted paths, the security headers and the envelope middleware. The admin listener also
/// checks who calls it; the public one resolves and limits its clients. Both inside the
/// envelope, so their refusals get the envelope too.
fn server<S: Store>(
    service: Arc<Service<S>>,
    settings: HttpSettings,
    kind: ListenerKind,
    listener: TcpListener,
    options: ServerOptions,
    routes: fn(&mut web::ServiceConfig),
) -> std::io::Result<Server> {
    // Installed before the first request, so that nothing is recorded into the void.
    metrics::handle();
    let service = web::Data::from(service);
    let (security, access, clients) = match kind {
        ListenerKind::Admin(access) => {
            (SecurityHeaders::admin(), Some(web::Data::new(access)), None)
        }
        ListenerKind::Public(clients) => (
            SecurityHeaders::public(&settings.public_base_url),
            None,
            Some(clients),
        ),
    };
    let security = web::Data::new(security);
    let settings = web::Data::new(settings);
    let (trusted_proxies, rate_limits) = clients.map_or((None, None), |clients| {
        (
            Some(web::Data::new(clients.trusted_proxies)),
            Some(web::Data::from(clients.rate_limits)),
        )
    });
    Ok(HttpServer::new(move || {
        let mut app = App::new()
            .app_data(service.clone())
            .app_data(settings.clone())
            .app_data(security.clone());
        if let Some(access) = &access {
            app = app.app_data(access.clone());
        }
        if let Some(trusted_proxies) = &trusted_proxies {
            app = app.app_data(trusted_proxies.clone());
        }
        if let Some(rate_limits) = &rate_limits {
            app = app.app_data(rate_limits.clone());
        }
        app.app_data(json::config())
            .app_data(json::query_config())
            .app_data(json::form_config())
            .app_data(json::path_config())
            .configure(routes)
            .default_service(web::to(routes::not_found))
            // The last wrapped runs first: the envelope sees every answer, limits see the client.
            .wrap(Condition::new(
                access.is_some(),
                from_fn(admin_auth::middleware),
            ))
            .wrap(from_fn(rate_limit::middleware))
            .wrap(from_fn(client_address::middleware))
            .wrap(from_fn(envelope::middleware))
            .wrap(from_fn(metrics::observe))
    })
    .workers(options.workers)
    // Signals are the caller's: two listeners in one process must stop together, and a
    // listener stopping on its own stops the whole runtime 300 ms later, answered or not.
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .listen(listener)?
    .run())
}

/// How long a stopping listener lets requests in progress finish.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 10;
