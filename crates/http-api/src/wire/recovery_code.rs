//! `POST /admin/recovery/code` (also `/iam/recovery/code`): the seed's request and answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::Time;
use crate::wire::flows::Type;

/// `createRecoveryCodeForIdentityBody`, plus where the browser goes once the new password is
/// set. Unknown fields are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createRecoveryCodeForIdentityBody)]
pub(crate) struct CreateRecoveryCodeForIdentityBody {
    pub(crate) identity_id: Uuid,
    /// How long the code lives, e.g. `1h30m` (hours, minutes, seconds); the configured
    /// default when absent or empty.
    #[serde(default)]
    #[schema(example = "1h30m", pattern = "^([0-9]+(ns|us|ms|s|m|h))*$")]
    pub(crate) expires_in: Option<String>,
    /// `browser` (the default) or `api`.
    #[serde(default)]
    pub(crate) flow_type: Option<Type>,
    /// Where the browser goes once the new password is set (also accepted as a query
    /// parameter, as Kratos does); it must be an allowed return URL.
    #[serde(default)]
    pub(crate) return_to: Option<String>,
    /// Whether redeeming the code verifies the identity's recovery addresses that are also
    /// verifiable: say `true` only when the code was delivered to them. The configured default
    /// (`false` unless set) when absent.
    #[serde(default)]
    pub(crate) mark_address_verified: Option<bool>,
}

/// `?identity_id=`: whose codes are revoked.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RevokeRecoveryCodesQuery {
    /// The identity whose outstanding codes are revoked.
    pub(crate) identity_id: Uuid,
}

/// `recoveryCodeForIdentity`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = recoveryCodeForIdentity)]
pub(crate) struct RecoveryCodeForIdentity {
    pub(crate) expires_at: Time,
    /// Shown once: only its keyed hash is stored.
    pub(crate) recovery_code: String,
    /// The page where the code is entered.
    pub(crate) recovery_link: String,
}
