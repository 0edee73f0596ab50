//! Kratos's `session` and what a sign-in answers.

use application::ports::StoredSession;
use domain::session::AuthMethod;
use domain::time::Timestamp;
use serde::Serialize;
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::Time;
use crate::wire::continue_with::ContinueWith;
use crate::wire::identity::{AdminIdentity, Identity};

/// `session` as the public listener shows it, with the public identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = session)]
pub(crate) struct Session {
    #[serde(flatten)]
    #[schema(inline)]
    fields: SessionFields,
    pub(crate) identity: Identity,
}

/// `session` as the admin listener shows it, with the admin identity (and its admin metadata).
/// Each listener's document names its own as `session`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = session)]
pub(crate) struct AdminSession {
    #[serde(flatten)]
    #[schema(inline)]
    fields: SessionFields,
    identity: AdminIdentity,
}

/// What a `session` shows besides its identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct SessionFields {
    id: Uuid,
    active: bool,
    issued_at: Time,
    authenticated_at: Time,
    expires_at: Time,
    authenticator_assurance_level: Aal,
    authentication_methods: Vec<AuthenticationMethod>,
    /// The device that opened the session; empty for sessions opened before devices were
    /// recorded.
    devices: Vec<SessionDevice>,
}

/// `sessionDevice`. One per session, so the session's id is its device's id too: stable
/// across reads, with nothing more to store.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = sessionDevice)]
pub(crate) struct SessionDevice {
    pub(crate) id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) user_agent: Option<String>,
}

impl SessionDevice {
    fn of(session: &domain::session::Session) -> Option<Self> {
        let device = &session.device;
        (!device.is_unknown()).then(|| Self {
            id: session.id.into(),
            ip_address: device.ip_address.map(|ip| ip.to_string()),
            user_agent: device.user_agent.as_ref().map(|ua| ua.as_str().to_owned()),
        })
    }
}

/// `authenticatorAssuranceLevel`: one factor is all there is here.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = authenticatorAssuranceLevel)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Aal {
    Aal1,
}

/// `sessionAuthenticationMethod`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = sessionAuthenticationMethod)]
pub(crate) struct AuthenticationMethod {
    pub(crate) method: Method,
    pub(crate) aal: Aal,
    pub(crate) completed_at: Time,
}

/// `sessionAuthenticationMethod.method`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = sessionAuthenticationMethodName)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Method {
    Password,
    CodeRecovery,
}

impl From<AuthMethod> for Method {
    fn from(method: AuthMethod) -> Self {
        match method {
            AuthMethod::Password => Self::Password,
            AuthMethod::CodeRecovery => Self::CodeRecovery,
        }
    }
}

impl SessionFields {
    /// `session`, active or not at `now` when it is a stored one.
    fn new(session: &domain::session::Session, active: bool) -> Self {
        let authenticated_at = Time(session.authenticated_at);
        Self {
            id: session.id.into(),
            active,
            issued_at: authenticated_at,
            authenticated_at,
            expires_at: session.expires_at.into(),
            authenticator_assurance_level: Aal::Aal1,
            authentication_methods: vec![AuthenticationMethod {
                method: session.method.into(),
                aal: Aal::Aal1,
                completed_at: authenticated_at,
            }],
            devices: SessionDevice::of(session).into_iter().collect(),
        }
    }
}

impl Session {
    /// A stored session, active or not at `now`.
    pub(crate) fn stored(
        stored: &StoredSession,
        identity: &domain::identity::Identity,
        now: Timestamp,
        public_base_url: &Url,
    ) -> Self {
        Self {
            fields: SessionFields::new(&stored.session, stored.is_active(now)),
            identity: Identity::new(identity, public_base_url),
        }
    }

    /// A session that is active now.
    pub(crate) fn new(
        session: &domain::session::Session,
        identity: &domain::identity::Identity,
        public_base_url: &Url,
    ) -> Self {
        Self {
            fields: SessionFields::new(session, true),
            identity: Identity::new(identity, public_base_url),
        }
    }
}

impl AdminSession {
    /// A stored session, active or not at `now`, as the admin sees it.
    pub(crate) fn stored(
        stored: &StoredSession,
        identity: &domain::identity::Identity,
        now: Timestamp,
        public_base_url: &Url,
    ) -> Self {
        Self {
            fields: SessionFields::new(&stored.session, stored.is_active(now)),
            identity: AdminIdentity::new(identity, public_base_url),
        }
    }
}

/// `deleteMySessionsCount`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = deleteMySessionsCount)]
pub(crate) struct DeleteMySessionsCount {
    /// How many sessions were revoked.
    pub(crate) count: u64,
}

/// `successfulNativeLogin`: the session, and for API flows its token.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = successfulNativeLogin)]
pub(crate) struct SuccessfulNativeLogin {
    pub(crate) session: Session,
    /// Present for API flows only: browsers get a cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) session_token: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) continue_with: Vec<ContinueWith>,
}
