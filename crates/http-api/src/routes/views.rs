//! The JSON shapes of Kratos's self-service API: flows with their `ui` containers, sessions and
//! identities, so that Kratos front-ends and SDKs can read them.

use domain::identity::Identity;
use domain::recovery::{CODE_METHOD, RecoveryFlow, flow_request_url};
use domain::selfservice::{LoginFlow, SettingsFlow};
use domain::session::Session;
use domain::time::{Timestamp, format_rfc3339_millis};
use serde_json::{Value, json};

use crate::HttpSettings;
use crate::routes::schemas;

/// A UI text, with Kratos's message id.
pub(crate) fn text(id: u32, text: &str, kind: &str) -> Value {
    json!({"id": id, "text": text, "type": kind})
}

pub(crate) const INVALID_CODE: u32 = 4_060_006;
pub(crate) const INVALID_CODE_TEXT: &str =
    "The recovery code is invalid or has already been used. Please try again.";
pub(crate) const RECOVERED: u32 = 1_060_001;
pub(crate) const SAVED: u32 = 1_050_001;
pub(crate) const SAVED_TEXT: &str = "Your changes have been saved!";
pub(crate) const INVALID_CREDENTIALS_TEXT: &str = "The provided credentials are invalid, check for \
     spelling mistakes in your password or username, email address, or phone number.";

/// The message that opens the settings flow after a recovery.
pub(crate) fn recovered_text(minutes: i64) -> String {
    format!(
        "You successfully recovered your account. Please change your password within the next \
         {minutes} minutes."
    )
}

pub(crate) fn time(t: Timestamp) -> String {
    format_rfc3339_millis(t)
}

fn input(
    group: &str,
    name: &str,
    kind: &str,
    attributes: Value,
    label: Option<(u32, &str)>,
) -> Value {
    let mut attrs = json!({
        "name": name,
        "type": kind,
        "disabled": false,
        "node_type": "input",
    });
    if let (Some(target), Some(extra)) = (attrs.as_object_mut(), attributes.as_object()) {
        target.extend(extra.clone());
    }
    json!({
        "type": "input",
        "group": group,
        "attributes": attrs,
        "messages": [],
        "meta": label.map_or_else(|| json!({}), |(id, t)| json!({"label": text(id, t, "info")})),
    })
}

fn action(settings: &HttpSettings, path: &str, flow_id: impl std::fmt::Display) -> String {
    format!("{}{path}?flow={flow_id}", settings.public_base_url)
}

/// `recoveryFlow`: its one field is an empty, required code input.
pub(crate) fn recovery_flow(
    flow: &RecoveryFlow,
    code_length: usize,
    messages: Vec<Value>,
    settings: &HttpSettings,
) -> Value {
    json!({
        "id": flow.id,
        "type": flow.flow_type.as_str(),
        "state": flow.state.as_str(),
        "active": CODE_METHOD,
        "issued_at": time(flow.issued_at),
        "expires_at": time(flow.expires_at),
        // Computed, not stored: flows issued before it was public kept the admin URL.
        "request_url": flow_request_url(&settings.public_base_url, flow.id),
        "return_to": flow.return_to,
        "ui": {
            "action": action(settings, "self-service/recovery", flow.id),
            "method": "POST",
            "nodes": [
                input("code", "code", "text", json!({
                    "required": true,
                    "pattern": "[0-9]+",
                    "maxlength": code_length,
                    "autocomplete": "one-time-code",
                    "inputmode": "numeric",
                }), Some((1_070_010, "Recovery code"))),
                input("code", "method", "submit", json!({"value": CODE_METHOD}), Some((1_070_009, "Continue"))),
            ],
            "messages": messages,
        },
    })
}

/// `settingsFlow`: a new-password field.
pub(crate) fn settings_flow(
    flow: &SettingsFlow,
    identity: &Identity,
    messages: Vec<Value>,
    settings: &HttpSettings,
) -> Value {
    json!({
        "id": flow.id,
        "type": flow.flow_type.as_str(),
        "state": flow.state.as_str(),
        "issued_at": time(flow.issued_at),
        "expires_at": time(flow.expires_at),
        "request_url": format!("{}self-service/settings/flows?id={}", settings.public_base_url, flow.id),
        "return_to": flow.return_to,
        "identity": identity_json(identity, settings),
        "ui": {
            "action": action(settings, "self-service/settings", flow.id),
            "method": "POST",
            "nodes": [
                input("password", "password", "password", json!({
                    "required": true,
                    "autocomplete": "new-password",
                    "minlength": domain::password::MIN_LEN,
                }), Some((1_070_001, "Password"))),
                input("password", "method", "submit", json!({"value": "password"}), Some((1_050_003, "Save"))),
            ],
            "messages": messages,
        },
    })
}

/// `loginFlow`: identifier and password.
pub(crate) fn login_flow(flow: &LoginFlow, messages: Vec<Value>, settings: &HttpSettings) -> Value {
    json!({
        "id": flow.id,
        "type": flow.flow_type.as_str(),
        "state": "choose_method",
        "issued_at": time(flow.issued_at),
        "expires_at": time(flow.expires_at),
        "request_url": format!("{}self-service/login/flows?id={}", settings.public_base_url, flow.id),
        "return_to": flow.return_to,
        "refresh": false,
        "requested_aal": "aal1",
        "ui": {
            "action": action(settings, "self-service/login", flow.id),
            "method": "POST",
            "nodes": [
                input("default", "identifier", "text", json!({"required": true, "autocomplete": "username"}), Some((1_070_004, "Email address"))),
                input("password", "password", "password", json!({"required": true, "autocomplete": "current-password"}), Some((1_070_001, "Password"))),
                input("password", "method", "submit", json!({"value": "password"}), Some((1_010_001, "Sign in"))),
            ],
            "messages": messages,
        },
    })
}

/// `session`, with its identity.
pub(crate) fn session(session: &Session, identity: &Identity, settings: &HttpSettings) -> Value {
    json!({
        "id": session.id,
        "active": true,
        "issued_at": time(session.authenticated_at),
        "authenticated_at": time(session.authenticated_at),
        "expires_at": time(session.expires_at),
        "authenticator_assurance_level": "aal1",
        "authentication_methods": [{
            "method": session.method.as_str(),
            "aal": "aal1",
            "completed_at": time(session.authenticated_at),
        }],
        "identity": identity_json(identity, settings),
    })
}

/// `identity`: the fields Kratos's clients require, never credentials.
pub(crate) fn identity_json(identity: &Identity, settings: &HttpSettings) -> Value {
    json!({
        "id": identity.id,
        "schema_id": identity.schema_id,
        "schema_url": format!("{}{}", settings.public_base_url, schemas::path_of(&identity.schema_id)),
        "state": identity.state.as_str(),
        "traits": identity.traits,
        "metadata_public": null,
        "metadata_admin": null,
        "created_at": time(identity.created_at),
        "updated_at": time(identity.updated_at),
    })
}
