//! The store over any backend: the ports implemented once, with the backend's own part (how a
//! code issue is written atomically) supplied by its [`Dialect`].

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use application::ports::{
    AuditQuery, AuditTrail, Housekeeping, IdentityQuery, IdentityRepository, InsertIdentityError,
    LoginFailureRepository, Purge, Readiness, RecoveryRepository, RedeemError,
    ReplaceIdentityError, Revoked, SelfServiceRepository, SessionQuery, SessionRepository,
    SpentCode, StoreCodeIssueError, StoreError, StoredSession, Submission,
};
use diesel::Connection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use domain::audit::Event;
use domain::client::AddressGroup;
use domain::id::{IdentityId, LoginFlowId, RecoveryFlowId, SessionId, SettingsFlowId};
use domain::identity::{Identity, NewIdentity};
use domain::lockout::{AttemptCounts, Failures, IdentifierKey, LockoutPolicy};
use domain::password::PasswordHash;
use domain::recovery::{CodeIssue, RecoveryFlow, StoredCode};
use domain::recovery::{FlowState, Redemption};
use domain::secret::CodeHash;
use domain::selfservice::{LoginFlow, PasswordChange, SettingsFlow, SettingsState};
use domain::session::{AuthMethod, Session, TokenHash};
use domain::time::Timestamp;
use tokio::sync::Semaphore;

use crate::batch::{Batch, Batcher, Batches, Unwritten};
use crate::queries::{StoreConnection, StoredSessionRow};
use crate::rows::{ALL_ADDRESSES, FailureInsert, address_column, failures_before};
use crate::types::DbInstant;
use crate::{is_unique_violation, store_error};

/// What differs between backends: the writes on the hot paths, which a backend may do in fewer
/// round trips than the portable way given here by default.
pub trait Dialect: Send + Sync + 'static {
    type Connection: StoreConnection;

    /// Whether recovery submissions and redemptions waiting together share one transaction
    /// (see [`SqlStore::together`]). Worth it where a commit costs much next to the statements
    /// and no other writer can hold row locks the batch waits for: SQLite, whose commit syncs
    /// the file and whose one connection is the only writer. Not PostgreSQL: sharing its
    /// commits bought nothing measurable, batches holding each other's row locks until commit
    /// could deadlock, and writer turns would cap the connections the statements run on.
    const SHARED_COMMIT: bool = false;

    /// Writes a batch of code issues (see [`crate::batch`]): each one's flow, code, audit event
    /// and the revocation it asks for, atomically, and answers each as
    /// [`RecoveryRepository::store_code_issue`] says, an unknown identity with
    /// [`StoreCodeIssueError::IdentityNotFound`]. Issues for one identity come in the order they
    /// were asked for. A database error fails the whole batch: every issue gets it and nothing
    /// is kept.
    fn store_code_issues(
        conn: &mut Self::Connection,
        batch: &[CodeIssue],
    ) -> Vec<Result<(), StoreCodeIssueError>>;

    /// As [`RecoveryRepository::begin_submission`]: the count and the flow in one statement
    /// (atomic by itself), then the codes and the identity.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn begin_submission(
        conn: &mut Self::Connection,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> Result<Option<Submission>, StoreError> {
        let Some(flow) = conn.count_submission(flow_id).map_err(store_error)? else {
            return Ok(None);
        };
        let flow = RecoveryFlow::try_from(flow)?;
        let codes = conn
            .valid_codes(flow_id, now)
            .map_err(store_error)?
            .into_iter()
            .map(StoredCode::try_from)
            .collect::<Result<_, _>>()?;
        let identity = conn
            .find_identity(flow.identity_id)
            .map_err(store_error)?
            .ok_or_else(|| StoreError::Unexpected("a flow without its identity".into()))?;
        Ok(Some(Submission {
            identity: Identity::try_from(identity)?,
            codes,
            flow,
        }))
    }

    /// As [`RecoveryRepository::redeem`]: by default six statements in a transaction whose
    /// first write is the consumption, so a lost race rolls back before anything else.
    ///
    /// # Errors
    /// As [`RecoveryRepository::redeem`].
    fn redeem(conn: &mut Self::Connection, redemption: &Redemption) -> Result<(), RedeemError> {
        let outcome = conn.transaction(|conn| {
            if conn.consume_code(redemption.code_id, redemption.flow_id, redemption.at)? == 0 {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            conn.set_flow_state(redemption.flow_id, FlowState::PassedChallenge.as_str())?;
            if redemption.revoke_other_sessions {
                conn.revoke_sessions_of(redemption.session.identity_id, redemption.at)?;
            }
            if let Some(proven) = &redemption.proven_addresses {
                conn.prove_addresses(proven)?;
            }
            conn.insert_session(redemption.session.clone().into())?;
            conn.insert_settings_flow(redemption.settings.clone().into())?;
            if let Some(key) = &redemption.clear_lockout {
                conn.delete_failures(key.as_str(), None)?;
            }
            conn.insert_audit_event(redemption.audit.clone().into())
        });
        match outcome {
            Ok(_) => Ok(()),
            Err(diesel::result::Error::RollbackTransaction) => Err(RedeemError::CodeAlreadyUsed),
            Err(error) => Err(store_error(error).into()),
        }
    }
}

/// Pool sizing and patience.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before the store counts as unavailable.
    pub connection_timeout: Duration,
    /// Connections are opened at once and never closed for idleness or age: the database
    /// lives in them (SQLite in memory).
    pub persistent: bool,
    /// The most code issues written in one batch (`store.issue_batch_size`).
    pub issue_batch_size: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connection_timeout: Duration::from_secs(5),
            persistent: false,
            issue_batch_size: DEFAULT_ISSUE_BATCH_SIZE,
        }
    }
}

/// The most code issues one batch writes, unless configured.
pub const DEFAULT_ISSUE_BATCH_SIZE: usize = 32;

/// Code-issue batches in flight at once. One: the next batch forms while a statement runs, and
/// a second writer would only split the waiting requests into smaller batches, which cost the
/// database more per code (`docs/performance.md`: 6326 req/s with one, 5565 with two).
const ISSUE_WRITERS: usize = 1;

type IssueOutcome = Result<(), StoreCodeIssueError>;
type SubmissionOutcome = Result<Option<Submission>, StoreError>;
type RedeemOutcome = Result<(), RedeemError>;

/// The store. Cloning shares the pool.
pub struct SqlStore<D: Dialect> {
    pool: Pool<ConnectionManager<D::Connection>>,
    /// Code issues waiting to be written together.
    issues: Arc<Batcher<CodeIssue, IssueOutcome>>,
    /// Recovery submissions waiting to be counted together (see [`SqlStore::together`]).
    submissions: Arc<Batcher<(RecoveryFlowId, Timestamp), SubmissionOutcome>>,
    /// Redemptions waiting to be written together (see [`SqlStore::together`]).
    redemptions: Arc<Batcher<Redemption, RedeemOutcome>>,
    /// One turn per connection: a call waits for its turn on the async runtime, so that the
    /// blocking threads in use never outnumber the connections, however many requests wait.
    turns: Arc<Semaphore>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            issues: self.issues.clone(),
            submissions: self.submissions.clone(),
            redemptions: self.redemptions.clone(),
            turns: self.turns.clone(),
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// A store over a pool for `url`. Connections are opened lazily, so this succeeds while the
    /// database is down; [`Readiness::check_ready`] tells whether it answers. `setup` runs on
    /// every new connection.
    pub fn new(
        url: &str,
        options: PoolOptions,
        setup: impl CustomizeConnection<D::Connection, diesel::r2d2::Error> + 'static,
    ) -> Self {
        let builder = Pool::builder()
            .max_size(options.max_connections)
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(false)
            .connection_customizer(Box::new(setup));
        let builder = if options.persistent {
            builder
                .min_idle(Some(options.max_connections))
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            builder.min_idle(Some(0))
        };
        let pool = builder.build_unchecked(ConnectionManager::new(url));
        let connections = usize::try_from(options.max_connections).unwrap_or(usize::MAX);
        Self {
            pool,
            issues: Arc::new(Batcher::new(
                ISSUE_WRITERS,
                options.issue_batch_size,
                options.connection_timeout,
                |why| Err(unwritten(why).into()),
            )),
            // Where they share a commit (SQLite, one connection): a batch per connection.
            submissions: Arc::new(Batcher::new(
                connections,
                DEFAULT_ISSUE_BATCH_SIZE,
                options.connection_timeout,
                |why| Err(unwritten(why)),
            )),
            redemptions: Arc::new(Batcher::new(
                connections,
                DEFAULT_ISSUE_BATCH_SIZE,
                options.connection_timeout,
                |why| Err(unwritten(why).into()),
            )),
            turns: Arc::new(Semaphore::new(connections)),
            dialect: PhantomData,
        }
    }

    /// A pooled connection, blocking until one is free: for start-up work such as migrations.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when none can be had in time.
    pub fn connection(
        &self,
    ) -> Result<PooledConnection<ConnectionManager<D::Connection>>, StoreError> {
        self.pool
            .get()
            .map_err(|error| StoreError::Unavailable(Box::new(error)))
    }

    /// Runs `work` with a pooled connection off the async runtime
    /// ([`application::blocking::run`]), once its turn comes: at most one call per connection
    /// holds a blocking thread. No turn or connection within the pool's timeout is
    /// [`StoreError::Unavailable`].
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut D::Connection) -> Result<T, E> + Send + 'static,
    {
        self.run_within(self.pool.connection_timeout(), work).await
    }

    /// [`SqlStore::run`], waiting at most `patience` for a connection.
    async fn run_within<T, E, F>(&self, patience: Duration, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut D::Connection) -> Result<T, E> + Send + 'static,
    {
        self.run_either(patience, |conn| conn.map_err(E::from).and_then(work))
            .await
            .map_err(E::from)?
    }

    /// As [`SqlStore::run_within`], but `work` is called either way: with a connection, or on
    /// the runtime with the reason there is none. Work that holds others' requests (a batch)
    /// answers them with it. Only a task cancelled by a runtime shutting down drops `work`
    /// uncalled.
    async fn run_either<T, F>(&self, patience: Duration, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Result<&mut D::Connection, StoreError>) -> T + Send + 'static,
    {
        let waiting = Instant::now();
        let turn = match tokio::time::timeout(patience, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(closed)) => return Ok(work(Err(StoreError::Unexpected(Box::new(closed))))),
            Err(_) => return Ok(work(Err(all_busy()))),
        };
        let patience = patience.saturating_sub(waiting.elapsed());
        let pool = self.pool.clone();
        application::blocking::run(move || {
            let _turn = turn;
            let mut conn = match pool.get_timeout(patience) {
                Ok(conn) => conn,
                Err(error) => return work(Err(StoreError::Unavailable(Box::new(error)))),
            };
            // Measured here, once a connection is in hand: the wait for a turn and for it.
            metrics::histogram!("iam_store_connection_wait_seconds")
                .record(waiting.elapsed().as_secs_f64());
            let state = pool.state();
            metrics::gauge!("iam_store_connections").set(f64::from(state.connections));
            metrics::gauge!("iam_store_connections_in_use")
                .set(f64::from(state.connections - state.idle_connections));
            work(Ok(&mut conn))
        })
        .await
    }
}

/// The store's failure for a request that waited its whole patience for a connection.
fn all_busy() -> StoreError {
    StoreError::Unavailable("every database connection stayed busy".into())
}

/// The store's failure for a request that no batch wrote.
fn unwritten(why: Unwritten) -> StoreError {
    match why {
        Unwritten::Waited => all_busy(),
        Unwritten::Lost => StoreError::Unexpected("the request's batch ended unanswered".into()),
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Runs `call` for `item`. Where the dialect has a [`Dialect::SHARED_COMMIT`], with the
    /// others waiting when a writer's turn comes (see [`crate::batch`]): a batch of several
    /// runs in one transaction and shares its commit, each caller getting its own outcome; if a
    /// call fails (`failed`), it is rolled back and each request runs again alone, so one
    /// failure undoes none of the others. A transaction that cannot begin or commit fails every
    /// caller of its batch: after a lost commit, running them again could count a submission
    /// twice. Elsewhere each request runs alone on a connection of its own.
    async fn together<T, R>(
        &self,
        batcher: &Batcher<T, R>,
        item: T,
        call: fn(&mut D::Connection, &T) -> R,
        failed: fn(&R) -> bool,
        unavailable: fn(StoreError) -> R,
    ) -> R
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        if !D::SHARED_COMMIT {
            return self
                .run(move |conn| Ok::<_, StoreError>(call(conn, &item)))
                .await
                .unwrap_or_else(unavailable);
        }
        let write = move |conn: &mut D::Connection, batch: Batch<T, R>| match in_one_transaction(
            conn,
            batch.items(),
            call,
            failed,
        ) {
            Ok(outcomes) => {
                batch.answer(outcomes);
                true
            }
            Err(NotCommitted::Failed(error)) => {
                batch.answer_each(|_| unavailable(error.for_another()));
                false
            }
            Err(NotCommitted::RolledBack) => {
                let alone: Vec<R> = batch.items().iter().map(|item| call(conn, item)).collect();
                let served = !alone.iter().any(failed);
                batch.answer(alone);
                served
            }
        };
        self.batched(batcher, item, write, unavailable).await
    }

    /// Submits `item` to `batcher`. A writer's turn writes its batches one after the other on
    /// one connection through `write`, which answers each and says whether the database served
    /// it; a failure ends the turn, so a broken connection goes back to the pool instead of
    /// failing the next batches. Without a connection, the first batch is answered
    /// `unavailable`.
    async fn batched<T, R, W>(
        &self,
        batcher: &Batcher<T, R>,
        item: T,
        write: W,
        unavailable: fn(StoreError) -> R,
    ) -> R
    where
        T: Send + 'static,
        R: Send + 'static,
        W: Fn(&mut D::Connection, Batch<T, R>) -> bool + Copy + Send + 'static,
    {
        let turn = |mut batches: Batches<T, R>| {
            let store = self.clone();
            async move {
                let patience = store.pool.connection_timeout();
                let _ = store
                    .run_either(patience, move |conn| match conn {
                        Ok(conn) => {
                            for batch in batches {
                                if !write(conn, batch) {
                                    break;
                                }
                            }
                        }
                        Err(error) => {
                            if let Some(batch) = batches.next() {
                                batch.answer_each(|_| unavailable(error.for_another()));
                            }
                        }
                    })
                    .await;
            }
        };
        batcher.submit(item, turn).await
    }
}

/// Why a batch's transaction left nothing written.
enum NotCommitted {
    /// A call failed, and the transaction was rolled back.
    RolledBack,
    /// The transaction could not begin or commit.
    Failed(StoreError),
}

/// Runs `call` for each item in one transaction, and commits it unless a call `failed`. A lone
/// item runs without a transaction.
fn in_one_transaction<C: StoreConnection, T, R>(
    conn: &mut C,
    items: &[T],
    call: fn(&mut C, &T) -> R,
    failed: fn(&R) -> bool,
) -> Result<Vec<R>, NotCommitted> {
    if let [item] = items {
        return Ok(vec![call(conn, item)]);
    }
    let mut outcomes = Vec::with_capacity(items.len());
    let committed = conn.transaction(|conn| {
        for item in items {
            let outcome = call(conn, item);
            if failed(&outcome) {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            outcomes.push(outcome);
        }
        Ok(())
    });
    match committed {
        Ok(()) => Ok(outcomes),
        Err(diesel::result::Error::RollbackTransaction) => Err(NotCommitted::RolledBack),
        Err(error) => Err(NotCommitted::Failed(store_error(error))),
    }
}

impl<D: Dialect> IdentityRepository for SqlStore<D> {
    async fn insert_identity(
        &self,
        new: NewIdentity,
        event: Event,
    ) -> Result<Identity, InsertIdentityError> {
        self.run(move |conn| {
            let identity = new.identity.clone();
            conn.transaction(|conn| {
                conn.insert_identity(new.into())?;
                conn.insert_audit_event(event.into())
            })
            .map_err(|error| {
                if is_unique_violation(&error, "identities", "identifier") {
                    InsertIdentityError::DuplicateIdentifier
                } else {
                    store_error(error).into()
                }
            })?;
            Ok(identity)
        })
        .await
    }

    async fn find_identity(&self, id: IdentityId) -> Result<Option<Identity>, StoreError> {
        self.run(move |conn| {
            conn.find_identity(id)
                .map_err(store_error)?
                .map(Identity::try_from)
                .transpose()
        })
        .await
    }

    /// A row that cannot be read is logged and skipped, so that it cannot take the listing
    /// down for every other identity; rows after it fill the page.
    async fn list_identities(&self, query: IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        self.run(move |conn| {
            let mut identities = Vec::with_capacity(query.limit);
            let mut after = query.after;
            loop {
                let wanted = query.limit - identities.len();
                let rows = conn
                    .list_identities(after, wanted, query.identifier.clone())
                    .map_err(store_error)?;
                let exhausted = rows.len() < wanted;
                for row in rows {
                    let id = row.id();
                    after = Some(id);
                    match Identity::try_from(row) {
                        Ok(identity) => identities.push(identity),
                        Err(error) => tracing::error!(
                            identity_id = %id,
                            error = %error,
                            "skipped an identity that cannot be read from the store"
                        ),
                    }
                }
                if exhausted || identities.len() == query.limit {
                    return Ok(identities);
                }
            }
        })
        .await
    }

    async fn find_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<(Identity, Option<PasswordHash>)>, StoreError> {
        let identifier = identifier.to_owned();
        self.run(move |conn| {
            conn.find_by_identifier(&identifier)
                .map_err(store_error)?
                .map(|(row, password)| {
                    Identity::try_from(row)
                        .map(|identity| (identity, password.map(PasswordHash::from_stored)))
                })
                .transpose()
        })
        .await
    }

    async fn update_password_hash(
        &self,
        id: IdentityId,
        hash: PasswordHash,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.replace_password_hash(id, hash.as_str().to_owned())
                .map(drop)
                .map_err(store_error)
        })
        .await
    }

    async fn replace_identity(
        &self,
        replacement: NewIdentity,
        event: Event,
    ) -> Result<Identity, ReplaceIdentityError> {
        let id = replacement.identity.id;
        self.run(move |conn| {
            let outcome = conn.transaction(|conn| {
                if conn.replace_identity(id, replacement.into())? == 0 {
                    return Ok(None);
                }
                conn.insert_audit_event(event.into())?;
                conn.find_identity(id)
            });
            match outcome {
                Ok(Some(row)) => Ok(Identity::try_from(row)?),
                Ok(None) => Err(ReplaceIdentityError::NotFound),
                Err(error) if is_unique_violation(&error, "identities", "identifier") => {
                    Err(ReplaceIdentityError::DuplicateIdentifier)
                }
                Err(error) => Err(store_error(error).into()),
            }
        })
        .await
    }

    async fn delete_identity(&self, id: IdentityId, event: Event) -> Result<bool, StoreError> {
        // Flows and codes go with it: their foreign keys cascade. Audit events have none.
        self.run(move |conn| {
            conn.transaction(|conn| {
                let existed = conn.delete_identity(id)? > 0;
                if existed {
                    conn.insert_audit_event(event.into())?;
                }
                Ok(existed)
            })
            .map_err(store_error)
        })
        .await
    }
}

impl<D: Dialect> RecoveryRepository for SqlStore<D> {
    /// Goes with the issues waiting when a writer's turn comes (see [`crate::batch`]).
    async fn store_code_issue(&self, issue: CodeIssue) -> Result<(), StoreCodeIssueError> {
        let write = |conn: &mut D::Connection, batch: Batch<CodeIssue, IssueOutcome>| {
            let outcomes = D::store_code_issues(conn, batch.items());
            let served = !outcomes
                .iter()
                .any(|outcome| matches!(outcome, Err(StoreCodeIssueError::Store(_))));
            batch.answer(outcomes);
            served
        };
        self.batched(&self.issues, issue, write, |error| Err(error.into()))
            .await
    }

    async fn find_flow(&self, id: RecoveryFlowId) -> Result<Option<RecoveryFlow>, StoreError> {
        self.run(move |conn| {
            conn.find_flow(id)
                .map_err(store_error)?
                .map(RecoveryFlow::try_from)
                .transpose()
        })
        .await
    }

    async fn begin_submission(
        &self,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> Result<Option<Submission>, StoreError> {
        self.together(
            &self.submissions,
            (flow_id, now),
            |conn, &(flow_id, now)| D::begin_submission(conn, flow_id, now),
            Result::is_err,
            Err,
        )
        .await
    }

    async fn spent_codes(&self, flow_id: RecoveryFlowId) -> Result<Vec<SpentCode>, StoreError> {
        self.run(move |conn| {
            Ok(conn
                .spent_codes(flow_id)
                .map_err(store_error)?
                .into_iter()
                .map(|(hash, revoked_at)| SpentCode {
                    hash: CodeHash::from_stored(hash),
                    revoked: revoked_at.is_some(),
                })
                .collect())
        })
        .await
    }

    async fn redeem(&self, redemption: Redemption) -> Result<(), RedeemError> {
        self.together(
            &self.redemptions,
            redemption,
            D::redeem,
            |outcome| matches!(outcome, Err(RedeemError::Store(_))),
            |error| Err(error.into()),
        )
        .await
    }

    async fn revoke_codes(
        &self,
        identity_id: IdentityId,
        at: Timestamp,
        event: Event,
    ) -> Result<Option<Revoked>, StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                if conn.find_identity(identity_id)?.is_none() {
                    return Ok(None);
                }
                let codes = conn.revoke_codes_of(identity_id, at)?;
                let method = AuthMethod::CodeRecovery.as_str();
                let sessions = conn.revoke_sessions_by(identity_id, method, at)?;
                conn.insert_audit_event(event.into())?;
                Ok(Some(Revoked { codes, sessions }))
            })
            .map_err(store_error)
        })
        .await
    }
}

/// How long a readiness check waits for a connection: probes must get their answer, a 503,
/// within their own timeout.
const READINESS_PATIENCE: Duration = Duration::from_secs(1);

impl<D: Dialect> SessionRepository for SqlStore<D> {
    async fn insert_session(
        &self,
        session: Session,
        revoke_others: bool,
        event: Event,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                if revoke_others {
                    conn.revoke_sessions_of(session.identity_id, session.authenticated_at)?;
                }
                conn.insert_session(session.into())?;
                conn.insert_audit_event(event.into())
            })
            .map(drop)
            .map_err(store_error)
        })
        .await
    }

    async fn find_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(Session, Identity)>, StoreError> {
        let token_hash = token_hash.as_str().to_owned();
        self.run(move |conn| {
            conn.find_session(&token_hash, now)
                .map_err(store_error)?
                .map(|(session, identity)| {
                    Ok((Session::try_from(session)?, Identity::try_from(identity)?))
                })
                .transpose()
        })
        .await
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        at: Timestamp,
        event: Event,
    ) -> Result<bool, StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                let revoked = conn.revoke_session(id, at)? > 0;
                if revoked {
                    conn.insert_audit_event(event.into())?;
                }
                Ok(revoked)
            })
            .map_err(store_error)
        })
        .await
    }

    async fn list_sessions(&self, query: SessionQuery) -> Result<Vec<StoredSession>, StoreError> {
        self.run(move |conn| {
            conn.list_sessions(
                query.identity_id,
                query.after,
                query.except,
                query.active.map(|active| (active, query.now)),
                query.limit,
            )
            .map_err(store_error)?
            .into_iter()
            .map(stored_session)
            .collect()
        })
        .await
    }

    async fn find_session_by_id(
        &self,
        id: SessionId,
    ) -> Result<Option<(StoredSession, Identity)>, StoreError> {
        self.run(move |conn| {
            conn.find_session_by_id(id)
                .map_err(store_error)?
                .map(|(session, identity)| {
                    Ok((stored_session(session)?, Identity::try_from(identity)?))
                })
                .transpose()
        })
        .await
    }

    async fn revoke_identity_sessions(
        &self,
        identity_id: IdentityId,
        except: Option<SessionId>,
        at: Timestamp,
        event: Event,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                let revoked = match except {
                    None => conn.revoke_sessions_of(identity_id, at),
                    Some(keep) => conn.revoke_sessions_but(identity_id, keep, at),
                }?;
                if revoked > 0 {
                    conn.insert_audit_event(event.into())?;
                }
                Ok(revoked)
            })
            .map_err(store_error)
        })
        .await
    }
}

fn stored_session((session, revoked_at): StoredSessionRow) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        session: Session::try_from(session)?,
        revoked_at: revoked_at.map(|at| at.0),
    })
}

impl<D: Dialect> SelfServiceRepository for SqlStore<D> {
    async fn find_settings_flow(
        &self,
        id: SettingsFlowId,
    ) -> Result<Option<SettingsFlow>, StoreError> {
        self.run(move |conn| {
            conn.find_settings_flow(id)
                .map_err(store_error)?
                .map(SettingsFlow::try_from)
                .transpose()
        })
        .await
    }

    async fn set_password(&self, change: PasswordChange, event: Event) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                conn.set_password(
                    change.identity_id,
                    change.password.as_str().to_owned(),
                    change.at,
                )?;
                if change.revoke_other_sessions {
                    conn.revoke_sessions_but(change.identity_id, change.session_id, change.at)?;
                }
                conn.set_settings_state(change.flow_id, SettingsState::Success.as_str())?;
                conn.insert_audit_event(event.into())
            })
            .map(drop)
            .map_err(store_error)
        })
        .await
    }

    async fn insert_login_flow(&self, flow: LoginFlow) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.insert_login_flow(flow.into())
                .map(drop)
                .map_err(store_error)
        })
        .await
    }

    async fn find_login_flow(&self, id: LoginFlowId) -> Result<Option<LoginFlow>, StoreError> {
        self.run(move |conn| {
            conn.find_login_flow(id)
                .map_err(store_error)?
                .map(LoginFlow::try_from)
                .transpose()
        })
        .await
    }
}

/// Why an attempt was not counted; every one of them rolls the transaction back.
enum Refusal {
    Wait(Timestamp),
    /// A count was created meanwhile: try again.
    Raced,
    Store(diesel::result::Error),
}

impl From<diesel::result::Error> for Refusal {
    fn from(error: diesel::result::Error) -> Self {
        if is_race(&error) {
            Self::Raced
        } else {
            Self::Store(error)
        }
    }
}

/// Whether `error` is a concurrent writer's doing, gone on a second try: a count created
/// meanwhile, or (PostgreSQL) a deadlock or serialization failure between attempts and a
/// clearing of one identifier's counts.
fn is_race(error: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind;
    match error {
        diesel::result::Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        other => crate::is_deadlock(other),
    }
}

/// Tries of one write that may lose a race; each try is a transaction of its own.
const RACE_TRIES: usize = 5;

/// Counts the attempt in one transaction, which the policy's refusal rolls back. The first
/// write to a count locks its row, so concurrent attempts on one identifier take turns.
fn count_attempt<C: StoreConnection>(
    conn: &mut C,
    key: &IdentifierKey,
    address: AddressGroup,
    now: Timestamp,
    policy: LockoutPolicy,
) -> Result<(), Refusal> {
    conn.transaction(|conn| {
        let from_address = count_failure(conn, key, Some(address), now)?;
        let address_count = from_address.map_or(1, |f| f.count + 1);
        let identifier = if policy.counts_for_identifier(address_count) {
            count_failure(conn, key, None, now)?
        } else {
            conn.failure_count(key.as_str(), ALL_ADDRESSES)?
                .map(|row| Failures {
                    count: u32::try_from(row.failures).unwrap_or(u32::MAX),
                    last_at: row.last_failure_at.0,
                })
        };
        let counts = AttemptCounts {
            address: from_address,
            identifier,
        };
        match policy.wait_until(counts, now) {
            Some(until) => Err(Refusal::Wait(until)),
            None => Ok(()),
        }
    })
}

/// Adds a failure to one count, creating it when absent; returns the count as it stood
/// before.
fn count_failure<C: StoreConnection>(
    conn: &mut C,
    key: &IdentifierKey,
    address: Option<AddressGroup>,
    now: Timestamp,
) -> Result<Option<Failures>, diesel::result::Error> {
    let address = address_column(address);
    if let Some(counted) = conn.add_failure(key.as_str(), &address, now)? {
        return Ok(failures_before(counted));
    }
    conn.insert_failure(FailureInsert {
        identifier_key: key.as_str().to_owned(),
        address,
        failures: 1,
        last_failure_at: DbInstant(now),
    })?;
    Ok(None)
}

impl<D: Dialect> LoginFailureRepository for SqlStore<D> {
    async fn count_attempt(
        &self,
        key: &IdentifierKey,
        address: AddressGroup,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<Option<Timestamp>, StoreError> {
        let key = key.clone();
        self.run(move |conn| {
            // A count created meanwhile by a concurrent first attempt fails the insert, and on
            // PostgreSQL the transaction with it: tried again, it is updated instead.
            for _ in 0..RACE_TRIES {
                match count_attempt(conn, &key, address, now, policy) {
                    Err(Refusal::Raced) => {}
                    Err(Refusal::Wait(until)) => return Ok(Some(until)),
                    Err(Refusal::Store(error)) => return Err(store_error(error)),
                    Ok(()) => return Ok(None),
                }
            }
            Err(StoreError::Unexpected(
                "a count of failed sign-ins could neither be updated nor created".into(),
            ))
        })
        .await
    }

    async fn clear_failures(
        &self,
        key: &IdentifierKey,
        address: Option<AddressGroup>,
        event: Option<Event>,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        let addresses =
            address.map(|group| vec![address_column(Some(group)), address_column(None)]);
        self.run(move |conn| {
            let mut tries = 0;
            loop {
                tries += 1;
                let cleared = conn.transaction(|conn| {
                    conn.delete_failures(key.as_str(), addresses.clone())?;
                    match &event {
                        Some(event) => conn.insert_audit_event(event.clone().into()),
                        None => Ok(0),
                    }
                });
                match cleared {
                    Err(error) if is_race(&error) && tries < RACE_TRIES => {}
                    outcome => return outcome.map(drop).map_err(store_error),
                }
            }
        })
        .await
    }

    async fn failures_of(
        &self,
        key: &IdentifierKey,
    ) -> Result<Vec<(Option<AddressGroup>, Failures)>, StoreError> {
        let key = key.clone();
        self.run(move |conn| {
            conn.failures_of(key.as_str())
                .map_err(store_error)?
                .into_iter()
                .map(TryFrom::try_from)
                .collect()
        })
        .await
    }
}

impl<D: Dialect> AuditTrail for SqlStore<D> {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.insert_audit_event(event.into())
                .map(drop)
                .map_err(store_error)
        })
        .await
    }

    /// An event that cannot be read is logged and skipped, as in the identity listing; events
    /// after it fill the page.
    async fn audit_events(&self, query: AuditQuery) -> Result<Vec<Event>, StoreError> {
        self.run(move |conn| {
            let mut events = Vec::with_capacity(query.limit);
            let mut after = query.after;
            loop {
                let wanted = query.limit - events.len();
                let rows = conn
                    .audit_events(query.identity_id, after, wanted)
                    .map_err(store_error)?;
                let exhausted = rows.len() < wanted;
                for row in rows {
                    let id = row.id();
                    after = Some(id);
                    match Event::try_from(row) {
                        Ok(event) => events.push(event),
                        Err(error) => tracing::error!(
                            audit_event_id = %id,
                            error = %error,
                            "skipped an audit event that cannot be read from the store"
                        ),
                    }
                }
                if exhausted || events.len() == query.limit {
                    return Ok(events);
                }
            }
        })
        .await
    }
}

impl<D: Dialect> Housekeeping for SqlStore<D> {
    async fn purge_expired(&self, purge: Purge) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.purge_expired(purge.expired_before, purge.audit_before)
                .map_err(store_error)
        })
        .await
    }
}

impl<D: Dialect> Readiness for SqlStore<D> {
    async fn check_ready(&self) -> Result<(), StoreError> {
        self.run_within(READINESS_PATIENCE, |conn| {
            conn.ping()
                .map_err(|error| StoreError::Unavailable(Box::new(error)))
        })
        .await
    }
}
