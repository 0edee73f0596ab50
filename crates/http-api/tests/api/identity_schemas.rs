//! A custom identity schema end to end: traits checked against it, a username to sign in with,
//! an email address to recover with and to verify, and sessions seen and ended from both sides.

use domain::identity_schema::{IdentitySchema, IdentitySchemas};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Options, TestApp, assert_envelope, spawn_app_with};

/// A required `name`, a `username` people sign in with, and an `email` to recover with: the
/// README's worked example, as shipped.
pub const CUSTOMER: &str = include_str!("../../../../deploy/identity-schemas/customer.schema.json");

const PASSWORD: &str = "a long and unguessable password";

fn customer_app_options() -> Options {
    let customer = IdentitySchema::parse("customer", CUSTOMER).unwrap();
    let default = IdentitySchemas::built_in().default_schema().clone();
    Options {
        schemas: IdentitySchemas::new(vec![customer, default], "customer").unwrap(),
        ..Options::default()
    }
}

impl TestApp {
    async fn create_customer(&self, traits: Value) -> Value {
        let res = self
            .post_json(
                "/admin/identities",
                &json!({"traits": traits,
                        "credentials": {"password": {"config": {"password": PASSWORD}}}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    /// Redeems a fresh API code for `identity`: the session token.
    async fn redeem_code(&self, identity: &Value, request: Value) -> String {
        let mut body = json!({"identity_id": identity["id"], "flow_type": "api"});
        body.as_object_mut()
            .unwrap()
            .extend(request.as_object().unwrap().clone());
        let issued: Value = self
            .post_json("/iam/recovery/code", &body)
            .await
            .json()
            .await
            .unwrap();
        let link = issued["recovery_link"].as_str().unwrap();
        let flow = link.rsplit_once("flow=").unwrap().1;
        let res = self
            .client
            .post(format!("{}/self-service/recovery?flow={flow}", self.public))
            .json(&json!({"method": "code", "code": issued["recovery_code"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let redeemed: Value = res.json().await.unwrap();
        redeemed["continue_with"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|item| item["ory_session_token"].as_str())
            .unwrap()
            .to_owned()
    }

    async fn admin_get(&self, path: &str) -> Value {
        let res = self
            .admin_client
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.json().await.unwrap()
    }
}

fn fields(error: &Value) -> Vec<&str> {
    error["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect()
}

on_every_store! {
    async fn a_custom_schema_works_end_to_end(kind) {
        let app = spawn_app_with(kind, customer_app_options()).await;

        // Create: a missing or unknown trait is a 400 naming it; nothing is stored.
        let res = app
            .post_json("/admin/identities", &json!({"traits": {"username": "ada", "nickname": "A"}}))
            .await;
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&error), ["traits.name", "traits.nickname"]);
        let res = app
            .post_json("/admin/identities", &json!({"schema_id": "partner", "traits": {}}))
            .await;
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&error), ["schema_id"]);
        assert!(error["message"].as_str().unwrap().contains("\"customer\", \"default\""));
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);

        let ada = app
            .create_customer(json!({"username": "Ada.L", "name": "Ada", "email": "Ada@Example.com"}))
            .await;
        assert_eq!(ada["schema_id"], "customer");
        assert_eq!(
            ada["recovery_addresses"],
            json!([{"value": "ada@example.com", "via": "email"}])
        );
        assert_eq!(
            ada["verifiable_addresses"],
            json!([{"value": "ada@example.com", "via": "email", "verified": false, "status": "pending"}])
        );
        // The username is its own: another identity cannot take it, whatever its case.
        let res = app
            .post_json("/admin/identities", &json!({"traits": {"username": "ADA.l", "name": "B"}}))
            .await;
        assert_envelope(res, StatusCode::CONFLICT).await;

        // The schema is served where the identity says, and listed.
        let schema: Value = app.client.get(ada["schema_url"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
        assert_eq!(schema["title"], "Customer");
        let listed: Value = app.client.get(format!("{}/schemas", app.public)).send().await.unwrap().json().await.unwrap();
        let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["customer", "default"]);

        // Update: a PUT checked as a create, a PATCH applied then checked.
        let id = ada["id"].as_str().unwrap();
        let path = format!("{}/admin/identities/{id}", app.admin);
        let res = app.admin_client.put(&path)
            .json(&json!({"state": "active", "traits": {"username": "Ada.L", "email": "ada@example.com"}}))
            .send().await.unwrap();
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&error), ["traits.name"]);
        let res = app.admin_client.put(&path)
            .json(&json!({"state": "active", "traits": {"username": "Ada.L", "name": "Ada Lovelace", "email": "ada@example.com"}}))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.admin_client.patch(&path)
            .json(&json!([{"op": "add", "path": "/traits/nickname", "value": "A"}]))
            .send().await.unwrap();
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&error), ["traits.nickname"]);
        let res = app.admin_client.patch(&path)
            .json(&json!([{"op": "replace", "path": "/traits/name", "value": "Augusta Ada King"}]))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let updated: Value = res.json().await.unwrap();
        assert_eq!(updated["traits"]["name"], "Augusta Ada King");

        // A code the operator did not say was delivered to the mailbox proves nothing...
        let first = app.redeem_code(&ada, json!({})).await;
        let after = app.admin_get(&format!("/admin/identities/{id}")).await;
        assert_eq!(after["verifiable_addresses"][0]["verified"], false);
        // ...one that was asked to verify the address does.
        let recovered = app.redeem_code(&ada, json!({"mark_address_verified": true})).await;
        let after = app.admin_get(&format!("/admin/identities/{id}")).await;
        let address = &after["verifiable_addresses"][0];
        assert_eq!(address["verified"], true);
        assert_eq!(address["status"], "completed");
        assert!(address["verified_at"].is_string());
        let me: Value = app.whoami(&recovered).await.json().await.unwrap();
        assert_eq!(me["identity"]["verifiable_addresses"][0]["verified"], true);
        assert_eq!(
            me["authentication_methods"][0]["method"], "code_recovery"
        );

        // Sign in with the username, in any case; the email address is not an identifier.
        let signed_in = app.sign_in("ada.l", PASSWORD).await;
        let second = app.sign_in("  ADA.L ", PASSWORD).await;
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let found = app.admin_get("/admin/identities?credentials_identifier=ADA.L").await;
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(found[0]["id"], ada["id"]);

        // Sessions, from the person's side: the others, then all others ended.
        assert_envelope(app.whoami(&first).await, StatusCode::UNAUTHORIZED).await;
        let others = app.client.get(format!("{}/sessions", app.public))
            .header("x-session-token", &signed_in).send().await.unwrap();
        let others: Vec<Value> = others.json().await.unwrap();
        assert_eq!(others.len(), 2, "the recovered session and the second sign-in");
        let res = app.client.delete(format!("{}/sessions", app.public))
            .header("x-session-token", &signed_in).send().await.unwrap();
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"count": 2}));
        assert_envelope(app.whoami(&second).await, StatusCode::UNAUTHORIZED).await;

        // ...and from the admin's: listed with their methods, then all ended.
        let sessions = app.admin_get(&format!("/admin/identities/{id}/sessions?active=true")).await;
        let sessions = sessions.as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["authentication_methods"][0]["method"], "password");
        let res = app.admin_client.delete(format!("{}/admin/identities/{id}/sessions", app.admin))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_envelope(app.whoami(&signed_in).await, StatusCode::UNAUTHORIZED).await;
    }

    async fn the_sign_in_page_asks_for_the_schemas_identifier(kind) {
        let app = spawn_app_with(kind, customer_app_options()).await;
        let flow: Value = app.client.get(format!("{}/self-service/login/api", app.public))
            .send().await.unwrap().json().await.unwrap();
        let node = &flow["ui"]["nodes"][0];
        assert_eq!(node["attributes"]["name"], "identifier");
        assert_eq!(node["meta"]["label"], json!({"id": 1_070_002, "text": "Username", "type": "info"}));
        assert!(node["attributes"].get("autocomplete").is_none());
        let res = app.client.get(format!("{}/self-service/login/browser", app.public))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page_url = res.headers()["location"].to_str().unwrap().to_owned();
        let page = app.client.get(page_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<label for=\"identifier\">Username</label>"), "{page}");
        assert!(page.contains("name=\"identifier\" type=\"text\""), "{page}");
    }
}
