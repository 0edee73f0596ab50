//! PostgreSQL's part of the shared store: each hot path in one statement.

use application::ports::{RedeemError, StoreCodeIssueError, StoreError, Submission};
use diesel::PgConnection;
use domain::id::RecoveryFlowId;
use domain::recovery::{CodeIssue, Redemption};
use domain::time::Timestamp;
use sql_store::Dialect;

/// The PostgreSQL dialect of the shared store.
pub struct Postgres;

impl Dialect for Postgres {
    type Connection = PgConnection;

    fn store_code_issues(
        conn: &mut PgConnection,
        batch: &[CodeIssue],
    ) -> Vec<Result<(), StoreCodeIssueError>> {
        crate::issue_code::store_code_issues(conn, batch)
    }

    fn begin_submission(
        conn: &mut PgConnection,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> Result<Option<Submission>, StoreError> {
        crate::submission::begin_submission(conn, flow_id, now)
    }

    fn redeem(conn: &mut PgConnection, redemption: &Redemption) -> Result<(), RedeemError> {
        crate::redeem::redeem(conn, redemption)
    }
}
