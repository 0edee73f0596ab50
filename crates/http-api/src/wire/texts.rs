//! The messages of the flows, with Kratos's ids (its `text` package), so that front-ends that
//! translate by id show the right words.

use crate::wire::ui::UiText;

pub(crate) const INVALID_CODE: &str =
    "The recovery code is invalid or has already been used. Please try again.";
pub(crate) const INVALID_CREDENTIALS: &str = "The provided credentials are invalid, check for \
     spelling mistakes in your password or username, email address, or phone number.";
/// What a person reads when a flow took more submissions than allowed.
pub(crate) const TOO_MANY_ATTEMPTS: &str =
    "The request was submitted too often. Please request another code.";
pub(crate) const SAVED: &str = "Your changes have been saved!";

// Labels.
pub(crate) fn sign_in() -> UiText {
    UiText::info(1_010_001, "Sign in")
}

pub(crate) fn save() -> UiText {
    UiText::info(1_050_003, "Save")
}

pub(crate) fn password_label() -> UiText {
    UiText::info(1_070_001, "Password")
}

/// The label of the sign-in identifier: the trait's title in the schema, else "ID".
pub(crate) fn identifier_label(title: Option<&str>) -> UiText {
    match title {
        Some(title) => UiText::info(1_070_002, title),
        None => UiText::info(1_070_004, "ID"),
    }
}

pub(crate) fn continue_label() -> UiText {
    UiText::info(1_070_009, "Continue")
}

pub(crate) fn recovery_code_label() -> UiText {
    UiText::info(1_070_010, "Recovery code")
}

// Outcomes.
pub(crate) fn saved() -> UiText {
    UiText::success(1_050_001, SAVED)
}

/// Opens the settings flow after a recovery: the password must be changed within `minutes`.
pub(crate) fn recovered(minutes: i64) -> UiText {
    UiText::success(
        1_060_001,
        format!(
            "You successfully recovered your account. Please change your password within the \
             next {minutes} minutes."
        ),
    )
}

// Validation errors.
/// A submission that could not be read: `reason` says why.
pub(crate) fn invalid(reason: impl Into<String>) -> UiText {
    UiText::error(4_000_001, reason)
}

/// A required field left out.
pub(crate) fn required(field: &str) -> UiText {
    UiText::error(4_000_002, format!("Property {field} is missing."))
}

/// A new password the policy refuses, `reason` saying why.
pub(crate) fn password_refused(reason: &str) -> UiText {
    UiText::error(
        4_000_005,
        format!("The password can not be used because {reason}."),
    )
}

pub(crate) fn invalid_credentials() -> UiText {
    UiText::error(4_000_006, INVALID_CREDENTIALS)
}

pub(crate) fn invalid_code() -> UiText {
    UiText::error(4_060_006, INVALID_CODE)
}

pub(crate) fn too_many_attempts() -> UiText {
    UiText::error(4_060_007, TOO_MANY_ATTEMPTS)
}
