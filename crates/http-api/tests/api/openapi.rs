//! The OpenAPI documents: served by each listener, equal to the checked-in copies, and true to
//! the routes they list.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::{StoreKind, TestApp, spawn_app};

const PATH: &str = "/.well-known/openapi.json";

/// The checked-in copy of a listener's document.
fn checked_in(listener: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(format!("openapi-{listener}.json"))
}

async fn served(app: &TestApp, base: &str) -> Value {
    let res = app
        .client
        .get(format!("{base}{PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.unwrap()
}

/// With `UPDATE_OPENAPI=1`, rewrites the checked-in copies instead of comparing.
#[tokio::test]
async fn the_served_documents_are_the_checked_in_ones() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let update = std::env::var_os("UPDATE_OPENAPI").is_some_and(|value| value == "1");
    for (listener, base) in [("admin", &app.admin), ("public", &app.public)] {
        let document = served(&app, base).await;
        let path = checked_in(listener);
        if update {
            let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let committed: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        assert!(
            committed.as_ref() == Some(&document),
            "{} is not the {listener} listener's document; regenerate it with \
             `UPDATE_OPENAPI=1 cargo test -p http-api --all-features --test api openapi` and \
             commit it",
            path.display()
        );
    }
}

#[tokio::test]
async fn the_admin_document_needs_no_key_but_a_known_host() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let document = served(&app, &app.admin).await;
    assert!(document["paths"]["/admin/identities"].is_object());
    assert!(document["paths"]["/self-service/login"].is_null());
    let public = served(&app, &app.public).await;
    assert!(public["paths"]["/self-service/login"].is_object());
    assert!(public["paths"]["/admin/identities"].is_null());
    let res = app
        .client
        .get(format!("{}{PATH}", app.admin))
        .header("host", "evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
}

/// Every operation of `document`, as (method, path with its `{id}` filled in, the statuses it
/// documents).
fn operations(document: &Value) -> Vec<(Method, String, Vec<String>)> {
    let id = Uuid::new_v4().to_string();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            operations.push((
                method.to_uppercase().parse().unwrap(),
                path.replace("{id}", &id),
                statuses,
            ));
        }
    }
    operations
}

// Each documented operation is routed, and answers a bare request (no query, no body, an
// unknown id) with one of the statuses it documents.
on_every_store! {
    async fn every_documented_operation_is_routed_and_answers_as_documented(kind) {
        let app = spawn_app(kind).await;
        for (client, base) in [(&app.admin_client, &app.admin), (&app.client, &app.public)] {
            let document = served(&app, base).await;
            let operations = operations(&document);
            assert!(operations.len() > 10);
            for (method, path, statuses) in operations {
                let res = client
                    .request(method.clone(), format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let body = res.text().await.unwrap();
                assert!(
                    !body.contains("No route matches") && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but not routed: {status} {body}"
                );
                assert!(
                    statuses.contains(&status.as_u16().to_string()),
                    "{method} {path} answered {status}, which it does not document ({statuses:?}): {body}"
                );
            }
        }
    }
}
