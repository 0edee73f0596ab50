//! Our OpenAPI documents, one per listener: generated from the handlers' annotations and the
//! wire types, completed by the rules whole classes of operations share (see [`rules`]), and
//! served at [`PATH`] on each listener. `docs/openapi-admin.json` and
//! `docs/openapi-public.json` are the checked-in copies.
//!
//! Neither names a server: the operations' paths are relative to wherever the listener is
//! reached, so the documents are the same on every deployment.

mod responses;
mod rules;

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

pub(crate) use responses::Unavailable;
use rules::{AdminRules, PublicRules};

use crate::routes;
use crate::wire::error::ErrorGeneric;

/// Where each listener serves its document.
pub(crate) const PATH: &str = "/.well-known/openapi.json";

/// What both documents say about every operation.
const OVERVIEW: &str = "Ory Kratos's API for account recovery, with Kratos's paths, operation ids \
and shapes, so that clients written for Kratos work unchanged; where this service differs \
from Kratos, the operation or response says so.\n\n\
Every non-2xx answer is the `errorGeneric` envelope, except a refused self-service submission, \
which answers 400 with the flow itself, as Kratos. Besides the statuses listed per operation, \
any path answers 404 to a request no route matches and 405 to a method it does not list, \
both with the envelope. Every response carries `X-Request-Id` (the caller's, when sane, or a \
new UUID), echoed in the envelope's `error.request`.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "iam-recovery admin API",
        description = "The admin listener (by default 127.0.0.1:4434): identities, their \
            sign-in lockout, recovery codes and health. Each `/admin/...` path is also served \
            under `/iam/...`, with the operation id prefixed `iam`.",
    ),
    paths(
        routes::health::alive,
        routes::health::ready,
        document,
        routes::recovery_codes::create,
        routes::identities::list,
        routes::identities::create,
        routes::identities::get,
        routes::identities::delete,
        routes::identities::get_lockout,
        routes::identities::clear_lockout,
    ),
    components(schemas(ErrorGeneric), responses(Unavailable)),
    modifiers(&AdminRules, &Overview),
    tags(
        (name = "identity", description = "Identities and their recovery codes."),
        (name = "metadata", description = "Health and this document."),
    ),
)]
struct AdminApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "iam-recovery public API",
        description = "The public listener (by default 0.0.0.0:4433): the self-service \
            recovery, settings and login flows, sessions, identity schemas and health. The \
            built-in HTML pages (`/recovery`, `/settings`, `/login`, `/`) and the browser form \
            posts they send are left out: they answer people, not programs.",
    ),
    paths(
        routes::health::alive,
        routes::health::ready,
        document,
        routes::schemas::get,
        routes::self_service::recovery::get_flow,
        routes::self_service::recovery::submit,
        routes::self_service::settings::get_flow,
        routes::self_service::settings::submit,
        routes::self_service::login::create_api,
        routes::self_service::login::create_browser,
        routes::self_service::login::get_flow,
        routes::self_service::login::submit,
        routes::self_service::sessions::whoami,
        routes::self_service::sessions::logout_api,
        routes::self_service::sessions::logout_browser,
    ),
    components(schemas(ErrorGeneric), responses(Unavailable)),
    modifiers(&PublicRules, &Overview),
    tags(
        (name = "frontend", description = "The self-service flows and sessions."),
        (name = "identity", description = "Identity schemas."),
        (name = "metadata", description = "Health and this document."),
    ),
)]
struct PublicApi;

/// Puts [`OVERVIEW`] after each document's own description.
struct Overview;

impl utoipa::Modify for Overview {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let own = openapi.info.description.take().unwrap_or_default();
        openapi.info.description = Some(format!("{own}\n\n{OVERVIEW}"));
    }
}

/// The admin listener's document.
pub(crate) fn admin() -> utoipa::openapi::OpenApi {
    AdminApi::openapi()
}

/// The public listener's document.
pub(crate) fn public() -> utoipa::openapi::OpenApi {
    PublicApi::openapi()
}

/// A document as served: built and written once.
pub(crate) struct Served(LazyLock<String>);

fn to_json(document: &utoipa::openapi::OpenApi) -> String {
    serde_json::to_string(document).unwrap_or_default()
}

pub(crate) static ADMIN: Served = Served(LazyLock::new(|| to_json(&admin())));
pub(crate) static PUBLIC: Served = Served(LazyLock::new(|| to_json(&public())));

/// Serves `served` at [`PATH`].
pub(crate) fn configure(cfg: &mut web::ServiceConfig, served: &'static Served) {
    cfg.service(
        web::resource(PATH)
            .app_data(web::Data::from(std::sync::Arc::new(served)))
            .route(web::get().to(document)),
    );
}

#[utoipa::path(
    get,
    path = PATH,
    operation_id = "getOpenApiDocument",
    tag = "metadata",
    summary = "This Document",
    description = "This listener's OpenAPI document. Open to every caller, like health: it \
        holds no secret, and tools read it before they authenticate.",
    responses((status = 200, description = "The OpenAPI document.", body = Object)),
)]
async fn document(served: web::Data<&'static Served>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(served.0.as_str())
}
