//! JSON Patch (RFC 6902) on an identity, as Kratos's `patchIdentity`: the operations apply to
//! the fields an operator may change, and the result is a draft that goes through the same
//! checks as a replacement.

use json_patch::{Patch, PatchOperation};
use serde_json::{Map, Value};

use crate::document::FieldError;
use crate::identity::{Identity, IdentityDraft};

/// At most this many operations in one patch: each one copies parts of the identity.
pub const MAX_OPERATIONS: usize = 100;

/// The top-level fields a patch may touch. As Kratos, `id` and `credentials` are not among
/// them, nor are the instants the service keeps.
pub const PATCHABLE_FIELDS: [&str; 5] = [
    "schema_id",
    "state",
    "traits",
    "metadata_public",
    "metadata_admin",
];

/// A patch whose size and paths have been checked.
#[derive(Debug, Clone)]
pub struct IdentityPatch(Patch);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("a patch holds at most {MAX_OPERATIONS} operations, not {0}")]
    TooManyOperations(usize),
    #[error(
        "patch operation {index} may not change \"{path}\": only /schema_id, /state, /traits, \
         /metadata_public and /metadata_admin can be patched"
    )]
    ForbiddenPath { index: usize, path: String },
    #[error("patch operation {index} failed at \"{path}\": {reason}")]
    Failed {
        index: usize,
        path: String,
        reason: String,
    },
}

impl PatchError {
    /// The operation at fault, named as its place in the request body.
    #[must_use]
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::TooManyOperations(_) => Vec::new(),
            Self::ForbiddenPath { index, .. } => vec![FieldError::new(
                format!("[{index}].path"),
                "must start with /schema_id, /state, /traits, /metadata_public or /metadata_admin",
            )],
            Self::Failed { index, reason, .. } => {
                vec![FieldError::new(format!("[{index}]"), reason.clone())]
            }
        }
    }
}

impl IdentityPatch {
    /// # Errors
    /// [`PatchError::TooManyOperations`] past [`MAX_OPERATIONS`];
    /// [`PatchError::ForbiddenPath`] for an operation that reads or writes outside
    /// [`PATCHABLE_FIELDS`].
    pub fn new(patch: Patch) -> Result<Self, PatchError> {
        if patch.0.len() > MAX_OPERATIONS {
            return Err(PatchError::TooManyOperations(patch.0.len()));
        }
        for (index, operation) in patch.0.iter().enumerate() {
            let from = match operation {
                PatchOperation::Move(operation) => Some(operation.from.as_str()),
                PatchOperation::Copy(operation) => Some(operation.from.as_str()),
                _ => None,
            };
            for path in std::iter::once(operation.path().as_str()).chain(from) {
                if !is_patchable(path) {
                    return Err(PatchError::ForbiddenPath {
                        index,
                        path: path.to_owned(),
                    });
                }
            }
        }
        Ok(Self(patch))
    }

    /// The draft that `current` becomes under this patch: every operation applies, or none.
    ///
    /// # Errors
    /// [`PatchError::Failed`] naming the first operation that fails (a `test` that does not
    /// match, a path that does not exist).
    pub fn apply(&self, current: &Identity) -> Result<IdentityDraft, PatchError> {
        let mut document = patchable_document(current);
        json_patch::patch(&mut document, &self.0).map_err(|error| PatchError::Failed {
            index: error.operation,
            path: error.path.as_str().to_owned(),
            reason: error.kind.to_string(),
        })?;
        let mut fields = match document {
            Value::Object(fields) => fields,
            // Every operation stays under a patchable field, so the document stays an object.
            _ => Map::new(),
        };
        Ok(IdentityDraft {
            schema_id: fields.remove("schema_id").map(text),
            state: fields.remove("state").map(text),
            traits: fields.remove("traits"),
            metadata_public: fields.remove("metadata_public"),
            metadata_admin: fields.remove("metadata_admin"),
        })
    }
}

/// Whether `pointer` lies within one of [`PATCHABLE_FIELDS`] (never the whole document).
fn is_patchable(pointer: &str) -> bool {
    let first = pointer
        .strip_prefix('/')
        .map(|rest| rest.split('/').next().unwrap_or_default());
    first.is_some_and(|field| PATCHABLE_FIELDS.contains(&field))
}

/// The identity as Kratos shows it, limited to what a patch may touch; absent metadata is
/// `null`, so that `replace` works on it as Kratos's does.
fn patchable_document(identity: &Identity) -> Value {
    serde_json::json!({
        "schema_id": identity.schema_id,
        "state": identity.state.as_str(),
        "traits": identity.traits,
        "metadata_public": identity.metadata_public,
        "metadata_admin": identity.metadata_admin,
    })
}

/// A string as itself; anything else as its JSON text, which the draft's checks refuse with
/// the field named.
fn text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IdentityId;
    use crate::identity::IdentityState;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    fn identity() -> Identity {
        let now = Utc.timestamp_millis_opt(1_764_064_800_000).unwrap();
        Identity {
            id: IdentityId::from_uuid(Uuid::nil()),
            schema_id: "default".into(),
            state: IdentityState::Active,
            traits: json!({"email": "ada@example.com", "name": "Ada"}),
            identifier: Some("ada@example.com".into()),
            addresses: crate::address::Addresses::default(),
            metadata_public: None,
            metadata_admin: Some(json!({"tier": 1})),
            created_at: now,
            updated_at: now,
        }
    }

    fn patch(operations: Value) -> Result<IdentityPatch, PatchError> {
        IdentityPatch::new(serde_json::from_value(operations).unwrap())
    }

    #[test]
    fn applies_to_traits_state_and_metadata() {
        let draft = patch(json!([
            {"op": "replace", "path": "/traits/email", "value": "grace@example.com"},
            {"op": "remove", "path": "/traits/name"},
            {"op": "replace", "path": "/state", "value": "inactive"},
            {"op": "replace", "path": "/metadata_public", "value": {"plan": "pro"}},
            {"op": "remove", "path": "/metadata_admin"},
        ]))
        .unwrap()
        .apply(&identity())
        .unwrap();
        assert_eq!(draft.traits, Some(json!({"email": "grace@example.com"})));
        assert_eq!(draft.state.as_deref(), Some("inactive"));
        assert_eq!(draft.schema_id.as_deref(), Some("default"));
        assert_eq!(draft.metadata_public, Some(json!({"plan": "pro"})));
        assert_eq!(draft.metadata_admin, None);
    }

    #[test]
    fn refuses_paths_outside_the_patchable_fields() {
        for (operations, path) in [
            (
                json!([{"op": "replace", "path": "/id", "value": "x"}]),
                "/id",
            ),
            (
                json!([{"op": "add", "path": "/credentials/password", "value": {}}]),
                "/credentials/password",
            ),
            (
                json!([{"op": "replace", "path": "/created_at", "value": "x"}]),
                "/created_at",
            ),
            (json!([{"op": "replace", "path": "", "value": {}}]), ""),
            (
                json!([{"op": "copy", "from": "/updated_at", "path": "/traits/x"}]),
                "/updated_at",
            ),
        ] {
            let error = patch(operations).unwrap_err();
            assert_eq!(
                error,
                PatchError::ForbiddenPath {
                    index: 0,
                    path: path.into()
                }
            );
        }
    }

    #[test]
    fn a_failing_operation_is_named_and_nothing_applies() {
        let error = patch(json!([
            {"op": "replace", "path": "/state", "value": "inactive"},
            {"op": "test", "path": "/traits/name", "value": "Grace"},
        ]))
        .unwrap()
        .apply(&identity())
        .unwrap_err();
        assert!(
            matches!(error, PatchError::Failed { index: 1, ref path, .. } if path == "/traits/name")
        );
        assert_eq!(error.fields()[0].field, "[1]");
        let error = patch(json!([{"op": "remove", "path": "/traits/missing"}]))
            .unwrap()
            .apply(&identity())
            .unwrap_err();
        assert!(matches!(error, PatchError::Failed { index: 0, .. }));
    }

    #[test]
    fn the_size_is_bounded() {
        let operation = json!({"op": "test", "path": "/state", "value": "active"});
        let operations = Value::Array(vec![operation; MAX_OPERATIONS + 1]);
        assert_eq!(
            patch(operations).unwrap_err(),
            PatchError::TooManyOperations(MAX_OPERATIONS + 1)
        );
    }

    #[test]
    fn a_state_that_is_not_text_reaches_the_draft_checks() {
        let draft = patch(json!([{"op": "replace", "path": "/state", "value": 5}]))
            .unwrap()
            .apply(&identity())
            .unwrap();
        assert_eq!(draft.state.as_deref(), Some("5"));
    }
}
