//! The admin's view of sessions, Kratos shapes: an identity's sessions
//! (`/admin/identities/{id}/sessions`) and one session (`/admin/sessions/{id}`), each also
//! under `/iam/...`.

use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::ports::Store;
use application::sessions::SessionPageRequest;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::envelope::no_store;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::routes::paging;
use crate::wire::error::ErrorGeneric;
use crate::wire::session::AdminSession as Session;
use crate::{ApiError, HttpSettings};

const NO_SUCH_IDENTITY: &str = "No identity has this id (or it is not a UUID).";
const NO_SUCH_SESSION: &str = "No session has this id (or it is not a UUID).";
const BAD_PAGE: &str = "`page_size` is out of range, `page_token` is not one this service \
    returned, or the query cannot be read.";

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for prefix in super::with_iam_alias("/admin/identities") {
        cfg.service(
            web::resource(format!("{prefix}/{{id}}/sessions"))
                .route(web::get().to(list_identity_sessions::<S>))
                .route(web::delete().to(delete_identity_sessions::<S>)),
        );
    }
    for prefix in super::with_iam_alias("/admin/sessions") {
        cfg.service(
            web::resource(format!("{prefix}/{{id}}"))
                .route(web::get().to(get::<S>))
                .route(web::delete().to(disable::<S>)),
        );
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// How many sessions a page holds (250 by default).
    #[param(minimum = 1, maximum = 500)]
    pub(crate) page_size: Option<usize>,
    /// Where the page starts: a token from the `Link` header of the previous page.
    pub(crate) page_token: Option<String>,
    /// Only the active sessions (`true`) or only the others (`false`).
    active: Option<bool>,
}

/// A JSON array; the next page, when there is one, is in the `Link` header as Kratos does.
#[utoipa::path(
    get,
    path = "/admin/identities/{id}/sessions",
    operation_id = "listIdentitySessions",
    tag = "identity",
    summary = "List an Identity's Sessions",
    description = "The identity's sessions, active or not (`active` says which), oldest first, \
        each with its identity and the device that opened it.",
    params(("id" = Uuid, Path, description = "The identity's id."), ListQuery),
    responses(
        (
            status = 200,
            description = "A page of sessions.",
            body = Vec<Session>,
            headers((
                "Link" = String,
                description = "The first page (`rel=\"first\"`) and, when there is one, the next \
                    (`rel=\"next\"`), as absolute URLs."
            )),
        ),
        (status = 400, description = BAD_PAGE, body = ErrorGeneric),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn list_identity_sessions<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, identity) = service
        .identity_sessions(
            id.into_inner().into(),
            SessionPageRequest {
                page_size: query.page_size,
                page_token: query.page_token,
            },
            query.active,
        )
        .await?;
    let filters: Vec<(&str, String)> = query
        .active
        .map(|active| ("active", active.to_string()))
        .into_iter()
        .collect();
    let now = service.now();
    let body: Vec<Session> = page
        .sessions
        .iter()
        .map(|stored| Session::stored(stored, &identity, now, &settings.public_base_url))
        .collect();
    Ok(paging::respond(
        &settings.admin_base_url,
        &req,
        &paging::Page {
            page_size: page.page_size,
            next_page_token: page.next_page_token.as_deref(),
            filters: &filters,
        },
        &body,
    ))
}

/// Signs the identity out everywhere.
#[utoipa::path(
    delete,
    path = "/admin/identities/{id}/sessions",
    operation_id = "deleteIdentitySessions",
    tag = "identity",
    summary = "Revoke an Identity's Sessions",
    description = "Ends every active session of the identity: it is signed out everywhere. \
        Kratos deletes the sessions; here they are revoked, and purged with the hourly \
        housekeeping a day later.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn delete_identity_sessions<S: Store>(
    service: web::Data<Service<S>>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service
        .revoke_identity_sessions(id.into_inner().into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/admin/sessions/{id}",
    operation_id = "getSession",
    tag = "identity",
    summary = "Get a Session",
    description = "The session, active or not, with its identity and the device that opened \
        it (Kratos expands these on request; here they are always present).",
    params(("id" = Uuid, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The session.", body = Session),
        (status = 404, description = NO_SUCH_SESSION, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn get<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (stored, identity) = service.session(id.into_inner().into()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Session::stored(
            &stored,
            &identity,
            service.now(),
            &settings.public_base_url,
        )))
}

#[utoipa::path(
    delete,
    path = "/admin/sessions/{id}",
    operation_id = "disableSession",
    tag = "identity",
    summary = "Deactivate a Session",
    description = "Ends the session; it stays readable, inactive, until the housekeeping \
        purges it a day later.",
    params(("id" = Uuid, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "Deactivated (also when it already was)."),
        (status = 404, description = NO_SUCH_SESSION, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn disable<S: Store>(
    service: web::Data<Service<S>>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service
        .disable_session(id.into_inner().into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
