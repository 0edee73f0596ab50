use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{assert_envelope, spawn_app};

/// The `rel="next"` target of a `Link` header, if any.
fn next_link(res: &reqwest::Response) -> Option<String> {
    let link = res.headers().get("link")?.to_str().ok()?.to_owned();
    link.split(',')
        .find(|part| part.ends_with("rel=\"next\""))
        .map(|part| part[part.find('<').unwrap() + 1..part.find('>').unwrap()].to_owned())
}

on_every_store! {
    async fn creates_and_reads_an_identity_in_kratos_shape(kind) {
        let app = spawn_app(kind).await;
        for prefix in ["/admin/identities", "/iam/identities"] {
            let email = format!("ada{}@example.com", prefix.len());
            let res = app
                .post_json(
                    prefix,
                    &json!({
                        "traits": {"email": email, "name": "Ada"},
                        "credentials": {"password": {"config": {"password": "correct horse battery"}}}
                    }),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            let created: Value = res.json().await.unwrap();
            let id = created["id"].as_str().unwrap();
            assert_eq!(location, format!("{prefix}/{id}"));
            assert_eq!(created["schema_id"], "default");
            assert_eq!(
                created["schema_url"],
                format!("{}/schemas/ZGVmYXVsdA", app.public)
            );
            let schema: Value = app
                .client
                .get(created["schema_url"].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                schema["properties"]["traits"]["properties"]["email"]["format"],
                "email"
            );
            assert_eq!(created["state"], "active");
            assert_eq!(created["traits"], json!({"email": email, "name": "Ada"}));
            assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
            assert_eq!(created["created_at"], created["updated_at"]);
            assert!(created.get("credentials").is_none());
            assert!(!created.to_string().contains("correct horse"));

            let res = app
                .admin_client
                .get(format!("{}{location}", app.admin))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let fetched: Value = res.json().await.unwrap();
            assert_eq!(fetched, created);
        }
        assert_eq!(
            app.count(
                "SELECT count(*) AS count FROM identities WHERE password_hash LIKE '$argon2id$%'"
            ),
            2
        );
    }

    async fn refuses_bad_identities_with_a_clear_message(kind) {
        let app = spawn_app(kind).await;
        let cases = [
            (
                json!({"traits": {"email": "not-an-address"}}),
                "\"traits.email\" does not match identity schema \"default\"",
            ),
            (json!({"traits": {"email": 7}}), "traits.email"),
            (json!({"traits": ["a"]}), "traits"),
            (json!({"traits": {}, "state": "banned"}), "banned"),
            (json!({"traits": {}, "schema_id": "customer"}), "customer"),
            (
                json!({"traits": {}, "credentials": {"password": {"config": {"password": "short"}}}}),
                "at least 8",
            ),
        ];
        for (body, needle) in cases {
            let res = app.post_json("/admin/identities", &body).await;
            let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(needle), "{body}: {message}");
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);
    }

    async fn a_taken_email_is_a_409(kind) {
        let app = spawn_app(kind).await;
        app.create_identity("ada@example.com").await;
        let res = app
            .post_json(
                "/admin/identities",
                &json!({"traits": {"email": "ADA@example.com"}}),
            )
            .await;
        assert_envelope(res, StatusCode::CONFLICT).await;
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 1);
    }

    async fn unknown_and_malformed_ids_are_404(kind) {
        let app = spawn_app(kind).await;
        for id in [Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
            for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
                let res = app
                    .admin_client
                    .request(
                        method.clone(),
                        format!("{}/admin/identities/{id}", app.admin),
                    )
                    .send()
                    .await
                    .unwrap();
                let error = assert_envelope(res, StatusCode::NOT_FOUND).await;
                assert!(
                    error["reason"].as_str().unwrap().contains(&id),
                    "{method} {id}"
                );
            }
        }
    }

    async fn deleting_removes_the_identity_its_flows_and_codes(kind) {
        let app = spawn_app(kind).await;
        let id = app.create_identity("ada@example.com").await;
        let res = app
            .post_json("/iam/recovery/code", &json!({"identity_id": id}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app
            .admin_client
            .delete(format!("{}/admin/identities/{id}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.bytes().await.unwrap().is_empty());
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_flows"), 0);
        assert_eq!(app.count("SELECT count(*) AS count FROM recovery_codes"), 0);
        let res = app
            .admin_client
            .get(format!("{}/admin/identities/{id}", app.admin))
            .send()
            .await
            .unwrap();
        assert_envelope(res, StatusCode::NOT_FOUND).await;
    }

    async fn lists_page_by_page_following_the_link_header(kind) {
        let app = spawn_app(kind).await;
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(
                app.create_identity(&format!("user{n}@example.com"))
                    .await
                    .to_string(),
            );
        }
        ids.sort();

        let mut seen = Vec::new();
        let mut next = Some(format!("{}/admin/identities?page_size=2", app.admin));
        let mut pages = 0;
        while let Some(url) = next {
            let res = app.admin_client.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            next = next_link(&res);
            let page: Vec<Value> = res.json().await.unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            pages += 1;
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ids);
    }

    async fn finds_an_identity_by_credentials_identifier(kind) {
        let app = spawn_app(kind).await;
        let ada = app.create_identity("ada@example.com").await;
        app.create_identity("bob@example.com").await;
        let res = app
            .admin_client
            .get(format!(
                "{}/admin/identities?credentials_identifier=Ada%40example.com",
                app.admin
            ))
            .send()
            .await
            .unwrap();
        let link = res.headers()["link"].to_str().unwrap().to_owned();
        assert!(link.contains("credentials_identifier=Ada%40example.com"), "{link}");
        let found: Vec<Value> = res.json().await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["id"], ada.to_string());
    }

    async fn bad_paging_parameters_are_400(kind) {
        let app = spawn_app(kind).await;
        for query in [
            "page_size=0",
            "page_size=1001",
            "page_size=abc",
            "page_token=garbage",
        ] {
            let res = app
                .admin_client
                .get(format!("{}/admin/identities?{query}", app.admin))
                .send()
                .await
                .unwrap();
            assert_envelope(res, StatusCode::BAD_REQUEST).await;
        }
    }
}
