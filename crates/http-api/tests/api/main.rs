//! The real HTTP servers on free ports, against a real PostgreSQL schema of their own, driven
//! over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod envelope;
mod identities;
mod recovery_codes;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use application::ports::SystemClock;
use application::{RecoverySettings, Service};
use domain::code::CodeLength;
use domain::lifespan::LifespanPolicy;
use domain::secret::Secrets;
use http_api::{HttpSettings, ServerOptions};
use postgres_store::test_support::TestDatabase;
use postgres_store::{PgStore, PoolOptions};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

pub const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";

pub struct TestApp {
    pub admin: String,
    pub public: String,
    pub db: TestDatabase,
    pub client: reqwest::Client,
}

/// What a test may change about the app it starts.
pub struct Options {
    pub recovery: RecoverySettings,
    pub dev: bool,
    /// A store to use instead of the test database's (e.g. one that cannot connect).
    pub store: Option<PgStore>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            recovery: RecoverySettings {
                enabled: true,
                lifespan: LifespanPolicy::new(
                    Duration::from_secs(3600),
                    Duration::from_secs(720 * 3600),
                )
                .unwrap(),
                code_length: CodeLength::default(),
                invalidate_previous: true,
                ui_url: Url::parse("http://127.0.0.1:4433/recovery").unwrap(),
            },
            dev: false,
            store: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let db = TestDatabase::new();
    let store = options.store.unwrap_or_else(|| db.store.clone());
    let service = Arc::new(Service::new(
        store,
        Arc::new(SystemClock),
        options.recovery,
        Secrets::new(vec![SECRET.into()]).unwrap(),
    ));
    let admin_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let public_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = format!("http://{}", admin_listener.local_addr().unwrap());
    let public = format!("http://{}", public_listener.local_addr().unwrap());
    let settings = HttpSettings {
        dev: options.dev,
        public_base_url: Url::parse(&format!("{public}/")).unwrap(),
        admin_base_url: Url::parse(&format!("{admin}/")).unwrap(),
    };
    let server_options = ServerOptions { workers: 1 };
    let admin_server = http_api::admin_server(
        service.clone(),
        settings.clone(),
        admin_listener,
        server_options,
    )
    .unwrap();
    let public_server =
        http_api::public_server(service, settings, public_listener, server_options).unwrap();
    tokio::spawn(admin_server);
    tokio::spawn(public_server);
    TestApp {
        admin,
        public,
        db,
        client: reqwest::Client::new(),
    }
}

/// A store whose database never answers.
pub fn unreachable_store() -> PgStore {
    postgres_store::connect(
        "postgres://postgres@127.0.0.1:1/none",
        PoolOptions {
            max_connections: 1,
            connection_timeout: Duration::from_millis(300),
            ..PoolOptions::default()
        },
    )
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.admin))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_identity(&self, email: &str) -> Uuid {
        let res = self
            .post_json(
                "/admin/identities",
                &serde_json::json!({ "traits": { "email": email } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
    }

    /// `SELECT count(*) AS count ...` in this app's schema.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.db.connection())
            .unwrap()
            .count
    }
}

/// Checks `res` is the `errorGeneric` envelope with `status`, that `request` matches the
/// `X-Request-Id` header, and returns the inner `error` object.
pub async fn assert_envelope(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 1, "{body}");
    let error = &body["error"];
    for key in error.as_object().unwrap().keys() {
        assert!(
            [
                "code", "status", "message", "reason", "request", "id", "details", "debug"
            ]
            .contains(&key.as_str()),
            "unexpected key {key} in {body}"
        );
    }
    assert_eq!(error["code"], status.as_u16());
    assert_eq!(error["status"], status.canonical_reason().unwrap());
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert!(!error["reason"].as_str().unwrap().is_empty(), "{body}");
    assert_eq!(error["request"], request_id);
    error.clone()
}
