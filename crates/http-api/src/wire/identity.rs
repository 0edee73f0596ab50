//! Kratos's `identity`, and the bodies that create one.

use domain::identity::IdentityState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::wire::Time;
use crate::wire::schema;

/// `identity`: what Kratos's clients read, never credentials.
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
    pub(crate) created_at: Time,
    pub(crate) updated_at: Time,
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
            created_at: identity.created_at.into(),
            updated_at: identity.updated_at.into(),
        }
    }
}

/// `createIdentityBody`: `schema_id` defaults to "default", `state` to "active". Unknown
/// fields are ignored; each field is checked by the domain, which names what is wrong.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createIdentityBody)]
pub(crate) struct CreateIdentityBody {
    pub(crate) schema_id: Option<String>,
    #[schema(value_type = Option<State>)]
    pub(crate) state: Option<String>,
    /// `{}` when absent.
    #[schema(value_type = Option<Object>)]
    pub(crate) traits: Option<Value>,
    pub(crate) credentials: Option<CredentialsBody>,
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
    /// 8 to 1024 characters, not the email address.
    #[schema(min_length = 8, max_length = 1024)]
    pub(crate) password: Option<String>,
}

impl CreateIdentityBody {
    pub(crate) fn password(&mut self) -> Option<String> {
        self.credentials
            .take()
            .and_then(|credentials| credentials.password)
            .and_then(|password| password.config.password)
    }
}
