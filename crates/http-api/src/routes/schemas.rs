//! `GET /schemas/{id}`: the identity schema each identity's `schema_url` points to, as Kratos
//! serves it on its public listener. The id is the base64url of the schema id.

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::identity::DEFAULT_SCHEMA_ID;
use serde_json::json;

use crate::ApiError;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/schemas/{id}").route(web::get().to(get)));
}

/// The `schema_url` path of the schema `schema_id`.
pub(crate) fn path_of(schema_id: &str) -> String {
    format!("schemas/{}", URL_SAFE_NO_PAD.encode(schema_id))
}

async fn get(id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let known = URL_SAFE_NO_PAD
        .decode(id.as_bytes())
        .is_ok_and(|decoded| decoded == DEFAULT_SCHEMA_ID.as_bytes());
    if !known {
        return Err(ApiError::not_found("Unable to locate the resource")
            .with_reason(format!("No identity schema has the id {id}.")));
    }
    // The rules of `domain::identity`: an optional, unique email that people sign in with.
    Ok(HttpResponse::Ok().json(json!({
        "$id": DEFAULT_SCHEMA_ID,
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Person",
        "type": "object",
        "properties": {
            "traits": {
                "type": "object",
                "properties": {
                    "email": {
                        "type": "string",
                        "format": "email",
                        "title": "Email address",
                        "maxLength": 254,
                        "ory.sh/kratos": {
                            "credentials": {"password": {"identifier": true}},
                            "recovery": {"via": "email"}
                        }
                    }
                }
            }
        }
    })))
}
