//! Identities: who can be recovered.

use serde_json::{Map, Value};

use crate::document::{self, FieldError, FieldErrors};
use crate::id::IdentityId;
use crate::password::PasswordHash;
use crate::time::Timestamp;

/// The only identity schema this service knows; its one optional trait is `email`.
pub const DEFAULT_SCHEMA_ID: &str = "default";

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
    /// Always a JSON object.
    pub traits: Value,
    /// What the identity itself may read (whoami, sessions); never JSON `null`.
    pub metadata_public: Option<Value>,
    /// What only the admin API shows; never JSON `null`.
    pub metadata_admin: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Identity {
    /// The `traits.email`, as stored.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.traits.get("email").and_then(Value::as_str)
    }
}

/// A validated identity about to be stored.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub identity: Identity,
    /// The lower-cased `traits.email`: the identifier people sign in with, unique.
    pub identifier: Option<String>,
    pub password: Option<PasswordHash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("\"traits\" must be a JSON object")]
    TraitsNotObject,
    #[error("unknown identity schema \"{0}\": only \"default\" is configured")]
    UnknownSchema(String),
    #[error("\"state\" must be \"active\" or \"inactive\", not \"{0}\"")]
    InvalidState(String),
    #[error("\"traits.email\" must be a string")]
    EmailNotString,
    #[error("\"traits.email\" value \"{0}\" is not a valid email address")]
    InvalidEmail(String),
    /// The traits or the metadata hold what no store can keep and give back equal.
    #[error("{0}")]
    InvalidTraits(FieldErrors),
}

impl IdentityError {
    /// The fields at fault, each with what to change.
    #[must_use]
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::TraitsNotObject => vec![FieldError::new("traits", "must be a JSON object")],
            Self::UnknownSchema(_) => vec![FieldError::new(
                "schema_id",
                format!("must be \"{DEFAULT_SCHEMA_ID}\", the only schema configured"),
            )],
            Self::InvalidState(_) => vec![FieldError::new(
                "state",
                "must be \"active\" or \"inactive\"",
            )],
            Self::EmailNotString => vec![FieldError::new("traits.email", "must be a string")],
            Self::InvalidEmail(_) => vec![FieldError::new(
                "traits.email",
                "must be an email address, such as ada@example.com",
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
    /// Checks the draft and stamps it with `id` and `now`.
    ///
    /// # Errors
    /// [`IdentityError`] for an unknown schema, a bad state, traits that are not an object,
    /// traits or metadata no store can keep ([`document::check`]) or an email trait that is
    /// not an address.
    pub fn validate(
        self,
        id: IdentityId,
        password: Option<PasswordHash>,
        now: Timestamp,
    ) -> Result<NewIdentity, IdentityError> {
        self.validate_as(id, password, now, now)
    }

    /// Checks the draft as the new content of `current`: its id and creation instant stay,
    /// `updated_at` becomes `now`.
    ///
    /// # Errors
    /// As [`IdentityDraft::validate`]; traits are required here, as in Kratos's update body:
    /// absent or `null` they are [`IdentityError::TraitsNotObject`].
    pub fn validate_replacing(
        self,
        current: &Identity,
        password: Option<PasswordHash>,
        now: Timestamp,
    ) -> Result<NewIdentity, IdentityError> {
        if !matches!(self.traits, Some(Value::Object(_))) {
            return Err(IdentityError::TraitsNotObject);
        }
        self.validate_as(current.id, password, current.created_at, now)
    }

    fn validate_as(
        self,
        id: IdentityId,
        password: Option<PasswordHash>,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Result<NewIdentity, IdentityError> {
        let schema_id = self
            .schema_id
            .unwrap_or_else(|| DEFAULT_SCHEMA_ID.to_owned());
        if schema_id != DEFAULT_SCHEMA_ID {
            return Err(IdentityError::UnknownSchema(schema_id));
        }
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
        let mut errors = document::check("traits", &traits);
        for (field, metadata) in [
            ("metadata_public", &metadata_public),
            ("metadata_admin", &metadata_admin),
        ] {
            if let Some(metadata) = metadata {
                errors.extend(document::check(field, metadata));
            }
        }
        errors.truncate(document::MAX_REPORTED);
        if let Some(errors) = FieldErrors::from_vec(errors) {
            return Err(IdentityError::InvalidTraits(errors));
        }
        let identifier = match traits.get("email") {
            None | Some(Value::Null) => None,
            Some(Value::String(email)) => Some(normalize_email(email)?),
            Some(_) => return Err(IdentityError::EmailNotString),
        };
        Ok(NewIdentity {
            identity: Identity {
                id,
                schema_id,
                state,
                traits,
                metadata_public,
                metadata_admin,
                created_at,
                updated_at: now,
            },
            identifier,
            password,
        })
    }
}

/// The canonical form of an email address used as an identifier: lower-cased.
///
/// # Errors
/// [`IdentityError::InvalidEmail`] unless `email` has one `@`, a non-empty local part, a domain
/// with a dot and no empty labels, no whitespace or control characters, and at most 254 bytes.
pub fn normalize_email(email: &str) -> Result<String, IdentityError> {
    let invalid = || IdentityError::InvalidEmail(email.to_owned());
    let candidate = email.to_lowercase();
    let (local, domain) = candidate.split_once('@').ok_or_else(invalid)?;
    let well_formed = candidate.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !candidate
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(candidate)
    } else {
        Err(invalid())
    }
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

    fn draft(traits: Value) -> IdentityDraft {
        IdentityDraft {
            traits: Some(traits),
            ..IdentityDraft::default()
        }
    }

    #[test]
    fn defaults_to_the_default_schema_and_active_state() {
        let new = draft(json!({"email": "Ada@Example.COM"}))
            .validate(NIL, None, now())
            .unwrap();
        assert_eq!(new.identity.schema_id, "default");
        assert_eq!(new.identity.state, IdentityState::Active);
        assert_eq!(new.identifier.as_deref(), Some("ada@example.com"));
        assert_eq!(new.identity.created_at, now());
        assert_eq!(new.identity.updated_at, now());
    }

    #[test]
    fn traits_may_be_absent_or_without_email() {
        let new = IdentityDraft::default().validate(NIL, None, now()).unwrap();
        assert_eq!(new.identity.traits, json!({}));
        assert_eq!(new.identifier, None);
        let new = draft(json!({"name": "Ada"}))
            .validate(NIL, None, now())
            .unwrap();
        assert_eq!(new.identifier, None);
    }

    #[test]
    fn refuses_bad_drafts_with_a_reason() {
        let cases = [
            (draft(json!([1])), IdentityError::TraitsNotObject),
            (draft(json!({"email": 5})), IdentityError::EmailNotString),
            (
                draft(json!({"email": "not-an-address"})),
                IdentityError::InvalidEmail("not-an-address".into()),
            ),
            (
                IdentityDraft {
                    schema_id: Some("customer".into()),
                    ..IdentityDraft::default()
                },
                IdentityError::UnknownSchema("customer".into()),
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
            assert_eq!(draft.validate(NIL, None, now()).unwrap_err(), expected);
        }
    }

    #[test]
    fn traits_no_store_can_keep_are_refused_with_their_fields() {
        let error = draft(json!({"address": {"lines": ["a", "b", "\u{0}"]}, "email": "a@b.co"}))
            .validate(NIL, None, now())
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
        .validate(NIL, None, now())
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
        .validate(NIL, None, now())
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
            .validate(NIL, None, now())
            .unwrap()
            .identity;
        let later = now() + chrono::Duration::seconds(5);
        let replaced = IdentityDraft {
            state: Some("inactive".into()),
            traits: Some(json!({"email": "B@c.co"})),
            ..IdentityDraft::default()
        }
        .validate_replacing(&created, None, later)
        .unwrap();
        assert_eq!(replaced.identity.id, created.id);
        assert_eq!(replaced.identity.created_at, now());
        assert_eq!(replaced.identity.updated_at, later);
        assert_eq!(replaced.identity.state, IdentityState::Inactive);
        assert_eq!(replaced.identifier.as_deref(), Some("b@c.co"));
        for traits in [None, Some(Value::Null)] {
            let error = IdentityDraft {
                traits,
                ..IdentityDraft::default()
            }
            .validate_replacing(&created, None, later)
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
            let error = draft.validate(NIL, None, now()).unwrap_err();
            assert_eq!(error.fields()[0].field, field);
        }
    }

    #[test]
    fn email_rules() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "ÄDA@exämple.de"] {
            assert!(normalize_email(good).is_ok(), "{good}");
        }
        for bad in [
            "", "@b.co", "a@", "a@b", "a@@b.co", "a@b..co", "a b@c.de", "a@b.co\n", " a@b.co",
            "a@.co",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@b.co", "a".repeat(65))).is_err());
    }
}
