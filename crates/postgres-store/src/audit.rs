//! The audit event of a one-statement write: its columns bound into the statement's parameter
//! row `p` as `audit_*`, and inserted by a data-modifying CTE of that statement, so the event
//! commits with the change or not at all.

use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
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

/// The names the columns of [`AuditArrays`] take in `p`, after the statement's own.
pub(crate) const AUDIT_ARRAY_COLUMNS: &str = ", audit_id, audit_at, audit_actor, audit_action, \
    audit_reason, audit_identity_id, audit_flow_id, audit_client_address, audit_request_id";

/// The events of a batch, one array per column, to `unnest` with the batch's other columns.
pub(crate) struct AuditArrays<'a> {
    ids: Vec<Uuid>,
    at: Vec<Timestamp>,
    actors: Vec<&'a str>,
    actions: Vec<&'static str>,
    reasons: Vec<Option<&'static str>>,
    identity_ids: Vec<Option<Uuid>>,
    flow_ids: Vec<Option<Uuid>>,
    client_addresses: Vec<Option<String>>,
    request_ids: Vec<Option<&'a str>>,
}

impl<'a> AuditArrays<'a> {
    pub(crate) fn new(events: impl Iterator<Item = &'a Event> + Clone) -> Self {
        Self {
            ids: events.clone().map(|e| e.id.into_uuid()).collect(),
            at: events.clone().map(|e| e.at).collect(),
            actors: events.clone().map(|e| e.actor.as_str()).collect(),
            actions: events.clone().map(|e| e.action.as_str()).collect(),
            reasons: events
                .clone()
                .map(|e| e.reason.map(|r| r.as_str()))
                .collect(),
            identity_ids: events
                .clone()
                .map(|e| e.identity_id.map(|id| id.into_uuid()))
                .collect(),
            flow_ids: events.clone().map(|e| e.flow_id).collect(),
            client_addresses: events
                .clone()
                .map(|e| e.client_address.map(|ip| ip.to_string()))
                .collect(),
            request_ids: events
                .map(|e| e.request_id.as_ref().map(|id| id.as_str()))
                .collect(),
        }
    }

    /// `, $n, …`: the arrays, appended to the arguments of `unnest`.
    pub(crate) fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.actors)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.actions)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.reasons)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.identity_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.flow_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.client_addresses)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.request_ids)?;
        Ok(())
    }
}
