//! Login: API and browser flows, the password submission, and the sign-in page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use application::hashing::{self, HashingError};
use application::login::{LoginError, SignedIn};
use application::ports::Store;
use domain::audit::Origin;
use domain::client::ClientAddress;
use domain::id::LoginFlowId;
use domain::recovery::FlowType;
use domain::session::UserAgent;
use serde::Deserialize;

use super::FORM_DONE;
use super::{DISABLED_IDENTITY, EXPIRED_FLOW, NO_NAMED_FLOW, NO_SUCH_FLOW, UNREADABLE_ID};
use super::{Rejection, Reply, Settings, Svc, check_method, named_flow, public_url, redirect};
use super::{refused, required};
use crate::client_address::client_address;
use crate::device::user_agent;
use crate::envelope::no_store;
use crate::errors::THROTTLED;
use crate::json::{Submission, accepts_json};
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::session_auth::session_cookie;
use crate::wait::Wait;
use crate::wire::error::ErrorGeneric;
use crate::wire::flows::{LoginFlow, WithForm};
use crate::wire::identifier::IdentifierField;
use crate::wire::session::{Session, SuccessfulNativeLogin};
use crate::wire::submissions::{
    FlowQuery, IdQuery, ReturnToQuery, UpdateLoginFlowWithPasswordMethod,
};
use crate::wire::texts;
use crate::{ApiError, HttpSettings, pages};

pub(super) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/self-service/login/api").route(web::get().to(create_api::<S>)))
        .service(
            web::resource("/self-service/login/browser").route(web::get().to(create_browser::<S>)),
        )
        .service(web::resource("/self-service/login/flows").route(web::get().to(get_flow::<S>)))
        .service(web::resource("/self-service/login").route(web::post().to(submit::<S>)))
        .service(web::resource("/login").route(web::get().to(page::<S>)));
}

fn action(settings: &HttpSettings, flow_id: LoginFlowId) -> String {
    public_url(settings, &format!("self-service/login?flow={flow_id}"))
}

fn page_of(settings: &HttpSettings, flow_id: LoginFlowId) -> String {
    public_url(settings, &format!("login?flow={flow_id}"))
}

/// What a 400 of a new flow means.
const REFUSED_RETURN_TO: &str =
    "`return_to` is not under one of selfservice.allowed_return_urls, or the query cannot be read.";

#[utoipa::path(
    get,
    path = "/self-service/login/api",
    operation_id = "createNativeLoginFlow",
    tag = "frontend",
    summary = "Create Login Flow for Native Apps",
    description = "A login flow for an API client, with its form: identifier and password.",
    params(ReturnToQuery),
    responses(
        (
            status = 200,
            description = "The flow.",
            body = LoginFlow,
            links(
                ("getLoginFlow" = (operation_id = "getLoginFlow", parameters(("id" = "$response.body#/id")))),
                ("updateLoginFlow" = (operation_id = "updateLoginFlow", parameters(("flow" = "$response.body#/id")))),
            ),
        ),
        (status = 400, description = REFUSED_RETURN_TO, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn create_api<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<ReturnToQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service
        .create_login_flow(FlowType::Api, query.return_to.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(LoginFlow::new(
        &flow,
        &IdentifierField::of(service.schemas()),
        &settings.public_base_url,
    )))
}

/// A browser flow: the sign-in page, or for a single-page app that asks for JSON (as Kratos's
/// browser clients do), the flow itself.
#[utoipa::path(
    get,
    path = "/self-service/login/browser",
    operation_id = "createBrowserLoginFlow",
    tag = "frontend",
    summary = "Create Login Flow for Browsers",
    description = "A login flow for a browser, which is sent on to the built-in sign-in page; \
        a client that accepts `application/json` (a single-page app, as Kratos) gets the flow \
        itself.",
    params(ReturnToQuery),
    responses(
        (status = 200, description = "The flow, for a client that accepts JSON.", body = LoginFlow),
        (
            status = 303,
            description = "The flow was created.",
            headers(("Location" = String, description = "The sign-in page of the flow: `<serve.public.base_url>login?flow=<id>`.")),
        ),
        (status = 400, description = REFUSED_RETURN_TO, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn create_browser<S: Store>(
    service: Svc<S>,
    settings: Settings,
    req: HttpRequest,
    query: web::Query<ReturnToQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = service
        .create_login_flow(FlowType::Browser, query.return_to.as_deref())
        .await?;
    if accepts_json(req.headers()) {
        return Ok(HttpResponse::Ok().json(LoginFlow::new(
            &flow,
            &IdentifierField::of(service.schemas()),
            &settings.public_base_url,
        )));
    }
    Ok(redirect(&page_of(&settings, flow.id)).finish())
}

#[utoipa::path(
    get,
    path = "/self-service/login/flows",
    operation_id = "getLoginFlow",
    tag = "frontend",
    summary = "Get Login Flow",
    params(IdQuery),
    responses(
        (
            status = 200,
            description = "The flow.",
            body = LoginFlow,
            links(("updateLoginFlow" = (
                operation_id = "updateLoginFlow",
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
    let flow = service.login_flow(query.id.into()).await?;
    Ok(HttpResponse::Ok().json(LoginFlow::new(
        &flow,
        &IdentifierField::of(service.schemas()),
        &settings.public_base_url,
    )))
}

/// Identifier and password, or why the submission cannot be read.
struct Credentials {
    identifier: String,
    password: String,
}

fn credentials_of(
    body: Result<UpdateLoginFlowWithPasswordMethod, Rejection>,
) -> Result<Credentials, Rejection> {
    let body = body?;
    check_method(body.method.as_deref(), "password")?;
    Ok(Credentials {
        identifier: required(body.identifier, "identifier")?,
        password: required(body.password, "password")?,
    })
}

#[utoipa::path(
    post,
    path = "/self-service/login",
    operation_id = "updateLoginFlow",
    tag = "frontend",
    summary = "Submit a Login Flow",
    description = "Signs in with identifier and password. A wrong password and an unknown \
        identifier get the same answer, in the same time. Failed sign-ins in a row are held \
        back (429). The built-in pages post the same fields as a form, answered with pages and \
        redirects.",
    params(FlowQuery),
    request_body(content(
        (UpdateLoginFlowWithPasswordMethod = "application/json"),
        (UpdateLoginFlowWithPasswordMethod = "application/x-www-form-urlencoded"),
    )),
    responses(
        (
            status = 303,
            description = FORM_DONE,
            headers(("Location" = String, description = "The page the browser goes to next.")),
        ),
        (
            status = 200,
            description = "Signed in: the session, with its token for an API flow.",
            body = SuccessfulNativeLogin,
            headers(("Set-Cookie" = String, description = "For a browser flow: the session cookie \
                `ory_kratos_session` (HttpOnly, SameSite=Lax, Secure outside dev mode).")),
            links(
                ("toSession" = (
                    operation_id = "toSession",
                    parameters(("X-Session-Token" = "$response.body#/session_token")),
                )),
                ("performNativeLogout" = (
                    operation_id = "performNativeLogout",
                    request_body = json!({"session_token": "$response.body#/session_token"}),
                )),
            ),
        ),
        (
            status = 400,
            description = "The submission was refused: the flow, saying why in `ui.messages` or \
                the field's messages (wrong identifier or password: 4000006, the body cannot be \
                read, a field is missing, or `method` is not `password`).",
            body = LoginFlow,
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
    body: Submission<UpdateLoginFlowWithPasswordMethod>,
) -> Result<HttpResponse, ApiError> {
    let flow_id: LoginFlowId = named_flow(&query)?.into();
    let from = (client_address(&req), user_agent(&req), origin(&req));
    match super::reply(&req, &settings, body)? {
        Reply::Json(body) => {
            submit_json(service, settings, flow_id, from, credentials_of(body)).await
        }
        Reply::Page(body) => {
            submit_form(service, settings, flow_id, from, credentials_of(body)).await
        }
    }
}

async fn submit_json<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: LoginFlowId,
    (client, user_agent, origin): (ClientAddress, Option<UserAgent>, Origin),
    credentials: Result<Credentials, Rejection>,
) -> Result<HttpResponse, ApiError> {
    let refuse = async |rejection: Rejection| {
        let flow = service.login_flow(flow_id).await?;
        let flow = LoginFlow::new(
            &flow,
            &IdentifierField::of(service.schemas()),
            &settings.public_base_url,
        );
        Ok::<_, ApiError>(refused(
            &flow.with_message(rejection.field, rejection.message),
        ))
    };
    let credentials = match credentials {
        Ok(credentials) => credentials,
        Err(rejection) => return refuse(rejection).await,
    };
    let outcome = service
        .log_in(
            flow_id,
            &credentials.identifier,
            credentials.password,
            client,
            user_agent,
            &origin,
        )
        .await;
    match outcome {
        Ok(signed_in) => Ok(signed_in_json(&settings, signed_in)),
        Err(LoginError::InvalidCredentials) => {
            let message = texts::invalid_credentials();
            refuse(Rejection {
                field: None,
                message,
            })
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// The session; API clients get its token, browsers a cookie.
fn signed_in_json(settings: &HttpSettings, signed_in: SignedIn) -> HttpResponse {
    let session = Session::new(
        &signed_in.session,
        &signed_in.identity,
        &settings.public_base_url,
    );
    let mut response = HttpResponse::Ok();
    response.insert_header(no_store());
    let browser = signed_in.flow.flow_type == FlowType::Browser;
    if browser {
        response.cookie(session_cookie(
            &signed_in.token,
            signed_in.session.expires_at,
            settings.dev,
        ));
    }
    response.json(SuccessfulNativeLogin {
        session,
        session_token: (!browser).then(|| signed_in.token.expose().to_owned()),
        continue_with: Vec::new(),
    })
}

async fn submit_form<S: Store>(
    service: Svc<S>,
    settings: Settings,
    flow_id: LoginFlowId,
    (client, user_agent, origin): (ClientAddress, Option<UserAgent>, Origin),
    credentials: Result<Credentials, Rejection>,
) -> Result<HttpResponse, ApiError> {
    let action = action(&settings, flow_id);
    let credentials = match credentials {
        Ok(credentials) => credentials,
        // The form again, saying what is wrong, while the flow lives; else a fresh one.
        Err(rejection) => {
            return match service.login_flow(flow_id).await {
                Ok(_) => Ok(pages::login_form(
                    &action,
                    &IdentifierField::of(service.schemas()),
                    "",
                    Some((&rejection.message.text, true)),
                )),
                Err(LoginError::FlowExpired(_) | LoginError::FlowNotFound(_)) => {
                    Ok(redirect(&public_url(&settings, "self-service/login/browser")).finish())
                }
                Err(error) => Err(error.into()),
            };
        }
    };
    let identifier = credentials.identifier;
    match service
        .log_in(
            flow_id,
            &identifier,
            credentials.password,
            client,
            user_agent,
            &origin,
        )
        .await
    {
        Ok(signed_in) => {
            let cookie =
                session_cookie(&signed_in.token, signed_in.session.expires_at, settings.dev);
            let destination = signed_in
                .flow
                .return_to
                .clone()
                .unwrap_or_else(|| settings.public_base_url.to_string());
            Ok(redirect(&destination).cookie(cookie).finish())
        }
        // A disabled account reads as wrong credentials: the page tells no one which it was.
        Err(LoginError::InvalidCredentials | LoginError::Disabled) => Ok(pages::login_form(
            &action,
            &IdentifierField::of(service.schemas()),
            &identifier,
            Some((texts::INVALID_CREDENTIALS, true)),
        )),
        Err(LoginError::FlowExpired(_) | LoginError::FlowNotFound(_)) => {
            Ok(redirect(&public_url(&settings, "self-service/login/browser")).finish())
        }
        Err(LoginError::Throttled { wait }) => {
            let wait = Wait::new(wait);
            let message = format!(
                "{THROTTLED}: try again in {}, or ask for a recovery code.",
                wait.in_words()
            );
            Ok(form_to_retry(
                &action,
                &IdentifierField::of(service.schemas()),
                &identifier,
                &message,
                StatusCode::TOO_MANY_REQUESTS,
                wait,
            ))
        }
        Err(LoginError::Hashing(HashingError::Busy)) => Ok(form_to_retry(
            &action,
            &IdentifierField::of(service.schemas()),
            &identifier,
            "Too many sign-ins are being checked right now: please try again in a moment.",
            StatusCode::SERVICE_UNAVAILABLE,
            Wait::new(hashing::RETRY_AFTER),
        )),
        Err(error) => Err(error.into()),
    }
}

/// The sign-in form again, saying why and how long to wait (also as `Retry-After`).
fn form_to_retry(
    action: &str,
    field: &IdentifierField,
    identifier: &str,
    message: &str,
    status: StatusCode,
    wait: Wait,
) -> HttpResponse {
    let mut page = pages::login_form(action, field, identifier, Some((message, true)));
    *page.status_mut() = status;
    let (name, value) = wait.header();
    page.headers_mut().insert(name, value);
    page
}

#[derive(Deserialize)]
struct PageQuery {
    /// Read as text: a value that is not a flow id leads to a fresh page, not an error.
    flow: Option<String>,
    return_to: Option<String>,
}

/// The sign-in page: a new browser flow when none is named or the named one is gone.
#[utoipa::path(
    get,
    path = "/login",
    operation_id = "showLoginPage",
    tag = "pages",
    summary = "The Sign-In Page",
    description = "The built-in sign-in page of a browser login flow. Not Kratos's: Kratos \
        sends browsers to a UI of its own.",
    params(
        ("flow" = Option<String>, Query, description = "The login flow's id."),
        ReturnToQuery,
    ),
    responses(
        (status = 200, description = "The sign-in form.", content_type = "text/html", body = String),
        (
            status = 303,
            description = "No flow named (a new one is made), or the named one is gone (to a \
                page without it).",
            headers(("Location" = String, description = "The page the browser goes to next.")),
        ),
        (status = 400, description = REFUSED_RETURN_TO, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn page<S: Store>(
    service: Svc<S>,
    settings: Settings,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let Some(flow) = query.flow else {
        let flow = service
            .create_login_flow(FlowType::Browser, query.return_to.as_deref())
            .await?;
        return Ok(redirect(&page_of(&settings, flow.id)).finish());
    };
    // A new flow is made only without `flow`, where the flow-creation limit counts it.
    let Ok(flow_id) = flow.parse::<LoginFlowId>() else {
        return Ok(redirect(&public_url(&settings, "login")).finish());
    };
    match service.login_flow(flow_id).await {
        Ok(_) => Ok(pages::login_form(
            &action(&settings, flow_id),
            &IdentifierField::of(service.schemas()),
            "",
            None,
        )),
        Err(LoginError::FlowExpired(_) | LoginError::FlowNotFound(_)) => {
            Ok(redirect(&public_url(&settings, "login")).finish())
        }
        Err(error) => Err(error.into()),
    }
}
