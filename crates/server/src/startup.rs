//! Wiring: the PostgreSQL store and the system clock into the use cases, the use cases into the
//! two HTTP listeners.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use application::ports::SystemClock;
use application::{RecoverySettings, Service};
use http_api::{HttpSettings, ServerOptions};
use postgres_store::PoolOptions;

use crate::config::Settings;

/// Both listeners, bound and ready to run.
pub struct Application {
    admin_addr: SocketAddr,
    public_addr: SocketAddr,
    admin: Server,
    public: Server,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

impl Application {
    /// Binds both listeners (port 0 picks a free one) and builds the servers; nothing is
    /// served until [`Application::run`].
    ///
    /// # Errors
    /// [`StartupError`] when a listener cannot be bound.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        let store = postgres_store::connect(&settings.dsn, PoolOptions::default());
        let service = Arc::new(Service::new(
            store,
            Arc::new(SystemClock),
            RecoverySettings {
                enabled: settings.code_enabled && settings.recovery_enabled,
                lifespan: settings.lifespan,
                code_length: settings.code_length,
                invalidate_previous: settings.invalidate_previous,
                ui_url: settings.recovery_ui_url.clone(),
            },
            settings.secrets.clone(),
        ));
        let http = HttpSettings {
            dev: settings.dev,
            public_base_url: settings.public.base_url.clone(),
            admin_base_url: settings.admin.base_url.clone(),
        };
        let options = ServerOptions {
            workers: std::thread::available_parallelism().map_or(2, usize::from),
        };
        let (admin_listener, admin_addr) = bind(&settings.admin.host, settings.admin.port)?;
        let (public_listener, public_addr) = bind(&settings.public.host, settings.public.port)?;
        let bind_error = |address: SocketAddr| {
            move |source| StartupError::Bind {
                address: address.to_string(),
                source,
            }
        };
        let admin = http_api::admin_server(service.clone(), http.clone(), admin_listener, options)
            .map_err(bind_error(admin_addr))?;
        let public = http_api::public_server(service, http, public_listener, options)
            .map_err(bind_error(public_addr))?;
        Ok(Self {
            admin_addr,
            public_addr,
            admin,
            public,
        })
    }

    #[must_use]
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    #[must_use]
    pub fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    /// Serves until both listeners stop (SIGINT or SIGTERM stops them gracefully).
    ///
    /// # Errors
    /// The first listener's I/O error.
    pub async fn run(self) -> std::io::Result<()> {
        let (admin, public) = tokio::join!(self.admin, self.public);
        admin.and(public)
    }
}

fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), StartupError> {
    let address = format!("{host}:{port}");
    let error = |source| StartupError::Bind {
        address: address.clone(),
        source,
    };
    let listener = TcpListener::bind(&address).map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}
