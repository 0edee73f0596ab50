//! Identity management, Kratos shapes: `/admin/identities` (also under `/iam/identities`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::identities::{
    CreateIdentityRequest, ListIdentitiesRequest, UpdateIdentityRequest,
};
use application::ports::Store;
use domain::identity_patch::IdentityPatch;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::envelope::no_store;
use crate::json::JsonObject;
use crate::openapi::Unavailable;
use crate::origin::origin;
use crate::routes::paging;
use crate::wire::error::ErrorGeneric;
use crate::wire::identity::{
    AdminIdentity as Identity, CreateIdentityBody, JsonPatchDocument, UpdateIdentityBody,
};
use crate::wire::lockout::Lockout;
use crate::{ApiError, HttpSettings};

/// What a 404 of the routes naming an identity means.
const NO_SUCH_IDENTITY: &str = "No identity has this id (or it is not a UUID).";

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for prefix in super::with_iam_alias("/admin/identities") {
        cfg.service(
            web::resource(prefix.as_str())
                .route(web::get().to(list::<S>))
                .route(web::post().to(create::<S>)),
        )
        .service(
            web::resource(format!("{prefix}/{{id}}"))
                .route(web::get().to(get::<S>))
                .route(web::put().to(update::<S>))
                .route(web::patch().to(patch::<S>))
                .route(web::delete().to(delete::<S>)),
        )
        .service(
            web::resource(format!("{prefix}/{{id}}/lockout"))
                .route(web::get().to(get_lockout::<S>))
                .route(web::delete().to(clear_lockout::<S>)),
        );
    }
}

#[utoipa::path(
    post,
    path = "/admin/identities",
    operation_id = "createIdentity",
    tag = "identity",
    summary = "Create an Identity",
    description = "Creates an identity, with a password when `credentials.password.config.password` \
        is given (stored as an Argon2id hash). Unknown fields are ignored.",
    request_body = CreateIdentityBody,
    responses(
        (
            status = 201,
            description = "The identity.",
            body = Identity,
            headers(("Location" = String, description = "The identity's path.")),
            links(
                ("getIdentity" = (operation_id = "getIdentity", parameters(("id" = "$response.body#/id")))),
                ("deleteIdentity" = (operation_id = "deleteIdentity", parameters(("id" = "$response.body#/id")))),
                ("getIdentityLockout" = (operation_id = "getIdentityLockout", parameters(("id" = "$response.body#/id")))),
                ("deleteIdentityLockout" = (operation_id = "deleteIdentityLockout", parameters(("id" = "$response.body#/id")))),
                (
                    "createRecoveryCodeForIdentity" = (
                        operation_id = "createRecoveryCodeForIdentity",
                        request_body = json!({"identity_id": "$response.body#/id"}),
                    )
                ),
            ),
        ),
        (
            status = 400,
            description = "The body is not a JSON object of this shape, or a field is refused \
                (traits that cannot be stored, an invalid email address, a password outside \
                the policy); `details.fields` names the fields at fault where it can.",
            body = ErrorGeneric,
        ),
        (status = 409, description = "Another identity has this email address.", body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn create<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    body: JsonObject<CreateIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let JsonObject(body) = body;
    let (draft, password) = body.into_parts();
    let identity = service
        .create_identity(CreateIdentityRequest { draft, password }, &origin(&req))
        .await?;
    let location = format!("{}/{}", req.path(), identity.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

#[utoipa::path(
    get,
    path = "/admin/identities/{id}",
    operation_id = "getIdentity",
    tag = "identity",
    summary = "Get an Identity",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    responses(
        (status = 200, description = "The identity.", body = Identity),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn get<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let identity = service.get_identity(id.into_inner().into()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

#[utoipa::path(
    put,
    path = "/admin/identities/{id}",
    operation_id = "updateIdentity",
    tag = "identity",
    summary = "Update an Identity",
    description = "Replaces the identity's schema, state, traits and metadata (metadata left out \
        is removed); a password in `credentials.password.config.password` replaces the old one. \
        The email address people sign in with follows `traits.email`. Unknown fields are \
        ignored.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    request_body = UpdateIdentityBody,
    responses(
        (status = 200, description = "The identity as stored.", body = Identity),
        (
            status = 400,
            description = "The body is not a JSON object of this shape, or a field is refused \
                (traits or metadata that cannot be stored, an invalid email address or state, \
                a password outside the policy); `details.fields` names the fields at fault \
                where it can.",
            body = ErrorGeneric,
        ),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 409, description = "Another identity has this email address; nothing changed.", body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn update<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonObject<UpdateIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let JsonObject(body) = body;
    let (draft, password) = body.into_parts();
    let identity = service
        .update_identity(
            id.into_inner().into(),
            UpdateIdentityRequest { draft, password },
            &origin(&req),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

#[utoipa::path(
    patch,
    path = "/admin/identities/{id}",
    operation_id = "patchIdentity",
    tag = "identity",
    summary = "Patch an Identity",
    description = "Applies a JSON Patch (RFC 6902) to the identity as `identity` shows it, then \
        checks and stores the result as an update does. Only `/schema_id`, `/state`, \
        `/traits`, `/metadata_public` and `/metadata_admin` can be patched: not `id`, the \
        instants or `credentials`.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    request_body = JsonPatchDocument,
    responses(
        (status = 200, description = "The identity as stored.", body = Identity),
        (
            status = 400,
            description = "The body is not an array of operations, holds too many, one touches \
                a field that cannot be patched or fails (a `test` that does not match, a path \
                that does not exist), or the result is refused as an update's body would be; \
                `details.fields` names the operation (`[2]`) or the field at fault.",
            body = ErrorGeneric,
        ),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 409, description = "Another identity has this email address; nothing changed.", body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn patch<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<JsonPatchDocument>,
) -> Result<HttpResponse, ApiError> {
    let patch = IdentityPatch::new(body.into_inner().0)?;
    let identity = service
        .patch_identity(id.into_inner().into(), &patch, &origin(&req))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

#[utoipa::path(
    delete,
    path = "/admin/identities/{id}",
    operation_id = "deleteIdentity",
    tag = "identity",
    summary = "Delete an Identity",
    description = "Deletes the identity, with its flows, codes and sessions.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn delete<S: Store>(
    service: web::Data<Service<S>>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service
        .delete_identity(id.into_inner().into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// How many identities a page holds (250 by default).
    #[param(minimum = 1, maximum = 1000)]
    page_size: Option<usize>,
    /// Where the page starts: a token from the `Link` header of the previous page.
    page_token: Option<String>,
    /// Only the identity that signs in with this identifier (an email address).
    credentials_identifier: Option<String>,
}

/// A JSON array; the next page, when there is one, is in the `Link` header as Kratos does.
#[utoipa::path(
    get,
    path = "/admin/identities",
    operation_id = "listIdentities",
    tag = "identity",
    summary = "List Identities",
    params(ListQuery),
    responses(
        (
            status = 200,
            description = "A page of identities, oldest first.",
            body = Vec<Identity>,
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
        (status = 503, response = Unavailable),
    ),
)]
async fn list<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let identifier = query.credentials_identifier;
    let page = service
        .list_identities(ListIdentitiesRequest {
            page_size: query.page_size,
            page_token: query.page_token,
            credentials_identifier: identifier.clone(),
        })
        .await?;
    let filters: Vec<(&str, String)> = identifier
        .map(|identifier| ("credentials_identifier", identifier))
        .into_iter()
        .collect();
    let body: Vec<Identity> = page
        .identities
        .iter()
        .map(|identity| Identity::new(identity, &settings.public_base_url))
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

#[utoipa::path(
    get,
    path = "/admin/identities/{id}/lockout",
    operation_id = "getIdentityLockout",
    tag = "identity",
    summary = "Get an Identity's Sign-in Lockout",
    description = "The failed sign-ins counted on the identity's identifier, per client network \
        and over all networks, and whether they hold sign-ins back now. Our own: Kratos has no \
        lockout.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    responses(
        (status = 200, description = "The counts.", body = Lockout),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn get_lockout<S: Store>(
    service: web::Data<Service<S>>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let lockout = service.lockout(id.into_inner().into()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Lockout::new(lockout)))
}

/// Lifts the lockout: every count of failed sign-ins on the identity's identifier is forgotten.
#[utoipa::path(
    delete,
    path = "/admin/identities/{id}/lockout",
    operation_id = "deleteIdentityLockout",
    tag = "identity",
    summary = "Lift an Identity's Sign-in Lockout",
    description = "Forgets every count of failed sign-ins on the identity's identifier. Our own: \
        Kratos has no lockout.",
    params(("id" = Uuid, Path, description = "The identity's id.")),
    responses(
        (status = 204, description = "Lifted."),
        (status = 404, description = NO_SUCH_IDENTITY, body = ErrorGeneric),
        (status = 503, response = Unavailable),
    ),
)]
async fn clear_lockout<S: Store>(
    service: web::Data<Service<S>>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service
        .clear_lockout(id.into_inner().into(), &origin(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
