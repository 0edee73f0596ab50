//! The audit event of a one-statement write: its columns bound into the statement's parameter
//! row `p` as `audit_*`, and inserted by a data-modifying CTE of that statement, so the event
//! commits with the change or not at all.

use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use domain::audit::Event;
use domain::time::Timestamp;
use uuid::Uuid;

/// `INSERT INTO audit_events … SELECT … FROM p`, to end with the statement's own condition.
macro_rules! insert_audit_event {
    () => {
        "INSERT INTO audit_events
        (id, occurred_at, actor, action, reason, identity_id, flow_id, client_address, request_id)
    SELECT p.audit_id, p.audit_at, p.audit_actor, p.audit_action, p.audit_reason,
           p.audit_identity_id, p.audit_flow_id, p.audit_client_address, p.audit_request_id
    FROM p"
    };
}
pub(crate) use insert_audit_event;

/// An event's columns, as bound.
pub(crate) struct AuditParams<'a> {
    id: Uuid,
    at: Timestamp,
    actor: &'a str,
    action: &'static str,
    reason: Option<&'static str>,
    identity_id: Option<Uuid>,
    flow_id: Option<Uuid>,
    client_address: Option<String>,
    request_id: Option<&'a str>,
}

impl<'a> AuditParams<'a> {
    pub(crate) fn new(event: &'a Event) -> Self {
        Self {
            id: event.id.into_uuid(),
            at: event.at,
            actor: event.actor.as_str(),
            action: event.action.as_str(),
            reason: event.reason.map(|reason| reason.as_str()),
            identity_id: event.identity_id.map(|id| id.into_uuid()),
            flow_id: event.flow_id,
            client_address: event.client_address.map(|ip| ip.to_string()),
            request_id: event.request_id.as_ref().map(|id| id.as_str()),
        }
    }

    /// `, $n AS audit_id, …`: the event's columns, appended to the select list of `p`.
    pub(crate) fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&self.id)?;
        out.push_sql(" AS audit_id, ");
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" AS audit_at, ");
        out.push_bind_param::<Text, _>(&self.actor)?;
        out.push_sql(" AS audit_actor, ");
        out.push_bind_param::<Text, _>(&self.action)?;
        out.push_sql(" AS audit_action, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.reason)?;
        out.push_sql(" AS audit_reason, ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&self.identity_id)?;
        out.push_sql(" AS audit_identity_id, ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&self.flow_id)?;
        out.push_sql(" AS audit_flow_id, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.client_address)?;
        out.push_sql(" AS audit_client_address, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.request_id)?;
        out.push_sql(" AS audit_request_id");
        Ok(())
    }
}
