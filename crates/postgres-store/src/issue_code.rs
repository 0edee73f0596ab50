//! How PostgreSQL writes a code issue: in one statement.

use application::ports::StoreCodeIssueError;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::Untyped;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use domain::recovery::{CODE_METHOD, CodeIssue};
use sql_store::{is_foreign_key_violation, store_error};

use crate::audit::{AuditParams, insert_audit_event};

/// Issuing a code in one statement, which PostgreSQL runs as one transaction. The parameters
/// come first, once each, in a `p` row; the statement is prepared once per connection.
///
/// - The identity's row is locked first: issues for one identity queue, and the flow is
///   inserted only if the identity exists.
/// - When asked, the identity's earlier unused codes of the same type are revoked; the code
///   insert waits for the revocation's count, so the one-live-exclusive-code index never sees
///   both. All parts share one snapshot, so the new code is never among the revoked ones.
///
/// One round trip instead of five.
const ISSUE_CODE: &str = concat!(
    "
), identity AS (
    SELECT i.id FROM identities i, p WHERE i.id = p.identity_id FOR NO KEY UPDATE OF i
), flow AS (
    INSERT INTO recovery_flows
        (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at,
         return_to, verifies_addresses)
    SELECT p.flow_id, identity.id, p.flow_type, p.state, p.active_method, p.request_url,
           p.issued_at, p.expires_at, p.return_to, p.verifies_addresses
    FROM identity, p
    RETURNING id, identity_id
), revoked AS (
    UPDATE recovery_codes c SET revoked_at = p.issued_at FROM p
    WHERE p.revoke
      AND c.identity_id IN (SELECT identity_id FROM flow)
      AND c.code_type = p.code_type
      AND c.used_at IS NULL
      AND c.revoked_at IS NULL
    RETURNING 1
), code AS (
    INSERT INTO recovery_codes
        (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive)
    SELECT p.code_id, flow.id, flow.identity_id, p.code_hash, p.code_type, p.issued_at,
           p.expires_at, p.revoke
    FROM flow, p CROSS JOIN (SELECT count(*) FROM revoked) AS revocation_done
    RETURNING id
), audited AS (
    ",
    insert_audit_event!(),
    " WHERE EXISTS (SELECT 1 FROM flow)
    RETURNING 1
)
SELECT count(*) AS created FROM code"
);

/// [`ISSUE_CODE`] with its parameters, as a query diesel may prepare and keep: unlike
/// `sql_query`, it has a fixed identity and is safe to cache.
struct IssueCode<'a> {
    issue: &'a CodeIssue,
    audit: AuditParams<'a>,
    flow_type: &'static str,
    state: &'static str,
    code_type: &'static str,
}

impl QueryId for IssueCode<'_> {
    type QueryId = IssueCode<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for IssueCode<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for IssueCode<'_> {}

impl QueryFragment<Pg> for IssueCode<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let CodeIssue {
            flow,
            code,
            revoke_previous,
            audit: _,
        } = self.issue;
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<SqlUuid, _>(flow.identity_id.as_uuid())?;
        out.push_sql(" AS identity_id, ");
        out.push_bind_param::<SqlUuid, _>(flow.id.as_uuid())?;
        out.push_sql(" AS flow_id, ");
        out.push_bind_param::<Text, _>(&self.flow_type)?;
        out.push_sql(" AS flow_type, ");
        out.push_bind_param::<Text, _>(&self.state)?;
        out.push_sql(" AS state, ");
        out.push_bind_param::<Text, _>(&CODE_METHOD)?;
        out.push_sql(" AS active_method, ");
        out.push_bind_param::<Text, _>(&flow.request_url)?;
        out.push_sql(" AS request_url, ");
        out.push_bind_param::<Timestamptz, _>(&flow.issued_at)?;
        out.push_sql(" AS issued_at, ");
        out.push_bind_param::<Timestamptz, _>(&flow.expires_at)?;
        out.push_sql(" AS expires_at, ");
        out.push_bind_param::<Nullable<Text>, _>(&flow.return_to)?;
        out.push_sql(" AS return_to, ");
        out.push_bind_param::<Bool, _>(&flow.verifies_addresses)?;
        out.push_sql(" AS verifies_addresses, ");
        out.push_bind_param::<SqlUuid, _>(code.id.as_uuid())?;
        out.push_sql(" AS code_id, ");
        out.push_bind_param::<Text, _>(code.hash.as_str())?;
        out.push_sql(" AS code_hash, ");
        out.push_bind_param::<Text, _>(&self.code_type)?;
        out.push_sql(" AS code_type, ");
        out.push_bind_param::<Bool, _>(revoke_previous)?;
        out.push_sql(" AS revoke");
        self.audit.push(&mut out)?;
        out.push_sql(ISSUE_CODE);
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = BigInt)]
    created: i64,
}

/// Issues a code, retrying once under the identity's lock when a concurrent issue won.
pub(crate) fn store_code_issue(
    conn: &mut PgConnection,
    issue: CodeIssue,
) -> Result<(), StoreCodeIssueError> {
    let result = match issue_code(conn, &issue) {
        // The statement queued behind another issue for the identity, whose code its
        // snapshot could not see and revoke. Take the lock first, in a statement of its
        // own: the issue that follows in the transaction then sees every earlier code.
        Err(error) if lost_race(&error) => conn.transaction(|conn| {
            diesel::sql_query("SELECT 1 FROM identities WHERE id = $1 FOR NO KEY UPDATE")
                .bind::<SqlUuid, _>(issue.flow.identity_id.into_uuid())
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

fn issue_code(conn: &mut PgConnection, issue: &CodeIssue) -> QueryResult<Created> {
    IssueCode {
        issue,
        audit: AuditParams::new(&issue.audit),
        flow_type: issue.flow.flow_type.as_str(),
        state: issue.flow.state.as_str(),
        code_type: issue.code.code_type.as_str(),
    }
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
