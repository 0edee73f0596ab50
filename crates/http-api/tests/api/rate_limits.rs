//! Per-client rate limits on the public listener, with the limiters' clock in the test's hands.
//! The store plays no part in them, so they run on SQLite only.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::{Options, StoreKind, TestApp, assert_envelope, spawn_app_with};

/// The default login limit: a burst of 10, then one every 2 seconds.
const LOGIN_BURST: usize = 10;
const LOGIN_INTERVAL: Duration = Duration::from_secs(2);

async fn app(trusted_proxies: Vec<&'static str>) -> TestApp {
    spawn_app_with(
        StoreKind::Sqlite,
        Options {
            trusted_proxies,
            ..Options::default()
        },
    )
    .await
}

impl TestApp {
    /// A JSON login for an unknown flow (404 when let through), with extra `headers`.
    async fn login(&self, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!(
                "{}/self-service/login?flow={}",
                self.public,
                Uuid::new_v4()
            ))
            .json(&json!({"method": "password", "identifier": "a@example.com", "password": "x"}));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.unwrap()
    }

    /// Spends the login burst of whoever `headers` say the client is.
    async fn spend_login_burst(&self, headers: &[(&str, &str)]) {
        for _ in 0..LOGIN_BURST {
            assert_eq!(self.login(headers).await.status(), StatusCode::NOT_FOUND);
        }
    }

    async fn login_status(&self, headers: &[(&str, &str)]) -> StatusCode {
        self.login(headers).await.status()
    }
}

fn retry_after(res: &reqwest::Response) -> &str {
    res.headers()["retry-after"].to_str().unwrap()
}

#[tokio::test]
async fn one_address_is_throttled_with_retry_after_until_the_clock_moves() {
    let app = app(vec![]).await;
    app.spend_login_burst(&[]).await;
    let res = app.login(&[]).await;
    assert_eq!(retry_after(&res), "2");
    let error = assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        error["reason"].as_str().unwrap().contains("Wait 2 seconds"),
        "{error}"
    );

    app.clock
        .advance(LOGIN_INTERVAL - Duration::from_millis(500));
    let res = app.login(&[]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&res), "1", "rounded up to whole seconds");
    let error = assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .starts_with("Wait 1 second "),
        "{error}"
    );
    app.clock.advance(Duration::from_millis(500));
    assert_eq!(app.login_status(&[]).await, StatusCode::NOT_FOUND);
    assert_eq!(app.login_status(&[]).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn classes_are_limited_separately_and_other_routes_not_at_all() {
    let app = app(vec![]).await;
    app.spend_login_burst(&[]).await;
    assert_eq!(app.login_status(&[]).await, StatusCode::TOO_MANY_REQUESTS);
    let res = app
        .client
        .post(format!(
            "{}/self-service/recovery?flow={}",
            app.public,
            Uuid::new_v4()
        ))
        .json(&json!({"method": "code", "code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for _ in 0..50 {
        let res = app
            .client
            .get(format!("{}/health/alive", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_encoded_path_is_limited_as_the_route_it_reaches() {
    let app = app(vec![]).await;
    app.spend_login_burst(&[]).await;
    let res = app
        .client
        .post(format!(
            "{}/self-service/%6Cogin?flow={}",
            app.public,
            Uuid::new_v4()
        ))
        .json(&json!({"method": "password", "identifier": "a@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the limit was bypassed"
    );
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn flow_creation_is_limited_and_refused_requests_store_nothing() {
    let app = app(vec![]).await;
    // The sign-in page with a `flow`, even an empty one, stores no flow: it is not limited.
    for query in ["flow=", "flow", "flow=3fa85f64-5717-4562-b3fc-2c963f66afa6"] {
        for _ in 0..25 {
            app.client
                .get(format!("{}/login?{query}", app.public))
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(app.count("SELECT count(*) AS count FROM login_flows"), 0);
    for _ in 0..20 {
        let res = app
            .client
            .get(format!("{}/self-service/login/api", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app
        .client
        .get(format!("{}/self-service/login/browser", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&res), "1");
    // A single-page app asks a browser flow for JSON, and gets JSON when refused too.
    let res = app
        .client
        .get(format!("{}/self-service/login/browser", app.public))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await;
    let res = app
        .client
        .get(format!("{}/self-service/login/api", app.public))
        .send()
        .await
        .unwrap();
    assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(app.count("SELECT count(*) AS count FROM login_flows"), 20);
}

#[tokio::test]
async fn a_spoofed_forwarded_address_from_an_untrusted_peer_changes_nothing() {
    let app = app(vec![]).await;
    app.spend_login_burst(&[]).await;
    for header in ["x-forwarded-for", "forwarded"] {
        for n in 0..3 {
            let value = if header == "forwarded" {
                format!("for=198.51.100.{n}")
            } else {
                format!("198.51.100.{n}")
            };
            assert_eq!(
                app.login_status(&[(header, &value)]).await,
                StatusCode::TOO_MANY_REQUESTS,
                "{header}: {value}"
            );
        }
    }
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_read_right_to_left() {
    let app = app(vec!["127.0.0.1/32"]).await;
    let alice = [("x-forwarded-for", "198.51.100.1")];
    app.spend_login_burst(&alice).await;
    assert_eq!(
        app.login_status(&alice).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another forwarded client, and the proxy itself, have buckets of their own.
    assert_eq!(
        app.login_status(&[("x-forwarded-for", "198.51.100.2")])
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.login_status(&[]).await, StatusCode::NOT_FOUND);
    // Alice cannot escape by writing addresses on the left; trusted hops on the right are
    // skipped to find her.
    for chain in [
        "203.0.113.7, 198.51.100.1",
        "garbage, 198.51.100.1, 127.0.0.1",
    ] {
        assert_eq!(
            app.login_status(&[("x-forwarded-for", chain)]).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{chain}"
        );
    }
    // The same client named by RFC 7239, with a port.
    assert_eq!(
        app.login_status(&[("forwarded", "for=\"198.51.100.1:4711\";proto=https")])
            .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The rightmost untrusted hop is the client, whoever is named left of it.
    assert_eq!(
        app.login_status(&[("x-forwarded-for", "198.51.100.1, 198.51.100.3")])
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ipv6_addresses_in_one_64_share_a_bucket() {
    let app = app(vec!["127.0.0.1/32"]).await;
    for n in 0..LOGIN_BURST {
        let value = format!("for=\"[2001:db8:1:2::{n:x}]:4711\"");
        assert_eq!(
            app.login_status(&[("forwarded", &value)]).await,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.login_status(&[("x-forwarded-for", "2001:db8:1:2:ffff:ffff:ffff:ffff")])
            .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.login_status(&[("x-forwarded-for", "2001:db8:1:3::1")])
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn people_get_a_page_that_says_when_to_try_again() {
    let app = app(vec![]).await;
    let form_post = || {
        app.client
            .post(format!(
                "{}/self-service/login?flow={}",
                app.public,
                Uuid::new_v4()
            ))
            .header("origin", &app.public)
            .form(&[
                ("method", "password"),
                ("identifier", "a@example.com"),
                ("password", "x"),
            ])
            .send()
    };
    for _ in 0..LOGIN_BURST {
        form_post().await.unwrap();
    }
    let res = form_post().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&res), "2");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Wait 2 seconds, then try again."), "{html}");

    // The sign-in page creates a flow each time it is opened without one.
    for _ in 0..20 {
        let res = app
            .client
            .get(format!("{}/login", app.public))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = app
        .client
        .get(format!("{}/login", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&res), "1");
    assert!(res.text().await.unwrap().contains("Wait 1 second, then"));
}

#[tokio::test]
async fn state_kept_for_a_flood_of_clients_is_pruned() {
    let app = app(vec!["127.0.0.1/32"]).await;
    for n in 0..200 {
        let client = format!("198.51.{}.{}", n / 200, n % 200);
        app.login(&[("x-forwarded-for", &client)]).await;
    }
    assert_eq!(app.rate_limits.tracked(), 200);
    // Once every bucket is full again, pruning (every 1024 checks) forgets them all but the
    // one still sending.
    app.clock.advance(Duration::from_secs(60));
    for _ in 0..1024 {
        app.login(&[]).await;
    }
    assert_eq!(app.rate_limits.tracked(), 1);
}
