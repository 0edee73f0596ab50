//! How SQLite writes a batch of code issues: one transaction that takes the write lock up
//! front, so concurrent writers queue instead of failing mid-way, and one commit for the batch.

use application::ports::StoreCodeIssueError;
use diesel::SqliteConnection;
use domain::recovery::CodeIssue;
use sql_store::queries::StoreConnection;
use sql_store::rows::CodeInsert;
use sql_store::{Dialect, store_error};

/// The SQLite dialect of the shared store.
pub struct Sqlite;

impl Dialect for Sqlite {
    type Connection = SqliteConnection;

    const SHARED_COMMIT: bool = true;

    /// Issue by issue, in order, so a later issue for an identity revokes an earlier one of
    /// the batch as it would have after it; an issue whose identity is gone writes nothing.
    fn store_code_issues(
        conn: &mut SqliteConnection,
        batch: &[CodeIssue],
    ) -> Vec<Result<(), StoreCodeIssueError>> {
        let written = conn.immediate_transaction(|conn| {
            let mut outcomes = Vec::with_capacity(batch.len());
            for issue in batch {
                let CodeIssue {
                    flow,
                    code,
                    revoke_previous,
                    audit,
                } = issue.clone();
                if conn.find_identity(flow.identity_id)?.is_none() {
                    outcomes.push(Err(StoreCodeIssueError::IdentityNotFound));
                    continue;
                }
                if revoke_previous {
                    conn.revoke_codes(flow.identity_id, code.code_type.as_str(), code.issued_at)?;
                }
                conn.insert_flow(flow.into())?;
                conn.insert_code(CodeInsert::new(code, revoke_previous))?;
                conn.insert_audit_event(audit.into())?;
                outcomes.push(Ok(()));
            }
            Ok::<_, diesel::result::Error>(outcomes)
        });
        written.unwrap_or_else(|error| {
            let error = store_error(error);
            batch
                .iter()
                .map(|_| Err(error.for_another().into()))
                .collect()
        })
    }
}
