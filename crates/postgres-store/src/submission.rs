//! How PostgreSQL begins a submission: in one statement.

use application::ports::{StoreError, Submission};
use diesel::expression::Expression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Timestamptz, Uuid as SqlUuid};
use domain::id::RecoveryFlowId;
use domain::identity::Identity;
use domain::recovery::{RecoveryFlow, StoredCode};
use domain::time::Timestamp;
use sql_store::rows::{CodeColumns, CodeRow, FlowColumns, FlowRow, IdentityColumns, IdentityRow};
use sql_store::store_error;

/// The count, the flow, its identity and its redeemable codes, newest first: one row per code,
/// or one row without a code. The columns are those of the shared rows, in their order.
/// `c.expires_at > p.now` mirrors `Expires::is_expired`: a code has expired at its instant.
const BEGIN_SUBMISSION: &str = "
), counted AS (
    UPDATE recovery_flows SET submit_count = submit_count + 1 FROM p WHERE id = p.flow_id
    RETURNING id, identity_id, flow_type, state, issued_at, expires_at, request_url, return_to,
              submit_count, verifies_addresses
)
SELECT f.id, f.identity_id, f.flow_type, f.state, f.issued_at, f.expires_at, f.request_url,
       f.return_to, f.submit_count, f.verifies_addresses,
       i.id, i.schema_id, i.state, i.traits, i.created_at, i.updated_at, i.metadata_public,
       i.metadata_admin, i.identifier, i.recovery_addresses, i.verifiable_addresses,
       c.id, c.flow_id, c.identity_id, c.code_hash, c.code_type, c.issued_at, c.expires_at
FROM counted f
JOIN identities i ON i.id = f.identity_id
CROSS JOIN p
LEFT JOIN recovery_codes c
       ON c.flow_id = f.id AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > p.now
ORDER BY c.issued_at DESC";

struct BeginSubmission {
    flow_id: RecoveryFlowId,
    now: Timestamp,
}

impl QueryId for BeginSubmission {
    type QueryId = BeginSubmission;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for BeginSubmission {
    type SqlType = (
        <FlowColumns as Expression>::SqlType,
        <IdentityColumns as Expression>::SqlType,
        Nullable<<CodeColumns as Expression>::SqlType>,
    );
}

impl RunQueryDsl<PgConnection> for BeginSubmission {}

impl QueryFragment<Pg> for BeginSubmission {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<SqlUuid, _>(self.flow_id.as_uuid())?;
        out.push_sql(" AS flow_id, ");
        out.push_bind_param::<Timestamptz, _>(&self.now)?;
        out.push_sql(" AS now");
        out.push_sql(BEGIN_SUBMISSION);
        Ok(())
    }
}

/// One round trip instead of three.
pub(crate) fn begin_submission(
    conn: &mut PgConnection,
    flow_id: RecoveryFlowId,
    now: Timestamp,
) -> Result<Option<Submission>, StoreError> {
    let rows: Vec<(FlowRow, IdentityRow, Option<CodeRow>)> = BeginSubmission { flow_id, now }
        .load(conn)
        .map_err(store_error)?;
    let mut rows = rows.into_iter();
    let Some((flow, identity, first)) = rows.next() else {
        return Ok(None);
    };
    let codes = first
        .into_iter()
        .chain(rows.filter_map(|(_, _, code)| code))
        .map(StoredCode::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Some(Submission {
        flow: RecoveryFlow::try_from(flow)?,
        identity: Identity::try_from(identity)?,
        codes,
    }))
}
