//! Who may call the admin listener: API keys, and the `Host` it answers for.

use std::io::{Read, Write};

use http_api::{AdminAccess, ApiKey};
use reqwest::StatusCode;
use serde_json::json;

use crate::{ADMIN_KEY, Options, StoreKind, TestApp, assert_envelope, spawn_app, spawn_app_with};

/// `sha256:` of this key is configured in [`hashed_key_app`].
const HASHED_KEY: &str = "iam-recovery-sha256-form-key-0123456789abcdef";
const HASHED_KEY_SHA256: &str = "aa21df1de5d51068213d7f19ba65dad74828de2a3a90ed62702a21801e633c20";

impl TestApp {
    /// `GET /admin/identities` with `authorization`, if any, and `host`, if any.
    async fn list_identities(
        &self,
        authorization: Option<&str>,
        host: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.get(format!("{}/admin/identities", self.admin));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        if let Some(host) = host {
            req = req.header("host", host);
        }
        req.send().await.unwrap()
    }
}

async fn assert_unauthorized(res: reqwest::Response) -> serde_json::Value {
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let error = assert_envelope(res, StatusCode::UNAUTHORIZED).await;
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{error}"
    );
    error
}

#[tokio::test]
async fn a_request_without_a_key_is_401_with_a_bearer_challenge() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let error = assert_unauthorized(app.list_identities(None, None).await).await;
    assert_eq!(error["message"], "The request carries no API key");
    let error = assert_unauthorized(app.list_identities(Some("Bearer "), None).await).await;
    assert_eq!(error["message"], "The request carries no API key");
    // Every admin route, known or not, and whatever the method.
    let res = app
        .client
        .post(format!("{}/iam/recovery/code", app.admin))
        .json(&json!({"identity_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    assert_unauthorized(res).await;
    let res = app
        .client
        .get(format!("{}/nowhere", app.admin))
        .send()
        .await
        .unwrap();
    assert_unauthorized(res).await;
}

#[tokio::test]
async fn a_wrong_key_is_401() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let almost = &ADMIN_KEY[..ADMIN_KEY.len() - 1];
    for value in [
        format!("Bearer {almost}"),
        almost.to_owned(),
        format!("Bearer {ADMIN_KEY}x"),
        format!("Basic {ADMIN_KEY}"),
        format!("Bearer {}", ADMIN_KEY.to_uppercase()),
    ] {
        let error = assert_unauthorized(app.list_identities(Some(&value), None).await).await;
        assert_eq!(error["message"], "The API key is not valid");
        assert!(
            !error.to_string().contains(almost),
            "the key is echoed: {error}"
        );
    }
}

#[tokio::test]
async fn the_right_key_is_accepted_as_bearer_or_bare() {
    let app = spawn_app(StoreKind::Sqlite).await;
    for value in [
        format!("Bearer {ADMIN_KEY}"),
        format!("bearer {ADMIN_KEY}"),
        ADMIN_KEY.to_owned(),
    ] {
        let res = app.list_identities(Some(&value), None).await;
        assert_eq!(res.status(), StatusCode::OK, "{value}");
    }
    // And a write goes through with the key too.
    app.create_identity("ada@example.com").await;
}

#[tokio::test]
async fn a_key_configured_as_its_sha256_is_accepted() {
    let app = spawn_app_with(
        StoreKind::Sqlite,
        Options {
            access: AdminAccess {
                keys: vec![ApiKey::from_hex_digest("hashed", HASHED_KEY_SHA256).unwrap()],
                allowed_hosts: Vec::new(),
            },
            ..Options::default()
        },
    )
    .await;
    let res = app
        .list_identities(Some(&format!("Bearer {HASHED_KEY}")), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.list_identities(Some(HASHED_KEY_SHA256), None).await;
    assert_unauthorized(res).await;
    let res = app
        .list_identities(Some(&format!("Bearer {ADMIN_KEY}")), None)
        .await;
    assert_unauthorized(res).await;
}

#[tokio::test]
async fn health_needs_no_key() {
    let app = spawn_app(StoreKind::Sqlite).await;
    for path in ["/health/alive", "/health/ready"] {
        let res = app
            .client
            .get(format!("{}{path}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn without_keys_the_admin_api_is_open() {
    let app = spawn_app_with(
        StoreKind::Sqlite,
        Options {
            access: AdminAccess::default(),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        app.list_identities(None, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_foreign_host_is_421_and_known_hosts_are_served() {
    let app = spawn_app_with(
        StoreKind::Sqlite,
        Options {
            access: AdminAccess {
                allowed_hosts: vec!["iam-recovery-admin".into()],
                ..Options::default().access
            },
            ..Options::default()
        },
    )
    .await;
    let bearer = format!("Bearer {ADMIN_KEY}");
    for host in [
        "evil.example.com",
        "evil.example.com:4434",
        "localhost.evil.example.com",
        "127.0.0.1.nip.io",
        "iam-recovery-admin.evil.example.com",
    ] {
        let res = app.list_identities(Some(&bearer), Some(host)).await;
        let error = assert_envelope(res, StatusCode::MISDIRECTED_REQUEST).await;
        assert!(
            error["reason"]
                .as_str()
                .unwrap()
                .contains("serve.admin.allowed_hosts"),
            "{error}"
        );
    }
    // Even health and unauthenticated requests: the host is checked first.
    let res = app
        .client
        .get(format!("{}/health/alive", app.admin))
        .header("host", "evil.example.com")
        .send()
        .await
        .unwrap();
    assert_envelope(res, StatusCode::MISDIRECTED_REQUEST).await;

    for host in [
        "127.0.0.1",
        "127.0.0.1:4434",
        "10.0.0.7:4434",
        "[::1]:4434",
        "localhost:4434",
        "LOCALHOST",
        "iam-recovery-admin",
        "IAM-Recovery-Admin:4434",
    ] {
        let res = app.list_identities(Some(&bearer), Some(host)).await;
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_request_without_host_is_421() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let address = app.admin.trim_start_matches("http://").to_owned();
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET /health/alive HTTP/1.0\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.0 421"), "{response}");
    assert!(response.contains("no Host header"), "{response}");
}
