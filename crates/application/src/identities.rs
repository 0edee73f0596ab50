//! Managing identities through the admin API.

use domain::audit::{Action, Origin};
use domain::id::IdentityId;
use domain::identity::{Identity, IdentityDraft, IdentityError, NewIdentity, typed_identifier};
use domain::identity_patch::{IdentityPatch, PatchError};
use domain::password::{PasswordError, PasswordHash};

use crate::hashing::HashingError;
use crate::ports::{IdentityQuery, InsertIdentityError, ReplaceIdentityError, Store, StoreError};
use crate::{Service, paging};

/// A new identity as the operator sends it; the password is in clear until hashed here, and
/// `Debug` does not print it.
#[derive(Clone, Default)]
pub struct CreateIdentityRequest {
    pub draft: IdentityDraft,
    pub password: Option<String>,
}

impl std::fmt::Debug for CreateIdentityRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateIdentityRequest")
            .field("draft", &self.draft)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateIdentityError {
    #[error(transparent)]
    Invalid(#[from] IdentityError),
    #[error(transparent)]
    InvalidPassword(PasswordError),
    #[error("an identity with this identifier already exists")]
    Duplicate,
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The new content of an identity: its traits, state and metadata are replaced; its password
/// only when one is given (in clear until hashed here; `Debug` does not print it).
#[derive(Clone, Default)]
pub struct UpdateIdentityRequest {
    pub draft: IdentityDraft,
    pub password: Option<String>,
}

impl std::fmt::Debug for UpdateIdentityRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateIdentityRequest")
            .field("draft", &self.draft)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateIdentityError {
    #[error("identity {0} was not found")]
    NotFound(IdentityId),
    #[error(transparent)]
    Invalid(#[from] IdentityError),
    #[error(transparent)]
    InvalidPatch(#[from] PatchError),
    #[error(transparent)]
    InvalidPassword(PasswordError),
    #[error("an identity with this identifier already exists")]
    Duplicate,
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityLookupError {
    #[error("identity {0} was not found")]
    NotFound(IdentityId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The page size bounds of listing (as Kratos: default 250, at most 1000).
pub const DEFAULT_PAGE_SIZE: usize = 250;
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct ListIdentitiesRequest {
    pub page_size: Option<usize>,
    /// The token of the previous page's `next`, as returned by this use case.
    pub page_token: Option<String>,
    /// An identifier (email address or name): only the identity that signs in with it.
    pub credentials_identifier: Option<String>,
}

#[derive(Debug)]
pub struct IdentityPage {
    pub identities: Vec<Identity>,
    pub page_size: usize,
    /// The token of the next page, when there is one.
    pub next_page_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ListIdentitiesError {
    #[error("\"page_size\" must be between 1 and {MAX_PAGE_SIZE}, not {0}")]
    InvalidPageSize(usize),
    #[error("\"page_token\" \"{0}\" is not a token this service returned")]
    InvalidPageToken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Service<S> {
    /// Creates an identity; a password, when given, is stored as an Argon2id hash.
    ///
    /// # Errors
    /// [`CreateIdentityError::Invalid`] / [`CreateIdentityError::InvalidPassword`] for bad
    /// input, [`CreateIdentityError::Duplicate`] when the identifier is taken,
    /// [`CreateIdentityError::Store`] when the store fails.
    pub async fn create_identity(
        &self,
        request: CreateIdentityRequest,
        origin: &Origin,
    ) -> Result<Identity, CreateIdentityError> {
        let now = self.clock.now();
        // Validate before the deliberately slow hashing, so bad drafts answer at once.
        let NewIdentity { identity, .. } = request.draft.validate(
            &self.schemas,
            IdentityId::new_v7(now, &mut rand::rng()),
            None,
            now,
        )?;
        let password = match request.password {
            None => None,
            Some(plain) => Some(
                self.hasher
                    .hash(plain, None)
                    .await?
                    .map_err(CreateIdentityError::InvalidPassword)?,
            ),
        };
        let event = self
            .audit(origin, Action::IdentityCreated, now)
            .identity(identity.id);
        let new = NewIdentity { identity, password };
        self.store
            .insert_identity(new, event)
            .await
            .map_err(|error| match error {
                InsertIdentityError::DuplicateIdentifier => CreateIdentityError::Duplicate,
                InsertIdentityError::Store(error) => CreateIdentityError::Store(error),
            })
    }

    /// Replaces the traits, state and metadata of identity `id` (and its password when one is
    /// given); the identifier follows the traits.
    ///
    /// # Errors
    /// [`UpdateIdentityError::NotFound`], [`UpdateIdentityError::Invalid`] /
    /// [`UpdateIdentityError::InvalidPassword`] for bad input, [`UpdateIdentityError::Duplicate`]
    /// when another identity has the new identifier, [`UpdateIdentityError::Hashing`] when the
    /// hashing queue is full, [`UpdateIdentityError::Store`] when the store fails.
    pub async fn update_identity(
        &self,
        id: IdentityId,
        request: UpdateIdentityRequest,
        origin: &Origin,
    ) -> Result<Identity, UpdateIdentityError> {
        let current = self.current_identity(id).await?;
        self.replace_identity(current, request.draft, request.password, origin)
            .await
    }

    /// Applies a JSON Patch to identity `id`, then stores the result as
    /// [`Service::update_identity`] would.
    ///
    /// # Errors
    /// [`UpdateIdentityError::InvalidPatch`] for an operation that fails, else as
    /// [`Service::update_identity`].
    pub async fn patch_identity(
        &self,
        id: IdentityId,
        patch: &IdentityPatch,
        origin: &Origin,
    ) -> Result<Identity, UpdateIdentityError> {
        let current = self.current_identity(id).await?;
        let draft = patch.apply(&current)?;
        self.replace_identity(current, draft, None, origin).await
    }

    async fn current_identity(&self, id: IdentityId) -> Result<Identity, UpdateIdentityError> {
        self.store
            .find_identity(id)
            .await?
            .ok_or(UpdateIdentityError::NotFound(id))
    }

    /// The one way an identity changes: validated as on creation, the password hashed through
    /// the bounded hasher, stored whole, audited.
    async fn replace_identity(
        &self,
        current: Identity,
        draft: IdentityDraft,
        password: Option<String>,
        origin: &Origin,
    ) -> Result<Identity, UpdateIdentityError> {
        let now = self.clock.now();
        // Validate before the deliberately slow hashing, so bad drafts answer at once.
        let NewIdentity { identity, .. } =
            draft.validate_replacing(&self.schemas, &current, None, now)?;
        let password = match password {
            None => None,
            Some(plain) => Some(self.hash_password(plain).await?),
        };
        let password_changed = password.is_some();
        let stored = self
            .store
            .replace_identity(
                NewIdentity { identity, password },
                self.audit(origin, Action::IdentityUpdated, now)
                    .identity(current.id),
            )
            .await
            .map_err(|error| match error {
                ReplaceIdentityError::NotFound => UpdateIdentityError::NotFound(current.id),
                ReplaceIdentityError::DuplicateIdentifier => UpdateIdentityError::Duplicate,
                ReplaceIdentityError::Store(error) => UpdateIdentityError::Store(error),
            })?;
        let mut changed = changed_fields(&current, &stored);
        if password_changed {
            changed.push("credentials.password");
        }
        tracing::info!(
            target: "audit",
            identity_id = %stored.id,
            changed = %changed.join(","),
            "identity updated"
        );
        Ok(stored)
    }

    async fn hash_password(&self, plain: String) -> Result<PasswordHash, UpdateIdentityError> {
        self.hasher
            .hash(plain, None)
            .await?
            .map_err(UpdateIdentityError::InvalidPassword)
    }

    /// # Errors
    /// [`IdentityLookupError::NotFound`] or [`IdentityLookupError::Store`].
    pub async fn get_identity(&self, id: IdentityId) -> Result<Identity, IdentityLookupError> {
        self.store
            .find_identity(id)
            .await?
            .ok_or(IdentityLookupError::NotFound(id))
    }

    /// Deletes an identity with its recovery flows and codes.
    ///
    /// # Errors
    /// [`IdentityLookupError::NotFound`] or [`IdentityLookupError::Store`].
    pub async fn delete_identity(
        &self,
        id: IdentityId,
        origin: &Origin,
    ) -> Result<(), IdentityLookupError> {
        let event = self
            .audit(origin, Action::IdentityDeleted, self.clock.now())
            .identity(id);
        if self.store.delete_identity(id, event).await? {
            Ok(())
        } else {
            Err(IdentityLookupError::NotFound(id))
        }
    }

    /// One page of identities in a stable order, optionally only the one with an identifier.
    ///
    /// # Errors
    /// [`ListIdentitiesError::InvalidPageSize`], [`ListIdentitiesError::InvalidPageToken`] or
    /// [`ListIdentitiesError::Store`].
    pub async fn list_identities(
        &self,
        request: ListIdentitiesRequest,
    ) -> Result<IdentityPage, ListIdentitiesError> {
        let page_size = request.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(ListIdentitiesError::InvalidPageSize(page_size));
        }
        let after = paging::cursor::<IdentityId>(request.page_token)
            .map_err(ListIdentitiesError::InvalidPageToken)?;
        let identifier = request
            .credentials_identifier
            .as_deref()
            .map(typed_identifier);
        // One more than asked tells whether another page follows.
        let mut identities = self
            .store
            .list_identities(IdentityQuery {
                after,
                limit: page_size + 1,
                identifier,
            })
            .await?;
        let next_page_token = paging::next_page(&mut identities, page_size, |identity| identity.id);
        Ok(IdentityPage {
            identities,
            page_size,
            next_page_token,
        })
    }
}

/// The top-level fields, named as on the wire, that differ between `before` and `after`.
fn changed_fields(before: &Identity, after: &Identity) -> Vec<&'static str> {
    [
        ("schema_id", before.schema_id != after.schema_id),
        ("state", before.state != after.state),
        ("traits", before.traits != after.traits),
        (
            "metadata_public",
            before.metadata_public != after.metadata_public,
        ),
        (
            "metadata_admin",
            before.metadata_admin != after.metadata_admin,
        ),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}
