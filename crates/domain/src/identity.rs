//! Identities: who can be recovered.

use serde_json::{Map, Value};

use crate::address::Addresses;
use crate::document::{self, FieldError, FieldErrors};
use crate::id::IdentityId;
pub use crate::identity_schema::DEFAULT_SCHEMA_ID;
use crate::identity_schema::IdentitySchemas;
use crate::password::PasswordHash;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityState {
    Active,
    Inactive,
}

impl IdentityState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// # Errors
    /// [`IdentityError::InvalidState`] for anything but `active` or `inactive`.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(IdentityError::InvalidState(other.to_owned())),
        }
    }
}

/// An identity as stored and shown; credentials are never part of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: IdentityId,
    pub schema_id: String,
    pub state: IdentityState,
    /// Always a JSON object, valid against the identity's schema when it was written.
    pub traits: Value,
    /// What people sign in with, as compared: the trait the schema marks as identifier,
    /// lower-cased.
    pub identifier: Option<String>,
    /// The addresses the schema marks in the traits, with their proofs.
    pub addresses: Addresses,
    /// What the identity itself may read (whoami, sessions); never JSON `null`.
    pub metadata_public: Option<Value>,
    /// What only the admin API shows; never JSON `null`.
    pub metadata_admin: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A validated identity about to be stored; its identifier is unique among identities.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub identity: Identity,
    pub password: Option<PasswordHash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("\"traits\" must be a JSON object")]
    TraitsNotObject,
    #[error("unknown identity schema \"{id}\": the configured ones are {known}")]
    UnknownSchema { id: String, known: String },
    #[error("\"state\" must be \"active\" or \"inactive\", not \"{0}\"")]
    InvalidState(String),
    /// The traits do not match the schema, or they or the metadata hold what no store can keep
    /// and give back equal.
    #[error("{0}")]
    InvalidTraits(FieldErrors),
}

impl IdentityError {
    /// The fields at fault, each with what to change.
    #[must_use]
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::TraitsNotObject => vec![FieldError::new("traits", "must be a JSON object")],
            Self::UnknownSchema { known, .. } => vec![FieldError::new(
                "schema_id",
                format!("must be one of the configured identity schemas: {known}"),
            )],
            Self::InvalidState(_) => vec![FieldError::new(
                "state",
                "must be \"active\" or \"inactive\"",
            )],
            Self::InvalidTraits(errors) => errors.as_slice().to_vec(),
        }
    }
}

/// What an operator supplies to create an identity, or to replace one's traits, state and
/// metadata.
#[derive(Debug, Clone, Default)]
pub struct IdentityDraft {
    pub schema_id: Option<String>,
    pub state: Option<String>,
    pub traits: Option<Value>,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
}

impl IdentityDraft {
    /// Checks the draft against its schema among `schemas` and stamps it with `id` and `now`.
    ///
    /// # Errors
    /// [`IdentityError`] for an unknown schema, a bad state, traits that are not an object, and
    /// ([`IdentityError::InvalidTraits`], every field named) traits that do not match the
    /// schema or whose marked traits cannot be what they are marked as, and traits or metadata
    /// no store can keep ([`document::check`]).
    pub fn validate(
        self,
        schemas: &IdentitySchemas,
        id: IdentityId,
        password: Option<PasswordHash>,
        now: Timestamp,
    ) -> Result<NewIdentity, IdentityError> {
        let stamps = Stamps {
            id,
            created_at: now,
            updated_at: now,
        };
        self.validate_as(schemas, stamps, &Addresses::default(), password)
    }

    /// Checks the draft as the new content of `current`: its id and creation instant stay,
    /// `updated_at` becomes `now`, and its addresses that stay keep their proofs.
    ///
    /// # Errors
    /// As [`IdentityDraft::validate`]; traits are required here, as in Kratos's update body:
    /// absent or `null` they are [`IdentityError::TraitsNotObject`].
    pub fn validate_replacing(
        self,
        schemas: &IdentitySchemas,
        current: &Identity,
        password: Option<PasswordHash>,
        now: Timestamp,
    ) -> Result<NewIdentity, IdentityError> {
        if !matches!(self.traits, Some(Value::Object(_))) {
            return Err(IdentityError::TraitsNotObject);
        }
        let stamps = Stamps {
            id: current.id,
            created_at: current.created_at,
            updated_at: now,
        };
        self.validate_as(schemas, stamps, &current.addresses, password)
    }

    fn validate_as(
        self,
        schemas: &IdentitySchemas,
        stamps: Stamps,
        before: &Addresses,
        password: Option<PasswordHash>,
    ) -> Result<NewIdentity, IdentityError> {
        let schema =
            schemas
                .get(self.schema_id.as_deref())
                .ok_or_else(|| IdentityError::UnknownSchema {
                    id: self.schema_id.clone().unwrap_or_default(),
                    known: schemas.known_ids(),
                })?;
        let state = self
            .state
            .as_deref()
            .map_or(Ok(IdentityState::Active), IdentityState::parse)?;
        let traits = match self.traits {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(Value::Object(map)) => Value::Object(map),
            Some(_) => return Err(IdentityError::TraitsNotObject),
        };
        let metadata_public = self.metadata_public.filter(|value| !value.is_null());
        let metadata_admin = self.metadata_admin.filter(|value| !value.is_null());
        // One list of every problem: what no store can keep first, then what the schema and
        // its marks refuse.
        let mut errors = document::check("traits", &traits);
        for (field, metadata) in [
            ("metadata_public", &metadata_public),
            ("metadata_admin", &metadata_admin),
        ] {
            if let Some(metadata) = metadata {
                errors.extend(document::check(field, metadata));
            }
        }
        refuse(errors)?;
        refuse(schema.check(&traits))?;
        let marks = schema
            .marks(&traits)
            .map_err(IdentityError::InvalidTraits)?;
        Ok(NewIdentity {
            identity: Identity {
                id: stamps.id,
                schema_id: schema.id().to_owned(),
                state,
                traits,
                identifier: marks.identifier,
                addresses: marks.addresses.keeping_proofs_of(&before.verifiable),
                metadata_public,
                metadata_admin,
                created_at: stamps.created_at,
                updated_at: stamps.updated_at,
            },
            password,
        })
    }
}

/// `Ok` when there are no problems, else all of them (as many as are reported).
fn refuse(mut errors: Vec<FieldError>) -> Result<(), IdentityError> {
    errors.truncate(document::MAX_REPORTED);
    FieldErrors::from_vec(errors).map_or(Ok(()), |errors| Err(IdentityError::InvalidTraits(errors)))
}

/// The id and instants a validated identity is stamped with.
struct Stamps {
    id: IdentityId,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// The canonical form of an email address: lower-cased. `None` unless `email` has one `@`, a
/// non-empty local part, a domain with a dot and no empty labels, no whitespace or control
/// characters, and at most 254 bytes.
#[must_use]
pub fn normalize_email(email: &str) -> Option<String> {
    let candidate = email.to_lowercase();
    let (local, domain) = candidate.split_once('@')?;
    let well_formed = candidate.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !candidate
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    well_formed.then_some(candidate)
}

/// What a person typed as identifier, in the form identifiers are stored and compared in: an
/// email address or a name, trimmed and lower-cased.
#[must_use]
pub fn typed_identifier(typed: &str) -> String {
    typed.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    const NIL: IdentityId = IdentityId::from_uuid(Uuid::nil());

    fn now() -> Timestamp {
        Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
    }

    fn schemas() -> IdentitySchemas {
        IdentitySchemas::built_in()
    }

    fn draft(traits: Value) -> IdentityDraft {
        IdentityDraft {
            traits: Some(traits),
            ..IdentityDraft::default()
        }
    }

    #[test]
    fn defaults_to_the_default_schema_and_active_state() {
        let new = draft(json!({"email": "Ada@Example.COM"}))
            .validate(&schemas(), NIL, None, now())
            .unwrap();
        assert_eq!(new.identity.schema_id, "default");
        assert_eq!(new.identity.state, IdentityState::Active);
        assert_eq!(new.identity.identifier.as_deref(), Some("ada@example.com"));
        assert_eq!(new.identity.created_at, now());
        assert_eq!(new.identity.updated_at, now());
    }

    #[test]
    fn traits_may_be_absent_or_without_email() {
        let new = IdentityDraft::default()
            .validate(&schemas(), NIL, None, now())
            .unwrap();
        assert_eq!(new.identity.traits, json!({}));
        assert_eq!(new.identity.identifier, None);
        let new = draft(json!({"name": "Ada"}))
            .validate(&schemas(), NIL, None, now())
            .unwrap();
        assert_eq!(new.identity.identifier, None);
    }

    #[test]
    fn refuses_bad_drafts_with_a_reason() {
        let cases = [
            (draft(json!([1])), IdentityError::TraitsNotObject),
            (
                IdentityDraft {
                    schema_id: Some("customer".into()),
                    ..IdentityDraft::default()
                },
                IdentityError::UnknownSchema {
                    id: "customer".into(),
                    known: "\"default\"".into(),
                },
            ),
            (
                IdentityDraft {
                    state: Some("banned".into()),
                    ..IdentityDraft::default()
                },
                IdentityError::InvalidState("banned".into()),
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(
                draft.validate(&schemas(), NIL, None, now()).unwrap_err(),
                expected
            );
        }
    }

    #[test]
    fn traits_no_store_can_keep_are_refused_with_their_fields() {
        let error = draft(json!({"address": {"lines": ["a", "b", "\u{0}"]}, "email": "a@b.co"}))
            .validate(&schemas(), NIL, None, now())
            .unwrap_err();
        let fields = error.fields();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "traits.address.lines[2]");
        assert!(
            error
                .to_string()
                .starts_with("\"traits.address.lines[2]\" must not")
        );
    }

    #[test]
    fn metadata_is_kept_and_null_means_absent() {
        let new = IdentityDraft {
            metadata_public: Some(json!({"plan": "pro"})),
            metadata_admin: Some(Value::Null),
            ..IdentityDraft::default()
        }
        .validate(&schemas(), NIL, None, now())
        .unwrap();
        assert_eq!(new.identity.metadata_public, Some(json!({"plan": "pro"})));
        assert_eq!(new.identity.metadata_admin, None);
    }

    #[test]
    fn metadata_no_store_can_keep_is_refused_with_each_field() {
        let error = IdentityDraft {
            traits: Some(json!({"name": "a\u{0}"})),
            metadata_public: Some(json!(["\u{0}"])),
            metadata_admin: Some(json!({"note": "\u{0}"})),
            ..IdentityDraft::default()
        }
        .validate(&schemas(), NIL, None, now())
        .unwrap_err();
        let fields: Vec<String> = error.fields().into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            ["traits.name", "metadata_public[0]", "metadata_admin.note"]
        );
    }

    #[test]
    fn a_replacement_keeps_the_id_and_creation_and_moves_updated_at() {
        let created = draft(json!({"email": "a@b.co"}))
            .validate(&schemas(), NIL, None, now())
            .unwrap()
            .identity;
        let later = now() + chrono::Duration::seconds(5);
        let replaced = IdentityDraft {
            state: Some("inactive".into()),
            traits: Some(json!({"email": "B@c.co"})),
            ..IdentityDraft::default()
        }
        .validate_replacing(&schemas(), &created, None, later)
        .unwrap();
        assert_eq!(replaced.identity.id, created.id);
        assert_eq!(replaced.identity.created_at, now());
        assert_eq!(replaced.identity.updated_at, later);
        assert_eq!(replaced.identity.state, IdentityState::Inactive);
        assert_eq!(replaced.identity.identifier.as_deref(), Some("b@c.co"));
        for traits in [None, Some(Value::Null)] {
            let error = IdentityDraft {
                traits,
                ..IdentityDraft::default()
            }
            .validate_replacing(&schemas(), &created, None, later)
            .unwrap_err();
            assert_eq!(error, IdentityError::TraitsNotObject);
        }
    }

    #[test]
    fn every_refusal_names_its_field() {
        for (draft, field) in [
            (draft(json!([1])), "traits"),
            (draft(json!({"email": 5})), "traits.email"),
            (draft(json!({"email": "x"})), "traits.email"),
        ] {
            let error = draft.validate(&schemas(), NIL, None, now()).unwrap_err();
            assert_eq!(error.fields()[0].field, field);
        }
    }

    #[test]
    fn email_rules() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "ÄDA@exämple.de"] {
            assert!(normalize_email(good).is_some(), "{good}");
        }
        for bad in [
            "", "@b.co", "a@", "a@b", "a@@b.co", "a@b..co", "a b@c.de", "a@b.co\n", " a@b.co",
            "a@.co",
        ] {
            assert!(normalize_email(bad).is_none(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@b.co", "a".repeat(65))).is_none());
    }
}
