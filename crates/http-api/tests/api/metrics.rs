//! The metrics as Prometheus scrapes them: parsed with a Prometheus text parser, the counters
//! moving with what happened, every label value bounded.

use std::collections::BTreeMap;

use prom_text_format_parser::{Scrape, ValueType};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{TestApp, spawn_app};

/// One line of a scrape: the series' name (`_count` and `_sum` as written), labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl TestApp {
    async fn scrape(&self) -> Vec<Sample> {
        let res = self
            .admin_client
            .get(format!("{}/admin/metrics/prometheus", self.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let text = res.text().await.unwrap();
        let scrape = Scrape::parse(&text).unwrap();
        scrape
            .metrics
            .iter()
            .flat_map(|metric| {
                metric.samples.iter().map(|sample| {
                    let suffix = match sample.value.value_type {
                        ValueType::Sample => "",
                        ValueType::Sum => "_sum",
                        ValueType::Count => "_count",
                    };
                    Sample {
                        name: format!("{}{suffix}", metric.name),
                        labels: sample
                            .labels
                            .iter()
                            .map(|label| (label.key.clone(), label.value.clone()))
                            .collect(),
                        value: sample.value.value.as_f64(),
                    }
                })
            })
            .collect()
    }
}

/// The sum of the series `name` over the samples whose labels include `labels`.
fn count(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(k, v)| sample.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|sample| sample.value)
        .sum()
}

on_every_store! {
    async fn the_counters_move_with_what_happens(kind) {
        let app = spawn_app(kind).await;
        // The recorder is one per process, shared with tests running beside this one: only
        // growth is asserted.
        let before = app.scrape().await;
        let identity = app.create_identity("ada@example.com").await;
        let issued: Value = app
            .post_json("/iam/recovery/code", &json!({"identity_id": identity, "flow_type": "api"}))
            .await
            .json()
            .await
            .unwrap();
        let flow = issued["recovery_link"].as_str().unwrap().rsplit_once("flow=").unwrap().1.to_owned();
        let submit = async |code: &str| {
            app.client
                .post(format!("{}/self-service/recovery?flow={flow}", app.public))
                .json(&json!({"method": "code", "code": code}))
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(submit("000000").await, StatusCode::OK);
        assert_eq!(submit(issued["recovery_code"].as_str().unwrap()).await, StatusCode::OK);
        assert_eq!(
            app.sign_in_through_flow("ada@example.com", "not the password", None).await.status(),
            StatusCode::BAD_REQUEST
        );
        let res = app
            .admin_client
            .delete(format!("{}/iam/recovery/codes?identity_id={identity}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let after = app.scrape().await;
        let grew = |name: &str, labels: &[(&str, &str)]| count(&after, name, labels) - count(&before, name, labels);
        assert!(grew("iam_recovery_codes_issued_total", &[]) >= 1.0);
        assert!(grew("iam_recovery_codes_redeemed_total", &[]) >= 1.0);
        assert!(grew("iam_recovery_codes_refused_total", &[("reason", "wrong")]) >= 1.0);
        assert!(grew("iam_sign_ins_total", &[("outcome", "failed")]) >= 1.0);
        let issue = [("listener", "admin"), ("route", "/iam/recovery/code"), ("method", "POST"), ("status", "201")];
        assert!(grew("iam_http_requests_total", &issue) >= 1.0);
        let code = [("listener", "public"), ("route", "/self-service/recovery"), ("status", "200")];
        assert!(grew("iam_http_requests_total", &code) >= 2.0);
        let read = [("route", "/iam/recovery/code"), ("listener", "admin")];
        assert!(grew("iam_http_request_duration_seconds_count", &read) >= 1.0);
        assert!(count(&after, "iam_store_connections", &[]) >= 1.0);
        assert!(count(&after, "iam_store_connection_wait_seconds_count", &[]) >= 1.0);
        assert!(after.iter().any(|s| s.name == "iam_password_hash_queue_length"));

        // Templates, never raw paths or ids.
        let res = app.admin_client.get(format!("{}/admin/identities/{}", app.admin, Uuid::new_v4())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.client.get(format!("{}/no/such/{}", app.public, Uuid::new_v4())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let after = app.scrape().await;
        assert!(count(&after, "iam_http_requests_total", &[("route", "/admin/identities/{id}"), ("status", "404")]) >= 1.0);
        assert!(count(&after, "iam_http_requests_total", &[("route", "unmatched"), ("status", "404")]) >= 1.0);
        for sample in &after {
            for value in sample.labels.values() {
                assert!(Uuid::parse_str(value).is_err() && !value.contains(&identity.to_string()), "{sample:?}");
            }
        }
    }
}
