//! What the use cases need from the outside world. Every method documents which error means
//! what; adapters translate their own failures (constraint violations, lost connections) into
//! these variants.

use std::future::Future;

use domain::audit::Event;
use domain::client::AddressGroup;
use domain::id::{
    AuditEventId, IdentityId, LoginFlowId, RecoveryFlowId, SessionId, SettingsFlowId,
};
use domain::identity::{Identity, NewIdentity};
use domain::lockout::{Failures, IdentifierKey, LockoutPolicy};
use domain::password::PasswordHash;
use domain::recovery::{CodeIssue, RecoveryFlow, Redemption, StoredCode};
use domain::secret::CodeHash;
use domain::selfservice::{LoginFlow, PasswordChange, SettingsFlow};
use domain::session::{Session, TokenHash};
use domain::time::Timestamp;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A storage failure that is not a business outcome.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached right now (connection refused, pool exhausted): retrying
    /// later may succeed.
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Anything else.
    #[error("unexpected store error: {0}")]
    Unexpected(#[source] BoxError),
}

impl StoreError {
    /// The same failure, for another caller: a batch that fails answers each of its requests
    /// with it.
    #[must_use]
    pub fn for_another(&self) -> Self {
        match self {
            Self::Unavailable(source) => Self::Unavailable(source.to_string().into()),
            Self::Unexpected(source) => Self::Unexpected(source.to_string().into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InsertIdentityError {
    /// Another identity already has this identifier (email).
    #[error("an identity with this identifier already exists")]
    DuplicateIdentifier,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ReplaceIdentityError {
    /// No identity has this id (it may have been deleted meanwhile).
    #[error("the identity does not exist")]
    NotFound,
    /// Another identity already has the new identifier (email); nothing was written.
    #[error("an identity with this identifier already exists")]
    DuplicateIdentifier,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreCodeIssueError {
    /// The identity of the issue does not exist; nothing was written.
    #[error("the identity does not exist")]
    IdentityNotFound,
    /// Nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// The code was used or revoked meanwhile (a concurrent submission won); nothing was
    /// written.
    #[error("the code was used or revoked meanwhile")]
    CodeAlreadyUsed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A counted submission on a recovery flow, with what checking its code needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The flow; its `submissions` include this one.
    pub flow: RecoveryFlow,
    /// The flow's codes that are unused, unrevoked and unexpired, newest first.
    pub codes: Vec<StoredCode>,
    pub identity: Identity,
}

/// One page of identities, in ascending id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityQuery {
    /// Only identities whose id is greater than this.
    pub after: Option<IdentityId>,
    /// At most this many.
    pub limit: usize,
    /// Only the identity with this (lower-cased) identifier.
    pub identifier: Option<String>,
}

pub trait IdentityRepository: Send + Sync + 'static {
    /// Stores a new identity with its identifier and password hash, and `event`.
    ///
    /// # Errors
    /// [`InsertIdentityError::DuplicateIdentifier`] when the identifier is taken;
    /// [`InsertIdentityError::Store`] otherwise. Nothing is written on error.
    fn insert_identity(
        &self,
        identity: NewIdentity,
        event: Event,
    ) -> impl Future<Output = Result<Identity, InsertIdentityError>> + Send;

    /// The identity with `id`, or `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError`] only when the store fails; absence is `Ok(None)`.
    fn find_identity(
        &self,
        id: IdentityId,
    ) -> impl Future<Output = Result<Option<Identity>, StoreError>> + Send;

    /// The identities matching `query`, ordered by id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list_identities(
        &self,
        query: IdentityQuery,
    ) -> impl Future<Output = Result<Vec<Identity>, StoreError>> + Send;

    /// The identity that signs in with `identifier` (lower-cased), with its password hash
    /// when it has one.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_by_identifier(
        &self,
        identifier: &str,
    ) -> impl Future<Output = Result<Option<(Identity, Option<PasswordHash>)>, StoreError>> + Send;

    /// Replaces the password hash of identity `id` (the same password, hashed at the current
    /// cost).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn update_password_hash(
        &self,
        id: IdentityId,
        hash: PasswordHash,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the schema, state, traits, metadata, identifier and `updated_at` of the
    /// identity `replacement.identity.id`, and its password hash when `replacement.password` is
    /// set (else the stored one stays), with `event`, in one transaction; returns the identity
    /// as stored.
    /// Of concurrent replacements the last one wins whole: the identifier always matches the
    /// traits beside it.
    ///
    /// # Errors
    /// [`ReplaceIdentityError::NotFound`] when there is no such identity;
    /// [`ReplaceIdentityError::DuplicateIdentifier`] when another identity has the new
    /// identifier; [`ReplaceIdentityError::Store`] otherwise. Nothing is written on error.
    fn replace_identity(
        &self,
        replacement: NewIdentity,
        event: Event,
    ) -> impl Future<Output = Result<Identity, ReplaceIdentityError>> + Send;

    /// Deletes the identity with `id` and, with it, its recovery flows and codes, and stores
    /// `event` (which outlives it), in one transaction. Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_identity(
        &self,
        id: IdentityId,
        event: Event,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

pub trait RecoveryRepository: Send + Sync + 'static {
    /// Writes the flow, the code and the audit event of `issue` in one transaction and, when
    /// `issue.revoke_previous` is set, marks the identity's earlier unused admin codes revoked.
    ///
    /// # Errors
    /// [`StoreCodeIssueError::IdentityNotFound`] when the identity does not exist;
    /// [`StoreCodeIssueError::Store`] otherwise. Either way nothing is written.
    fn store_code_issue(
        &self,
        issue: CodeIssue,
    ) -> impl Future<Output = Result<(), StoreCodeIssueError>> + Send;

    /// The flow with `id`, or `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError`] only when the store fails.
    fn find_flow(
        &self,
        id: RecoveryFlowId,
    ) -> impl Future<Output = Result<Option<RecoveryFlow>, StoreError>> + Send;

    /// Counts one more submission on flow `flow_id`, atomically (of concurrent callers each
    /// gets a different count), and returns what checking a code needs: the flow with its new
    /// count, the codes redeemable at `now` and the identity. `None` when there is no such flow.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn begin_submission(
        &self,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Submission>, StoreError>> + Send;

    /// The codes of flow `flow_id` that were used or revoked: what a refused code is compared
    /// with, to say why it was refused.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn spent_codes(
        &self,
        flow_id: RecoveryFlowId,
    ) -> impl Future<Output = Result<Vec<SpentCode>, StoreError>> + Send;

    /// Writes `redemption` in one transaction (see [`Redemption`]). Of concurrent redemptions
    /// of one code exactly one succeeds.
    ///
    /// # Errors
    /// [`RedeemError::CodeAlreadyUsed`] when the code is used or revoked (nothing written);
    /// [`RedeemError::Store`] otherwise.
    fn redeem(
        &self,
        redemption: Redemption,
    ) -> impl Future<Output = Result<(), RedeemError>> + Send;

    /// Revokes at `at`, in one transaction with `event`, every code of identity `identity_id`
    /// that is unused, unrevoked and unexpired, and ends its active sessions that a recovery
    /// code opened. `None` when there is no such identity (nothing written).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is written then.
    fn revoke_codes(
        &self,
        identity_id: IdentityId,
        at: Timestamp,
        event: Event,
    ) -> impl Future<Output = Result<Option<Revoked>, StoreError>> + Send;
}

/// A code that can no longer be redeemed, by what spent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentCode {
    pub hash: CodeHash,
    /// Revoked (by a newer code or by an operator), rather than used.
    pub revoked: bool,
}

/// What a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revoked {
    /// Codes that could still have been redeemed.
    pub codes: usize,
    /// Live sessions that a recovery code had opened.
    pub sessions: usize,
}

/// A stored session, with when it was revoked, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub session: Session,
    pub revoked_at: Option<Timestamp>,
}

impl StoredSession {
    /// Neither revoked nor expired at `now`.
    #[must_use]
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && !domain::time::Expires::is_expired(&self.session, now)
    }
}

/// One page of an identity's sessions, in ascending id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionQuery {
    pub identity_id: IdentityId,
    /// Only sessions whose id is greater than this.
    pub after: Option<SessionId>,
    /// At most this many.
    pub limit: usize,
    /// Only the active sessions at `now` (`Some(true)`), only the others (`Some(false)`).
    pub active: Option<bool>,
    pub now: Timestamp,
    /// Not this session (the caller's own).
    pub except: Option<SessionId>,
}

pub trait SessionRepository: Send + Sync + 'static {
    /// Stores `session` with `event`; when `revoke_others`, the identity's other sessions end
    /// at once.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn insert_session(
        &self,
        session: Session,
        revoke_others: bool,
        event: Event,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with `token_hash` and its identity, if it is neither revoked nor expired at
    /// `now` and its identity is active: decided at once, in the lookup itself.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<(Session, Identity)>, StoreError>> + Send;

    /// Ends the session `id` at `at`, with `event` if it was still active. Returns whether it
    /// was.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke_session(
        &self,
        id: SessionId,
        at: Timestamp,
        event: Event,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The sessions matching `query`, revoked and expired ones included unless it says
    /// otherwise.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list_sessions(
        &self,
        query: SessionQuery,
    ) -> impl Future<Output = Result<Vec<StoredSession>, StoreError>> + Send;

    /// The session with `id`, active or not, with its identity.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; absence is `Ok(None)`.
    fn find_session_by_id(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<(StoredSession, Identity)>, StoreError>> + Send;

    /// Ends at `at` every active session of `identity_id` but `except`, with `event` unless
    /// there was none. Returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke_identity_sessions(
        &self,
        identity_id: IdentityId,
        except: Option<SessionId>,
        at: Timestamp,
        event: Event,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

pub trait SelfServiceRepository: Send + Sync + 'static {
    /// # Errors
    /// [`StoreError`] when the store fails; absence is `Ok(None)`.
    fn find_settings_flow(
        &self,
        id: SettingsFlowId,
    ) -> impl Future<Output = Result<Option<SettingsFlow>, StoreError>> + Send;

    /// Sets the identity's password, marks the settings flow succeeded and, when
    /// `change.revoke_other_sessions`, ends the identity's active sessions other than
    /// `change.session_id`: all in one transaction with `event`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is written then.
    fn set_password(
        &self,
        change: PasswordChange,
        event: Event,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// # Errors
    /// [`StoreError`] when the store fails.
    fn insert_login_flow(
        &self,
        flow: LoginFlow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// # Errors
    /// [`StoreError`] when the store fails; absence is `Ok(None)`.
    fn find_login_flow(
        &self,
        id: LoginFlowId,
    ) -> impl Future<Output = Result<Option<LoginFlow>, StoreError>> + Send;
}

/// Failed sign-ins, counted per identifier key and address group, and per identifier key over
/// all addresses. Kept in the store so that the counts hold across replicas.
pub trait LoginFailureRepository: Send + Sync + 'static {
    /// Counts one more attempt on `key` from `address` at `now`, unless `policy` says the
    /// counts as they stand hold it back: then nothing is counted and the answer is until when.
    /// Counted against the address group always, and against the identifier over all addresses
    /// as far as [`LockoutPolicy::counts_for_identifier`] says. Atomic: of concurrent attempts
    /// each sees the counts the others left.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is counted then.
    fn count_attempt(
        &self,
        key: &IdentifierKey,
        address: AddressGroup,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Forgets the failures on `key`: from `address` and over all addresses, or, with no
    /// address, every count of `key`; stores `event`, if any, in the same transaction.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clear_failures(
        &self,
        key: &IdentifierKey,
        address: Option<AddressGroup>,
        event: Option<Event>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every count of `key`: `None` for the one over all addresses.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn failures_of(
        &self,
        key: &IdentifierKey,
    ) -> impl Future<Output = Result<Vec<(Option<AddressGroup>, Failures)>, StoreError>> + Send;
}

/// One page of the audit trail, in ascending id (time) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only the events naming this identity.
    pub identity_id: Option<IdentityId>,
    /// Only events whose id is greater than this.
    pub after: Option<AuditEventId>,
    /// At most this many.
    pub limit: usize,
}

/// The stored audit trail. Changes write their event themselves, in their own transaction (see
/// the event parameters above); this records outcomes that change nothing else.
pub trait AuditTrail: Send + Sync + 'static {
    /// Stores `event` alone: a refused attempt whose only write, its count, came before the
    /// outcome was known.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record(&self, event: Event) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The events matching `query`. An event that cannot be read is skipped and logged.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn audit_events(
        &self,
        query: AuditQuery,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
}

/// What housekeeping deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    /// Recovery flows (with their codes), settings and login flows and sessions that expired
    /// before this (sessions also when revoked before it, with their settings flows), and
    /// counts of failed sign-ins whose last failure was before it.
    pub expired_before: Timestamp,
    /// Audit events that happened before this.
    pub audit_before: Timestamp,
}

pub trait Housekeeping: Send + Sync + 'static {
    /// Deletes what `purge` names.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn purge_expired(&self, purge: Purge) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait Readiness: Send + Sync + 'static {
    /// Succeeds when the store answers a query.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    fn check_ready(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything the use cases store; one adapter usually implements all of it.
pub trait Store:
    IdentityRepository
    + RecoveryRepository
    + SessionRepository
    + SelfServiceRepository
    + LoginFailureRepository
    + AuditTrail
    + Housekeeping
    + Readiness
{
}

impl<T> Store for T where
    T: IdentityRepository
        + RecoveryRepository
        + SessionRepository
        + SelfServiceRepository
        + LoginFailureRepository
        + AuditTrail
        + Housekeeping
        + Readiness
{
}

/// The current time. Injected, so tests can stand at an exact instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system clock, at the millisecond precision the service stores.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        domain::time::truncate_to_millis(chrono::Utc::now())
    }
}
