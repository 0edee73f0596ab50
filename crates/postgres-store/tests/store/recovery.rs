use application::ports::{IdentityRepository, RecoveryRepository, StoreCodeIssueError};
use chrono::TimeDelta;
use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use domain::code::{CodeLength, PlainCode};
use domain::recovery::{CodeIssue, CodeType, FlowState, FlowType, RecoveryFlow, StoredCode};
use domain::secret::Secrets;
use domain::time::Timestamp;
use postgres_store::test_support::TestDatabase;
use uuid::Uuid;

use crate::{count, new_identity, now};

fn issue(identity_id: Uuid) -> CodeIssue {
    let secrets = Secrets::new(vec!["a-test-secret-that-is-long-enough-for-prod".into()]).unwrap();
    let code = PlainCode::generate(&mut rand::rng(), CodeLength::default());
    let flow_id = Uuid::new_v4();
    let expires_at = now() + TimeDelta::hours(1);
    CodeIssue {
        flow: RecoveryFlow {
            id: flow_id,
            identity_id,
            flow_type: FlowType::Api,
            state: FlowState::SentEmail,
            issued_at: now(),
            expires_at,
            request_url: "http://127.0.0.1:4434/iam/recovery/code".into(),
        },
        code: StoredCode {
            id: Uuid::new_v4(),
            flow_id,
            identity_id,
            hash: secrets.hash(&code),
            code_type: CodeType::Admin,
            issued_at: now(),
            expires_at,
        },
        revoke_previous: true,
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct FlowRow {
    #[diesel(sql_type = SqlUuid)]
    identity_id: Uuid,
    #[diesel(sql_type = Text)]
    flow_type: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    active_method: String,
    #[diesel(sql_type = Text)]
    request_url: String,
    #[diesel(sql_type = Timestamptz)]
    issued_at: Timestamp,
    #[diesel(sql_type = Timestamptz)]
    expires_at: Timestamp,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct CodeRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    flow_id: Uuid,
    #[diesel(sql_type = Text)]
    code_hash: String,
    #[diesel(sql_type = Text)]
    code_type: String,
    #[diesel(sql_type = Timestamptz)]
    expires_at: Timestamp,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    revoked_at: Option<Timestamp>,
}

fn codes(db: &TestDatabase) -> Vec<CodeRow> {
    diesel::sql_query(
        "SELECT id, flow_id, code_hash, code_type, expires_at, revoked_at \
         FROM recovery_codes ORDER BY created_at, id",
    )
    .load(&mut db.connection())
    .unwrap()
}

#[tokio::test]
async fn writes_the_flow_and_the_code_hash_exactly() {
    let db = TestDatabase::new();
    let identity = new_identity(None);
    db.store.insert_identity(identity.clone()).await.unwrap();
    let issue = issue(identity.identity.id);

    db.store.store_code_issue(issue.clone()).await.unwrap();

    let flows: Vec<FlowRow> = diesel::sql_query(
        "SELECT identity_id, flow_type, state, active_method, request_url, issued_at, expires_at \
         FROM recovery_flows",
    )
    .load(&mut db.connection())
    .unwrap();
    assert_eq!(
        flows,
        [FlowRow {
            identity_id: identity.identity.id,
            flow_type: "api".into(),
            state: "sent_email".into(),
            active_method: "code".into(),
            request_url: "http://127.0.0.1:4434/iam/recovery/code".into(),
            issued_at: now(),
            expires_at: issue.flow.expires_at,
        }]
    );
    assert_eq!(
        codes(&db),
        [CodeRow {
            id: issue.code.id,
            flow_id: issue.flow.id,
            code_hash: issue.code.hash.as_str().to_owned(),
            code_type: "admin".into(),
            expires_at: issue.flow.expires_at,
            revoked_at: None,
        }]
    );
}

#[tokio::test]
async fn an_unknown_identity_writes_nothing() {
    let db = TestDatabase::new();
    let error = db
        .store
        .store_code_issue(issue(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreCodeIssueError::IdentityNotFound));
    let mut conn = db.connection();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS count FROM recovery_flows"),
        0
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS count FROM recovery_codes"),
        0
    );
}

#[tokio::test]
async fn a_failing_code_insert_leaves_no_flow_behind() {
    let db = TestDatabase::new();
    let identity = new_identity(None);
    db.store.insert_identity(identity.clone()).await.unwrap();
    let first = issue(identity.identity.id);
    db.store.store_code_issue(first.clone()).await.unwrap();

    // A second issue whose code collides with the first: the code insert fails after the
    // flow insert and the revocation, so all three must roll back.
    let mut clash = issue(identity.identity.id);
    clash.code.id = first.code.id;
    let error = db.store.store_code_issue(clash.clone()).await.unwrap_err();
    assert!(matches!(error, StoreCodeIssueError::Store(_)));

    let mut conn = db.connection();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS count FROM recovery_flows"),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS count FROM recovery_flows WHERE id = '{}'",
                clash.flow.id
            )
        ),
        0
    );
    assert_eq!(codes(&db)[0].revoked_at, None);
}

#[tokio::test]
async fn a_new_code_revokes_earlier_unused_admin_codes_of_the_same_identity_only() {
    let db = TestDatabase::new();
    let ada = new_identity(None);
    let bob = new_identity(None);
    db.store.insert_identity(ada.clone()).await.unwrap();
    db.store.insert_identity(bob.clone()).await.unwrap();
    let first = issue(ada.identity.id);
    let bobs = issue(bob.identity.id);
    db.store.store_code_issue(first.clone()).await.unwrap();
    db.store.store_code_issue(bobs.clone()).await.unwrap();

    let mut second = issue(ada.identity.id);
    second.flow.issued_at = now() + TimeDelta::seconds(5);
    second.code.issued_at = second.flow.issued_at;
    db.store.store_code_issue(second.clone()).await.unwrap();

    let codes = codes(&db);
    let revoked_at = |id: Uuid| codes.iter().find(|c| c.id == id).unwrap().revoked_at;
    assert_eq!(revoked_at(first.code.id), Some(second.code.issued_at));
    assert_eq!(revoked_at(second.code.id), None);
    assert_eq!(revoked_at(bobs.code.id), None);
}

#[tokio::test]
async fn earlier_codes_stay_when_revocation_is_not_asked() {
    let db = TestDatabase::new();
    let ada = new_identity(None);
    db.store.insert_identity(ada.clone()).await.unwrap();
    db.store
        .store_code_issue(issue(ada.identity.id))
        .await
        .unwrap();
    let mut second = issue(ada.identity.id);
    second.revoke_previous = false;
    db.store.store_code_issue(second).await.unwrap();
    assert!(codes(&db).iter().all(|c| c.revoked_at.is_none()));
}

#[tokio::test]
async fn deleting_an_identity_cascades_to_its_flows_and_codes() {
    let db = TestDatabase::new();
    let ada = new_identity(None);
    db.store.insert_identity(ada.clone()).await.unwrap();
    db.store
        .store_code_issue(issue(ada.identity.id))
        .await
        .unwrap();
    assert!(db.store.delete_identity(ada.identity.id).await.unwrap());
    let mut conn = db.connection();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS count FROM recovery_flows"),
        0
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS count FROM recovery_codes"),
        0
    );
}
