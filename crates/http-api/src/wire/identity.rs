//! Kratos's `identity`, and the bodies that create and change one.
//!
//! Two types serve `identity`: [`Identity`] on the public listener (whoami, sessions, flows)
//! has no field for the admin metadata, so no public answer can carry it; [`AdminIdentity`],
//! on the admin listener, adds it. Each listener's document names its own as `identity`.

use domain::address::{RecoveryAddress, VerifiableAddress};
use domain::identity::{IdentityDraft, IdentityState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::Time;
use crate::wire::schema;

/// `identity` as the public listener shows it: never credentials, never the admin metadata.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = identity)]
pub(crate) struct Identity {
    pub(crate) id: Uuid,
    pub(crate) schema_id: String,
    /// Where the identity's schema is served.
    pub(crate) schema_url: String,
    pub(crate) state: State,
    /// The identity's traits, as its schema describes them.
    #[schema(value_type = Object)]
    pub(crate) traits: Value,
    /// The addresses that can be proven the identity's own, as its schema marks them.
    pub(crate) verifiable_addresses: Vec<VerifiableIdentityAddress>,
    /// The addresses that can recover the identity, as its schema marks them.
    pub(crate) recovery_addresses: Vec<RecoveryIdentityAddress>,
    /// What the identity itself may read; omitted when there is none, never `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>, nullable = false)]
    pub(crate) metadata_public: Option<Value>,
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
}

/// `verifiableIdentityAddress`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = verifiableIdentityAddress)]
pub(crate) struct VerifiableIdentityAddress {
    pub(crate) value: String,
    pub(crate) via: Via,
    pub(crate) verified: bool,
    /// When it was proven; omitted until it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) verified_at: Option<Time>,
    /// `completed` once proven, else `pending`.
    pub(crate) status: AddressStatus,
}

/// `recoveryIdentityAddress`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = recoveryIdentityAddress)]
pub(crate) struct RecoveryIdentityAddress {
    pub(crate) value: String,
    pub(crate) via: Via,
}

/// How an address is reached.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    Email,
    Sms,
}

impl From<domain::address::Via> for Via {
    fn from(via: domain::address::Via) -> Self {
        match via {
            domain::address::Via::Email => Self::Email,
            domain::address::Via::Sms => Self::Sms,
        }
    }
}

/// `identityVerifiableAddressStatus`, as far as this service sets it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = identityVerifiableAddressStatus)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AddressStatus {
    Pending,
    Completed,
}

impl From<&VerifiableAddress> for VerifiableIdentityAddress {
    fn from(address: &VerifiableAddress) -> Self {
        Self {
            value: address.value.clone(),
            via: address.via.into(),
            verified: address.is_verified(),
            verified_at: address.verified_at.map(Time::from),
            status: if address.is_verified() {
                AddressStatus::Completed
            } else {
                AddressStatus::Pending
            },
        }
    }
}

impl From<&RecoveryAddress> for RecoveryIdentityAddress {
    fn from(address: &RecoveryAddress) -> Self {
        Self {
            value: address.value.clone(),
            via: address.via.into(),
        }
    }
}

/// `identity` as the admin listener shows it: the public shape and the admin metadata.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = identity)]
pub(crate) struct AdminIdentity {
    #[serde(flatten)]
    #[schema(inline)]
    identity: Identity,
    /// What only the admin API shows; omitted when there is none, never `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>, nullable = false)]
    metadata_admin: Option<Value>,
}

impl AdminIdentity {
    /// `identity` with links to the public listener at `public_base_url`.
    pub(crate) fn new(identity: &domain::identity::Identity, public_base_url: &Url) -> Self {
        Self {
            identity: Identity::new(identity, public_base_url),
            metadata_admin: identity.metadata_admin.clone(),
        }
    }
}

/// `identity.state`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[schema(as = identityState)]
#[serde(rename_all = "lowercase")]
pub(crate) enum State {
    Active,
    Inactive,
}

impl From<IdentityState> for State {
    fn from(state: IdentityState) -> Self {
        match state {
            IdentityState::Active => Self::Active,
            IdentityState::Inactive => Self::Inactive,
        }
    }
}

impl Identity {
    /// `identity` as served by the public listener at `public_base_url`.
    pub(crate) fn new(identity: &domain::identity::Identity, public_base_url: &Url) -> Self {
        Self {
            id: identity.id.into(),
            schema_id: identity.schema_id.clone(),
            schema_url: format!("{public_base_url}{}", schema::path_of(&identity.schema_id)),
            state: identity.state.into(),
            traits: identity.traits.clone(),
            verifiable_addresses: identity
                .addresses
                .verifiable
                .iter()
                .map(Into::into)
                .collect(),
            recovery_addresses: identity.addresses.recovery.iter().map(Into::into).collect(),
            metadata_public: identity.metadata_public.clone(),
            created_at: identity.created_at.into(),
            updated_at: identity.updated_at.into(),
        }
    }
}

/// `createIdentityBody`: `schema_id` defaults to the default schema, `state` to "active".
/// Unknown fields are ignored; the traits are checked against the schema, and every field at
/// fault is named.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createIdentityBody)]
pub(crate) struct CreateIdentityBody {
    pub(crate) schema_id: Option<String>,
    #[schema(value_type = Option<State>)]
    pub(crate) state: Option<String>,
    /// `{}` when absent.
    #[schema(value_type = Option<Object>)]
    pub(crate) traits: Option<Value>,
    /// What the identity itself may read (whoami, sessions). Do not store secrets here.
    #[schema(value_type = Option<Value>)]
    pub(crate) metadata_public: Option<Value>,
    /// What only the admin API shows.
    #[schema(value_type = Option<Value>)]
    pub(crate) metadata_admin: Option<Value>,
    pub(crate) credentials: Option<CredentialsBody>,
}

/// `updateIdentityBody`: the identity's new traits, state and metadata, replacing the old
/// (metadata left out is removed); a password, when given, replaces the old one.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = updateIdentityBody)]
pub(crate) struct UpdateIdentityBody {
    /// The identity's schema; the default one when absent.
    pub(crate) schema_id: Option<String>,
    #[schema(value_type = State)]
    pub(crate) state: String,
    #[schema(value_type = Object)]
    pub(crate) traits: Value,
    /// What the identity itself may read (whoami, sessions). Do not store secrets here.
    #[schema(value_type = Option<Value>)]
    pub(crate) metadata_public: Option<Value>,
    /// What only the admin API shows.
    #[schema(value_type = Option<Value>)]
    pub(crate) metadata_admin: Option<Value>,
    pub(crate) credentials: Option<CredentialsBody>,
}

impl UpdateIdentityBody {
    /// The draft and the password in clear, when one is given.
    pub(crate) fn into_parts(self) -> (IdentityDraft, Option<String>) {
        let password = password_of(self.credentials);
        let draft = IdentityDraft {
            schema_id: self.schema_id,
            state: Some(self.state),
            traits: Some(self.traits),
            metadata_public: self.metadata_public,
            metadata_admin: self.metadata_admin,
        };
        (draft, password)
    }
}

/// `jsonPatchDocument`: RFC 6902 operations on the identity as `identity` shows it, limited to
/// `/schema_id`, `/state`, `/traits`, `/metadata_public` and `/metadata_admin`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct JsonPatchDocument(pub(crate) json_patch::Patch);

impl utoipa::PartialSchema for JsonPatchDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let operation = ObjectBuilder::new()
            .description(Some("A JSON Patch operation (RFC 6902)."))
            .property(
                "op",
                text("The operation.")
                    .enum_values(Some(["add", "remove", "replace", "move", "copy", "test"])),
            )
            .required("op")
            .property("path", text("Where it applies: a JSON Pointer (RFC 6901)."))
            .required("path")
            .property(
                "from",
                text("Where `move` and `copy` read: a JSON Pointer."),
            )
            .property(
                "value",
                ObjectBuilder::new().description(Some(
                    "The value that `add`, `replace` and `test` use; any JSON.",
                )),
            );
        ArrayBuilder::new()
            .items(operation)
            .max_items(Some(domain::identity_patch::MAX_OPERATIONS))
            .description(Some(
                "Applied in order, all or none. Only /schema_id, /state, /traits, \
                 /metadata_public and /metadata_admin can be patched.",
            ))
            .into()
    }
}

impl ToSchema for JsonPatchDocument {
    fn name() -> std::borrow::Cow<'static, str> {
        "jsonPatchDocument".into()
    }
}

/// `identityWithCredentials`: a password only.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = identityWithCredentials)]
pub(crate) struct CredentialsBody {
    pub(crate) password: Option<PasswordCredentialsBody>,
}

/// `identityWithCredentialsPassword`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = identityWithCredentialsPassword)]
pub(crate) struct PasswordCredentialsBody {
    pub(crate) config: PasswordConfigBody,
}

/// `identityWithCredentialsPasswordConfig`: the password in clear, hashed before it is stored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = identityWithCredentialsPasswordConfig)]
pub(crate) struct PasswordConfigBody {
    /// 8 to 1024 characters, not the identifier.
    #[schema(min_length = 8, max_length = 1024)]
    pub(crate) password: Option<String>,
}

impl CreateIdentityBody {
    /// The draft and the password in clear, when one is given.
    pub(crate) fn into_parts(self) -> (IdentityDraft, Option<String>) {
        let password = password_of(self.credentials);
        let draft = IdentityDraft {
            schema_id: self.schema_id,
            state: self.state,
            traits: self.traits,
            metadata_public: self.metadata_public,
            metadata_admin: self.metadata_admin,
        };
        (draft, password)
    }
}

fn password_of(credentials: Option<CredentialsBody>) -> Option<String> {
    credentials
        .and_then(|credentials| credentials.password)
        .and_then(|password| password.config.password)
}
