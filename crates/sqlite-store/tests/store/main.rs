//! The SQLite adapter, in a file of its own per test and in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use application::ports::{IdentityRepository, RecoveryRepository};
use diesel::connection::SimpleConnection;
use domain::id::IdentityId;
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
        .validate(
            &domain::identity_schema::IdentitySchemas::built_in(),
            Uuid::new_v4().into(),
            None,
            chrono_now(),
        )
        .unwrap();
    let event = domain::audit::Origin {
        actor: domain::audit::Actor::SelfService,
        client_address: None,
        request_id: None,
    }
    .event(
        Uuid::new_v4().into(),
        domain::audit::Action::IdentityCreated,
        chrono_now(),
    );
    db.store.insert_identity(new.clone(), event).await.unwrap();
    let reopened = open(&Location::File(db.path.clone())).unwrap();
    assert_eq!(
        reopened.find_identity(new.identity.id).await.unwrap(),
        Some(new.identity)
    );
    assert_eq!(
        reopened.find_flow(Uuid::new_v4().into()).await.unwrap(),
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

const AT: &str = "2026-11-25T10:30:00.123Z";

#[tokio::test]
async fn listings_skip_rows_that_cannot_be_read() {
    let db = TestDatabase::new();
    // Unreadable: text that is not JSON, past the table's check.
    let write_unreadable = |id: IdentityId| {
        db.connection()
            .batch_execute(&format!(
                "PRAGMA ignore_check_constraints = ON; INSERT INTO identities \
                 (id, schema_id, state, traits, created_at, updated_at) \
                 VALUES ('{id}', 'default', 'active', '{{\"n\": ', '{AT}', '{AT}')"
            ))
            .unwrap();
    };
    application::contract::listings_skip_rows_that_cannot_be_read(&db.store, write_unreadable)
        .await;
}
