//! The one place where use-case errors become HTTP statuses.

use actix_web::http::StatusCode;
use application::identities::{CreateIdentityError, IdentityLookupError, ListIdentitiesError};
use application::ports::StoreError;
use application::recovery_codes::CreateRecoveryCodeError;
use domain::duration::{DurationError, PATTERN};
use domain::lifespan::LifespanError;

use crate::ApiError;

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
            CreateIdentityError::Invalid(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            CreateIdentityError::InvalidPassword(error) => {
                ApiError::bad_request(capitalize(&error.to_string()))
            }
            CreateIdentityError::Duplicate => ApiError::new(
                StatusCode::CONFLICT,
                "An identity with this email address already exists",
            )
            .with_reason("\"traits.email\" must be unique across identities."),
            CreateIdentityError::Store(error) => error.into(),
        }
    }
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

fn identity_not_found(id: uuid::Uuid) -> ApiError {
    ApiError::not_found("Unable to locate the resource")
        .with_reason(format!("Could not find identity {id}."))
}

/// Domain messages are sentence fragments; responses start with a capital.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
