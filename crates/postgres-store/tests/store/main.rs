//! The PostgreSQL adapter against a real server, each test in a schema of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod migrations;

use std::time::Duration;

use application::ports::{IdentityQuery, IdentityRepository, Readiness, StoreError};
use diesel::connection::SimpleConnection;
use domain::identity::IdentityDraft;
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
        store.find_identity(Uuid::new_v4()).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.check_ready().await,
        Err(StoreError::Unavailable(_))
    ));
}

/// Identities 1 to 5 (ids in that order), of which `unreadable` are written straight into the
/// database in a form the service cannot read (a `jsonb` number no `f64` holds); the others through the store.
async fn identities_with_unreadable_rows(db: &TestDatabase, unreadable: &[u128]) -> Vec<Uuid> {
    let mut readable = Vec::new();
    for n in 1..=5_u128 {
        let id = Uuid::from_u128(n);
        if unreadable.contains(&n) {
            db.connection()
                .batch_execute(&format!(
                    "INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at) \
                     VALUES ('{id}', 'default', 'active', '{{\"n\": 1e400}}', '{AT}', '{AT}')"
                ))
                .unwrap();
        } else {
            let new = IdentityDraft::default()
                .validate(id, None, chrono::Utc::now())
                .unwrap();
            db.store.insert_identity(new).await.unwrap();
            readable.push(id);
        }
    }
    readable
}

const AT: &str = "2026-11-25T10:30:00.123Z";

#[tokio::test]
async fn listings_skip_rows_that_cannot_be_read() {
    let db = TestDatabase::new();
    let readable = identities_with_unreadable_rows(&db, &[2, 5]).await;
    let page = |after: Option<u128>, limit| {
        db.store.list_identities(IdentityQuery {
            after: after.map(Uuid::from_u128),
            limit,
            identifier: None,
        })
    };
    let ids = |identities: Vec<domain::identity::Identity>| {
        identities.into_iter().map(|i| i.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(page(None, 10).await.unwrap()), readable);
    // A page that meets an unreadable row is filled from the rows after it.
    assert_eq!(ids(page(None, 2).await.unwrap()), readable[..2]);
    assert_eq!(ids(page(Some(3), 2).await.unwrap()), readable[2..]);
    assert!(db.store.find_identity(Uuid::from_u128(2)).await.is_err());
}
