//! Queries written once for every backend. Each takes any diesel connection whose backend can
//! run it; the adapters call them inside their own connection handling.

use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};
use uuid::Uuid;

use crate::rows::{
    CODE_COLUMNS, CodeColumns, CodeInsert, CodeRow, FLOW_COLUMNS, FlowColumns, FlowInsert, FlowRow,
    IDENTITY_COLUMNS, IdentityColumns, IdentityInsert, IdentityRow,
};
use crate::schema::{identities, recovery_codes, recovery_flows};
use crate::types::{DbId, DbInstant};

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

/// The ids are UUIDv4, never nil, so "after nil" is "from the start".
fn cursor(after: Option<Uuid>) -> DbId {
    DbId(after.unwrap_or(Uuid::nil()))
}

pub fn insert_identity<C>(conn: &mut C, row: IdentityInsert) -> QueryResult<usize>
where
    C: Connection,
    dsl::insert_into<identities::table>: Sized,
    diesel::query_builder::InsertStatement<
        identities::table,
        <IdentityInsert as Insertable<identities::table>>::Values,
    >: ExecuteDsl<C>,
{
    diesel::insert_into(identities::table)
        .values(row)
        .execute(conn)
}

pub fn find_identity<C>(conn: &mut C, id: Uuid) -> QueryResult<Option<IdentityRow>>
where
    C: Connection,
    for<'a> dsl::Limit<identity_by_id>: LoadQuery<'a, C, IdentityRow>,
{
    identity_by_id(DbId(id)).first(conn).optional()
}

pub fn list_identities<C>(
    conn: &mut C,
    after: Option<Uuid>,
    limit: usize,
    identifier: Option<String>,
) -> QueryResult<Vec<IdentityRow>>
where
    C: Connection,
    for<'a> identities_after: LoadQuery<'a, C, IdentityRow>,
    for<'a> identities_by_identifier: LoadQuery<'a, C, IdentityRow>,
{
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match identifier {
        None => identities_after(cursor(after), limit).load(conn),
        Some(identifier) => identities_by_identifier(cursor(after), identifier, limit).load(conn),
    }
}

pub fn delete_identity<C>(conn: &mut C, id: Uuid) -> QueryResult<usize>
where
    C: Connection,
    delete_identity_by_id: ExecuteDsl<C>,
{
    delete_identity_by_id(DbId(id)).execute(conn)
}

pub fn insert_flow<C>(conn: &mut C, row: FlowInsert) -> QueryResult<usize>
where
    C: Connection,
    diesel::query_builder::InsertStatement<
        recovery_flows::table,
        <FlowInsert as Insertable<recovery_flows::table>>::Values,
    >: ExecuteDsl<C>,
{
    diesel::insert_into(recovery_flows::table)
        .values(row)
        .execute(conn)
}

pub fn insert_code<C>(conn: &mut C, row: CodeInsert) -> QueryResult<usize>
where
    C: Connection,
    diesel::query_builder::InsertStatement<
        recovery_codes::table,
        <CodeInsert as Insertable<recovery_codes::table>>::Values,
    >: ExecuteDsl<C>,
{
    diesel::insert_into(recovery_codes::table)
        .values(row)
        .execute(conn)
}

/// Marks the identity's unused, unrevoked codes of `code_type` revoked at `at`.
pub fn revoke_codes<C>(
    conn: &mut C,
    identity_id: Uuid,
    code_type: &'static str,
    at: DateTime<Utc>,
) -> QueryResult<usize>
where
    C: Connection,
    revoke_unused_codes: ExecuteDsl<C>,
{
    revoke_unused_codes(DbId(identity_id), code_type, DbInstant(at)).execute(conn)
}

pub fn find_flow<C>(conn: &mut C, id: Uuid) -> QueryResult<Option<FlowRow>>
where
    C: Connection,
    for<'a> dsl::Limit<flow_by_id>: LoadQuery<'a, C, FlowRow>,
{
    flow_by_id(DbId(id)).first(conn).optional()
}

/// The codes of `flow_id` that are unused, unrevoked and unexpired at `now`, newest first.
pub fn valid_codes<C>(conn: &mut C, flow_id: Uuid, now: DateTime<Utc>) -> QueryResult<Vec<CodeRow>>
where
    C: Connection,
    for<'a> codes_valid_at: LoadQuery<'a, C, CodeRow>,
{
    codes_valid_at(DbId(flow_id), DbInstant(now)).load(conn)
}
