//! `GET /schemas` and `GET /schemas/{id}`: the identity schemas, as Kratos serves them on its
//! public listener. In `/schemas/{id}` the id is the base64url of the schema id, as in each
//! identity's `schema_url`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::ports::Store;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::routes::paging;
use crate::wire::error::ErrorGeneric;
use crate::wire::schema::{self, IdentitySchemaContainer};
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/schemas").route(web::get().to(list::<S>)));
    cfg.service(web::resource("/schemas/{id}").route(web::get().to(get::<S>)));
}

/// Kratos's paging of the schema list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SchemaPageQuery {
    /// How many schemas per page: 1 to 500, 250 when absent.
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<usize>,
    /// The `page_token` of the `next` link of the previous page.
    page_token: Option<String>,
}

#[utoipa::path(
    get,
    path = "/schemas",
    operation_id = "listIdentitySchemas",
    tag = "identity",
    summary = "Get all Identity Schemas",
    description = "The configured identity schemas, in the order they are configured.",
    params(SchemaPageQuery),
    responses(
        (
            status = 200,
            description = "A page of identity schemas.",
            body = Vec<IdentitySchemaContainer>,
            headers((
                "Link" = String,
                description = "The first page (`rel=\"first\"`) and, when there is one, the next \
                    (`rel=\"next\"`), as absolute URLs."
            )),
        ),
        (
            status = 400,
            description = "`page_size` is out of range, or `page_token` is not one this service \
                returned.",
            body = ErrorGeneric,
        ),
    ),
)]
async fn list<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<SchemaPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = service.list_identity_schemas(query.page_size, query.page_token)?;
    let body: Vec<IdentitySchemaContainer<'_>> = page
        .schemas
        .iter()
        .map(|schema| IdentitySchemaContainer::new(schema))
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
    get,
    path = "/schemas/{id}",
    operation_id = "getIdentitySchema",
    tag = "identity",
    summary = "Get Identity JSON Schema",
    params((
        "id" = String,
        Path,
        description = "The schema's id in base64url, as in an identity's `schema_url`.",
    )),
    responses(
        (status = 200, description = "The identity JSON Schema.", body = Object),
        (status = 404, description = "No identity schema has this id.", body = ErrorGeneric),
    ),
)]
async fn get<S: Store>(
    service: web::Data<Service<S>>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let schema = schema::find(service.schemas(), &id).ok_or_else(|| {
        ApiError::not_found("Unable to locate the resource")
            .with_reason(format!("No identity schema has the id {id}."))
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(schema.document().get().to_owned()))
}
