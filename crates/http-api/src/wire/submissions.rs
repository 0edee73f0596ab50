//! What the self-service endpoints take: the flow named in the query, and the submitted form
//! (a browser form or JSON, the same fields). Fields are read loosely, so that a missing or
//! wrong one is answered with the flow, saying which (as Kratos).

use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// `?flow=`: the flow a submission (or a page) is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FlowQuery {
    /// The flow's id. A value that is not a UUID names no flow, as none does: Kratos's
    /// document reserves a submission's 400 for the flow itself.
    #[serde(default, deserialize_with = "uuid_or_none")]
    pub(crate) flow: Option<Uuid>,
}

fn uuid_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Uuid>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.and_then(|value| value.parse().ok()))
}

/// `?id=`: the flow to fetch.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IdQuery {
    /// The flow's id.
    pub(crate) id: Uuid,
}

/// `updateRecoveryFlowWithCodeMethod`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateRecoveryFlowWithCodeMethod {
    /// `code`.
    pub(crate) method: Option<String>,
    /// The recovery code.
    pub(crate) code: Option<String>,
}

/// `updateSettingsFlowWithPasswordMethod`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateSettingsFlowWithPasswordMethod {
    /// `password`.
    pub(crate) method: Option<String>,
    /// The new password.
    pub(crate) password: Option<String>,
}

/// `updateLoginFlowWithPasswordMethod`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateLoginFlowWithPasswordMethod {
    /// `password`.
    pub(crate) method: Option<String>,
    /// The identifier: an email address.
    pub(crate) identifier: Option<String>,
    pub(crate) password: Option<String>,
}

/// `performNativeLogoutBody`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PerformNativeLogoutBody {
    /// The session token to end.
    pub(crate) session_token: String,
}
