//! The SQLite adapter, in a file of its own per test and in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use application::ports::{IdentityQuery, IdentityRepository, RecoveryRepository};
use diesel::connection::SimpleConnection;
use domain::identity::IdentityDraft;
use sqlite_store::test_support::TestDatabase;
use sqlite_store::{Location, open};
use uuid::Uuid;

mod file {
    use super::TestDatabase;
    application::store_contract!(|db| TestDatabase::new() => &db.store);
}

mod memory {
    use super::{Location, open};
    application::store_contract!(|store| open(&Location::Memory).unwrap() => &store);
}

#[tokio::test]
async fn a_file_keeps_everything_across_reopening() {
    let db = TestDatabase::new();
    let new = domain::identity::IdentityDraft::default()
        .validate(uuid::Uuid::new_v4(), None, chrono_now())
        .unwrap();
    db.store.insert_identity(new.clone()).await.unwrap();
    let reopened = open(&Location::File(db.path.clone())).unwrap();
    assert_eq!(
        reopened.find_identity(new.identity.id).await.unwrap(),
        Some(new.identity)
    );
    assert_eq!(
        reopened.find_flow(uuid::Uuid::new_v4()).await.unwrap(),
        None
    );
}

#[test]
fn a_missing_folder_is_created() {
    let folder = std::env::temp_dir().join(format!("iam-recovery-{}", uuid::Uuid::new_v4()));
    let path = folder.join("nested").join("db.sqlite");
    open(&Location::File(path.clone())).unwrap();
    assert!(path.exists());
    std::fs::remove_dir_all(folder).unwrap();
}

fn chrono_now() -> domain::time::Timestamp {
    domain::time::truncate_to_millis(chrono::Utc::now())
}

/// Identities 1 to 5 (ids in that order), of which `unreadable` are written straight into the
/// database in a form the service cannot read (text that is not JSON, past the table's check); the others through the store.
async fn identities_with_unreadable_rows(db: &TestDatabase, unreadable: &[u128]) -> Vec<Uuid> {
    let mut readable = Vec::new();
    for n in 1..=5_u128 {
        let id = Uuid::from_u128(n);
        if unreadable.contains(&n) {
            db.connection()
                .batch_execute(&format!(
                    "PRAGMA ignore_check_constraints = ON; INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at) \
                     VALUES ('{id}', 'default', 'active', '{{\"n\": ', '{AT}', '{AT}')"
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
