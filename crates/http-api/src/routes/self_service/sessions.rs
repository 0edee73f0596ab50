//! Sessions: `whoami`, the caller's other sessions, signing out (API and browser), and the
//! landing page.

use actix_web::{HttpRequest, HttpResponse, web};
use application::ports::Store;
use application::sessions::{SessionError, SessionPageRequest, SessionsError};
use domain::session::SessionToken;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{NO_SESSION, SESSION_COOKIE, SESSION_TOKEN, Settings, Svc, public_url, redirect};
use crate::csrf::check_same_origin;
use crate::envelope::no_store;
use crate::json::JsonObject;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::routes::paging;
use crate::session_auth::{removal_cookie, session_token};
use crate::wire::error::ErrorGeneric;
use crate::wire::session::{DeleteMySessionsCount, Session};
use crate::wire::submissions::PerformNativeLogoutBody;
use crate::{ApiError, pages};

pub(super) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sessions/whoami").route(web::get().to(whoami::<S>)))
        .service(
            web::resource("/sessions")
                .route(web::get().to(list_mine::<S>))
                .route(web::delete().to(disable_my_others::<S>)),
        )
        .service(web::resource("/sessions/{id}").route(web::delete().to(disable_mine::<S>)))
        .service(web::resource("/self-service/logout/api").route(web::delete().to(logout_api::<S>)))
        .service(web::resource("/self-service/logout").route(web::post().to(logout_browser::<S>)))
        .service(web::resource("/").route(web::get().to(home_page::<S>)));
}

#[utoipa::path(
    get,
    path = "/sessions/whoami",
    operation_id = "toSession",
    tag = "frontend",
    summary = "Check Who the Current HTTP Session Belongs To",
    description = "The session of the cookie, `X-Session-Token` or `Authorization: Bearer`. A \
        gateway can authenticate requests with it.",
    params(
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    responses(
        (status = 200, description = "The session, with its identity.", body = Session),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn whoami<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = session_token(&req).ok_or(SessionError::Unauthorized)?;
    let (session, identity) = service.whoami(&token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Session::new(&session, &identity, &settings.public_base_url)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MineQuery {
    /// How many sessions a page holds (250 by default).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<usize>,
    /// Where the page starts: a token from the `Link` header of the previous page.
    page_token: Option<String>,
}

/// A JSON array; the next page, when there is one, is in the `Link` header as Kratos does.
#[utoipa::path(
    get,
    path = "/sessions",
    operation_id = "listMySessions",
    tag = "frontend",
    summary = "Get My Active Sessions",
    description = "The other active sessions of the caller's identity, oldest first; the \
        current one is at /sessions/whoami.",
    params(
        MineQuery,
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
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
        (
            status = 400,
            description = "`page_size` is out of range, `page_token` is not one this service \
                returned, or the query cannot be read.",
            body = ErrorGeneric,
        ),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn list_mine<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<MineQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = session_token(&req).ok_or(SessionsError::Unauthorized)?;
    let query = query.into_inner();
    let (page, identity) = service
        .my_other_sessions(
            &token,
            SessionPageRequest {
                page_size: query.page_size,
                page_token: query.page_token,
            },
        )
        .await?;
    let now = service.now();
    let body: Vec<Session> = page
        .sessions
        .iter()
        .map(|stored| Session::stored(stored, &identity, now, &settings.public_base_url))
        .collect();
    Ok(paging::respond(
        &settings.public_base_url,
        &req,
        &paging::Page {
            page_size: page.page_size,
            next_page_token: page.next_page_token.as_deref(),
            filters: &[],
        },
        &body,
    ))
}

#[utoipa::path(
    delete,
    path = "/sessions/{id}",
    operation_id = "disableMySession",
    tag = "frontend",
    summary = "Disable One of My Sessions",
    description = "Ends one of the caller's other sessions. The current one cannot be ended \
        here: signing out does.",
    params(
        ("id" = Uuid, Path, description = "The session's id."),
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    responses(
        (status = 204, description = "Ended (also when it already was)."),
        (
            status = 400,
            description = "It is the current session (id `session_cannot_delete_current`).",
            body = ErrorGeneric,
        ),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (
            status = 404,
            description = "None of the caller's sessions has this id (or it is not a UUID).",
            body = ErrorGeneric,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn disable_mine<S: Store>(
    service: Svc<S>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let token = session_token(&req).ok_or(SessionsError::Unauthorized)?;
    service
        .disable_my_session(&token, id.into_inner().into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete,
    path = "/sessions",
    operation_id = "disableMyOtherSessions",
    tag = "frontend",
    summary = "Disable My Other Sessions",
    description = "Ends every other active session of the caller's identity; the current one \
        stays.",
    params(
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    responses(
        (status = 200, description = "How many sessions ended.", body = DeleteMySessionsCount),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn disable_my_others<S: Store>(
    service: Svc<S>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = session_token(&req).ok_or(SessionsError::Unauthorized)?;
    let count = service
        .disable_my_other_sessions(&token, &origin(&req))
        .await?;
    Ok(HttpResponse::Ok().json(DeleteMySessionsCount {
        count: u64::try_from(count).unwrap_or(u64::MAX),
    }))
}

#[utoipa::path(
    delete,
    path = "/self-service/logout/api",
    operation_id = "performNativeLogout",
    tag = "frontend",
    summary = "Perform Logout for Native Apps",
    description = "Ends the session whose token is given.",
    request_body = PerformNativeLogoutBody,
    responses(
        (status = 204, description = "Signed out."),
        (status = 400, description = "The body is not a JSON object of this shape.", body = ErrorGeneric),
        (
            status = 401,
            description = "No session has this token, or it already ended (id `session_inactive`).",
            body = ErrorGeneric,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn logout_api<S: Store>(
    service: Svc<S>,
    req: HttpRequest,
    body: JsonObject<PerformNativeLogoutBody>,
) -> Result<HttpResponse, ApiError> {
    service
        .log_out(
            &SessionToken::from_client(&body.0.session_token),
            &origin(&req),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/self-service/logout",
    operation_id = "performBrowserLogout",
    tag = "frontend",
    summary = "Perform Logout for Browsers",
    description = "Ends the session of the cookie, if any, and sends the browser to the sign-in \
        page: the form of the built-in landing page. Our own: Kratos signs browsers out with \
        GET /self-service/logout and a logout token (updateLogoutFlow). Accepted only from the \
        public origin (`Origin`, else `Referer`).",
    params(
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
        (
            "Origin" = Option<String>,
            Header,
            description = "Must be the origin of serve.public.base_url, as browsers send it.",
        ),
    ),
    responses(
        (
            status = 303,
            description = "Signed out.",
            headers(
                ("Location" = String, description = "The sign-in page, `<serve.public.base_url>login`."),
                ("Set-Cookie" = String, description = "Removes the session cookie."),
            ),
        ),
        (
            status = 403,
            description = "`Origin` (or `Referer`) is not the public origin (id \
                `security_csrf_violation`).",
            body = ErrorGeneric,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn logout_browser<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check_same_origin(&req, &settings.public_base_url)?;
    if let Some(token) = session_token(&req) {
        // Signing out of a session that already ended is still signing out.
        match service.log_out(&token, &origin(&req)).await {
            Ok(()) | Err(SessionError::Unauthorized) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(redirect(&public_url(&settings, "login"))
        .cookie(removal_cookie())
        .finish())
}

/// Who is signed in, and the way out.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "showLandingPage",
    tag = "pages",
    summary = "The Landing Page",
    description = "The built-in landing page: who the session's cookie signs in, and a form to \
        sign out.",
    params(("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE)),
    responses(
        (status = 200, description = "Who is signed in, if anyone.", content_type = "text/html", body = String),
        (status = 503, response = Unavailable),
    ),
)]
async fn home_page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let signed_in = match session_token(&req) {
        Some(token) => match service.whoami(&token).await {
            Ok(signed_in) => Some(signed_in),
            Err(SessionError::Unauthorized) => None,
            Err(error) => return Err(error.into()),
        },
        None => None,
    };
    let identifier = signed_in
        .as_ref()
        .and_then(|(_, identity)| identity.identifier.as_deref());
    Ok(pages::home(
        identifier,
        &public_url(&settings, "self-service/logout"),
        &public_url(&settings, "login"),
    ))
}
