//! Wiring: the configured store, the secrets and the system clock into the use cases, the use
//! cases into the two HTTP listeners.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use application::ports::{Store, SystemClock};
use application::{RecoverySettings, SelfServiceSettings, Service};
use chrono::TimeDelta;
use domain::identity_schema::IdentitySchemas;
use domain::lockout::LockoutPolicy;
use domain::secret::Secrets;
use http_api::{ClientPolicy, HttpSettings, RateLimits, ServerOptions, TrustedProxies};
use sqlite_store::{Location, SqliteStore};
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{Settings, StoreConfig};
use crate::identity_schemas::{self, LoadError};
use crate::secret_file::{self, SecretFileError, SecretSource};

/// Both listeners, bound and ready to run.
pub struct Application {
    admin_addr: SocketAddr,
    public_addr: SocketAddr,
    admin: Server,
    public: Server,
    secret_source: SecretSource,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("the database cannot be prepared: {0}")]
    Store(String),
    #[error(transparent)]
    Secret(#[from] SecretFileError),
    #[error("no URL can be built for {0}")]
    Url(SocketAddr),
    #[error(transparent)]
    Schemas(#[from] LoadError),
}

/// The store, opened and migrated.
enum OpenStore {
    Postgres(postgres_store::PgStore),
    Sqlite(SqliteStore),
}

/// Applies pending migrations: on PostgreSQL under an advisory lock, so replicas starting
/// together do not race; SQLite migrates as it opens.
///
/// # Errors
/// [`StartupError::Store`] when the database cannot be reached or migrated.
pub fn migrate(settings: &Settings) -> Result<(), StartupError> {
    open_store(settings).map(drop)
}

fn open_store(settings: &Settings) -> Result<OpenStore, StartupError> {
    let failed = |e: &dyn std::fmt::Display| StartupError::Store(e.to_string());
    match &settings.store {
        StoreConfig::Postgres { dsn } => {
            let applied = postgres_store::run_migrations(dsn).map_err(|e| failed(&e))?;
            tracing::info!(applied = applied.len(), "database schema is up to date");
            Ok(OpenStore::Postgres(postgres_store::connect(
                dsn,
                postgres_store::PoolOptions {
                    issue_batch_size: settings.issue_batch_size,
                    ..postgres_store::PoolOptions::default()
                },
            )))
        }
        StoreConfig::Sqlite { path } => {
            sqlite_store::open_with(&Location::File(path.clone()), settings.issue_batch_size)
                .map(OpenStore::Sqlite)
                .map_err(|e| failed(&e))
        }
        StoreConfig::Memory => {
            sqlite_store::open_with(&Location::Memory, settings.issue_batch_size)
                .map(OpenStore::Sqlite)
                .map_err(|e| failed(&e))
        }
    }
}

impl Application {
    /// Opens and migrates the store, settles the secrets, binds both listeners (port 0 picks
    /// a free one) and builds the servers; nothing is served until [`Application::run`].
    ///
    /// # Errors
    /// [`StartupError`] naming what could not be prepared.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        // Schemas first: one that cannot be read stops start-up before any database work.
        let schemas = identity_schemas::load(&settings.identity)?;
        let store = open_store(settings)?;
        let (secrets, secret_source) = secret_file::resolve(settings)?;
        match store {
            OpenStore::Postgres(store) => {
                Self::wire(store, secrets, secret_source, schemas, settings)
            }
            OpenStore::Sqlite(store) => {
                Self::wire(store, secrets, secret_source, schemas, settings)
            }
        }
    }

    fn wire<S: Store>(
        store: S,
        secrets: Secrets,
        secret_source: SecretSource,
        schemas: IdentitySchemas,
        settings: &Settings,
    ) -> Result<Self, StartupError> {
        let (admin_listener, admin_addr) = bind(&settings.admin.host, settings.admin.port)?;
        let (public_listener, public_addr) = bind(&settings.public.host, settings.public.port)?;
        let public_base_url = settings
            .public
            .base_url_for(public_addr)
            .map_err(|_| StartupError::Url(public_addr))?;
        let admin_base_url = settings
            .admin
            .base_url_for(admin_addr)
            .map_err(|_| StartupError::Url(admin_addr))?;
        let ui_url = match &settings.recovery_ui_url {
            Some(url) => url.clone(),
            None => public_base_url
                .join("recovery")
                .map_err(|_| StartupError::Url(public_addr))?,
        };
        let service = Arc::new(
            Service::new(
                store,
                Arc::new(SystemClock),
                RecoverySettings {
                    enabled: settings.code_enabled && settings.recovery_enabled,
                    lifespan: settings.lifespan,
                    code_length: settings.code_length,
                    invalidate_previous: settings.invalidate_previous,
                    ui_url,
                    mark_address_verified: settings.mark_address_verified,
                },
                secrets,
            )
            .with_selfservice(SelfServiceSettings {
                max_submissions: settings.max_submissions,
                revoke_active_sessions: settings.revoke_active_sessions,
                revoke_sessions_on_password_change: settings.revoke_sessions_on_password_change,
                privileged_session_max_age: delta(settings.privileged_session_max_age),
                session_lifespan: delta(settings.session_lifespan),
                flow_lifespan: delta(settings.privileged_session_max_age),
                allowed_return_urls: settings.allowed_return_urls.clone(),
                lockout: LockoutPolicy::default(),
            })
            .with_hashing(settings.hashing)
            .with_schemas(schemas)
            .with_audit_retention(delta(settings.audit_retention)),
        );
        let http = HttpSettings {
            dev: settings.dev,
            public_base_url,
            admin_base_url,
        };
        let options = ServerOptions {
            workers: std::thread::available_parallelism().map_or(2, usize::from),
        };
        let bind_error = |address: SocketAddr| {
            move |source| StartupError::Bind {
                address: address.to_string(),
                source,
            }
        };
        keep_house(service.clone());
        let admin = http_api::admin_server(
            service.clone(),
            http.clone(),
            settings.admin_auth.access.clone(),
            admin_listener,
            options,
        )
        .map_err(bind_error(admin_addr))?;
        warn_of_missing_limits(settings);
        let clients = ClientPolicy {
            trusted_proxies: TrustedProxies::new(settings.trusted_proxies.clone()),
            rate_limits: Arc::new(RateLimits::new(settings.rate_limits)),
        };
        let public = http_api::public_server(service, http, public_listener, options, clients)
            .map_err(bind_error(public_addr))?;
        Ok(Self {
            admin_addr,
            public_addr,
            admin,
            public,
            secret_source,
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

    /// Where the secrets in use came from.
    #[must_use]
    pub fn secret_source(&self) -> &SecretSource {
        &self.secret_source
    }

    /// Serves until both listeners stop (SIGINT or SIGTERM stops them gracefully).
    ///
    /// # Errors
    /// The first listener's I/O error.
    pub async fn run(self) -> std::io::Result<()> {
        let (admin_handle, public_handle) = (self.admin.handle(), self.public.handle());
        let mut admin = actix_web::rt::spawn(self.admin);
        let mut public = actix_web::rt::spawn(self.public);
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        // Until a signal, or a listener failing on its own.
        let failed = tokio::select! {
            _ = terminate.recv() => None,
            _ = interrupt.recv() => None,
            ended = &mut admin => Some(ended),
            ended = &mut public => Some(ended),
        };
        tracing::info!("stopping: no new connections; requests in progress may finish");
        // Both listeners stop accepting at once, and each lets its requests finish.
        tokio::join!(admin_handle.stop(true), public_handle.stop(true));
        let outcome = |ended: Result<std::io::Result<()>, _>| {
            ended.unwrap_or_else(|join| Err(std::io::Error::other(join)))
        };
        if let Some(ended) = failed {
            return outcome(ended);
        }
        let (admin, public) = tokio::join!(admin, public);
        outcome(admin).and(outcome(public))
    }
}

/// A limit turned off is worth a line in the log: it is easy to leave off by mistake.
fn warn_of_missing_limits(settings: &Settings) {
    let limits = &settings.rate_limits;
    for (class, limit) in [
        ("flow_creation", limits.flow_creation),
        ("login", limits.login),
        ("recovery", limits.recovery),
        ("settings", limits.settings),
    ] {
        if limit.is_none() {
            tracing::warn!(
                "serve.public.rate_limits.{class} is off: one client may send as much as it likes"
            );
        }
    }
}

/// How often expired flows and sessions are deleted.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes expired flows and sessions at start and every [`HOUSEKEEPING_INTERVAL`], for as
/// long as the server runs, so that the store does not grow without end.
fn keep_house<S: Store>(service: Arc<Service<S>>) {
    actix_web::rt::spawn(async move {
        let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = service.purge_expired().await {
                tracing::warn!(%error, "expired flows and sessions could not be deleted");
            }
        }
    });
}

/// Configured durations are at most Go's limit (about 292 years), which `TimeDelta` holds.
fn delta(duration: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
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
