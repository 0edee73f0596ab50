//! A self-service submission the flow refuses answers 400 with the flow itself, its messages
//! saying what is wrong (as Kratos, whose clients parse it); no flow named answers 404.

use serde_json::json;

use crate::*;

/// A fresh API flow of `kind` (`login` or `recovery` through an issued code).
async fn login_flow(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/self-service/login/api", app.public))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn submit(
    app: &TestApp,
    path: &str,
    body: reqwest::Body,
    content_type: &str,
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.public))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Every `null` in `value`, by path.
fn nulls(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Null => found.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                nulls(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

on_every_store! {
    async fn a_wrong_password_answers_the_login_flow(kind) {
        let app = spawn_app(kind).await;
        app.create_identity("ada@example.com").await;
        let res = app.sign_in_through_flow("ada@example.com", "not the password", None).await;
        let (flow, messages) = assert_refused(res).await;
        assert_eq!(flow["type"], "api");
        assert_eq!(messages, vec![(None, 4_000_006, messages[0].2.clone())]);
        assert!(messages[0].2.starts_with("The provided credentials are invalid"));
    }

    async fn missing_fields_are_named_on_their_nodes(kind) {
        let app = spawn_app(kind).await;
        let flow = login_flow(&app).await;
        let path = format!("/self-service/login?flow={}", flow["id"].as_str().unwrap());
        for (body, field) in [
            (json!({"method": "password", "password": "whatever1"}), "identifier"),
            (json!({"method": "password", "identifier": "a@b.co", "password": "  "}), "password"),
        ] {
            let res = submit(&app, &path, body.to_string().into(), "application/json").await;
            let (refused, messages) = assert_refused(res).await;
            assert_eq!(refused["id"], flow["id"]);
            assert_eq!(messages, vec![(Some(field.to_owned()), 4_000_002, format!("Property {field} is missing."))]);
        }
    }

    async fn unreadable_bodies_answer_the_flow_saying_why(kind) {
        let app = spawn_app(kind).await;
        let flow = login_flow(&app).await;
        let path = format!("/self-service/login?flow={}", flow["id"].as_str().unwrap());
        for (body, content_type, needle) in [
            ("{\"identifier\": ", "application/json", "Unable to decode JSON payload"),
            ("[]", "application/json", "must be a JSON object"),
            ("{\"identifier\": 7, \"password\": \"x\"}", "application/json", "identifier"),
            ("identifier=a", "text/plain", "Content-Type"),
        ] {
            let res = submit(&app, &path, body.into(), content_type).await;
            let (_, messages) = assert_refused(res).await;
            assert_eq!(messages[0].0, None);
            assert_eq!(messages[0].1, 4_000_001);
            assert!(messages[0].2.contains(needle), "{body}: {messages:?}");
        }
        let res = submit(&app, &path, json!({"method": "code", "identifier": "a@b.co", "password": "x"}).to_string().into(), "application/json").await;
        let (_, messages) = assert_refused(res).await;
        assert_eq!(messages[0].0.as_deref(), Some("method"));
    }

    async fn a_recovery_submission_without_a_code_names_the_field(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let issued: Value = app
            .post_json("/admin/recovery/code", &json!({"identity_id": identity}))
            .await
            .json()
            .await
            .unwrap();
        let link = issued["recovery_link"].as_str().unwrap();
        let flow = link.rsplit_once("flow=").unwrap().1;
        let res = submit(&app, &format!("/self-service/recovery?flow={flow}"), json!({"method": "code"}).to_string().into(), "application/json").await;
        let (refused, messages) = assert_refused(res).await;
        assert_eq!(refused["id"], flow);
        assert_eq!(messages, vec![(Some("code".to_owned()), 4_000_002, "Property code is missing.".to_owned())]);
    }

    async fn no_flow_named_is_no_flow_found(kind) {
        let app = spawn_app(kind).await;
        for path in ["/self-service/login", "/self-service/recovery", "/self-service/settings"] {
            // A flow id that is not a UUID names none either: a 400 would have to be the flow.
            for query in ["", "?flow=", "?flow=not-a-uuid", "?flow=1&flow=2"] {
                let res = submit(&app, &format!("{path}{query}"), "{}".into(), "application/json").await;
                let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
                assert!(error["message"].as_str().unwrap().contains("\"flow\""), "{error}");
            }
        }
        // A person who opens a mangled link gets the page that says so, not JSON.
        let res = app
            .client
            .get(format!("{}/recovery?flow=not-a-uuid", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    }

    async fn a_refused_form_for_a_flow_that_cannot_go_on_gets_its_page(kind) {
        let app = spawn_app(kind).await;
        let form = |path: String, body: &'static str| {
            app.client
                .post(format!("{}{path}", app.public))
                .header("origin", &app.public)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let is_page = |res: &reqwest::Response| {
            res.headers()["content-type"].to_str().unwrap().starts_with("text/html")
        };
        // No code, for a flow that does not exist: the page for an unknown link, not JSON.
        let res = form(format!("/self-service/recovery?flow={}", uuid::Uuid::new_v4()), "method=code").await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(is_page(&res));
        // An unreadable sign-in form for a flow that does not exist: on to a fresh flow.
        let res = form(format!("/self-service/login?flow={}", uuid::Uuid::new_v4()), "method=password").await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap().ends_with("/self-service/login/browser"));
        // A blank new password, for a settings flow of no one: a page (sign in), not JSON.
        let res = app
            .client
            .post(format!("{}/self-service/settings?flow={}", app.public, uuid::Uuid::new_v4()))
            .header("origin", &app.public)
            .header("cookie", "ory_kratos_session=ory_st_nobody")
            .form(&[("method", "password"), ("password", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap().ends_with("/login"));
    }

    async fn a_sign_in_page_for_no_flow_id_starts_afresh(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .client
            .get(format!("{}/login?flow=not-a-flow", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], format!("{}/login", app.public));
    }

    async fn a_browser_flow_asked_for_as_json_is_the_flow(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .client
            .get(format!("{}/self-service/login/browser", app.public))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let flow: Value = res.json().await.unwrap();
        assert_eq!(flow["type"], "browser");
        assert_eq!(flow["state"], "choose_method");
    }

    async fn flows_carry_no_nulls_and_autocomplete_every_client_reads(kind) {
        let app = spawn_app(kind).await;
        let flow = login_flow(&app).await;
        let mut found = Vec::new();
        nulls(&flow, "", &mut found);
        assert!(found.is_empty(), "nulls at {found:?}");
        assert!(flow.get("return_to").is_none());
        let autocomplete: Vec<&str> = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|node| node["attributes"]["autocomplete"].as_str())
            .collect();
        assert_eq!(autocomplete, ["email", "current-password"]);
    }
}
