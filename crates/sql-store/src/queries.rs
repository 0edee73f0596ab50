//! Queries written once for every backend: [`StoreConnection`] is implemented for every
//! diesel connection whose backend can run them all.

use diesel::connection::{Connection, SimpleConnection};
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::InsertStatement;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};
use diesel::r2d2::R2D2Connection;
use domain::id::{
    AuditEventId, IdentityId, LoginFlowId, RecoveryCodeId, RecoveryFlowId, SessionId,
    SettingsFlowId,
};
use domain::identity::IdentityState;
use domain::recovery::ProvenAddresses;
use domain::time::Timestamp;
use uuid::Uuid;

use crate::rows::{
    AuditEventRow, CODE_COLUMNS, CodeColumns, CodeInsert, CodeRow, FLOW_COLUMNS, FailureCounted,
    FailureInsert, FailureRow, FlowColumns, FlowInsert, FlowRow, IDENTITY_COLUMNS, IdentityChanges,
    IdentityColumns, IdentityInsert, IdentityRow, LoginFlowRow, SESSION_COLUMNS, SessionColumns,
    SessionInsert, SessionRow, SettingsFlowRow, verifiable_document,
};
use crate::schema::{
    audit_events, identities, login_failures, login_flows, recovery_codes, recovery_flows,
    sessions, settings_flows,
};
use crate::types::{DbDocument, DbId, DbInstant};

#[dsl::auto_type]
fn identity_by_id(id: DbId) -> _ {
    let columns: IdentityColumns = IDENTITY_COLUMNS;
    identities::table.find(id).select(columns)
}

#[dsl::auto_type]
fn identities_after(after: DbId, limit: i64) -> _ {
    let columns: IdentityColumns = IDENTITY_COLUMNS;
    identities::table
        .filter(identities::id.gt(after))
        .order(identities::id)
        .limit(limit)
        .select(columns)
}

#[dsl::auto_type]
fn identities_by_identifier(after: DbId, identifier: String, limit: i64) -> _ {
    let columns: IdentityColumns = IDENTITY_COLUMNS;
    identities::table
        .filter(identities::id.gt(after))
        .filter(identities::identifier.eq(identifier))
        .order(identities::id)
        .limit(limit)
        .select(columns)
}

#[dsl::auto_type]
fn replace_identity_by_id(id: DbId, changes: IdentityChanges) -> _ {
    dsl::update(identities::table.find(id)).set(changes)
}

#[dsl::auto_type]
fn delete_identity_by_id(id: DbId) -> _ {
    dsl::delete(identities::table.find(id))
}

#[dsl::auto_type]
fn flow_by_id(id: DbId) -> _ {
    let columns: FlowColumns = FLOW_COLUMNS;
    recovery_flows::table.find(id).select(columns)
}

#[dsl::auto_type]
fn codes_valid_at(flow_id: DbId, now: DbInstant) -> _ {
    let columns: CodeColumns = CODE_COLUMNS;
    recovery_codes::table
        .filter(recovery_codes::flow_id.eq(flow_id))
        .filter(recovery_codes::used_at.is_null())
        .filter(recovery_codes::revoked_at.is_null())
        // Unexpired as `Expires::is_expired` says: expired from `expires_at` on.
        .filter(recovery_codes::expires_at.gt(now))
        .order(recovery_codes::issued_at.desc())
        .select(columns)
}

#[dsl::auto_type]
fn revoke_unused_codes(identity_id: DbId, code_type: &'static str, at: DbInstant) -> _ {
    dsl::update(
        recovery_codes::table
            .filter(recovery_codes::identity_id.eq(identity_id))
            .filter(recovery_codes::code_type.eq(code_type))
            .filter(recovery_codes::used_at.is_null())
            .filter(recovery_codes::revoked_at.is_null()),
    )
    .set(recovery_codes::revoked_at.eq(at))
}

#[dsl::auto_type]
fn identity_with_password(identifier: String) -> _ {
    let columns: IdentityColumns = IDENTITY_COLUMNS;
    identities::table
        .filter(identities::identifier.eq(identifier))
        .select((columns, identities::password_hash))
}

#[dsl::auto_type]
fn count_flow_submission(id: DbId) -> _ {
    let columns: FlowColumns = FLOW_COLUMNS;
    dsl::update(recovery_flows::table.find(id))
        .set(recovery_flows::submit_count.eq(recovery_flows::submit_count + 1_i32))
        .returning(columns)
}

#[dsl::auto_type]
fn consume_unused_code(code_id: DbId, flow_id: DbId, at: DbInstant) -> _ {
    dsl::update(
        recovery_codes::table
            .filter(recovery_codes::id.eq(code_id))
            .filter(recovery_codes::flow_id.eq(flow_id))
            .filter(recovery_codes::used_at.is_null())
            .filter(recovery_codes::revoked_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(at))
}

#[dsl::auto_type]
fn set_flow_state(id: DbId, state: &'static str) -> _ {
    dsl::update(recovery_flows::table.find(id)).set(recovery_flows::state.eq(state))
}

#[dsl::auto_type]
fn prove_addresses(identity_id: DbId, unchanged_since: DbInstant, verifiable: DbDocument) -> _ {
    dsl::update(
        identities::table
            .filter(identities::id.eq(identity_id))
            .filter(identities::updated_at.eq(unchanged_since)),
    )
    .set(identities::verifiable_addresses.eq(verifiable))
}

#[dsl::auto_type]
fn revoke_active_sessions(identity_id: DbId, at: DbInstant) -> _ {
    // Expired sessions are over already: writing them would only cost. Unexpired as
    // `Expires::is_expired` says, here and below.
    dsl::update(
        sessions::table
            .filter(sessions::identity_id.eq(identity_id))
            .filter(sessions::expires_at.gt(at))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
}

#[dsl::auto_type]
fn revoke_outstanding_codes(identity_id: DbId, at: DbInstant) -> _ {
    dsl::update(
        recovery_codes::table
            .filter(recovery_codes::identity_id.eq(identity_id))
            .filter(recovery_codes::used_at.is_null())
            .filter(recovery_codes::revoked_at.is_null())
            .filter(recovery_codes::expires_at.gt(at)),
    )
    .set(recovery_codes::revoked_at.eq(at))
}

#[dsl::auto_type]
fn revoke_active_sessions_by(identity_id: DbId, method: &'static str, at: DbInstant) -> _ {
    dsl::update(
        sessions::table
            .filter(sessions::identity_id.eq(identity_id))
            .filter(sessions::method.eq(method))
            .filter(sessions::expires_at.gt(at))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
}

#[dsl::auto_type]
fn revoke_other_active_sessions(identity_id: DbId, keep: DbId, at: DbInstant) -> _ {
    dsl::update(
        sessions::table
            .filter(sessions::identity_id.eq(identity_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::expires_at.gt(at))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
}

#[dsl::auto_type]
fn revoke_active_session(id: DbId, at: DbInstant) -> _ {
    dsl::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
}

#[dsl::auto_type]
fn active_session(token_hash: String, now: DbInstant, active: &'static str) -> _ {
    let session: SessionColumns = SESSION_COLUMNS;
    let identity: IdentityColumns = IDENTITY_COLUMNS;
    sessions::table
        .inner_join(identities::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::revoked_at.is_null())
        // Unexpired as `Expires::is_expired` says.
        .filter(sessions::expires_at.gt(now))
        // An inactive identity has no valid session, decided in the same query.
        .filter(identities::state.eq(active))
        .select((session, identity))
}

#[dsl::auto_type]
fn sessions_of(identity_id: DbId, after: DbId, except: DbId, limit: i64) -> _ {
    let session: SessionColumns = SESSION_COLUMNS;
    sessions::table
        .filter(sessions::identity_id.eq(identity_id))
        .filter(sessions::id.gt(after))
        .filter(sessions::id.ne(except))
        .order(sessions::id)
        .limit(limit)
        .select((session, sessions::revoked_at))
}

#[dsl::auto_type]
fn active_sessions_of(
    identity_id: DbId,
    after: DbId,
    except: DbId,
    now: DbInstant,
    limit: i64,
) -> _ {
    let session: SessionColumns = SESSION_COLUMNS;
    sessions::table
        .filter(sessions::identity_id.eq(identity_id))
        .filter(sessions::id.gt(after))
        .filter(sessions::id.ne(except))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::id)
        .limit(limit)
        .select((session, sessions::revoked_at))
}

#[dsl::auto_type]
fn inactive_sessions_of(
    identity_id: DbId,
    after: DbId,
    except: DbId,
    now: DbInstant,
    limit: i64,
) -> _ {
    let session: SessionColumns = SESSION_COLUMNS;
    sessions::table
        .filter(sessions::identity_id.eq(identity_id))
        .filter(sessions::id.gt(after))
        .filter(sessions::id.ne(except))
        .filter(
            sessions::revoked_at
                .is_not_null()
                .or(sessions::expires_at.le(now)),
        )
        .order(sessions::id)
        .limit(limit)
        .select((session, sessions::revoked_at))
}

#[dsl::auto_type]
fn session_by_id(id: DbId) -> _ {
    let session: SessionColumns = SESSION_COLUMNS;
    let identity: IdentityColumns = IDENTITY_COLUMNS;
    sessions::table
        .inner_join(identities::table)
        .filter(sessions::id.eq(id))
        .select(((session, sessions::revoked_at), identity))
}

#[dsl::auto_type]
fn settings_flow_by_id(id: DbId) -> _ {
    settings_flows::table.find(id)
}

#[dsl::auto_type]
fn set_settings_state(id: DbId, state: &'static str) -> _ {
    dsl::update(settings_flows::table.find(id)).set(settings_flows::state.eq(state))
}

#[dsl::auto_type]
fn login_flow_by_id(id: DbId) -> _ {
    login_flows::table.find(id)
}

#[dsl::auto_type]
fn set_identity_password(id: DbId, hash: String, at: DbInstant) -> _ {
    dsl::update(identities::table.find(id)).set((
        identities::password_hash.eq(hash),
        identities::updated_at.eq(at),
    ))
}

#[dsl::auto_type]
fn replace_password_hash(id: DbId, hash: String) -> _ {
    dsl::update(identities::table.find(id)).set(identities::password_hash.eq(hash))
}

#[dsl::auto_type]
fn expired_recovery_flows(before: DbInstant) -> _ {
    dsl::delete(recovery_flows::table.filter(recovery_flows::expires_at.lt(before)))
}

#[dsl::auto_type]
fn expired_sessions(before: DbInstant) -> _ {
    dsl::delete(sessions::table.filter(sessions::expires_at.lt(before)))
}

#[dsl::auto_type]
fn revoked_sessions(before: DbInstant) -> _ {
    dsl::delete(sessions::table.filter(sessions::revoked_at.lt(before)))
}

#[dsl::auto_type]
fn expired_settings_flows(before: DbInstant) -> _ {
    dsl::delete(settings_flows::table.filter(settings_flows::expires_at.lt(before)))
}

#[dsl::auto_type]
fn expired_login_flows(before: DbInstant) -> _ {
    dsl::delete(login_flows::table.filter(login_flows::expires_at.lt(before)))
}

#[dsl::auto_type]
fn spent_codes_of(flow_id: DbId) -> _ {
    recovery_codes::table
        .filter(recovery_codes::flow_id.eq(flow_id))
        .filter(
            recovery_codes::used_at
                .is_not_null()
                .or(recovery_codes::revoked_at.is_not_null()),
        )
        .select((recovery_codes::code_hash, recovery_codes::revoked_at))
}

#[dsl::auto_type]
fn audit_events_after(after: DbId, limit: i64) -> _ {
    audit_events::table
        .filter(audit_events::id.gt(after))
        .order(audit_events::id)
        .limit(limit)
}

#[dsl::auto_type]
fn audit_events_of(identity_id: DbId, after: DbId, limit: i64) -> _ {
    audit_events::table
        .filter(audit_events::identity_id.eq(identity_id))
        .filter(audit_events::id.gt(after))
        .order(audit_events::id)
        .limit(limit)
}

#[dsl::auto_type]
fn old_audit_events(before: DbInstant) -> _ {
    dsl::delete(audit_events::table.filter(audit_events::occurred_at.lt(before)))
}

#[dsl::auto_type]
fn add_failure(identifier_key: String, address: String, at: DbInstant) -> _ {
    dsl::update(
        login_failures::table
            .filter(login_failures::identifier_key.eq(identifier_key))
            .filter(login_failures::address.eq(address)),
    )
    .set((
        login_failures::failures.eq(login_failures::failures + 1_i32),
        login_failures::previous_failure_at.eq(login_failures::last_failure_at.nullable()),
        login_failures::last_failure_at.eq(at),
    ))
    .returning((
        login_failures::failures,
        login_failures::last_failure_at,
        login_failures::previous_failure_at,
    ))
}

#[dsl::auto_type]
fn failures_by_key(identifier_key: String) -> _ {
    login_failures::table
        .filter(login_failures::identifier_key.eq(identifier_key))
        .select((
            login_failures::address,
            login_failures::failures,
            login_failures::last_failure_at,
        ))
}

#[dsl::auto_type]
fn failure_count_of(identifier_key: String, address: String) -> _ {
    login_failures::table
        .filter(login_failures::identifier_key.eq(identifier_key))
        .filter(login_failures::address.eq(address))
        .select((
            login_failures::address,
            login_failures::failures,
            login_failures::last_failure_at,
        ))
}

#[dsl::auto_type]
fn delete_failures(identifier_key: String) -> _ {
    dsl::delete(login_failures::table.filter(login_failures::identifier_key.eq(identifier_key)))
}

#[dsl::auto_type]
fn delete_failures_from(identifier_key: String, addresses: Vec<String>) -> _ {
    dsl::delete(
        login_failures::table
            .filter(login_failures::identifier_key.eq(identifier_key))
            .filter(login_failures::address.eq_any(addresses)),
    )
}

#[dsl::auto_type]
fn old_failures(before: DbInstant) -> _ {
    dsl::delete(login_failures::table.filter(login_failures::last_failure_at.lt(before)))
}

/// Ids are never nil (v4 or v7), so "after nil" is "from the start".
fn cursor(after: Option<IdentityId>) -> DbId {
    DbId(after.map_or(Uuid::nil(), IdentityId::into_uuid))
}

/// Ids are never nil, so nil stands for "none" where a query takes a session id.
fn session_or_nil(id: Option<SessionId>) -> DbId {
    DbId(id.map_or(Uuid::nil(), SessionId::into_uuid))
}

/// A session row with when it was revoked.
pub type StoredSessionRow = (SessionRow, Option<DbInstant>);

type InsertRow<T, R> = InsertStatement<T, <R as Insertable<T>>::Values>;

/// The queries of the store on one connection.
pub trait StoreConnection: Connection + R2D2Connection + SimpleConnection + Send + 'static {
    fn insert_identity(&mut self, row: IdentityInsert) -> QueryResult<usize>;
    fn find_identity(&mut self, id: IdentityId) -> QueryResult<Option<IdentityRow>>;
    /// Identities after `after` in id order, at most `limit`, optionally only `identifier`.
    fn list_identities(
        &mut self,
        after: Option<IdentityId>,
        limit: usize,
        identifier: Option<String>,
    ) -> QueryResult<Vec<IdentityRow>>;
    fn delete_identity(&mut self, id: IdentityId) -> QueryResult<usize>;
    fn replace_identity(&mut self, id: IdentityId, changes: IdentityChanges) -> QueryResult<usize>;
    fn insert_flow(&mut self, row: FlowInsert) -> QueryResult<usize>;
    fn insert_code(&mut self, row: CodeInsert) -> QueryResult<usize>;
    /// Marks the identity's unused, unrevoked codes of `code_type` revoked at `at`.
    fn revoke_codes(
        &mut self,
        identity_id: IdentityId,
        code_type: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize>;
    fn find_flow(&mut self, id: RecoveryFlowId) -> QueryResult<Option<FlowRow>>;
    /// The codes of `flow_id` that are unused, unrevoked and unexpired at `now`, newest first.
    fn valid_codes(&mut self, flow_id: RecoveryFlowId, now: Timestamp)
    -> QueryResult<Vec<CodeRow>>;
    /// The identity with `identifier`, with its password hash.
    fn find_by_identifier(
        &mut self,
        identifier: &str,
    ) -> QueryResult<Option<(IdentityRow, Option<String>)>>;
    /// Counts a submission; the flow with its new count, `None` without such a flow.
    fn count_submission(&mut self, flow_id: RecoveryFlowId) -> QueryResult<Option<FlowRow>>;
    /// Marks the code used if it is still unused and unrevoked; returns rows changed.
    fn consume_code(
        &mut self,
        code_id: RecoveryCodeId,
        flow_id: RecoveryFlowId,
        at: Timestamp,
    ) -> QueryResult<usize>;
    fn set_flow_state(
        &mut self,
        flow_id: RecoveryFlowId,
        state: &'static str,
    ) -> QueryResult<usize>;
    /// Writes newly proven addresses, if the identity is unchanged since they were read.
    fn prove_addresses(&mut self, proven: &ProvenAddresses) -> QueryResult<usize>;
    fn revoke_sessions_of(&mut self, identity_id: IdentityId, at: Timestamp) -> QueryResult<usize>;
    /// Ends the identity's active sessions, except `keep`.
    fn revoke_sessions_but(
        &mut self,
        identity_id: IdentityId,
        keep: SessionId,
        at: Timestamp,
    ) -> QueryResult<usize>;
    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> QueryResult<usize>;
    /// Revokes the identity's codes that are unused, unrevoked and unexpired at `at`.
    fn revoke_codes_of(&mut self, identity_id: IdentityId, at: Timestamp) -> QueryResult<usize>;
    /// Ends the identity's active sessions opened by `method`.
    fn revoke_sessions_by(
        &mut self,
        identity_id: IdentityId,
        method: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize>;
    fn insert_session(&mut self, row: SessionInsert) -> QueryResult<usize>;
    /// The unrevoked session with `token_hash`, unexpired at `now`, with its identity, while
    /// that identity is active.
    fn find_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> QueryResult<Option<(SessionRow, IdentityRow)>>;
    /// The identity's sessions after `after` in id order, at most `limit`, but `except`;
    /// only the active (or inactive) ones at `now` when `active` says so.
    fn list_sessions(
        &mut self,
        identity_id: IdentityId,
        after: Option<SessionId>,
        except: Option<SessionId>,
        active: Option<(bool, Timestamp)>,
        limit: usize,
    ) -> QueryResult<Vec<StoredSessionRow>>;
    /// The session with `id`, active or not, with its identity.
    fn find_session_by_id(
        &mut self,
        id: SessionId,
    ) -> QueryResult<Option<(StoredSessionRow, IdentityRow)>>;
    fn insert_settings_flow(&mut self, row: SettingsFlowRow) -> QueryResult<usize>;
    fn find_settings_flow(&mut self, id: SettingsFlowId) -> QueryResult<Option<SettingsFlowRow>>;
    fn set_settings_state(&mut self, id: SettingsFlowId, state: &'static str)
    -> QueryResult<usize>;
    fn set_password(
        &mut self,
        identity_id: IdentityId,
        hash: String,
        at: Timestamp,
    ) -> QueryResult<usize>;
    /// The same password hashed anew: the identity itself does not change.
    fn replace_password_hash(
        &mut self,
        identity_id: IdentityId,
        hash: String,
    ) -> QueryResult<usize>;
    fn insert_login_flow(&mut self, row: LoginFlowRow) -> QueryResult<usize>;
    fn find_login_flow(&mut self, id: LoginFlowId) -> QueryResult<Option<LoginFlowRow>>;
    /// Adds a failure to the count of `identifier_key` and `address`, creating it when absent;
    /// returns the count, `None` when it was created.
    fn add_failure(
        &mut self,
        identifier_key: &str,
        address: &str,
        at: Timestamp,
    ) -> QueryResult<Option<FailureCounted>>;
    fn insert_failure(&mut self, row: FailureInsert) -> QueryResult<usize>;
    /// Every count of `identifier_key`.
    fn failures_of(&mut self, identifier_key: &str) -> QueryResult<Vec<FailureRow>>;
    /// The count of `identifier_key` from `address`, if there is one.
    fn failure_count(
        &mut self,
        identifier_key: &str,
        address: &str,
    ) -> QueryResult<Option<FailureRow>>;
    /// Deletes the counts of `identifier_key`: those of `addresses`, or all of them.
    fn delete_failures(
        &mut self,
        identifier_key: &str,
        addresses: Option<Vec<String>>,
    ) -> QueryResult<usize>;
    /// The hashes of the flow's used or revoked codes, with when they were revoked, if they were.
    fn spent_codes(
        &mut self,
        flow_id: RecoveryFlowId,
    ) -> QueryResult<Vec<(String, Option<DbInstant>)>>;
    fn insert_audit_event(&mut self, row: AuditEventRow) -> QueryResult<usize>;
    /// Audit events after `after` in id order, at most `limit`, optionally of one identity.
    fn audit_events(
        &mut self,
        identity_id: Option<IdentityId>,
        after: Option<AuditEventId>,
        limit: usize,
    ) -> QueryResult<Vec<AuditEventRow>>;
    /// Deletes what expired (or was revoked) before `before` (foreign keys take the rest), and
    /// audit events older than `audit_before`.
    fn purge_expired(&mut self, before: Timestamp, audit_before: Timestamp) -> QueryResult<()>;
    /// A round trip that proves the database answers.
    fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }
}

impl<C> StoreConnection for C
where
    C: Connection + R2D2Connection + SimpleConnection + Send + 'static,
    InsertRow<identities::table, IdentityInsert>: ExecuteDsl<C>,
    InsertRow<recovery_flows::table, FlowInsert>: ExecuteDsl<C>,
    InsertRow<recovery_codes::table, CodeInsert>: ExecuteDsl<C>,
    InsertRow<sessions::table, SessionInsert>: ExecuteDsl<C>,
    InsertRow<settings_flows::table, SettingsFlowRow>: ExecuteDsl<C>,
    InsertRow<login_flows::table, LoginFlowRow>: ExecuteDsl<C>,
    InsertRow<login_failures::table, FailureInsert>: ExecuteDsl<C>,
    InsertRow<audit_events::table, AuditEventRow>: ExecuteDsl<C>,
    for<'a> audit_events_after: LoadQuery<'a, C, AuditEventRow>,
    for<'a> spent_codes_of: LoadQuery<'a, C, (String, Option<DbInstant>)>,
    for<'a> audit_events_of: LoadQuery<'a, C, AuditEventRow>,
    old_audit_events: ExecuteDsl<C>,
    for<'a> add_failure: LoadQuery<'a, C, FailureCounted>,
    for<'a> failures_by_key: LoadQuery<'a, C, FailureRow>,
    for<'a> failure_count_of: LoadQuery<'a, C, FailureRow>,
    delete_failures: ExecuteDsl<C>,
    delete_failures_from: ExecuteDsl<C>,
    old_failures: ExecuteDsl<C>,
    consume_unused_code: ExecuteDsl<C>,
    expired_recovery_flows: ExecuteDsl<C>,
    expired_sessions: ExecuteDsl<C>,
    revoked_sessions: ExecuteDsl<C>,
    expired_settings_flows: ExecuteDsl<C>,
    expired_login_flows: ExecuteDsl<C>,
    set_flow_state: ExecuteDsl<C>,
    prove_addresses: ExecuteDsl<C>,
    revoke_active_sessions: ExecuteDsl<C>,
    revoke_other_active_sessions: ExecuteDsl<C>,
    revoke_outstanding_codes: ExecuteDsl<C>,
    revoke_active_sessions_by: ExecuteDsl<C>,
    revoke_active_session: ExecuteDsl<C>,
    set_settings_state: ExecuteDsl<C>,
    set_identity_password: ExecuteDsl<C>,
    replace_password_hash: ExecuteDsl<C>,
    for<'a> identity_with_password: LoadQuery<'a, C, (IdentityRow, Option<String>)>,
    for<'a> count_flow_submission: LoadQuery<'a, C, FlowRow>,
    for<'a> active_session: LoadQuery<'a, C, (SessionRow, IdentityRow)>,
    for<'a> sessions_of: LoadQuery<'a, C, StoredSessionRow>,
    for<'a> active_sessions_of: LoadQuery<'a, C, StoredSessionRow>,
    for<'a> inactive_sessions_of: LoadQuery<'a, C, StoredSessionRow>,
    for<'a> session_by_id: LoadQuery<'a, C, (StoredSessionRow, IdentityRow)>,
    for<'a> dsl::Limit<settings_flow_by_id>: LoadQuery<'a, C, SettingsFlowRow>,
    for<'a> dsl::Limit<login_flow_by_id>: LoadQuery<'a, C, LoginFlowRow>,
    delete_identity_by_id: ExecuteDsl<C>,
    replace_identity_by_id: ExecuteDsl<C>,
    revoke_unused_codes: ExecuteDsl<C>,
    for<'a> dsl::Limit<identity_by_id>: LoadQuery<'a, C, IdentityRow>,
    for<'a> identities_after: LoadQuery<'a, C, IdentityRow>,
    for<'a> identities_by_identifier: LoadQuery<'a, C, IdentityRow>,
    for<'a> dsl::Limit<flow_by_id>: LoadQuery<'a, C, FlowRow>,
    for<'a> codes_valid_at: LoadQuery<'a, C, CodeRow>,
{
    fn insert_identity(&mut self, row: IdentityInsert) -> QueryResult<usize> {
        diesel::insert_into(identities::table)
            .values(row)
            .execute(self)
    }

    fn find_identity(&mut self, id: IdentityId) -> QueryResult<Option<IdentityRow>> {
        identity_by_id(DbId(id.into())).first(self).optional()
    }

    fn list_identities(
        &mut self,
        after: Option<IdentityId>,
        limit: usize,
        identifier: Option<String>,
    ) -> QueryResult<Vec<IdentityRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match identifier {
            None => identities_after(cursor(after), limit).load(self),
            Some(identifier) => {
                identities_by_identifier(cursor(after), identifier, limit).load(self)
            }
        }
    }

    fn delete_identity(&mut self, id: IdentityId) -> QueryResult<usize> {
        delete_identity_by_id(DbId(id.into())).execute(self)
    }

    fn replace_identity(&mut self, id: IdentityId, changes: IdentityChanges) -> QueryResult<usize> {
        replace_identity_by_id(DbId(id.into()), changes).execute(self)
    }

    fn insert_flow(&mut self, row: FlowInsert) -> QueryResult<usize> {
        diesel::insert_into(recovery_flows::table)
            .values(row)
            .execute(self)
    }

    fn insert_code(&mut self, row: CodeInsert) -> QueryResult<usize> {
        diesel::insert_into(recovery_codes::table)
            .values(row)
            .execute(self)
    }

    fn revoke_codes(
        &mut self,
        identity_id: IdentityId,
        code_type: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize> {
        revoke_unused_codes(DbId(identity_id.into()), code_type, DbInstant(at)).execute(self)
    }

    fn find_flow(&mut self, id: RecoveryFlowId) -> QueryResult<Option<FlowRow>> {
        flow_by_id(DbId(id.into())).first(self).optional()
    }

    fn valid_codes(
        &mut self,
        flow_id: RecoveryFlowId,
        now: Timestamp,
    ) -> QueryResult<Vec<CodeRow>> {
        codes_valid_at(DbId(flow_id.into()), DbInstant(now)).load(self)
    }

    fn find_by_identifier(
        &mut self,
        identifier: &str,
    ) -> QueryResult<Option<(IdentityRow, Option<String>)>> {
        identity_with_password(identifier.to_owned())
            .load(self)
            .map(|rows| rows.into_iter().next())
    }

    fn count_submission(&mut self, flow_id: RecoveryFlowId) -> QueryResult<Option<FlowRow>> {
        count_flow_submission(DbId(flow_id.into()))
            .load(self)
            .map(|counts| counts.into_iter().next())
    }

    fn consume_code(
        &mut self,
        code_id: RecoveryCodeId,
        flow_id: RecoveryFlowId,
        at: Timestamp,
    ) -> QueryResult<usize> {
        consume_unused_code(DbId(code_id.into()), DbId(flow_id.into()), DbInstant(at)).execute(self)
    }

    fn set_flow_state(
        &mut self,
        flow_id: RecoveryFlowId,
        state: &'static str,
    ) -> QueryResult<usize> {
        set_flow_state(DbId(flow_id.into()), state).execute(self)
    }

    fn prove_addresses(&mut self, proven: &ProvenAddresses) -> QueryResult<usize> {
        prove_addresses(
            DbId(proven.identity_id.into()),
            DbInstant(proven.unchanged_since),
            verifiable_document(&proven.verifiable),
        )
        .execute(self)
    }

    fn revoke_sessions_of(&mut self, identity_id: IdentityId, at: Timestamp) -> QueryResult<usize> {
        revoke_active_sessions(DbId(identity_id.into()), DbInstant(at)).execute(self)
    }

    fn revoke_sessions_but(
        &mut self,
        identity_id: IdentityId,
        keep: SessionId,
        at: Timestamp,
    ) -> QueryResult<usize> {
        revoke_other_active_sessions(DbId(identity_id.into()), DbId(keep.into()), DbInstant(at))
            .execute(self)
    }

    fn revoke_codes_of(&mut self, identity_id: IdentityId, at: Timestamp) -> QueryResult<usize> {
        revoke_outstanding_codes(DbId(identity_id.into()), DbInstant(at)).execute(self)
    }

    fn revoke_sessions_by(
        &mut self,
        identity_id: IdentityId,
        method: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize> {
        revoke_active_sessions_by(DbId(identity_id.into()), method, DbInstant(at)).execute(self)
    }

    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> QueryResult<usize> {
        revoke_active_session(DbId(id.into()), DbInstant(at)).execute(self)
    }

    fn insert_session(&mut self, row: SessionInsert) -> QueryResult<usize> {
        diesel::insert_into(sessions::table)
            .values(row)
            .execute(self)
    }

    fn find_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> QueryResult<Option<(SessionRow, IdentityRow)>> {
        active_session(
            token_hash.to_owned(),
            DbInstant(now),
            IdentityState::Active.as_str(),
        )
        .load(self)
        .map(|rows| rows.into_iter().next())
    }

    fn list_sessions(
        &mut self,
        identity_id: IdentityId,
        after: Option<SessionId>,
        except: Option<SessionId>,
        active: Option<(bool, Timestamp)>,
        limit: usize,
    ) -> QueryResult<Vec<StoredSessionRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (identity_id, after, except) = (
            DbId(identity_id.into()),
            session_or_nil(after),
            session_or_nil(except),
        );
        match active {
            None => sessions_of(identity_id, after, except, limit).load(self),
            Some((true, now)) => {
                active_sessions_of(identity_id, after, except, DbInstant(now), limit).load(self)
            }
            Some((false, now)) => {
                inactive_sessions_of(identity_id, after, except, DbInstant(now), limit).load(self)
            }
        }
    }

    fn find_session_by_id(
        &mut self,
        id: SessionId,
    ) -> QueryResult<Option<(StoredSessionRow, IdentityRow)>> {
        session_by_id(DbId(id.into()))
            .load(self)
            .map(|rows| rows.into_iter().next())
    }

    fn insert_settings_flow(&mut self, row: SettingsFlowRow) -> QueryResult<usize> {
        diesel::insert_into(settings_flows::table)
            .values(row)
            .execute(self)
    }

    fn find_settings_flow(&mut self, id: SettingsFlowId) -> QueryResult<Option<SettingsFlowRow>> {
        settings_flow_by_id(DbId(id.into())).first(self).optional()
    }

    fn set_settings_state(
        &mut self,
        id: SettingsFlowId,
        state: &'static str,
    ) -> QueryResult<usize> {
        set_settings_state(DbId(id.into()), state).execute(self)
    }

    fn set_password(
        &mut self,
        identity_id: IdentityId,
        hash: String,
        at: Timestamp,
    ) -> QueryResult<usize> {
        set_identity_password(DbId(identity_id.into()), hash, DbInstant(at)).execute(self)
    }

    fn replace_password_hash(
        &mut self,
        identity_id: IdentityId,
        hash: String,
    ) -> QueryResult<usize> {
        replace_password_hash(DbId(identity_id.into()), hash).execute(self)
    }

    fn insert_login_flow(&mut self, row: LoginFlowRow) -> QueryResult<usize> {
        diesel::insert_into(login_flows::table)
            .values(row)
            .execute(self)
    }

    fn find_login_flow(&mut self, id: LoginFlowId) -> QueryResult<Option<LoginFlowRow>> {
        login_flow_by_id(DbId(id.into())).first(self).optional()
    }

    fn add_failure(
        &mut self,
        identifier_key: &str,
        address: &str,
        at: Timestamp,
    ) -> QueryResult<Option<FailureCounted>> {
        add_failure(identifier_key.to_owned(), address.to_owned(), DbInstant(at))
            .get_result(self)
            .optional()
    }

    fn insert_failure(&mut self, row: FailureInsert) -> QueryResult<usize> {
        diesel::insert_into(login_failures::table)
            .values(row)
            .execute(self)
    }

    fn failures_of(&mut self, identifier_key: &str) -> QueryResult<Vec<FailureRow>> {
        failures_by_key(identifier_key.to_owned()).load(self)
    }

    fn failure_count(
        &mut self,
        identifier_key: &str,
        address: &str,
    ) -> QueryResult<Option<FailureRow>> {
        failure_count_of(identifier_key.to_owned(), address.to_owned())
            .get_result(self)
            .optional()
    }

    fn delete_failures(
        &mut self,
        identifier_key: &str,
        addresses: Option<Vec<String>>,
    ) -> QueryResult<usize> {
        match addresses {
            None => delete_failures(identifier_key.to_owned()).execute(self),
            Some(addresses) => {
                delete_failures_from(identifier_key.to_owned(), addresses).execute(self)
            }
        }
    }

    fn spent_codes(
        &mut self,
        flow_id: RecoveryFlowId,
    ) -> QueryResult<Vec<(String, Option<DbInstant>)>> {
        spent_codes_of(DbId(flow_id.into())).load(self)
    }

    fn insert_audit_event(&mut self, row: AuditEventRow) -> QueryResult<usize> {
        diesel::insert_into(audit_events::table)
            .values(row)
            .execute(self)
    }

    fn audit_events(
        &mut self,
        identity_id: Option<IdentityId>,
        after: Option<AuditEventId>,
        limit: usize,
    ) -> QueryResult<Vec<AuditEventRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = DbId(after.map_or(Uuid::nil(), Into::into));
        match identity_id {
            None => audit_events_after(after, limit).load(self),
            Some(id) => audit_events_of(DbId(id.into()), after, limit).load(self),
        }
    }

    fn purge_expired(&mut self, before: Timestamp, audit_before: Timestamp) -> QueryResult<()> {
        let before = DbInstant(before);
        self.transaction(|conn| {
            expired_recovery_flows(before).execute(conn)?;
            expired_sessions(before).execute(conn)?;
            revoked_sessions(before).execute(conn)?;
            expired_settings_flows(before).execute(conn)?;
            expired_login_flows(before).execute(conn)?;
            old_failures(before).execute(conn)?;
            old_audit_events(DbInstant(audit_before))
                .execute(conn)
                .map(drop)
        })
    }
}
