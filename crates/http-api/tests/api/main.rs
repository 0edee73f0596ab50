//! The real HTTP servers on free ports, against a real database of their own (PostgreSQL and
//! SQLite, every test on each), driven over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Runs each test once per store: `async fn name(kind) { ... }` becomes the module `name` with
/// the tests `postgres` and `sqlite`.
macro_rules! on_every_store {
    ($(async fn $name:ident($kind:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($kind: crate::StoreKind) $body

            #[tokio::test]
            async fn postgres() {
                run(crate::StoreKind::Postgres).await;
            }

            #[tokio::test]
            async fn sqlite() {
                run(crate::StoreKind::Sqlite).await;
            }
        }
    )*};
}

mod admin_auth;
mod audit_events;
mod conformance;
mod documents;
mod envelope;
mod headers;
mod identities;
mod identity_schemas;
mod identity_updates;
mod lockout;
mod metrics;
mod new_password;
mod openapi;
mod openapi_check;
mod rate_limits;
mod recovery_codes;
mod refusals;
mod self_service;
mod sessions;
mod traits_property;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use application::hashing::HashingOptions;
use application::ports::{RecoveryRepository, Store, SystemClock};
use application::{RecoverySettings, SelfServiceSettings, Service};
use diesel::{QueryableByName, RunQueryDsl};
use domain::code::CodeLength;
use domain::identity_schema::IdentitySchemas;
use domain::lifespan::LifespanPolicy;
use domain::password::HashCost;
use domain::recovery::{RecoveryFlow, StoredCode};
use domain::secret::Secrets;
use governor::clock::FakeRelativeClock;
use http_api::{
    AdminAccess, ApiKey, ClientPolicy, HttpSettings, RateLimitSettings, RateLimits, ServerOptions,
    TrustedProxies,
};
use postgres_store::{PgStore, PoolOptions};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

pub const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";
/// The admin API key of every test app, named [`ADMIN_KEY_NAME`].
pub const ADMIN_KEY: &str = "test-admin-key-that-is-long-enough-0123456789";
pub const ADMIN_KEY_NAME: &str = "test-suite";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Postgres,
    Sqlite,
}

/// The database behind a test app, kept for inspection and dropped with it.
pub enum TestDb {
    Postgres(postgres_store::test_support::TestDatabase),
    Sqlite(sqlite_store::test_support::TestDatabase),
}

pub struct TestApp {
    pub admin: String,
    pub public: String,
    pub db: TestDb,
    /// Sends nothing of its own: for the public listener, and the admin one unauthenticated.
    pub client: reqwest::Client,
    /// The rate limiters' clock: it stands still unless a test advances it.
    pub clock: FakeRelativeClock,
    pub rate_limits: Arc<RateLimits>,
    /// Sends the admin API key on every request.
    pub admin_client: reqwest::Client,
}

/// What a test may change about the app it starts.
pub struct Options {
    pub recovery: RecoverySettings,
    pub selfservice: SelfServiceSettings,
    pub dev: bool,
    /// A PostgreSQL store to use instead of the test database's (one that cannot connect).
    pub store: Option<PgStore>,
    /// The production defaults unless a test says otherwise.
    pub rate_limits: RateLimitSettings,
    /// Networks, e.g. `127.0.0.1/32`.
    pub trusted_proxies: Vec<&'static str>,
    /// A cheap Argon2 cost unless a test says otherwise: what these tests check does not
    /// depend on it, and the suite stays quick.
    pub hashing: HashingOptions,
    /// Who may call the admin listener: by default [`ADMIN_KEY`] only.
    pub access: AdminAccess,
    /// The public base URL, instead of the listener's own address.
    pub public_base_url: Option<Url>,
    /// The identity schemas: the built-in one unless a test says otherwise.
    pub schemas: IdentitySchemas,
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
                mark_address_verified: false,
            },
            selfservice: SelfServiceSettings {
                allowed_return_urls: vec![Url::parse("https://app.example.com/").unwrap()],
                ..SelfServiceSettings::default()
            },
            dev: false,
            store: None,
            rate_limits: RateLimitSettings::default(),
            trusted_proxies: Vec::new(),
            hashing: HashingOptions {
                cost: HashCost::new(64, 1, 1).unwrap(),
                ..HashingOptions::default()
            },
            access: AdminAccess {
                keys: vec![ApiKey::from_secret(ADMIN_KEY_NAME, ADMIN_KEY)],
                allowed_hosts: Vec::new(),
            },
            public_base_url: None,
            schemas: IdentitySchemas::built_in(),
        }
    }
}

pub async fn spawn_app(kind: StoreKind) -> TestApp {
    spawn_app_with(kind, Options::default()).await
}

pub async fn spawn_app_with(kind: StoreKind, options: Options) -> TestApp {
    match kind {
        StoreKind::Postgres => {
            let db = postgres_store::test_support::TestDatabase::new();
            let store = options.store.clone().unwrap_or_else(|| db.store.clone());
            serve(store, options, TestDb::Postgres(db))
        }
        StoreKind::Sqlite => {
            let db = sqlite_store::test_support::TestDatabase::new();
            let store = db.store.clone();
            serve(store, options, TestDb::Sqlite(db))
        }
    }
}

fn serve<S: Store>(store: S, options: Options, db: TestDb) -> TestApp {
    let service = Arc::new(
        Service::new(
            store,
            Arc::new(SystemClock),
            options.recovery,
            Secrets::new(vec![SECRET.into()]).unwrap(),
        )
        .with_selfservice(options.selfservice)
        .with_hashing(options.hashing)
        .with_schemas(options.schemas),
    );
    let admin_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let public_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = format!("http://{}", admin_listener.local_addr().unwrap());
    let public = format!("http://{}", public_listener.local_addr().unwrap());
    let settings = HttpSettings {
        dev: options.dev,
        public_base_url: options
            .public_base_url
            .unwrap_or_else(|| Url::parse(&format!("{public}/")).unwrap()),
        admin_base_url: Url::parse(&format!("{admin}/")).unwrap(),
    };
    let server_options = ServerOptions { workers: 1 };
    let clock = FakeRelativeClock::default();
    let rate_limits = Arc::new(RateLimits::with_clock(options.rate_limits, &clock));
    let clients = ClientPolicy {
        trusted_proxies: TrustedProxies::new(
            options
                .trusted_proxies
                .iter()
                .map(|network| network.parse().unwrap())
                .collect(),
        ),
        rate_limits: rate_limits.clone(),
    };
    let admin_server = http_api::admin_server(
        service.clone(),
        settings.clone(),
        options.access,
        admin_listener,
        server_options,
    )
    .unwrap();
    let public_server =
        http_api::public_server(service, settings, public_listener, server_options, clients)
            .unwrap();
    tokio::spawn(admin_server);
    tokio::spawn(public_server);
    TestApp {
        admin,
        public,
        db,
        // Redirects are part of what is tested: never followed.
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        clock,
        rate_limits,
        admin_client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {ADMIN_KEY}").parse().unwrap(),
            )]))
            .build()
            .unwrap(),
    }
}

/// A code of the same length as `code` with every digit different: never the right one.
pub fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
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

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

impl TestApp {
    /// A JSON sign-in through a fresh API login flow; `forwarded_for` names the client, as a
    /// trusted proxy would.
    pub async fn sign_in_through_flow(
        &self,
        identifier: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let flow: Value = self
            .client
            .get(format!("{}/self-service/login/api", self.public))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut req = self
            .client
            .post(format!(
                "{}/self-service/login?flow={}",
                self.public,
                flow["id"].as_str().unwrap()
            ))
            .json(&serde_json::json!({
                "method": "password", "identifier": identifier, "password": password
            }));
        if let Some(address) = forwarded_for {
            req = req.header("x-forwarded-for", address);
        }
        req.send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.admin_client
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

    /// `SELECT count(*) AS count ...` in this app's database (SQL both stores understand).
    pub fn count(&self, sql: &str) -> i64 {
        let query = diesel::sql_query(sql);
        match &self.db {
            TestDb::Postgres(db) => query.get_result::<Count>(&mut db.connection()),
            TestDb::Sqlite(db) => query.get_result::<Count>(&mut db.connection()),
        }
        .unwrap()
        .count
    }

    /// Runs `sql` (SQL both stores understand) in this app's database.
    pub fn execute(&self, sql: &str) -> usize {
        let query = diesel::sql_query(sql);
        match &self.db {
            TestDb::Postgres(db) => query.execute(&mut db.connection()),
            TestDb::Sqlite(db) => query.execute(&mut db.connection()),
        }
        .unwrap()
    }

    /// The stored flow, read back through the store's port.
    pub async fn flow(&self, id: Uuid) -> RecoveryFlow {
        match &self.db {
            TestDb::Postgres(db) => db.store.find_flow(id.into()).await,
            TestDb::Sqlite(db) => db.store.find_flow(id.into()).await,
        }
        .unwrap()
        .unwrap()
    }

    /// The codes of a flow that can still be redeemed now (counting a submission to see them).
    pub async fn live_codes(&self, flow_id: Uuid) -> Vec<StoredCode> {
        let now = chrono::Utc::now();
        match &self.db {
            TestDb::Postgres(db) => db.store.begin_submission(flow_id.into(), now).await,
            TestDb::Sqlite(db) => db.store.begin_submission(flow_id.into(), now).await,
        }
        .unwrap()
        .map(|submission| submission.codes)
        .unwrap_or_default()
    }

    /// Whether `text` appears anywhere in the stored data: in any column of any row on
    /// PostgreSQL, in the database files themselves on SQLite.
    pub fn database_contains(&self, text: &str) -> bool {
        match &self.db {
            TestDb::Postgres(_) => [
                "identities",
                "recovery_flows",
                "recovery_codes",
                "audit_events",
            ]
            .iter()
            .any(|table| {
                self.count(&format!(
                    "SELECT count(*) AS count FROM {table} t \
                         WHERE row_to_json(t)::text LIKE '%{text}%'"
                )) > 0
            }),
            TestDb::Sqlite(db) => {
                let mut files = vec![db.path.clone()];
                files.push(db.path.with_extension("sqlite-wal"));
                files
                    .iter()
                    .filter_map(|f| std::fs::read(f).ok())
                    .any(|bytes| bytes.windows(text.len()).any(|w| w == text.as_bytes()))
            }
        }
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
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
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

/// Checks that no cache may keep `res`: it carries a session or an identity.
pub fn assert_no_store(res: &reqwest::Response) {
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{}",
        res.url()
    );
}

/// A refused self-service submission: 400 with the flow itself (as Kratos), its messages
/// saying why. Returns the flow and every message (the form's, then each node's), as
/// `(field, id, text)` where `field` is the node's name (`None` for the whole form).
pub async fn assert_refused(res: reqwest::Response) -> (Value, Vec<(Option<String>, u64, String)>) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let flow: Value = res.json().await.unwrap();
    assert!(flow["id"].is_string(), "not a flow: {flow}");
    let ui = &flow["ui"];
    let message = |field: Option<String>, text: &Value| {
        assert_eq!(text["type"], "error", "{text}");
        (
            field,
            text["id"].as_u64().unwrap(),
            text["text"].as_str().unwrap().to_owned(),
        )
    };
    let mut messages: Vec<_> = ui["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| message(None, t))
        .collect();
    for node in ui["nodes"].as_array().unwrap() {
        let name = node["attributes"]["name"].as_str().unwrap().to_owned();
        messages.extend(
            node["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| message(Some(name.clone()), t)),
        );
    }
    assert!(!messages.is_empty(), "a refusal says why: {flow}");
    (flow, messages)
}
