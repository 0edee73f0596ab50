//! The stored audit trail, `GET /admin/audit-events`: who issued a code and when it was used,
//! refusals and sign-ins, events that outlive their identity, paging, and no secrets.

use serde_json::json;

use super::*;

const PASSWORD: &str = "correct horse battery";

async fn issue(app: &TestApp, identity: Uuid) {
    let res = app
        .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// The trail as listed at `path` with `query`, checked to be a page.
async fn trail(app: &TestApp, path: &str, query: &str) -> (Vec<Value>, String) {
    let res = app
        .admin_client
        .get(format!("{}{path}{query}", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    (res.json().await.unwrap(), link)
}

fn actions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect()
}

on_every_store! {
    async fn the_trail_shows_who_issued_a_code_and_when_it_was_used(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let issued: Value = app
            .admin_client
            .post(format!("{}/iam/recovery/code", app.admin))
            .header("x-request-id", "support-ticket-4711")
            .json(&json!({"identity_id": identity, "flow_type": "api"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = issued["recovery_code"].as_str().unwrap().to_owned();
        let flow = issued["recovery_link"].as_str().unwrap().rsplit_once("flow=").unwrap().1.to_owned();
        let submit = async |code: &str| {
            app.client
                .post(format!("{}/self-service/recovery?flow={flow}", app.public))
                .header("x-forwarded-for", "198.51.100.7")
                .json(&json!({"method": "code", "code": code}))
                .send()
                .await
                .unwrap()
        };
        assert_eq!(submit(&wrong(&code)).await.status(), StatusCode::OK);
        let redeemed: Value = submit(&code).await.json().await.unwrap();
        assert_eq!(redeemed["state"], "passed_challenge", "{redeemed}");

        let (events, _) = trail(&app, "/admin/audit-events", &format!("?identity_id={identity}")).await;
        assert_eq!(
            actions(&events),
            ["identity.created", "recovery_code.issued", "recovery.refused", "recovery.succeeded"],
            "{events:#?}"
        );
        let (created, issue, refusal, redemption) = (&events[0], &events[1], &events[2], &events[3]);
        // Who issued it, from where, in which request; who used it, and when.
        assert_eq!(created["actor"], ADMIN_KEY_NAME);
        assert_eq!(issue["actor"], ADMIN_KEY_NAME);
        assert_eq!(issue["request_id"], "support-ticket-4711");
        assert_eq!(issue["identity_id"], identity.to_string());
        assert_eq!(issue["flow_id"], flow);
        assert_eq!(issue["client_address"], "127.0.0.1");
        assert_eq!(refusal["actor"], "self-service");
        assert_eq!(refusal["reason"], "wrong_code");
        assert_eq!(redemption["actor"], "self-service");
        assert_eq!(redemption["flow_id"], flow);
        assert!(redemption.get("reason").is_none(), "{redemption}");
        assert!(redemption["request_id"].as_str().is_some_and(|id| !id.is_empty()));
        let at = |event: &Value| {
            chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap()).unwrap()
        };
        assert!(at(issue) <= at(redemption));
        for event in &events {
            assert_eq!(event.as_object().unwrap().keys().filter(|k| k.contains("code")).count(), 0);
        }
        // Never a secret: the code is in no event, stored or shown.
        assert!(!serde_json::to_string(&events).unwrap().contains(&code));
        assert!(!app.database_contains(&code), "the code is stored in clear");
    }

    async fn events_outlive_their_identity_and_are_paged(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let other = app.create_identity("grace@example.com").await;
        for _ in 0..3 {
            issue(&app, identity).await;
        }
        let res = app
            .admin_client
            .delete(format!("{}/admin/recovery/codes?identity_id={identity}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app
            .admin_client
            .delete(format!("{}/admin/identities/{identity}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let query = format!("?identity_id={identity}");
        let (all, _) = trail(&app, "/iam/audit-events", &query).await;
        assert_eq!(
            actions(&all),
            [
                "identity.created",
                "recovery_code.issued",
                "recovery_code.issued",
                "recovery_code.issued",
                "recovery_codes.revoked",
                "identity.deleted",
            ]
        );
        // Page by page through the Link header, as Kratos pages.
        let mut paged = Vec::new();
        let mut next = format!("{}/admin/audit-events{query}&page_size=4", app.admin);
        loop {
            let res = app.admin_client.get(&next).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let link = res.headers()["link"].to_str().unwrap().to_owned();
            assert!(link.contains(&format!("identity_id={identity}")), "{link}");
            let page: Vec<Value> = res.json().await.unwrap();
            assert!(page.len() <= 4);
            paged.extend(page);
            let Some(url) = link
                .split(',')
                .find(|part| part.contains("rel=\"next\""))
                .and_then(|part| part.split(['<', '>']).nth(1))
            else {
                break;
            };
            next = url.to_owned();
        }
        assert_eq!(paged, all);
        // Unfiltered: everyone's events, the other identity's too.
        let (everything, _) = trail(&app, "/admin/audit-events", "").await;
        assert_eq!(everything.len(), all.len() + 1);
        assert!(everything.iter().any(|event| event["identity_id"] == other.to_string()));

        for query in ["?page_size=0", "?page_size=1001", "?page_token=nope", "?identity_id=ada"] {
            let res = app
                .admin_client
                .get(format!("{}/admin/audit-events{query}", app.admin))
                .send()
                .await
                .unwrap();
            assert_envelope(res, StatusCode::BAD_REQUEST).await;
        }
        let res = app
            .client
            .get(format!("{}/admin/audit-events", app.admin))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::UNAUTHORIZED).await;
    }

    async fn sign_ins_and_session_revocations_are_on_the_trail(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .post_json(
                "/admin/identities",
                &json!({"traits": {"email": "ada@example.com"},
                        "credentials": {"password": {"config": {"password": PASSWORD}}}}),
            )
            .await;
        let identity: Value = res.json().await.unwrap();
        let identity = identity["id"].as_str().unwrap().to_owned();
        let refused = app.sign_in_through_flow("ada@example.com", "not-the-password", None).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let signed_in = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        let res = app
            .admin_client
            .delete(format!("{}/admin/identities/{identity}/sessions", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app
            .admin_client
            .delete(format!("{}/admin/identities/{identity}/lockout", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let (events, _) = trail(&app, "/admin/audit-events", &format!("?identity_id={identity}")).await;
        assert_eq!(
            actions(&events),
            ["identity.created", "sign_in.failed", "sign_in.succeeded", "sessions.revoked", "lockout.cleared"],
            "{events:#?}"
        );
        assert_eq!(events[1]["reason"], "wrong_credentials");
        assert_eq!(events[1]["actor"], "self-service");
        assert_eq!(events[2]["actor"], "self-service");
        assert!(events[2]["flow_id"].is_string());
        assert_eq!(events[3]["actor"], ADMIN_KEY_NAME);
        assert!(!serde_json::to_string(&events).unwrap().contains(PASSWORD));
        assert!(!app.database_contains(PASSWORD));
    }
}

#[tokio::test]
async fn without_keys_the_actor_is_unauthenticated() {
    let app = spawn_app_with(
        StoreKind::Sqlite,
        Options {
            access: AdminAccess::default(),
            ..Options::default()
        },
    )
    .await;
    let identity = app.create_identity("ada@example.com").await;
    let (events, _) = trail(
        &app,
        "/admin/audit-events",
        &format!("?identity_id={identity}"),
    )
    .await;
    assert_eq!(actions(&events), ["identity.created"]);
    assert_eq!(events[0]["actor"], "unauthenticated");
}
