//! How PostgreSQL writes a batch of code issues: in one statement, whatever the batch's size.

use std::collections::HashSet;

use application::ports::StoreCodeIssueError;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamptz, Untyped, Uuid as SqlUuid};
use domain::recovery::{CODE_METHOD, CodeIssue};
use domain::time::Timestamp;
use sql_store::store_error;
use uuid::Uuid;

use crate::audit::{AuditArrays, insert_audit_event};

/// Issuing a batch of codes in one statement, which PostgreSQL runs as one transaction. Each
/// column of the batch is bound as one array, and `unnest` makes them the rows of `p`; the
/// statement is the same text for every size, so it is prepared once per connection.
///
/// - The identities' rows are locked first, in id order, so batches for the same identities
///   queue instead of deadlocking; only issues whose identity exists go on.
/// - The identities' earlier unused codes of the same type are revoked when asked; the code
///   insert waits for the revocation's count, so the one-live-exclusive-code index never sees
///   both. Issues of one identity within the batch arrive resolved: all but the last are
///   written already revoked, as if each had come first and been replaced.
/// - Each issue's audit event is written with it.
///
/// The identities are looked up by their array (`= ANY`), not by a join with `p`: the planner
/// takes `unnest` for a hundred rows, and would scan the tables to join them.
///
/// The answer is the flows written: an issue whose flow is missing had no identity.
const ISSUE_CODES: &str = concat!(
    "
), identity AS (
    SELECT i.id FROM identities i WHERE i.id = ANY((SELECT identity_ids FROM m)::uuid[])
    ORDER BY i.id FOR NO KEY UPDATE OF i
), flow AS (
    INSERT INTO recovery_flows
        (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at,
         return_to, verifies_addresses)
    SELECT p.flow_id, p.identity_id, p.flow_type, p.state, m.active_method, p.request_url,
           p.issued_at, p.expires_at, p.return_to, p.verifies_addresses
    FROM p JOIN identity ON identity.id = p.identity_id CROSS JOIN m
    RETURNING id, identity_id
), revoked AS (
    UPDATE recovery_codes c SET revoked_at = r.at
    FROM (SELECT identity_id, code_type, min(issued_at) AS at FROM p WHERE revoke
          GROUP BY identity_id, code_type) r
    WHERE c.identity_id = ANY((SELECT identity_ids FROM m)::uuid[])
      AND c.identity_id = r.identity_id
      AND r.identity_id IN (SELECT identity_id FROM flow)
      AND c.code_type = r.code_type
      AND c.used_at IS NULL
      AND c.revoked_at IS NULL
    RETURNING 1
), code AS (
    INSERT INTO recovery_codes
        (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive,
         revoked_at)
    SELECT p.code_id, p.flow_id, p.identity_id, p.code_hash, p.code_type, p.issued_at,
           p.expires_at, p.revoke, p.revoked_at
    FROM p JOIN flow ON flow.id = p.flow_id CROSS JOIN (SELECT count(*) FROM revoked) AS done
    RETURNING flow_id
), audited AS (
    ",
    insert_audit_event!(),
    " JOIN flow ON flow.id = p.flow_id
    RETURNING 1
)
SELECT flow_id FROM code"
);

/// The batch, one array per column.
struct IssueCodes<'a> {
    identity_ids: Vec<Uuid>,
    flow_ids: Vec<Uuid>,
    flow_types: Vec<&'static str>,
    states: Vec<&'static str>,
    request_urls: Vec<&'a str>,
    issued_at: Vec<Timestamp>,
    expires_at: Vec<Timestamp>,
    return_to: Vec<Option<&'a str>>,
    verifies_addresses: Vec<bool>,
    code_ids: Vec<Uuid>,
    code_hashes: Vec<&'a str>,
    code_types: Vec<&'static str>,
    revoke: Vec<bool>,
    revoked_at: Vec<Option<Timestamp>>,
    audit: AuditArrays<'a>,
}

impl<'a> IssueCodes<'a> {
    fn new(batch: &'a [CodeIssue]) -> Self {
        Self {
            identity_ids: batch
                .iter()
                .map(|i| i.flow.identity_id.into_uuid())
                .collect(),
            flow_ids: batch.iter().map(|i| i.flow.id.into_uuid()).collect(),
            flow_types: batch.iter().map(|i| i.flow.flow_type.as_str()).collect(),
            states: batch.iter().map(|i| i.flow.state.as_str()).collect(),
            request_urls: batch.iter().map(|i| i.flow.request_url.as_str()).collect(),
            issued_at: batch.iter().map(|i| i.flow.issued_at).collect(),
            expires_at: batch.iter().map(|i| i.flow.expires_at).collect(),
            return_to: batch.iter().map(|i| i.flow.return_to.as_deref()).collect(),
            verifies_addresses: batch.iter().map(|i| i.flow.verifies_addresses).collect(),
            code_ids: batch.iter().map(|i| i.code.id.into_uuid()).collect(),
            code_hashes: batch.iter().map(|i| i.code.hash.as_str()).collect(),
            code_types: batch.iter().map(|i| i.code.code_type.as_str()).collect(),
            revoke: batch.iter().map(|i| i.revoke_previous).collect(),
            revoked_at: replaced_within(batch),
            audit: AuditArrays::new(batch.iter().map(|i| &i.audit)),
        }
    }
}

/// For each issue, when a later issue of the batch for the same identity revokes it: its code
/// is written revoked then, as if the later one had come after it was written.
fn replaced_within(batch: &[CodeIssue]) -> Vec<Option<Timestamp>> {
    let mut replaced = vec![None; batch.len()];
    for (i, issue) in batch.iter().enumerate() {
        replaced[i] = batch[i + 1..]
            .iter()
            .find(|later| {
                later.revoke_previous
                    && later.flow.identity_id == issue.flow.identity_id
                    && later.code.code_type == issue.code.code_type
            })
            .map(|later| later.code.issued_at);
    }
    replaced
}

impl QueryId for IssueCodes<'_> {
    type QueryId = IssueCodes<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for IssueCodes<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for IssueCodes<'_> {}

impl QueryFragment<Pg> for IssueCodes<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH m AS (SELECT ");
        out.push_bind_param::<Text, _>(&CODE_METHOD)?;
        out.push_sql(" AS active_method, ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.identity_ids)?;
        out.push_sql(" AS identity_ids), p AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.identity_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.flow_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.flow_types)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.states)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.request_urls)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.issued_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.return_to)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.verifies_addresses)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.code_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.code_hashes)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.code_types)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.revoke)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamptz>>, _>(&self.revoked_at)?;
        self.audit.push(&mut out)?;
        out.push_sql(
            ") AS p(identity_id, flow_id, flow_type, state, request_url, issued_at, expires_at, \
             return_to, verifies_addresses, code_id, code_hash, code_type, revoke, revoked_at",
        );
        out.push_sql(crate::audit::AUDIT_ARRAY_COLUMNS);
        out.push_sql(")");
        out.push_sql(ISSUE_CODES);
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = SqlUuid)]
    flow_id: Uuid,
}

/// Writes `batch` in one statement; each issue gets its own outcome, in order. A database error
/// fails the whole batch: each issue gets it (503), including one that would have been written
/// alone, and nothing of the batch is kept.
pub(crate) fn store_code_issues(
    conn: &mut PgConnection,
    batch: &[CodeIssue],
) -> Vec<Result<(), StoreCodeIssueError>> {
    let written = match IssueCodes::new(batch).load::<Written>(conn) {
        // A concurrent batch for one of these identities committed while this one waited for
        // its lock, after this statement's snapshot was taken, so its code was not revoked
        // here; or two batches met in another order. Take the locks first, in a statement of
        // their own and in id order: the issue that follows in the transaction then sees
        // every earlier code.
        Err(error) if lost_race(&error) => conn.transaction(|conn| {
            let mut ids: Vec<Uuid> = batch
                .iter()
                .map(|i| i.flow.identity_id.into_uuid())
                .collect();
            ids.sort_unstable();
            diesel::sql_query(
                "SELECT 1 FROM identities WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .execute(conn)?;
            IssueCodes::new(batch).load::<Written>(conn)
        }),
        other => other,
    };
    match written {
        Ok(written) => {
            let written: HashSet<Uuid> = written.into_iter().map(|row| row.flow_id).collect();
            batch
                .iter()
                .map(|issue| {
                    if written.contains(issue.flow.id.as_uuid()) {
                        Ok(())
                    } else {
                        Err(StoreCodeIssueError::IdentityNotFound)
                    }
                })
                .collect()
        }
        Err(error) => {
            let error = store_error(error);
            batch
                .iter()
                .map(|_| Err(StoreCodeIssueError::Store(error.for_another())))
                .collect()
        }
    }
}

/// Whether `error` is a concurrent writer's doing, gone once the locks are taken first: the
/// one-live-code index meeting a code committed meanwhile, a deadlock between batches, or an
/// identity deleted between the lookup and the insert.
fn lost_race(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some("recovery_codes_one_live_exclusive")
        }
        diesel::result::Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => true,
        other => sql_store::is_deadlock(other),
    }
}

#[cfg(test)]
mod tests {
    use super::replaced_within;
    use application::contract::issue;
    use chrono::{TimeDelta, Utc};
    use domain::id::IdentityId;
    use domain::recovery::CodeType;
    use uuid::Uuid;

    #[test]
    fn an_issue_is_replaced_by_the_first_later_revoking_issue_of_its_identity_and_type() {
        let ada = IdentityId::from(Uuid::new_v4());
        let bob = IdentityId::from(Uuid::new_v4());
        let start = Utc::now();
        let at = |s| start + TimeDelta::seconds(s);
        let mut keeps_earlier = issue(ada, at(2));
        keeps_earlier.revoke_previous = false;
        let mut self_service = issue(ada, at(4));
        self_service.code.code_type = CodeType::SelfService;
        let batch = [
            issue(ada, at(0)),
            issue(bob, at(1)),
            keeps_earlier,
            issue(ada, at(3)),
            self_service,
            issue(ada, at(5)),
        ];

        assert_eq!(
            replaced_within(&batch),
            [Some(at(3)), None, Some(at(3)), Some(at(5)), None, None]
        );
    }

    #[test]
    fn a_lone_issue_and_issues_of_distinct_identities_are_not_replaced() {
        let batch: Vec<_> = (0..3)
            .map(|_| issue(Uuid::new_v4().into(), Utc::now()))
            .collect();
        assert_eq!(replaced_within(&batch[..1]), [None]);
        assert_eq!(replaced_within(&batch), [None, None, None]);
    }
}
