//! The seed's `errorGeneric` envelope: every non-2xx answer of the APIs except a self-service
//! submission that failed validation (which answers its flow, as Kratos).

use serde::Serialize;
use utoipa::ToSchema;

/// `errorGeneric`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = errorGeneric)]
pub(crate) struct ErrorGeneric<'a> {
    pub(crate) error: GenericError<'a>,
}

/// `genericError`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = genericError)]
pub(crate) struct GenericError<'a> {
    /// The HTTP status code.
    pub(crate) code: u16,
    /// The HTTP status text.
    pub(crate) status: &'a str,
    /// A stable id for the error, where there is one (e.g. `self_service_flow_expired`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) id: Option<&'a str>,
    pub(crate) message: &'a str,
    /// What the caller can do about it.
    pub(crate) reason: &'a str,
    /// The request's id, also in `X-Request-Id`.
    pub(crate) request: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) details: Option<ErrorDetails<'a>>,
    /// Internal detail, in development mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) debug: Option<&'a str>,
}

/// `genericError.details`: the fields at fault.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = genericErrorDetails)]
pub(crate) struct ErrorDetails<'a> {
    pub(crate) fields: Vec<FieldError<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = genericErrorField)]
pub(crate) struct FieldError<'a> {
    /// The field's path, e.g. `traits.address.lines[2]`.
    pub(crate) field: &'a str,
    /// What to change.
    pub(crate) message: &'a str,
}
