use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Options, StoreKind, assert_envelope, spawn_app, spawn_app_with, unreachable_store};

on_every_store! {
    async fn health_answers_on_both_listeners(kind) {
        let app = spawn_app(kind).await;
        for base in [&app.admin, &app.public] {
            for path in ["/health/alive", "/health/ready"] {
                let res = app
                    .client
                    .get(format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{base}{path}");
                let body: Value = res.json().await.unwrap();
                assert_eq!(body, json!({"status": "ok"}));
                let res = app
                    .client
                    .head(format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK, "HEAD {base}{path}");
                let res = app
                    .client
                    .post(format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap();
                assert_envelope(res, StatusCode::METHOD_NOT_ALLOWED).await;
            }
        }
    }

    async fn admin_routes_are_not_served_on_the_public_listener(kind) {
        let app = spawn_app(kind).await;
        for (method, path) in [
            (reqwest::Method::POST, "/iam/recovery/code"),
            (reqwest::Method::POST, "/admin/recovery/code"),
            (reqwest::Method::GET, "/admin/identities"),
            (reqwest::Method::POST, "/admin/identities"),
        ] {
            let res = app
                .client
                .request(method, format!("{}{path}", app.public))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_envelope(res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn unknown_schemas_are_404(kind) {
        let app = spawn_app(kind).await;
        for id in ["Y3VzdG9tZXI", "!!"] {
            let res = app.client.get(format!("{}/schemas/{id}", app.public)).send().await.unwrap();
            assert_envelope(res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn unknown_routes_and_wrong_methods_get_the_envelope(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .admin_client
            .get(format!("{}/nowhere", app.admin))
            .send()
            .await
            .unwrap();
        let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
        assert!(error["reason"].as_str().unwrap().contains("/nowhere"));

        for path in ["/iam/recovery/code", "/admin/recovery/code"] {
            let res = app
                .admin_client
                .get(format!("{}{path}", app.admin))
                .send()
                .await
                .unwrap();
            assert!(
                [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&res.status()),
                "{path}: {}",
                res.status()
            );
            let status = res.status();
            assert_envelope(res, status).await;
        }
        let res = app
            .admin_client
            .put(format!("{}/admin/identities", app.admin))
            .send()
            .await
            .unwrap();
        // RFC 9110: a 405 lists the methods the resource takes.
        assert_eq!(res.headers()["allow"], "GET, POST");
        assert_envelope(res, StatusCode::METHOD_NOT_ALLOWED).await;
        let res = app
            .client
            .request(reqwest::Method::TRACE, format!("{}/health/alive", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["allow"], "GET, HEAD");
        assert_envelope(res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn oversized_bodies_are_refused_with_413(kind) {
        let app = spawn_app(kind).await;
        let padding = "x".repeat(70 * 1024);
        for path in ["/iam/recovery/code", "/admin/identities"] {
            let res = app
                .post_json(
                    path,
                    &json!({"identity_id": uuid::Uuid::new_v4(), "pad": padding}),
                )
                .await;
            let error = assert_envelope(res, StatusCode::PAYLOAD_TOO_LARGE).await;
            assert!(
                error["message"].as_str().unwrap().contains("65536"),
                "{error}"
            );
        }
    }

    async fn the_callers_request_id_is_echoed_and_a_bad_one_replaced(kind) {
        let app = spawn_app(kind).await;
        let res = app
            .admin_client
            .get(format!("{}/nowhere", app.admin))
            .header("x-request-id", "trace-abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
        let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
        assert_eq!(error["request"], "trace-abc-123");

        let res = app
            .admin_client
            .get(format!("{}/health/alive", app.admin))
            .header("x-request-id", "has spaces")
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        uuid::Uuid::parse_str(id).unwrap();
    }
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_everywhere() {
    let app = spawn_app_with(
        StoreKind::Postgres,
        Options {
            store: Some(unreachable_store()),
            ..Options::default()
        },
    )
    .await;
    for base in [&app.admin, &app.public] {
        let res = app
            .client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .unwrap();
        let error = assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(error.get("debug").is_none());
    }
    let res = app
        .post_json(
            "/iam/recovery/code",
            &json!({"identity_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await;
    let res = app
        .admin_client
        .get(format!("{}/admin/identities", app.admin))
        .send()
        .await
        .unwrap();
    assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await;
    let res = app
        .admin_client
        .get(format!("{}/health/alive", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn dev_mode_adds_debug_detail() {
    let app = spawn_app_with(
        StoreKind::Postgres,
        Options {
            store: Some(unreachable_store()),
            dev: true,
            ..Options::default()
        },
    )
    .await;
    let res = app
        .admin_client
        .get(format!("{}/health/ready", app.admin))
        .send()
        .await
        .unwrap();
    let error = assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(!error["debug"].as_str().unwrap().is_empty(), "{error}");
}
