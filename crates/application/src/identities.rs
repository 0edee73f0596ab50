//! Managing identities through the admin API.

use domain::id::IdentityId;
use domain::identity::{Identity, IdentityDraft, IdentityError, NewIdentity, normalize_email};
use domain::password::PasswordError;

use crate::Service;
use crate::hashing::HashingError;
use crate::ports::{IdentityQuery, InsertIdentityError, Store, StoreError};

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
    #[error("an identity with this email address already exists")]
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
    /// An email address: only the identity that signs in with it.
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
    /// input, [`CreateIdentityError::Duplicate`] when the email is taken,
    /// [`CreateIdentityError::Store`] when the store fails.
    pub async fn create_identity(
        &self,
        request: CreateIdentityRequest,
    ) -> Result<Identity, CreateIdentityError> {
        let now = self.clock.now();
        // Validate before the deliberately slow hashing, so bad drafts answer at once.
        let NewIdentity {
            identity,
            identifier,
            ..
        } = request
            .draft
            .validate(IdentityId::new_v7(now, &mut rand::rng()), None, now)?;
        let password = match request.password {
            None => None,
            Some(plain) => Some(
                self.hasher
                    .hash(plain, None)
                    .await?
                    .map_err(CreateIdentityError::InvalidPassword)?,
            ),
        };
        let new = NewIdentity {
            identity,
            identifier,
            password,
        };
        self.store
            .insert_identity(new)
            .await
            .map_err(|error| match error {
                InsertIdentityError::DuplicateIdentifier => CreateIdentityError::Duplicate,
                InsertIdentityError::Store(error) => CreateIdentityError::Store(error),
            })
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
    pub async fn delete_identity(&self, id: IdentityId) -> Result<(), IdentityLookupError> {
        if self.store.delete_identity(id).await? {
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
        let after = request
            .page_token
            .map(|token| {
                token
                    .parse::<IdentityId>()
                    .map_err(|_| ListIdentitiesError::InvalidPageToken(token))
            })
            .transpose()?;
        // An identifier that is not an address cannot match anything stored.
        let identifier = match request.credentials_identifier {
            None => None,
            Some(raw) => match normalize_email(&raw) {
                Ok(email) => Some(email),
                Err(_) => {
                    return Ok(IdentityPage {
                        identities: Vec::new(),
                        page_size,
                        next_page_token: None,
                    });
                }
            },
        };
        // One more than asked tells whether another page follows.
        let mut identities = self
            .store
            .list_identities(IdentityQuery {
                after,
                limit: page_size + 1,
                identifier,
            })
            .await?;
        let next_page_token = if identities.len() > page_size {
            identities.truncate(page_size);
            identities.last().map(|last| last.id.to_string())
        } else {
            None
        };
        Ok(IdentityPage {
            identities,
            page_size,
            next_page_token,
        })
    }
}
