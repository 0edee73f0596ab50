//! The SQLite schema, embedded in the binary.

use diesel::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MigrationError(String);

impl MigrationError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Applies every pending migration on `conn`. Returns the versions applied.
///
/// # Errors
/// [`MigrationError`] when a migration fails.
pub fn run_migrations(conn: &mut SqliteConnection) -> Result<Vec<String>, MigrationError> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| MigrationError(format!("migration failed: {e}")))
}
