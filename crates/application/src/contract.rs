//! The storage contract: every behaviour the use cases rely on, written once and run against
//! every implementation of the ports (PostgreSQL, SQLite, the in-memory fake) through
//! [`store_contract!`](crate::store_contract). Each case observes the store only through the
//! ports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use chrono::{TimeDelta, TimeZone, Utc};
use domain::address::{VerifiableAddress, Via};
use domain::audit::{Action, Actor, Event, Origin, Reason, RequestId};
use domain::client::{AddressGroup, ClientAddress};
use domain::code::{CodeLength, PlainCode};
use domain::id::{AuditEventId, IdentityId, RecoveryFlowId};
use domain::identity::{IdentityDraft, IdentityState, NewIdentity};
use domain::identity_schema::IdentitySchemas;
use domain::lockout::{Failures, IdentifierKey, LockoutPolicy};
use domain::password::{HashCost, PasswordHash};
use domain::recovery::{
    CodeIssue, CodeType, FlowState, FlowType, ProvenAddresses, RecoveryFlow, Redemption, StoredCode,
};
use domain::secret::Secrets;
use domain::selfservice::{LoginFlow, PasswordChange, SettingsFlow, SettingsState};
use domain::session::{AuthMethod, Device, Session, SessionToken, UserAgent};
use domain::time::Timestamp;
use serde_json::json;
use uuid::Uuid;

use crate::ports::{
    AuditQuery, IdentityQuery, InsertIdentityError, Purge, RedeemError, ReplaceIdentityError,
    Revoked, SessionQuery, SpentCode, Store, StoreCodeIssueError,
};

/// Runs every case of the contract as its own test. `setup` builds a fixture that lives for the
/// test; `store` borrows the store from it.
///
/// ```text
/// application::store_contract!(|db| TestDatabase::new() => &db.store);
/// ```
#[macro_export]
macro_rules! store_contract {
    (|$fixture:ident| $setup:expr => $store:expr) => {
        $crate::store_contract!(@cases |$fixture| $setup => $store;
            identity_round_trip,
            identifiers_are_unique,
            identifiers_are_unique_under_concurrency,
            listing_pages_in_id_order,
            listing_filters_by_identifier,
            deleting_reports_existence_and_cascades,
            issuing_stores_the_flow_and_the_code,
            issuing_for_an_unknown_identity_writes_nothing,
            a_failed_issue_writes_nothing,
            a_new_code_revokes_earlier_admin_codes_of_the_identity,
            revocation_can_be_skipped,
            concurrent_issues_leave_one_live_code,
            codes_expire_at_their_instant,
            submissions_are_counted_atomically,
            a_code_is_redeemed_exactly_once_under_concurrency,
            redemption_revokes_other_sessions_when_asked,
            a_revoked_code_cannot_be_redeemed,
            sessions_are_found_by_token_until_revoked_or_expired,
            an_inactive_identity_has_no_valid_session,
            a_session_keeps_the_device_that_opened_it,
            an_identitys_sessions_are_listed_in_pages,
            a_session_is_found_by_id_active_or_not,
            an_identitys_sessions_are_revoked_but_one,
            a_password_is_set_with_its_settings_flow,
            a_new_password_ends_the_other_sessions_when_asked,
            login_flows_round_trip,
            expired_flows_and_sessions_are_purged,
            a_password_hash_is_replaced,
            failed_sign_ins_are_counted_per_address_and_over_all,
            failed_sign_ins_are_counted_atomically,
            failed_sign_ins_are_cleared_and_purged,
            the_store_is_ready,
            identity_metadata_round_trips,
            an_identity_is_replaced_whole,
            a_replacement_onto_a_taken_identifier_changes_nothing,
            concurrent_replacements_keep_the_identifier_with_its_traits,
            addresses_round_trip_on_every_read,
            a_redemption_proves_addresses_of_an_unchanged_identity,
            revoking_takes_back_live_codes_and_the_sessions_they_opened,
            audit_events_round_trip_and_outlive_their_identity,
            a_change_that_is_not_made_leaves_no_event,
            audit_events_are_listed_in_pages_and_purged_by_age,
            issues_written_together_answer_each_caller,
            a_failing_write_answers_each_of_its_callers_as_alone,
            racing_issues_keep_one_live_code_per_identity,
            a_redemption_forgets_the_identifiers_failed_sign_ins,
            redemptions_written_together_answer_each_caller
        );
    };
    (@cases |$fixture:ident| $setup:expr => $store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let $fixture = $setup;
                $crate::contract::$case($store).await;
            }
        )*
    };
}

fn now() -> Timestamp {
    Utc.timestamp_millis_opt(1_764_064_800_123).unwrap()
}

/// The audit event `action` of the contract's admin at `at`, to pass along with a change.
fn event(action: Action, at: Timestamp) -> Event {
    Origin {
        actor: Actor::AdminKey("contract".into()),
        client_address: None,
        request_id: None,
    }
    .event(AuditEventId::new_v7(at, &mut rand::rng()), action, at)
}

/// A purge of what expired before `before`, audit events included.
fn purge(before: Timestamp) -> Purge {
    Purge {
        expired_before: before,
        audit_before: before,
    }
}

fn new_identity(email: Option<&str>) -> NewIdentity {
    IdentityDraft {
        traits: Some(email.map_or_else(|| json!({"name": "Ada"}), |e| json!({ "email": e }))),
        ..IdentityDraft::default()
    }
    .validate(
        &IdentitySchemas::built_in(),
        Uuid::new_v4().into(),
        None,
        now(),
    )
    .unwrap()
}

/// An admin code issue for `identity_id` at `issued_at` that revokes the earlier ones, as every
/// case here writes it.
pub fn issue(identity_id: IdentityId, issued_at: Timestamp) -> CodeIssue {
    let secrets = Secrets::new(vec!["a-contract-secret-that-is-long-enough-00".into()]).unwrap();
    let code = PlainCode::generate(&mut rand::rng(), CodeLength::default());
    let flow_id = RecoveryFlowId::from(Uuid::new_v4());
    let expires_at = issued_at + TimeDelta::hours(1);
    CodeIssue {
        flow: RecoveryFlow {
            id: flow_id,
            identity_id,
            flow_type: FlowType::Browser,
            state: FlowState::SentEmail,
            issued_at,
            expires_at,
            request_url: "http://127.0.0.1:4434/iam/recovery/code?x=1".into(),
            return_to: Some("https://app.example.com/welcome".into()),
            submissions: 0,
            verifies_addresses: true,
        },
        code: StoredCode {
            id: Uuid::new_v4().into(),
            flow_id,
            identity_id,
            hash: secrets.hash(&code),
            code_type: CodeType::Admin,
            issued_at,
            expires_at,
        },
        revoke_previous: true,
        audit: event(Action::RecoveryCodeIssued, issued_at)
            .identity(identity_id)
            .flow(flow_id),
    }
}

/// The codes of flow `flow_id` that can be redeemed at `at`, as a submission sees them (none
/// when the flow is gone).
async fn live_codes<S: Store>(
    store: &S,
    flow_id: RecoveryFlowId,
    at: Timestamp,
) -> Vec<StoredCode> {
    store
        .begin_submission(flow_id, at)
        .await
        .unwrap()
        .map(|submission| submission.codes)
        .unwrap_or_default()
}

async fn stored_identity<S: Store>(store: &S, email: Option<&str>) -> IdentityId {
    let new = new_identity(email);
    let id = new.identity.id;
    store
        .insert_identity(new, event(Action::IdentityCreated, now()).identity(id))
        .await
        .unwrap();
    id
}

pub async fn identity_round_trip<S: Store>(store: &S) {
    let new = new_identity(Some("ada@example.com"));
    let stored = store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    assert_eq!(stored, new.identity);
    assert_eq!(
        store.find_identity(new.identity.id).await.unwrap(),
        Some(new.identity)
    );
    assert_eq!(
        store.find_identity(Uuid::new_v4().into()).await.unwrap(),
        None
    );
}

pub async fn identifiers_are_unique<S: Store>(store: &S) {
    stored_identity(store, Some("ada@example.com")).await;
    let clash = new_identity(Some("ada@example.com"));
    let clash_id = clash.identity.id;
    assert!(matches!(
        store
            .insert_identity(clash, event(Action::IdentityCreated, now()))
            .await,
        Err(InsertIdentityError::DuplicateIdentifier)
    ));
    assert_eq!(store.find_identity(clash_id).await.unwrap(), None);
    // Identities without an identifier never clash.
    stored_identity(store, None).await;
    stored_identity(store, None).await;
}

pub async fn identifiers_are_unique_under_concurrency<S: Store>(store: &S) {
    let attempts = (0..8).map(|_| {
        store.insert_identity(
            new_identity(Some("race@example.com")),
            event(Action::IdentityCreated, now()),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Err(InsertIdentityError::DuplicateIdentifier)))
        .count();
    assert_eq!((created, duplicates), (1, 7), "{results:?}");
}

pub async fn listing_pages_in_id_order<S: Store>(store: &S) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(stored_identity(store, Some(&format!("user{n}@example.com"))).await);
    }
    ids.sort();
    let page = |after, limit| {
        store.list_identities(IdentityQuery {
            after,
            limit,
            identifier: None,
        })
    };
    let ids_of =
        |page: Vec<domain::identity::Identity>| page.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids_of(page(None, 10).await.unwrap()), ids);
    assert_eq!(ids_of(page(None, 2).await.unwrap()), ids[..2]);
    assert_eq!(ids_of(page(Some(ids[1]), 2).await.unwrap()), ids[2..4]);
    assert_eq!(ids_of(page(Some(ids[3]), 2).await.unwrap()), ids[4..]);
    assert!(page(Some(ids[4]), 2).await.unwrap().is_empty());
}

pub async fn listing_filters_by_identifier<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    stored_identity(store, Some("bob@example.com")).await;
    let found = store
        .list_identities(IdentityQuery {
            after: None,
            limit: 10,
            identifier: Some("ada@example.com".into()),
        })
        .await
        .unwrap();
    assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), [ada]);
    let none = store
        .list_identities(IdentityQuery {
            after: None,
            limit: 10,
            identifier: Some("carol@example.com".into()),
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn deleting_reports_existence_and_cascades<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let bob = stored_identity(store, Some("bob@example.com")).await;
    let adas = issue(ada, now());
    let bobs = issue(bob, now());
    store.store_code_issue(adas.clone()).await.unwrap();
    store.store_code_issue(bobs.clone()).await.unwrap();

    assert!(
        store
            .delete_identity(ada, event(Action::IdentityDeleted, now()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_identity(ada, event(Action::IdentityDeleted, now()))
            .await
            .unwrap()
    );
    assert_eq!(store.find_identity(ada).await.unwrap(), None);
    assert_eq!(store.find_flow(adas.flow.id).await.unwrap(), None);
    assert!(live_codes(store, adas.flow.id, now()).await.is_empty());
    // The other identity keeps everything.
    assert_eq!(
        store.find_flow(bobs.flow.id).await.unwrap(),
        Some(bobs.flow.clone())
    );
    assert_eq!(live_codes(store, bobs.flow.id, now()).await, [bobs.code]);
}

pub async fn issuing_stores_the_flow_and_the_code<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let mut issued = issue(ada, now());
    issued.flow.flow_type = FlowType::Api;
    store.store_code_issue(issued.clone()).await.unwrap();
    assert_eq!(
        store.find_flow(issued.flow.id).await.unwrap(),
        Some(issued.flow.clone())
    );
    assert_eq!(
        live_codes(store, issued.flow.id, now()).await,
        [issued.code]
    );
    assert_eq!(store.find_flow(Uuid::new_v4().into()).await.unwrap(), None);
}

pub async fn issuing_for_an_unknown_identity_writes_nothing<S: Store>(store: &S) {
    let orphan = issue(Uuid::new_v4().into(), now());
    assert!(matches!(
        store.store_code_issue(orphan.clone()).await,
        Err(StoreCodeIssueError::IdentityNotFound)
    ));
    assert_eq!(store.find_flow(orphan.flow.id).await.unwrap(), None);
    assert!(live_codes(store, orphan.flow.id, now()).await.is_empty());
}

pub async fn a_failed_issue_writes_nothing<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let first = issue(ada, now());
    store.store_code_issue(first.clone()).await.unwrap();

    // The code collides with the first one: the flow insert and the revocation that come
    // before it must be undone with it.
    let mut clash = issue(ada, now() + TimeDelta::seconds(1));
    clash.code.id = first.code.id;
    assert!(matches!(
        store.store_code_issue(clash.clone()).await,
        Err(StoreCodeIssueError::Store(_))
    ));
    assert_eq!(store.find_flow(clash.flow.id).await.unwrap(), None);
    assert_eq!(live_codes(store, first.flow.id, now()).await, [first.code]);
}

pub async fn a_new_code_revokes_earlier_admin_codes_of_the_identity<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let bob = stored_identity(store, None).await;
    let first = issue(ada, now());
    let bobs = issue(bob, now());
    store.store_code_issue(first.clone()).await.unwrap();
    store.store_code_issue(bobs.clone()).await.unwrap();
    let second = issue(ada, now() + TimeDelta::seconds(1));
    store.store_code_issue(second.clone()).await.unwrap();

    let at = now() + TimeDelta::seconds(2);
    assert!(live_codes(store, first.flow.id, at).await.is_empty());
    assert_eq!(live_codes(store, second.flow.id, at).await, [second.code]);
    assert_eq!(live_codes(store, bobs.flow.id, at).await, [bobs.code]);
    // The revoked code's flow stays: it can still be shown, but not redeemed.
    assert!(store.find_flow(first.flow.id).await.unwrap().is_some());
}

pub async fn concurrent_issues_leave_one_live_code<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let issues: Vec<CodeIssue> = (0..8).map(|_| issue(ada, now())).collect();
    let results =
        futures_util::future::join_all(issues.iter().map(|i| store.store_code_issue(i.clone())))
            .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut live = 0;
    for issued in &issues {
        live += live_codes(store, issued.flow.id, now()).await.len();
    }
    assert_eq!(live, 1);
}

pub async fn revocation_can_be_skipped<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let first = issue(ada, now());
    store.store_code_issue(first.clone()).await.unwrap();
    let mut second = issue(ada, now() + TimeDelta::seconds(1));
    second.revoke_previous = false;
    store.store_code_issue(second).await.unwrap();
    assert_eq!(live_codes(store, first.flow.id, now()).await, [first.code]);
}

pub async fn codes_expire_at_their_instant<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let expiry = issued.code.expires_at;
    let just_before = expiry - TimeDelta::milliseconds(1);
    assert_eq!(
        live_codes(store, issued.flow.id, just_before).await,
        [issued.code]
    );
    assert!(live_codes(store, issued.flow.id, expiry).await.is_empty());
    assert!(
        live_codes(store, issued.flow.id, expiry + TimeDelta::days(1))
            .await
            .is_empty()
    );
}

fn new_session(identity_id: IdentityId, at: Timestamp) -> (SessionToken, Session) {
    let token = SessionToken::generate(&mut rand::rng());
    let session = Session {
        id: Uuid::new_v4().into(),
        identity_id,
        token_hash: token.hash(),
        method: AuthMethod::CodeRecovery,
        authenticated_at: at,
        expires_at: at + TimeDelta::hours(24),
        device: Device {
            ip_address: Some(ClientAddress::new("2001:db8::7".parse().unwrap())),
            user_agent: UserAgent::from_header(b"Mozilla/5.0 (X11; Linux x86_64)"),
        },
    };
    (token, session)
}

fn redemption(issued: &CodeIssue, at: Timestamp) -> (SessionToken, Redemption) {
    let (token, session) = new_session(issued.flow.identity_id, at);
    let settings = SettingsFlow {
        id: Uuid::new_v4().into(),
        identity_id: issued.flow.identity_id,
        session_id: session.id,
        flow_type: FlowType::Browser,
        state: SettingsState::ShowForm,
        issued_at: at,
        expires_at: at + TimeDelta::hours(1),
        return_to: issued.flow.return_to.clone(),
    };
    let redemption = Redemption {
        flow_id: issued.flow.id,
        code_id: issued.code.id,
        at,
        session,
        revoke_other_sessions: true,
        settings,
        proven_addresses: None,
        clear_lockout: None,
        audit: event(Action::RecoverySucceeded, at)
            .identity(issued.flow.identity_id)
            .flow(issued.flow.id),
    };
    (token, redemption)
}

pub async fn submissions_are_counted_atomically<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let submissions = futures_util::future::join_all(
        (0..50).map(|_| store.begin_submission(issued.flow.id, now())),
    )
    .await;
    let mut counts = Vec::new();
    for submission in submissions {
        let submission = submission.unwrap().unwrap();
        assert_eq!(submission.flow.id, issued.flow.id);
        assert_eq!(submission.identity.id, ada);
        assert_eq!(submission.codes, std::slice::from_ref(&issued.code));
        counts.push(submission.flow.submissions);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<_>>());
    assert_eq!(
        store
            .begin_submission(Uuid::new_v4().into(), now())
            .await
            .unwrap(),
        None
    );
    // Expired, used and revoked codes are not offered.
    let later = issued.code.expires_at;
    let expired = store
        .begin_submission(issued.flow.id, later)
        .await
        .unwrap()
        .unwrap();
    assert!(expired.codes.is_empty());
}

pub async fn a_code_is_redeemed_exactly_once_under_concurrency<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let attempts: Vec<(SessionToken, Redemption)> =
        (0..50).map(|_| redemption(&issued, now())).collect();
    let results =
        futures_util::future::join_all(attempts.iter().map(|(_, r)| store.redeem(r.clone()))).await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(RedeemError::CodeAlreadyUsed))),
        "{results:?}"
    );
    let (token, won) = &attempts[winners[0]];
    let flow = store.find_flow(issued.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.state, FlowState::PassedChallenge);
    assert!(live_codes(store, issued.flow.id, now()).await.is_empty());
    let (found, identity) = store
        .find_session(&token.hash(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, won.session);
    assert_eq!(identity.id, ada);
    assert_eq!(
        store.find_settings_flow(won.settings.id).await.unwrap(),
        Some(won.settings.clone())
    );
    // The losers wrote nothing.
    for (loser_token, loser) in attempts
        .iter()
        .filter(|(_, r)| r.session.id != won.session.id)
    {
        assert!(
            store
                .find_session(&loser_token.hash(), now())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .find_settings_flow(loser.settings.id)
                .await
                .unwrap()
                .is_none()
        );
    }
}

pub async fn redemption_revokes_other_sessions_when_asked<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let (old_token, old) = new_session(ada, now());
    store
        .insert_session(old, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    let first = issue(ada, now());
    store.store_code_issue(first.clone()).await.unwrap();
    let (_, mut keep) = redemption(&first, now());
    keep.revoke_other_sessions = false;
    store.redeem(keep).await.unwrap();
    assert!(
        store
            .find_session(&old_token.hash(), now())
            .await
            .unwrap()
            .is_some()
    );

    let second = issue(ada, now() + TimeDelta::seconds(1));
    store.store_code_issue(second.clone()).await.unwrap();
    let (new_token, revoke) = redemption(&second, now() + TimeDelta::seconds(1));
    store.redeem(revoke).await.unwrap();
    let later = now() + TimeDelta::seconds(2);
    assert!(
        store
            .find_session(&old_token.hash(), later)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&new_token.hash(), later)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn a_revoked_code_cannot_be_redeemed<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let first = issue(ada, now());
    store.store_code_issue(first.clone()).await.unwrap();
    store
        .store_code_issue(issue(ada, now() + TimeDelta::seconds(1)))
        .await
        .unwrap();
    let (token, stale) = redemption(&first, now() + TimeDelta::seconds(2));
    assert!(matches!(
        store.redeem(stale).await,
        Err(RedeemError::CodeAlreadyUsed)
    ));
    assert!(
        store
            .find_session(&token.hash(), now())
            .await
            .unwrap()
            .is_none()
    );
    let flow = store.find_flow(first.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.state, FlowState::SentEmail);
    // Spent codes are told apart: this one was revoked; a redeemed one was used.
    let spent = SpentCode {
        hash: first.code.hash.clone(),
        revoked: true,
    };
    assert_eq!(store.spent_codes(first.flow.id).await.unwrap(), [spent]);
    let second = issue(ada, now() + TimeDelta::seconds(3));
    store.store_code_issue(second.clone()).await.unwrap();
    assert!(store.spent_codes(second.flow.id).await.unwrap().is_empty());
    let (_, redeemed) = redemption(&second, now() + TimeDelta::seconds(4));
    store.redeem(redeemed).await.unwrap();
    let used = SpentCode {
        hash: second.code.hash.clone(),
        revoked: false,
    };
    assert_eq!(store.spent_codes(second.flow.id).await.unwrap(), [used]);
}

pub async fn sessions_are_found_by_token_until_revoked_or_expired<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let (token, session) = new_session(ada, now());
    store
        .insert_session(
            session.clone(),
            false,
            event(Action::SignInSucceeded, now()),
        )
        .await
        .unwrap();
    let (found, identity) = store
        .find_session(&token.hash(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, session);
    assert_eq!(identity.id, ada);
    assert!(
        store
            .find_session(&token.hash(), session.expires_at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&SessionToken::generate(&mut rand::rng()).hash(), now())
            .await
            .unwrap()
            .is_none()
    );
    let (other_token, other) = new_session(ada, now() + TimeDelta::seconds(1));
    store
        .insert_session(other, true, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    assert!(
        store
            .find_session(&token.hash(), now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&other_token.hash(), now())
            .await
            .unwrap()
            .is_some()
    );
    let (current, _) = store
        .find_session(&other_token.hash(), now())
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .revoke_session(current.id, now(), event(Action::SessionRevoked, now()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_session(current.id, now(), event(Action::SessionRevoked, now()))
            .await
            .unwrap()
    );
    assert!(
        store
            .find_session(&other_token.hash(), now())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn an_inactive_identity_has_no_valid_session<S: Store>(store: &S) {
    let mut new = new_identity(Some("ada@example.com"));
    new.identity.state = IdentityState::Inactive;
    let ada = new.identity.id;
    store
        .insert_identity(new, event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let (token, session) = new_session(ada, now());
    store
        .insert_session(session, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    assert!(
        store
            .find_session(&token.hash(), now())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_session_keeps_the_device_that_opened_it<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let longest = "\u{1F600}".repeat(UserAgent::MAX_CHARS);
    for device in [
        Device::default(),
        Device {
            ip_address: Some(ClientAddress::new("192.0.2.1".parse().unwrap())),
            user_agent: UserAgent::from_header(longest.as_bytes()),
        },
    ] {
        let (token, mut session) = new_session(ada, now());
        session.device = device;
        store
            .insert_session(
                session.clone(),
                false,
                event(Action::SignInSucceeded, now()),
            )
            .await
            .unwrap();
        let (found, _) = store
            .find_session(&token.hash(), now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, session);
    }
}

/// Three sessions of ada (the second revoked, the third expired at `now() + 1h`), one of bob;
/// their ids in ascending order.
async fn sessions_of_ada<S: Store>(store: &S) -> (IdentityId, Vec<Session>) {
    let ada = stored_identity(store, None).await;
    let bob = stored_identity(store, None).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (_, session) = new_session(ada, now());
        store
            .insert_session(
                session.clone(),
                false,
                event(Action::SignInSucceeded, now()),
            )
            .await
            .unwrap();
        sessions.push(session);
    }
    let (_, bobs) = new_session(bob, now());
    store
        .insert_session(bobs, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    sessions.sort_by_key(|session| session.id);
    assert!(
        store
            .revoke_session(sessions[1].id, now(), event(Action::SessionRevoked, now()))
            .await
            .unwrap()
    );
    (ada, sessions)
}

fn sessions_query(identity_id: IdentityId) -> SessionQuery {
    SessionQuery {
        identity_id,
        after: None,
        limit: 10,
        active: None,
        now: now(),
        except: None,
    }
}

pub async fn an_identitys_sessions_are_listed_in_pages<S: Store>(store: &S) {
    let (ada, sessions) = sessions_of_ada(store).await;
    let ids = |listed: Vec<crate::ports::StoredSession>| {
        listed.into_iter().map(|s| s.session.id).collect::<Vec<_>>()
    };
    let all = store.list_sessions(sessions_query(ada)).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].session, sessions[0]);
    assert_eq!(all[1].revoked_at, Some(now()));
    assert_eq!(ids(all), sessions.iter().map(|s| s.id).collect::<Vec<_>>());
    let first = SessionQuery {
        limit: 2,
        ..sessions_query(ada)
    };
    assert_eq!(
        ids(store.list_sessions(first).await.unwrap()),
        [sessions[0].id, sessions[1].id]
    );
    let next = SessionQuery {
        after: Some(sessions[1].id),
        ..sessions_query(ada)
    };
    assert_eq!(
        ids(store.list_sessions(next).await.unwrap()),
        [sessions[2].id]
    );
    let active = SessionQuery {
        active: Some(true),
        ..sessions_query(ada)
    };
    assert_eq!(
        ids(store.list_sessions(active.clone()).await.unwrap()),
        [sessions[0].id, sessions[2].id]
    );
    let inactive = SessionQuery {
        active: Some(false),
        ..sessions_query(ada)
    };
    assert_eq!(
        ids(store.list_sessions(inactive).await.unwrap()),
        [sessions[1].id]
    );
    let others = SessionQuery {
        except: Some(sessions[0].id),
        ..active.clone()
    };
    assert_eq!(
        ids(store.list_sessions(others).await.unwrap()),
        [sessions[2].id]
    );
    // Expired from `expires_at` on, as `Expires::is_expired` says.
    let later = SessionQuery {
        now: sessions[0].expires_at,
        ..active
    };
    assert!(store.list_sessions(later).await.unwrap().is_empty());
    let expired = SessionQuery {
        active: Some(false),
        now: sessions[0].expires_at,
        ..sessions_query(ada)
    };
    assert_eq!(store.list_sessions(expired).await.unwrap().len(), 3);
}

pub async fn a_session_is_found_by_id_active_or_not<S: Store>(store: &S) {
    let (ada, sessions) = sessions_of_ada(store).await;
    let (found, identity) = store
        .find_session_by_id(sessions[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session, sessions[0]);
    assert_eq!(found.revoked_at, None);
    assert!(found.is_active(now()));
    assert_eq!(identity.id, ada);
    let (revoked, _) = store
        .find_session_by_id(sessions[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(now()));
    assert!(!revoked.is_active(now()));
    assert!(
        store
            .find_session_by_id(Uuid::new_v4().into())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn an_identitys_sessions_are_revoked_but_one<S: Store>(store: &S) {
    let (ada, sessions) = sessions_of_ada(store).await;
    let later = now() + TimeDelta::seconds(1);
    assert_eq!(
        store
            .revoke_identity_sessions(
                ada,
                Some(sessions[2].id),
                later,
                event(Action::SessionsRevoked, later)
            )
            .await
            .unwrap(),
        1
    );
    let active = SessionQuery {
        active: Some(true),
        now: later,
        ..sessions_query(ada)
    };
    let left = store.list_sessions(active.clone()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].session.id, sessions[2].id);
    assert_eq!(
        store
            .revoke_identity_sessions(ada, None, later, event(Action::SessionsRevoked, later))
            .await
            .unwrap(),
        1
    );
    assert!(store.list_sessions(active).await.unwrap().is_empty());
    assert_eq!(
        store
            .revoke_identity_sessions(ada, None, later, event(Action::SessionsRevoked, later))
            .await
            .unwrap(),
        0
    );
    // Revoked sessions stay, listed as such.
    let all = store.list_sessions(sessions_query(ada)).await.unwrap();
    assert_eq!(all.len(), 3);
}

pub async fn a_password_is_set_with_its_settings_flow<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let (_, redeemed) = redemption(&issued, now());
    let settings_id = redeemed.settings.id;
    let session_id = redeemed.session.id;
    store.redeem(redeemed).await.unwrap();
    let (_, before) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(before.is_none());

    let hash = PasswordHash::create("correct horse battery", cheap(), &mut rand::rng()).unwrap();
    let at = now() + TimeDelta::minutes(5);
    store
        .set_password(
            PasswordChange {
                flow_id: settings_id,
                identity_id: ada,
                password: hash.clone(),
                at,
                session_id,
                revoke_other_sessions: false,
            },
            event(Action::PasswordChanged, at),
        )
        .await
        .unwrap();
    let (identity, after) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, Some(hash));
    assert_eq!(identity.updated_at, at);
    let flow = store
        .find_settings_flow(settings_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(flow.state, SettingsState::Success);
    assert!(
        store
            .find_by_identifier("bob@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_new_password_ends_the_other_sessions_when_asked<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let bob = stored_identity(store, Some("bob@example.com")).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let (setter_token, redeemed) = redemption(&issued, now());
    let (settings_id, setter_id) = (redeemed.settings.id, redeemed.session.id);
    store.redeem(redeemed).await.unwrap();
    let (other_token, other) = new_session(ada, now() + TimeDelta::seconds(1));
    store
        .insert_session(other, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    let (bobs_token, bobs) = new_session(bob, now() + TimeDelta::seconds(1));
    store
        .insert_session(bobs, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    let change = |revoke_other_sessions| PasswordChange {
        flow_id: settings_id,
        identity_id: ada,
        password: PasswordHash::create("correct horse battery", cheap(), &mut rand::rng()).unwrap(),
        at: now() + TimeDelta::seconds(2),
        session_id: setter_id,
        revoke_other_sessions,
    };
    let later = now() + TimeDelta::seconds(3);
    let active = |token: SessionToken| async move {
        store
            .find_session(&token.hash(), later)
            .await
            .unwrap()
            .is_some()
    };

    store
        .set_password(change(false), event(Action::PasswordChanged, now()))
        .await
        .unwrap();
    assert!(active(other_token.clone()).await);

    store
        .set_password(change(true), event(Action::PasswordChanged, now()))
        .await
        .unwrap();
    assert!(!active(other_token).await, "the other session must end");
    assert!(active(setter_token).await, "the session that set it stays");
    assert!(active(bobs_token).await, "another identity's session stays");
}

pub async fn login_flows_round_trip<S: Store>(store: &S) {
    let flow = LoginFlow {
        id: Uuid::new_v4().into(),
        flow_type: FlowType::Api,
        issued_at: now(),
        expires_at: now() + TimeDelta::hours(1),
        return_to: Some("https://app.example.com/".into()),
    };
    store.insert_login_flow(flow.clone()).await.unwrap();
    assert_eq!(store.find_login_flow(flow.id).await.unwrap(), Some(flow));
    assert_eq!(
        store.find_login_flow(Uuid::new_v4().into()).await.unwrap(),
        None
    );
}

pub async fn expired_flows_and_sessions_are_purged<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let old = issue(ada, now());
    store.store_code_issue(old.clone()).await.unwrap();
    let (_, redeemed) = redemption(&old, now());
    let (settings_id, session) = (redeemed.settings.id, redeemed.session.clone());
    store.redeem(redeemed).await.unwrap();
    let login = LoginFlow {
        id: Uuid::new_v4().into(),
        flow_type: FlowType::Browser,
        issued_at: now(),
        expires_at: now() + TimeDelta::hours(1),
        return_to: None,
    };
    store.insert_login_flow(login.clone()).await.unwrap();
    let fresh = issue(ada, now() + TimeDelta::days(2));
    let mut fresh_no_revoke = fresh.clone();
    fresh_no_revoke.revoke_previous = false;
    store.store_code_issue(fresh_no_revoke).await.unwrap();

    // Nothing has expired before the first expiry.
    store.purge_expired(purge(now())).await.unwrap();
    assert!(store.find_flow(old.flow.id).await.unwrap().is_some());
    assert!(store.find_login_flow(login.id).await.unwrap().is_some());

    store
        .purge_expired(purge(now() + TimeDelta::days(1) + TimeDelta::hours(1)))
        .await
        .unwrap();
    assert_eq!(store.find_flow(old.flow.id).await.unwrap(), None);
    assert_eq!(store.find_login_flow(login.id).await.unwrap(), None);
    assert_eq!(store.find_settings_flow(settings_id).await.unwrap(), None);
    assert!(
        store
            .find_session(&session.token_hash, now())
            .await
            .unwrap()
            .is_none()
    );
    // What has not expired stays, and so does the identity.
    assert!(store.find_flow(fresh.flow.id).await.unwrap().is_some());
    assert!(store.find_identity(ada).await.unwrap().is_some());
}

/// A cost that keeps the contract quick.
fn cheap() -> HashCost {
    HashCost::new(64, 1, 1).unwrap()
}

pub async fn a_password_hash_is_replaced<S: Store>(store: &S) {
    let new = new_identity(Some("ada@example.com"));
    let id = new.identity.id;
    store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let hash = PasswordHash::create("correct horse battery", cheap(), &mut rand::rng()).unwrap();
    store.update_password_hash(id, hash.clone()).await.unwrap();
    let (identity, stored) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, Some(hash));
    assert_eq!(identity, new.identity, "the identity itself is unchanged");
}

fn address(ip: &str) -> AddressGroup {
    ClientAddress::new(ip.parse().unwrap()).group()
}

fn key(name: &str) -> IdentifierKey {
    IdentifierKey::from_stored(format!("{name:0>64}"))
}

/// Two free failures per address, five over all addresses, then a minute's wait.
fn strict() -> LockoutPolicy {
    LockoutPolicy {
        free_per_address: 2,
        free_per_identifier: 5,
        first_delay: TimeDelta::minutes(1),
        max_delay: TimeDelta::minutes(1),
    }
}

/// A failed sign-in on `key` from each of `groups`, under [`strict`].
async fn fail_from<S: Store>(store: &S, key: &IdentifierKey, groups: &[AddressGroup]) {
    for &group in groups {
        store
            .count_attempt(key, group, now(), strict())
            .await
            .unwrap();
    }
}

async fn counts<S: Store>(store: &S, key: &IdentifierKey) -> Vec<(Option<AddressGroup>, u32)> {
    let mut counts: Vec<_> = store
        .failures_of(key)
        .await
        .unwrap()
        .into_iter()
        .map(|(group, failures)| (group, failures.count))
        .collect();
    counts.sort_unstable();
    counts
}

pub async fn failed_sign_ins_are_counted_per_address_and_over_all<S: Store>(store: &S) {
    let (ada, a, b) = (key("ada"), address("192.0.2.1"), address("2001:db8::1"));
    let at = |seconds: i64| now() + TimeDelta::seconds(seconds);
    for second in 0..2 {
        let waited = store.count_attempt(&ada, a, at(second), strict()).await;
        assert_eq!(waited.unwrap(), None);
    }
    // The third from `a` must wait a minute from the second, and is not counted.
    let refused = store.count_attempt(&ada, a, at(30), strict()).await;
    assert_eq!(refused.unwrap(), Some(at(61)));
    assert_eq!(counts(store, &ada).await, vec![(None, 2), (Some(a), 2)]);
    // After the wait it is counted, but no longer over all addresses.
    let waited = store.count_attempt(&ada, a, at(61), strict()).await;
    assert_eq!(waited.unwrap(), None);
    assert_eq!(counts(store, &ada).await, vec![(None, 2), (Some(a), 3)]);
    // Other addresses are counted apart, and so is another identifier.
    store
        .count_attempt(&ada, b, at(62), strict())
        .await
        .unwrap();
    store
        .count_attempt(&key("bob"), a, at(62), strict())
        .await
        .unwrap();
    assert_eq!(
        counts(store, &ada).await,
        vec![(None, 3), (Some(a), 3), (Some(b), 1)]
    );
    let stored = store.failures_of(&ada).await.unwrap();
    let over_all = stored.iter().find(|(group, _)| group.is_none()).unwrap();
    assert_eq!(
        over_all.1,
        Failures {
            count: 3,
            last_at: at(62)
        }
    );
}

pub async fn failed_sign_ins_are_counted_atomically<S: Store>(store: &S) {
    let ada = key("ada");
    let a = address("192.0.2.1");
    // Twelve at once from one address: exactly the two free ones go on.
    let attempts = (0..12).map(|_| store.count_attempt(&ada, a, now(), strict()));
    let outcomes = futures_util::future::join_all(attempts).await;
    let went_on = outcomes
        .into_iter()
        .filter(|outcome| outcome.as_ref().unwrap().is_none())
        .count();
    assert_eq!(went_on, 2);
    assert_eq!(counts(store, &ada).await, vec![(None, 2), (Some(a), 2)]);
    // Twelve at once from twelve addresses: five over all addresses go on.
    let groups: Vec<AddressGroup> = (1..=12)
        .map(|i| address(&format!("198.51.100.{i}")))
        .collect();
    let bob = key("bob");
    let attempts = groups
        .iter()
        .map(|group| store.count_attempt(&bob, *group, now(), strict()));
    let went_on = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .filter(|outcome| outcome.as_ref().unwrap().is_none())
        .count();
    assert_eq!(went_on, 5);
}

pub async fn failed_sign_ins_are_cleared_and_purged<S: Store>(store: &S) {
    let (ada, a, b) = (key("ada"), address("192.0.2.1"), address("192.0.2.2"));
    fail_from(store, &ada, &[a, a, b]).await;
    fail_from(store, &key("bob"), &[a]).await;
    // A success from `a` forgets `a` and the count over all addresses, not `b`.
    store.clear_failures(&ada, Some(a), None).await.unwrap();
    assert_eq!(counts(store, &ada).await, vec![(Some(b), 1)]);
    // A recovery forgets everything of the identifier.
    store.count_attempt(&ada, a, now(), strict()).await.unwrap();
    store.clear_failures(&ada, None, None).await.unwrap();
    assert!(counts(store, &ada).await.is_empty());
    // Old counts go with the housekeeping.
    store.purge_expired(purge(now())).await.unwrap();
    assert_eq!(counts(store, &key("bob")).await.len(), 2);
    store
        .purge_expired(purge(now() + TimeDelta::milliseconds(1)))
        .await
        .unwrap();
    assert!(counts(store, &key("bob")).await.is_empty());
}

/// A listing skips a row it cannot read: identities 1 to 5 (ids in that order), of which 2
/// and 5 are written by `write_unreadable`, which knows how to put a row the service cannot
/// read into its backend; the others through the store. Pages stay full around them. Not in
/// [`store_contract!`]: the in-memory store has no such rows.
pub async fn listings_skip_rows_that_cannot_be_read<S: Store>(
    store: &S,
    write_unreadable: impl Fn(IdentityId),
) {
    let mut readable = Vec::new();
    for n in 1..=5_u128 {
        let id = IdentityId::from_uuid(Uuid::from_u128(n));
        if [2, 5].contains(&n) {
            write_unreadable(id);
        } else {
            let new = IdentityDraft::default()
                .validate(&IdentitySchemas::built_in(), id, None, now())
                .unwrap();
            store
                .insert_identity(new, event(Action::IdentityCreated, now()))
                .await
                .unwrap();
            readable.push(id);
        }
    }
    let page = |after: Option<u128>, limit| {
        store.list_identities(IdentityQuery {
            after: after.map(|n| IdentityId::from_uuid(Uuid::from_u128(n))),
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
    assert!(
        store
            .find_identity(IdentityId::from_uuid(Uuid::from_u128(2)))
            .await
            .is_err()
    );
}

pub async fn the_store_is_ready<S: Store>(store: &S) {
    store.check_ready().await.unwrap();
}

/// `current` with new traits (an email or none), state and metadata, at `at`.
fn replacement(current: &NewIdentity, email: Option<&str>, at: Timestamp) -> NewIdentity {
    IdentityDraft {
        state: Some("inactive".into()),
        traits: Some(email.map_or_else(|| json!({"name": "Ada"}), |e| json!({ "email": e }))),
        metadata_public: Some(json!({"plan": "pro"})),
        metadata_admin: Some(json!(["note", 1.5, {"deep": [null, true]}])),
        ..IdentityDraft::default()
    }
    .validate_replacing(&IdentitySchemas::built_in(), &current.identity, None, at)
    .unwrap()
}

pub async fn identity_metadata_round_trips<S: Store>(store: &S) {
    let mut new = new_identity(Some("ada@example.com"));
    new.identity.metadata_public = Some(json!({"plan": "free", "n": -1.25e-7}));
    new.identity.metadata_admin = Some(json!("a string is a document too"));
    store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let found = store.find_identity(new.identity.id).await.unwrap();
    assert_eq!(found, Some(new.identity.clone()));
    let (by_identifier, _) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_identifier, new.identity);
}

pub async fn an_identity_is_replaced_whole<S: Store>(store: &S) {
    let mut new = new_identity(Some("ada@example.com"));
    new.password =
        Some(PasswordHash::create("correct horse battery", cheap(), &mut rand::rng()).unwrap());
    store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let later = now() + TimeDelta::seconds(30);

    let replaced = replacement(&new, Some("grace@example.com"), later);
    let stored = store
        .replace_identity(replaced.clone(), event(Action::IdentityUpdated, later))
        .await
        .unwrap();
    assert_eq!(stored, replaced.identity);
    assert_eq!(stored.created_at, now());
    assert_eq!(stored.updated_at, later);
    assert_eq!(
        store.find_identity(new.identity.id).await.unwrap(),
        Some(stored)
    );
    // The identifier follows the traits; the password stays when none is given.
    assert!(
        store
            .find_by_identifier("ada@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let (_, password) = store
        .find_by_identifier("grace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(password, new.password);

    // Metadata goes when absent; a new password replaces the old one.
    let hash = PasswordHash::create("another good password", cheap(), &mut rand::rng()).unwrap();
    let mut bare = new.clone();
    bare.identity.updated_at = later;
    bare.password = Some(hash.clone());
    let stored = store
        .replace_identity(bare, event(Action::IdentityUpdated, later))
        .await
        .unwrap();
    assert_eq!(
        (stored.metadata_public, stored.metadata_admin),
        (None, None)
    );
    let (_, password) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(password, Some(hash));

    let unknown = new_identity(None);
    assert!(matches!(
        store
            .replace_identity(unknown, event(Action::IdentityUpdated, now()))
            .await,
        Err(ReplaceIdentityError::NotFound)
    ));
}

pub async fn a_replacement_onto_a_taken_identifier_changes_nothing<S: Store>(store: &S) {
    stored_identity(store, Some("ada@example.com")).await;
    let grace = new_identity(Some("grace@example.com"));
    store
        .insert_identity(grace.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let clash = replacement(
        &grace,
        Some("ada@example.com"),
        now() + TimeDelta::seconds(1),
    );
    assert!(matches!(
        store
            .replace_identity(clash, event(Action::IdentityUpdated, now()))
            .await,
        Err(ReplaceIdentityError::DuplicateIdentifier)
    ));
    assert_eq!(
        store.find_identity(grace.identity.id).await.unwrap(),
        Some(grace.identity)
    );
}

pub async fn concurrent_replacements_keep_the_identifier_with_its_traits<S: Store>(store: &S) {
    let new = new_identity(Some("race@example.com"));
    store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let emails: Vec<String> = (0..8).map(|n| format!("race{n}@example.com")).collect();
    let writes = emails.iter().map(|email| {
        store.replace_identity(
            replacement(&new, Some(email), now()),
            event(Action::IdentityUpdated, now()),
        )
    });
    for result in futures_util::future::join_all(writes).await {
        result.unwrap();
    }
    let stored = store.find_identity(new.identity.id).await.unwrap().unwrap();
    let winner = stored.identifier.unwrap();
    for email in emails
        .iter()
        .chain(std::iter::once(&"race@example.com".to_owned()))
    {
        let found = store.find_by_identifier(email).await.unwrap();
        assert_eq!(found.is_some(), *email == winner, "{email}");
    }
}

pub async fn addresses_round_trip_on_every_read<S: Store>(store: &S) {
    let mut new = new_identity(Some("Ada@Example.com"));
    assert_eq!(new.identity.identifier.as_deref(), Some("ada@example.com"));
    assert_eq!(new.identity.addresses.recovery.len(), 1);
    new.identity.addresses.verifiable = vec![
        VerifiableAddress {
            via: Via::Email,
            value: "ada@example.com".into(),
            verified_at: Some(now()),
        },
        VerifiableAddress {
            via: Via::Sms,
            value: "+15550100".into(),
            verified_at: None,
        },
    ];
    store
        .insert_identity(new.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let expected = new.identity.clone();
    assert_eq!(
        store.find_identity(expected.id).await.unwrap(),
        Some(expected.clone())
    );
    let (found, _) = store
        .find_by_identifier("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, expected);
    let (token, session) = new_session(expected.id, now());
    store
        .insert_session(session, false, event(Action::SignInSucceeded, now()))
        .await
        .unwrap();
    let (_, identity) = store
        .find_session(&token.hash(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(identity, expected);
    let issued = issue(expected.id, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let submission = store
        .begin_submission(issued.flow.id, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission.identity, expected);
    assert!(submission.flow.verifies_addresses);
    // A name as identifier, and no addresses at all.
    let mut named = new_identity(None);
    named.identity.identifier = Some("ada.l".into());
    store
        .insert_identity(named.clone(), event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let (found, _) = store.find_by_identifier("ada.l").await.unwrap().unwrap();
    assert_eq!(found, named.identity);
}

pub async fn a_redemption_proves_addresses_of_an_unchanged_identity<S: Store>(store: &S) {
    let new = new_identity(Some("ada@example.com"));
    let ada = store
        .insert_identity(new, event(Action::IdentityCreated, now()))
        .await
        .unwrap();
    let proven = ada.addresses.verified_by_recovery(now()).unwrap();
    let issued = issue(ada.id, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let (_, mut redeem) = redemption(&issued, now());
    redeem.proven_addresses = Some(ProvenAddresses {
        identity_id: ada.id,
        unchanged_since: ada.updated_at,
        verifiable: proven.clone(),
    });
    store.redeem(redeem).await.unwrap();
    let stored = store.find_identity(ada.id).await.unwrap().unwrap();
    assert_eq!(stored.addresses.verifiable, proven);
    assert!(stored.addresses.verifiable[0].is_verified());

    // Changed since it was read: the redemption goes through, the proof is not written.
    let other = store
        .insert_identity(
            new_identity(Some("grace@example.com")),
            event(Action::IdentityCreated, now()),
        )
        .await
        .unwrap();
    let issued = issue(other.id, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let (_, mut redeem) = redemption(&issued, now());
    redeem.proven_addresses = Some(ProvenAddresses {
        identity_id: other.id,
        unchanged_since: other.updated_at - TimeDelta::milliseconds(1),
        verifiable: other.addresses.verified_by_recovery(now()).unwrap(),
    });
    store.redeem(redeem).await.unwrap();
    let stored = store.find_identity(other.id).await.unwrap().unwrap();
    assert_eq!(stored.addresses, other.addresses);
    assert!(!stored.addresses.verifiable[0].is_verified());
}

pub async fn revoking_takes_back_live_codes_and_the_sessions_they_opened<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let bob = stored_identity(store, Some("bob@example.com")).await;
    // Redeemed: its session is live.
    let redeemed = issue(ada, now());
    store.store_code_issue(redeemed.clone()).await.unwrap();
    let (recovered, redeem) = redemption(&redeemed, now());
    store.redeem(redeem).await.unwrap();
    // Two live codes, one expired, and a session signed in with a password.
    let mut live = Vec::new();
    for offset in 1..=2 {
        let mut issued = issue(ada, now() + TimeDelta::seconds(offset));
        issued.revoke_previous = false;
        store.store_code_issue(issued.clone()).await.unwrap();
        live.push(issued);
    }
    let mut expired = issue(ada, now() - TimeDelta::hours(2));
    expired.revoke_previous = false;
    store.store_code_issue(expired).await.unwrap();
    let (signed_in, mut password_session) = new_session(ada, now());
    password_session.method = AuthMethod::Password;
    store
        .insert_session(
            password_session,
            false,
            event(Action::SignInSucceeded, now()),
        )
        .await
        .unwrap();
    let bobs = issue(bob, now());
    store.store_code_issue(bobs.clone()).await.unwrap();

    let at = now() + TimeDelta::seconds(5);
    let revoked = store
        .revoke_codes(ada, at, event(Action::RecoveryCodesRevoked, at))
        .await
        .unwrap();
    assert_eq!(
        revoked,
        Some(Revoked {
            codes: 2,
            sessions: 1
        })
    );
    for issued in &live {
        assert!(live_codes(store, issued.flow.id, at).await.is_empty());
        let (_, late) = redemption(issued, at);
        assert!(matches!(
            store.redeem(late).await,
            Err(RedeemError::CodeAlreadyUsed)
        ));
    }
    assert!(
        store
            .find_session(&recovered.hash(), at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&signed_in.hash(), at)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(live_codes(store, bobs.flow.id, at).await, [bobs.code]);
    // Again: nothing left to revoke; an unknown identity is not found.
    let again = store
        .revoke_codes(ada, at, event(Action::RecoveryCodesRevoked, at))
        .await
        .unwrap();
    assert_eq!(again, Some(Revoked::default()));
    assert_eq!(
        store
            .revoke_codes(
                Uuid::new_v4().into(),
                at,
                event(Action::RecoveryCodesRevoked, at)
            )
            .await
            .unwrap(),
        None
    );
}

/// An event of the admin key `support` at `at`, with every optional field set.
fn full_event(action: Action, at: Timestamp, identity_id: IdentityId) -> Event {
    Origin {
        actor: Actor::AdminKey("support".into()),
        client_address: Some(ClientAddress::new("2001:db8::7".parse().unwrap())),
        request_id: RequestId::parse("req-0042"),
    }
    .event(AuditEventId::new_v7(at, &mut rand::rng()), action, at)
    .identity(identity_id)
}

async fn events_of<S: Store>(store: &S, identity_id: IdentityId) -> Vec<Event> {
    store
        .audit_events(AuditQuery {
            identity_id: Some(identity_id),
            after: None,
            limit: 100,
        })
        .await
        .unwrap()
}

pub async fn audit_events_round_trip_and_outlive_their_identity<S: Store>(store: &S) {
    let new = new_identity(Some("ada@example.com"));
    let ada = new.identity.id;
    let at = |millis| now() + TimeDelta::milliseconds(millis);
    let created = full_event(Action::IdentityCreated, at(0), ada);
    store.insert_identity(new, created.clone()).await.unwrap();
    let mut issued = issue(ada, at(1));
    issued.audit = full_event(Action::RecoveryCodeIssued, at(1), ada).flow(issued.flow.id);
    store.store_code_issue(issued.clone()).await.unwrap();
    let refused = Origin {
        actor: Actor::SelfService,
        client_address: Some(ClientAddress::new("203.0.113.9".parse().unwrap())),
        request_id: None,
    }
    .event(
        AuditEventId::new_v7(at(2), &mut rand::rng()),
        Action::RecoveryRefused,
        at(2),
    )
    .identity(ada)
    .flow(issued.flow.id)
    .reason(Reason::WrongCode);
    store.record(refused.clone()).await.unwrap();
    let (_, mut redeemed) = redemption(&issued, at(3));
    redeemed.audit = full_event(Action::RecoverySucceeded, at(3), ada).flow(issued.flow.id);
    store.redeem(redeemed.clone()).await.unwrap();
    let deleted = full_event(Action::IdentityDeleted, at(4), ada);
    assert!(store.delete_identity(ada, deleted.clone()).await.unwrap());

    // Written with each change, read back whole, and kept after the identity is gone.
    assert_eq!(
        events_of(store, ada).await,
        [created, issued.audit, refused, redeemed.audit, deleted]
    );
    let other = stored_identity(store, None).await;
    assert_eq!(events_of(store, other).await.len(), 1);
}

pub async fn a_change_that_is_not_made_leaves_no_event<S: Store>(store: &S) {
    let ada = stored_identity(store, Some("ada@example.com")).await;
    let before = events_of(store, ada).await;
    // A taken identifier, an identity that is not there, a code already used.
    let clash = new_identity(Some("ada@example.com"));
    let clash_id = clash.identity.id;
    let clash_event = full_event(Action::IdentityCreated, now(), clash_id);
    assert!(store.insert_identity(clash, clash_event).await.is_err());
    let ghost: IdentityId = Uuid::new_v4().into();
    assert!(matches!(
        store.store_code_issue(issue(ghost, now())).await,
        Err(StoreCodeIssueError::IdentityNotFound)
    ));
    let gone = full_event(Action::IdentityDeleted, now(), ghost);
    assert!(!store.delete_identity(ghost, gone).await.unwrap());
    let revoked = full_event(Action::RecoveryCodesRevoked, now(), ghost);
    assert_eq!(
        store.revoke_codes(ghost, now(), revoked).await.unwrap(),
        None
    );
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    store.redeem(redemption(&issued, now()).1).await.unwrap();
    let (_, again) = redemption(&issued, now() + TimeDelta::seconds(1));
    let again_id = again.audit.id;
    assert!(matches!(
        store.redeem(again).await,
        Err(RedeemError::CodeAlreadyUsed)
    ));

    assert!(events_of(store, ghost).await.is_empty());
    assert!(events_of(store, clash_id).await.is_empty());
    let after = events_of(store, ada).await;
    assert_eq!(after.len(), before.len() + 2, "{after:?}");
    assert!(after.iter().all(|event| event.id != again_id));
}

pub async fn audit_events_are_listed_in_pages_and_purged_by_age<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let days = |n| now() + TimeDelta::days(n);
    for n in 1..=5 {
        store
            .record(full_event(Action::LockoutCleared, days(n), ada))
            .await
            .unwrap();
    }
    let all = events_of(store, ada).await;
    assert_eq!(all.len(), 6);
    let page = |after, limit| {
        store.audit_events(AuditQuery {
            identity_id: None,
            after,
            limit,
        })
    };
    let first = page(None, 4).await.unwrap();
    assert_eq!(first, all[..4]);
    let rest = page(first.last().map(|event| event.id), 4).await.unwrap();
    assert_eq!(rest, all[4..]);

    store
        .purge_expired(Purge {
            expired_before: now(),
            audit_before: days(3),
        })
        .await
        .unwrap();
    assert_eq!(events_of(store, ada).await, all[3..]);
}

/// Issues all at once: the store may write them in batches, as the requests of a busy server.
async fn issue_all<S: Store>(
    store: &S,
    issues: &[CodeIssue],
) -> Vec<Result<(), StoreCodeIssueError>> {
    futures_util::future::join_all(issues.iter().map(|i| store.store_code_issue(i.clone()))).await
}

/// How many of the flows of `issues` still have a live code.
async fn live_among<S: Store>(store: &S, issues: &[&CodeIssue]) -> usize {
    let mut live = 0;
    for issued in issues {
        live += live_codes(store, issued.flow.id, now()).await.len();
    }
    live
}

pub async fn issues_written_together_answer_each_caller<S: Store>(store: &S) {
    let known = [
        stored_identity(store, None).await,
        stored_identity(store, None).await,
        stored_identity(store, None).await,
    ];
    let ghost: IdentityId = Uuid::new_v4().into();
    // Interleaved: each identity's issues, and the unknown identity's, spread over the batch.
    let issues: Vec<CodeIssue> = (0..4)
        .flat_map(|n| {
            let at = now() + TimeDelta::milliseconds(n);
            known
                .iter()
                .map(move |id| issue(*id, at))
                .chain([issue(ghost, at)])
        })
        .collect();
    let results = issue_all(store, &issues).await;
    for (issued, result) in issues.iter().zip(&results) {
        if issued.flow.identity_id == ghost {
            assert!(
                matches!(result, Err(StoreCodeIssueError::IdentityNotFound)),
                "{result:?}"
            );
            assert_eq!(store.find_flow(issued.flow.id).await.unwrap(), None);
        } else {
            assert!(result.is_ok(), "{result:?}");
            assert!(store.find_flow(issued.flow.id).await.unwrap().is_some());
        }
    }
    for id in known {
        let own: Vec<&CodeIssue> = issues.iter().filter(|i| i.flow.identity_id == id).collect();
        assert_eq!(live_among(store, &own).await, 1, "identity {id}");
        let issued = events_of(store, id)
            .await
            .iter()
            .filter(|event| event.action == Action::RecoveryCodeIssued)
            .count();
        assert_eq!(issued, 4);
    }
    assert!(events_of(store, ghost).await.is_empty());
}

pub async fn a_failing_write_answers_each_of_its_callers_as_alone<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let grace = stored_identity(store, None).await;
    let first = issue(ada, now());
    store.store_code_issue(first.clone()).await.unwrap();
    // The code id collides with the first one's: whatever is written with it fails with it.
    let mut clash = issue(ada, now() + TimeDelta::seconds(1));
    clash.code.id = first.code.id;
    let mut issues: Vec<CodeIssue> = (0..6)
        .map(|n| issue(grace, now() + TimeDelta::milliseconds(n)))
        .collect();
    issues.insert(3, clash.clone());
    let results = issue_all(store, &issues).await;
    for (issued, result) in issues.iter().zip(&results) {
        let flow = store.find_flow(issued.flow.id).await.unwrap();
        match result {
            Ok(()) => assert!(flow.is_some() && issued.flow.id != clash.flow.id),
            Err(StoreCodeIssueError::Store(_)) => assert_eq!(flow, None),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(matches!(results[3], Err(StoreCodeIssueError::Store(_))));
    // Nothing of the failed batches was kept: the first code lives on, grace has at most one.
    assert_eq!(live_codes(store, first.flow.id, now()).await, [first.code]);
    let graces: Vec<&CodeIssue> = issues
        .iter()
        .filter(|i| i.flow.identity_id == grace)
        .collect();
    assert!(live_among(store, &graces).await <= 1);
    // Each caller can try again, alone.
    for (issued, result) in issues.iter().zip(&results) {
        if result.is_err() && issued.flow.id != clash.flow.id {
            store.store_code_issue(issued.clone()).await.unwrap();
        }
    }
    assert_eq!(live_among(store, &graces).await, 1);
}

pub async fn racing_issues_keep_one_live_code_per_identity<S: Store>(store: &S) {
    let mut identities = Vec::new();
    for _ in 0..4 {
        identities.push(stored_identity(store, None).await);
    }
    let issues: Vec<CodeIssue> = (0..10)
        .flat_map(|n| {
            let at = now() + TimeDelta::milliseconds(n);
            identities
                .iter()
                .map(move |id| issue(*id, at))
                .collect::<Vec<_>>()
        })
        .collect();
    // Two rounds at once: batches in flight together, on different connections.
    let (left, right) = issues.split_at(issues.len() / 2);
    let (a, b) = futures_util::future::join(issue_all(store, left), issue_all(store, right)).await;
    assert!(a.iter().chain(&b).all(Result::is_ok), "{a:?} {b:?}");
    for id in identities {
        let own: Vec<&CodeIssue> = issues.iter().filter(|i| i.flow.identity_id == id).collect();
        assert_eq!(live_among(store, &own).await, 1, "identity {id}");
    }
}

pub async fn a_redemption_forgets_the_identifiers_failed_sign_ins<S: Store>(store: &S) {
    let ada = stored_identity(store, None).await;
    let (ada_key, a, b) = (key("ada"), address("192.0.2.1"), address("192.0.2.2"));
    fail_from(store, &ada_key, &[a, b, b]).await;
    fail_from(store, &key("bob"), &[a]).await;
    let issued = issue(ada, now());
    store.store_code_issue(issued.clone()).await.unwrap();
    let (_, mut redeemed) = redemption(&issued, now());
    redeemed.clear_lockout = Some(ada_key.clone());
    store.redeem(redeemed).await.unwrap();
    assert!(counts(store, &ada_key).await.is_empty());
    assert_eq!(counts(store, &key("bob")).await.len(), 2);
}

/// Redemptions of several flows at once, one of them failing (its session id is another's, so
/// whichever comes second fails): each caller gets its own outcome, the failure undoes none of
/// the others, and the failed one wrote nothing.
pub async fn redemptions_written_together_answer_each_caller<S: Store>(store: &S) {
    let mut issues = Vec::new();
    let mut attempts = Vec::new();
    for _ in 0..8 {
        let issued = issue(stored_identity(store, None).await, now());
        store.store_code_issue(issued.clone()).await.unwrap();
        attempts.push(redemption(&issued, now()));
        issues.push(issued);
    }
    let clash = attempts[2].1.session.id;
    attempts[5].1.session.id = clash;
    attempts[5].1.settings.session_id = clash;
    let results = futures_util::future::join_all(
        attempts
            .iter()
            .map(|(_, redemption)| store.redeem(redemption.clone())),
    )
    .await;
    let failed: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].is_err())
        .collect();
    assert!(failed == [2] || failed == [5], "{results:?}");
    assert!(
        matches!(results[failed[0]], Err(RedeemError::Store(_))),
        "{results:?}"
    );
    for (i, ((token, redemption), issued)) in attempts.iter().zip(&issues).enumerate() {
        let flow = store.find_flow(issued.flow.id).await.unwrap().unwrap();
        let session = store.find_session(&token.hash(), now()).await.unwrap();
        let settings = store
            .find_settings_flow(redemption.settings.id)
            .await
            .unwrap();
        if i == failed[0] {
            assert_eq!(flow.state, FlowState::SentEmail);
            assert_eq!(
                live_codes(store, issued.flow.id, now()).await,
                std::slice::from_ref(&issued.code)
            );
            assert_eq!((session, settings), (None, None));
        } else {
            assert_eq!(flow.state, FlowState::PassedChallenge);
            assert!(live_codes(store, issued.flow.id, now()).await.is_empty());
            assert_eq!(
                session.map(|(found, _)| found),
                Some(redemption.session.clone())
            );
            assert_eq!(settings, Some(redemption.settings.clone()));
        }
    }
}
