//! Identity schemas: the JSON Schema an identity's traits must match, and the `ory.sh/kratos`
//! extension on its traits that says which one people sign in with and which are addresses.
//!
//! ```json
//! "email": {"type": "string", "format": "email",
//!   "ory.sh/kratos": {"credentials": {"password": {"identifier": true}},
//!                     "recovery": {"via": "email"}, "verification": {"via": "email"}}}
//! ```
//!
//! An identifier marked on a trait with `"format": "email"` is an email address: checked as one
//! and compared lower-cased. Any other identifier (a username) is compared lower-cased too, as
//! Kratos does, and is otherwise whatever the schema allows.

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::address::{Addresses, RecoveryAddress, VerifiableAddress, Via};
use crate::document::{FieldError, FieldErrors, MAX_REPORTED, member_path};
use crate::identity::normalize_email;

/// The id of the built-in schema, and of the default one unless configured otherwise.
pub const DEFAULT_SCHEMA_ID: &str = "default";

/// The built-in schema: one optional email trait, the identifier and the recovery and
/// verifiable address.
const BUILT_IN: &str = include_str!("default-identity-schema.json");

/// The largest schema document accepted.
pub const MAX_SCHEMA_BYTES: usize = 1 << 20;

/// The longest identifier, in bytes (as an email address).
pub const MAX_IDENTIFIER_BYTES: usize = 254;

const EXTENSION: &str = "ory.sh/kratos";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("identity schema \"{id}\" is larger than {MAX_SCHEMA_BYTES} bytes")]
    TooLarge { id: String },
    #[error("identity schema \"{id}\" is not JSON: {reason}")]
    NotJson { id: String, reason: String },
    #[error("identity schema \"{id}\" is not a usable JSON Schema: {reason}")]
    NotJsonSchema { id: String, reason: String },
    #[error("identity schema \"{id}\": {reason}")]
    Extension { id: String, reason: String },
    #[error("identity schema id \"{0}\" is given twice")]
    DuplicateId(String),
    #[error("no identity schema is configured")]
    Empty,
    #[error("the default identity schema \"{id}\" is not among the configured ones ({known})")]
    UnknownDefault { id: String, known: String },
}

/// One step from the traits to a marked trait.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    /// Every item of an array.
    Items,
}

#[derive(Debug, Clone)]
struct Marked {
    path: Vec<Step>,
    via: Via,
}

/// Which trait people sign in with.
#[derive(Debug, Clone)]
struct IdentifierTrait {
    path: Vec<String>,
    /// Marked `"format": "email"`.
    email: bool,
    title: Option<String>,
}

/// A compiled identity schema with what its extension marks.
#[derive(Debug, Clone)]
pub struct IdentitySchema {
    id: String,
    /// As written, checked to be JSON once, when loaded.
    document: Box<RawValue>,
    validator: jsonschema::Validator,
    identifier: Option<IdentifierTrait>,
    recovery: Vec<Marked>,
    verification: Vec<Marked>,
}

/// What the marked traits of one identity hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    /// The identifier, lower-cased, as it is compared.
    pub identifier: Option<String>,
    pub addresses: Addresses,
}

impl IdentitySchema {
    /// Compiles the schema `document` under `id`. References to other documents are not
    /// followed: a schema is one self-contained document.
    ///
    /// # Errors
    /// [`SchemaError`] when the document is too large, not JSON, not a JSON Schema, or its
    /// extension is not understood (two identifiers, an identifier inside an array, an unknown
    /// `via`).
    pub fn parse(id: &str, document: &str) -> Result<Self, SchemaError> {
        let id = id.to_owned();
        if document.len() > MAX_SCHEMA_BYTES {
            return Err(SchemaError::TooLarge { id });
        }
        let not_json = |error: serde_json::Error| SchemaError::NotJson {
            id: id.clone(),
            reason: error.to_string(),
        };
        let value: Value = serde_json::from_str(document).map_err(not_json)?;
        let raw = RawValue::from_string(document.to_owned()).map_err(not_json)?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&value)
            .map_err(|error| SchemaError::NotJsonSchema {
                id: id.clone(),
                reason: error.to_string(),
            })?;
        let mut schema = Self {
            id,
            document: raw,
            validator,
            identifier: None,
            recovery: Vec::new(),
            verification: Vec::new(),
        };
        if let Some(traits) = value.pointer("/properties/traits") {
            schema
                .collect_marks(traits, &mut Vec::new())
                .map_err(|reason| SchemaError::Extension {
                    id: schema.id.clone(),
                    reason,
                })?;
        }
        Ok(schema)
    }

    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The schema as written.
    #[must_use]
    pub fn document(&self) -> &RawValue {
        &self.document
    }

    /// Whether people sign in with an email address (else with a name, or not at all).
    #[must_use]
    pub fn signs_in_with_email(&self) -> bool {
        self.identifier.as_ref().is_none_or(|marked| marked.email)
    }

    /// The title of the identifier trait, when the schema gives one.
    #[must_use]
    pub fn identifier_title(&self) -> Option<&str> {
        self.identifier.as_ref()?.title.as_deref()
    }

    fn collect_marks(&mut self, node: &Value, path: &mut Vec<Step>) -> Result<(), String> {
        if let Some(extension) = node.get(EXTENSION) {
            self.read_extension(extension, node, path)?;
        }
        if let Some(Value::Object(members)) = node.get("properties") {
            for (key, member) in members {
                path.push(Step::Member(key.clone()));
                self.collect_marks(member, path)?;
                path.pop();
            }
        }
        if let Some(items @ Value::Object(_)) = node.get("items") {
            path.push(Step::Items);
            self.collect_marks(items, path)?;
            path.pop();
        }
        Ok(())
    }

    fn read_extension(
        &mut self,
        extension: &Value,
        node: &Value,
        path: &[Step],
    ) -> Result<(), String> {
        let shown = shown_path(path);
        let identifier = extension
            .pointer("/credentials/password/identifier")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if identifier {
            if self.identifier.is_some() {
                return Err(format!(
                    "{shown} is a second password identifier; mark only one trait"
                ));
            }
            let members = path
                .iter()
                .map(|step| match step {
                    Step::Member(key) => Some(key.clone()),
                    Step::Items => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    format!("{shown} is a password identifier inside an array; mark a single trait")
                })?;
            let text = |key: &str| node.get(key).and_then(Value::as_str);
            self.identifier = Some(IdentifierTrait {
                path: members,
                email: text("format") == Some("email"),
                title: text("title").map(str::to_owned),
            });
        }
        for (name, marks) in [
            ("recovery", &mut self.recovery),
            ("verification", &mut self.verification),
        ] {
            let Some(via) = extension.get(name).and_then(|mark| mark.get("via")) else {
                continue;
            };
            let via = via.as_str().and_then(Via::parse).ok_or_else(|| {
                format!("{shown}: {name}.via must be \"email\" or \"sms\", not {via}")
            })?;
            marks.push(Marked {
                path: path.to_vec(),
                via,
            });
        }
        Ok(())
    }

    /// The problems of `traits` against this schema, each naming its field; at most
    /// [`MAX_REPORTED`].
    #[must_use]
    pub fn check(&self, traits: &Value) -> Vec<FieldError> {
        let identity = json!({ "traits": traits });
        let mut errors = Vec::new();
        for error in self.validator.iter_errors(&identity) {
            let field = error
                .instance_path()
                .segments()
                .fold(String::new(), |field, segment| match segment {
                    LocationSegment::Property(key) if field.is_empty() => key.into_owned(),
                    LocationSegment::Property(key) => member_path(&field, &key),
                    LocationSegment::Index(index) => format!("{field}[{index}]"),
                });
            let field = if field.is_empty() {
                "traits".to_owned()
            } else {
                field
            };
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_owned);
                    errors.push(FieldError::new(
                        member_path(&field, &name),
                        format!("is required by identity schema \"{}\"", self.id),
                    ));
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    errors.extend(unexpected.iter().map(|name| {
                        FieldError::new(
                            member_path(&field, name),
                            format!(
                                "is not a trait of identity schema \"{}\": remove it",
                                self.id
                            ),
                        )
                    }));
                }
                _ => errors.push(FieldError::new(
                    field,
                    format!(
                        "does not match identity schema \"{}\": {}",
                        self.id,
                        error.masked()
                    ),
                )),
            }
            if errors.len() >= MAX_REPORTED {
                break;
            }
        }
        errors.truncate(MAX_REPORTED);
        errors
    }

    /// The identifier and addresses the marked traits of `traits` hold.
    ///
    /// # Errors
    /// The marked traits that cannot be what they are marked as: an identifier or address
    /// that is not a string, an email that is not an address, a name with spaces around it.
    pub fn marks(&self, traits: &Value) -> Result<Marks, FieldErrors> {
        let mut errors = Vec::new();
        let identifier = self.identifier.as_ref().and_then(|marked| {
            let mut value = Some(traits);
            for key in &marked.path {
                value = value.and_then(|v| v.get(key));
            }
            let field = marked
                .path
                .iter()
                .fold("traits".to_owned(), |field, key| member_path(&field, key));
            match value {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => match identifier_of(text, marked.email) {
                    Ok(identifier) => Some(identifier),
                    Err(message) => {
                        errors.push(FieldError::new(field, message));
                        None
                    }
                },
                Some(_) => {
                    errors.push(FieldError::new(
                        field,
                        "must be a string: people sign in with it",
                    ));
                    None
                }
            }
        });
        let mut addresses = Addresses::default();
        for marked in &self.recovery {
            for (via, value) in address_values(traits, marked, &mut errors) {
                let address = RecoveryAddress { via, value };
                if !addresses.recovery.contains(&address) {
                    addresses.recovery.push(address);
                }
            }
        }
        for marked in &self.verification {
            for (via, value) in address_values(traits, marked, &mut errors) {
                let address = VerifiableAddress {
                    via,
                    value,
                    verified_at: None,
                };
                if !addresses.verifiable.contains(&address) {
                    addresses.verifiable.push(address);
                }
            }
        }
        errors.truncate(MAX_REPORTED);
        FieldErrors::from_vec(errors).map_or(
            Ok(Marks {
                identifier,
                addresses,
            }),
            Err,
        )
    }
}

/// The string values at `marked.path` in `traits`, with their fields.
fn address_values(
    traits: &Value,
    marked: &Marked,
    errors: &mut Vec<FieldError>,
) -> Vec<(Via, String)> {
    let mut found = vec![("traits".to_owned(), traits)];
    for step in &marked.path {
        found = found
            .into_iter()
            .flat_map(|(field, value)| match (step, value) {
                (Step::Member(key), Value::Object(members)) => members
                    .get(key)
                    .map(|member| (member_path(&field, key), member))
                    .into_iter()
                    .collect::<Vec<_>>(),
                (Step::Items, Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (format!("{field}[{index}]"), item))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    found
        .into_iter()
        .filter_map(|(field, value)| match (value, marked.via) {
            (Value::Null, _) => None,
            (Value::String(text), Via::Email) => match normalize_email(text) {
                Some(email) => Some((Via::Email, email)),
                None => {
                    report(errors, FieldError::new(field, EMAIL_MESSAGE));
                    None
                }
            },
            (Value::String(text), Via::Sms) => Some((Via::Sms, text.clone())),
            _ => {
                report(
                    errors,
                    FieldError::new(field, "must be a string: it is an address"),
                );
                None
            }
        })
        .collect()
}

/// Adds `error` unless its field is reported already (a trait can be marked twice).
fn report(errors: &mut Vec<FieldError>, error: FieldError) {
    if !errors.iter().any(|known| known.field == error.field) {
        errors.push(error);
    }
}

const EMAIL_MESSAGE: &str = "must be an email address, such as ada@example.com";

/// The form an identifier is stored and compared in.
fn identifier_of(text: &str, email: bool) -> Result<String, String> {
    if email {
        return normalize_email(text).ok_or_else(|| EMAIL_MESSAGE.to_owned());
    }
    if text.is_empty() {
        return Err("must not be empty: people sign in with it".to_owned());
    }
    if text.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "must be at most {MAX_IDENTIFIER_BYTES} bytes: people sign in with it"
        ));
    }
    if text.trim() != text || text.chars().any(char::is_control) {
        return Err(
            "must not begin or end with spaces nor hold control characters: people sign in with it"
                .to_owned(),
        );
    }
    Ok(text.to_lowercase())
}

fn shown_path(path: &[Step]) -> String {
    path.iter()
        .fold("traits".to_owned(), |field, step| match step {
            Step::Member(key) => member_path(&field, key),
            Step::Items => format!("{field}[]"),
        })
}

/// The configured identity schemas, one of them the default.
#[derive(Debug, Clone)]
pub struct IdentitySchemas {
    schemas: Vec<IdentitySchema>,
    default: usize,
}

impl IdentitySchemas {
    /// The configured `schemas`, `default_id` the one new identities get when they name none.
    ///
    /// # Errors
    /// [`SchemaError`] when there are none, an id is given twice or `default_id` is not one of
    /// them.
    pub fn new(schemas: Vec<IdentitySchema>, default_id: &str) -> Result<Self, SchemaError> {
        if schemas.is_empty() {
            return Err(SchemaError::Empty);
        }
        for (index, schema) in schemas.iter().enumerate() {
            if schemas[..index].iter().any(|other| other.id == schema.id) {
                return Err(SchemaError::DuplicateId(schema.id.clone()));
            }
        }
        let default = schemas
            .iter()
            .position(|schema| schema.id == default_id)
            .ok_or_else(|| SchemaError::UnknownDefault {
                id: default_id.to_owned(),
                known: known_ids(&schemas),
            })?;
        Ok(Self { schemas, default })
    }

    /// The built-in schema alone: an optional email that people sign in with.
    #[must_use]
    #[expect(
        clippy::expect_used,
        reason = "a constant, compiled by every test that uses the built-in schema"
    )]
    pub fn built_in() -> Self {
        let schema = IdentitySchema::parse(DEFAULT_SCHEMA_ID, BUILT_IN)
            .expect("the built-in schema compiles");
        Self {
            schemas: vec![schema],
            default: 0,
        }
    }

    /// The schema with `id`, or the default one for `None`.
    #[must_use]
    pub fn get(&self, id: Option<&str>) -> Option<&IdentitySchema> {
        match id {
            None => self.schemas.get(self.default),
            Some(id) => self.schemas.iter().find(|schema| schema.id == id),
        }
    }

    #[must_use]
    pub fn default_schema(&self) -> &IdentitySchema {
        &self.schemas[self.default]
    }

    pub fn iter(&self) -> impl Iterator<Item = &IdentitySchema> {
        self.schemas.iter()
    }

    /// The ids, for messages: `"default", "customer"`.
    #[must_use]
    pub fn known_ids(&self) -> String {
        known_ids(&self.schemas)
    }
}

impl Default for IdentitySchemas {
    fn default() -> Self {
        Self::built_in()
    }
}

fn known_ids(schemas: &[IdentitySchema]) -> String {
    schemas
        .iter()
        .map(|schema| format!("\"{}\"", schema.id))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMER: &str = r#"{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {"traits": {
        "type": "object",
        "properties": {
          "username": {"type": "string", "title": "Username", "minLength": 3,
            "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}},
          "name": {"type": "string"},
          "emails": {"type": "array", "items": {"type": "string", "format": "email",
            "ory.sh/kratos": {"recovery": {"via": "email"}, "verification": {"via": "email"}}}}
        },
        "required": ["name", "username"],
        "additionalProperties": false
      }}
    }"#;

    fn customer() -> IdentitySchema {
        IdentitySchema::parse("customer", CUSTOMER).unwrap()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn the_built_in_schema_signs_in_with_email_and_marks_it_an_address() {
        let schemas = IdentitySchemas::built_in();
        let schema = schemas.default_schema();
        assert_eq!(schema.id(), DEFAULT_SCHEMA_ID);
        assert!(schema.signs_in_with_email());
        let marks = schema.marks(&json!({"email": "Ada@Example.com"})).unwrap();
        assert_eq!(marks.identifier.as_deref(), Some("ada@example.com"));
        assert_eq!(marks.addresses.recovery[0].value, "ada@example.com");
        assert_eq!(marks.addresses.verifiable[0].value, "ada@example.com");
        assert!(!marks.addresses.verifiable[0].is_verified());
        assert_eq!(schema.identifier_title(), Some("Email address"));
    }

    #[test]
    fn missing_and_unknown_traits_are_named() {
        let errors = customer().check(&json!({"username": "ada", "nickname": "A"}));
        assert_eq!(fields(&errors), ["traits.name", "traits.nickname"]);
        assert!(
            errors[0].message.contains("required"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[1].message.contains("remove it"),
            "{}",
            errors[1].message
        );
    }

    #[test]
    fn every_other_rule_names_the_field_without_echoing_the_value() {
        let errors = customer().check(&json!({
            "username": "ad", "name": "Ada", "emails": ["secret-value"]
        }));
        assert_eq!(fields(&errors), ["traits.emails[0]", "traits.username"]);
        assert!(
            errors
                .iter()
                .all(|error| !error.message.contains("secret-value"))
        );
    }

    #[test]
    fn a_username_is_compared_lower_cased_but_not_as_an_email() {
        let schema = customer();
        assert!(!schema.signs_in_with_email());
        let marks = schema
            .marks(&json!({"username": "Ada.L", "name": "Ada", "emails": ["A@b.co", "c@d.co"]}))
            .unwrap();
        assert_eq!(marks.identifier.as_deref(), Some("ada.l"));
        let recovery: Vec<_> = marks
            .addresses
            .recovery
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(recovery, ["a@b.co", "c@d.co"]);
        let errors = schema
            .marks(&json!({"username": " ada", "emails": ["x"]}))
            .unwrap_err();
        assert_eq!(
            fields(errors.as_slice()),
            ["traits.username", "traits.emails[0]"]
        );
    }

    #[test]
    fn an_extension_it_cannot_follow_stops_the_schema() {
        let two = r#"{"properties": {"traits": {"properties": {
            "a": {"ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}},
            "b": {"ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}}}"#;
        let in_array = r#"{"properties": {"traits": {"properties": {
            "a": {"items": {"ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}}}}"#;
        let via = r#"{"properties": {"traits": {"properties": {
            "a": {"ory.sh/kratos": {"recovery": {"via": "pigeon"}}}}}}}"#;
        for (document, says) in [(two, "second"), (in_array, "array"), (via, "pigeon")] {
            let error = IdentitySchema::parse("x", document).unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
        assert!(matches!(
            IdentitySchema::parse("x", "{"),
            Err(SchemaError::NotJson { .. })
        ));
        assert!(matches!(
            IdentitySchema::parse("x", r#"{"type": 5}"#),
            Err(SchemaError::NotJsonSchema { .. })
        ));
    }

    #[test]
    fn the_set_has_one_default_and_unique_ids() {
        let set = IdentitySchemas::new(vec![customer()], "customer").unwrap();
        assert_eq!(set.get(None).map(IdentitySchema::id), Some("customer"));
        assert!(set.get(Some("default")).is_none());
        assert!(matches!(
            IdentitySchemas::new(vec![customer()], "default"),
            Err(SchemaError::UnknownDefault { .. })
        ));
        assert!(matches!(
            IdentitySchemas::new(vec![customer(), customer()], "customer"),
            Err(SchemaError::DuplicateId(_))
        ));
        assert!(matches!(
            IdentitySchemas::new(Vec::new(), "x"),
            Err(SchemaError::Empty)
        ));
    }
}
