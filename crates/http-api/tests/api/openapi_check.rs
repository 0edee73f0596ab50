//! Checks a real response against an OpenAPI document: the schema the document gives the
//! operation for the status answered (else its `default`), validated by `jsonschema`.
//!
//! OpenAPI 3.0 schemas are JSON Schema draft 4 plus `nullable`, translated here into a type
//! that admits `null`; 3.1 schemas are JSON Schema 2020-12 as they stand. References into
//! `#/components/schemas` resolve because every schema is validated inside a root that carries
//! the document's `components`; `#/components/responses` references are followed here.

use std::fmt::Write as _;

use jsonschema::Draft;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An operation as a document names it: a method and a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub method: Method,
    pub path: &'static str,
}

impl Op {
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: Method::GET,
            path,
        }
    }

    pub const fn post(path: &'static str) -> Self {
        Self {
            method: Method::POST,
            path,
        }
    }

    pub const fn delete(path: &'static str) -> Self {
        Self {
            method: Method::DELETE,
            path,
        }
    }

    pub const fn put(path: &'static str) -> Self {
        Self {
            method: Method::PUT,
            path,
        }
    }

    pub const fn patch(path: &'static str) -> Self {
        Self {
            method: Method::PATCH,
            path,
        }
    }

    /// The same method on another path.
    pub fn at(&self, path: &'static str) -> Self {
        Self {
            method: self.method.clone(),
            path,
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A response as it arrived, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    /// The `Content-Type` without its parameters, when there is one.
    pub media_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn read(res: reqwest::Response) -> Self {
        let status = res.status();
        let media_type = res.headers().get(CONTENT_TYPE).map(|value| {
            let value = value.to_str().unwrap_or_default();
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        });
        let body = res.bytes().await.unwrap().to_vec();
        Self {
            status,
            media_type,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn is_json(&self) -> bool {
        self.media_type.as_deref().is_some_and(|media_type| {
            media_type == "application/json" || media_type.ends_with("+json")
        })
    }
}

/// An OpenAPI document, ready to check responses against.
pub struct OpenApi {
    name: String,
    draft: Draft,
    /// With OpenAPI 3.0's `nullable` already translated.
    document: Value,
}

impl OpenApi {
    /// `document`, named `name` in failure messages.
    ///
    /// # Panics
    /// When `document` is not OpenAPI 3.0 or 3.1.
    pub fn new(name: impl Into<String>, mut document: Value) -> Self {
        let name = name.into();
        let version = document["openapi"].as_str().unwrap_or_default().to_owned();
        let draft = if version.starts_with("3.0.") {
            nullable_to_json_schema(&mut document);
            Draft::Draft4
        } else if version.starts_with("3.1.") {
            Draft::Draft202012
        } else {
            panic!("{name} is not an OpenAPI 3.0 or 3.1 document (openapi: {version:?})")
        };
        Self {
            name,
            draft,
            document,
        }
    }

    /// Whether `answer` is what the document says `op` answers with its status: the status (or
    /// `default`) is documented, the body is there exactly when the document gives it a media
    /// type, of a documented media type, and valid against that media type's schema.
    ///
    /// # Errors
    /// Every way it is not, in words that name the operation, the status and the body.
    pub fn check(&self, op: &Op, answer: &Answer) -> Result<(), String> {
        let response = self.response(op, answer.status)?;
        let empty = Value::Object(serde_json::Map::new());
        let content = response.get("content").unwrap_or(&empty);
        let documented: Vec<&String> = content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        let status = answer.status.as_u16();
        if answer.body.is_empty() {
            return if documented.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{}: {op} {status} documents a body ({documented:?}) but the response has none",
                    self.name
                ))
            };
        }
        let media_type = answer.media_type.as_deref().unwrap_or("(no Content-Type)");
        if documented.is_empty() {
            return Err(format!(
                "{}: {op} {status} documents no body, but the response has one ({media_type}): {}",
                self.name,
                answer.text()
            ));
        }
        let Some(media) = content.get(media_type) else {
            return Err(format!(
                "{}: {op} {status} is documented as {documented:?}, not {media_type}: {}",
                self.name,
                answer.text()
            ));
        };
        let Some(schema) = media.get("schema") else {
            return Ok(());
        };
        let instance = if answer.is_json() {
            answer.json()
        } else {
            Value::String(answer.text())
        };
        self.validate(schema, &instance)
            .map_err(|errors| format!("{}: {op} {status} {errors}", self.name))
    }

    /// The response object of `op` for `status`, else its `default`, references followed.
    fn response(&self, op: &Op, status: StatusCode) -> Result<&Value, String> {
        let method = op.method.as_str().to_ascii_lowercase();
        let operation = self.document["paths"]
            .get(op.path)
            .and_then(|path| path.get(&method))
            .ok_or_else(|| format!("{} has no operation {op}", self.name))?;
        let responses = &operation["responses"];
        let response = responses
            .get(status.as_str())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                format!(
                    "{}: {op} documents no {} and no default",
                    self.name,
                    status.as_u16()
                )
            })?;
        self.resolve(response)
    }

    /// `value`, or what its `$ref` points to in this document.
    fn resolve<'a>(&'a self, value: &'a Value) -> Result<&'a Value, String> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix('#')
                .and_then(|pointer| self.document.pointer(pointer))
                .ok_or_else(|| format!("{}: {reference} points nowhere", self.name)),
            None => Ok(value),
        }
    }

    /// Validates `instance` against `schema`, a schema of this document: every error, with the
    /// instance path, then the instance.
    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let root = json!({
            "allOf": [schema],
            "components": self.document.get("components").cloned().unwrap_or_default(),
        });
        let validator = jsonschema::options()
            .with_draft(self.draft)
            .should_validate_formats(true)
            .with_format("uuid", is_uuid)
            .build(&root)
            .map_err(|error| format!("has a schema that does not compile: {error}"))?;
        let mut errors = String::new();
        for error in validator.iter_errors(instance) {
            let path = error.instance_path().to_string();
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let _ = write!(errors, "\n  - at {path}: {error}");
        }
        if errors.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_string_pretty(instance).unwrap_or_default();
        Err(format!(
            "does not match its schema:{errors}\n  body: {body}"
        ))
    }
}

/// OpenAPI's `uuid` format, which JSON Schema draft 4 does not know: the hyphenated form.
fn is_uuid(value: &str) -> bool {
    value.len() == 36 && uuid::Uuid::parse_str(value).is_ok()
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the type (and the enum), and a
/// schema that only refers or combines (where draft 4 ignores siblings of `$ref`) becomes
/// "null, or that schema".
fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        Value::Object(object) => {
            object.values_mut().for_each(nullable_to_json_schema);
            if object.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            object.remove("nullable");
            if let Some(kind) = object.get_mut("type") {
                *kind = match kind.take() {
                    Value::Array(mut kinds) => {
                        kinds.push(json!("null"));
                        Value::Array(kinds)
                    }
                    single => json!([single, "null"]),
                };
            }
            if let Some(Value::Array(values)) = object.get_mut("enum") {
                values.push(Value::Null);
            }
            let refers = ["$ref", "allOf", "oneOf", "anyOf"]
                .iter()
                .any(|keyword| object.contains_key(*keyword));
            if refers && !object.contains_key("type") {
                let schema = Value::Object(std::mem::take(object));
                object.insert("anyOf".into(), json!([{"type": "null"}, schema]));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    //! The checker itself, on a small document.

    use super::*;

    fn document() -> OpenApi {
        OpenApi::new(
            "the test document",
            json!({
                "openapi": "3.0.3",
                "paths": {
                    "/things/{id}": {
                        "get": {"responses": {
                            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}},
                            "204": {"$ref": "#/components/responses/empty"},
                            "default": {"$ref": "#/components/responses/error"}
                        }}
                    }
                },
                "components": {
                    "schemas": {
                        "thing": {"type": "object", "required": ["id"], "properties": {
                            "id": {"type": "string", "format": "uuid"},
                            "note": {"type": "string", "nullable": true},
                            "owner": {"$ref": "#/components/schemas/owner"}
                        }},
                        "owner": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
                        "error": {"type": "object", "required": ["error"]}
                    },
                    "responses": {
                        "empty": {"description": "nothing"},
                        "error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}
                    }
                }
            }),
        )
    }

    fn answer(status: u16, media_type: Option<&str>, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            media_type: media_type.map(str::to_owned),
            body: body.as_bytes().to_vec(),
        }
    }

    const THING: Op = Op::get("/things/{id}");
    const ID: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

    #[test]
    fn a_body_that_matches_passes_and_nullable_admits_null() {
        let body = format!(r#"{{"id": "{ID}", "note": null, "owner": {{"name": "ada"}}}}"#);
        document()
            .check(&THING, &answer(200, Some("application/json"), &body))
            .unwrap();
    }

    #[test]
    fn every_error_is_listed_with_its_path_and_the_body() {
        let body = r#"{"id": "not-a-uuid", "note": 7, "owner": {}}"#;
        let error = document()
            .check(&THING, &answer(200, Some("application/json"), body))
            .unwrap_err();
        for needle in [
            "at /id:",
            "at /note:",
            "at /owner:",
            "\"not-a-uuid\"",
            "the test document",
        ] {
            assert!(error.contains(needle), "{needle} in {error}");
        }
    }

    #[test]
    fn an_undocumented_status_falls_back_to_default_through_its_reference() {
        let document = document();
        document
            .check(
                &THING,
                &answer(404, Some("application/json"), r#"{"error": {}}"#),
            )
            .unwrap();
        let error = document
            .check(&THING, &answer(404, Some("application/json"), "{}"))
            .unwrap_err();
        assert!(
            error.contains("\"error\" is a required property"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_response_must_be_empty_and_a_body_must_be_documented() {
        let document = document();
        document.check(&THING, &answer(204, None, "")).unwrap();
        let error = document
            .check(&THING, &answer(204, Some("application/json"), "{}"))
            .unwrap_err();
        assert!(error.contains("documents no body"), "{error}");
        let error = document
            .check(&THING, &answer(200, Some("application/json"), ""))
            .unwrap_err();
        assert!(error.contains("the response has none"), "{error}");
        let error = document
            .check(&THING, &answer(200, Some("text/html"), "<p>"))
            .unwrap_err();
        assert!(error.contains("not text/html"), "{error}");
    }

    #[test]
    fn unknown_operations_are_named() {
        let error = document()
            .check(&Op::delete("/things/{id}"), &answer(204, None, ""))
            .unwrap_err();
        assert!(
            error.contains("no operation DELETE /things/{id}"),
            "{error}"
        );
        let error = document()
            .check(&Op::get("/nowhere"), &answer(200, None, ""))
            .unwrap_err();
        assert!(error.contains("no operation GET /nowhere"), "{error}");
    }

    #[test]
    fn an_openapi_3_1_document_is_json_schema_2020_12() {
        let document = OpenApi::new(
            "a 3.1 document",
            json!({
                "openapi": "3.1.0",
                "paths": {"/things/{id}": {"get": {"responses": {"200": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/thing"}}
                }}}}}},
                "components": {"schemas": {"thing": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "format": "uuid"}, "note": {"type": ["string", "null"]}}
                }}}
            }),
        );
        let body = format!(r#"{{"id": "{ID}", "note": null}}"#);
        document
            .check(&THING, &answer(200, Some("application/json"), &body))
            .unwrap();
        let error = document
            .check(
                &THING,
                &answer(200, Some("application/json"), r#"{"id": "x", "note": 1}"#),
            )
            .unwrap_err();
        assert!(
            error.contains("at /id:") && error.contains("at /note:"),
            "{error}"
        );
    }

    #[test]
    fn nullable_joins_types_enums_and_references() {
        let mut schema = json!({"properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"enum": ["x"], "type": "string", "nullable": true},
            "c": {"$ref": "#/x", "nullable": true},
            "nullable": {"type": "integer"}
        }});
        nullable_to_json_schema(&mut schema);
        assert_eq!(
            schema,
            json!({"properties": {
                "a": {"type": ["string", "null"]},
                "b": {"enum": ["x", null], "type": ["string", "null"]},
                "c": {"anyOf": [{"type": "null"}, {"$ref": "#/x"}]},
                "nullable": {"type": "integer"}
            }})
        );
    }
}
