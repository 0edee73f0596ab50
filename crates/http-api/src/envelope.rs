//! The `errorGeneric` envelope and the middleware that puts every error into it.
//!
//! Handlers and extractors fail with [`ApiError`]; the router, actix itself or a panic may
//! produce a bare status instead. The middleware renders both the same way, with the request
//! id, so no non-2xx API response leaves without the envelope. Pages (HTML) pass as they are.

use std::fmt;
use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use domain::document::{FieldError as DomainFieldError, FieldErrors};
use futures_util::FutureExt;
use tracing::Instrument;
use uuid::Uuid;

use crate::HttpSettings;
use crate::security_headers::{NOSNIFF, SecurityHeaders};
use crate::wait::Wait;
use crate::wire::error::{ErrorDetails, ErrorGeneric, FieldError, GenericError};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An error as the client sees it. Its `Extras` hold internal detail, shown only in dev mode,
/// the fields at fault, and headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    id: Option<&'static str>,
    message: String,
    reason: Option<String>,
    /// Boxed, as few errors have any and every `Result` carries the size of this type.
    extras: Option<Box<Extras>>,
    /// Set where the error escapes the middleware as an `Err` (see [`middleware`]).
    request: Option<String>,
}

/// What only some errors have.
#[derive(Debug, Clone, Default)]
struct Extras {
    /// Internal detail: logged, and shown in dev mode only.
    debug: Option<String>,
    /// The fields at fault, each with what to change: `details.fields` of the envelope.
    fields: Option<FieldErrors>,
    /// Headers the answer needs besides the envelope (`WWW-Authenticate`, `Retry-After`).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            id: None,
            message: message.into(),
            reason: None,
            extras: None,
            request: None,
        }
    }

    /// Adds `Retry-After`.
    #[must_use]
    pub(crate) fn with_retry_after(self, wait: Wait) -> Self {
        let (name, value) = wait.header();
        self.with_header(name, value)
    }

    /// Names the fields at fault in `details` (Kratos's `details` is an object, so they are
    /// its `fields`: `[{"field": "traits.address.lines[2]", "message": "…"}]`).
    #[must_use]
    pub fn with_fields(mut self, fields: Vec<DomainFieldError>) -> Self {
        self.extras.get_or_insert_default().fields = FieldErrors::from_vec(fields);
        self
    }

    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    #[must_use]
    pub fn with_id(mut self, id: &'static str) -> Self {
        self.id = Some(id);
        self
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extras
            .get_or_insert_default()
            .headers
            .push((name, value));
        self
    }

    #[must_use]
    pub fn with_debug(mut self, debug: impl fmt::Display) -> Self {
        self.extras.get_or_insert_default().debug = Some(debug.to_string());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A client past a rate limit, who may try again after `wait`.
    pub(crate) fn too_many_requests(wait: Wait) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests were sent from your network address",
        )
        .with_retry_after(wait)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal server error occurred, please contact the system administrator",
        )
    }

    fn debug(&self) -> Option<&str> {
        self.extras.as_ref()?.debug.as_deref()
    }

    fn fields(&self) -> Option<&FieldErrors> {
        self.extras.as_ref()?.fields.as_ref()
    }

    /// The error for a response that carries only a status.
    fn from_status(status: StatusCode) -> Self {
        let message = match status {
            StatusCode::BAD_REQUEST => "The request was malformed or contained invalid parameters",
            StatusCode::NOT_FOUND => "The requested resource could not be found",
            StatusCode::METHOD_NOT_ALLOWED => {
                "The requested method is not allowed on this resource"
            }
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large",
            StatusCode::INTERNAL_SERVER_ERROR => return Self::internal(),
            other => other.canonical_reason().unwrap_or("An error occurred"),
        };
        Self::new(status, message)
    }

    /// What went wrong, in words a person can act on.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    fn render(&self, request_id: &str, dev: bool) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header(NOSNIFF);
        for header in self.extras.iter().flat_map(|extras| &extras.headers) {
            res.insert_header(header.clone());
        }
        res.json(ErrorGeneric {
            error: GenericError {
                code: self.status.as_u16(),
                status: self.status.canonical_reason().unwrap_or_default(),
                id: self.id,
                message: &self.message,
                reason: self
                    .reason
                    .as_deref()
                    .unwrap_or_else(|| default_reason(self.status)),
                request: request_id,
                details: self.fields().map(|fields| ErrorDetails {
                    fields: fields
                        .as_slice()
                        .iter()
                        .map(|f| FieldError {
                            field: &f.field,
                            message: &f.message,
                        })
                        .collect(),
                }),
                debug: self.debug().filter(|_| dev),
            },
        })
    }
}

/// What a client can do about an error whose cause says nothing more specific.
fn default_reason(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "Correct the request as the message says and send it again.",
        StatusCode::UNAUTHORIZED => "Authenticate and send the request again.",
        StatusCode::NOT_FOUND => "Check the URL and the identifiers in it.",
        StatusCode::METHOD_NOT_ALLOWED => "Use a method this resource accepts.",
        StatusCode::CONFLICT => {
            "The resource already exists; change the request or use the existing one."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "Send a smaller request body.",
        StatusCode::TOO_MANY_REQUESTS => {
            "Wait as long as the Retry-After header says, then try again."
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            "A service this request depends on is not reachable; try again later."
        }
        status if status.is_server_error() => {
            "The error was logged with this request's id; quote it when reporting the problem."
        }
        _ => "See the message.",
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// Rendered again by the middleware, which knows the request id, unless the error escapes
    /// it as an `Err`; then the id it was given is used.
    fn error_response(&self) -> HttpResponse {
        let request_id = self.request.as_deref().unwrap_or_default();
        let mut res = self.render(request_id, false);
        if let Ok(value) = HeaderValue::from_str(request_id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        res
    }
}

/// The request id: the caller's `X-Request-Id` when it is sane, else a new UUID.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned)
}

/// The id of a request, as assigned by the middleware.
#[derive(Debug, Clone)]
struct RequestId(String);

/// The request id the middleware assigned to `req`, for use cases that record it.
pub(crate) fn request_id_of(req: &actix_web::HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default()
}

/// Assigns the request id, runs the request inside a span carrying it (and, once
/// authenticated, its actor), turns panics into 500s and every non-2xx response into the
/// envelope, echoes the id as `X-Request-Id` and adds the listener's security headers.
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request_id(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let dev = req
        .app_data::<web::Data<HttpSettings>>()
        .is_some_and(|settings| settings.dev);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
        actor = tracing::field::Empty,
    );
    let security = req
        .app_data::<web::Data<SecurityHeaders>>()
        .map(|headers| headers.get_ref().clone())
        .unwrap_or_default();
    let escaped = |error: ApiError| -> actix_web::Error {
        let mut extras = error.extras.clone().unwrap_or_default();
        extras.headers.extend(security.iter().cloned());
        ApiError {
            request: Some(request_id.clone()),
            extras: Some(extras),
            ..error
        }
        .into()
    };
    let outcome = AssertUnwindSafe(next.call(req).instrument(span.clone()))
        .catch_unwind()
        .await;
    // A request can no longer be answered with a `ServiceResponse` once it has been routed
    // and lost, so errors that escape as `Err` carry their request id and render themselves.
    let mut res = match outcome {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(error)) => {
            let error = error
                .as_error::<ApiError>()
                .cloned()
                .unwrap_or_else(|| ApiError::from_status(error.as_response_error().status_code()));
            return Err(escaped(error));
        }
        Err(_) => {
            span.in_scope(|| tracing::error!("request handler panicked"));
            return Err(escaped(ApiError::internal()));
        }
    };
    let status = res.status();
    if status.is_server_error() {
        let detail = res
            .response()
            .error()
            .and_then(|error| error.as_error::<ApiError>())
            .and_then(|error| error.debug().map(str::to_owned));
        span.in_scope(
            || tracing::error!(status = status.as_u16(), detail = ?detail, "request failed"),
        );
    }
    // The built-in pages answer people in HTML, whatever the status.
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let is_flow = res.response().extensions().contains::<FlowBody>();
    if (status.is_client_error() || status.is_server_error()) && !is_page && !is_flow {
        let error = res
            .response()
            .error()
            .and_then(|error| error.as_error::<ApiError>())
            .cloned()
            .unwrap_or_else(|| ApiError::from_status(status));
        let original = res.headers().clone();
        res = res.into_response(error.render(&request_id, dev));
        keep_headers(&original, res.headers_mut());
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    security.apply(res.headers_mut());
    Ok(res)
}

/// Keeps the headers an error response already had (`Allow` on a 405) under the envelope that
/// replaces its body; those that describe the body are the envelope's own.
fn keep_headers(original: &HeaderMap, rendered: &mut HeaderMap) {
    for name in original.keys() {
        if name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || rendered.contains_key(name)
        {
            continue;
        }
        for value in original.get_all(name) {
            rendered.append(name.clone(), value.clone());
        }
    }
}

/// Marks a non-2xx response whose body is a self-service flow (a refused submission, as
/// Kratos answers it), which the middleware passes as it is.
#[derive(Debug, Clone, Copy)]
struct FlowBody;

/// `res`, marked as answering a flow rather than an error (see [`FlowBody`]).
pub(crate) fn flow_body(mut res: HttpResponse) -> HttpResponse {
    res.extensions_mut().insert(FlowBody);
    res
}

/// Marks a response as holding a secret that no cache may keep.
pub(crate) fn no_store() -> (HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

#[cfg(test)]
mod tests {
    use actix_web::dev::Service;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};
    use serde_json::Value;

    use super::*;

    fn settings(dev: bool) -> HttpSettings {
        HttpSettings {
            dev,
            public_base_url: url::Url::parse("http://127.0.0.1:4433/").unwrap(),
            admin_base_url: url::Url::parse("http://127.0.0.1:4434/").unwrap(),
        }
    }

    async fn panics() -> HttpResponse {
        panic!("secret internal detail")
    }

    async fn fails() -> Result<HttpResponse, ApiError> {
        Err(ApiError::internal().with_debug("connection to 10.0.0.7 refused"))
    }

    async fn call(dev: bool, path: &str) -> (StatusCode, Value, String) {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(settings(dev)))
                .route("/panic", web::get().to(panics))
                .route("/fail", web::get().to(fails))
                .wrap(from_fn(middleware)),
        )
        .await;
        // As the server does: an `Err` that escapes every middleware renders itself.
        let res = match app
            .call(test::TestRequest::get().uri(path).to_request())
            .await
        {
            Ok(res) => res.into_parts().1,
            Err(error) => error.error_response(),
        };
        let status = res.status();
        let id = res
            .headers()
            .get(REQUEST_ID)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap(), id)
    }

    #[actix_web::test]
    async fn a_panic_becomes_a_500_envelope_without_internal_text() {
        let (status, body, id) = call(true, "/panic").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], 500);
        assert_eq!(body["error"]["status"], "Internal Server Error");
        assert_eq!(body["error"]["request"], id);
        assert!(!body.to_string().contains("secret internal detail"));
    }

    #[actix_web::test]
    async fn debug_detail_is_shown_in_dev_mode_only() {
        let (_, body, _) = call(true, "/fail").await;
        assert_eq!(body["error"]["debug"], "connection to 10.0.0.7 refused");
        let (_, body, _) = call(false, "/fail").await;
        assert!(body["error"].get("debug").is_none());
        assert!(!body.to_string().contains("10.0.0.7"));
    }

    #[actix_web::test]
    async fn unrouted_statuses_get_the_envelope_too() {
        let (status, body, _) = call(false, "/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body["error"]["message"],
            "The requested resource could not be found"
        );
    }
}
