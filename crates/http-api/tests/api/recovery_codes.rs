use chrono::{DateTime, TimeDelta, Utc};
use domain::code::CodeLength;
use domain::recovery::FlowType;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Options, assert_envelope, spawn_app, spawn_app_with};

const PATHS: [&str; 2] = ["/iam/recovery/code", "/admin/recovery/code"];

fn flow_id(link: &str) -> Uuid {
    Uuid::parse_str(link.rsplit_once("flow=").unwrap().1).unwrap()
}

on_every_store! {
    async fn issues_a_code_at_both_paths_exactly_as_the_seed_describes(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        for path in PATHS {
            let before = Utc::now();
            let res = app
                .post_json(
                    path,
                    &json!({"identity_id": identity, "expires_in": "2h30m"}),
                )
                .await;
            let after = Utc::now();
            assert_eq!(res.status(), StatusCode::CREATED, "{path}");
            assert_eq!(res.headers()["cache-control"], "no-store");
            assert!(res.headers().contains_key("x-request-id"));
            let body: Value = res.json().await.unwrap();
            assert_eq!(body.as_object().unwrap().len(), 3, "{body}");

            let code = body["recovery_code"].as_str().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));

            let link = body["recovery_link"].as_str().unwrap();
            let flow = flow_id(link);
            assert_eq!(link, format!("http://127.0.0.1:4433/recovery?flow={flow}"));
            assert!(!link.contains(code));

            let expires_at = body["expires_at"].as_str().unwrap();
            assert_eq!(
                expires_at.len(),
                "2026-11-25T10:30:00.123Z".len(),
                "{expires_at}"
            );
            assert!(expires_at.ends_with('Z'));
            let expires_at: DateTime<Utc> = expires_at.parse().unwrap();
            let lifespan = TimeDelta::minutes(150);
            assert!(expires_at >= before + lifespan - TimeDelta::milliseconds(1));
            assert!(expires_at <= after + lifespan + TimeDelta::milliseconds(1));

            let stored = app.flow(flow).await;
            assert_eq!(stored.expires_at, expires_at);
            assert_eq!(stored.flow_type, FlowType::Browser);
            // The flow's public URL, not the internal admin request that issued it.
            assert_eq!(
                stored.request_url,
                format!("{}/self-service/recovery?flow={flow}", app.public)
            );
            let codes = app.live_codes(flow).await;
            assert_eq!(codes.len(), 1);
            assert_eq!(codes[0].expires_at, expires_at);
        }
    }

    async fn the_plain_code_is_nowhere_in_the_database(kind) {
        let mut options = Options::default();
        options.recovery.code_length = CodeLength::new(12).unwrap();
        let app = spawn_app_with(kind, options).await;
        let identity = app.create_identity("ada@example.com").await;
        let body: Value = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
            .await
            .json()
            .await
            .unwrap();
        let code = body["recovery_code"].as_str().unwrap();
        assert_eq!(code.len(), 12);
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_codes"), 1);
        // The search works: the identity's email is found where the code must not be.
        assert!(app.database_contains("ada@example.com"));
        assert!(!app.database_contains(code), "the code is stored in clear");
    }

    async fn omitted_null_or_empty_expiry_uses_the_default_lifespan(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        for body in [
            json!({"identity_id": identity}),
            json!({"identity_id": identity, "expires_in": null}),
            json!({"identity_id": identity, "expires_in": ""}),
        ] {
            let before = Utc::now();
            let res = app.post_json("/iam/recovery/code", &body).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{body}");
            let body: Value = res.json().await.unwrap();
            let expires_at: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
            let lifespan = expires_at - before;
            assert!(lifespan >= TimeDelta::minutes(60) - TimeDelta::milliseconds(1));
            assert!(lifespan <= TimeDelta::minutes(60) + TimeDelta::seconds(5));
        }
    }

    async fn api_flows_and_unknown_fields(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let res = app
            .post_json(
                "/admin/recovery/code",
                &json!({"identity_id": identity, "flow_type": "api", "unknown": {"x": 1}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        let flow = app.flow(flow_id(body["recovery_link"].as_str().unwrap())).await;
        assert_eq!(flow.flow_type, FlowType::Api);

        let res = app
            .admin_client
            .post(format!("{}/iam/recovery/code", app.admin))
            .header("content-type", "application/json; charset=utf-8")
            .body(format!("\n  {{\"identity_id\": \"{identity}\"}}\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    async fn every_bad_body_is_a_400_envelope_and_writes_nothing(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let id = identity.to_string();
        let cases: Vec<(&str, Option<&str>, String)> = vec![
            (
                "no content type",
                None,
                format!(r#"{{"identity_id":"{id}"}}"#),
            ),
            (
                "text content type",
                Some("text/plain"),
                format!(r#"{{"identity_id":"{id}"}}"#),
            ),
            (
                "form content type",
                Some("application/x-www-form-urlencoded"),
                format!("identity_id={id}"),
            ),
            ("empty body", Some("application/json"), String::new()),
            (
                "malformed",
                Some("application/json"),
                format!(r#"{{"identity_id":"{id}""#),
            ),
            (
                "not an object",
                Some("application/json"),
                format!(r#"["{id}"]"#),
            ),
            ("string body", Some("application/json"), r#""hello""#.into()),
            (
                "missing id",
                Some("application/json"),
                r#"{"expires_in":"1h"}"#.into(),
            ),
            (
                "null id",
                Some("application/json"),
                r#"{"identity_id":null}"#.into(),
            ),
            (
                "numeric id",
                Some("application/json"),
                r#"{"identity_id":42}"#.into(),
            ),
            (
                "bad uuid",
                Some("application/json"),
                r#"{"identity_id":"not-a-uuid"}"#.into(),
            ),
            (
                "numeric expiry",
                Some("application/json"),
                format!(r#"{{"identity_id":"{id}","expires_in":3600}}"#),
            ),
            (
                "bad flow type",
                Some("application/json"),
                format!(r#"{{"identity_id":"{id}","flow_type":"mobile"}}"#),
            ),
        ];
        for (name, content_type, body) in cases {
            let mut req = app
                .admin_client
                .post(format!("{}/iam/recovery/code", app.admin))
                .body(body);
            if let Some(content_type) = content_type {
                req = req.header("content-type", content_type);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name}");
            let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            let message = error["message"].as_str().unwrap();
            assert!(
                message.starts_with("Unable to decode JSON payload"),
                "{name}: {message}"
            );
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_flows"), 0);
    }

    async fn every_bad_expiry_is_a_400_that_quotes_it(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        for expires_in in [
            "1d",
            "1.5h",
            "+1h",
            " 1h",
            "-1h",
            "1h ",
            "h",
            "1",
            "99999999999999999999h",
            "0s",
            "721h",
        ] {
            let res = app
                .post_json(
                    "/iam/recovery/code",
                    &json!({"identity_id": identity, "expires_in": expires_in}),
                )
                .await;
            let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("\"expires_in\""), "{message}");
            assert!(message.contains(&format!("\"{expires_in}\"")), "{message}");
            assert!(error["reason"].as_str().is_some(), "{error}");
        }
        let error = assert_envelope(
            app.post_json(
                "/iam/recovery/code",
                &json!({"identity_id": identity, "expires_in": "1d"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("ns, us, ms, s, m or h")
        );
        let error = assert_envelope(
            app.post_json(
                "/iam/recovery/code",
                &json!({"identity_id": identity, "expires_in": "721h"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(error["message"].as_str().unwrap().contains("720h0m0s"));
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_flows"), 0);
    }

    async fn the_ceiling_itself_is_accepted(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let res = app
            .post_json(
                "/iam/recovery/code",
                &json!({"identity_id": identity, "expires_in": "720h"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    async fn the_expiry_is_checked_before_the_identity(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .post_json(
                "/iam/recovery/code",
                &json!({"identity_id": Uuid::new_v4(), "expires_in": "1d"}),
            )
            .await;
        assert_envelope(res, StatusCode::BAD_REQUEST).await;
    }

    async fn an_unknown_identity_is_a_404_that_says_so(kind) {
        let app = spawn_app(kind).await;
        let unknown = Uuid::new_v4();
        for path in PATHS {
            let res = app.post_json(path, &json!({"identity_id": unknown})).await;
            let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
            let reason = error["reason"].as_str().unwrap();
            assert!(reason.contains("identity"), "{reason}");
            assert!(reason.contains(&unknown.to_string()), "{reason}");
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_flows"), 0);
    }

    async fn a_new_code_revokes_the_previous_one(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        for _ in 0..3 {
            let res = app
                .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        assert_eq!(
            app.count("SELECT count(*) AS count FROM recovery_codes WHERE revoked_at IS NULL"),
            1
        );
        assert_eq!(
            app.count("SELECT count(*) AS count FROM recovery_codes WHERE revoked_at IS NOT NULL"),
            2
        );
    }

    async fn a_disabled_method_answers_404(kind) {
        let mut options = Options::default();
        options.recovery.enabled = false;
        let app = spawn_app_with(kind, options).await;
        let identity = app.create_identity("ada@example.com").await;
        let res = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
            .await;
        let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
        assert!(error["message"].as_str().unwrap().contains("disabled"));
        // Whatever the body: the method's state is checked first.
        let res = app
            .admin_client
            .post(format!("{}/iam/recovery/code", app.admin))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::NOT_FOUND).await;
    }

    async fn a_ui_url_with_a_query_keeps_it(kind) {
        let mut options = Options::default();
        options.recovery.ui_url = url::Url::parse("https://id.example.com/recover?lang=de").unwrap();
        let app = spawn_app_with(kind, options).await;
        let identity = app.create_identity("ada@example.com").await;
        let body: Value = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
            .await
            .json()
            .await
            .unwrap();
        let link = body["recovery_link"].as_str().unwrap();
        assert!(
            link.starts_with("https://id.example.com/recover?lang=de&flow="),
            "{link}"
        );
    }
}

on_every_store! {
    async fn a_revoked_code_is_refused_as_a_used_one_and_its_session_ends(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let issue = async || -> Value {
            app.post_json("/iam/recovery/code", &json!({"identity_id": identity, "flow_type": "api"}))
                .await
                .json()
                .await
                .unwrap()
        };
        let submit = async |issued: &Value| {
            let flow = flow_id(issued["recovery_link"].as_str().unwrap());
            app.client
                .post(format!("{}/self-service/recovery?flow={flow}", app.public))
                .json(&json!({"method": "code", "code": issued["recovery_code"]}))
                .send()
                .await
                .unwrap()
        };
        // A code handed to the wrong person, already used: its session is live.
        let used = issue().await;
        let redeemed: Value = submit(&used).await.json().await.unwrap();
        let token = redeemed["continue_with"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|item| item["ory_session_token"].as_str())
            .unwrap()
            .to_owned();
        let whoami = async || {
            app.client
                .get(format!("{}/sessions/whoami", app.public))
                .header("x-session-token", &token)
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(whoami().await, StatusCode::OK);
        // And one not used yet.
        let outstanding = issue().await;

        for path in ["/iam/recovery/codes", "/admin/recovery/codes"] {
            let res = app
                .admin_client
                .delete(format!("{}{path}?identity_id={identity}", app.admin))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{path}");
        }
        assert_eq!(whoami().await, StatusCode::UNAUTHORIZED);
        // Refused exactly as a used code: 200 with the flow and Kratos's 4060006.
        for issued in [&outstanding, &used] {
            let res = submit(issued).await;
            assert_eq!(res.status(), StatusCode::OK);
            let flow: Value = res.json().await.unwrap();
            assert_eq!(flow["ui"]["messages"][0]["id"], 4_060_006, "{flow}");
        }
        assert_eq!(
            app.count("SELECT count(*) AS count FROM recovery_codes WHERE revoked_at IS NOT NULL"),
            1
        );
        // The trail tells the two apart: one revoked, one used.
        let trail: Vec<Value> = app
            .admin_client
            .get(format!("{}/admin/audit-events?identity_id={identity}", app.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reasons: Vec<&str> = trail.iter().filter_map(|event| event["reason"].as_str()).collect();
        assert_eq!(reasons, ["code_revoked", "code_used"], "{trail:#?}");

        let res = app
            .admin_client
            .delete(format!("{}/admin/recovery/codes?identity_id={}", app.admin, Uuid::new_v4()))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::NOT_FOUND).await;
        for query in ["", "?identity_id=ada"] {
            let res = app
                .admin_client
                .delete(format!("{}/admin/recovery/codes{query}", app.admin))
                .send()
                .await
                .unwrap();
            assert_envelope(res, StatusCode::BAD_REQUEST).await;
        }
    }
}
