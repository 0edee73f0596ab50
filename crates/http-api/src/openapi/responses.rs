//! The error answers many operations share, each described once and referenced by name from
//! `components.responses`.

use utoipa::ToResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Header, Ref, RefOr, Response, ResponseBuilder};

/// A response whose body is the `errorGeneric` envelope.
fn envelope(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("errorGeneric")))
            .build(),
    )
}

/// A page of the built-in UI, for a browser: HTML.
pub(crate) fn page() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// The media type of [`page`].
pub(crate) const HTML: &str = "text/html";

/// `Retry-After`, in whole seconds.
fn retry_after(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        ))
        .description(Some(description))
        .build()
}

/// 401: the admin API key is missing or wrong.
pub(crate) struct Unauthorized;

impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        let challenge = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("`Bearer`"))
            .build();
        let response = envelope(
            "The request carries no admin API key, or one that is not configured in \
             serve.admin.api_keys.",
        )
        .header("WWW-Authenticate", challenge);
        ("unauthorized", response.build().into())
    }
}

/// 421: the admin listener's defence against DNS rebinding.
pub(crate) struct Misdirected;

impl<'r> ToResponse<'r> for Misdirected {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = envelope(
            "`Host` is missing, or names neither an IP address, `localhost`, the host of \
             serve.admin.base_url nor one of serve.admin.allowed_hosts (a defence against DNS \
             rebinding; Kratos has no such check).",
        );
        ("misdirected", response.build().into())
    }
}

/// 429: past a rate limit of the public listener, or a sign-in held back.
pub(crate) struct TooManyRequests;

impl<'r> ToResponse<'r> for TooManyRequests {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = envelope(
            "The client's address group is past the route's rate limit \
             (serve.public.rate_limits), or, for a sign-in, failed sign-ins on the identifier \
             hold it back (id `self_service_login_throttled`). Kratos documents no 429. A \
             browser (a form post or a page) gets a page saying how long to wait.",
        )
        .content(HTML, page())
        .header(
            "Retry-After",
            retry_after("How long to wait before sending the request again."),
        );
        ("tooManyRequests", response.build().into())
    }
}

/// 405: the path exists, the method does not.
pub(crate) struct MethodNotAllowed;

impl<'r> ToResponse<'r> for MethodNotAllowed {
    fn response() -> (&'r str, RefOr<Response>) {
        let allow = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("The methods the path takes, e.g. `GET, HEAD`."))
            .build();
        let response = envelope("The path does not take this method.").header("Allow", allow);
        ("methodNotAllowed", response.build().into())
    }
}

/// 413: a body over [`crate::BODY_LIMIT`].
pub(crate) struct PayloadTooLarge;

impl<'r> ToResponse<'r> for PayloadTooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        let description = format!(
            "The request body is larger than {} bytes.",
            crate::BODY_LIMIT
        );
        ("payloadTooLarge", envelope(&description).build().into())
    }
}

/// 503: the database does not answer, or the password hashing queue is full.
pub(crate) struct Unavailable;

impl<'r> ToResponse<'r> for Unavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = envelope(
            "The database does not answer, or (where a password is checked or hashed) too many \
             passwords are being hashed right now.",
        )
        .header(
            "Retry-After",
            retry_after("Set when the hashing queue is full: how long to wait."),
        );
        ("unavailable", response.build().into())
    }
}

/// 500: a failure the caller can do nothing about; the envelope never carries its detail.
pub(crate) struct InternalError;

impl<'r> ToResponse<'r> for InternalError {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = envelope(
            "An unexpected failure, logged with the request's id (`error.request`, also \
             `X-Request-Id`).",
        );
        ("internalError", response.build().into())
    }
}
