//! In-memory implementations of the ports, for tests: a store with the same observable
//! behaviour as the database adapters, and a clock that stands still until moved.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::audit::Event;
use domain::client::AddressGroup;
use domain::id::{
    AuditEventId, IdentityId, LoginFlowId, RecoveryCodeId, RecoveryFlowId, SessionId,
    SettingsFlowId,
};
use domain::identity::{Identity, IdentityState, NewIdentity};
use domain::lockout::{AttemptCounts, Failures, IdentifierKey, LockoutPolicy};
use domain::password::PasswordHash;
use domain::recovery::{CodeIssue, CodeType, FlowState, RecoveryFlow, Redemption, StoredCode};
use domain::selfservice::{LoginFlow, PasswordChange, SettingsFlow, SettingsState};
use domain::session::{AuthMethod, Session, TokenHash};
use domain::time::{Expires, Timestamp};

use crate::ports::{AuditQuery, AuditTrail, Purge, ReplaceIdentityError, Revoked, SpentCode};
use crate::ports::{
    Clock, Housekeeping, IdentityQuery, IdentityRepository, InsertIdentityError,
    LoginFailureRepository, Readiness, RecoveryRepository, RedeemError, SelfServiceRepository,
    SessionQuery, SessionRepository, StoreCodeIssueError, StoreError, StoredSession, Submission,
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
    identities: BTreeMap<IdentityId, (Identity, Option<PasswordHash>)>,
    flows: BTreeMap<RecoveryFlowId, RecoveryFlow>,
    codes: BTreeMap<RecoveryCodeId, CodeRecord>,
    /// Sessions with the instant they were revoked, if they were.
    sessions: BTreeMap<SessionId, (Session, Option<Timestamp>)>,
    settings_flows: BTreeMap<SettingsFlowId, SettingsFlow>,
    login_flows: BTreeMap<LoginFlowId, LoginFlow>,
    /// Failed sign-ins by identifier key and address group (`None`: over all addresses).
    failures: FailureCounts,
    audit: BTreeMap<AuditEventId, Event>,
}

impl State {
    fn record(&mut self, event: Event) {
        self.audit.insert(event.id, event);
    }

    fn revoke_sessions_of(&mut self, identity_id: IdentityId, at: Timestamp) {
        self.revoke_sessions_but(identity_id, None, at);
    }

    /// Ends the identity's active sessions, except `keep`.
    fn revoke_sessions_but(
        &mut self,
        identity_id: IdentityId,
        keep: Option<SessionId>,
        at: Timestamp,
    ) -> usize {
        let mut revoked = 0;
        for (session, revoked_at) in self.sessions.values_mut() {
            if session.identity_id == identity_id
                && Some(session.id) != keep
                && !session.is_expired(at)
                && revoked_at.is_none()
            {
                *revoked_at = Some(at);
                revoked += 1;
            }
        }
        revoked
    }
}

type FailureCounts = BTreeMap<(String, Option<AddressGroup>), Failures>;

/// Adds a failure to one count; returns the count as it stood before.
fn count_failure(
    counts: &mut FailureCounts,
    key: &IdentifierKey,
    address: Option<AddressGroup>,
    now: Timestamp,
) -> Option<Failures> {
    let mut before = None;
    counts
        .entry((key.as_str().to_owned(), address))
        .and_modify(|failures| {
            before = Some(*failures);
            failures.count += 1;
            failures.last_at = now;
        })
        .or_insert(Failures {
            count: 1,
            last_at: now,
        });
    before
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

    /// Every session with its revocation instant, for assertions.
    pub fn sessions(&self) -> Vec<(Session, Option<Timestamp>)> {
        self.lock().sessions.values().cloned().collect()
    }

    /// Every code, for assertions.
    pub fn codes(&self) -> Vec<CodeRecord> {
        self.lock().codes.values().cloned().collect()
    }

    /// The stored password hash of an identity, for assertions.
    pub fn password_of(&self, id: IdentityId) -> Option<PasswordHash> {
        self.lock().identities.get(&id).and_then(|(_, p)| p.clone())
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
    async fn insert_identity(
        &self,
        new: NewIdentity,
        event: Event,
    ) -> Result<Identity, InsertIdentityError> {
        let mut state = self.available()?;
        if new.identity.identifier.is_some()
            && state
                .identities
                .values()
                .any(|(identity, _)| identity.identifier == new.identity.identifier)
        {
            return Err(InsertIdentityError::DuplicateIdentifier);
        }
        if state.identities.contains_key(&new.identity.id) {
            return Err(StoreError::Unexpected("duplicate identity id".into()).into());
        }
        state
            .identities
            .insert(new.identity.id, (new.identity.clone(), new.password));
        state.record(event);
        Ok(new.identity)
    }

    async fn find_identity(&self, id: IdentityId) -> Result<Option<Identity>, StoreError> {
        Ok(self
            .available()?
            .identities
            .get(&id)
            .map(|(i, _)| i.clone()))
    }

    async fn list_identities(&self, query: IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        let state = self.available()?;
        Ok(state
            .identities
            .values()
            .map(|(identity, _)| identity)
            .filter(|identity| query.after.is_none_or(|after| identity.id > after))
            .filter(|identity| {
                query.identifier.is_none() || identity.identifier == query.identifier
            })
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn replace_identity(
        &self,
        replacement: NewIdentity,
        event: Event,
    ) -> Result<Identity, ReplaceIdentityError> {
        let mut state = self.available()?;
        let id = replacement.identity.id;
        if replacement.identity.identifier.is_some()
            && state.identities.iter().any(|(other, (identity, _))| {
                *other != id && identity.identifier == replacement.identity.identifier
            })
        {
            return Err(ReplaceIdentityError::DuplicateIdentifier);
        }
        let Some((identity, password)) = state.identities.get_mut(&id) else {
            return Err(ReplaceIdentityError::NotFound);
        };
        *identity = Identity {
            created_at: identity.created_at,
            ..replacement.identity
        };
        if let Some(new) = replacement.password {
            *password = Some(new);
        }
        let identity = identity.clone();
        state.record(event);
        Ok(identity)
    }

    async fn delete_identity(&self, id: IdentityId, event: Event) -> Result<bool, StoreError> {
        let mut state = self.available()?;
        let existed = state.identities.remove(&id).is_some();
        if existed {
            state.record(event);
        }
        state.flows.retain(|_, flow| flow.identity_id != id);
        state
            .codes
            .retain(|_, record| record.code.identity_id != id);
        state
            .sessions
            .retain(|_, (session, _)| session.identity_id != id);
        state
            .settings_flows
            .retain(|_, flow| flow.identity_id != id);
        Ok(existed)
    }

    async fn update_password_hash(
        &self,
        id: IdentityId,
        hash: PasswordHash,
    ) -> Result<(), StoreError> {
        if let Some((_, stored)) = self.available()?.identities.get_mut(&id) {
            *stored = Some(hash);
        }
        Ok(())
    }

    async fn find_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<(Identity, Option<PasswordHash>)>, StoreError> {
        Ok(self
            .available()?
            .identities
            .values()
            .find(|(identity, _)| identity.identifier.as_deref() == Some(identifier))
            .map(|(identity, password)| (identity.clone(), password.clone())))
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
        state.record(issue.audit);
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

    async fn find_flow(&self, id: RecoveryFlowId) -> Result<Option<RecoveryFlow>, StoreError> {
        Ok(self.available()?.flows.get(&id).cloned())
    }

    async fn begin_submission(
        &self,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> Result<Option<Submission>, StoreError> {
        let mut state = self.available()?;
        let mut codes: Vec<StoredCode> = state
            .codes
            .values()
            .filter(|record| {
                record.code.flow_id == flow_id
                    && record.used_at.is_none()
                    && record.revoked_at.is_none()
                    && !record.code.is_expired(now)
            })
            .map(|record| record.code.clone())
            .collect();
        codes.sort_by_key(|code| std::cmp::Reverse(code.issued_at));
        let Some(flow) = state.flows.get_mut(&flow_id) else {
            return Ok(None);
        };
        flow.submissions += 1;
        let flow = flow.clone();
        let Some((identity, _)) = state.identities.get(&flow.identity_id) else {
            return Ok(None);
        };
        Ok(Some(Submission {
            identity: identity.clone(),
            flow,
            codes,
        }))
    }

    async fn spent_codes(&self, flow_id: RecoveryFlowId) -> Result<Vec<SpentCode>, StoreError> {
        Ok(self
            .available()?
            .codes
            .values()
            .filter(|record| record.code.flow_id == flow_id)
            .filter(|record| record.used_at.is_some() || record.revoked_at.is_some())
            .map(|record| SpentCode {
                hash: record.code.hash.clone(),
                revoked: record.revoked_at.is_some(),
            })
            .collect())
    }

    async fn redeem(&self, redemption: Redemption) -> Result<(), RedeemError> {
        let mut state = self.available()?;
        let usable = state.codes.get(&redemption.code_id).is_some_and(|record| {
            record.code.flow_id == redemption.flow_id
                && record.used_at.is_none()
                && record.revoked_at.is_none()
        });
        if !usable {
            return Err(RedeemError::CodeAlreadyUsed);
        }
        // As a primary key: a taken session or settings flow id fails the whole redemption.
        if state.sessions.contains_key(&redemption.session.id)
            || state.settings_flows.contains_key(&redemption.settings.id)
        {
            return Err(
                StoreError::Unexpected("duplicate session or settings flow id".into()).into(),
            );
        }
        if let Some(record) = state.codes.get_mut(&redemption.code_id) {
            record.used_at = Some(redemption.at);
        }
        if let Some(flow) = state.flows.get_mut(&redemption.flow_id) {
            flow.state = FlowState::PassedChallenge;
        }
        if redemption.revoke_other_sessions {
            state.revoke_sessions_of(redemption.session.identity_id, redemption.at);
        }
        state
            .sessions
            .insert(redemption.session.id, (redemption.session, None));
        state
            .settings_flows
            .insert(redemption.settings.id, redemption.settings);
        state.record(redemption.audit);
        if let Some(key) = redemption.clear_lockout {
            state
                .failures
                .retain(|(stored, _), _| *stored != key.as_str());
        }
        if let Some(proven) = redemption.proven_addresses
            && let Some((identity, _)) = state.identities.get_mut(&proven.identity_id)
            && identity.updated_at == proven.unchanged_since
        {
            identity.addresses.verifiable = proven.verifiable;
        }
        Ok(())
    }

    async fn revoke_codes(
        &self,
        identity_id: IdentityId,
        at: Timestamp,
        event: Event,
    ) -> Result<Option<Revoked>, StoreError> {
        let mut state = self.available()?;
        if !state.identities.contains_key(&identity_id) {
            return Ok(None);
        }
        let mut revoked = Revoked::default();
        for record in state.codes.values_mut() {
            if record.code.identity_id == identity_id
                && record.used_at.is_none()
                && record.revoked_at.is_none()
                && !record.code.is_expired(at)
            {
                record.revoked_at = Some(at);
                revoked.codes += 1;
            }
        }
        for (session, revoked_at) in state.sessions.values_mut() {
            if session.identity_id == identity_id
                && session.method == AuthMethod::CodeRecovery
                && revoked_at.is_none()
                && !session.is_expired(at)
            {
                *revoked_at = Some(at);
                revoked.sessions += 1;
            }
        }
        state.record(event);
        Ok(Some(revoked))
    }
}

impl SessionRepository for InMemoryStore {
    async fn insert_session(
        &self,
        session: Session,
        revoke_others: bool,
        event: Event,
    ) -> Result<(), StoreError> {
        let mut state = self.available()?;
        if revoke_others {
            state.revoke_sessions_of(session.identity_id, session.authenticated_at);
        }
        state.sessions.insert(session.id, (session, None));
        state.record(event);
        Ok(())
    }

    async fn find_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(Session, Identity)>, StoreError> {
        let state = self.available()?;
        Ok(state
            .sessions
            .values()
            .find(|(session, revoked_at)| {
                session.token_hash == *token_hash
                    && revoked_at.is_none()
                    && !session.is_expired(now)
            })
            .and_then(|(session, _)| {
                state
                    .identities
                    .get(&session.identity_id)
                    .filter(|(identity, _)| identity.state == IdentityState::Active)
                    .map(|(identity, _)| (session.clone(), identity.clone()))
            }))
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        at: Timestamp,
        event: Event,
    ) -> Result<bool, StoreError> {
        let mut state = self.available()?;
        let revoked = match state.sessions.get_mut(&id) {
            Some((_, revoked_at @ None)) => {
                *revoked_at = Some(at);
                true
            }
            _ => false,
        };
        if revoked {
            state.record(event);
        }
        Ok(revoked)
    }

    async fn list_sessions(&self, query: SessionQuery) -> Result<Vec<StoredSession>, StoreError> {
        let state = self.available()?;
        Ok(state
            .sessions
            .values()
            .map(|(session, revoked_at)| StoredSession {
                session: session.clone(),
                revoked_at: *revoked_at,
            })
            .filter(|stored| {
                let id = stored.session.id;
                stored.session.identity_id == query.identity_id
                    && query.after.is_none_or(|after| id > after)
                    && query.except != Some(id)
                    && query
                        .active
                        .is_none_or(|active| stored.is_active(query.now) == active)
            })
            .take(query.limit)
            .collect())
    }

    async fn find_session_by_id(
        &self,
        id: SessionId,
    ) -> Result<Option<(StoredSession, Identity)>, StoreError> {
        let state = self.available()?;
        Ok(state.sessions.get(&id).and_then(|(session, revoked_at)| {
            state
                .identities
                .get(&session.identity_id)
                .map(|(identity, _)| {
                    let stored = StoredSession {
                        session: session.clone(),
                        revoked_at: *revoked_at,
                    };
                    (stored, identity.clone())
                })
        }))
    }

    async fn revoke_identity_sessions(
        &self,
        identity_id: IdentityId,
        except: Option<SessionId>,
        at: Timestamp,
        event: Event,
    ) -> Result<usize, StoreError> {
        let mut state = self.available()?;
        let revoked = state.revoke_sessions_but(identity_id, except, at);
        if revoked > 0 {
            state.record(event);
        }
        Ok(revoked)
    }
}

impl SelfServiceRepository for InMemoryStore {
    async fn find_settings_flow(
        &self,
        id: SettingsFlowId,
    ) -> Result<Option<SettingsFlow>, StoreError> {
        Ok(self.available()?.settings_flows.get(&id).cloned())
    }

    async fn set_password(&self, change: PasswordChange, event: Event) -> Result<(), StoreError> {
        let mut state = self.available()?;
        state.record(event);
        if let Some((identity, stored)) = state.identities.get_mut(&change.identity_id) {
            *stored = Some(change.password);
            identity.updated_at = change.at;
        }
        if let Some(flow) = state.settings_flows.get_mut(&change.flow_id) {
            flow.state = SettingsState::Success;
        }
        if change.revoke_other_sessions {
            state.revoke_sessions_but(change.identity_id, Some(change.session_id), change.at);
        }
        Ok(())
    }

    async fn insert_login_flow(&self, flow: LoginFlow) -> Result<(), StoreError> {
        self.available()?.login_flows.insert(flow.id, flow);
        Ok(())
    }

    async fn find_login_flow(&self, id: LoginFlowId) -> Result<Option<LoginFlow>, StoreError> {
        Ok(self.available()?.login_flows.get(&id).cloned())
    }
}

impl LoginFailureRepository for InMemoryStore {
    async fn count_attempt(
        &self,
        key: &IdentifierKey,
        address: AddressGroup,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut state = self.available()?;
        // Counted on a copy, kept only when the attempt may go on.
        let mut counted = state.failures.clone();
        let from_address = count_failure(&mut counted, key, Some(address), now);
        let address_count = from_address.map_or(1, |f| f.count + 1);
        let identifier = if policy.counts_for_identifier(address_count) {
            count_failure(&mut counted, key, None, now)
        } else {
            counted.get(&(key.as_str().to_owned(), None)).copied()
        };
        let counts = AttemptCounts {
            address: from_address,
            identifier,
        };
        if let Some(until) = policy.wait_until(counts, now) {
            return Ok(Some(until));
        }
        state.failures = counted;
        Ok(None)
    }

    async fn clear_failures(
        &self,
        key: &IdentifierKey,
        address: Option<AddressGroup>,
        event: Option<Event>,
    ) -> Result<(), StoreError> {
        let mut state = self.available()?;
        if let Some(event) = event {
            state.record(event);
        }
        state.failures.retain(|(stored, group), _| {
            stored != key.as_str() || (address.is_some() && group.is_some() && *group != address)
        });
        Ok(())
    }

    async fn failures_of(
        &self,
        key: &IdentifierKey,
    ) -> Result<Vec<(Option<AddressGroup>, Failures)>, StoreError> {
        Ok(self
            .available()?
            .failures
            .iter()
            .filter(|((stored, _), _)| stored == key.as_str())
            .map(|((_, group), failures)| (*group, *failures))
            .collect())
    }
}

impl AuditTrail for InMemoryStore {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        self.available()?.record(event);
        Ok(())
    }

    async fn audit_events(&self, query: AuditQuery) -> Result<Vec<Event>, StoreError> {
        Ok(self
            .available()?
            .audit
            .values()
            .filter(|event| query.after.is_none_or(|after| event.id > after))
            .filter(|event| {
                query
                    .identity_id
                    .is_none_or(|id| event.identity_id == Some(id))
            })
            .take(query.limit)
            .cloned()
            .collect())
    }
}

impl Housekeeping for InMemoryStore {
    async fn purge_expired(&self, purge: Purge) -> Result<(), StoreError> {
        let Purge {
            expired_before: before,
            audit_before,
        } = purge;
        let mut state = self.available()?;
        state.audit.retain(|_, event| event.at >= audit_before);
        state.flows.retain(|_, flow| flow.expires_at >= before);
        let flows: Vec<RecoveryFlowId> = state.flows.keys().copied().collect();
        state
            .codes
            .retain(|_, record| flows.contains(&record.code.flow_id));
        state.sessions.retain(|_, (session, revoked_at)| {
            session.expires_at >= before && revoked_at.is_none_or(|at| at >= before)
        });
        let sessions: Vec<SessionId> = state.sessions.keys().copied().collect();
        state
            .settings_flows
            .retain(|_, flow| flow.expires_at >= before && sessions.contains(&flow.session_id));
        state
            .login_flows
            .retain(|_, flow| flow.expires_at >= before);
        state
            .failures
            .retain(|_, failures| failures.last_at >= before);
        Ok(())
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
