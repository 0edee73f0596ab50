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
use crate::wire::identity::Identity;

/// `session`, with its identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = session)]
pub(crate) struct Session {
    pub(crate) id: Uuid,
    pub(crate) active: bool,
    pub(crate) issued_at: Time,
    pub(crate) authenticated_at: Time,
    pub(crate) expires_at: Time,
    pub(crate) authenticator_assurance_level: Aal,
    pub(crate) authentication_methods: Vec<AuthenticationMethod>,
    /// The device that opened the session; empty for sessions opened before devices were
    /// recorded.
    pub(crate) devices: Vec<SessionDevice>,
    pub(crate) identity: Identity,
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

impl Session {
    /// A stored session, active or not at `now`.
    pub(crate) fn stored(
        stored: &StoredSession,
        identity: &domain::identity::Identity,
        now: Timestamp,
        public_base_url: &Url,
    ) -> Self {
        Self {
            active: stored.is_active(now),
            ..Self::new(&stored.session, identity, public_base_url)
        }
    }

    /// A session that is active now.
    pub(crate) fn new(
        session: &domain::session::Session,
        identity: &domain::identity::Identity,
        public_base_url: &Url,
    ) -> Self {
        let authenticated_at = Time(session.authenticated_at);
        Self {
            id: session.id.into(),
            active: true,
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
            identity: Identity::new(identity, public_base_url),
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
