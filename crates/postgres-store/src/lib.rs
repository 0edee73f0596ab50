//! The PostgreSQL adapter: the shared SQL store ([`sql_store::SqlStore`]) on PostgreSQL, with
//! its migrations and its dialect: issuing, counting a submission and redeeming, each in one
//! statement.

mod audit;
mod dialect;
mod issue_code;
mod migrations;
mod redeem;
mod submission;
#[cfg(feature = "test-support")]
pub mod test_support;

use diesel::r2d2::NopConnectionCustomizer;
use sql_store::SqlStore;

pub use dialect::Postgres;
pub use migrations::{MigrationError, run_migrations};
pub use sql_store::PoolOptions;

/// The store on PostgreSQL. Cloning shares the pool.
pub type PgStore = SqlStore<Postgres>;

/// A store for `dsn`. Connections are opened lazily, so this succeeds while the database is
/// down; readiness checks tell whether it answers.
#[must_use]
pub fn connect(dsn: &str, options: PoolOptions) -> PgStore {
    SqlStore::new(dsn, options, NopConnectionCustomizer)
}
