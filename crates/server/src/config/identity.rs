//! `identity`: where the identity schemas are and which one is the default, as Kratos's keys
//! say. Checked here; read at start-up ([`crate::identity_schemas`]).

use domain::identity_schema::DEFAULT_SCHEMA_ID;
use serde::Deserialize;
use url::Url;

use super::{ConfigError, invalid};

const SCHEMAS: &str = "identity.schemas";

/// `identity`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentity {
    default_schema_id: Option<String>,
    #[serde(default)]
    schemas: RawSchemas,
}

/// A list of `{id, url}` in the file; in the environment (`IDENTITY_SCHEMAS`) the same list as
/// JSON text, as Kratos reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum RawSchemas {
    #[default]
    None,
    Json(String),
    List(Vec<RawSchema>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    id: String,
    url: String,
}

/// Where one identity schema is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSource {
    pub id: String,
    /// `file://`, `base64://`, `http://` or `https://`.
    pub url: Url,
}

/// The checked `identity` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySettings {
    /// Empty for the built-in schema alone.
    pub schemas: Vec<SchemaSource>,
    pub default_schema_id: String,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            schemas: Vec::new(),
            default_schema_id: DEFAULT_SCHEMA_ID.to_owned(),
        }
    }
}

pub(super) fn identity(raw: RawIdentity) -> Result<IdentitySettings, ConfigError> {
    let raw_schemas = match raw.schemas {
        RawSchemas::None => Vec::new(),
        RawSchemas::List(list) => list,
        RawSchemas::Json(text) => serde_json::from_str(&text).map_err(|error| {
            invalid(
                SCHEMAS,
                format!("must be a JSON list of {{\"id\", \"url\"}} objects: {error}"),
            )
        })?,
    };
    let mut schemas: Vec<SchemaSource> = Vec::with_capacity(raw_schemas.len());
    for RawSchema { id, url } in raw_schemas {
        if id.is_empty() {
            return Err(invalid(SCHEMAS, "every schema needs a non-empty id"));
        }
        if schemas.iter().any(|known| known.id == id) {
            return Err(invalid(SCHEMAS, format!("the id \"{id}\" is given twice")));
        }
        let url = Url::parse(&url)
            .ok()
            .filter(|url| ["file", "base64", "http", "https"].contains(&url.scheme()))
            .ok_or_else(|| {
                invalid(
                    SCHEMAS,
                    format!(
                        "the url of \"{id}\" must start with file://, base64://, http:// or \
                         https://"
                    ),
                )
            })?;
        schemas.push(SchemaSource { id, url });
    }
    let default_schema_id = raw
        .default_schema_id
        .unwrap_or_else(|| DEFAULT_SCHEMA_ID.to_owned());
    // Without configured schemas, the built-in one is the only one.
    let ids: Vec<&str> = if schemas.is_empty() {
        vec![DEFAULT_SCHEMA_ID]
    } else {
        schemas.iter().map(|schema| schema.id.as_str()).collect()
    };
    if !ids.contains(&default_schema_id.as_str()) {
        return Err(invalid(
            "identity.default_schema_id",
            format!(
                "\"{default_schema_id}\" is not among the identity schemas ({}): name one of them",
                ids.join(", ")
            ),
        ));
    }
    Ok(IdentitySettings {
        schemas,
        default_schema_id,
    })
}
