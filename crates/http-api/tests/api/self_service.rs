use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    Options, StoreKind, TestApp, assert_envelope, assert_no_store, assert_refused, spawn_app,
    spawn_app_with, wrong,
};

/// Issues a code for `email` (a new identity); returns the flow id and the code.
async fn issue(app: &TestApp, email: &str, body: Value) -> (Uuid, String) {
    let identity = app.create_identity(email).await;
    let mut request = json!({"identity_id": identity});
    if let (Some(target), Some(extra)) = (request.as_object_mut(), body.as_object()) {
        target.extend(extra.clone());
    }
    let res = app.post_json("/iam/recovery/code", &request).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let issued: Value = res.json().await.unwrap();
    let link = issued["recovery_link"].as_str().unwrap();
    let flow = Uuid::parse_str(link.rsplit_once("flow=").unwrap().1).unwrap();
    (flow, issued["recovery_code"].as_str().unwrap().to_owned())
}

impl TestApp {
    async fn submit_code(&self, flow: Uuid, code: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/self-service/recovery?flow={flow}", self.public))
            .json(&json!({"method": "code", "code": code}))
            .send()
            .await
            .unwrap()
    }

    /// A browser form post from the public origin.
    async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.public))
            .header("origin", &self.public)
            .form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.unwrap()
    }

    async fn get_page(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.public));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.unwrap()
    }
}

/// The `name=value` of the session cookie a response sets, and its attributes.
fn session_cookie(res: &reqwest::Response) -> (String, String) {
    let header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("ory_kratos_session="))
        .expect("a session cookie");
    let pair = header.split(';').next().unwrap().to_owned();
    (pair, header)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

on_every_store! {
    async fn the_flow_shows_an_empty_required_code_field(kind) {
        let app = spawn_app(kind).await;
        let (flow, _) = issue(&app, "ada@example.com", json!({})).await;
        let res = app
            .client
            .get(format!("{}/self-service/recovery/flows?id={flow}", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["id"], flow.to_string());
        assert_eq!(body["type"], "browser");
        assert_eq!(body["state"], "sent_email");
        assert_eq!(body["active"], "code");
        for field in ["issued_at", "expires_at", "request_url"] {
            assert!(body[field].is_string(), "{field}");
        }
        let public_url = format!("{}/self-service/recovery?flow={flow}", app.public);
        assert_eq!(body["request_url"], public_url);
        // Flows stored with the admin URL (before it was public) show the public one too.
        app.execute(&format!(
            "UPDATE recovery_flows SET request_url = '{}/iam/recovery/code' WHERE id = '{flow}'",
            app.admin
        ));
        let body: Value = app
            .client
            .get(format!("{}/self-service/recovery/flows?id={flow}", app.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["request_url"], public_url);
        assert_eq!(body["ui"]["method"], "POST");
        assert_eq!(
            body["ui"]["action"],
            format!("{}/self-service/recovery?flow={flow}", app.public)
        );
        let code = &body["ui"]["nodes"][0]["attributes"];
        assert_eq!(code["name"], "code");
        assert_eq!(code["required"], true);
        assert_eq!(code["maxlength"], 6);
        assert_eq!(code["autocomplete"], "one-time-code");
        assert!(code.get("value").is_none());

        let res = app
            .client
            .get(format!("{}/self-service/recovery/flows?id={}", app.public, Uuid::new_v4()))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::NOT_FOUND).await;
    }

    async fn an_expired_flow_is_gone(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "ada@example.com", json!({"expires_in": "1ms"})).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let res = app
            .client
            .get(format!("{}/self-service/recovery/flows?id={flow}", app.public))
            .send()
            .await
            .unwrap();
        let error = assert_envelope(res, StatusCode::GONE).await;
        assert_eq!(error["id"], "self_service_flow_expired");
        assert_envelope(app.submit_code(flow, &code).await, StatusCode::GONE).await;
        let page = app.get_page(&format!("/recovery?flow={flow}"), None).await;
        assert_eq!(page.status(), StatusCode::GONE);
        assert!(page.text().await.unwrap().contains("expired"));
    }

    async fn an_api_client_recovers_sets_a_password_and_signs_in(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "ada@example.com", json!({"flow_type": "api"})).await;

        let res = app.submit_code(flow, &wrong(&code)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["state"], "sent_email");
        assert_eq!(body["ui"]["messages"][0]["id"], 4_060_006);

        let res = app.submit_code(flow, &code).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        assert!(res.headers().get("set-cookie").is_none());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["state"], "passed_challenge");
        assert_eq!(body["continue_with"][0]["action"], "set_ory_session_token");
        let token = body["continue_with"][0]["ory_session_token"].as_str().unwrap().to_owned();
        assert_eq!(body["continue_with"][1]["action"], "show_settings_ui");
        let settings = body["continue_with"][1]["flow"]["id"].as_str().unwrap().to_owned();

        // The code works once.
        let again: Value = app.submit_code(flow, &code).await.json().await.unwrap();
        assert_eq!(again["ui"]["messages"][0]["id"], 4_060_006);

        for (name, value) in [("x-session-token", token.clone()), ("authorization", format!("Bearer {token}"))] {
            let res = app
                .client
                .get(format!("{}/sessions/whoami", app.public))
                .header(name, value)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_no_store(&res);
            let session: Value = res.json().await.unwrap();
            assert_eq!(session["identity"]["traits"]["email"], "ada@example.com");
            assert_eq!(session["authentication_methods"][0]["method"], "code_recovery");
        }

        let res = app
            .client
            .get(format!("{}/self-service/settings/flows?id={settings}", app.public))
            .header("x-session-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        let settings_flow: Value = res.json().await.unwrap();
        assert_eq!(settings_flow["state"], "show_form");

        let set_password = |password: &'static str| {
            app.client
                .post(format!("{}/self-service/settings?flow={settings}", app.public))
                .header("x-session-token", &token)
                .json(&json!({"method": "password", "password": password}))
                .send()
        };
        for (password, needle) in [("short", "at least 8"), ("ada@example.com", "email address")] {
            let (flow, messages) = assert_refused(set_password(password).await.unwrap()).await;
            assert_eq!(flow["id"], settings.as_str());
            let (field, id, text) = &messages[0];
            assert_eq!((field.as_deref(), *id), (Some("password"), 4_000_005));
            assert!(text.contains(needle), "{text}");
        }
        let res = set_password("correct horse battery").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        let saved: Value = res.json().await.unwrap();
        assert_eq!(saved["state"], "success");

        let login: Value = app
            .client
            .get(format!("{}/self-service/login/api", app.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let login_flow = login["id"].as_str().unwrap().to_owned();
        let sign_in = |password: &'static str| {
            app.client
                .post(format!("{}/self-service/login?flow={login_flow}", app.public))
                .json(&json!({"method": "password", "identifier": "Ada@Example.com", "password": password}))
                .send()
        };
        let (_, messages) = assert_refused(sign_in("wrong password").await.unwrap()).await;
        assert!(messages[0].2.contains("credentials are invalid"));
        let res = sign_in("correct horse battery").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        let signed_in: Value = res.json().await.unwrap();
        let new_token = signed_in["session_token"].as_str().unwrap().to_owned();
        assert_eq!(signed_in["session"]["authentication_methods"][0]["method"], "password");

        let res = app
            .client
            .delete(format!("{}/self-service/logout/api", app.public))
            .json(&json!({"session_token": new_token}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app
            .client
            .get(format!("{}/sessions/whoami", app.public))
            .header("x-session-token", &new_token)
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::UNAUTHORIZED).await;
    }

    async fn a_browser_walks_the_whole_story_with_forms(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(
            &app,
            "ada@example.com",
            json!({"return_to": "https://app.example.com/welcome"}),
        )
        .await;

        let page = app.get_page(&format!("/recovery?flow={flow}"), None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = page.text().await.unwrap();
        for needle in [
            "<label for=\"code\">",
            "inputmode=\"numeric\"",
            "autocomplete=\"one-time-code\"",
            "maxlength=\"6\"",
            "required",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        assert!(!html.contains(&code));

        let path = format!("/self-service/recovery?flow={flow}");
        let res = app.post_form(&path, &[("method", "code"), ("code", &wrong(&code))], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("aria-invalid=\"true\""));

        let res = app.post_form(&path, &[("method", "code"), ("code", &code)], None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with(&format!("{}/settings?flow=", app.public)));
        assert_no_store(&res);
        let (cookie, attributes) = session_cookie(&res);
        assert!(attributes.contains("HttpOnly"));
        assert!(attributes.contains("SameSite=Lax"));
        assert!(attributes.contains("Secure"));
        let settings_path = location(&res).replacen(&app.public, "", 1);
        let settings_flow = settings_path.rsplit_once("flow=").unwrap().1.to_owned();

        let page = app.get_page(&settings_path, Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("ada@example.com"));
        assert!(html.contains("autocomplete=\"new-password\""));
        // Without the session the page sends the person to sign in.
        let page = app.get_page(&settings_path, None).await;
        assert_eq!(page.status(), StatusCode::SEE_OTHER);

        let action = format!("/self-service/settings?flow={settings_flow}");
        let res = app.post_form(&action, &[("method", "password"), ("password", "short")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("at least 8 characters"));
        let res = app
            .post_form(&action, &[("method", "password"), ("password", "correct horse battery")], Some(&cookie))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/welcome");

        let home = app.get_page("/", Some(&cookie)).await.text().await.unwrap();
        assert!(home.contains("You are signed in"));
        let res = app.post_form("/self-service/logout", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (removed, _) = session_cookie(&res);
        assert_eq!(removed, "ory_kratos_session=");
        let home = app.get_page("/", Some(&cookie)).await.text().await.unwrap();
        assert!(home.contains("not signed in"));

        let res = app.get_page("/login", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let login_path = location(&res).replacen(&app.public, "", 1);
        let login_flow = login_path.rsplit_once("flow=").unwrap().1.to_owned();
        assert_eq!(app.get_page(&login_path, None).await.status(), StatusCode::OK);
        let action = format!("/self-service/login?flow={login_flow}");
        let res = app
            .post_form(&action, &[("identifier", "ada@example.com"), ("password", "wrong password")], None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("credentials are invalid"));
        let res = app
            .post_form(&action, &[("identifier", "ada@example.com"), ("password", "correct horse battery")], None)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_no_store(&res);
        let (cookie, _) = session_cookie(&res);
        let home = app.get_page("/", Some(&cookie)).await.text().await.unwrap();
        assert!(home.contains("ada@example.com"));
    }

    async fn forms_from_another_origin_are_refused(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "ada@example.com", json!({})).await;
        for origin in [None, Some("https://evil.example.net")] {
            let mut req = app
                .client
                .post(format!("{}/self-service/recovery?flow={flow}", app.public))
                .form(&[("method", "code"), ("code", code.as_str())]);
            if let Some(origin) = origin {
                req = req.header("origin", origin);
            }
            let error = assert_envelope(req.send().await.unwrap(), StatusCode::FORBIDDEN).await;
            assert_eq!(error["id"], "security_csrf_violation");
        }
        // Nothing was consumed: the right origin still works.
        let res = app
            .post_form(&format!("/self-service/recovery?flow={flow}"), &[("code", &code)], None)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }

    async fn too_many_attempts_kill_the_flow(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "ada@example.com", json!({})).await;
        for _ in 0..5 {
            assert_eq!(app.submit_code(flow, &wrong(&code)).await.status(), StatusCode::OK);
        }
        let (_, messages) = assert_refused(app.submit_code(flow, &code).await).await;
        assert_eq!(messages[0].1, 4_060_007);
        assert!(messages[0].2.contains("request another code"));
    }

    async fn a_disabled_account_is_refused(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .post_json("/admin/identities", &json!({"traits": {"email": "off@example.com"}, "state": "inactive"}))
            .await;
        let identity: Value = res.json().await.unwrap();
        let issued: Value = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity["id"]}))
            .await
            .json()
            .await
            .unwrap();
        let link = issued["recovery_link"].as_str().unwrap();
        let flow = Uuid::parse_str(link.rsplit_once("flow=").unwrap().1).unwrap();
        let error = assert_envelope(
            app.submit_code(flow, issued["recovery_code"].as_str().unwrap()).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(error["message"], "This account was disabled.");
    }

    async fn an_off_list_return_to_is_refused(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        let res = app
            .post_json(
                "/iam/recovery/code",
                &json!({"identity_id": identity, "return_to": "https://evil.example.net/"}),
            )
            .await;
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert!(error["message"].as_str().unwrap().contains("allowed_return_urls"));
        let res = app
            .admin_client
            .post(format!(
                "{}/iam/recovery/code?return_to=https%3A%2F%2Fapp.example.com%2Fx",
                app.admin
            ))
            .json(&json!({"identity_id": identity}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    async fn a_return_to_with_userinfo_is_refused(kind) {
        let app = spawn_app(kind).await;
        let identity = app.create_identity("ada@example.com").await;
        for return_to in ["https://evil@app.example.com/", "https://user:pw@app.example.com/x"] {
            let res = app
                .post_json("/iam/recovery/code", &json!({"identity_id": identity, "return_to": return_to}))
                .await;
            let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("must not carry a user name or password"), "{message}");
            assert!(message.contains(return_to), "{message}");
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_flows"), 0);
    }

    async fn settings_flows_answer_only_their_owner(kind) {
        let app = spawn_app(kind).await;
        let mut tokens = Vec::new();
        let mut settings = Vec::new();
        for email in ["ada@example.com", "bob@example.com"] {
            let (flow, code) = issue(&app, email, json!({"flow_type": "api"})).await;
            let body: Value = app.submit_code(flow, &code).await.json().await.unwrap();
            tokens.push(body["continue_with"][0]["ory_session_token"].as_str().unwrap().to_owned());
            settings.push(body["continue_with"][1]["flow"]["id"].as_str().unwrap().to_owned());
        }
        let get = |id: &str, token: &str| {
            app.client
                .get(format!("{}/self-service/settings/flows?id={id}", app.public))
                .header("x-session-token", token)
                .send()
        };
        let error = assert_envelope(get(&settings[0], &tokens[1]).await.unwrap(), StatusCode::FORBIDDEN).await;
        assert_eq!(error["id"], "security_identity_mismatch");
        assert_envelope(get(&Uuid::new_v4().to_string(), &tokens[0]).await.unwrap(), StatusCode::NOT_FOUND).await;
        assert_envelope(get(&settings[0], "ory_st_nobody").await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let long = "x".repeat(1025);
        let res = app
            .client
            .post(format!("{}/self-service/settings?flow={}", app.public, settings[0]))
            .header("x-session-token", &tokens[0])
            .json(&json!({"method": "password", "password": long}))
            .send()
            .await
            .unwrap();
        let (_, messages) = assert_refused(res).await;
        assert!(messages[0].2.contains("at most 1024"), "{messages:?}");
    }

    async fn unknown_and_expired_login_flows(kind) {
        let mut options = Options::default();
        options.selfservice.flow_lifespan = chrono::TimeDelta::milliseconds(5);
        let app = spawn_app_with(kind, options).await;
        let login: Value = app
            .client
            .get(format!("{}/self-service/login/api", app.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        for (id, status) in [
            (login["id"].as_str().unwrap().to_owned(), StatusCode::GONE),
            (Uuid::new_v4().to_string(), StatusCode::NOT_FOUND),
        ] {
            let res = app
                .client
                .post(format!("{}/self-service/login?flow={id}", app.public))
                .json(&json!({"method": "password", "identifier": "a@b.co", "password": "whatever1"}))
                .send()
                .await
                .unwrap();
            assert_envelope(res, status).await;
        }
        let res = app
            .client
            .get(format!("{}/self-service/login/api?return_to=https%3A%2F%2Fevil.example.net%2F", app.public))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::BAD_REQUEST).await;
    }

    async fn dead_ends_in_forms_say_what_to_do(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "ada@example.com", json!({})).await;
        let path = format!("/self-service/recovery?flow={flow}");
        for _ in 0..5 {
            app.post_form(&path, &[("code", &wrong(&code))], None).await;
        }
        // The page says so before anyone types again.
        let page = app.get_page(&format!("/recovery?flow={flow}"), None).await;
        let html = page.text().await.unwrap();
        assert!(html.contains("Too many attempts"), "{html}");
        assert!(!html.contains("<form"));
        let res = app.post_form(&path, &[("code", &code)], None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("request another code"));

        let res = app
            .post_json("/admin/identities", &json!({"traits": {"email": "off@example.com"}, "state": "inactive"}))
            .await;
        let identity: Value = res.json().await.unwrap();
        let issued: Value = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity["id"]}))
            .await
            .json()
            .await
            .unwrap();
        let link = issued["recovery_link"].as_str().unwrap();
        let flow = link.rsplit_once("flow=").unwrap().1;
        let res = app
            .post_form(
                &format!("/self-service/recovery?flow={flow}"),
                &[("code", issued["recovery_code"].as_str().unwrap())],
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("This account was disabled."));
    }

    async fn whoami_without_a_session_is_401(kind) {
        let app = spawn_app(kind).await;
        for token in [None, Some("ory_st_unknown")] {
            let mut req = app.client.get(format!("{}/sessions/whoami", app.public));
            if let Some(token) = token {
                req = req.header("x-session-token", token);
            }
            assert_envelope(req.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        }
    }

    async fn values_on_pages_are_escaped(kind) {
        let app = spawn_app(kind).await;
        let (flow, code) = issue(&app, "\"a<b>\"@example.com", json!({})).await;
        let res = app
            .post_form(&format!("/self-service/recovery?flow={flow}"), &[("code", &code)], None)
            .await;
        let (cookie, _) = session_cookie(&res);
        let settings_path = location(&res).replacen(&app.public, "", 1);
        let html = app.get_page(&settings_path, Some(&cookie)).await.text().await.unwrap();
        assert!(html.contains("&#34;a&#60;b&#62;&#34;@example.com"));
        assert!(!html.contains("a<b>"));
    }
}

/// Of 50 concurrent submissions of the right code exactly one redeems it; with the default
/// limit of 5 the others are refused as too many.
async fn concurrent_submissions(kind: StoreKind, max_submissions: u32) -> (usize, usize) {
    let mut options = Options::default();
    options.selfservice.max_submissions = max_submissions;
    // The race is what is tested: 50 submissions from one address would be rate limited.
    options.rate_limits.recovery = None;
    let app = spawn_app_with(kind, options).await;
    let (flow, code) = issue(&app, "ada@example.com", json!({"flow_type": "api"})).await;
    let responses =
        futures_util::future::join_all((0..50).map(|_| app.submit_code(flow, &code))).await;
    let mut redeemed = 0;
    let mut refused = 0;
    for res in responses {
        match res.status() {
            StatusCode::OK => {
                let body: Value = res.json().await.unwrap();
                if body["state"] == "passed_challenge" && body["continue_with"].is_array() {
                    redeemed += 1;
                }
            }
            StatusCode::BAD_REQUEST => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    (redeemed, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_submissions_redeem_once_on_postgres() {
    assert_eq!(
        concurrent_submissions(StoreKind::Postgres, 100).await,
        (1, 0)
    );
    assert_eq!(
        concurrent_submissions(StoreKind::Postgres, 5).await,
        (1, 45)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_submissions_redeem_once_on_sqlite() {
    assert_eq!(concurrent_submissions(StoreKind::Sqlite, 100).await, (1, 0));
    assert_eq!(concurrent_submissions(StoreKind::Sqlite, 5).await, (1, 45));
}
