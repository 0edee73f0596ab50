//! Failed sign-ins hold the next ones back, per identifier and client address, in the store;
//! operators see and lift it. The per-address rate limits are off here: what holds is the
//! lockout alone.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Options, StoreKind, TestApp, assert_envelope, assert_refused, spawn_app_with};
use http_api::RateLimitSettings;

async fn app(kind: StoreKind) -> TestApp {
    spawn_app_with(
        kind,
        Options {
            rate_limits: RateLimitSettings::OFF,
            trusted_proxies: vec!["127.0.0.1/32"],
            ..Options::default()
        },
    )
    .await
}

impl TestApp {
    async fn identity_with_password(&self, email: &str, password: &str) -> Uuid {
        let res = self
            .post_json(
                "/admin/identities",
                &json!({
                    "traits": {"email": email},
                    "credentials": {"password": {"config": {"password": password}}}
                }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// A JSON sign-in from `address` (forwarded by a trusted proxy).
    async fn sign_in_from(
        &self,
        identifier: &str,
        password: &str,
        address: &str,
    ) -> reqwest::Response {
        self.sign_in_through_flow(identifier, password, Some(address))
            .await
    }

    async fn lockout(&self, id: Uuid) -> Value {
        let res = self
            .admin_client
            .get(format!("{}/admin/identities/{id}/lockout", self.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        res.json().await.unwrap()
    }
}

const ATTACKER: &str = "203.0.113.9";
const OWNER: &str = "198.51.100.7";

on_every_store! {
    async fn the_sixth_failure_in_a_row_waits_and_unknown_identifiers_answer_alike(kind) {
        let app = app(kind).await;
        app.identity_with_password("ada@example.com", "correct horse battery")
            .await;
        let mut answers = Vec::new();
        for identifier in ["ada@example.com", "nobody@example.com"] {
            for _ in 0..5 {
                let res = app.sign_in_from(identifier, "guess", ATTACKER).await;
                let (_, messages) = assert_refused(res).await;
                assert_eq!(messages[0].1, 4_000_006);
            }
            // Held back before the password is checked: the right one too.
            let res = app
                .sign_in_from(identifier, "correct horse battery", ATTACKER)
                .await;
            assert_eq!(res.headers()["retry-after"], "30");
            let mut error = assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await;
            assert_eq!(error["id"], "self_service_login_throttled");
            assert!(
                error["reason"].as_str().unwrap().contains("30 seconds"),
                "{error}"
            );
            error["request"] = Value::Null;
            answers.push(error);
        }
        assert_eq!(answers[0], answers[1], "a 429 tells nothing of who exists");
    }

    async fn an_attacker_elsewhere_does_not_lock_the_owner_out(kind) {
        let app = app(kind).await;
        app.identity_with_password("ada@example.com", "correct horse battery")
            .await;
        for _ in 0..5 {
            app.sign_in_from("ada@example.com", "guess", ATTACKER).await;
        }
        let res = app.sign_in_from("ada@example.com", "guess", ATTACKER).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let res = app
            .sign_in_from("ada@example.com", "correct horse battery", OWNER)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        // Addresses of one IPv6 /64 count as one.
        for suffix in 1..=5 {
            let address = format!("2001:db8:7:7::{suffix}");
            app.sign_in_from("ada@example.com", "guess", &address).await;
        }
        let res = app.sign_in_from("ada@example.com", "guess", "2001:db8:7:7::99").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    async fn an_operator_sees_and_lifts_a_lockout(kind) {
        let app = app(kind).await;
        let ada = app
            .identity_with_password("ada@example.com", "correct horse battery")
            .await;
        let clean = app.lockout(ada).await;
        assert_eq!(clean, json!({"identity_id": ada, "locked": false, "counts": []}));
        for _ in 0..5 {
            app.sign_in_from("Ada@Example.com", "guess", ATTACKER).await;
        }
        let locked = app.lockout(ada).await;
        assert_eq!(locked["locked"], true, "{locked}");
        let counts = locked["counts"].as_array().unwrap();
        assert_eq!(counts.len(), 2, "{locked}");
        assert!(counts[0].get("address").is_none(), "over all addresses first");
        assert_eq!(counts[0]["failures"], 5);
        assert!(counts[0].get("locked_until").is_none(), "{locked}");
        assert_eq!(counts[1]["address"], ATTACKER);
        assert_eq!(counts[1]["failures"], 5);
        assert!(counts[1]["locked_until"].is_string());

        let res = app
            .admin_client
            .delete(format!("{}/admin/identities/{ada}/lockout", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.lockout(ada).await["counts"], json!([]));
        let res = app
            .sign_in_from("ada@example.com", "correct horse battery", ATTACKER)
            .await;
        assert_eq!(res.status(), StatusCode::OK);

        let unknown = Uuid::new_v4();
        let res = app
            .admin_client
            .get(format!("{}/admin/identities/{unknown}/lockout", app.admin))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::NOT_FOUND).await;
    }

    async fn a_held_back_browser_gets_the_sign_in_page_saying_how_long(kind) {
        let app = app(kind).await;
        let flow = app
            .client
            .get(format!("{}/self-service/login/browser", app.public))
            .send()
            .await
            .unwrap();
        let location = flow.headers()["location"].to_str().unwrap().to_owned();
        let flow_id = location.rsplit_once("flow=").unwrap().1.to_owned();
        let post = || {
            app.client
                .post(format!("{}/self-service/login?flow={flow_id}", app.public))
                .header("origin", &app.public)
                .header("x-forwarded-for", ATTACKER)
                .form(&[
                    ("method", "password"),
                    ("identifier", "ada@example.com"),
                    ("password", "guess"),
                ])
                .send()
        };
        for _ in 0..5 {
            assert_eq!(post().await.unwrap().status(), StatusCode::OK);
        }
        let res = post().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()["retry-after"], "30");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = res.text().await.unwrap();
        assert!(page.contains("try again in 30 seconds"), "{page}");
    }
}
