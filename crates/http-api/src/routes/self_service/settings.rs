//! Settings: the new password after a recovery, its submission, and its page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use application::ports::Store;
use application::settings::SettingsError;
use domain::audit::Origin;
use domain::id::SettingsFlowId;
use domain::selfservice::SettingsState;
use domain::session::SessionToken;

use super::{EXPIRED_FLOW, NO_NAMED_FLOW, NO_SESSION, NO_SUCH_FLOW, UNREADABLE_ID};
use super::{FORM_DONE, SESSION_COOKIE, SESSION_TOKEN, refused, required};
use super::{Rejection, Reply, Settings, Svc, check_method, named_flow, public_url, redirect};
use crate::envelope::no_store;
use crate::errors::capitalize;
use crate::json::Submission;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::session_auth::session_token;
use crate::wire::continue_with::ContinueWith;
use crate::wire::error::ErrorGeneric;
use crate::wire::flows::{SettingsFlow, WithForm};
use crate::wire::identifier::IdentifierField;
use crate::wire::submissions::{FlowQuery, IdQuery, UpdateSettingsFlowWithPasswordMethod};
use crate::wire::texts;
use crate::{ApiError, HttpSettings, pages};

pub(super) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/self-service/settings/flows").route(web::get().to(get_flow::<S>)))
        .service(web::resource("/self-service/settings").route(web::post().to(submit::<S>)))
        .service(web::resource("/settings").route(web::get().to(page::<S>)));
}

fn require_token(req: &HttpRequest) -> Result<SessionToken, SettingsError> {
    session_token(req).ok_or(SettingsError::Unauthorized)
}

fn action(settings: &HttpSettings, flow_id: SettingsFlowId) -> String {
    public_url(settings, &format!("self-service/settings?flow={flow_id}"))
}

#[utoipa::path(
    get,
    path = "/self-service/settings/flows",
    operation_id = "getSettingsFlow",
    tag = "frontend",
    summary = "Get Settings Flow",
    description = "The settings flow a recovery opened, with its form: a new-password field. \
        Only for the session of the flow's identity.",
    params(
        IdQuery,
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    responses(
        (
            status = 200,
            description = "The flow.",
            body = SettingsFlow,
            links(("updateSettingsFlow" = (
                operation_id = "updateSettingsFlow",
                parameters(("flow" = "$response.body#/id")),
            ))),
        ),
        (status = 400, description = UNREADABLE_ID, body = ErrorGeneric),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (
            status = 403,
            description = "The flow belongs to another identity (id `security_identity_mismatch`).",
            body = ErrorGeneric,
        ),
        (status = 404, description = NO_SUCH_FLOW, body = ErrorGeneric),
        (status = 410, description = EXPIRED_FLOW, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn get_flow<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = require_token(&req)?;
    let (flow, _, identity) = service.settings_flow(query.id.into(), &token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(SettingsFlow::new(
            &flow,
            &identity,
            &settings.public_base_url,
        )))
}

/// The new password, or why the submission cannot be read.
fn password_of(
    body: Result<UpdateSettingsFlowWithPasswordMethod, Rejection>,
) -> Result<String, Rejection> {
    let body = body?;
    check_method(body.method.as_deref(), "password")?;
    required(body.password, "password")
}

#[utoipa::path(
    post,
    path = "/self-service/settings",
    operation_id = "updateSettingsFlow",
    tag = "frontend",
    summary = "Update Settings Flow",
    description = "Sets the new password (8 to 1024 characters, not the email address), within \
        selfservice.flows.settings.privileged_session_max_age of the recovery. Unless configured \
        otherwise, the identity's other sessions end. The built-in page posts the same fields \
        as a form, answered with pages and redirects.",
    params(
        FlowQuery,
        ("X-Session-Token" = Option<String>, Header, description = SESSION_TOKEN),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    request_body(content(
        (UpdateSettingsFlowWithPasswordMethod = "application/json"),
        (UpdateSettingsFlowWithPasswordMethod = "application/x-www-form-urlencoded"),
    )),
    responses(
        (
            status = 303,
            description = FORM_DONE,
            headers(("Location" = String, description = "The page the browser goes to next.")),
        ),
        (
            status = 200,
            description = "The password was saved: the flow, `success`, with message 1050001 \
                and, when the flow has a `return_to`, `continue_with` `redirect_browser_to`.",
            body = SettingsFlow,
        ),
        (
            status = 400,
            description = "The submission was refused: the flow, saying why in `ui.messages` or \
                the field's messages (the body cannot be read, `password` is missing or refused \
                by the policy: 4000005, `method` is not `password`, or the password was already \
                changed in this flow).",
            body = SettingsFlow,
        ),
        (status = 401, description = NO_SESSION, body = ErrorGeneric),
        (
            status = 403,
            description = "The flow belongs to another identity (id \
                `security_identity_mismatch`), or the session is too old to change the password \
                (id `session_refresh_required`).",
            body = ErrorGeneric,
        ),
        (status = 404, description = NO_NAMED_FLOW, body = ErrorGeneric),
        (status = 410, description = EXPIRED_FLOW, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn submit<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
    body: Submission<UpdateSettingsFlowWithPasswordMethod>,
) -> Result<HttpResponse, ApiError> {
    let flow_id: SettingsFlowId = named_flow(&query)?.into();
    match super::reply(&req, &settings, body)? {
        Reply::Json(body) => {
            let token = require_token(&req)?;
            let from = (token, origin(&req));
            submit_json(service, settings, flow_id, from, password_of(body)).await
        }
        Reply::Page(body) => match require_token(&req) {
            Ok(token) => {
                let from = (token, origin(&req));
                submit_form(service, settings, flow_id, from, password_of(body)).await
            }
            Err(_) => Ok(redirect(&public_url(&settings, "login")).finish()),
        },
    }
}

async fn submit_json<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: SettingsFlowId,
    (token, origin): (SessionToken, Origin),
    password: Result<String, Rejection>,
) -> Result<HttpResponse, ApiError> {
    let refuse = async |rejection: Rejection| {
        let (flow, _, identity) = service.settings_flow(flow_id, &token).await?;
        let flow = SettingsFlow::new(&flow, &identity, &settings.public_base_url);
        Ok::<_, ApiError>(refused(
            &flow.with_message(rejection.field, rejection.message),
        ))
    };
    let password = match password {
        Ok(password) => password,
        Err(rejection) => return refuse(rejection).await,
    };
    match service
        .set_new_password(flow_id, &token, password, &origin)
        .await
    {
        Ok((flow, identity)) => {
            let mut body = SettingsFlow::new(&flow, &identity, &settings.public_base_url)
                .with_message(None, texts::saved());
            if let Some(return_to) = &flow.return_to {
                body.continue_with.push(ContinueWith::RedirectBrowserTo {
                    redirect_browser_to: return_to.clone(),
                });
            }
            Ok(HttpResponse::Ok().insert_header(no_store()).json(body))
        }
        Err(SettingsError::InvalidPassword(error)) => {
            let message = texts::password_refused(&error.to_string());
            refuse(Rejection {
                field: Some("password"),
                message,
            })
            .await
        }
        Err(SettingsError::AlreadyDone) => {
            let message = texts::invalid("The password was already changed in this flow.");
            refuse(Rejection {
                field: None,
                message,
            })
            .await
        }
        Err(error) => Err(error.into()),
    }
}

async fn submit_form<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: SettingsFlowId,
    (token, origin): (SessionToken, Origin),
    password: Result<String, Rejection>,
) -> Result<HttpResponse, ApiError> {
    // The form again, saying what is wrong; a flow that cannot go on gets its own page.
    let form_again = async |message: String| match service.settings_flow(flow_id, &token).await {
        Ok((_, _, identity)) => Ok(pages::settings_form(
            &action(&settings, flow_id),
            identity.identifier.as_deref(),
            &IdentifierField::of(service.schemas()),
            Some((&message, true)),
        )),
        Err(SettingsError::Unauthorized) => Ok(redirect(&public_url(&settings, "login")).finish()),
        Err(error) => dead_end(error, &settings),
    };
    let password = match password {
        Ok(password) => password,
        Err(rejection) => return form_again(rejection.message.text).await,
    };
    match service
        .set_new_password(flow_id, &token, password, &origin)
        .await
    {
        Ok((flow, _)) => {
            let destination = flow
                .return_to
                .clone()
                .unwrap_or_else(|| settings.public_base_url.to_string());
            Ok(redirect(&destination).finish())
        }
        Err(SettingsError::InvalidPassword(error)) => {
            form_again(capitalize(&error.to_string())).await
        }
        Err(SettingsError::Unauthorized) => Ok(redirect(&public_url(&settings, "login")).finish()),
        Err(error) => dead_end(error, &settings),
    }
}

/// The page for a settings flow that cannot go on. A failing store is an error, answered and
/// logged as such.
fn dead_end(error: SettingsError, settings: &HttpSettings) -> Result<HttpResponse, ApiError> {
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
        SettingsError::Hashing(_) => pages::recovery_dead_end(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again in a moment",
            "Too many passwords are being checked right now.",
        ),
        _ => pages::recovery_dead_end(StatusCode::FORBIDDEN, "This page is not for you", &sign_in),
    })
}

/// The new-password page a recovery leads to.
#[utoipa::path(
    get,
    path = "/settings",
    operation_id = "showSettingsPage",
    tag = "pages",
    summary = "The New-Password Page",
    description = "The built-in page a recovery leads to, for the session's cookie. Not \
        Kratos's: Kratos sends browsers to a UI of its own.",
    params(
        ("flow" = Option<String>, Query, description = "The settings flow's id."),
        ("ory_kratos_session" = Option<String>, Cookie, description = SESSION_COOKIE),
    ),
    responses(
        (
            status = 200,
            description = "The new-password field; or the password was already changed.",
            content_type = "text/html",
            body = String,
        ),
        (
            status = 303,
            description = "No flow named (to the landing page) or no session (to sign in).",
            headers(("Location" = String, description = "The page the browser goes to next.")),
        ),
        (
            status = 403,
            description = "The flow has expired, is too old for the session, or belongs to \
                another identity: what to do next.",
            content_type = "text/html",
            body = String,
        ),
        (status = 503, response = Unavailable),
    ),
)]
async fn page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(flow_id) = query.flow.map(SettingsFlowId::from) else {
        return Ok(redirect(settings.public_base_url.as_str()).finish());
    };
    let Some(token) = session_token(&req) else {
        return Ok(redirect(&public_url(&settings, "login")).finish());
    };
    match service.settings_flow(flow_id, &token).await {
        Ok((flow, _, _)) if flow.state == SettingsState::Success => {
            dead_end(SettingsError::AlreadyDone, &settings)
        }
        Ok((flow, session, identity)) => {
            let minutes = (flow.expires_at - session.authenticated_at).num_minutes();
            let info = texts::recovered(minutes).text;
            Ok(pages::settings_form(
                &action(&settings, flow_id),
                identity.identifier.as_deref(),
                &IdentifierField::of(service.schemas()),
                Some((&info, false)),
            ))
        }
        Err(SettingsError::Unauthorized) => Ok(redirect(&public_url(&settings, "login")).finish()),
        Err(error) => dead_end(error, &settings),
    }
}
