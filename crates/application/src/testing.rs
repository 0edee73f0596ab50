//! In-memory implementations of the ports, for tests: a store with the same observable
//! behaviour as the database adapters, and a clock that stands still until moved.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::identity::{Identity, NewIdentity};
use domain::password::PasswordHash;
use domain::recovery::{CodeIssue, CodeType, RecoveryFlow, StoredCode};
use domain::time::Timestamp;
use uuid::Uuid;

use crate::ports::{
    Clock, IdentityQuery, IdentityRepository, InsertIdentityError, Readiness, RecoveryRepository,
    StoreCodeIssueError, StoreError,
};

/// A code row as the fake keeps it, with its lifecycle stamps.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub code: StoredCode,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Default)]
struct State {
    identities: BTreeMap<Uuid, (Identity, Option<String>, Option<PasswordHash>)>,
    flows: BTreeMap<Uuid, RecoveryFlow>,
    codes: BTreeMap<Uuid, CodeRecord>,
}

/// A store in memory. [`InMemoryStore::set_unavailable`] makes every call fail as a lost
/// database would.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    unavailable: AtomicBool,
}

impl InMemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every flow, for assertions.
    pub fn flows(&self) -> Vec<RecoveryFlow> {
        self.lock().flows.values().cloned().collect()
    }

    /// Every code, for assertions.
    pub fn codes(&self) -> Vec<CodeRecord> {
        self.lock().codes.values().cloned().collect()
    }

    /// The stored password hash of an identity, for assertions.
    pub fn password_of(&self, id: Uuid) -> Option<PasswordHash> {
        self.lock()
            .identities
            .get(&id)
            .and_then(|(_, _, p)| p.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn available(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "the in-memory store was switched off".into(),
            ))
        } else {
            Ok(self.lock())
        }
    }
}

impl IdentityRepository for InMemoryStore {
    async fn insert_identity(&self, new: NewIdentity) -> Result<Identity, InsertIdentityError> {
        let mut state = self.available()?;
        if new.identifier.is_some()
            && state
                .identities
                .values()
                .any(|(_, identifier, _)| *identifier == new.identifier)
        {
            return Err(InsertIdentityError::DuplicateIdentifier);
        }
        if state.identities.contains_key(&new.identity.id) {
            return Err(StoreError::Unexpected("duplicate identity id".into()).into());
        }
        state.identities.insert(
            new.identity.id,
            (new.identity.clone(), new.identifier, new.password),
        );
        Ok(new.identity)
    }

    async fn find_identity(&self, id: Uuid) -> Result<Option<Identity>, StoreError> {
        Ok(self
            .available()?
            .identities
            .get(&id)
            .map(|(i, _, _)| i.clone()))
    }

    async fn list_identities(&self, query: IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        let state = self.available()?;
        Ok(state
            .identities
            .values()
            .filter(|(identity, _, _)| query.after.is_none_or(|after| identity.id > after))
            .filter(|(_, identifier, _)| {
                query.identifier.is_none() || *identifier == query.identifier
            })
            .take(query.limit)
            .map(|(identity, _, _)| identity.clone())
            .collect())
    }

    async fn delete_identity(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut state = self.available()?;
        let existed = state.identities.remove(&id).is_some();
        state.flows.retain(|_, flow| flow.identity_id != id);
        state
            .codes
            .retain(|_, record| record.code.identity_id != id);
        Ok(existed)
    }
}

impl RecoveryRepository for InMemoryStore {
    async fn store_code_issue(&self, issue: CodeIssue) -> Result<(), StoreCodeIssueError> {
        let mut state = self.available()?;
        if !state.identities.contains_key(&issue.flow.identity_id) {
            return Err(StoreCodeIssueError::IdentityNotFound);
        }
        if state.flows.contains_key(&issue.flow.id) || state.codes.contains_key(&issue.code.id) {
            return Err(StoreError::Unexpected("duplicate flow or code id".into()).into());
        }
        if issue.revoke_previous {
            for record in state.codes.values_mut() {
                if record.code.identity_id == issue.flow.identity_id
                    && record.code.code_type == CodeType::Admin
                    && record.used_at.is_none()
                    && record.revoked_at.is_none()
                {
                    record.revoked_at = Some(issue.code.issued_at);
                }
            }
        }
        state.flows.insert(issue.flow.id, issue.flow);
        state.codes.insert(
            issue.code.id,
            CodeRecord {
                code: issue.code,
                used_at: None,
                revoked_at: None,
            },
        );
        Ok(())
    }

    async fn find_flow(&self, id: Uuid) -> Result<Option<RecoveryFlow>, StoreError> {
        Ok(self.available()?.flows.get(&id).cloned())
    }

    async fn valid_codes(
        &self,
        flow_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<StoredCode>, StoreError> {
        let state = self.available()?;
        let mut codes: Vec<StoredCode> = state
            .codes
            .values()
            .filter(|record| {
                record.code.flow_id == flow_id
                    && record.used_at.is_none()
                    && record.revoked_at.is_none()
                    && record.code.expires_at > now
            })
            .map(|record| record.code.clone())
            .collect();
        codes.sort_by_key(|code| std::cmp::Reverse(code.issued_at));
        Ok(codes)
    }
}

impl Readiness for InMemoryStore {
    async fn check_ready(&self) -> Result<(), StoreError> {
        self.available().map(|_| ())
    }
}

/// A clock that shows a fixed instant until [`ManualClock::set`] moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    #[must_use]
    pub fn new(now: Timestamp) -> Self {
        Self(Mutex::new(now))
    }

    pub fn set(&self, now: Timestamp) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
