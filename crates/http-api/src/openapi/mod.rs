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

use crate::wire::error::ErrorGeneric;
use crate::{ApiError, routes};

/// Where each listener serves its document.
pub(crate) const PATH: &str = "/.well-known/openapi.json";

/// What both documents say about every operation.
const OVERVIEW: &str = "Ory Kratos's API for account recovery, with Kratos's paths, operation ids \
and shapes, so that clients written for Kratos work unchanged; where this service differs \
from Kratos, the operation or response says so.\n\n\
Every non-2xx answer is the `errorGeneric` envelope, except a refused self-service submission, \
which answers 400 with the flow itself, as Kratos. Besides the statuses listed per operation, \
any path answers 404 to a request no route matches, and 405 (with `Allow`) to a method it \
does not list, both with the envelope. Every response carries `X-Request-Id` (the caller's, \
when sane, or a new UUID), echoed in the envelope's `error.request`.";

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
        routes::recovery_codes::revoke,
        routes::identities::list,
        routes::identities::create,
        routes::identities::get,
        routes::identities::update,
        routes::identities::patch,
        routes::identities::delete,
        routes::identities::get_lockout,
        routes::identities::clear_lockout,
        routes::sessions::list_identity_sessions,
        routes::sessions::delete_identity_sessions,
        routes::sessions::get,
        routes::sessions::disable,
        routes::metrics::prometheus,
        routes::audit_events::list,
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
            recovery, settings and login flows, sessions, identity schemas and health, and the \
            built-in HTML pages (`/recovery`, `/settings`, `/login`, `/`), whose forms post to \
            the same self-service operations and are answered with pages and redirects.",
    ),
    paths(
        routes::health::alive,
        routes::health::ready,
        document,
        routes::schemas::list,
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
        routes::self_service::sessions::list_mine,
        routes::self_service::sessions::disable_mine,
        routes::self_service::sessions::disable_my_others,
        routes::self_service::recovery::page,
        routes::self_service::settings::page,
        routes::self_service::login::page,
        routes::self_service::sessions::home_page,
    ),
    components(schemas(ErrorGeneric), responses(Unavailable)),
    modifiers(&PublicRules, &Overview),
    tags(
        (name = "frontend", description = "The self-service flows and sessions."),
        (name = "identity", description = "Identity schemas."),
        (name = "metadata", description = "Health and this document."),
        (name = "pages", description = "The built-in pages, for people: HTML."),
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

/// The document as JSON; empty, and logged, in the unreachable case it cannot be written.
fn to_json(document: &utoipa::openapi::OpenApi) -> String {
    serde_json::to_string(document).unwrap_or_else(|error| {
        tracing::error!(%error, "the OpenAPI document could not be written");
        String::new()
    })
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
async fn document(served: web::Data<&'static Served>) -> Result<HttpResponse, ApiError> {
    if served.0.is_empty() {
        return Err(ApiError::internal());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(served.0.as_str()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn json(document: &utoipa::openapi::OpenApi) -> Value {
        serde_json::to_value(document).unwrap()
    }

    /// Every operation of `document`: its path, and the operation itself.
    fn operations(document: &Value) -> Vec<(String, Value)> {
        let paths = document["paths"].as_object().unwrap();
        paths
            .iter()
            .flat_map(|(path, item)| {
                let operations = item.as_object().unwrap().values().cloned();
                operations.map(move |operation| (path.clone(), operation))
            })
            .collect()
    }

    #[test]
    fn operation_ids_are_unique_in_each_document() {
        for document in [json(&admin()), json(&public())] {
            let operations = operations(&document);
            let ids: BTreeSet<&str> = operations
                .iter()
                .map(|(_, operation)| operation["operationId"].as_str().unwrap())
                .collect();
            assert_eq!(ids.len(), operations.len());
        }
    }

    #[test]
    fn every_admin_path_has_its_iam_alias() {
        let document = json(&admin());
        let paths = document["paths"].as_object().unwrap();
        let kratos = paths.keys().filter(|path| path.starts_with("/admin/"));
        assert_eq!(kratos.clone().count(), 9);
        for path in kratos {
            let alias = routes::iam_alias(path).unwrap();
            assert!(paths.contains_key(&alias), "{alias}");
        }
        let id = &paths["/iam/identities"]["post"]["operationId"];
        assert_eq!(id, "iamCreateIdentity");
    }

    #[test]
    fn admin_operations_need_the_key_but_health_and_this_document() {
        for (path, operation) in operations(&json(&admin())) {
            let open = ["/health/alive", "/health/ready", PATH].contains(&path.as_str());
            assert_eq!(operation["security"].is_null(), open, "{path}");
            assert_eq!(operation["responses"]["401"].is_null(), open, "{path}");
            assert!(operation["responses"]["421"].is_object(), "{path}");
        }
    }

    /// Constraints the attributes must write as literals, checked against the code's.
    #[test]
    fn documented_limits_are_the_codes() {
        let admin = json(&admin());
        let schemas = &admin["components"]["schemas"];
        let expires_in = &schemas["createRecoveryCodeForIdentityBody"]["properties"]["expires_in"];
        assert_eq!(expires_in["pattern"], domain::duration::PATTERN);
        let list = &admin["paths"]["/admin/identities"]["get"]["parameters"];
        let page_size = list
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == "page_size")
            .unwrap();
        let max = application::identities::MAX_PAGE_SIZE;
        assert_eq!(page_size["schema"]["maximum"], max);
        let public = json(&public());
        let passwords = [
            &schemas["identityWithCredentialsPasswordConfig"]["properties"]["password"],
            &public["components"]["schemas"]["updateSettingsFlowWithPasswordMethod"]["properties"]
                ["password"],
        ];
        for password in passwords {
            assert_eq!(password["minLength"], domain::password::MIN_LEN);
            assert_eq!(password["maxLength"], domain::password::MAX_LEN);
        }
    }
}
