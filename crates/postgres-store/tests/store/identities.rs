use std::time::Duration;

use application::ports::{
    IdentityQuery, IdentityRepository, InsertIdentityError, Readiness, StoreError,
};
use domain::identity::IdentityState;
use domain::password::PasswordHash;
use postgres_store::test_support::TestDatabase;
use postgres_store::{PgStore, PoolOptions};
use rand::SeedableRng;
use uuid::Uuid;

use crate::{count, new_identity};

#[tokio::test]
async fn stores_and_finds_an_identity_exactly() {
    let db = TestDatabase::new();
    let new = new_identity(Some("ada@example.com"));
    let stored = db.store.insert_identity(new.clone()).await.unwrap();
    assert_eq!(stored, new.identity);
    let found = db
        .store
        .find_identity(new.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, new.identity);
    assert_eq!(found.state, IdentityState::Active);
    assert_eq!(db.store.find_identity(Uuid::new_v4()).await.unwrap(), None);
}

#[tokio::test]
async fn stores_only_the_password_hash() {
    let db = TestDatabase::new();
    let mut new = new_identity(Some("ada@example.com"));
    new.password = Some(
        PasswordHash::create(
            "correct horse battery",
            &mut rand::rngs::StdRng::seed_from_u64(1),
        )
        .unwrap(),
    );
    db.store.insert_identity(new).await.unwrap();
    let mut conn = db.connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM identities WHERE password_hash LIKE '$argon2id$%'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM identities WHERE password_hash LIKE '%correct horse%'"
        ),
        0
    );
}

#[tokio::test]
async fn a_taken_identifier_is_a_duplicate_and_writes_nothing() {
    let db = TestDatabase::new();
    db.store
        .insert_identity(new_identity(Some("ada@example.com")))
        .await
        .unwrap();
    let error = db
        .store
        .insert_identity(new_identity(Some("ada@example.com")))
        .await
        .unwrap_err();
    assert!(matches!(error, InsertIdentityError::DuplicateIdentifier));
    // Identities without an email do not collide.
    db.store.insert_identity(new_identity(None)).await.unwrap();
    db.store.insert_identity(new_identity(None)).await.unwrap();
    assert_eq!(
        count(
            &mut db.connection(),
            "SELECT count(*) AS count FROM identities"
        ),
        3
    );
}

#[tokio::test]
async fn lists_in_id_order_after_a_cursor_and_by_identifier() {
    let db = TestDatabase::new();
    let mut ids = Vec::new();
    for n in 0..5 {
        let new = new_identity(Some(&format!("user{n}@example.com")));
        ids.push(new.identity.id);
        db.store.insert_identity(new).await.unwrap();
    }
    ids.sort();
    let list = |after, limit, identifier: Option<&str>| {
        db.store.list_identities(IdentityQuery {
            after,
            limit,
            identifier: identifier.map(str::to_owned),
        })
    };
    let ids_of = |identities: Vec<domain::identity::Identity>| {
        identities.into_iter().map(|i| i.id).collect::<Vec<_>>()
    };
    assert_eq!(ids_of(list(None, 10, None).await.unwrap()), ids);
    assert_eq!(ids_of(list(None, 2, None).await.unwrap()), ids[..2]);
    assert_eq!(
        ids_of(list(Some(ids[1]), 2, None).await.unwrap()),
        ids[2..4]
    );
    assert!(list(Some(ids[4]), 2, None).await.unwrap().is_empty());
    assert_eq!(
        list(None, 10, Some("user3@example.com"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        list(None, 10, Some("nobody@example.com"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn deleting_reports_whether_the_identity_existed() {
    let db = TestDatabase::new();
    let new = new_identity(None);
    db.store.insert_identity(new.clone()).await.unwrap();
    assert!(db.store.delete_identity(new.identity.id).await.unwrap());
    assert!(!db.store.delete_identity(new.identity.id).await.unwrap());
    assert_eq!(db.store.find_identity(new.identity.id).await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_absent() {
    let store = PgStore::connect(
        "postgres://postgres@127.0.0.1:1/none",
        PoolOptions {
            max_connections: 1,
            connection_timeout: Duration::from_millis(300),
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

#[tokio::test]
async fn a_reachable_database_is_ready() {
    let db = TestDatabase::new();
    db.store.check_ready().await.unwrap();
}
