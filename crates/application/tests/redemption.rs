//! Redeeming codes, setting the new password, signing in and out, against the in-memory
//! store with a clock that stands still until moved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use application::hashing::HashingOptions;
use application::identities::CreateIdentityRequest;
use application::login::LoginError;
use application::ports::IdentityRepository;
use application::recovery_codes::{CreateRecoveryCodeError, RecoveryCodeRequest};
use application::redemption::{FlowLookupError, SubmitCodeError};
use application::sessions::SessionError;
use application::settings::SettingsError;
use application::testing::{InMemoryStore, ManualClock};
use application::{RecoverySettings, SelfServiceSettings, Service};
use chrono::{TimeDelta, TimeZone, Utc};
use domain::audit::{Actor, Origin};
use domain::client::ClientAddress;
use domain::code::CodeLength;
use domain::id::{IdentityId, RecoveryFlowId, SessionId};
use domain::identity::IdentityDraft;
use domain::lifespan::LifespanPolicy;
use domain::password::{HashCost, PasswordError, PasswordHash};
use domain::recovery::{FlowState, FlowType};
use domain::secret::Secrets;
use domain::selfservice::{ReturnToError, SettingsState};
use domain::session::{AuthMethod, Device, SessionToken};
use domain::time::Timestamp;
use serde_json::json;
use url::Url;
use uuid::Uuid;

/// An operator at the admin API.
fn admin() -> Origin {
    Origin {
        actor: Actor::AdminKey("test".into()),
        client_address: None,
        request_id: None,
    }
}

/// The person at the public API.
fn self_service() -> Origin {
    Origin {
        actor: Actor::SelfService,
        ..admin()
    }
}

fn client() -> ClientAddress {
    ClientAddress::new([192, 0, 2, 1].into())
}

fn from(last: u8) -> ClientAddress {
    ClientAddress::new([198, 51, 100, last].into())
}

/// A cost that keeps the tests quick.
fn cheap() -> HashCost {
    HashCost::new(64, 1, 1).unwrap()
}

fn throttled_for(outcome: Result<SessionId, LoginError>) -> Option<Duration> {
    match outcome {
        Err(LoginError::Throttled { wait }) => Some(wait),
        _ => None,
    }
}

fn start() -> Timestamp {
    Utc.timestamp_millis_opt(1_764_064_800_000).unwrap()
}

struct Fixture {
    service: Service<InMemoryStore>,
    clock: Arc<ManualClock>,
}

impl Fixture {
    fn new() -> Self {
        Self::with(SelfServiceSettings {
            allowed_return_urls: vec![Url::parse("https://app.example.com/").unwrap()],
            ..SelfServiceSettings::default()
        })
    }

    fn with(selfservice: SelfServiceSettings) -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        let service = Service::new(
            InMemoryStore::new(),
            clock.clone(),
            RecoverySettings {
                enabled: true,
                lifespan: LifespanPolicy::new(
                    Duration::from_secs(3600),
                    Duration::from_secs(720 * 3600),
                )
                .unwrap(),
                code_length: CodeLength::default(),
                invalidate_previous: true,
                ui_url: Url::parse("http://127.0.0.1:4433/recovery").unwrap(),
                mark_address_verified: false,
            },
            Secrets::new(vec!["a-test-secret-that-is-long-enough-for-prod".into()]).unwrap(),
        )
        .with_selfservice(selfservice)
        .with_hashing(HashingOptions {
            cost: cheap(),
            ..HashingOptions::default()
        });
        Self { service, clock }
    }

    async fn identity_without_email(&self) -> IdentityId {
        self.service
            .create_identity(
                CreateIdentityRequest {
                    draft: IdentityDraft {
                        traits: Some(json!({ "name": "Ada" })),
                        ..IdentityDraft::default()
                    },
                    password: None,
                },
                &admin(),
            )
            .await
            .unwrap()
            .id
    }

    /// An active identity with `password`.
    async fn with_password(&self, email: &str, password: &str) -> IdentityId {
        self.service
            .create_identity(
                CreateIdentityRequest {
                    draft: IdentityDraft {
                        traits: Some(json!({ "email": email })),
                        ..IdentityDraft::default()
                    },
                    password: Some(password.into()),
                },
                &admin(),
            )
            .await
            .unwrap()
            .id
    }

    /// Signs in through a fresh flow from `from`.
    async fn sign_in(
        &self,
        identifier: &str,
        password: &str,
        from: ClientAddress,
    ) -> Result<SessionId, LoginError> {
        let flow = self
            .service
            .create_login_flow(FlowType::Api, None)
            .await
            .unwrap();
        self.service
            .log_in(
                flow.id,
                identifier,
                password.into(),
                from,
                None,
                &self_service(),
            )
            .await
            .map(|signed_in| signed_in.session.id)
    }

    fn at(&self, offset: TimeDelta) {
        self.clock.set(start() + offset);
    }

    async fn identity(&self, email: &str, state: &str) -> IdentityId {
        self.service
            .create_identity(
                CreateIdentityRequest {
                    draft: IdentityDraft {
                        traits: Some(json!({ "email": email })),
                        state: Some(state.into()),
                        ..IdentityDraft::default()
                    },
                    password: None,
                },
                &admin(),
            )
            .await
            .unwrap()
            .id
    }

    /// Issues a code; returns the flow id and the code.
    async fn code(&self, identity_id: IdentityId) -> (RecoveryFlowId, String) {
        let issued = self
            .service
            .create_recovery_code(RecoveryCodeRequest {
                identity_id,
                expires_in: None,
                flow_type: FlowType::Browser,
                public_base_url: Url::parse("http://127.0.0.1:4433/").unwrap(),
                origin: admin(),
                return_to: Some("https://app.example.com/welcome".into()),
                mark_address_verified: None,
            })
            .await
            .unwrap();
        (issued.flow_id, issued.code.expose().to_owned())
    }
}

fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
}

#[tokio::test]
async fn the_right_code_opens_a_session_and_a_settings_flow() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    f.at(TimeDelta::minutes(1));

    let recovered = f
        .service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();

    assert_eq!(recovered.identity.id, ada);
    assert_eq!(recovered.flow.state, FlowState::PassedChallenge);
    assert_eq!(recovered.session.method, AuthMethod::CodeRecovery);
    assert_eq!(
        recovered.session.authenticated_at,
        start() + TimeDelta::minutes(1)
    );
    assert_eq!(recovered.settings.state, SettingsState::ShowForm);
    assert_eq!(
        recovered.settings.expires_at,
        start() + TimeDelta::minutes(61)
    );
    assert_eq!(
        recovered.settings.return_to.as_deref(),
        Some("https://app.example.com/welcome")
    );
    let flow = f.service.recovery_flow(flow_id).await.unwrap();
    assert_eq!(flow.state, FlowState::PassedChallenge);
    let (session, identity) = f.service.whoami(&recovered.token).await.unwrap();
    assert_eq!(session, recovered.session);
    assert_eq!(identity.id, ada);
}

#[tokio::test]
async fn a_wrong_code_leaves_the_flow_open_and_the_right_one_still_works() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    let error = f
        .service
        .submit_recovery_code(flow_id, &wrong(&code), Device::default(), &self_service())
        .await
        .unwrap_err();
    assert!(matches!(error, SubmitCodeError::InvalidCode(flow) if flow.id == flow_id));
    f.service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_used_code_and_another_flows_code_are_invalid() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let bob = f.identity("bob@example.com", "active").await;
    let (ada_flow, ada_code) = f.code(ada).await;
    let (bob_flow, bob_code) = f.code(bob).await;
    assert!(matches!(
        f.service
            .submit_recovery_code(ada_flow, &bob_code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::InvalidCode(_))
    ));
    f.service
        .submit_recovery_code(ada_flow, &ada_code, Device::default(), &self_service())
        .await
        .unwrap();
    assert!(matches!(
        f.service
            .submit_recovery_code(ada_flow, &ada_code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::InvalidCode(_))
    ));
    f.service
        .submit_recovery_code(bob_flow, &bob_code, Device::default(), &self_service())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_revoked_code_is_invalid() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (first_flow, first_code) = f.code(ada).await;
    f.code(ada).await;
    assert!(matches!(
        f.service
            .submit_recovery_code(first_flow, &first_code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::InvalidCode(_))
    ));
}

#[tokio::test]
async fn the_submission_limit_kills_the_flow_even_for_the_right_code() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    for _ in 0..5 {
        assert!(matches!(
            f.service
                .submit_recovery_code(flow_id, &wrong(&code), Device::default(), &self_service())
                .await,
            Err(SubmitCodeError::InvalidCode(_))
        ));
    }
    assert!(matches!(
        f.service
            .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::TooManyAttempts)
    ));
}

#[tokio::test]
async fn the_fifth_submission_may_still_be_the_right_one() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    for _ in 0..4 {
        let _ = f
            .service
            .submit_recovery_code(flow_id, &wrong(&code), Device::default(), &self_service())
            .await;
    }
    f.service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
}

#[tokio::test]
async fn flows_expire_at_their_instant() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    f.at(TimeDelta::hours(1) - TimeDelta::milliseconds(1));
    f.service.recovery_flow(flow_id).await.unwrap();
    f.at(TimeDelta::hours(1));
    assert!(matches!(
        f.service.recovery_flow(flow_id).await,
        Err(FlowLookupError::Expired(id)) if id == flow_id
    ));
    assert!(matches!(
        f.service
            .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::Flow(FlowLookupError::Expired(_)))
    ));
    assert!(matches!(
        f.service.recovery_flow(Uuid::new_v4().into()).await,
        Err(FlowLookupError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_disabled_identity_is_refused() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "inactive").await;
    let (flow_id, code) = f.code(ada).await;
    assert!(matches!(
        f.service
            .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
            .await,
        Err(SubmitCodeError::IdentityDisabled)
    ));
}

#[tokio::test]
async fn recovery_revokes_the_other_sessions() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (first_flow, first_code) = f.code(ada).await;
    let first = f
        .service
        .submit_recovery_code(first_flow, &first_code, Device::default(), &self_service())
        .await
        .unwrap();
    let (second_flow, second_code) = f.code(ada).await;
    f.at(TimeDelta::seconds(1));
    let second = f
        .service
        .submit_recovery_code(
            second_flow,
            &second_code,
            Device::default(),
            &self_service(),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.service.whoami(&first.token).await,
        Err(SessionError::Unauthorized)
    ));
    f.service.whoami(&second.token).await.unwrap();
}

/// Two sessions of one identity (recoveries that leave each other be); a new password is set
/// through the first. Whether the second is still signed in.
async fn second_session_survives_a_new_password(revoke_sessions_on_password_change: bool) -> bool {
    let f = Fixture::with(SelfServiceSettings {
        allowed_return_urls: vec![Url::parse("https://app.example.com/").unwrap()],
        revoke_active_sessions: false,
        revoke_sessions_on_password_change,
        ..SelfServiceSettings::default()
    });
    let ada = f.identity("ada@example.com", "active").await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let (flow, code) = f.code(ada).await;
        sessions.push(
            f.service
                .submit_recovery_code(flow, &code, Device::default(), &self_service())
                .await
                .unwrap(),
        );
    }
    f.at(TimeDelta::seconds(1));
    f.service
        .set_new_password(
            sessions[0].settings.id,
            &sessions[0].token,
            "correct horse battery".into(),
            &self_service(),
        )
        .await
        .unwrap();
    f.service.whoami(&sessions[0].token).await.unwrap();
    f.service.whoami(&sessions[1].token).await.is_ok()
}

#[tokio::test]
async fn a_new_password_signs_out_the_other_sessions_unless_configured_not_to() {
    assert!(!second_session_survives_a_new_password(true).await);
    assert!(second_session_survives_a_new_password(false).await);
}

#[tokio::test]
async fn an_off_list_return_to_is_refused_when_issuing() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let error = f
        .service
        .create_recovery_code(RecoveryCodeRequest {
            identity_id: ada,
            expires_in: None,
            flow_type: FlowType::Browser,
            public_base_url: Url::parse("http://127.0.0.1:4433/").unwrap(),
            origin: admin(),
            return_to: Some("https://evil.example.net/".into()),
            mark_address_verified: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CreateRecoveryCodeError::InvalidReturnTo(ReturnToError::NotAllowed(_))
    ));
}

#[tokio::test]
async fn the_new_password_is_set_within_the_privileged_window_then_signs_in() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    let recovered = f
        .service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
    let settings = recovered.settings.id;

    for (password, expected) in [
        ("short", PasswordError::TooShort(5)),
        ("ADA@example.com", PasswordError::SameAsIdentifier),
    ] {
        let error = f
            .service
            .set_new_password(settings, &recovered.token, password.into(), &self_service())
            .await
            .unwrap_err();
        assert!(matches!(error, SettingsError::InvalidPassword(e) if e == expected));
    }
    let (flow, identity) = f
        .service
        .set_new_password(
            settings,
            &recovered.token,
            "correct horse battery".into(),
            &self_service(),
        )
        .await
        .unwrap();
    assert_eq!(flow.state, SettingsState::Success);
    assert_eq!(identity.id, ada);
    assert!(matches!(
        f.service
            .set_new_password(
                settings,
                &recovered.token,
                "another good one".into(),
                &self_service()
            )
            .await,
        Err(SettingsError::AlreadyDone)
    ));

    let login = f
        .service
        .create_login_flow(FlowType::Api, None)
        .await
        .unwrap();
    let signed_in = f
        .service
        .log_in(
            login.id,
            "Ada@Example.com",
            "correct horse battery".into(),
            client(),
            None,
            &self_service(),
        )
        .await
        .unwrap();
    assert_eq!(signed_in.identity.id, ada);
    assert_eq!(signed_in.session.method, AuthMethod::Password);
    f.service.whoami(&signed_in.token).await.unwrap();
    f.service
        .log_out(&signed_in.token, &self_service())
        .await
        .unwrap();
    assert!(matches!(
        f.service.whoami(&signed_in.token).await,
        Err(SessionError::Unauthorized)
    ));
}

#[tokio::test]
async fn an_old_session_cannot_set_the_password() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    let recovered = f
        .service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
    f.at(TimeDelta::hours(1));
    let error = f
        .service
        .set_new_password(
            recovered.settings.id,
            &recovered.token,
            "correct horse battery".into(),
            &self_service(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        SettingsError::Expired(_) | SettingsError::PrivilegeExpired
    ));
}

#[tokio::test]
async fn settings_need_the_owners_session() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let bob = f.identity("bob@example.com", "active").await;
    let (ada_flow, ada_code) = f.code(ada).await;
    let (bob_flow, bob_code) = f.code(bob).await;
    let adas = f
        .service
        .submit_recovery_code(ada_flow, &ada_code, Device::default(), &self_service())
        .await
        .unwrap();
    let bobs = f
        .service
        .submit_recovery_code(bob_flow, &bob_code, Device::default(), &self_service())
        .await
        .unwrap();
    assert!(matches!(
        f.service.settings_flow(adas.settings.id, &bobs.token).await,
        Err(SettingsError::Forbidden)
    ));
    assert!(matches!(
        f.service
            .settings_flow(adas.settings.id, &SessionToken::from_client("ory_st_nope"))
            .await,
        Err(SettingsError::Unauthorized)
    ));
    assert!(matches!(
        f.service
            .settings_flow(Uuid::new_v4().into(), &adas.token)
            .await,
        Err(SettingsError::NotFound(_))
    ));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_identifiers_get_the_same_answer() {
    let f = Fixture::new();
    let ada = f.identity("ada@example.com", "active").await;
    let (flow_id, code) = f.code(ada).await;
    let recovered = f
        .service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
    f.service
        .set_new_password(
            recovered.settings.id,
            &recovered.token,
            "correct horse battery".into(),
            &self_service(),
        )
        .await
        .unwrap();
    let login = f
        .service
        .create_login_flow(FlowType::Browser, None)
        .await
        .unwrap();
    for (identifier, password) in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", "correct horse battery"),
        ("not an email", "correct horse battery"),
    ] {
        assert!(matches!(
            f.service
                .log_in(
                    login.id,
                    identifier,
                    password.into(),
                    client(),
                    None,
                    &self_service()
                )
                .await,
            Err(LoginError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        f.service
            .create_login_flow(FlowType::Browser, Some("https://evil.example.net/"))
            .await,
        Err(LoginError::InvalidReturnTo(_))
    ));
    f.at(TimeDelta::hours(2));
    assert!(matches!(
        f.service
            .log_in(
                login.id,
                "ada@example.com",
                "correct horse battery".into(),
                client(),
                None,
                &self_service()
            )
            .await,
        Err(LoginError::FlowExpired(_))
    ));
}

#[tokio::test]
async fn failed_sign_ins_make_the_next_wait_longer_and_longer_until_one_succeeds() {
    let f = Fixture::new();
    f.with_password("ada@example.com", "correct horse battery")
        .await;
    for _ in 0..5 {
        assert!(matches!(
            f.sign_in("ada@example.com", "wrong", client()).await,
            Err(LoginError::InvalidCredentials)
        ));
    }
    // Held back before any password work, the right password too.
    let held = f
        .sign_in("ada@example.com", "correct horse battery", client())
        .await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(30)));
    f.at(TimeDelta::seconds(29));
    let held = f.sign_in("ada@example.com", "wrong", client()).await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(1)));
    // A refused attempt does not count: after the wait a wrong one is checked, and doubles it.
    f.at(TimeDelta::seconds(30));
    assert!(matches!(
        f.sign_in("ada@example.com", "wrong", client()).await,
        Err(LoginError::InvalidCredentials)
    ));
    let held = f.sign_in("ada@example.com", "wrong", client()).await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(60)));
    // The right password after the wait signs in and starts the count over.
    f.at(TimeDelta::seconds(90));
    f.sign_in("ada@example.com", "correct horse battery", client())
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(matches!(
            f.sign_in("ada@example.com", "wrong", client()).await,
            Err(LoginError::InvalidCredentials)
        ));
    }
    // The delay is capped at a quarter of an hour.
    for hour in 1..=20 {
        f.at(TimeDelta::hours(hour));
        assert!(matches!(
            f.sign_in("ada@example.com", "wrong", client()).await,
            Err(LoginError::InvalidCredentials)
        ));
    }
    let held = f.sign_in("ada@example.com", "wrong", client()).await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(900)));
}

#[tokio::test]
async fn unknown_identifiers_are_held_back_like_known_ones() {
    let f = Fixture::new();
    f.with_password("ada@example.com", "correct horse battery")
        .await;
    for identifier in ["ada@example.com", "nobody@example.com", "not an email"] {
        for _ in 0..5 {
            assert!(matches!(
                f.sign_in(identifier, "wrong", client()).await,
                Err(LoginError::InvalidCredentials)
            ));
        }
        let held = f.sign_in(identifier, "wrong", client()).await;
        assert_eq!(
            throttled_for(held),
            Some(Duration::from_secs(30)),
            "{identifier}"
        );
    }
    // Case and spaces do not open a fresh count.
    let held = f.sign_in(" Nobody@Example.COM ", "wrong", client()).await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn one_attacker_cannot_lock_out_the_owner_signing_in_from_elsewhere() {
    let f = Fixture::new();
    f.with_password("ada@example.com", "correct horse battery")
        .await;
    // An attacker guesses from one address for a day, as fast as the delays let it.
    for hour in 0..24 {
        for minute in (0..60).step_by(5) {
            f.at(TimeDelta::hours(hour) + TimeDelta::minutes(minute));
            let _ = f.sign_in("ada@example.com", "guess", from(66)).await;
        }
    }
    assert!(throttled_for(f.sign_in("ada@example.com", "guess", from(66)).await).is_some());
    // The owner, elsewhere, signs in at once.
    f.sign_in("ada@example.com", "correct horse battery", from(7))
        .await
        .unwrap();
}

#[tokio::test]
async fn many_addresses_together_hold_everyone_back_but_never_recovery() {
    let f = Fixture::new();
    let ada = f
        .with_password("ada@example.com", "correct horse battery")
        .await;
    for address in 1..=4 {
        for _ in 0..5 {
            let _ = f.sign_in("ada@example.com", "guess", from(address)).await;
        }
    }
    // Twenty failures over all addresses: a fresh address waits too.
    let held = f
        .sign_in("ada@example.com", "correct horse battery", from(9))
        .await;
    assert_eq!(throttled_for(held), Some(Duration::from_secs(30)));
    // An operator sees it.
    let lockout = f.service.lockout(ada).await.unwrap();
    assert_eq!(lockout.entries.len(), 5);
    assert_eq!(lockout.entries[0].address, None);
    assert_eq!(lockout.entries[0].failures.count, 20);
    assert!(
        lockout
            .entries
            .iter()
            .all(|entry| entry.locked_until.is_some())
    );
    // Recovery still works, and starts the count over.
    let (flow_id, code) = f.code(ada).await;
    f.service
        .submit_recovery_code(flow_id, &code, Device::default(), &self_service())
        .await
        .unwrap();
    assert!(f.service.lockout(ada).await.unwrap().entries.is_empty());
    f.sign_in("ada@example.com", "correct horse battery", from(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_operator_lifts_a_lockout() {
    let f = Fixture::new();
    let ada = f
        .with_password("ada@example.com", "correct horse battery")
        .await;
    for _ in 0..6 {
        let _ = f.sign_in("ada@example.com", "guess", client()).await;
    }
    assert!(
        throttled_for(
            f.sign_in("ada@example.com", "correct horse battery", client())
                .await
        )
        .is_some()
    );
    f.service.clear_lockout(ada, &admin()).await.unwrap();
    f.sign_in("ada@example.com", "correct horse battery", client())
        .await
        .unwrap();
    // No identifier, nothing to lift; an unknown identity is not found.
    let nameless = f.identity_without_email().await;
    assert!(
        f.service
            .lockout(nameless)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    assert!(
        f.service
            .clear_lockout(Uuid::new_v4().into(), &admin())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_hash_made_at_an_older_cost_is_made_again_at_sign_in() {
    let f = Fixture::new();
    let ada = f
        .with_password("ada@example.com", "correct horse battery")
        .await;
    let older = HashCost::new(32, 1, 1).unwrap();
    let old = PasswordHash::create("correct horse battery", older, &mut rand::rng()).unwrap();
    f.service
        .store()
        .update_password_hash(ada, old.clone())
        .await
        .unwrap();
    assert!(
        f.sign_in("ada@example.com", "wrong one", client())
            .await
            .is_err()
    );
    assert_eq!(f.service.store().password_of(ada), Some(old.clone()));
    f.sign_in("ada@example.com", "correct horse battery", client())
        .await
        .unwrap();
    let new = f.service.store().password_of(ada).unwrap();
    assert_ne!(new, old);
    assert!(!new.needs_rehash(cheap()));
    assert!(new.verify("correct horse battery"));
}
