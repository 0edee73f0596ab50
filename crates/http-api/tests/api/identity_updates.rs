//! Replacing (PUT) and patching (PATCH) identities, their metadata, and what the public
//! listener may show of them.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{TestApp, assert_envelope, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn put(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.admin_client
        .put(format!("{}{path}", app.admin))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.admin_client
        .patch(format!("{}{path}", app.admin))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, id: Uuid) -> Value {
    app.admin_client
        .get(format!("{}/admin/identities/{id}", app.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An identity with a password and both kinds of metadata.
async fn created(app: &TestApp, email: &str) -> Value {
    let res = app
        .post_json(
            "/admin/identities",
            &json!({
                "traits": {"email": email},
                "metadata_public": {"plan": "free"},
                "metadata_admin": {"notes": ["vip"]},
                "credentials": {"password": {"config": {"password": PASSWORD}}}
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// The `details.fields[*].field` of a refusal's `error`.
fn fields(error: &Value) -> Vec<String> {
    error["details"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|field| field["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

on_every_store! {
    async fn metadata_is_stored_and_shown_on_the_admin_api_only_when_present(kind) {
        let app = spawn_app(kind).await;
        let identity = created(&app, "ada@example.com").await;
        assert_eq!(identity["metadata_public"], json!({"plan": "free"}));
        assert_eq!(identity["metadata_admin"], json!({"notes": ["vip"]}));
        let id: Uuid = identity["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(get(&app, id).await, identity);

        let res = app
            .post_json("/admin/identities", &json!({"traits": {}, "metadata_public": null}))
            .await;
        let bare: Value = res.json().await.unwrap();
        assert!(bare.get("metadata_public").is_none(), "{bare}");
        assert!(bare.get("metadata_admin").is_none(), "{bare}");

        let res = app
            .post_json(
                "/admin/identities",
                &json!({"metadata_public": {"a": "\u{0}"}, "metadata_admin": [1, "\u{0}"]}),
            )
            .await;
        let refused = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&refused), ["metadata_public.a", "metadata_admin[1]"]);
    }

    async fn the_public_listener_never_shows_the_admin_metadata(kind) {
        let app = spawn_app(kind).await;
        created(&app, "ada@example.com").await;
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let signed_in: Value = res.json().await.unwrap();
        let embedded = &signed_in["session"]["identity"];
        assert_eq!(embedded["metadata_public"], json!({"plan": "free"}));
        assert!(embedded.get("metadata_admin").is_none(), "{embedded}");

        let token = signed_in["session_token"].as_str().unwrap();
        let res = app
            .client
            .get(format!("{}/sessions/whoami", app.public))
            .header("x-session-token", token)
            .send()
            .await
            .unwrap();
        let text = res.text().await.unwrap();
        let session: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(session["identity"]["metadata_public"], json!({"plan": "free"}));
        assert!(!text.contains("metadata_admin") && !text.contains("vip"), "{text}");
    }

    async fn put_replaces_traits_state_metadata_and_password(kind) {
        let app = spawn_app(kind).await;
        for (n, prefix) in ["/admin/identities", "/iam/identities"].into_iter().enumerate() {
            let identity = created(&app, &format!("ada{n}@example.com")).await;
            let id = identity["id"].as_str().unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let email = format!("grace{n}@example.com");
            let res = put(
                &app,
                &format!("{prefix}/{id}"),
                &json!({
                    "schema_id": "default",
                    "state": "active",
                    "traits": {"email": email, "name": "Grace"},
                    "metadata_public": {"plan": "pro"},
                    "credentials": {"password": {"config": {"password": "a brand new password"}}}
                }),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK);
            let updated: Value = res.json().await.unwrap();
            assert_eq!(updated["id"], identity["id"]);
            assert_eq!(updated["traits"], json!({"email": email, "name": "Grace"}));
            assert_eq!(updated["metadata_public"], json!({"plan": "pro"}));
            assert!(updated.get("metadata_admin").is_none(), "left out, so removed");
            assert_eq!(updated["created_at"], identity["created_at"]);
            assert!(updated["updated_at"].as_str() > identity["updated_at"].as_str());
            assert!(updated.get("credentials").is_none());
            assert_eq!(get(&app, id.parse().unwrap()).await, updated);

            // The sign-in identifier and the password follow.
            let old = app.sign_in_through_flow(&format!("ada{n}@example.com"), PASSWORD, None).await;
            assert_ne!(old.status(), StatusCode::OK);
            let new = app.sign_in_through_flow(&email, "a brand new password", None).await;
            assert_eq!(new.status(), StatusCode::OK);
        }
    }

    async fn put_refusals_change_nothing(kind) {
        let app = spawn_app(kind).await;
        let ada = created(&app, "ada@example.com").await;
        let grace = created(&app, "grace@example.com").await;
        let path = format!("/admin/identities/{}", grace["id"].as_str().unwrap());

        let res = put(&app, &path, &json!({"state": "active", "traits": {"email": "ADA@example.com"}})).await;
        let body = assert_envelope(res, StatusCode::CONFLICT).await;
        assert!(body["message"].as_str().unwrap().contains("exists already"));

        let res = put(&app, &path, &json!({"traits": {"email": "x@example.com"}})).await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert!(body["message"].as_str().unwrap().contains("state"), "{body}");

        let res = put(
            &app,
            &path,
            &json!({"state": "active", "traits": {}, "metadata_admin": {"k": "\u{0}"}}),
        )
        .await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["metadata_admin.k"]);

        let res = put(&app, &path, &json!({"state": "active", "traits": null})).await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["traits"]);

        let res = put(&app, &path, &json!({"state": "banned", "traits": {}})).await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["state"]);

        let res = put(
            &app,
            &path,
            &json!({"state": "active", "traits": {}, "credentials": {"password": {"config": {"password": "short"}}}}),
        )
        .await;
        assert_envelope(res, StatusCode::BAD_REQUEST).await;

        let res = put(
            &app,
            &format!("/admin/identities/{}", Uuid::new_v4()),
            &json!({"state": "active", "traits": {}}),
        )
        .await;
        assert_envelope(res, StatusCode::NOT_FOUND).await;

        assert_eq!(get(&app, grace["id"].as_str().unwrap().parse().unwrap()).await, grace);
        assert_eq!(get(&app, ada["id"].as_str().unwrap().parse().unwrap()).await, ada);
    }

    async fn patch_applies_operations_as_an_update_would(kind) {
        let app = spawn_app(kind).await;
        let identity = created(&app, "ada@example.com").await;
        let id = identity["id"].as_str().unwrap();
        let res = patch(
            &app,
            &format!("/iam/identities/{id}"),
            &json!([
                {"op": "test", "path": "/traits/email", "value": "ada@example.com"},
                {"op": "replace", "path": "/traits/email", "value": "grace@example.com"},
                {"op": "add", "path": "/metadata_public/beta", "value": true},
                {"op": "remove", "path": "/metadata_admin"},
            ]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let patched: Value = res.json().await.unwrap();
        assert_eq!(patched["traits"], json!({"email": "grace@example.com"}));
        assert_eq!(patched["metadata_public"], json!({"plan": "free", "beta": true}));
        assert!(patched.get("metadata_admin").is_none());
        assert_eq!(get(&app, id.parse().unwrap()).await, patched);
        let res = app.sign_in_through_flow("grace@example.com", PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::OK, "the password stays");
    }

    async fn patch_refusals_name_the_operation_and_change_nothing(kind) {
        let app = spawn_app(kind).await;
        let identity = created(&app, "ada@example.com").await;
        created(&app, "grace@example.com").await;
        let path = format!("/admin/identities/{}", identity["id"].as_str().unwrap());

        let res = patch(&app, &path, &json!([
            {"op": "replace", "path": "/state", "value": "inactive"},
            {"op": "test", "path": "/traits/email", "value": "someone@example.com"},
        ])).await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["[1]"]);

        for forbidden in ["/id", "/credentials/password", "/created_at", "/updated_at"] {
            let res = patch(&app, &path, &json!([{"op": "replace", "path": forbidden, "value": "x"}])).await;
            let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            assert!(body["message"].as_str().unwrap().contains(forbidden), "{body}");
            assert_eq!(fields(&body), ["[0].path"]);
        }

        let res = patch(&app, &path, &json!([{"op": "remove", "path": "/traits/missing"}])).await;
        assert_envelope(res, StatusCode::BAD_REQUEST).await;

        let res = patch(&app, &path, &json!([{"op": "replace", "path": "/state", "value": 5}])).await;
        let body = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["state"]);

        let many = vec![json!({"op": "test", "path": "/state", "value": "active"}); 101];
        let res = patch(&app, &path, &Value::Array(many)).await;
        assert_envelope(res, StatusCode::BAD_REQUEST).await;

        let res = patch(&app, &path, &json!({"op": "test"})).await;
        assert_envelope(res, StatusCode::BAD_REQUEST).await;

        let res = patch(&app, &path, &json!([
            {"op": "replace", "path": "/traits/email", "value": "grace@example.com"},
        ])).await;
        assert_envelope(res, StatusCode::CONFLICT).await;

        let res = patch(&app, &format!("/admin/identities/{}", Uuid::new_v4()), &json!([])).await;
        assert_envelope(res, StatusCode::NOT_FOUND).await;

        assert_eq!(get(&app, identity["id"].as_str().unwrap().parse().unwrap()).await, identity);
    }

    async fn an_identity_set_inactive_cannot_sign_in(kind) {
        let app = spawn_app(kind).await;
        let identity = created(&app, "ada@example.com").await;
        let id = identity["id"].as_str().unwrap();
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::OK);

        let res = patch(
            &app,
            &format!("/admin/identities/{id}"),
            &json!([{"op": "replace", "path": "/state", "value": "inactive"}]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_ne!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        assert!(!text.contains("session_token"), "{text}");

        // Active again through a PUT: sign-ins work again.
        let res = put(
            &app,
            &format!("/admin/identities/{id}"),
            &json!({"state": "active", "traits": {"email": "ada@example.com"}}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}
