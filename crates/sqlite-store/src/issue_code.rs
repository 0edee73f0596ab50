//! How SQLite writes a code issue: three statements in one transaction that takes the write
//! lock up front, so concurrent writers queue instead of failing mid-way.

use application::ports::StoreCodeIssueError;
use diesel::SqliteConnection;
use domain::recovery::CodeIssue;
use sql_store::queries::StoreConnection;
use sql_store::rows::CodeInsert;
use sql_store::{Dialect, is_foreign_key_violation, store_error};

/// The SQLite dialect of the shared store.
pub struct Sqlite;

impl Dialect for Sqlite {
    type Connection = SqliteConnection;

    fn store_code_issue(
        conn: &mut SqliteConnection,
        issue: CodeIssue,
    ) -> Result<(), StoreCodeIssueError> {
        let CodeIssue {
            flow,
            code,
            revoke_previous,
            audit,
        } = issue;
        let identity_id = flow.identity_id;
        conn.immediate_transaction(|conn| {
            // Revoke first: the new code is not written yet, so it is never among the revoked.
            if revoke_previous {
                conn.revoke_codes(identity_id, code.code_type.as_str(), code.issued_at)?;
            }
            conn.insert_flow(flow.into())?;
            conn.insert_code(CodeInsert::new(code, revoke_previous))?;
            conn.insert_audit_event(audit.into())
        })
        .map(drop)
        .map_err(|error| {
            if is_foreign_key_violation(&error) {
                StoreCodeIssueError::IdentityNotFound
            } else {
                store_error(error).into()
            }
        })
    }
}
