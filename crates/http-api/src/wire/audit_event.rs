//! An entry of the audit trail, as `GET /admin/audit-events` lists it. Our own: Kratos keeps
//! no stored trail.

use domain::audit::{Event, Reason};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::wire::Time;

/// One audit event. It never holds a secret: admin keys appear by their configured name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = auditEvent)]
pub(crate) struct AuditEvent {
    id: Uuid,
    /// When it happened.
    occurred_at: Time,
    /// Who acted: the admin key's name, `unauthenticated` (admin API without keys) or
    /// `self-service` (the person at the public API).
    #[schema(example = "support-tool")]
    actor: String,
    /// What happened.
    #[schema(value_type = String, example = "recovery_code.issued")]
    action: &'static str,
    /// Why an attempt was refused (`recovery.refused`, `sign_in.failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    reason: Option<&'static str>,
    /// The identity acted on; it may have been deleted since.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_id: Option<Uuid>,
    /// The recovery, login or settings flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_id: Option<Uuid>,
    /// The client's address, as far as the service can tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_address: Option<String>,
    /// The request's `X-Request-Id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl From<&Event> for AuditEvent {
    fn from(event: &Event) -> Self {
        Self {
            id: event.id.into_uuid(),
            occurred_at: event.at.into(),
            actor: event.actor.as_str().to_owned(),
            action: event.action.as_str(),
            reason: event.reason.map(Reason::as_str),
            identity_id: event.identity_id.map(|id| id.into_uuid()),
            flow_id: event.flow_id,
            client_address: event.client_address.map(|ip| ip.to_string()),
            request_id: event.request_id.as_ref().map(|id| id.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditEventsQuery {
    /// Only the events naming this identity (also one deleted since).
    pub(crate) identity_id: Option<Uuid>,
    /// How many events a page holds (250 by default).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) page_size: Option<usize>,
    /// Where the page starts: a token from the `Link` header of the previous page.
    pub(crate) page_token: Option<String>,
}
