//! Kratos's self-service flows: `recoveryFlow`, `settingsFlow`, `loginFlow`, each with the
//! form its front-end renders.

use domain::recovery::{CODE_METHOD, FlowState, FlowType, flow_request_url};
use domain::selfservice::SettingsState;
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::continue_with::ContinueWith;
use crate::wire::identifier::IdentifierField;
use crate::wire::identity::Identity;
use crate::wire::session::Aal;
use crate::wire::texts;
use crate::wire::ui::{Autocomplete, InputAttributes, InputType, NodeGroup, UiContainer, UiNode};
use crate::wire::{Time, ui::UiText};

/// `selfServiceFlowType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = selfServiceFlowType)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Type {
    Api,
    Browser,
}

impl From<FlowType> for Type {
    fn from(flow_type: FlowType) -> Self {
        match flow_type {
            FlowType::Api => Self::Api,
            FlowType::Browser => Self::Browser,
        }
    }
}

impl From<Type> for FlowType {
    fn from(flow_type: Type) -> Self {
        match flow_type {
            Type::Api => Self::Api,
            Type::Browser => Self::Browser,
        }
    }
}

/// A flow with a form: a message can be put on one of its fields, or on the whole form.
pub(crate) trait WithForm: Sized {
    fn ui_mut(&mut self) -> &mut UiContainer;

    /// The flow with `message` on the field `field` names, or on the whole form.
    #[must_use]
    fn with_message(mut self, field: Option<&str>, message: UiText) -> Self {
        self.ui_mut().add_message(field, message);
        self
    }
}

macro_rules! with_form {
    ($($flow:ty),*) => {$(
        impl WithForm for $flow {
            fn ui_mut(&mut self) -> &mut UiContainer {
                &mut self.ui
            }
        }
    )*};
}

with_form!(RecoveryFlow, SettingsFlow, LoginFlow);

/// The URL of `path` on the public listener, for the flow `id`.
fn flow_url(public_base_url: &Url, path: &str, id: impl std::fmt::Display) -> String {
    format!("{public_base_url}{path}?flow={id}")
}

/// `recoveryFlow.state`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = recoveryFlowState)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RecoveryState {
    SentEmail,
    PassedChallenge,
}

/// `recoveryFlow.active`: recovery by code is the only method.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = recoveryFlowMethod)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RecoveryMethod {
    Code,
}

/// `recoveryFlow`: its one field is an empty, required code input.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = recoveryFlow)]
pub(crate) struct RecoveryFlow {
    pub(crate) id: Uuid,
    #[serde(rename = "type")]
    pub(crate) flow_type: Type,
    pub(crate) state: RecoveryState,
    pub(crate) active: RecoveryMethod,
    pub(crate) issued_at: Time,
    pub(crate) expires_at: Time,
    pub(crate) request_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) return_to: Option<String>,
    pub(crate) ui: UiContainer,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) continue_with: Vec<ContinueWith>,
}

impl RecoveryFlow {
    pub(crate) fn new(
        flow: &domain::recovery::RecoveryFlow,
        code_length: usize,
        public_base_url: &Url,
    ) -> Self {
        let code = InputAttributes {
            pattern: Some("[0-9]+".to_owned()),
            maxlength: u32::try_from(code_length).ok(),
            ..InputAttributes::required("code", InputType::Text, Autocomplete::OneTimeCode)
        };
        Self {
            id: flow.id.into(),
            flow_type: flow.flow_type.into(),
            state: match flow.state {
                FlowState::SentEmail => RecoveryState::SentEmail,
                FlowState::PassedChallenge => RecoveryState::PassedChallenge,
            },
            active: RecoveryMethod::Code,
            issued_at: flow.issued_at.into(),
            expires_at: flow.expires_at.into(),
            // Computed, not stored: flows issued before it was public kept the admin URL.
            request_url: flow_request_url(public_base_url, flow.id),
            return_to: flow.return_to.clone(),
            ui: UiContainer::post(
                flow_url(public_base_url, "self-service/recovery", flow.id),
                vec![
                    UiNode::input(NodeGroup::Code, code, texts::recovery_code_label()),
                    UiNode::input(
                        NodeGroup::Code,
                        InputAttributes::submit(CODE_METHOD),
                        texts::continue_label(),
                    ),
                ],
            ),
            continue_with: Vec::new(),
        }
    }
}

/// `settingsFlow.state`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = settingsFlowState)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SettingsFlowState {
    ShowForm,
    Success,
}

/// `settingsFlow`: a new-password field.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = settingsFlow)]
pub(crate) struct SettingsFlow {
    pub(crate) id: Uuid,
    #[serde(rename = "type")]
    pub(crate) flow_type: Type,
    pub(crate) state: SettingsFlowState,
    pub(crate) issued_at: Time,
    pub(crate) expires_at: Time,
    pub(crate) request_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) return_to: Option<String>,
    pub(crate) identity: Identity,
    pub(crate) ui: UiContainer,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) continue_with: Vec<ContinueWith>,
}

impl SettingsFlow {
    pub(crate) fn new(
        flow: &domain::selfservice::SettingsFlow,
        identity: &domain::identity::Identity,
        public_base_url: &Url,
    ) -> Self {
        let password =
            InputAttributes::required("password", InputType::Password, Autocomplete::NewPassword);
        Self {
            id: flow.id.into(),
            flow_type: flow.flow_type.into(),
            state: match flow.state {
                SettingsState::ShowForm => SettingsFlowState::ShowForm,
                SettingsState::Success => SettingsFlowState::Success,
            },
            issued_at: flow.issued_at.into(),
            expires_at: flow.expires_at.into(),
            request_url: format!(
                "{public_base_url}self-service/settings/flows?id={}",
                flow.id
            ),
            return_to: flow.return_to.clone(),
            identity: Identity::new(identity, public_base_url),
            ui: UiContainer::post(
                flow_url(public_base_url, "self-service/settings", flow.id),
                vec![
                    UiNode::input(NodeGroup::Password, password, texts::password_label()),
                    UiNode::input(
                        NodeGroup::Password,
                        InputAttributes::submit("password"),
                        texts::save(),
                    ),
                ],
            ),
            continue_with: Vec::new(),
        }
    }
}

/// `loginFlow.state`: a login flow here always waits for a method to be chosen.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = loginFlowState)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LoginState {
    ChooseMethod,
}

/// `loginFlow`: identifier and password.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = loginFlow)]
pub(crate) struct LoginFlow {
    pub(crate) id: Uuid,
    #[serde(rename = "type")]
    pub(crate) flow_type: Type,
    pub(crate) state: LoginState,
    pub(crate) issued_at: Time,
    pub(crate) expires_at: Time,
    pub(crate) request_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) return_to: Option<String>,
    pub(crate) refresh: bool,
    pub(crate) requested_aal: Aal,
    pub(crate) ui: UiContainer,
}

impl LoginFlow {
    pub(crate) fn new(
        flow: &domain::selfservice::LoginFlow,
        identifier: &IdentifierField,
        public_base_url: &Url,
    ) -> Self {
        let password = InputAttributes::required(
            "password",
            InputType::Password,
            Autocomplete::CurrentPassword,
        );
        Self {
            id: flow.id.into(),
            flow_type: flow.flow_type.into(),
            state: LoginState::ChooseMethod,
            issued_at: flow.issued_at.into(),
            expires_at: flow.expires_at.into(),
            request_url: format!("{public_base_url}self-service/login/flows?id={}", flow.id),
            return_to: flow.return_to.clone(),
            refresh: false,
            requested_aal: Aal::Aal1,
            ui: UiContainer::post(
                flow_url(public_base_url, "self-service/login", flow.id),
                vec![
                    UiNode::input(
                        NodeGroup::Default,
                        identifier.attributes(),
                        identifier.text(),
                    ),
                    UiNode::input(NodeGroup::Password, password, texts::password_label()),
                    UiNode::input(
                        NodeGroup::Password,
                        InputAttributes::submit("password"),
                        texts::sign_in(),
                    ),
                ],
            ),
        }
    }
}
