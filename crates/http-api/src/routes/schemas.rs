//! `GET /schemas/{id}`: the identity schema each identity's `schema_url` points to, as Kratos
//! serves it on its public listener. The id is the base64url of the schema id.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::ApiError;
use crate::wire::error::ErrorGeneric;
use crate::wire::schema;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/schemas/{id}").route(web::get().to(get)));
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
async fn get(id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let schema = schema::find(&id).ok_or_else(|| {
        ApiError::not_found("Unable to locate the resource")
            .with_reason(format!("No identity schema has the id {id}."))
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(schema.get()))
}
