//! Queries written once for every backend: [`StoreConnection`] is implemented for every
//! diesel connection whose backend can run them all.

use diesel::connection::{Connection, SimpleConnection};
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::InsertStatement;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};
use diesel::r2d2::R2D2Connection;
use domain::time::Timestamp;
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

type InsertRow<T, R> = InsertStatement<T, <R as Insertable<T>>::Values>;

/// The queries of the store on one connection.
pub trait StoreConnection: Connection + R2D2Connection + SimpleConnection + Send + 'static {
    fn insert_identity(&mut self, row: IdentityInsert) -> QueryResult<usize>;
    fn find_identity(&mut self, id: Uuid) -> QueryResult<Option<IdentityRow>>;
    /// Identities after `after` in id order, at most `limit`, optionally only `identifier`.
    fn list_identities(
        &mut self,
        after: Option<Uuid>,
        limit: usize,
        identifier: Option<String>,
    ) -> QueryResult<Vec<IdentityRow>>;
    fn delete_identity(&mut self, id: Uuid) -> QueryResult<usize>;
    fn insert_flow(&mut self, row: FlowInsert) -> QueryResult<usize>;
    fn insert_code(&mut self, row: CodeInsert) -> QueryResult<usize>;
    /// Marks the identity's unused, unrevoked codes of `code_type` revoked at `at`.
    fn revoke_codes(
        &mut self,
        identity_id: Uuid,
        code_type: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize>;
    fn find_flow(&mut self, id: Uuid) -> QueryResult<Option<FlowRow>>;
    /// The codes of `flow_id` that are unused, unrevoked and unexpired at `now`, newest first.
    fn valid_codes(&mut self, flow_id: Uuid, now: Timestamp) -> QueryResult<Vec<CodeRow>>;
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
    delete_identity_by_id: ExecuteDsl<C>,
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

    fn find_identity(&mut self, id: Uuid) -> QueryResult<Option<IdentityRow>> {
        identity_by_id(DbId(id)).first(self).optional()
    }

    fn list_identities(
        &mut self,
        after: Option<Uuid>,
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

    fn delete_identity(&mut self, id: Uuid) -> QueryResult<usize> {
        delete_identity_by_id(DbId(id)).execute(self)
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
        identity_id: Uuid,
        code_type: &'static str,
        at: Timestamp,
    ) -> QueryResult<usize> {
        revoke_unused_codes(DbId(identity_id), code_type, DbInstant(at)).execute(self)
    }

    fn find_flow(&mut self, id: Uuid) -> QueryResult<Option<FlowRow>> {
        flow_by_id(DbId(id)).first(self).optional()
    }

    fn valid_codes(&mut self, flow_id: Uuid, now: Timestamp) -> QueryResult<Vec<CodeRow>> {
        codes_valid_at(DbId(flow_id), DbInstant(now)).load(self)
    }
}
