//! Sessions: `whoami`, signing out (API and browser), and the landing page.

use actix_web::{HttpRequest, HttpResponse, web};
use application::ports::Store;
use application::sessions::SessionError;
use domain::session::SessionToken;

use super::{Settings, Svc, public_url, redirect};
use crate::csrf::check_same_origin;
use crate::envelope::no_store;
use crate::json::JsonObject;
use crate::session_auth::{removal_cookie, session_token};
use crate::wire::session::Session;
use crate::wire::submissions::PerformNativeLogoutBody;
use crate::{ApiError, pages};

pub(super) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sessions/whoami").route(web::get().to(whoami::<S>)))
        .service(web::resource("/self-service/logout/api").route(web::delete().to(logout_api::<S>)))
        .service(web::resource("/self-service/logout").route(web::post().to(logout_browser::<S>)))
        .service(web::resource("/").route(web::get().to(home_page::<S>)));
}

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

async fn logout_api<S: Store>(
    service: Svc<S>,
    body: JsonObject<PerformNativeLogoutBody>,
) -> Result<HttpResponse, ApiError> {
    service
        .log_out(&SessionToken::from_client(&body.0.session_token))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout_browser<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check_same_origin(&req, &settings.public_base_url)?;
    if let Some(token) = session_token(&req) {
        // Signing out of a session that already ended is still signing out.
        match service.log_out(&token).await {
            Ok(()) | Err(SessionError::Unauthorized) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(redirect(&public_url(&settings, "login"))
        .cookie(removal_cookie())
        .finish())
}

/// Who is signed in, and the way out.
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
    let email = signed_in
        .as_ref()
        .and_then(|(_, identity)| identity.email())
        .map(str::to_owned);
    Ok(pages::home(
        email.as_deref(),
        &public_url(&settings, "self-service/logout"),
        &public_url(&settings, "login"),
    ))
}
