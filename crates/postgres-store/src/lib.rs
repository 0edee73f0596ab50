//! The PostgreSQL adapter: implements the application's storage ports with diesel on an r2d2
//! pool. Diesel is blocking, so every call runs on tokio's blocking pool (see [`blocking`]).

mod blocking;
mod identities;
mod migrations;
mod recovery;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::time::Duration;

use application::ports::{Readiness, StoreError};
use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};

pub use migrations::{MigrationError, run_migrations};

type PgPool = Pool<ConnectionManager<PgConnection>>;

/// Pool sizing and patience.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before the store counts as unavailable.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// The store. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A store for `dsn`. Connections are opened lazily, so this succeeds while the database
    /// is down; [`Readiness::check_ready`] tells whether it answers.
    #[must_use]
    pub fn connect(dsn: &str, options: PoolOptions) -> Self {
        let pool = Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(false)
            .build_unchecked(ConnectionManager::new(dsn));
        Self { pool }
    }
}

impl Readiness for PgStore {
    async fn check_ready(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map(drop)
                .map_err(sql_store::store_error)
        })
        .await
    }
}
