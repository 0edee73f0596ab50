//! Schema migrations, embedded in the binary and run under an advisory lock so that replicas
//! starting together do not race.

use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The advisory lock key every instance of the service migrates under.
const MIGRATION_LOCK: i64 = 0x1a3_2ec0_7e27;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MigrationError(String);

/// Applies every pending migration to the database at `dsn`, holding a PostgreSQL advisory
/// lock for the duration. Returns the versions applied.
///
/// # Errors
/// [`MigrationError`] when the database cannot be reached or a migration fails.
pub fn run_migrations(dsn: &str) -> Result<Vec<String>, MigrationError> {
    let mut conn = PgConnection::establish(dsn)
        .map_err(|e| MigrationError(format!("cannot connect to the database: {e}")))?;
    let lock = |conn: &mut PgConnection, sql: &str| {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
            .execute(conn)
            .map_err(|e| MigrationError(format!("cannot take the migration lock: {e}")))
    };
    lock(&mut conn, "SELECT pg_advisory_lock($1)")?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| MigrationError(format!("migration failed: {e}")));
    lock(&mut conn, "SELECT pg_advisory_unlock($1)")?;
    applied
}
