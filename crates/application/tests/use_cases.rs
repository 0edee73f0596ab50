//! Every use case against the in-memory store, one test per branch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::identities::{
    CreateIdentityError, CreateIdentityRequest, IdentityLookupError, ListIdentitiesError,
    ListIdentitiesRequest,
};
use application::ports::StoreError;
use application::recovery_codes::{CreateRecoveryCodeError, RecoveryCodeRequest};
use application::testing::{InMemoryStore, ManualClock};
use application::{RecoverySettings, Service};
use chrono::{TimeDelta, TimeZone, Utc};
use domain::audit::{Actor, Origin, RequestId};
use domain::code::CodeLength;
use domain::id::{IdentityId, RecoveryFlowId};
use domain::identity::{IdentityDraft, IdentityError, IdentityState};
use domain::lifespan::{LifespanError, LifespanPolicy};
use domain::password::PasswordError;
use domain::recovery::{CodeType, FlowState, FlowType};
use domain::secret::Secrets;
use domain::time::Timestamp;
use serde_json::json;
use url::Url;
use uuid::Uuid;

const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";

fn now() -> Timestamp {
    Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
}

/// The admin the use cases act for.
fn origin() -> Origin {
    Origin {
        actor: Actor::AdminKey("test".into()),
        client_address: None,
        request_id: None,
    }
}

fn settings() -> RecoverySettings {
    RecoverySettings {
        enabled: true,
        lifespan: LifespanPolicy::new(Duration::from_secs(3600), Duration::from_secs(720 * 3600))
            .unwrap(),
        code_length: CodeLength::default(),
        invalidate_previous: true,
        ui_url: Url::parse("http://127.0.0.1:4433/recovery").unwrap(),
        mark_address_verified: false,
    }
}

fn service_with(settings: RecoverySettings) -> Service<InMemoryStore> {
    Service::new(
        InMemoryStore::new(),
        Arc::new(ManualClock::new(now())),
        settings,
        Secrets::new(vec![SECRET.into()]).unwrap(),
    )
}

fn service() -> Service<InMemoryStore> {
    service_with(settings())
}

async fn identity(service: &Service<InMemoryStore>, email: &str) -> IdentityId {
    service
        .create_identity(
            CreateIdentityRequest {
                draft: IdentityDraft {
                    traits: Some(json!({ "email": email })),
                    ..IdentityDraft::default()
                },
                password: None,
            },
            &origin(),
        )
        .await
        .unwrap()
        .id
}

fn code_request(identity_id: IdentityId, expires_in: Option<&str>) -> RecoveryCodeRequest {
    RecoveryCodeRequest {
        identity_id,
        expires_in: expires_in.map(str::to_owned),
        flow_type: FlowType::Browser,
        public_base_url: Url::parse("https://id.example.com/").unwrap(),
        origin: Origin {
            request_id: RequestId::parse("req-test-1"),
            ..origin()
        },
        return_to: None,
        mark_address_verified: None,
    }
}

#[tokio::test]
async fn issues_a_code_and_stores_only_its_hash_with_the_flow() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;

    let issued = service
        .create_recovery_code(code_request(id, Some("2h30m")))
        .await
        .unwrap();

    assert_eq!(issued.code.expose().len(), 6);
    assert!(issued.code.expose().bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(issued.expires_at, now() + TimeDelta::minutes(150));
    assert_eq!(
        issued.link.as_str(),
        format!("http://127.0.0.1:4433/recovery?flow={}", issued.flow_id)
    );
    let flows = service.store().flows();
    assert_eq!(flows.len(), 1);
    let flow = &flows[0];
    assert_eq!(flow.id, issued.flow_id);
    assert_eq!(flow.identity_id, id);
    assert_eq!(flow.state, FlowState::SentEmail);
    assert_eq!(flow.flow_type, FlowType::Browser);
    assert_eq!(flow.issued_at, now());
    assert_eq!(flow.expires_at, issued.expires_at);
    assert_eq!(
        flow.request_url,
        format!(
            "https://id.example.com/self-service/recovery?flow={}",
            flow.id
        )
    );
    let codes = service.store().codes();
    assert_eq!(codes.len(), 1);
    let code = &codes[0].code;
    assert_eq!(code.flow_id, flow.id);
    assert_eq!(code.code_type, CodeType::Admin);
    assert_eq!(code.expires_at, issued.expires_at);
    assert_ne!(code.hash.as_str(), issued.code.expose());
    let secrets = Secrets::new(vec![SECRET.into()]).unwrap();
    assert!(secrets.verify(issued.code.expose(), &code.hash));
}

#[tokio::test]
async fn absent_or_empty_expires_in_uses_the_configured_lifespan() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    for expires_in in [None, Some("")] {
        let issued = service
            .create_recovery_code(code_request(id, expires_in))
            .await
            .unwrap();
        assert_eq!(issued.expires_at, now() + TimeDelta::hours(1));
    }
}

#[tokio::test]
async fn api_flows_are_recorded_as_such() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    let mut request = code_request(id, None);
    request.flow_type = FlowType::Api;
    service.create_recovery_code(request).await.unwrap();
    assert_eq!(service.store().flows()[0].flow_type, FlowType::Api);
}

#[tokio::test]
async fn the_configured_code_length_is_used() {
    let service = service_with(RecoverySettings {
        code_length: CodeLength::new(12).unwrap(),
        ..settings()
    });
    let id = identity(&service, "ada@example.com").await;
    let issued = service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();
    assert_eq!(issued.code.expose().len(), 12);
}

#[tokio::test]
async fn a_bad_expiry_is_refused_before_the_identity_is_looked_up() {
    let service = service();
    let error = service
        .create_recovery_code(code_request(Uuid::new_v4().into(), Some("1d")))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateRecoveryCodeError::InvalidLifespan(LifespanError::Invalid(_))
    ));
    let error = service
        .create_recovery_code(code_request(Uuid::new_v4().into(), Some("0s")))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateRecoveryCodeError::InvalidLifespan(LifespanError::NotPositive { .. })
    ));
    let error = service
        .create_recovery_code(code_request(Uuid::new_v4().into(), Some("721h")))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateRecoveryCodeError::InvalidLifespan(LifespanError::TooLong { .. })
    ));
    assert!(service.store().flows().is_empty());
}

#[tokio::test]
async fn an_unknown_identity_is_not_found_and_nothing_is_written() {
    let service = service();
    let unknown = IdentityId::from(Uuid::new_v4());
    let error = service
        .create_recovery_code(code_request(unknown, None))
        .await
        .unwrap_err();
    assert!(matches!(error, CreateRecoveryCodeError::IdentityNotFound(id) if id == unknown));
    assert!(service.store().flows().is_empty());
    assert!(service.store().codes().is_empty());
}

#[tokio::test]
async fn disabled_recovery_issues_nothing() {
    let service = service_with(RecoverySettings {
        enabled: false,
        ..settings()
    });
    let id = identity(&service, "ada@example.com").await;
    let error = service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap_err();
    assert!(matches!(error, CreateRecoveryCodeError::Disabled));
    assert!(service.store().flows().is_empty());
}

#[tokio::test]
async fn a_new_code_revokes_the_earlier_unused_admin_codes_of_the_identity() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    let other = identity(&service, "bob@example.com").await;
    let first = service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();
    let others = service
        .create_recovery_code(code_request(other, None))
        .await
        .unwrap();
    let second = service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();

    let codes = service.store().codes();
    let revoked = |flow_id: RecoveryFlowId| {
        codes
            .iter()
            .find(|c| c.code.flow_id == flow_id)
            .unwrap()
            .revoked_at
            .is_some()
    };
    assert!(revoked(first.flow_id));
    assert!(!revoked(second.flow_id));
    assert!(!revoked(others.flow_id));
}

#[tokio::test]
async fn earlier_codes_stay_valid_when_invalidation_is_off() {
    let service = service_with(RecoverySettings {
        invalidate_previous: false,
        ..settings()
    });
    let id = identity(&service, "ada@example.com").await;
    service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();
    service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();
    assert!(
        service
            .store()
            .codes()
            .iter()
            .all(|c| c.revoked_at.is_none())
    );
}

#[tokio::test]
async fn a_store_failure_is_reported_as_such() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    service.store().set_unavailable(true);
    let error = service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateRecoveryCodeError::Store(StoreError::Unavailable(_))
    ));
}

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn issuing_logs_an_audit_event_without_the_code() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (id, issued) = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let service = service_with(RecoverySettings {
                code_length: CodeLength::new(12).unwrap(),
                ..settings()
            });
            let id = identity(&service, "ada@example.com").await;
            let issued = service
                .create_recovery_code(code_request(id, None))
                .await
                .unwrap();
            (id, issued)
        })
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("recovery code created"), "{log}");
    assert!(log.contains(&id.to_string()), "{log}");
    assert!(log.contains(&issued.flow_id.to_string()), "{log}");
    assert!(log.contains("expires_at"), "{log}");
    assert!(!log.contains(issued.code.expose()), "{log}");
}

#[tokio::test]
async fn creates_identities_with_defaults_and_hashed_passwords() {
    let service = service();
    let identity = service
        .create_identity(
            CreateIdentityRequest {
                draft: IdentityDraft {
                    traits: Some(json!({"email": "Ada@Example.com"})),
                    ..IdentityDraft::default()
                },
                password: Some("correct horse battery".into()),
            },
            &origin(),
        )
        .await
        .unwrap();
    assert_eq!(identity.schema_id, "default");
    assert_eq!(identity.state, IdentityState::Active);
    assert_eq!(identity.created_at, now());
    let hash = service.store().password_of(identity.id).unwrap();
    assert!(hash.as_str().starts_with("$argon2id$"));
    assert!(hash.verify("correct horse battery"));
}

#[tokio::test]
async fn refuses_invalid_identities_short_passwords_and_duplicates() {
    let service = service();
    let error = service
        .create_identity(
            CreateIdentityRequest {
                draft: IdentityDraft {
                    traits: Some(json!({"email": "nope"})),
                    ..IdentityDraft::default()
                },
                password: None,
            },
            &origin(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateIdentityError::Invalid(IdentityError::InvalidTraits(_))
    ));

    let error = service
        .create_identity(
            CreateIdentityRequest {
                draft: IdentityDraft::default(),
                password: Some("short".into()),
            },
            &origin(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateIdentityError::InvalidPassword(PasswordError::TooShort(5))
    ));

    identity(&service, "ada@example.com").await;
    let error = service
        .create_identity(
            CreateIdentityRequest {
                draft: IdentityDraft {
                    traits: Some(json!({"email": "ADA@example.com"})),
                    ..IdentityDraft::default()
                },
                password: None,
            },
            &origin(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, CreateIdentityError::Duplicate));
}

#[tokio::test]
async fn gets_and_deletes_identities_with_their_flows_and_codes() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    service
        .create_recovery_code(code_request(id, None))
        .await
        .unwrap();
    assert_eq!(service.get_identity(id).await.unwrap().id, id);

    service.delete_identity(id, &origin()).await.unwrap();
    assert!(matches!(
        service.get_identity(id).await,
        Err(IdentityLookupError::NotFound(missing)) if missing == id
    ));
    assert!(matches!(
        service.delete_identity(id, &origin()).await,
        Err(IdentityLookupError::NotFound(_))
    ));
    assert!(service.store().flows().is_empty());
    assert!(service.store().codes().is_empty());
}

#[tokio::test]
async fn lists_identities_page_by_page() {
    let service = service();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(identity(&service, &format!("user{n}@example.com")).await);
    }
    ids.sort();

    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = service
            .list_identities(ListIdentitiesRequest {
                page_size: Some(2),
                page_token: token,
                credentials_identifier: None,
            })
            .await
            .unwrap();
        assert!(page.identities.len() <= 2);
        seen.extend(page.identities.iter().map(|i| i.id));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn finds_an_identity_by_its_email_in_any_case() {
    let service = service();
    let id = identity(&service, "ada@example.com").await;
    identity(&service, "bob@example.com").await;
    let page = service
        .list_identities(ListIdentitiesRequest {
            credentials_identifier: Some("ADA@example.com".into()),
            ..ListIdentitiesRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.identities.iter().map(|i| i.id).collect::<Vec<_>>(),
        [id]
    );
    let page = service
        .list_identities(ListIdentitiesRequest {
            credentials_identifier: Some("not an email".into()),
            ..ListIdentitiesRequest::default()
        })
        .await
        .unwrap();
    assert!(page.identities.is_empty());
}

#[tokio::test]
async fn refuses_bad_paging_parameters() {
    let service = service();
    for size in [0, 1001] {
        let error = service
            .list_identities(ListIdentitiesRequest {
                page_size: Some(size),
                ..ListIdentitiesRequest::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(error, ListIdentitiesError::InvalidPageSize(s) if s == size));
    }
    let error = service
        .list_identities(ListIdentitiesRequest {
            page_token: Some("garbage".into()),
            ..ListIdentitiesRequest::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, ListIdentitiesError::InvalidPageToken(_)));
}

#[tokio::test]
async fn identity_use_cases_report_store_failures() {
    let service = service();
    service.store().set_unavailable(true);
    assert!(matches!(
        service
            .create_identity(CreateIdentityRequest::default(), &origin())
            .await,
        Err(CreateIdentityError::Store(StoreError::Unavailable(_)))
    ));
    assert!(matches!(
        service.get_identity(Uuid::new_v4().into()).await,
        Err(IdentityLookupError::Store(_))
    ));
    assert!(matches!(
        service
            .delete_identity(Uuid::new_v4().into(), &origin())
            .await,
        Err(IdentityLookupError::Store(_))
    ));
    assert!(matches!(
        service
            .list_identities(ListIdentitiesRequest::default())
            .await,
        Err(ListIdentitiesError::Store(_))
    ));
}
