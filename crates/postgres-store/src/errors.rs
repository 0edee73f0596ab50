//! Diesel's errors in the application's terms.

use application::ports::StoreError;
use diesel::result::{DatabaseErrorKind, Error};

/// A lost connection is [`StoreError::Unavailable`]; everything else is unexpected.
pub(crate) fn store_error(error: Error) -> StoreError {
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => StoreError::Unavailable(Box::new(error)),
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// Whether `error` is a violation of the named unique constraint or index.
pub(crate) fn is_unique_violation(error: &Error, constraint: &str) -> bool {
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some(constraint)
    )
}

/// Whether `error` is a foreign key violation.
pub(crate) fn is_foreign_key_violation(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}
