//! What operators see of failed sign-ins, and how they lift a lockout.

use domain::audit::{Action, Origin};
use domain::id::IdentityId;
use domain::identity::Identity;
use domain::lockout::{IdentifierKey, LockoutEntry};

use crate::Service;
use crate::identities::IdentityLookupError;
use crate::ports::Store;

/// The failed sign-ins on an identity's identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub identity_id: IdentityId,
    /// The count over all addresses first, when there is one, then one per address group.
    pub entries: Vec<LockoutEntry>,
}

impl<S: Store> Service<S> {
    /// The key failed sign-ins on `identity` are counted under, when it has an identifier.
    pub(crate) fn identifier_key_of(&self, identity: &Identity) -> Option<IdentifierKey> {
        identity
            .identifier
            .as_deref()
            .map(|identifier| self.secrets.identifier_key(identifier))
    }

    /// The failed sign-ins on identity `id`'s identifier, with what they hold back now.
    ///
    /// # Errors
    /// [`IdentityLookupError`] when the identity does not exist or the store fails.
    pub async fn lockout(&self, id: IdentityId) -> Result<Lockout, IdentityLookupError> {
        let identity = self.get_identity(id).await?;
        let Some(key) = self.identifier_key_of(&identity) else {
            return Ok(Lockout {
                identity_id: id,
                entries: Vec::new(),
            });
        };
        let now = self.clock.now();
        let policy = self.selfservice.lockout;
        let mut entries: Vec<LockoutEntry> = self
            .store
            .failures_of(&key)
            .await?
            .into_iter()
            .map(|(address, failures)| LockoutEntry {
                address,
                failures,
                locked_until: match address {
                    Some(_) => policy.address_locked_until(failures, now),
                    None => policy.identifier_locked_until(failures, now),
                },
            })
            .collect();
        entries.sort_by_key(|entry| entry.address);
        Ok(Lockout {
            identity_id: id,
            entries,
        })
    }

    /// Forgets every failed sign-in on identity `id`'s identifier.
    ///
    /// # Errors
    /// [`IdentityLookupError`] when the identity does not exist or the store fails.
    pub async fn clear_lockout(
        &self,
        id: IdentityId,
        origin: &Origin,
    ) -> Result<(), IdentityLookupError> {
        let identity = self.get_identity(id).await?;
        let event = self
            .audit(origin, Action::LockoutCleared, self.clock.now())
            .identity(id);
        match self.identifier_key_of(&identity) {
            Some(key) => self.store.clear_failures(&key, None, Some(event)).await?,
            // Nothing to clear: the request is on the trail all the same.
            None => self.store.record(event).await?,
        }
        tracing::info!(target: "audit", identity_id = %id, "sign-in lockout cleared");
        Ok(())
    }
}
