//! Recovery: the flow an operator's code opened, the code's submission, and its page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use application::ports::Store;
use application::redemption::{FlowLookupError, Recovered, SubmitCodeError};
use domain::audit::Origin;
use domain::id::RecoveryFlowId;
use domain::recovery::{FlowState, FlowType};
use domain::session::Device;

use super::FORM_DONE;
use super::{DISABLED_IDENTITY, EXPIRED_FLOW, NO_NAMED_FLOW, NO_SUCH_FLOW, UNREADABLE_ID};
use super::{Rejection, Reply, Settings, Svc, check_method, named_flow, public_url, redirect};
use super::{refused, required};
use crate::device::device;
use crate::envelope::no_store;
use crate::errors::DISABLED;
use crate::json::Submission;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::session_auth::session_cookie;
use crate::wire::continue_with::{ContinueWith, SettingsUiFlow};
use crate::wire::error::ErrorGeneric;
use crate::wire::flows::{RecoveryFlow, WithForm};
use crate::wire::submissions::{FlowQuery, IdQuery, UpdateRecoveryFlowWithCodeMethod};
use crate::wire::texts;
use crate::{ApiError, HttpSettings, pages};

pub(super) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/self-service/recovery/flows").route(web::get().to(get_flow::<S>)))
        .service(web::resource("/self-service/recovery").route(web::post().to(submit::<S>)))
        .service(web::resource("/recovery").route(web::get().to(page::<S>)));
}

fn wire_flow<S: Store>(
    service: &Svc<S>,
    settings: &HttpSettings,
    flow: &domain::recovery::RecoveryFlow,
) -> RecoveryFlow {
    RecoveryFlow::new(flow, service.code_length(), &settings.public_base_url)
}

fn action(settings: &HttpSettings, flow_id: RecoveryFlowId) -> String {
    public_url(settings, &format!("self-service/recovery?flow={flow_id}"))
}

#[utoipa::path(
    get,
    path = "/self-service/recovery/flows",
    operation_id = "getRecoveryFlow",
    tag = "frontend",
    summary = "Get Recovery Flow",
    description = "The recovery flow an admin's recovery code opened, with its form: an empty, \
        required `code` field.",
    params(IdQuery),
    responses(
        (
            status = 200,
            description = "The flow.",
            body = RecoveryFlow,
            links(("updateRecoveryFlow" = (
                operation_id = "updateRecoveryFlow",
                parameters(("flow" = "$response.body#/id")),
            ))),
        ),
        (status = 400, description = UNREADABLE_ID, body = ErrorGeneric),
        (status = 404, description = NO_SUCH_FLOW, body = ErrorGeneric),
        (status = 410, description = EXPIRED_FLOW, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn get_flow<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service.recovery_flow(query.id.into()).await?;
    Ok(HttpResponse::Ok().json(wire_flow(&service, &settings, &flow)))
}

/// The code, or why the submission cannot be read.
fn code_of(body: Result<UpdateRecoveryFlowWithCodeMethod, Rejection>) -> Result<String, Rejection> {
    let body = body?;
    check_method(body.method.as_deref(), "code")?;
    Ok(required(body.code, "code")?.trim().to_owned())
}

#[utoipa::path(
    post,
    path = "/self-service/recovery",
    operation_id = "updateRecoveryFlow",
    tag = "frontend",
    summary = "Update Recovery Flow",
    description = "Redeems the recovery code. Every submission counts: past \
        selfservice.methods.code.config.max_submissions the flow is dead. The built-in page \
        posts the same fields as a form, answered with pages and redirects.",
    params(FlowQuery),
    request_body(content(
        (UpdateRecoveryFlowWithCodeMethod = "application/json"),
        (UpdateRecoveryFlowWithCodeMethod = "application/x-www-form-urlencoded"),
    )),
    responses(
        (
            status = 303,
            description = FORM_DONE,
            headers(("Location" = String, description = "The page the browser goes to next.")),
        ),
        (
            status = 200,
            description = "The code was right: the flow, `passed_challenge`, signs the identity \
                in; its `continue_with` holds the session token for an API flow \
                (`set_ory_session_token`) and the settings flow where the new password is set \
                (`show_settings_ui`). Or the code was wrong, used or revoked: the flow again, \
                with message 4060006, for another try.",
            body = RecoveryFlow,
            headers(("Set-Cookie" = String, description = "For a browser flow: the session cookie \
                `ory_kratos_session` (HttpOnly, SameSite=Lax, Secure outside dev mode).")),
        ),
        (
            status = 400,
            description = "The submission was refused: the flow, saying why in `ui.messages` or \
                the field's messages (the body cannot be read, `code` is missing, `method` is \
                not `code`, or the flow took too many submissions: 4060007).",
            body = RecoveryFlow,
        ),
        (status = 403, description = DISABLED_IDENTITY, body = ErrorGeneric),
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
    body: Submission<UpdateRecoveryFlowWithCodeMethod>,
) -> Result<HttpResponse, ApiError> {
    let flow_id: RecoveryFlowId = named_flow(&query)?.into();
    let from = (device(&req), origin(&req));
    match super::reply(&req, &settings, body)? {
        Reply::Json(body) => submit_json(service, settings, flow_id, from, code_of(body)).await,
        Reply::Page(body) => Ok(submit_form(service, settings, flow_id, from, code_of(body)).await),
    }
}

async fn submit_json<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: RecoveryFlowId,
    (device, origin): (Device, Origin),
    code: Result<String, Rejection>,
) -> Result<HttpResponse, ApiError> {
    let code = match code {
        Ok(code) => code,
        Err(rejection) => {
            let flow = service.recovery_flow(flow_id).await?;
            let flow = wire_flow(&service, &settings, &flow);
            return Ok(refused(
                &flow.with_message(rejection.field, rejection.message),
            ));
        }
    };
    match service
        .submit_recovery_code(flow_id, &code, device, &origin)
        .await
    {
        Ok(recovered) => Ok(recovered_json(&service, &settings, &recovered)),
        // As Kratos: a wrong code answers the flow, saying so, for another try.
        Err(SubmitCodeError::InvalidCode(flow)) => Ok(HttpResponse::Ok()
            .json(wire_flow(&service, &settings, &flow).with_message(None, texts::invalid_code()))),
        Err(SubmitCodeError::TooManyAttempts) => {
            let flow = service.recovery_flow(flow_id).await?;
            let flow = wire_flow(&service, &settings, &flow);
            Ok(refused(
                &flow.with_message(None, texts::too_many_attempts()),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

/// The recovered flow, passing on to the settings flow; API clients get their session token,
/// browsers a cookie.
fn recovered_json<S: Store>(
    service: &Svc<S>,
    settings: &HttpSettings,
    recovered: &Recovered,
) -> HttpResponse {
    let browser = recovered.settings.flow_type == FlowType::Browser;
    let minutes =
        (recovered.settings.expires_at - recovered.session.authenticated_at).num_minutes();
    let mut flow =
        wire_flow(service, settings, &recovered.flow).with_message(None, texts::recovered(minutes));
    if !browser {
        flow.continue_with.push(ContinueWith::SetOrySessionToken {
            ory_session_token: recovered.token.expose().to_owned(),
        });
    }
    flow.continue_with.push(ContinueWith::ShowSettingsUi {
        flow: SettingsUiFlow {
            id: recovered.settings.id.into(),
            url: settings_page(settings, recovered),
        },
    });
    let mut response = HttpResponse::Ok();
    response.insert_header(no_store());
    if browser {
        response.cookie(session_cookie(
            &recovered.token,
            recovered.session.expires_at,
            settings.dev,
        ));
    }
    response.json(flow)
}

fn settings_page(settings: &HttpSettings, recovered: &Recovered) -> String {
    public_url(
        settings,
        &format!("settings?flow={}", recovered.settings.id),
    )
}

async fn submit_form<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: RecoveryFlowId,
    (device, origin): (Device, Origin),
    code: Result<String, Rejection>,
) -> HttpResponse {
    let action = action(&settings, flow_id);
    let code = match code {
        Ok(code) => code,
        // The form again, saying what is wrong, while the flow can still take a code.
        Err(rejection) => {
            return match service.recovery_flow(flow_id).await {
                Ok(flow)
                    if flow.state == FlowState::SentEmail && !service.attempts_exhausted(&flow) =>
                {
                    pages::recovery_form(
                        &action,
                        service.code_length(),
                        Some(&rejection.message.text),
                    )
                }
                Ok(flow) => used_or_exhausted(&flow),
                Err(error) => dead_end(&SubmitCodeError::Flow(error)),
            };
        }
    };
    match service
        .submit_recovery_code(flow_id, &code, device, &origin)
        .await
    {
        Ok(recovered) => {
            let cookie =
                session_cookie(&recovered.token, recovered.session.expires_at, settings.dev);
            redirect(&settings_page(&settings, &recovered))
                .cookie(cookie)
                .finish()
        }
        Err(SubmitCodeError::InvalidCode(_)) => {
            pages::recovery_form(&action, service.code_length(), Some(texts::INVALID_CODE))
        }
        Err(error) => dead_end(&error),
    }
}

/// The page for a recovery that cannot go on, with the next step.
fn dead_end(error: &SubmitCodeError) -> HttpResponse {
    match error {
        SubmitCodeError::Flow(FlowLookupError::Expired(_)) => expired(),
        SubmitCodeError::Flow(FlowLookupError::NotFound(_)) => unknown(),
        SubmitCodeError::TooManyAttempts => pages::recovery_dead_end(
            StatusCode::BAD_REQUEST,
            "Too many attempts",
            texts::TOO_MANY_ATTEMPTS,
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

/// The page for a flow whose code was used, or that took too many submissions.
fn used_or_exhausted(flow: &domain::recovery::RecoveryFlow) -> HttpResponse {
    if flow.state == FlowState::PassedChallenge {
        pages::recovery_dead_end(
            StatusCode::OK,
            "This code was already used",
            "Your account was recovered with it. Sign in, or ask for a new code.",
        )
    } else {
        pages::recovery_dead_end(
            StatusCode::OK,
            "Too many attempts",
            texts::TOO_MANY_ATTEMPTS,
        )
    }
}

fn expired() -> HttpResponse {
    pages::recovery_dead_end(
        StatusCode::GONE,
        "This recovery link has expired",
        "Ask whoever gave you the code for a new one.",
    )
}

fn unknown() -> HttpResponse {
    pages::recovery_dead_end(
        StatusCode::NOT_FOUND,
        "This recovery link is not valid",
        "Open the exact link you were given, or ask for a new code.",
    )
}

/// The code-entry page the recovery link opens.
#[utoipa::path(
    get,
    path = "/recovery",
    operation_id = "showRecoveryPage",
    tag = "pages",
    summary = "The Recovery Page",
    description = "The built-in page `recovery_link` opens: the code field, or what to do when \
        the flow can no longer be used. Not Kratos's: Kratos sends browsers to a UI of its own.",
    params(("flow" = Option<String>, Query, description = "The recovery flow's id, from `recovery_link`.")),
    responses(
        (
            status = 200,
            description = "The code field; or the code was used, or the flow took too many \
                submissions, and what to do next.",
            content_type = "text/html",
            body = String,
        ),
        (status = 404, description = "No flow has this id.", content_type = "text/html", body = String),
        (status = 410, description = "The flow has expired.", content_type = "text/html", body = String),
        (status = 503, response = Unavailable),
    ),
)]
async fn page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(flow_id) = query.flow.map(RecoveryFlowId::from) else {
        return Ok(unknown());
    };
    match service.recovery_flow(flow_id).await {
        Ok(flow)
            if flow.state == FlowState::PassedChallenge || service.attempts_exhausted(&flow) =>
        {
            Ok(used_or_exhausted(&flow))
        }
        Ok(_) => Ok(pages::recovery_form(
            &action(&settings, flow_id),
            service.code_length(),
            None,
        )),
        Err(FlowLookupError::Expired(_)) => Ok(expired()),
        Err(FlowLookupError::NotFound(_)) => Ok(unknown()),
        Err(error) => Err(error.into()),
    }
}
