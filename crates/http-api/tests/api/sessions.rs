//! Sessions as Kratos keeps them: an inactive identity has none, the device that opened each,
//! the admin's view of an identity's sessions and the person's own.

use reqwest::StatusCode;
use serde_json::Value;

use crate::new_password::OLD_PASSWORD;
use crate::{Options, assert_envelope, spawn_app, spawn_app_with};

on_every_store! {
    async fn an_inactive_identity_has_no_valid_session(kind) {
        let app = spawn_app(kind).await;
        let (token, settings) = app.recover_with_password("ada@example.com").await;
        let other = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        assert_eq!(app.whoami(&token).await.status(), StatusCode::OK);

        app.execute("UPDATE identities SET state = 'inactive'");

        for token in [&token, &other] {
            let error = assert_envelope(app.whoami(token).await, StatusCode::UNAUTHORIZED).await;
            assert_eq!(error["id"], "session_inactive");
        }
        let res = app
            .client
            .get(format!("{}/self-service/settings/flows?id={settings}", app.public))
            .header("x-session-token", &token)
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::UNAUTHORIZED).await;
        let page = app
            .client
            .get(format!("{}/", app.public))
            .header("cookie", format!("ory_kratos_session={token}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("You are not signed in"), "{page}");

        app.execute("UPDATE identities SET state = 'active'");
        let session: Value = app.whoami(&token).await.json().await.unwrap();
        assert_eq!(session["identity"]["traits"]["email"], "ada@example.com");
    }

    async fn a_session_records_the_device_that_opened_it(kind) {
        let options = Options { trusted_proxies: vec!["127.0.0.1/32"], ..Options::default() };
        let app = spawn_app_with(kind, options).await;
        let (recovered, _) = app.recover_with_password("ada@example.com").await;
        let session: Value = app.whoami(&recovered).await.json().await.unwrap();
        let device = &session["devices"][0];
        assert_eq!(device["id"], session["id"]);
        assert_eq!(device["ip_address"], "127.0.0.1");
        assert!(device.get("user_agent").is_none(), "absent, never null: {device}");

        let flow: Value = app
            .client
            .get(format!("{}/self-service/login/api", app.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let long = "Mozilla/5.0 ".repeat(100);
        let signed_in: Value = app
            .client
            .post(format!("{}/self-service/login?flow={}", app.public, flow["id"].as_str().unwrap()))
            .header("user-agent", &long)
            .header("x-forwarded-for", "2001:db8::7")
            .json(&serde_json::json!({
                "method": "password", "identifier": "ada@example.com", "password": OLD_PASSWORD
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let devices = signed_in["session"]["devices"].as_array().unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0]["ip_address"], "2001:db8::7");
        let kept: String = long.trim().chars().take(512).collect();
        assert_eq!(devices[0]["user_agent"], kept.as_str());
        let again: Value = app
            .whoami(signed_in["session_token"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["devices"], signed_in["session"]["devices"]);
    }
}
