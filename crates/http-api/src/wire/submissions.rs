//! What the self-service endpoints take: the flow named in the query, and the submitted form
//! (a browser form or JSON, the same fields). Fields are read loosely, so that a missing or
//! wrong one is answered with the flow, saying which (as Kratos).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// `?flow=`: the flow a submission is for. Read leniently, never refused: a value that is not a
/// UUID names no flow, like no value at all, so that a submission's 400 is always its flow.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(from = "Vec<(String, String)>")]
#[into_params(parameter_in = Query)]
pub(crate) struct FlowQuery {
    /// The flow's id, from the `flow` query parameter of the flow's `ui.action`.
    #[param(required = true)]
    pub(crate) flow: Option<Uuid>,
}

impl From<Vec<(String, String)>> for FlowQuery {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let flow = pairs
            .into_iter()
            .find(|(name, _)| name == "flow")
            .and_then(|(_, value)| Uuid::parse_str(&value).ok());
        Self { flow }
    }
}

/// `?return_to=`: where the browser goes once the flow is done.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReturnToQuery {
    /// Where the browser goes once the flow is done; it must be an allowed return URL.
    pub(crate) return_to: Option<String>,
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
#[schema(as = updateRecoveryFlowWithCodeMethod)]
pub(crate) struct UpdateRecoveryFlowWithCodeMethod {
    /// `code`.
    pub(crate) method: Option<String>,
    /// The recovery code.
    #[schema(required = true, nullable = false, pattern = "\\S")]
    pub(crate) code: Option<String>,
}

/// `updateSettingsFlowWithPasswordMethod`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = updateSettingsFlowWithPasswordMethod)]
pub(crate) struct UpdateSettingsFlowWithPasswordMethod {
    /// `password`.
    pub(crate) method: Option<String>,
    /// The new password: 8 to 1024 characters, not the email address.
    #[schema(required = true, nullable = false, min_length = 8, max_length = 1024)]
    pub(crate) password: Option<String>,
}

/// `updateLoginFlowWithPasswordMethod`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = updateLoginFlowWithPasswordMethod)]
pub(crate) struct UpdateLoginFlowWithPasswordMethod {
    /// `password`.
    pub(crate) method: Option<String>,
    /// The identifier: an email address.
    #[schema(required = true, nullable = false, pattern = "\\S")]
    pub(crate) identifier: Option<String>,
    #[schema(required = true, nullable = false, pattern = "\\S")]
    pub(crate) password: Option<String>,
}

/// `performNativeLogoutBody`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = performNativeLogoutBody)]
pub(crate) struct PerformNativeLogoutBody {
    /// The session token to end.
    pub(crate) session_token: String,
}
