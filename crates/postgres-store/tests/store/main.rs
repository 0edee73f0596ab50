//! The PostgreSQL adapter against a real server, each test in a schema of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod migrations;

use std::time::Duration;

use application::ports::{IdentityRepository, Readiness, StoreError};
use diesel::connection::SimpleConnection;
use domain::id::IdentityId;
use postgres_store::PoolOptions;
use postgres_store::test_support::TestDatabase;
use uuid::Uuid;

application::store_contract!(|db| TestDatabase::new() => &db.store);

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_absent() {
    let store = postgres_store::connect(
        "postgres://postgres@127.0.0.1:1/none",
        PoolOptions {
            max_connections: 1,
            connection_timeout: Duration::from_millis(300),
            ..PoolOptions::default()
        },
    );
    assert!(matches!(
        store.find_identity(Uuid::new_v4().into()).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.check_ready().await,
        Err(StoreError::Unavailable(_))
    ));
}

const AT: &str = "2026-11-25T10:30:00.123Z";

#[tokio::test]
async fn listings_skip_rows_that_cannot_be_read() {
    let db = TestDatabase::new();
    // Unreadable: a `jsonb` number no `f64` holds.
    let write_unreadable = |id: IdentityId| {
        db.connection()
            .batch_execute(&format!(
                "INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at) \
                 VALUES ('{id}', 'default', 'active', '{{\"n\": 1e400}}', '{AT}', '{AT}')"
            ))
            .unwrap();
    };
    application::contract::listings_skip_rows_that_cannot_be_read(&db.store, write_unreadable)
        .await;
}
