//! The PostgreSQL adapter against a real server, each test in a schema of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod identities;
mod migrations;
mod recovery;

use chrono::{TimeZone, Utc};
use diesel::sql_types::BigInt;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use domain::identity::{IdentityDraft, NewIdentity};
use domain::time::Timestamp;
use serde_json::json;
use uuid::Uuid;

pub fn now() -> Timestamp {
    Utc.timestamp_millis_opt(1_764_064_800_123).unwrap()
}

pub fn new_identity(email: Option<&str>) -> NewIdentity {
    IdentityDraft {
        traits: Some(email.map_or_else(|| json!({}), |e| json!({ "email": e }))),
        ..IdentityDraft::default()
    }
    .validate(Uuid::new_v4(), None, now())
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The result of a `SELECT count(*) AS count ...`.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap()
        .count
}
