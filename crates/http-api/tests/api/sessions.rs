//! Sessions as Kratos keeps them: an inactive identity has none, the device that opened each,
//! the admin's view of an identity's sessions and the person's own.

use reqwest::StatusCode;
use serde_json::Value;

use crate::new_password::OLD_PASSWORD;
use crate::{assert_envelope, spawn_app};

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
}
