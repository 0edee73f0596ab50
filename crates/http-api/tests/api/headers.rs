//! The headers both listeners add: nosniff everywhere, no-store on identities and sessions,
//! HSTS on an https public listener.

use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use crate::{Options, StoreKind, assert_no_store, spawn_app, spawn_app_with};

fn assert_nosniff(res: &reqwest::Response) {
    assert_eq!(
        res.headers()["x-content-type-options"],
        "nosniff",
        "{}",
        res.url()
    );
}

#[tokio::test]
async fn every_answer_of_both_listeners_is_nosniff() {
    let app = spawn_app(StoreKind::Sqlite).await;
    for url in [
        format!("{}/health/alive", app.admin),
        format!("{}/admin/identities", app.admin),
        format!("{}/nowhere", app.admin),
        format!("{}/health/alive", app.public),
        format!("{}/self-service/login/api", app.public),
        format!("{}/sessions/whoami", app.public),
        format!("{}/nowhere", app.public),
        format!("{}/login", app.public),
    ] {
        for client in [&app.client, &app.admin_client] {
            assert_nosniff(&client.get(&url).send().await.unwrap());
        }
    }
}

#[tokio::test]
async fn identity_answers_are_not_stored() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let res = app
        .post_json(
            "/admin/identities",
            &json!({"traits": {"email": "ada@example.com"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_no_store(&res);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/admin/identities/{id}"),
        format!("/iam/identities/{id}"),
        "/admin/identities".to_owned(),
        "/admin/identities?credentials_identifier=ada@example.com".to_owned(),
    ] {
        let res = app
            .admin_client
            .get(format!("{}{path}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_no_store(&res);
    }
    let identity = app.create_identity("grace@example.com").await;
    let res = app
        .post_json("/iam/recovery/code", &json!({"identity_id": identity}))
        .await;
    assert_no_store(&res);
}

#[tokio::test]
async fn an_https_public_listener_sends_hsts() {
    let app = spawn_app_with(
        StoreKind::Sqlite,
        Options {
            public_base_url: Some(Url::parse("https://id.example.com/").unwrap()),
            ..Options::default()
        },
    )
    .await;
    for path in ["/health/alive", "/nowhere", "/login", "/sessions/whoami"] {
        let res = app
            .client
            .get(format!("{}{path}", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    // Never on the admin listener, which browsers have no business reaching.
    let res = app
        .admin_client
        .get(format!("{}/admin/identities", app.admin))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn a_plain_http_public_listener_sends_no_hsts() {
    let app = spawn_app(StoreKind::Sqlite).await;
    for path in ["/health/alive", "/nowhere", "/login"] {
        let res = app
            .client
            .get(format!("{}{path}", app.public))
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
}
