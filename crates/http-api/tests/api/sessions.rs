//! Sessions as Kratos keeps them: an inactive identity has none, the device that opened each,
//! the admin's view of an identity's sessions and the person's own.

use reqwest::StatusCode;
use serde_json::Value;

use crate::new_password::OLD_PASSWORD;
use crate::{Options, assert_envelope, spawn_app, spawn_app_with};

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

    async fn a_session_records_the_device_that_opened_it(kind) {
        let options = Options { trusted_proxies: vec!["127.0.0.1/32"], ..Options::default() };
        let app = spawn_app_with(kind, options).await;
        let (recovered, _) = app.recover_with_password("ada@example.com").await;
        let session: Value = app.whoami(&recovered).await.json().await.unwrap();
        let device = &session["devices"][0];
        assert_eq!(device["id"], session["id"]);
        assert_eq!(device["ip_address"], "127.0.0.1");
        assert!(device.get("user_agent").is_none(), "absent, never null: {device}");

        let flow: Value = app
            .client
            .get(format!("{}/self-service/login/api", app.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let long = "Mozilla/5.0 ".repeat(100);
        let signed_in: Value = app
            .client
            .post(format!("{}/self-service/login?flow={}", app.public, flow["id"].as_str().unwrap()))
            .header("user-agent", &long)
            .header("x-forwarded-for", "2001:db8::7")
            .json(&serde_json::json!({
                "method": "password", "identifier": "ada@example.com", "password": OLD_PASSWORD
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let devices = signed_in["session"]["devices"].as_array().unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0]["ip_address"], "2001:db8::7");
        let kept: String = long.trim().chars().take(512).collect();
        assert_eq!(devices[0]["user_agent"], kept.as_str());
        let again: Value = app
            .whoami(signed_in["session_token"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["devices"], signed_in["session"]["devices"]);
    }

    async fn the_admin_lists_reads_and_revokes_an_identitys_sessions(kind) {
        let app = spawn_app(kind).await;
        let (recovered, _) = app.recover_with_password("ada@example.com").await;
        let first = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        let second = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        let ada: Value = app.whoami(&first).await.json().await.unwrap();
        let id = ada["identity"]["id"].as_str().unwrap().to_owned();
        let get = |path: String| app.admin_client.get(format!("{}{path}", app.admin)).send();

        let res = get(format!("/admin/identities/{id}/sessions?page_size=2")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let link = res.headers()["link"].to_str().unwrap().to_owned();
        assert!(link.contains("rel=\"next\""), "{link}");
        let page: Vec<Value> = res.json().await.unwrap();
        assert_eq!(page.len(), 2);
        let next = link.split(',').find(|l| l.contains("next")).unwrap();
        let next = next.trim_start_matches('<').split('>').next().unwrap();
        let rest: Vec<Value> = app.admin_client.get(next).send().await.unwrap().json().await.unwrap();
        assert_eq!(rest.len(), 1);

        let session_id = ada["id"].as_str().unwrap();
        // The admin sees the admin metadata in the session's identity; the person never does.
        let res = app
            .admin_client
            .patch(format!("{}/admin/identities/{id}", app.admin))
            .json(&serde_json::json!([{"op": "add", "path": "/metadata_admin", "value": {"tier": 2}}]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = get(format!("/iam/sessions/{session_id}")).await.unwrap();
        let session: Value = res.json().await.unwrap();
        assert_eq!(session["active"], true);
        assert_eq!(session["identity"]["id"], id.as_str());
        assert_eq!(session["identity"]["metadata_admin"]["tier"], 2);
        let mine: Value = app.whoami(&first).await.json().await.unwrap();
        assert!(mine["identity"].get("metadata_admin").is_none(), "{mine}");

        let res = app.admin_client
            .delete(format!("{}/admin/sessions/{session_id}", app.admin))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_envelope(app.whoami(&first).await, StatusCode::UNAUTHORIZED).await;
        let session: Value = get(format!("/admin/sessions/{session_id}")).await.unwrap().json().await.unwrap();
        assert_eq!(session["active"], false);
        let active: Vec<Value> = get(format!("/admin/identities/{id}/sessions?active=true"))
            .await.unwrap().json().await.unwrap();
        assert_eq!(active.len(), 2);

        let res = app.admin_client
            .delete(format!("{}/iam/identities/{id}/sessions", app.admin))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        for token in [&recovered, &second] {
            assert_envelope(app.whoami(token).await, StatusCode::UNAUTHORIZED).await;
        }

        let unknown = uuid::Uuid::new_v4();
        for res in [
            get(format!("/admin/identities/{unknown}/sessions")).await.unwrap(),
            get(format!("/admin/sessions/{unknown}")).await.unwrap(),
            app.admin_client.delete(format!("{}/admin/identities/{unknown}/sessions", app.admin)).send().await.unwrap(),
            app.admin_client.delete(format!("{}/admin/sessions/{unknown}", app.admin)).send().await.unwrap(),
        ] {
            assert_envelope(res, StatusCode::NOT_FOUND).await;
        }
        assert_envelope(get(format!("/admin/identities/{id}/sessions?page_size=501")).await.unwrap(), StatusCode::BAD_REQUEST).await;
        let res = app.client.get(format!("{}/admin/sessions/{unknown}", app.admin)).send().await.unwrap();
        assert_envelope(res, StatusCode::UNAUTHORIZED).await;
    }

    async fn a_person_lists_and_ends_their_other_sessions(kind) {
        let app = spawn_app(kind).await;
        let (current, _) = app.recover_with_password("ada@example.com").await;
        let other = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        let third = app.sign_in("ada@example.com", OLD_PASSWORD).await;
        let (bobs, _) = app.recover_with_password("bob@example.com").await;
        let me: Value = app.whoami(&current).await.json().await.unwrap();
        let bob: Value = app.whoami(&bobs).await.json().await.unwrap();
        let other_session: Value = app.whoami(&other).await.json().await.unwrap();
        let with = |req: reqwest::RequestBuilder| req.header("x-session-token", &current).send();

        let res = with(app.client.get(format!("{}/sessions", app.public))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("link"));
        let listed: Vec<Value> = res.json().await.unwrap();
        assert_eq!(listed.len(), 2, "the other sessions, not the current one");
        assert!(listed.iter().all(|s| s["id"] != me["id"] && s["active"] == true));

        let path = |id: &Value| format!("{}/sessions/{}", app.public, id.as_str().unwrap());
        let error = assert_envelope(with(app.client.delete(path(&me["id"]))).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert_eq!(error["id"], "session_cannot_delete_current");
        assert_envelope(with(app.client.delete(path(&bob["id"]))).await.unwrap(), StatusCode::NOT_FOUND).await;
        let res = with(app.client.delete(path(&other_session["id"]))).await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_envelope(app.whoami(&other).await, StatusCode::UNAUTHORIZED).await;

        let res = with(app.client.delete(format!("{}/sessions", app.public))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let count: Value = res.json().await.unwrap();
        assert_eq!(count, serde_json::json!({"count": 1}));
        assert_envelope(app.whoami(&third).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.whoami(&current).await.status(), StatusCode::OK);
        assert_eq!(app.whoami(&bobs).await.status(), StatusCode::OK);

        for res in [
            app.client.get(format!("{}/sessions", app.public)).send().await.unwrap(),
            app.client.delete(format!("{}/sessions", app.public)).send().await.unwrap(),
            app.client.delete(path(&bob["id"])).send().await.unwrap(),
        ] {
            assert_envelope(res, StatusCode::UNAUTHORIZED).await;
        }
    }
}
