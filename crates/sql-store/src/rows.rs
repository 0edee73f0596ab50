//! Rows as the tables hold them, and their translation to and from the domain.

use application::ports::StoreError;
use diesel::{AsChangeset, Insertable, Queryable};
use domain::address::{Addresses, RecoveryAddress, VerifiableAddress, Via};
use domain::audit::{Action, Actor, Event, Reason, RequestId};
use domain::client::AddressGroup;
use domain::client::ClientAddress;
use domain::id::IdentityId;
use domain::identity::{Identity, IdentityState, NewIdentity};
use domain::lockout::Failures;
use domain::recovery::{CODE_METHOD, CodeType, FlowState, FlowType, RecoveryFlow, StoredCode};
use domain::secret::CodeHash;
use domain::selfservice::{LoginFlow, SettingsFlow, SettingsState};
use domain::session::{AuthMethod, Device, Session, TokenHash, UserAgent};
use serde_json::{Value, json};

use crate::schema::{
    audit_events, identities, login_failures, login_flows, recovery_codes, recovery_flows,
    sessions, settings_flows,
};
use crate::types::{DbDocument, DbDocumentText, DbId, DbInstant};

/// A stored value that the domain does not recognise: the database was edited by hand or by a
/// newer version.
fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Unexpected(format!("unrecognised {what} \"{value}\" in the database").into())
}

#[derive(Insertable)]
#[diesel(table_name = identities)]
pub struct IdentityInsert {
    id: DbId,
    schema_id: String,
    state: &'static str,
    traits: DbDocument,
    identifier: Option<String>,
    password_hash: Option<String>,
    created_at: DbInstant,
    updated_at: DbInstant,
    metadata_public: Option<DbDocument>,
    metadata_admin: Option<DbDocument>,
    recovery_addresses: DbDocument,
    verifiable_addresses: DbDocument,
}

impl From<NewIdentity> for IdentityInsert {
    fn from(new: NewIdentity) -> Self {
        let identity = new.identity;
        Self {
            id: DbId(identity.id.into()),
            schema_id: identity.schema_id,
            state: identity.state.as_str(),
            traits: DbDocument(identity.traits),
            identifier: identity.identifier,
            password_hash: new.password.map(|p| p.as_str().to_owned()),
            created_at: DbInstant(identity.created_at),
            updated_at: DbInstant(identity.updated_at),
            metadata_public: identity.metadata_public.map(DbDocument),
            metadata_admin: identity.metadata_admin.map(DbDocument),
            recovery_addresses: recovery_document(&identity.addresses.recovery),
            verifiable_addresses: verifiable_document(&identity.addresses.verifiable),
        }
    }
}

/// What replacing an identity writes: everything but the id and the creation instant; the
/// password hash only when a new one is given.
#[derive(AsChangeset)]
#[diesel(table_name = identities)]
pub struct IdentityChanges {
    schema_id: String,
    state: &'static str,
    traits: DbDocument,
    #[diesel(treat_none_as_null = true)]
    identifier: Option<String>,
    password_hash: Option<String>,
    updated_at: DbInstant,
    #[diesel(treat_none_as_null = true)]
    metadata_public: Option<DbDocument>,
    #[diesel(treat_none_as_null = true)]
    metadata_admin: Option<DbDocument>,
    recovery_addresses: DbDocument,
    verifiable_addresses: DbDocument,
}

impl From<NewIdentity> for IdentityChanges {
    fn from(new: NewIdentity) -> Self {
        let identity = new.identity;
        Self {
            schema_id: identity.schema_id,
            state: identity.state.as_str(),
            traits: DbDocument(identity.traits),
            identifier: identity.identifier,
            password_hash: new.password.map(|p| p.as_str().to_owned()),
            updated_at: DbInstant(identity.updated_at),
            metadata_public: identity.metadata_public.map(DbDocument),
            metadata_admin: identity.metadata_admin.map(DbDocument),
            recovery_addresses: recovery_document(&identity.addresses.recovery),
            verifiable_addresses: verifiable_document(&identity.addresses.verifiable),
        }
    }
}

/// How recovery addresses are stored: `[{"via": "email", "value": "…"}]`.
fn recovery_document(addresses: &[RecoveryAddress]) -> DbDocument {
    DbDocument(Value::Array(
        addresses
            .iter()
            .map(|address| json!({"via": address.via.as_str(), "value": address.value}))
            .collect(),
    ))
}

/// How verifiable addresses are stored: `[{"via", "value", "verified_at"}]`, the instant as
/// RFC 3339 with milliseconds, or null.
#[must_use]
pub fn verifiable_document(addresses: &[VerifiableAddress]) -> DbDocument {
    DbDocument(Value::Array(
        addresses
            .iter()
            .map(|address| {
                json!({
                    "via": address.via.as_str(),
                    "value": address.value,
                    "verified_at": address.verified_at.map(|at| {
                        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    }),
                })
            })
            .collect(),
    ))
}

/// The addresses as [`recovery_document`] and [`verifiable_document`] store them; `None` for
/// anything else.
fn parse_addresses(recovery: &Value, verifiable: &Value) -> Option<Addresses> {
    let via_and_value = |item: &Value| {
        let via = Via::parse(item.get("via")?.as_str()?)?;
        Some((via, item.get("value")?.as_str()?.to_owned()))
    };
    let recovery = recovery
        .as_array()?
        .iter()
        .map(|item| via_and_value(item).map(|(via, value)| RecoveryAddress { via, value }))
        .collect::<Option<Vec<_>>>()?;
    let verifiable = verifiable
        .as_array()?
        .iter()
        .map(|item| {
            let (via, value) = via_and_value(item)?;
            let verified_at = match item.get("verified_at")? {
                Value::Null => None,
                Value::String(at) => Some(
                    chrono::DateTime::parse_from_rfc3339(at)
                        .ok()?
                        .with_timezone(&chrono::Utc),
                ),
                _ => return None,
            };
            Some(VerifiableAddress {
                via,
                value,
                verified_at,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Addresses {
        recovery,
        verifiable,
    })
}

/// The columns an [`IdentityRow`] is read from, in order.
pub type IdentityColumns = (
    identities::id,
    identities::schema_id,
    identities::state,
    identities::traits,
    identities::created_at,
    identities::updated_at,
    identities::metadata_public,
    identities::metadata_admin,
    identities::identifier,
    identities::recovery_addresses,
    identities::verifiable_addresses,
);

pub const IDENTITY_COLUMNS: IdentityColumns = (
    identities::id,
    identities::schema_id,
    identities::state,
    identities::traits,
    identities::created_at,
    identities::updated_at,
    identities::metadata_public,
    identities::metadata_admin,
    identities::identifier,
    identities::recovery_addresses,
    identities::verifiable_addresses,
);

#[derive(Queryable)]
pub struct IdentityRow {
    id: DbId,
    schema_id: String,
    state: String,
    traits: DbDocumentText,
    created_at: DbInstant,
    updated_at: DbInstant,
    metadata_public: Option<DbDocumentText>,
    metadata_admin: Option<DbDocumentText>,
    identifier: Option<String>,
    recovery_addresses: DbDocumentText,
    verifiable_addresses: DbDocumentText,
}

impl IdentityRow {
    /// The id, readable even when the rest of the row is not.
    #[must_use]
    pub fn id(&self) -> IdentityId {
        self.id.0.into()
    }
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StoreError;

    fn try_from(row: IdentityRow) -> Result<Self, StoreError> {
        // The parser's message names a line and column, never the content.
        let parse = |what: &str, text: &str| {
            serde_json::from_str::<serde_json::Value>(text).map_err(|error| {
                StoreError::Unexpected(
                    format!(
                        "the {what} of identity {} are not readable: {error}",
                        row.id.0
                    )
                    .into(),
                )
            })
        };
        let traits = parse("traits", &row.traits.0)?;
        let metadata_public = row
            .metadata_public
            .as_ref()
            .map(|text| parse("public metadata", &text.0))
            .transpose()?;
        let metadata_admin = row
            .metadata_admin
            .as_ref()
            .map(|text| parse("admin metadata", &text.0))
            .transpose()?;
        let recovery = parse("recovery addresses", &row.recovery_addresses.0)?;
        let verifiable = parse("verifiable addresses", &row.verifiable_addresses.0)?;
        let addresses = parse_addresses(&recovery, &verifiable)
            .ok_or_else(|| corrupt("addresses of identity", &row.id.0.to_string()))?;
        Ok(Self {
            id: row.id.0.into(),
            schema_id: row.schema_id,
            state: IdentityState::parse(&row.state).map_err(|_| corrupt("state", &row.state))?,
            traits,
            identifier: row.identifier,
            addresses,
            metadata_public,
            metadata_admin,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = recovery_flows)]
pub struct FlowInsert {
    id: DbId,
    identity_id: DbId,
    flow_type: &'static str,
    state: &'static str,
    active_method: &'static str,
    request_url: String,
    issued_at: DbInstant,
    expires_at: DbInstant,
    return_to: Option<String>,
    verifies_addresses: bool,
}

impl From<RecoveryFlow> for FlowInsert {
    fn from(flow: RecoveryFlow) -> Self {
        Self {
            id: DbId(flow.id.into()),
            identity_id: DbId(flow.identity_id.into()),
            flow_type: flow.flow_type.as_str(),
            state: flow.state.as_str(),
            active_method: CODE_METHOD,
            request_url: flow.request_url,
            issued_at: DbInstant(flow.issued_at),
            expires_at: DbInstant(flow.expires_at),
            return_to: flow.return_to,
            verifies_addresses: flow.verifies_addresses,
        }
    }
}

/// The columns a [`FlowRow`] is read from, in order.
pub type FlowColumns = (
    recovery_flows::id,
    recovery_flows::identity_id,
    recovery_flows::flow_type,
    recovery_flows::state,
    recovery_flows::issued_at,
    recovery_flows::expires_at,
    recovery_flows::request_url,
    recovery_flows::return_to,
    recovery_flows::submit_count,
    recovery_flows::verifies_addresses,
);

pub const FLOW_COLUMNS: FlowColumns = (
    recovery_flows::id,
    recovery_flows::identity_id,
    recovery_flows::flow_type,
    recovery_flows::state,
    recovery_flows::issued_at,
    recovery_flows::expires_at,
    recovery_flows::request_url,
    recovery_flows::return_to,
    recovery_flows::submit_count,
    recovery_flows::verifies_addresses,
);

#[derive(Queryable)]
pub struct FlowRow {
    id: DbId,
    identity_id: DbId,
    flow_type: String,
    state: String,
    issued_at: DbInstant,
    expires_at: DbInstant,
    request_url: String,
    return_to: Option<String>,
    submit_count: i32,
    verifies_addresses: bool,
}

impl TryFrom<FlowRow> for RecoveryFlow {
    type Error = StoreError;

    fn try_from(row: FlowRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            identity_id: row.identity_id.0.into(),
            flow_type: FlowType::parse(&row.flow_type)
                .ok_or_else(|| corrupt("flow type", &row.flow_type))?,
            state: FlowState::parse(&row.state).ok_or_else(|| corrupt("flow state", &row.state))?,
            issued_at: row.issued_at.0,
            expires_at: row.expires_at.0,
            request_url: row.request_url,
            return_to: row.return_to,
            submissions: u32::try_from(row.submit_count).unwrap_or_default(),
            verifies_addresses: row.verifies_addresses,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = recovery_codes)]
pub struct CodeInsert {
    id: DbId,
    flow_id: DbId,
    identity_id: DbId,
    code_hash: String,
    code_type: &'static str,
    issued_at: DbInstant,
    expires_at: DbInstant,
    exclusive: bool,
}

impl CodeInsert {
    /// The row for `code`; `exclusive` when it revokes the identity's earlier codes.
    #[must_use]
    pub fn new(code: StoredCode, exclusive: bool) -> Self {
        Self {
            id: DbId(code.id.into()),
            flow_id: DbId(code.flow_id.into()),
            identity_id: DbId(code.identity_id.into()),
            code_hash: code.hash.as_str().to_owned(),
            code_type: code.code_type.as_str(),
            issued_at: DbInstant(code.issued_at),
            expires_at: DbInstant(code.expires_at),
            exclusive,
        }
    }
}

/// The columns a [`CodeRow`] is read from, in order.
pub type CodeColumns = (
    recovery_codes::id,
    recovery_codes::flow_id,
    recovery_codes::identity_id,
    recovery_codes::code_hash,
    recovery_codes::code_type,
    recovery_codes::issued_at,
    recovery_codes::expires_at,
);

pub const CODE_COLUMNS: CodeColumns = (
    recovery_codes::id,
    recovery_codes::flow_id,
    recovery_codes::identity_id,
    recovery_codes::code_hash,
    recovery_codes::code_type,
    recovery_codes::issued_at,
    recovery_codes::expires_at,
);

#[derive(Queryable)]
pub struct CodeRow {
    id: DbId,
    flow_id: DbId,
    identity_id: DbId,
    code_hash: String,
    code_type: String,
    issued_at: DbInstant,
    expires_at: DbInstant,
}

impl TryFrom<CodeRow> for StoredCode {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            flow_id: row.flow_id.0.into(),
            identity_id: row.identity_id.0.into(),
            hash: CodeHash::from_stored(row.code_hash),
            code_type: CodeType::parse(&row.code_type)
                .ok_or_else(|| corrupt("code type", &row.code_type))?,
            issued_at: row.issued_at.0,
            expires_at: row.expires_at.0,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionInsert {
    id: DbId,
    identity_id: DbId,
    token_hash: String,
    method: &'static str,
    authenticated_at: DbInstant,
    expires_at: DbInstant,
    device_ip_address: Option<String>,
    device_user_agent: Option<String>,
}

impl From<Session> for SessionInsert {
    fn from(session: Session) -> Self {
        Self {
            id: DbId(session.id.into()),
            identity_id: DbId(session.identity_id.into()),
            token_hash: session.token_hash.as_str().to_owned(),
            method: session.method.as_str(),
            authenticated_at: DbInstant(session.authenticated_at),
            expires_at: DbInstant(session.expires_at),
            device_ip_address: session.device.ip_address.map(|ip| ip.to_string()),
            device_user_agent: session.device.user_agent.map(|ua| ua.as_str().to_owned()),
        }
    }
}

pub type SessionColumns = (
    sessions::id,
    sessions::identity_id,
    sessions::token_hash,
    sessions::method,
    sessions::authenticated_at,
    sessions::expires_at,
    sessions::device_ip_address,
    sessions::device_user_agent,
);

pub const SESSION_COLUMNS: SessionColumns = (
    sessions::id,
    sessions::identity_id,
    sessions::token_hash,
    sessions::method,
    sessions::authenticated_at,
    sessions::expires_at,
    sessions::device_ip_address,
    sessions::device_user_agent,
);

#[derive(Queryable)]
pub struct SessionRow {
    id: DbId,
    identity_id: DbId,
    token_hash: String,
    method: String,
    authenticated_at: DbInstant,
    expires_at: DbInstant,
    device_ip_address: Option<String>,
    device_user_agent: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            identity_id: row.identity_id.0.into(),
            token_hash: TokenHash::from_stored(row.token_hash),
            method: AuthMethod::parse(&row.method)
                .ok_or_else(|| corrupt("session method", &row.method))?,
            authenticated_at: row.authenticated_at.0,
            expires_at: row.expires_at.0,
            device: Device {
                ip_address: row
                    .device_ip_address
                    .map(|ip| {
                        ip.parse()
                            .map(ClientAddress::new)
                            .map_err(|_| corrupt("device address", &ip))
                    })
                    .transpose()?,
                user_agent: row
                    .device_user_agent
                    .and_then(|ua| UserAgent::from_header(ua.as_bytes())),
            },
        })
    }
}

#[derive(Insertable, Queryable)]
#[diesel(table_name = settings_flows)]
pub struct SettingsFlowRow {
    id: DbId,
    identity_id: DbId,
    session_id: DbId,
    flow_type: String,
    state: String,
    issued_at: DbInstant,
    expires_at: DbInstant,
    return_to: Option<String>,
}

impl From<SettingsFlow> for SettingsFlowRow {
    fn from(flow: SettingsFlow) -> Self {
        Self {
            id: DbId(flow.id.into()),
            identity_id: DbId(flow.identity_id.into()),
            session_id: DbId(flow.session_id.into()),
            flow_type: flow.flow_type.as_str().to_owned(),
            state: flow.state.as_str().to_owned(),
            issued_at: DbInstant(flow.issued_at),
            expires_at: DbInstant(flow.expires_at),
            return_to: flow.return_to,
        }
    }
}

impl TryFrom<SettingsFlowRow> for SettingsFlow {
    type Error = StoreError;

    fn try_from(row: SettingsFlowRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            identity_id: row.identity_id.0.into(),
            session_id: row.session_id.0.into(),
            flow_type: FlowType::parse(&row.flow_type)
                .ok_or_else(|| corrupt("flow type", &row.flow_type))?,
            state: SettingsState::parse(&row.state)
                .ok_or_else(|| corrupt("settings state", &row.state))?,
            issued_at: row.issued_at.0,
            expires_at: row.expires_at.0,
            return_to: row.return_to,
        })
    }
}

#[derive(Insertable, Queryable)]
#[diesel(table_name = login_flows)]
pub struct LoginFlowRow {
    id: DbId,
    flow_type: String,
    issued_at: DbInstant,
    expires_at: DbInstant,
    return_to: Option<String>,
}

impl From<LoginFlow> for LoginFlowRow {
    fn from(flow: LoginFlow) -> Self {
        Self {
            id: DbId(flow.id.into()),
            flow_type: flow.flow_type.as_str().to_owned(),
            issued_at: DbInstant(flow.issued_at),
            expires_at: DbInstant(flow.expires_at),
            return_to: flow.return_to,
        }
    }
}

impl TryFrom<LoginFlowRow> for LoginFlow {
    type Error = StoreError;

    fn try_from(row: LoginFlowRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            flow_type: FlowType::parse(&row.flow_type)
                .ok_or_else(|| corrupt("flow type", &row.flow_type))?,
            issued_at: row.issued_at.0,
            expires_at: row.expires_at.0,
            return_to: row.return_to,
        })
    }
}

/// How the count over all addresses is keyed: an address no group prints as.
pub const ALL_ADDRESSES: &str = "";

/// The address column of a count.
#[must_use]
pub fn address_column(address: Option<AddressGroup>) -> String {
    address.map_or_else(|| ALL_ADDRESSES.to_owned(), |group| group.to_string())
}

#[derive(Insertable)]
#[diesel(table_name = login_failures)]
pub struct FailureInsert {
    pub identifier_key: String,
    pub address: String,
    pub failures: i32,
    pub last_failure_at: DbInstant,
}

/// A count with the failure before its last one: `(failures, last, previous)`.
pub type FailureCounted = (i32, DbInstant, Option<DbInstant>);

/// The count as it stood before the failure just added to it.
#[must_use]
pub fn failures_before(counted: FailureCounted) -> Option<Failures> {
    let (failures, _, previous) = counted;
    let count = u32::try_from(failures).ok()?.checked_sub(1)?;
    Some(Failures {
        count,
        last_at: previous?.0,
    })
    .filter(|before| before.count > 0)
}

#[derive(Queryable)]
pub struct FailureRow {
    pub address: String,
    pub failures: i32,
    pub last_failure_at: DbInstant,
}

impl TryFrom<FailureRow> for (Option<AddressGroup>, Failures) {
    type Error = StoreError;

    fn try_from(row: FailureRow) -> Result<Self, StoreError> {
        let address = if row.address == ALL_ADDRESSES {
            None
        } else {
            Some(
                AddressGroup::parse(&row.address)
                    .ok_or_else(|| corrupt("address", &row.address))?,
            )
        };
        let count = u32::try_from(row.failures)
            .map_err(|_| corrupt("failure count", &row.failures.to_string()))?;
        Ok((
            address,
            Failures {
                count,
                last_at: row.last_failure_at.0,
            },
        ))
    }
}

/// An audit event as stored: its names as text, so that the trail reads without the service.
#[derive(Insertable, Queryable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    id: DbId,
    occurred_at: DbInstant,
    actor: String,
    action: String,
    reason: Option<String>,
    identity_id: Option<DbId>,
    flow_id: Option<DbId>,
    client_address: Option<String>,
    request_id: Option<String>,
}

impl AuditEventRow {
    #[must_use]
    pub fn id(&self) -> domain::id::AuditEventId {
        self.id.0.into()
    }
}

impl From<Event> for AuditEventRow {
    fn from(event: Event) -> Self {
        Self {
            id: DbId(event.id.into()),
            occurred_at: DbInstant(event.at),
            actor: event.actor.as_str().to_owned(),
            action: event.action.as_str().to_owned(),
            reason: event.reason.map(|reason| reason.as_str().to_owned()),
            identity_id: event.identity_id.map(|id| DbId(id.into())),
            flow_id: event.flow_id.map(DbId),
            client_address: event.client_address.map(|ip| ip.to_string()),
            request_id: event.request_id.map(|id| id.as_str().to_owned()),
        }
    }
}

impl TryFrom<AuditEventRow> for Event {
    type Error = StoreError;

    fn try_from(row: AuditEventRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.0.into(),
            at: row.occurred_at.0,
            actor: Actor::parse(&row.actor),
            action: Action::parse(&row.action)
                .ok_or_else(|| corrupt("audit action", &row.action))?,
            reason: row
                .reason
                .map(|reason| {
                    Reason::parse(&reason).ok_or_else(|| corrupt("audit reason", &reason))
                })
                .transpose()?,
            identity_id: row.identity_id.map(|id| id.0.into()),
            flow_id: row.flow_id.map(|id| id.0),
            client_address: row
                .client_address
                .map(|ip| {
                    ip.parse()
                        .map(ClientAddress::new)
                        .map_err(|_| corrupt("client address", &ip))
                })
                .transpose()?,
            request_id: row
                .request_id
                .map(|id| RequestId::parse(&id).ok_or_else(|| corrupt("request id", &id)))
                .transpose()?,
        })
    }
}
