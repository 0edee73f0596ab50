//! Kratos's `continueWith`: what a client does after a flow succeeded.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// `continueWith`, told apart by `action`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = continueWith)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum ContinueWith {
    /// `continueWithSetOrySessionToken`: an API client keeps this token.
    SetOrySessionToken { ory_session_token: String },
    /// `continueWithSettingsUi`: the settings flow to open next.
    ShowSettingsUi { flow: SettingsUiFlow },
    /// `continueWithRedirectBrowserTo`.
    RedirectBrowserTo { redirect_browser_to: String },
}

/// `continueWithSettingsUiFlow`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = continueWithSettingsUiFlow)]
pub(crate) struct SettingsUiFlow {
    pub(crate) id: Uuid,
    pub(crate) url: String,
}
