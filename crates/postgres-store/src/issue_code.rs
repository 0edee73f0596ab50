//! How PostgreSQL writes a code issue: in one statement.

use application::ports::StoreCodeIssueError;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use domain::recovery::{CODE_METHOD, CodeIssue};
use sql_store::{Dialect, is_foreign_key_violation, store_error};

/// Issuing a code in one statement, which PostgreSQL runs as one transaction.
///
/// - The identity's row is locked first: issues for one identity queue, and the flow is
///   inserted only if the identity exists.
/// - When asked, the identity's earlier unused codes of the same type are revoked; the code
///   insert waits for the revocation's count, so the one-live-exclusive-code index never sees
///   both. All parts share one snapshot, so the new code is never among the revoked ones.
///
/// One round trip instead of five.
const ISSUE_CODE: &str = "
WITH identity AS (
    SELECT id FROM identities WHERE id = $1 FOR NO KEY UPDATE
), flow AS (
    INSERT INTO recovery_flows
        (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at,
         return_to)
    SELECT $2, identity.id, $3, $4, $5, $6, $7, $8, $13 FROM identity
    RETURNING id, identity_id
), revoked AS (
    UPDATE recovery_codes SET revoked_at = $7
    WHERE $12
      AND identity_id IN (SELECT identity_id FROM flow)
      AND code_type = $11
      AND used_at IS NULL
      AND revoked_at IS NULL
    RETURNING 1
), code AS (
    INSERT INTO recovery_codes
        (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive)
    SELECT $9, flow.id, flow.identity_id, $10, $11, $7, $8, $12
    FROM flow CROSS JOIN (SELECT count(*) FROM revoked) AS revocation_done
    RETURNING id
)
SELECT count(*) AS created FROM code";

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = BigInt)]
    created: i64,
}

/// The PostgreSQL dialect of the shared store.
pub struct Postgres;

impl Dialect for Postgres {
    type Connection = PgConnection;

    fn store_code_issue(
        conn: &mut PgConnection,
        issue: CodeIssue,
    ) -> Result<(), StoreCodeIssueError> {
        let result = match issue_code(conn, &issue) {
            // The statement queued behind another issue for the identity, whose code its
            // snapshot could not see and revoke. Take the lock first, in a statement of its
            // own: the issue that follows in the transaction then sees every earlier code.
            Err(error) if lost_race(&error) => conn.transaction(|conn| {
                diesel::sql_query("SELECT 1 FROM identities WHERE id = $1 FOR NO KEY UPDATE")
                    .bind::<SqlUuid, _>(issue.flow.identity_id)
                    .execute(conn)?;
                issue_code(conn, &issue)
            }),
            other => other,
        };
        match result {
            Ok(Created { created: 1 }) => Ok(()),
            Ok(_) => Err(StoreCodeIssueError::IdentityNotFound),
            // The identity was deleted between the lookup and the insert.
            Err(error) if is_foreign_key_violation(&error) => {
                Err(StoreCodeIssueError::IdentityNotFound)
            }
            Err(error) => Err(store_error(error).into()),
        }
    }
}

fn issue_code(conn: &mut PgConnection, issue: &CodeIssue) -> QueryResult<Created> {
    let CodeIssue {
        flow,
        code,
        revoke_previous,
    } = issue;
    diesel::sql_query(ISSUE_CODE)
        .bind::<SqlUuid, _>(flow.identity_id)
        .bind::<SqlUuid, _>(flow.id)
        .bind::<Text, _>(flow.flow_type.as_str())
        .bind::<Text, _>(flow.state.as_str())
        .bind::<Text, _>(CODE_METHOD)
        .bind::<Text, _>(&flow.request_url)
        .bind::<Timestamptz, _>(flow.issued_at)
        .bind::<Timestamptz, _>(flow.expires_at)
        .bind::<SqlUuid, _>(code.id)
        .bind::<Text, _>(code.hash.as_str())
        .bind::<Text, _>(code.code_type.as_str())
        .bind::<Bool, _>(*revoke_previous)
        .bind::<Nullable<Text>, _>(flow.return_to.as_deref())
        .get_result::<Created>(conn)
}

/// Another issue for the same identity committed its exclusive code while this one ran.
fn lost_race(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("recovery_codes_one_live_exclusive")
    )
}
