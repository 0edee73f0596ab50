//! The public self-service API (Kratos's shapes) and the built-in pages behind it: recovery,
//! settings, login, sessions. A browser form gets a page or a redirect; JSON gets JSON.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::hashing::{self, HashingError};
use application::login::LoginError;
use application::ports::Store;
use application::redemption::{FlowLookupError, SubmitCodeError};
use application::settings::SettingsError;
use domain::recovery::{FlowState, FlowType};
use domain::session::SessionToken;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::client_address::client_address;
use crate::csrf::check_same_origin;
use crate::envelope::no_store;
use crate::errors::{DISABLED, THROTTLED, TOO_MANY_ATTEMPTS, capitalize};
use crate::json::{JsonObject, Submission};
use crate::routes::views;
use crate::session_auth::{removal_cookie, session_cookie, session_token};
use crate::wait::Wait;
use crate::{ApiError, HttpSettings, pages};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/self-service/recovery/flows").route(web::get().to(get_recovery_flow::<S>)),
    )
    .service(web::resource("/self-service/recovery").route(web::post().to(submit_recovery::<S>)))
    .service(
        web::resource("/self-service/settings/flows").route(web::get().to(get_settings_flow::<S>)),
    )
    .service(web::resource("/self-service/settings").route(web::post().to(submit_settings::<S>)))
    .service(web::resource("/self-service/login/api").route(web::get().to(create_api_login::<S>)))
    .service(
        web::resource("/self-service/login/browser")
            .route(web::get().to(create_browser_login::<S>)),
    )
    .service(web::resource("/self-service/login/flows").route(web::get().to(get_login_flow::<S>)))
    .service(web::resource("/self-service/login").route(web::post().to(submit_login::<S>)))
    .service(web::resource("/sessions/whoami").route(web::get().to(whoami::<S>)))
    .service(web::resource("/self-service/logout/api").route(web::delete().to(logout_api::<S>)))
    .service(web::resource("/self-service/logout").route(web::post().to(logout_browser::<S>)))
    .service(web::resource("/recovery").route(web::get().to(recovery_page::<S>)))
    .service(web::resource("/settings").route(web::get().to(settings_page::<S>)))
    .service(web::resource("/login").route(web::get().to(login_page::<S>)))
    .service(web::resource("/").route(web::get().to(home_page::<S>)));
}

type Svc<S> = web::Data<Service<S>>;
type Settings = web::Data<HttpSettings>;

#[derive(Deserialize)]
struct FlowQuery {
    flow: Option<Uuid>,
}

#[derive(Deserialize)]
struct IdQuery {
    id: Uuid,
}

#[derive(Deserialize)]
struct ReturnToQuery {
    return_to: Option<String>,
}

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

fn required_flow(query: FlowQuery) -> Result<Uuid, ApiError> {
    query.flow.ok_or_else(|| {
        ApiError::bad_request("The \"flow\" query parameter is required")
            .with_reason("Open the link you were given; it carries the flow.")
    })
}

/// What every submission checks first: the flow it names, and that a browser form comes from
/// our own origin. Returns the flow, whether the body was a form, and the body.
fn open_submission<T>(
    req: &HttpRequest,
    settings: &HttpSettings,
    query: web::Query<FlowQuery>,
    body: Submission<T>,
) -> Result<(Uuid, bool, T), ApiError> {
    let flow_id = required_flow(query.into_inner())?;
    let is_form = body.is_form();
    if is_form {
        check_same_origin(req, &settings.public_base_url)?;
    }
    Ok((flow_id, is_form, body.into_inner()))
}

/// The method a form or JSON body names must be the one the endpoint takes.
fn check_method(method: Option<&str>, expected: &str) -> Result<(), ApiError> {
    match method {
        None => Ok(()),
        Some(method) if method == expected => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "\"method\" must be \"{expected}\", not \"{other}\""
        ))),
    }
}

// --- recovery ---------------------------------------------------------------------------------

async fn get_recovery_flow<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service.recovery_flow(query.id.into()).await?;
    Ok(HttpResponse::Ok().json(views::recovery_flow(
        &flow,
        service.code_length(),
        vec![],
        &settings,
    )))
}

#[derive(Deserialize)]
struct RecoverySubmission {
    method: Option<String>,
    code: String,
}

async fn submit_recovery<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
    body: Submission<RecoverySubmission>,
) -> Result<HttpResponse, ApiError> {
    let (flow_id, is_form, submission) = open_submission(&req, &settings, query, body)?;
    check_method(submission.method.as_deref(), "code")?;
    let code = submission.code.trim();
    let outcome = service.submit_recovery_code(flow_id.into(), code).await;
    let action = public_url(&settings, &format!("self-service/recovery?flow={flow_id}"));
    match outcome {
        Ok(recovered) => {
            let settings_url = public_url(
                &settings,
                &format!("settings?flow={}", recovered.settings.id),
            );
            let browser = recovered.settings.flow_type == FlowType::Browser;
            let cookie =
                session_cookie(&recovered.token, recovered.session.expires_at, settings.dev);
            if is_form {
                return Ok(redirect(&settings_url).cookie(cookie).finish());
            }
            let minutes = recovered.settings.expires_at - recovered.session.authenticated_at;
            let mut continue_with = Vec::new();
            if !browser {
                continue_with.push(json!({
                    "action": "set_ory_session_token",
                    "ory_session_token": recovered.token.expose(),
                }));
            }
            continue_with.push(json!({
                "action": "show_settings_ui",
                "flow": {"id": recovered.settings.id, "url": settings_url},
            }));
            let mut body = views::recovery_flow(
                &recovered.flow,
                service.code_length(),
                vec![views::text(
                    views::RECOVERED,
                    &views::recovered_text(minutes.num_minutes()),
                    "success",
                )],
                &settings,
            );
            body["continue_with"] = json!(continue_with);
            let mut response = HttpResponse::Ok();
            response.insert_header(no_store());
            if browser {
                response.cookie(cookie);
            }
            Ok(response.json(body))
        }
        Err(SubmitCodeError::InvalidCode(_)) if is_form => Ok(pages::recovery_form(
            &action,
            service.code_length(),
            Some(views::INVALID_CODE_TEXT),
        )),
        Err(SubmitCodeError::InvalidCode(flow)) => {
            Ok(HttpResponse::Ok().json(views::recovery_flow(
                &flow,
                service.code_length(),
                vec![views::text(
                    views::INVALID_CODE,
                    views::INVALID_CODE_TEXT,
                    "error",
                )],
                &settings,
            )))
        }
        Err(error) if is_form => Ok(recovery_dead_end(&error)),
        Err(error) => Err(error.into()),
    }
}

/// The page for a recovery that cannot go on, with the next step.
fn recovery_dead_end(error: &SubmitCodeError) -> HttpResponse {
    match error {
        SubmitCodeError::Flow(FlowLookupError::Expired(_)) => expired_recovery(),
        SubmitCodeError::Flow(FlowLookupError::NotFound(_)) => unknown_recovery(),
        SubmitCodeError::TooManyAttempts => pages::recovery_dead_end(
            StatusCode::BAD_REQUEST,
            "Too many attempts",
            TOO_MANY_ATTEMPTS,
        ),
        SubmitCodeError::IdentityDisabled => pages::recovery_dead_end(
            StatusCode::FORBIDDEN,
            "Account disabled",
            &format!("{DISABLED} Contact whoever gave you the code."),
        ),
        SubmitCodeError::InvalidCode(_)
        | SubmitCodeError::Flow(FlowLookupError::Store(_))
        | SubmitCodeError::Store(_) => pages::recovery_dead_end(
            StatusCode::SERVICE_UNAVAILABLE,
            "Something went wrong",
            "Please try again in a moment.",
        ),
    }
}

fn expired_recovery() -> HttpResponse {
    pages::recovery_dead_end(
        StatusCode::GONE,
        "This recovery link has expired",
        "Ask whoever gave you the code for a new one.",
    )
}

fn unknown_recovery() -> HttpResponse {
    pages::recovery_dead_end(
        StatusCode::NOT_FOUND,
        "This recovery link is not valid",
        "Open the exact link you were given, or ask for a new code.",
    )
}

async fn recovery_page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(flow_id) = query.flow else {
        return Ok(unknown_recovery());
    };
    match service.recovery_flow(flow_id.into()).await {
        Ok(flow) if flow.state == FlowState::PassedChallenge => Ok(pages::recovery_dead_end(
            StatusCode::OK,
            "This code was already used",
            "Your account was recovered with it. Sign in, or ask for a new code.",
        )),
        Ok(flow) if service.attempts_exhausted(&flow) => Ok(pages::recovery_dead_end(
            StatusCode::OK,
            "Too many attempts",
            TOO_MANY_ATTEMPTS,
        )),
        Ok(_) => Ok(pages::recovery_form(
            &public_url(&settings, &format!("self-service/recovery?flow={flow_id}")),
            service.code_length(),
            None,
        )),
        Err(FlowLookupError::Expired(_)) => Ok(expired_recovery()),
        Err(FlowLookupError::NotFound(_)) => Ok(unknown_recovery()),
        Err(error) => Err(error.into()),
    }
}

// --- settings ---------------------------------------------------------------------------------

fn require_token(req: &HttpRequest) -> Result<SessionToken, SettingsError> {
    session_token(req).ok_or(SettingsError::Unauthorized)
}

async fn get_settings_flow<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = require_token(&req)?;
    let (flow, _, identity) = service.settings_flow(query.id.into(), &token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(views::settings_flow(&flow, &identity, vec![], &settings)))
}

#[derive(Deserialize)]
struct SettingsSubmission {
    method: Option<String>,
    password: String,
}

async fn submit_settings<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
    body: Submission<SettingsSubmission>,
) -> Result<HttpResponse, ApiError> {
    let (flow_id, is_form, submission) = open_submission(&req, &settings, query, body)?;
    check_method(submission.method.as_deref(), "password")?;
    let token = match require_token(&req) {
        Ok(token) => token,
        Err(_) if is_form => return Ok(redirect(&public_url(&settings, "login")).finish()),
        Err(error) => return Err(error.into()),
    };
    let action = public_url(&settings, &format!("self-service/settings?flow={flow_id}"));
    match service
        .set_new_password(flow_id.into(), &token, submission.password)
        .await
    {
        Ok((flow, _)) if is_form => {
            let destination = flow
                .return_to
                .clone()
                .unwrap_or_else(|| settings.public_base_url.to_string());
            Ok(redirect(&destination).finish())
        }
        Ok((flow, identity)) => {
            let mut body = views::settings_flow(
                &flow,
                &identity,
                vec![views::text(views::SAVED, views::SAVED_TEXT, "success")],
                &settings,
            );
            if let Some(return_to) = &flow.return_to {
                body["continue_with"] =
                    json!([{"action": "redirect_browser_to", "redirect_browser_to": return_to}]);
            }
            Ok(HttpResponse::Ok().insert_header(no_store()).json(body))
        }
        Err(SettingsError::InvalidPassword(error)) if is_form => {
            let (_, _, identity) = service.settings_flow(flow_id.into(), &token).await?;
            let message = capitalize(&error.to_string());
            Ok(pages::settings_form(
                &action,
                identity.email(),
                Some((&message, true)),
            ))
        }
        Err(SettingsError::Unauthorized) if is_form => {
            Ok(redirect(&public_url(&settings, "login")).finish())
        }
        Err(error) if is_form => settings_dead_end(error, &settings),
        Err(error) => Err(error.into()),
    }
}

/// The page for a settings flow that cannot go on. A failing store is an error, answered and
/// logged as such.
fn settings_dead_end(
    error: SettingsError,
    settings: &HttpSettings,
) -> Result<HttpResponse, ApiError> {
    let sign_in = format!(
        "Sign in at {}login, or ask for a new recovery code.",
        settings.public_base_url
    );
    Ok(match error {
        SettingsError::Expired(_) | SettingsError::PrivilegeExpired => pages::recovery_dead_end(
            StatusCode::FORBIDDEN,
            "This page has expired",
            &format!("For your safety a new password must be set soon after recovery. {sign_in}"),
        ),
        SettingsError::AlreadyDone => pages::recovery_dead_end(
            StatusCode::OK,
            "Your password was already changed",
            "Sign in with your new password.",
        ),
        SettingsError::Store(error) => return Err(error.into()),
        _ => pages::recovery_dead_end(StatusCode::FORBIDDEN, "This page is not for you", &sign_in),
    })
}

async fn settings_page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(flow_id) = query.flow else {
        return Ok(redirect(settings.public_base_url.as_str()).finish());
    };
    let Some(token) = session_token(&req) else {
        return Ok(redirect(&public_url(&settings, "login")).finish());
    };
    match service.settings_flow(flow_id.into(), &token).await {
        Ok((flow, session, identity)) => {
            if flow.state == domain::selfservice::SettingsState::Success {
                return settings_dead_end(SettingsError::AlreadyDone, &settings);
            }
            let minutes = (flow.expires_at - session.authenticated_at).num_minutes();
            let info = views::recovered_text(minutes);
            Ok(pages::settings_form(
                &public_url(&settings, &format!("self-service/settings?flow={flow_id}")),
                identity.email(),
                Some((&info, false)),
            ))
        }
        Err(SettingsError::Unauthorized) => Ok(redirect(&public_url(&settings, "login")).finish()),
        Err(error) => settings_dead_end(error, &settings),
    }
}

// --- login ------------------------------------------------------------------------------------

async fn create_api_login<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<ReturnToQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service
        .create_login_flow(FlowType::Api, query.return_to.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(views::login_flow(&flow, vec![], &settings)))
}

async fn create_browser_login<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<ReturnToQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service
        .create_login_flow(FlowType::Browser, query.return_to.as_deref())
        .await?;
    Ok(redirect(&public_url(&settings, &format!("login?flow={}", flow.id))).finish())
}

async fn get_login_flow<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service.login_flow(query.id.into()).await?;
    Ok(HttpResponse::Ok().json(views::login_flow(&flow, vec![], &settings)))
}

#[derive(Deserialize)]
struct LoginSubmission {
    method: Option<String>,
    identifier: String,
    password: String,
}

async fn submit_login<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
    body: Submission<LoginSubmission>,
) -> Result<HttpResponse, ApiError> {
    let (flow_id, is_form, submission) = open_submission(&req, &settings, query, body)?;
    check_method(submission.method.as_deref(), "password")?;
    let action = public_url(&settings, &format!("self-service/login?flow={flow_id}"));
    match service
        .log_in(
            flow_id.into(),
            &submission.identifier,
            submission.password,
            client_address(&req),
        )
        .await
    {
        Ok(signed_in) => {
            let cookie =
                session_cookie(&signed_in.token, signed_in.session.expires_at, settings.dev);
            if is_form {
                let destination = signed_in
                    .flow
                    .return_to
                    .clone()
                    .unwrap_or_else(|| settings.public_base_url.to_string());
                return Ok(redirect(&destination).cookie(cookie).finish());
            }
            let session = views::session(&signed_in.session, &signed_in.identity, &settings);
            let mut response = HttpResponse::Ok();
            response.insert_header(no_store());
            if signed_in.flow.flow_type == FlowType::Browser {
                response.cookie(cookie);
                Ok(response.json(json!({"session": session})))
            } else {
                Ok(response.json(json!({
                    "session": session,
                    "session_token": signed_in.token.expose(),
                })))
            }
        }
        Err(LoginError::InvalidCredentials | LoginError::Disabled) if is_form => {
            Ok(pages::login_form(
                &action,
                &submission.identifier,
                Some((views::INVALID_CREDENTIALS_TEXT, true)),
            ))
        }
        Err(LoginError::FlowExpired(_) | LoginError::FlowNotFound(_)) if is_form => {
            Ok(redirect(&public_url(&settings, "self-service/login/browser")).finish())
        }
        Err(LoginError::Throttled { wait }) if is_form => {
            let wait = Wait::new(wait);
            let message = format!(
                "{THROTTLED}: try again in {}, or ask for a recovery code.",
                wait.in_words()
            );
            Ok(login_form_to_retry(
                &action,
                &submission.identifier,
                &message,
                StatusCode::TOO_MANY_REQUESTS,
                wait,
            ))
        }
        Err(LoginError::Hashing(HashingError::Busy)) if is_form => Ok(login_form_to_retry(
            &action,
            &submission.identifier,
            "Too many sign-ins are being checked right now: please try again in a moment.",
            StatusCode::SERVICE_UNAVAILABLE,
            Wait::new(hashing::RETRY_AFTER),
        )),
        Err(error) => Err(error.into()),
    }
}

/// The sign-in form again, saying why and how long to wait (also as `Retry-After`).
fn login_form_to_retry(
    action: &str,
    identifier: &str,
    message: &str,
    status: StatusCode,
    wait: Wait,
) -> HttpResponse {
    let mut page = pages::login_form(action, identifier, Some((message, true)));
    *page.status_mut() = status;
    let (name, value) = wait.header();
    page.headers_mut().insert(name, value);
    page
}

async fn login_page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<LoginPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let Some(flow_id) = query.flow else {
        let flow = service
            .create_login_flow(FlowType::Browser, query.return_to.as_deref())
            .await?;
        return Ok(redirect(&public_url(&settings, &format!("login?flow={}", flow.id))).finish());
    };
    match service.login_flow(flow_id.into()).await {
        Ok(_) => Ok(pages::login_form(
            &public_url(&settings, &format!("self-service/login?flow={flow_id}")),
            "",
            None,
        )),
        Err(LoginError::FlowExpired(_) | LoginError::FlowNotFound(_)) => {
            Ok(redirect(&public_url(&settings, "login")).finish())
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
struct LoginPageQuery {
    flow: Option<Uuid>,
    return_to: Option<String>,
}

// --- sessions ---------------------------------------------------------------------------------

async fn whoami<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = session_token(&req).ok_or(application::sessions::SessionError::Unauthorized)?;
    let (session, identity) = service.whoami(&token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(views::session(&session, &identity, &settings)))
}

#[derive(Deserialize)]
struct LogoutBody {
    session_token: String,
}

async fn logout_api<S: Store>(
    service: Svc<S>,
    body: JsonObject<LogoutBody>,
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
            Ok(()) | Err(application::sessions::SessionError::Unauthorized) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(redirect(&public_url(&settings, "login"))
        .cookie(removal_cookie())
        .finish())
}

async fn home_page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let signed_in = match session_token(&req) {
        Some(token) => match service.whoami(&token).await {
            Ok(signed_in) => Some(signed_in),
            Err(application::sessions::SessionError::Unauthorized) => None,
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
