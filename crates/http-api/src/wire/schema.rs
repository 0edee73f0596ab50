//! `identitySchemaContainer`, and where each identity's `schema_url` points.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::identity_schema::{IdentitySchema, IdentitySchemas};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// The `schema_url` path of the schema `schema_id`: its id in base64url, as Kratos.
pub(crate) fn path_of(schema_id: &str) -> String {
    format!("schemas/{}", URL_SAFE_NO_PAD.encode(schema_id))
}

/// The schema whose id is `encoded` in base64url, when there is one.
pub(crate) fn find<'a>(schemas: &'a IdentitySchemas, encoded: &str) -> Option<&'a IdentitySchema> {
    let id = URL_SAFE_NO_PAD.decode(encoded.as_bytes()).ok()?;
    schemas.get(Some(std::str::from_utf8(&id).ok()?))
}

/// `identitySchemaContainer`: a schema with its id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = identitySchemaContainer)]
pub(crate) struct IdentitySchemaContainer<'a> {
    /// The schema's id, as in an identity's `schema_id`.
    pub(crate) id: &'a str,
    /// The identity JSON Schema, as configured.
    #[schema(value_type = Object)]
    pub(crate) schema: &'a RawValue,
}

impl<'a> IdentitySchemaContainer<'a> {
    pub(crate) fn new(schema: &'a IdentitySchema) -> Self {
        Self {
            id: schema.id(),
            schema: schema.document(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_is_found_by_its_path() {
        let schemas = IdentitySchemas::built_in();
        let path = path_of(domain::identity::DEFAULT_SCHEMA_ID);
        let encoded = path.trim_start_matches("schemas/");
        let schema = find(&schemas, encoded).map(|schema| schema.document().get());
        assert!(schema.is_some_and(|schema| schema.contains("\"ory.sh/kratos\"")));
        assert!(find(&schemas, "bm9uZQ").is_none());
        assert!(find(&schemas, "not base64!").is_none());
    }
}
