//! Extractor settings: bodies must be JSON objects of bounded size, and every decoding failure
//! becomes an [`ApiError`] that says what was wrong.

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, ResponseError, web};
use domain::document::FieldError;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{ApiError, BODY_LIMIT};

/// A JSON object body decoded into `T`. Unlike `web::Json<T>`, an array is refused even where
/// serde would read it as the struct's fields in order.
pub(crate) struct JsonObject<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // `web::Json` checks the content type and the size limit and validates the syntax.
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            if !raw.get().starts_with('{') {
                return Err(ApiError::bad_request(
                    "Unable to decode JSON payload: the request body must be a JSON object",
                )
                .into());
            }
            let mut fields = serde_json::Deserializer::from_str(raw.get());
            serde_path_to_error::deserialize(&mut fields)
                .map(JsonObject)
                .map_err(|error| decoding_error(&error).into())
        })
    }
}

/// Whether a client asked for JSON (`Accept: application/json`), as a single-page app does for
/// a browser flow, rather than a page.
pub(crate) fn accepts_json(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers
        .get(actix_web::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

pub(crate) fn config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, _| json_error(&error).into())
}

/// A submission as a browser form or as a JSON object, the same fields either way. A body too
/// large is refused at once; any other that cannot be read is kept as its error, for the
/// handler to answer with its flow (as Kratos answers a bad submission).
pub(crate) struct Submission<T> {
    is_form: bool,
    body: Result<T, ApiError>,
}

impl<T> Submission<T> {
    pub(crate) fn into_result(self) -> Result<T, ApiError> {
        self.body
    }

    pub(crate) fn is_form(&self) -> bool {
        self.is_form
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Submission<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_web::HttpMessage;
        let is_form = req.content_type() == "application/x-www-form-urlencoded";
        let read = if is_form {
            let form = web::Form::<T>::from_request(req, payload);
            Box::pin(async move { form.await.map(web::Form::into_inner) })
                as LocalBoxFuture<'static, Result<T, actix_web::Error>>
        } else {
            let json = JsonObject::<T>::from_request(req, payload);
            Box::pin(async move { json.await.map(|body| body.0) })
        };
        Box::pin(async move {
            let body = match read.await {
                Ok(body) => Ok(body),
                Err(error) => {
                    let error = error
                        .as_error::<ApiError>()
                        .cloned()
                        .unwrap_or_else(|| ApiError::bad_request(error.to_string()));
                    if error.status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                        return Err(error.into());
                    }
                    Err(error)
                }
            };
            Ok(Self { is_form, body })
        })
    }
}

pub(crate) fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, _| match error {
            UrlencodedError::Overflow { limit, .. } => too_large(limit).into(),
            other => ApiError::bad_request(format!("Unable to decode the form: {other}")).into(),
        })
}

pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        let QueryPayloadError::Deserialize(detail) = &error else {
            return ApiError::bad_request("Unable to decode the query string").into();
        };
        ApiError::bad_request(format!("Unable to decode the query string: {detail}")).into()
    })
}

/// A path segment that does not parse (an id that is not a UUID) names no resource: 404.
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, req| {
        let detail = match &error {
            PathError::Deserialize(detail) => detail.to_string(),
            other => other.to_string(),
        };
        ApiError::not_found("Unable to locate the resource")
            .with_reason(format!("{} does not name a resource: {detail}", req.path()))
            .into()
    })
}

/// A body that is valid JSON but not what the route reads: the error names the field (its path,
/// `traits.address.lines[2]`) in the message and in `details.fields`.
fn decoding_error(error: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let field = error.path().to_string();
    let message = with_hint(&error.inner().to_string());
    // serde names no path for the body as a whole (".").
    if field == "." {
        return ApiError::bad_request(format!("Unable to decode JSON payload: {message}"));
    }
    ApiError::bad_request(format!(
        "Unable to decode JSON payload: \"{field}\" {message}"
    ))
    .with_reason(crate::errors::FIELDS_REASON)
    .with_fields(vec![FieldError::new(field, message)])
}

/// serde_json's message about `problem`, with what to change where it does not say.
fn with_hint(problem: &str) -> String {
    if problem.starts_with("number out of range") {
        format!(
            "holds a number beyond what can be stored ({problem}): send one between {:e} and {:e}",
            f64::MIN,
            f64::MAX
        )
    } else if problem.contains("surrogate") || problem.contains("escape") {
        format!("{problem}: send text as UTF-8, or as \\u escapes that form whole characters")
    } else if problem.starts_with("recursion limit exceeded") {
        format!(
            "{problem}: nest arrays and objects at most {} levels deep",
            domain::document::MAX_DEPTH
        )
    } else {
        problem.to_owned()
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is too large: at most {limit} bytes are accepted"),
    )
}

fn json_error(error: &JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => too_large(*limit),
        JsonPayloadError::ContentType => ApiError::bad_request(
            "Unable to decode JSON payload: the Content-Type header must be application/json",
        ),
        JsonPayloadError::Deserialize(detail) if detail.is_eof() && detail.column() == 0 => {
            ApiError::bad_request("Unable to decode JSON payload: the request body is empty")
        }
        JsonPayloadError::Deserialize(detail) => ApiError::bad_request(format!(
            "Unable to decode JSON payload: {}",
            with_hint(&detail.to_string())
        )),
        other => ApiError::bad_request(format!("Unable to read the request body: {other}")),
    }
}
