//! The public self-service API (Kratos's shapes) and the built-in pages behind it, one module
//! per flow. Each submission decides once whom it answers: a browser form gets pages and
//! redirects, JSON gets the flow (400 with `ui.messages` when the submission is refused, as
//! Kratos) or the envelope.

pub(crate) mod login;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod settings;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::ports::Store;
use serde::Serialize;
use uuid::Uuid;

use crate::csrf::check_same_origin;
use crate::envelope::{flow_body, no_store};
use crate::json::Submission;
use crate::wire::submissions::FlowQuery;
use crate::wire::texts;
use crate::wire::ui::UiText;
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    recovery::configure::<S>(cfg);
    settings::configure::<S>(cfg);
    login::configure::<S>(cfg);
    sessions::configure::<S>(cfg);
}

// What the operations' documented answers mean, where several say the same.
const NO_NAMED_FLOW: &str = "`flow` is missing, not a UUID, or names no flow of this kind.";
const UNREADABLE_ID: &str = "`id` is missing or not a UUID.";
const NO_SUCH_FLOW: &str = "No flow of this kind has this id.";
const EXPIRED_FLOW: &str = "The flow has expired (id `self_service_flow_expired`).";
const DISABLED_IDENTITY: &str = "The identity is inactive (id `identity_disabled`).";
const NO_SESSION: &str = "No session: the request carries no session token or cookie, or one \
    that is unknown, expired or revoked (id `session_inactive`).";
const SESSION_TOKEN: &str = "The session token of an API client. `Authorization: Bearer <token>` \
    is read too.";
const SESSION_COOKIE: &str = "The session cookie of a browser.";
const FORM_DONE: &str = "A browser form was accepted: on to the next page (`Location`), with the \
    session cookie where one was opened.";

type Svc<S> = web::Data<Service<S>>;
type Settings = web::Data<HttpSettings>;

fn public_url(settings: &HttpSettings, path: &str) -> String {
    format!("{}{path}", settings.public_base_url)
}

/// A 303 to `location`. Never cached: many carry a new session cookie.
fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder.insert_header((header::LOCATION, location.to_owned()));
    builder.insert_header(no_store());
    builder
}

/// The flow a submission names. None named (or a value that is not a flow id) is none found:
/// Kratos's document reserves a submission's 400 for the flow itself.
fn named_flow(query: &FlowQuery) -> Result<Uuid, ApiError> {
    query.flow.ok_or_else(|| {
        ApiError::not_found("The \"flow\" query parameter is required")
            .with_reason("Open the link you were given; it carries the flow's id.")
    })
}

/// Whom a submission answers, decided once from its body.
enum Reply<T> {
    /// A browser form from our own pages: pages and redirects.
    Page(Result<T, Rejection>),
    /// JSON: the flow or the envelope.
    Json(Result<T, Rejection>),
}

/// Reads a submission: a form must come from our own origin (CSRF), and a body that cannot be
/// read is a [`Rejection`] shown with the flow, not a bare error.
fn reply<T>(
    req: &HttpRequest,
    settings: &HttpSettings,
    body: Submission<T>,
) -> Result<Reply<T>, ApiError> {
    let is_form = body.is_form();
    let read = body.into_result().map_err(Rejection::from);
    if is_form {
        check_same_origin(req, &settings.public_base_url)?;
        Ok(Reply::Page(read))
    } else {
        Ok(Reply::Json(read))
    }
}

/// Why a submission was refused before it reached the use case: the message, and the field
/// it belongs to (none for the whole form).
struct Rejection {
    field: Option<&'static str>,
    message: UiText,
}

impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Self {
            field: None,
            message: texts::invalid(error.message()),
        }
    }
}

/// The value of a required field: absent or blank is refused, naming the field.
fn required(value: Option<String>, field: &'static str) -> Result<String, Rejection> {
    value
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| Rejection {
            field: Some(field),
            message: texts::required(field),
        })
}

/// The method a submission names, when it names one, must be the one the endpoint takes.
fn check_method(method: Option<&str>, expected: &str) -> Result<(), Rejection> {
    match method {
        None => Ok(()),
        Some(method) if method == expected => Ok(()),
        Some(other) => Err(Rejection {
            field: Some("method"),
            message: texts::invalid(format!(
                "\"method\" must be \"{expected}\", not \"{other}\"."
            )),
        }),
    }
}

/// A refused submission: 400 with the flow, its messages saying why (as Kratos).
fn refused(flow: &impl Serialize) -> HttpResponse {
    flow_body(
        HttpResponse::BadRequest()
            .insert_header(no_store())
            .json(flow),
    )
}
