//! A new password set in the settings flow, and what it does to the identity's other sessions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Options, TestApp, assert_envelope, spawn_app, spawn_app_with};

pub(crate) const OLD_PASSWORD: &str = "the old password";

impl TestApp {
    /// A new identity with `OLD_PASSWORD`, recovered through an API flow: the session token
    /// of the recovery and the settings flow it opened.
    pub(crate) async fn recover_with_password(&self, email: &str) -> (String, String) {
        let res = self
            .post_json(
                "/admin/identities",
                &json!({"traits": {"email": email},
                        "credentials": {"password": {"config": {"password": OLD_PASSWORD}}}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let identity: Value = res.json().await.unwrap();
        let issued: Value = self
            .post_json(
                "/iam/recovery/code",
                &json!({"identity_id": identity["id"], "flow_type": "api"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let link = issued["recovery_link"].as_str().unwrap();
        let flow = link.rsplit_once("flow=").unwrap().1;
        let redeemed: Value = self
            .client
            .post(format!("{}/self-service/recovery?flow={flow}", self.public))
            .json(&json!({"method": "code", "code": issued["recovery_code"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = redeemed["continue_with"][0]["ory_session_token"]
            .as_str()
            .unwrap();
        let settings = redeemed["continue_with"][1]["flow"]["id"].as_str().unwrap();
        (token.to_owned(), settings.to_owned())
    }

    /// Signs in through an API login flow; the session token.
    pub(crate) async fn sign_in(&self, email: &str, password: &str) -> String {
        let res = self.sign_in_through_flow(email, password, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let signed_in: Value = res.json().await.unwrap();
        signed_in["session_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn whoami(&self, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/sessions/whoami", self.public))
            .header("x-session-token", token)
            .send()
            .await
            .unwrap()
    }

    async fn set_new_password(&self, settings: &str, token: &str) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/self-service/settings?flow={settings}",
                self.public
            ))
            .header("x-session-token", token)
            .json(&json!({"method": "password", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
    }
}

on_every_store! {
    async fn a_new_password_ends_the_other_sessions(kind) {
        let app = spawn_app(kind).await;
        let (setter, settings) = app.recover_with_password("ada@example.com").await;
        let other = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        let (bobs, _) = app.recover_with_password("bob@example.com").await;
        assert_eq!(app.whoami(&other).await.status(), StatusCode::OK);

        assert_eq!(app.set_new_password(&settings, &setter).await.status(), StatusCode::OK);

        let error = assert_envelope(app.whoami(&other).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(error["id"], "session_inactive");
        let res = app.whoami(&setter).await;
        assert_eq!(res.status(), StatusCode::OK, "the session that set it stays");
        let session: Value = res.json().await.unwrap();
        assert_eq!(session["identity"]["traits"]["email"], "ada@example.com");
        assert_eq!(app.whoami(&bobs).await.status(), StatusCode::OK, "other identities are untouched");
    }

    async fn other_sessions_can_be_kept(kind) {
        let mut options = Options::default();
        options.selfservice.revoke_sessions_on_password_change = false;
        let app = spawn_app_with(kind, options).await;
        let (setter, settings) = app.recover_with_password("ada@example.com").await;
        let other = app.sign_in("ada@example.com", OLD_PASSWORD).await;

        assert_eq!(app.set_new_password(&settings, &setter).await.status(), StatusCode::OK);

        assert_eq!(app.whoami(&other).await.status(), StatusCode::OK);
        assert_eq!(app.whoami(&setter).await.status(), StatusCode::OK);
    }
}
