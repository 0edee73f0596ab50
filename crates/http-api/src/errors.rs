//! The one place where use-case errors become HTTP statuses.

use actix_web::http::StatusCode;
use application::audit::AuditTrailError;
use application::hashing::{self, HashingError};
use application::identities::{
    CreateIdentityError, IdentityLookupError, ListIdentitiesError, UpdateIdentityError,
};
use application::login::LoginError;
use application::ports::StoreError;
use application::recovery_codes::{CreateRecoveryCodeError, RevokeCodesError};
use application::redemption::{FlowLookupError, SubmitCodeError};
use application::schemas::ListSchemasError;
use application::sessions::{SessionError, SessionsError};
use application::settings::SettingsError;
use domain::duration::{DurationError, PATTERN};
use domain::identity::IdentityError;
use domain::identity_patch::PatchError;
use domain::lifespan::LifespanError;

use crate::ApiError;
use crate::wait::Wait;
use crate::wire::texts;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not reachable right now, please try again later",
            )
            .with_debug(error),
            StoreError::Unexpected(_) => ApiError::internal().with_debug(error),
        }
    }
}

impl From<HashingError> for ApiError {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many passwords are being checked right now, please try again in a moment",
            )
            .with_reason(
                "Wait as long as the Retry-After header says, then send the request again.",
            )
            .with_retry_after(Wait::new(hashing::RETRY_AFTER)),
            HashingError::Failed => ApiError::internal().with_debug(error),
        }
    }
}

/// The answer to a sign-in held back for `wait`.
pub(crate) fn throttled(wait: Wait) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, THROTTLED)
        .with_id("self_service_login_throttled")
        .with_reason(format!(
            "Try again in {}, or recover the account with a recovery code.",
            wait.in_words()
        ))
        .with_retry_after(wait)
}

/// What a person reads when sign-ins on an identifier are held back.
pub(crate) const THROTTLED: &str =
    "Too many failed sign-in attempts for this account. Please wait before trying again";

impl From<CreateRecoveryCodeError> for ApiError {
    fn from(error: CreateRecoveryCodeError) -> Self {
        match error {
            CreateRecoveryCodeError::Disabled => ApiError::not_found(
                "This endpoint was disabled by system administrator. Please check your url or \
                 contact the system administrator to enable it.",
            )
            .with_id("self_service_flow_disabled"),
            CreateRecoveryCodeError::InvalidLifespan(error) => {
                let reason = match error {
                    LifespanError::Invalid(DurationError::Format { .. }) => {
                        format!("\"expires_in\" must match {PATTERN}")
                    }
                    LifespanError::Invalid(DurationError::Overflow { .. }) => {
                        "Ask for a shorter lifespan.".to_owned()
                    }
                    LifespanError::NotPositive { .. } => {
                        "\"expires_in\" must be longer than zero".to_owned()
                    }
                    LifespanError::TooLong { .. } => "Ask for a shorter lifespan or raise \
                         selfservice.methods.code.config.max_lifespan"
                        .to_owned(),
                };
                ApiError::bad_request(error.to_string()).with_reason(reason)
            }
            CreateRecoveryCodeError::InvalidReturnTo(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            CreateRecoveryCodeError::IdentityNotFound(id) => identity_not_found(id),
            CreateRecoveryCodeError::Store(error) => error.into(),
        }
    }
}

impl From<CreateIdentityError> for ApiError {
    fn from(error: CreateIdentityError) -> Self {
        match error {
            CreateIdentityError::Invalid(error) => invalid_identity(&error),
            CreateIdentityError::InvalidPassword(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            CreateIdentityError::Duplicate => duplicate_identifier(),
            CreateIdentityError::Hashing(error) => error.into(),
            CreateIdentityError::Store(error) => error.into(),
        }
    }
}

impl From<UpdateIdentityError> for ApiError {
    fn from(error: UpdateIdentityError) -> Self {
        match error {
            UpdateIdentityError::NotFound(id) => identity_not_found(id),
            UpdateIdentityError::Invalid(error) => invalid_identity(&error),
            UpdateIdentityError::InvalidPatch(error) => error.into(),
            UpdateIdentityError::InvalidPassword(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            UpdateIdentityError::Duplicate => duplicate_identifier(),
            UpdateIdentityError::Hashing(error) => error.into(),
            UpdateIdentityError::Store(error) => error.into(),
        }
    }
}

impl From<PatchError> for ApiError {
    fn from(error: PatchError) -> Self {
        let fields = error.fields();
        let refused = ApiError::bad_request(capitalize(&error.to_string()));
        if fields.is_empty() {
            refused
        } else {
            refused.with_reason(FIELDS_REASON).with_fields(fields)
        }
    }
}

fn invalid_identity(error: &IdentityError) -> ApiError {
    ApiError::bad_request(capitalize(&error.to_string()))
        .with_reason(FIELDS_REASON)
        .with_fields(error.fields())
}

fn duplicate_identifier() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "An identity with the same identifier (email address or username) exists already",
    )
    .with_reason(
        "The trait the identity schema marks as password identifier must be unique across \
         identities: choose another value, or update the identity that has it.",
    )
}

impl From<IdentityLookupError> for ApiError {
    fn from(error: IdentityLookupError) -> Self {
        match error {
            IdentityLookupError::NotFound(id) => {
                ApiError::not_found("Unable to locate the resource")
                    .with_reason(format!("Could not find identity {id}."))
            }
            IdentityLookupError::Store(error) => error.into(),
        }
    }
}

impl From<ListIdentitiesError> for ApiError {
    fn from(error: ListIdentitiesError) -> Self {
        match error {
            ListIdentitiesError::InvalidPageSize(_) | ListIdentitiesError::InvalidPageToken(_) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            ListIdentitiesError::Store(error) => error.into(),
        }
    }
}

impl From<RevokeCodesError> for ApiError {
    fn from(error: RevokeCodesError) -> Self {
        match error {
            RevokeCodesError::IdentityNotFound(id) => identity_not_found(id),
            RevokeCodesError::Store(error) => error.into(),
        }
    }
}

impl From<ListSchemasError> for ApiError {
    fn from(error: ListSchemasError) -> Self {
        match error {
            ListSchemasError::InvalidPageSize(_) | ListSchemasError::InvalidPageToken(_) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
        }
    }
}

/// The reason of a 400 whose `details.fields` say what is wrong.
pub(crate) const FIELDS_REASON: &str = "Correct the fields listed in details.fields as their messages say, then send the request again.";

fn identity_not_found(id: domain::id::IdentityId) -> ApiError {
    ApiError::not_found("Unable to locate the resource")
        .with_reason(format!("Could not find identity {id}."))
}

/// Domain messages are sentence fragments; responses start with a capital.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl From<FlowLookupError> for ApiError {
    fn from(error: FlowLookupError) -> Self {
        match error {
            FlowLookupError::NotFound(id) => ApiError::not_found("Unable to locate the resource")
                .with_reason(format!("No recovery flow has the id {id}.")),
            FlowLookupError::Expired(_) => ApiError::new(
                StatusCode::GONE,
                "The recovery flow has expired: please ask for a new recovery code",
            )
            .with_id("self_service_flow_expired"),
            FlowLookupError::Store(error) => error.into(),
        }
    }
}

impl From<SubmitCodeError> for ApiError {
    fn from(error: SubmitCodeError) -> Self {
        match error {
            SubmitCodeError::Flow(error) => error.into(),
            SubmitCodeError::TooManyAttempts => ApiError::bad_request(texts::TOO_MANY_ATTEMPTS)
                .with_id("self_service_flow_submissions_exceeded"),
            SubmitCodeError::InvalidCode(_) => {
                ApiError::bad_request(texts::INVALID_CODE).with_id("code_invalid")
            }
            SubmitCodeError::IdentityDisabled => {
                ApiError::new(StatusCode::FORBIDDEN, DISABLED).with_id("identity_disabled")
            }
            SubmitCodeError::Store(error) => error.into(),
        }
    }
}

pub(crate) const DISABLED: &str = "This account was disabled.";

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "No valid session credentials found in the request",
    )
    .with_id("session_inactive")
    .with_reason("Sign in, then send the session cookie or the X-Session-Token header.")
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unauthorized => unauthorized(),
            SessionError::Store(error) => error.into(),
        }
    }
}

impl From<AuditTrailError> for ApiError {
    fn from(error: AuditTrailError) -> Self {
        match error {
            AuditTrailError::InvalidPageSize(_) | AuditTrailError::InvalidPageToken(_) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            AuditTrailError::Store(error) => error.into(),
        }
    }
}

impl From<SessionsError> for ApiError {
    fn from(error: SessionsError) -> Self {
        match error {
            SessionsError::Unauthorized => unauthorized(),
            SessionsError::IdentityNotFound(id) => identity_not_found(id),
            SessionsError::SessionNotFound(id) => {
                ApiError::not_found("Unable to locate the resource")
                    .with_reason(format!("Could not find session {id}."))
            }
            SessionsError::CurrentSession => ApiError::bad_request(capitalize(&error.to_string()))
                .with_id("session_cannot_delete_current")
                .with_reason("Sign out with DELETE /self-service/logout/api to end this session."),
            SessionsError::InvalidPageSize(_) | SessionsError::InvalidPageToken(_) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            SessionsError::Store(error) => error.into(),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Unauthorized => unauthorized(),
            SettingsError::NotFound(id) => ApiError::not_found("Unable to locate the resource")
                .with_reason(format!("No settings flow has the id {id}.")),
            SettingsError::Expired(_) => ApiError::new(
                StatusCode::GONE,
                "The settings flow has expired: recover your account again or sign in",
            )
            .with_id("self_service_flow_expired"),
            SettingsError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "This settings flow belongs to another account",
            )
            .with_id("security_identity_mismatch"),
            SettingsError::PrivilegeExpired => ApiError::new(
                StatusCode::FORBIDDEN,
                "The session is too old to change the password: sign in again first",
            )
            .with_id("session_refresh_required"),
            SettingsError::AlreadyDone => {
                ApiError::bad_request("The password was already changed in this flow")
            }
            SettingsError::InvalidPassword(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            SettingsError::Hashing(error) => error.into(),
            SettingsError::Store(error) => error.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::FlowNotFound(id) => ApiError::not_found("Unable to locate the resource")
                .with_reason(format!("No login flow has the id {id}.")),
            LoginError::FlowExpired(_) => ApiError::new(
                StatusCode::GONE,
                "The login flow has expired: start signing in again",
            )
            .with_id("self_service_flow_expired"),
            LoginError::InvalidCredentials => {
                ApiError::bad_request(texts::INVALID_CREDENTIALS).with_id("invalid_credentials")
            }
            LoginError::Disabled => {
                ApiError::new(StatusCode::FORBIDDEN, DISABLED).with_id("identity_disabled")
            }
            LoginError::InvalidReturnTo(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            LoginError::Throttled { wait } => throttled(Wait::new(wait)),
            LoginError::Hashing(error) => error.into(),
            LoginError::Store(error) => error.into(),
        }
    }
}
