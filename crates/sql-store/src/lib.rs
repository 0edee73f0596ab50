//! What the SQL adapters share. Column types are declared once, as SQL types that map to a
//! native type on each backend (`uuid`, `jsonb`, `timestamptz` on PostgreSQL; text on SQLite),
//! so one schema, one set of rows and one set of queries serve both.

mod batch;
pub mod queries;
pub mod rows;
pub mod schema;
mod store;
pub mod types;

pub use store::{DEFAULT_ISSUE_BATCH_SIZE, Dialect, PoolOptions, SqlStore};

use application::ports::StoreError;
use diesel::result::{DatabaseErrorKind, Error};

/// A lost connection is [`StoreError::Unavailable`]; everything else is unexpected.
#[must_use]
pub fn store_error(error: Error) -> StoreError {
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => StoreError::Unavailable(Box::new(error)),
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// Whether `error` violates uniqueness on `column` of `table`. PostgreSQL names the index,
/// SQLite the column; both are recognised.
#[must_use]
pub fn is_unique_violation(error: &Error, table: &str, column: &str) -> bool {
    let Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = error else {
        return false;
    };
    let index = format!("{table}_{column}_key");
    info.constraint_name() == Some(index.as_str())
        || info.column_name() == Some(column)
        || info.message().contains(&format!("{table}.{column}"))
}

/// Whether `error` is PostgreSQL's deadlock detector aborting one of two transactions: the
/// work is whole or not at all, so trying it again is safe. Recognised by its message, as
/// diesel does not expose the SQLSTATE.
#[must_use]
pub fn is_deadlock(error: &Error) -> bool {
    matches!(error, Error::DatabaseError(_, info) if info.message().contains("deadlock"))
}

/// Whether `error` is a foreign key violation.
#[must_use]
pub fn is_foreign_key_violation(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}
