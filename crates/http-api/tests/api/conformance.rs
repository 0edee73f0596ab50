//! Conformance: every route, driven to every status it answers, its real body validated
//! (a) against Ory Kratos's OpenAPI document (`tests/kratos/openapi.json`) for the Kratos
//! operation it mirrors, and (b) against our own document, served on the same listener at
//! `GET /.well-known/openapi.json`. The answers we give otherwise than Kratos on purpose are
//! [`KRATOS_DIFFERENCES`], checked against our document only. A 405 is checked as an answer
//! of the operation whose path was called with the wrong method.
//!
//! What is driven and checked (both aliases of a route alike; "ours only" are the
//! [`KRATOS_DIFFERENCES`]; every store, but 503 on PostgreSQL only, whose store can be made
//! unreachable):
//!
//! | route | Kratos's operation | against both documents | against ours only |
//! |---|---|---|---|
//! | `GET /health/alive` (both listeners) | the same | 200 | 405, 421 (admin) |
//! | `GET /health/ready` (both listeners) | the same | 200 | 405, 421 (admin), 503 |
//! | `POST /admin/recovery/code`, `/iam/recovery/code` | `POST /admin/recovery/code` | 201, 400, 401, 404, 405, 413, 503 | 421 |
//! | `DELETE /admin/recovery/codes`, `/iam/recovery/codes` | none | | 204, 400, 401, 404, 405, 421, 503 |
//! | `GET /admin/metrics/prometheus`, `/iam/metrics/prometheus` | none (not in the copy) | | 200, 401, 405, 421 |
//! | `GET /admin/audit-events`, `/iam/audit-events` | none | | 200, 400, 401, 405, 421, 503 |
//! | `GET /admin/identities`, `/iam/identities` | `GET /admin/identities` | 200, 400, 401, 405, 503 | 421 |
//! | `POST /admin/identities`, `/iam/identities` | `POST /admin/identities` | 201, 400, 401, 405, 409, 413, 503 | 421 |
//! | `GET /admin/identities/{id}`, `/iam/…` | `GET /admin/identities/{id}` | 200, 401, 404, 405, 503 | 421 |
//! | `DELETE /admin/identities/{id}`, `/iam/…` | `DELETE /admin/identities/{id}` | 204, 401, 404, 405, 503 | 421 |
//! | `PUT /admin/identities/{id}`, `/iam/…` | `PUT /admin/identities/{id}` | 200, 400, 401, 404, 405, 409, 413, 503 | 421 |
//! | `PATCH /admin/identities/{id}`, `/iam/…` | `PATCH /admin/identities/{id}` | 200, 400, 401, 404, 405, 409, 413, 503 | 421 |
//! | `GET /admin/identities/{id}/lockout`, `/iam/…` | none | | 200, 401, 404, 405, 421, 503 |
//! | `DELETE /admin/identities/{id}/lockout`, `/iam/…` | none | | 204, 401, 404, 405, 421, 503 |
//! | `GET /schemas` | the same | 200, 400, 405 | |
//! | `GET /schemas/{id}` | the same | 200, 404, 405 | |
//! | `GET /self-service/recovery/flows` | the same | 200, 400, 404, 405, 410, 503 | |
//! | `POST /self-service/recovery` | the same | JSON 200, 400, 403, 404, 405, 410, 413, 503; form 303, 403 | 429; form pages 200, 400, 403, 404, 410, 429 |
//! | `GET /self-service/settings/flows` | the same | 200, 400, 401, 403, 404, 405, 410, 503 | |
//! | `POST /self-service/settings` | the same | JSON 200, 400, 401, 403, 404, 405, 410, 413, 503; form 303, 403 | 429; form pages 200, 429 |
//! | `GET /self-service/login/api` | the same | 200, 400, 405, 503 | 429 |
//! | `GET /self-service/login/browser` | the same | 200 (JSON asked for), 303, 400, 405, 503 | 429 (page) |
//! | `GET /self-service/login/flows` | the same | 200, 400, 404, 405, 410, 503 | |
//! | `POST /self-service/login` | the same | JSON 200, 400, 403, 404, 405, 410, 413, 503; form 303, 403 | 429 (rate limit, lockout); form pages 200, 429 |
//! | `GET /sessions/whoami` | the same | 200, 401, 405, 503 | |
//! | `DELETE /self-service/logout/api` | the same | 204, 400, 401, 405, 413, 503 | |
//! | `POST /self-service/logout` | none | | 303, 403, 405, 503 |
//! | `GET /recovery` (page) | none | | 200, 404, 405, 410, 503 |
//! | `GET /settings` (page) | none | | 200, 303, 403, 405, 503 |
//! | `GET /login` (page) | none | | 200, 303, 400, 405, 429, 503 |
//! | `GET /` (page) | none | | 200, 405, 503 |
//!
//! Not driven: a 500 (no route fails on purpose), the 503 of a full hashing queue, `HEAD` on
//! health, and `GET /.well-known/openapi.json` itself.

use std::sync::LazyLock;
use std::time::Duration;

use http_api::RateLimitSettings;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::openapi_check::{Answer, Op, OpenApi};
use crate::{Options, StoreKind, TestApp, spawn_app_with, unreachable_store, wrong};

static KRATOS: LazyLock<OpenApi> = LazyLock::new(|| {
    let mut document: Value = serde_json::from_str(include_str!("../kratos/openapi.json")).unwrap();
    // One deliberate difference inside a shape, so not in `KRATOS_DIFFERENCES`: Kratos's
    // document gives `genericError.details` no properties and `additionalProperties: false`
    // (an object that may hold nothing), which clients generated from it read as a free-form
    // map. Ours holds `fields`, naming each field at fault (see the README's envelope).
    let details = &mut document["components"]["schemas"]["genericError"]["properties"]["details"];
    assert_eq!(
        details["additionalProperties"], false,
        "Kratos's document changed: {details}"
    );
    details
        .as_object_mut()
        .unwrap()
        .remove("additionalProperties");
    OpenApi::new("Kratos's document", document)
});

/// Where our own document is served, on each listener.
const OUR_DOCUMENT: &str = "/.well-known/openapi.json";

/// Our aliases, and the Kratos route each mirrors. Every other route is Kratos's own path.
const ALIASES: &[(&str, &str)] = &[
    ("/iam/recovery/code", "/admin/recovery/code"),
    ("/iam/recovery/codes", "/admin/recovery/codes"),
    ("/iam/metrics/prometheus", "/admin/metrics/prometheus"),
    ("/iam/audit-events", "/admin/audit-events"),
    ("/iam/identities", "/admin/identities"),
    ("/iam/identities/{id}", "/admin/identities/{id}"),
    (
        "/iam/identities/{id}/lockout",
        "/admin/identities/{id}/lockout",
    ),
    (
        "/iam/identities/{id}/sessions",
        "/admin/identities/{id}/sessions",
    ),
    ("/iam/sessions/{id}", "/admin/sessions/{id}"),
];

/// What we answer otherwise than Kratos's document, on purpose.
enum Ours {
    /// A route Kratos does not have.
    Route(Op),
    /// A status Kratos's document does not list, on whatever route it is answered.
    Status(StatusCode),
    /// The error answers (non-2xx) of a route.
    Errors(Op),
    /// A page (HTML), where Kratos redirects browsers to a UI of its own.
    Page,
}

/// The answers checked against our document only, each with the reason it differs from
/// Kratos's. Routes are named by the Kratos path they mirror.
const KRATOS_DIFFERENCES: &[(Ours, &str)] = &[
    (
        Ours::Errors(Op::get("/health/ready")),
        "every error is the errorGeneric envelope, readiness' 503 too (Kratos's document: \
         `{errors}` for the 503, text/plain for other errors)",
    ),
    (
        Ours::Errors(Op::get("/health/alive")),
        "every error is the errorGeneric envelope (Kratos's document: text/plain)",
    ),
    (
        Ours::Status(StatusCode::MISDIRECTED_REQUEST),
        "the admin listener's Host check against DNS rebinding is ours",
    ),
    (
        Ours::Status(StatusCode::TOO_MANY_REQUESTS),
        "per-client rate limits and the sign-in lockout are ours",
    ),
    (
        Ours::Route(Op::get("/admin/identities/{id}/lockout")),
        "the lockout is ours",
    ),
    (
        Ours::Route(Op::delete("/admin/recovery/codes")),
        "revoking codes is ours (no peer offers it)",
    ),
    (
        Ours::Route(Op::get("/admin/metrics/prometheus")),
        "Kratos serves it too, but its document does not describe it",
    ),
    (
        Ours::Route(Op::get("/admin/audit-events")),
        "the stored audit trail is ours",
    ),
    (
        Ours::Route(Op::delete("/admin/identities/{id}/lockout")),
        "the lockout is ours",
    ),
    (
        Ours::Route(Op::post("/self-service/logout")),
        "the built-in pages sign out with a form post; Kratos signs browsers out with \
         GET /self-service/logout?token=",
    ),
    (
        Ours::Route(Op::get("/recovery")),
        "the built-in pages are ours",
    ),
    (
        Ours::Route(Op::get("/settings")),
        "the built-in pages are ours",
    ),
    (
        Ours::Route(Op::get("/login")),
        "the built-in pages are ours",
    ),
    (Ours::Route(Op::get("/")), "the built-in pages are ours"),
    (
        Ours::Page,
        "form posts from the built-in pages are answered with a page",
    ),
];

impl Ours {
    fn covers(&self, op: &Op, answer: &Answer) -> bool {
        match self {
            Self::Route(route) => route == op,
            Self::Status(status) => *status == answer.status,
            Self::Errors(route) => route == op && !answer.status.is_success(),
            Self::Page => answer.media_type.as_deref() == Some("text/html"),
        }
    }
}

/// The operation of Kratos's document that `answer` to `op` must match, unless it is one of
/// [`KRATOS_DIFFERENCES`].
fn kratos_operation(op: &Op, answer: &Answer) -> Option<Op> {
    let path = ALIASES
        .iter()
        .find(|(alias, _)| *alias == op.path)
        .map_or(op.path, |(_, kratos)| kratos);
    let mirrored = op.at(path);
    let differs = KRATOS_DIFFERENCES
        .iter()
        .any(|(ours, _)| ours.covers(&mirrored, answer));
    (!differs).then_some(mirrored)
}

#[derive(Debug, Clone, Copy)]
enum Listener {
    Admin,
    Public,
}

/// Checks an app's answers against both documents. Every mismatch is kept, and the test
/// fails with all of them when the checker is dropped.
struct Conformance {
    /// Our document on each listener, or why there is none.
    admin: Result<OpenApi, String>,
    public: Result<OpenApi, String>,
    failures: Vec<String>,
}

impl Conformance {
    async fn of(app: &TestApp) -> Self {
        let admin = our_document(&app.admin_client, &app.admin, "the admin listener").await;
        let public = our_document(&app.client, &app.public, "the public listener").await;
        let failures = [&admin, &public]
            .into_iter()
            .filter_map(|document| document.as_ref().err().cloned())
            .collect();
        Self {
            admin,
            public,
            failures,
        }
    }

    /// `res`, which must answer `status`, checked as an answer of `op` on the admin listener.
    async fn admin(&mut self, op: &Op, res: reqwest::Response, status: StatusCode) -> Answer {
        self.check(Listener::Admin, op, res, status).await
    }

    /// `res`, which must answer `status`, checked as an answer of `op` on the public listener.
    async fn public(&mut self, op: &Op, res: reqwest::Response, status: StatusCode) -> Answer {
        self.check(Listener::Public, op, res, status).await
    }

    async fn check(
        &mut self,
        listener: Listener,
        op: &Op,
        res: reqwest::Response,
        status: StatusCode,
    ) -> Answer {
        let answer = Answer::read(res).await;
        assert_eq!(answer.status, status, "{op}: {}", answer.text());
        if let Some(kratos) = kratos_operation(op, &answer) {
            self.keep(KRATOS.check(&kratos, &answer));
        }
        let ours = match listener {
            Listener::Admin => &self.admin,
            Listener::Public => &self.public,
        };
        if let Ok(ours) = ours {
            let checked = ours.check(op, &answer);
            self.keep(checked);
        }
        answer
    }

    fn keep(&mut self, checked: Result<(), String>) {
        if let Err(failure) = checked {
            self.failures.push(failure);
        }
    }
}

impl Drop for Conformance {
    fn drop(&mut self) {
        if !self.failures.is_empty() && !std::thread::panicking() {
            panic!(
                "{} nonconformities:\n\n{}",
                self.failures.len(),
                self.failures.join("\n\n")
            );
        }
    }
}

/// Our document as `listener` serves it at [`OUR_DOCUMENT`].
async fn our_document(
    client: &reqwest::Client,
    base: &str,
    listener: &str,
) -> Result<OpenApi, String> {
    let res = client
        .get(format!("{base}{OUR_DOCUMENT}"))
        .send()
        .await
        .unwrap();
    if res.status() != StatusCode::OK {
        return Err(format!(
            "our document: GET {OUR_DOCUMENT} on {listener} answered {}",
            res.status()
        ));
    }
    let document = res.json().await.map_err(|error| {
        format!("our document: GET {OUR_DOCUMENT} on {listener} is not JSON: {error}")
    })?;
    Ok(OpenApi::new(
        format!("our document on {listener}"),
        document,
    ))
}

/// An app whose limits stay out of the way: the 429s are driven on purpose, in their own test.
async fn app(kind: StoreKind) -> TestApp {
    app_with(kind, Options::default()).await
}

async fn app_with(kind: StoreKind, options: Options) -> TestApp {
    spawn_app_with(
        kind,
        Options {
            rate_limits: RateLimitSettings::OFF,
            ..options
        },
    )
    .await
}

/// An app on a PostgreSQL store that never answers.
async fn app_without_store() -> TestApp {
    app_with(
        StoreKind::Postgres,
        Options {
            store: Some(unreachable_store()),
            ..Options::default()
        },
    )
    .await
}

/// A body over the 64 KiB limit.
fn oversized() -> Value {
    json!({"identity_id": Uuid::new_v4(), "pad": "x".repeat(70 * 1024)})
}

/// `path` with `{id}` filled in.
fn concrete(path: &str, id: Uuid) -> String {
    path.replace("{id}", &id.to_string())
}

/// A method no route of ours takes: every path answers it 405.
const WRONG_METHOD: Method = Method::TRACE;

const PASSWORD: &str = "correct horse battery";

fn flow_of_link(issued: &Value) -> Uuid {
    let link = issued["recovery_link"].as_str().unwrap();
    link.rsplit_once("flow=").unwrap().1.parse().unwrap()
}

impl TestApp {
    fn admin_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.admin_client
            .request(method, format!("{}{path}", self.admin))
    }

    fn public_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.public))
    }

    /// A new identity with a password, in `state`.
    async fn identity(&self, email: &str, state: &str) -> Uuid {
        let res = self
            .post_json(
                "/admin/identities",
                &json!({"traits": {"email": email}, "state": state,
                        "credentials": {"password": {"config": {"password": PASSWORD}}}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// A recovery code of `flow_type` for `identity`: the flow and the code.
    async fn code_for(&self, identity: Uuid, body: Value) -> (Uuid, String) {
        let mut request = json!({"identity_id": identity});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let res = self.post_json("/iam/recovery/code", &request).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let issued: Value = res.json().await.unwrap();
        (
            flow_of_link(&issued),
            issued["recovery_code"].as_str().unwrap().to_owned(),
        )
    }

    fn code_submission(&self, flow: Uuid, body: &Value) -> RequestBuilder {
        self.public_request(Method::POST, &format!("/self-service/recovery?flow={flow}"))
            .json(body)
    }

    /// A browser form post from `origin`.
    fn form(&self, path: &str, origin: &str, form: &[(&str, &str)]) -> RequestBuilder {
        self.public_request(Method::POST, path)
            .header("origin", origin)
            .form(form)
    }

    /// Recovers a new identity `email` through an API flow: the session token and the
    /// settings flow it opened.
    async fn recovered(&self, email: &str) -> (String, Uuid) {
        let identity = self.identity(email, "active").await;
        let (flow, code) = self.code_for(identity, json!({"flow_type": "api"})).await;
        let res = self
            .code_submission(flow, &json!({"method": "code", "code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        let token = body["continue_with"][0]["ory_session_token"]
            .as_str()
            .unwrap();
        let settings = body["continue_with"][1]["flow"]["id"].as_str().unwrap();
        (token.to_owned(), settings.parse().unwrap())
    }

    /// A new API login flow's id.
    async fn login_flow(&self) -> Uuid {
        let flow: Value = self
            .public_request(Method::GET, "/self-service/login/api")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        flow["id"].as_str().unwrap().parse().unwrap()
    }
}

/// `POST /admin/recovery/code` and its alias.
static RECOVERY_CODE: [Op; 2] = [
    Op::post("/admin/recovery/code"),
    Op::post("/iam/recovery/code"),
];

/// `DELETE /admin/recovery/codes` and its alias.
static REVOKE_CODES: [Op; 2] = [
    Op::delete("/admin/recovery/codes"),
    Op::delete("/iam/recovery/codes"),
];

/// `GET /admin/metrics/prometheus` and its alias.
static METRICS: [Op; 2] = [
    Op::get("/admin/metrics/prometheus"),
    Op::get("/iam/metrics/prometheus"),
];

/// `GET /admin/audit-events` and its alias.
static AUDIT_EVENTS: [Op; 2] = [Op::get("/admin/audit-events"), Op::get("/iam/audit-events")];

/// The identity routes under one prefix.
struct IdentityRoutes {
    list: Op,
    create: Op,
    get: Op,
    delete: Op,
    lockout: Op,
    clear_lockout: Op,
    update: Op,
    patch: Op,
}

/// The identity routes under Kratos's prefix and under ours.
static IDENTITY_ROUTES: [IdentityRoutes; 2] = [
    IdentityRoutes {
        list: Op::get("/admin/identities"),
        create: Op::post("/admin/identities"),
        get: Op::get("/admin/identities/{id}"),
        delete: Op::delete("/admin/identities/{id}"),
        lockout: Op::get("/admin/identities/{id}/lockout"),
        clear_lockout: Op::delete("/admin/identities/{id}/lockout"),
        update: Op::put("/admin/identities/{id}"),
        patch: Op::patch("/admin/identities/{id}"),
    },
    IdentityRoutes {
        list: Op::get("/iam/identities"),
        create: Op::post("/iam/identities"),
        get: Op::get("/iam/identities/{id}"),
        delete: Op::delete("/iam/identities/{id}"),
        lockout: Op::get("/iam/identities/{id}/lockout"),
        clear_lockout: Op::delete("/iam/identities/{id}/lockout"),
        update: Op::put("/iam/identities/{id}"),
        patch: Op::patch("/iam/identities/{id}"),
    },
];

/// Every admin operation but health.
fn admin_operations() -> impl Iterator<Item = &'static Op> {
    RECOVERY_CODE
        .iter()
        .chain(&REVOKE_CODES)
        .chain(&METRICS)
        .chain(&AUDIT_EVENTS)
        .chain(IDENTITY_ROUTES.iter().flat_map(|routes| {
            [
                &routes.list,
                &routes.create,
                &routes.get,
                &routes.delete,
                &routes.lockout,
                &routes.clear_lockout,
                &routes.update,
                &routes.patch,
            ]
        }))
        .chain(SESSION_ROUTES.iter().flat_map(|routes| {
            [
                &routes.list,
                &routes.revoke_all,
                &routes.get,
                &routes.revoke,
            ]
        }))
}

/// The admin's session routes, under each prefix.
struct SessionRoutes {
    list: Op,
    revoke_all: Op,
    get: Op,
    revoke: Op,
}

static SESSION_ROUTES: [SessionRoutes; 2] = [
    SessionRoutes {
        list: Op::get("/admin/identities/{id}/sessions"),
        revoke_all: Op::delete("/admin/identities/{id}/sessions"),
        get: Op::get("/admin/sessions/{id}"),
        revoke: Op::delete("/admin/sessions/{id}"),
    },
    SessionRoutes {
        list: Op::get("/iam/identities/{id}/sessions"),
        revoke_all: Op::delete("/iam/identities/{id}/sessions"),
        get: Op::get("/iam/sessions/{id}"),
        revoke: Op::delete("/iam/sessions/{id}"),
    },
];

/// A session of the identity with `email` (and [`PASSWORD`]): its token and id.
async fn signed_in(app: &TestApp, email: &str) -> (String, String) {
    let body: Value = app
        .sign_in_through_flow(email, PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    (
        body["session_token"].as_str().unwrap().to_owned(),
        body["session"]["id"].as_str().unwrap().to_owned(),
    )
}

const HEALTH: [Op; 2] = [Op::get("/health/alive"), Op::get("/health/ready")];

on_every_store! {
    async fn health(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        for op in &HEALTH {
            let res = app.admin_request(Method::GET, op.path).send().await.unwrap();
            check.admin(op, res, StatusCode::OK).await;
            let res = app.public_request(Method::GET, op.path).send().await.unwrap();
            check.public(op, res, StatusCode::OK).await;
            let res = app.admin_request(Method::POST, op.path).send().await.unwrap();
            check.admin(op, res, StatusCode::METHOD_NOT_ALLOWED).await;
            let res = app.public_request(Method::POST, op.path).send().await.unwrap();
            check.public(op, res, StatusCode::METHOD_NOT_ALLOWED).await;
            let res = app
                .admin_request(Method::GET, op.path)
                .header("host", "evil.example.com")
                .send()
                .await
                .unwrap();
            check.admin(op, res, StatusCode::MISDIRECTED_REQUEST).await;
        }
    }

    async fn every_admin_route_refuses_strangers(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        for op in admin_operations() {
            let path = concrete(op.path, id);
            let res = app.client.request(op.method.clone(), format!("{}{path}", app.admin)).send().await.unwrap();
            check.admin(op, res, StatusCode::UNAUTHORIZED).await;
            let res = app
                .admin_request(op.method.clone(), &path)
                .header("host", "evil.example.com")
                .send()
                .await
                .unwrap();
            check.admin(op, res, StatusCode::MISDIRECTED_REQUEST).await;
            let res = app.admin_request(WRONG_METHOD, &path).send().await.unwrap();
            check.admin(op, res, StatusCode::METHOD_NOT_ALLOWED).await;
        }
    }

    async fn recovery_codes(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        for op in &RECOVERY_CODE {
            let post = |body: Value| app.admin_request(Method::POST, op.path).json(&body).send();
            check.admin(op, post(json!({"identity_id": id})).await.unwrap(), StatusCode::CREATED).await;
            let res = post(json!({"identity_id": id, "flow_type": "api", "expires_in": "15m"})).await.unwrap();
            check.admin(op, res, StatusCode::CREATED).await;
            let res = post(json!({"identity_id": id, "expires_in": "1d"})).await.unwrap();
            check.admin(op, res, StatusCode::BAD_REQUEST).await;
            let res = post(json!({"identity_id": Uuid::new_v4()})).await.unwrap();
            check.admin(op, res, StatusCode::NOT_FOUND).await;
            check.admin(op, post(oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
        }
    }

    async fn metrics(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        for op in &METRICS {
            let res = app.admin_request(Method::GET, op.path).send().await.unwrap();
            check.admin(op, res, StatusCode::OK).await;
        }
    }

    async fn audit_events(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        app.code_for(id, json!({})).await;
        for op in &AUDIT_EVENTS {
            let get = |query: String| app.admin_request(Method::GET, &format!("{}{query}", op.path)).send();
            for query in [String::new(), format!("?identity_id={id}&page_size=1"), format!("?identity_id={}", Uuid::new_v4())] {
                check.admin(op, get(query).await.unwrap(), StatusCode::OK).await;
            }
            for query in ["?page_size=0", "?page_token=nope", "?identity_id=nope"] {
                check.admin(op, get(query.into()).await.unwrap(), StatusCode::BAD_REQUEST).await;
            }
        }
    }

    async fn revoking_codes(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        for op in &REVOKE_CODES {
            app.code_for(id, json!({})).await;
            let delete = |query: String| app.admin_request(Method::DELETE, &format!("{}{query}", op.path)).send();
            check.admin(op, delete(format!("?identity_id={id}")).await.unwrap(), StatusCode::NO_CONTENT).await;
            check.admin(op, delete(String::new()).await.unwrap(), StatusCode::BAD_REQUEST).await;
            check.admin(op, delete("?identity_id=nope".into()).await.unwrap(), StatusCode::BAD_REQUEST).await;
            let res = delete(format!("?identity_id={}", Uuid::new_v4())).await.unwrap();
            check.admin(op, res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn recovery_codes_when_recovery_is_disabled(kind) {
        let mut options = Options::default();
        options.recovery.enabled = false;
        let app = app_with(kind, options).await;
        let mut check = Conformance::of(&app).await;
        let id = app.create_identity("ada@example.com").await;
        for op in &RECOVERY_CODE {
            let res = app.admin_request(Method::POST, op.path).json(&json!({"identity_id": id})).send().await.unwrap();
            check.admin(op, res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn identities(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        for (n, routes) in IDENTITY_ROUTES.iter().enumerate() {
            let IdentityRoutes { list, create, get, delete, .. } = routes;
            let prefix = list.path;
            let post = |body: Value| app.admin_request(Method::POST, prefix).json(&body).send();
            let email = format!("ada{n}@example.com");
            let res = post(json!({"traits": {"email": email},
                                  "credentials": {"password": {"config": {"password": PASSWORD}}}}))
                .await
                .unwrap();
            let created = check.admin(create, res, StatusCode::CREATED).await.json();
            let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
            let res = post(json!({"traits": {"email": email}})).await.unwrap();
            check.admin(create, res, StatusCode::CONFLICT).await;
            let res = post(json!({"traits": {"email": "not an address"}})).await.unwrap();
            check.admin(create, res, StatusCode::BAD_REQUEST).await;
            let res = post(json!([])).await.unwrap();
            check.admin(create, res, StatusCode::BAD_REQUEST).await;
            check.admin(create, post(oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;

            for query in ["", "?page_size=1", "?credentials_identifier=Ada0@example.com"] {
                let res = app.admin_request(Method::GET, &format!("{prefix}{query}")).send().await.unwrap();
                check.admin(list, res, StatusCode::OK).await;
            }
            let res = app.admin_request(Method::GET, &format!("{prefix}?page_size=0")).send().await.unwrap();
            check.admin(list, res, StatusCode::BAD_REQUEST).await;

            let path = concrete(get.path, id);
            check.admin(get, app.admin_request(Method::GET, &path).send().await.unwrap(), StatusCode::OK).await;
            let res = app.admin_request(Method::DELETE, &path).send().await.unwrap();
            check.admin(delete, res, StatusCode::NO_CONTENT).await;
            check.admin(get, app.admin_request(Method::GET, &path).send().await.unwrap(), StatusCode::NOT_FOUND).await;
            let res = app.admin_request(Method::DELETE, &path).send().await.unwrap();
            check.admin(delete, res, StatusCode::NOT_FOUND).await;
            let res = app.admin_request(Method::GET, &format!("{prefix}/not-a-uuid")).send().await.unwrap();
            check.admin(get, res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn admin_sessions(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        for SessionRoutes { list, revoke_all, get, revoke } in &SESSION_ROUTES {
            let (_, first) = signed_in(&app, "ada@example.com").await;
            signed_in(&app, "ada@example.com").await;
            let request = |method: Method, path: String| app.admin_request(method, &path).send();
            for query in ["", "?page_size=1", "?active=true"] {
                let res = request(Method::GET, format!("{}{query}", concrete(list.path, id))).await.unwrap();
                check.admin(list, res, StatusCode::OK).await;
            }
            let res = request(Method::GET, format!("{}?page_size=0", concrete(list.path, id))).await.unwrap();
            check.admin(list, res, StatusCode::BAD_REQUEST).await;
            let res = request(Method::GET, concrete(list.path, Uuid::new_v4())).await.unwrap();
            check.admin(list, res, StatusCode::NOT_FOUND).await;
            let session = get.path.replace("{id}", &first);
            check.admin(get, request(Method::GET, session.clone()).await.unwrap(), StatusCode::OK).await;
            check.admin(revoke, request(Method::DELETE, session.clone()).await.unwrap(), StatusCode::NO_CONTENT).await;
            // A revoked session is still found, inactive.
            check.admin(get, request(Method::GET, session).await.unwrap(), StatusCode::OK).await;
            let nobody = concrete(get.path, Uuid::new_v4());
            check.admin(get, request(Method::GET, nobody.clone()).await.unwrap(), StatusCode::NOT_FOUND).await;
            check.admin(revoke, request(Method::DELETE, nobody).await.unwrap(), StatusCode::NOT_FOUND).await;
            let res = request(Method::DELETE, concrete(revoke_all.path, id)).await.unwrap();
            check.admin(revoke_all, res, StatusCode::NO_CONTENT).await;
            let res = request(Method::DELETE, concrete(revoke_all.path, Uuid::new_v4())).await.unwrap();
            check.admin(revoke_all, res, StatusCode::NOT_FOUND).await;
            let res = app.admin_request(WRONG_METHOD, &concrete(list.path, id)).send().await.unwrap();
            check.admin(list, res, StatusCode::METHOD_NOT_ALLOWED).await;
        }
    }

    async fn my_sessions(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        app.identity("ada@example.com", "active").await;
        let (token, current) = signed_in(&app, "ada@example.com").await;
        let (_, other) = signed_in(&app, "ada@example.com").await;
        signed_in(&app, "ada@example.com").await;
        let list = Op::get("/sessions");
        let revoke = Op::delete("/sessions/{id}");
        let revoke_others = Op::delete("/sessions");
        let as_ada = |method: Method, path: String| {
            app.public_request(method, &path).header("x-session-token", &token).send()
        };
        check.public(&list, as_ada(Method::GET, "/sessions".into()).await.unwrap(), StatusCode::OK).await;
        let res = as_ada(Method::GET, "/sessions?page_size=0".into()).await.unwrap();
        check.public(&list, res, StatusCode::BAD_REQUEST).await;
        let res = app.public_request(Method::GET, "/sessions").send().await.unwrap();
        check.public(&list, res, StatusCode::UNAUTHORIZED).await;
        let res = as_ada(Method::DELETE, format!("/sessions/{other}")).await.unwrap();
        check.public(&revoke, res, StatusCode::NO_CONTENT).await;
        let res = as_ada(Method::DELETE, format!("/sessions/{current}")).await.unwrap();
        check.public(&revoke, res, StatusCode::BAD_REQUEST).await;
        let res = as_ada(Method::DELETE, format!("/sessions/{}", Uuid::new_v4())).await.unwrap();
        check.public(&revoke, res, StatusCode::NOT_FOUND).await;
        let res = app.public_request(Method::DELETE, &format!("/sessions/{other}")).send().await.unwrap();
        check.public(&revoke, res, StatusCode::UNAUTHORIZED).await;
        let res = as_ada(Method::DELETE, "/sessions".into()).await.unwrap();
        check.public(&revoke_others, res, StatusCode::OK).await;
        let res = app.public_request(Method::DELETE, "/sessions").send().await.unwrap();
        check.public(&revoke_others, res, StatusCode::UNAUTHORIZED).await;
        let res = app.public_request(WRONG_METHOD, "/sessions").send().await.unwrap();
        check.public(&list, res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn identity_updates(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        app.identity("grace@example.com", "active").await;
        for (n, IdentityRoutes { update, patch, .. }) in IDENTITY_ROUTES.iter().enumerate() {
            let email = format!("ada{n}@example.com");
            let id = app.identity(&email, "active").await;
            let path = concrete(update.path, id);
            let put = |body: Value| app.admin_request(Method::PUT, &path).json(&body).send();
            let res = put(json!({"state": "active", "traits": {"email": email, "name": "Ada"},
                                 "metadata_public": {"plan": "pro"}, "metadata_admin": {"tier": 2},
                                 "credentials": {"password": {"config": {"password": PASSWORD}}}}))
                .await
                .unwrap();
            check.admin(update, res, StatusCode::OK).await;
            let res = put(json!({"state": "active", "traits": {"email": "grace@example.com"}})).await.unwrap();
            check.admin(update, res, StatusCode::CONFLICT).await;
            let res = put(json!({"state": "banned", "traits": {}})).await.unwrap();
            check.admin(update, res, StatusCode::BAD_REQUEST).await;
            let res = put(json!({"traits": {}})).await.unwrap();
            check.admin(update, res, StatusCode::BAD_REQUEST).await;
            check.admin(update, put(oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
            let nobody = concrete(update.path, Uuid::new_v4());
            let res = app.admin_request(Method::PUT, &nobody).json(&json!({"state": "active", "traits": {}})).send().await.unwrap();
            check.admin(update, res, StatusCode::NOT_FOUND).await;

            let send = |body: Value| app.admin_request(Method::PATCH, &path).json(&body).send();
            let res = send(json!([{"op": "replace", "path": "/metadata_public", "value": {"plan": "free"}}])).await.unwrap();
            check.admin(patch, res, StatusCode::OK).await;
            let res = send(json!([{"op": "replace", "path": "/traits/email", "value": "grace@example.com"}])).await.unwrap();
            check.admin(patch, res, StatusCode::CONFLICT).await;
            let res = send(json!([{"op": "test", "path": "/state", "value": "inactive"}])).await.unwrap();
            check.admin(patch, res, StatusCode::BAD_REQUEST).await;
            let res = send(json!([{"op": "replace", "path": "/id", "value": "x"}])).await.unwrap();
            check.admin(patch, res, StatusCode::BAD_REQUEST).await;
            check.admin(patch, send(json!({})).await.unwrap(), StatusCode::BAD_REQUEST).await;
            let res = app.admin_request(Method::PATCH, &path).json(&vec![oversized()]).send().await.unwrap();
            check.admin(patch, res, StatusCode::PAYLOAD_TOO_LARGE).await;
            let res = app.admin_request(Method::PATCH, &nobody).json(&json!([])).send().await.unwrap();
            check.admin(patch, res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn lockout(kind) {
        let app = app_with(kind, Options { trusted_proxies: vec!["127.0.0.1/32"], ..Options::default() }).await;
        let mut check = Conformance::of(&app).await;
        let id = app.identity("ada@example.com", "active").await;
        app.sign_in_through_flow("ada@example.com", "wrong password", Some("203.0.113.9")).await;
        for IdentityRoutes { lockout: get, clear_lockout: delete, .. } in &IDENTITY_ROUTES {
            let path = concrete(get.path, id);
            check.admin(get, app.admin_request(Method::GET, &path).send().await.unwrap(), StatusCode::OK).await;
            let res = app.admin_request(Method::DELETE, &path).send().await.unwrap();
            check.admin(delete, res, StatusCode::NO_CONTENT).await;
            let nobody = concrete(get.path, Uuid::new_v4());
            let res = app.admin_request(Method::GET, &nobody).send().await.unwrap();
            check.admin(get, res, StatusCode::NOT_FOUND).await;
            let res = app.admin_request(Method::DELETE, &nobody).send().await.unwrap();
            check.admin(delete, res, StatusCode::NOT_FOUND).await;
        }
    }

    async fn schemas(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let op = Op::get("/schemas/{id}");
        let identity: Value = app
            .post_json("/admin/identities", &json!({"traits": {"email": "ada@example.com"}}))
            .await
            .json()
            .await
            .unwrap();
        let res = app.client.get(identity["schema_url"].as_str().unwrap()).send().await.unwrap();
        check.public(&op, res, StatusCode::OK).await;
        let res = app.public_request(Method::GET, "/schemas/Y3VzdG9tZXI").send().await.unwrap();
        check.public(&op, res, StatusCode::NOT_FOUND).await;
        let res = app.public_request(WRONG_METHOD, "/schemas/ZGVmYXVsdA").send().await.unwrap();
        check.public(&op, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let list = Op::get("/schemas");
        let res = app.public_request(Method::GET, "/schemas?page_size=1").send().await.unwrap();
        check.public(&list, res, StatusCode::OK).await;
        let res = app.public_request(Method::GET, "/schemas?page_size=0").send().await.unwrap();
        check.public(&list, res, StatusCode::BAD_REQUEST).await;
        let res = app.public_request(Method::GET, "/schemas?page_token=nope").send().await.unwrap();
        check.public(&list, res, StatusCode::BAD_REQUEST).await;
        let res = app.public_request(WRONG_METHOD, "/schemas").send().await.unwrap();
        check.public(&list, res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn recovery_flows(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let op = Op::get("/self-service/recovery/flows");
        let identity = app.identity("ada@example.com", "active").await;
        let (flow, _) = app.code_for(identity, json!({})).await;
        let get = |query: String| app.public_request(Method::GET, &format!("{}{query}", op.path)).send();
        check.public(&op, get(format!("?id={flow}")).await.unwrap(), StatusCode::OK).await;
        check.public(&op, get(String::new()).await.unwrap(), StatusCode::BAD_REQUEST).await;
        check.public(&op, get(format!("?id={}", Uuid::new_v4())).await.unwrap(), StatusCode::NOT_FOUND).await;
        let (expired, _) = app.code_for(identity, json!({"expires_in": "1ms"})).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        check.public(&op, get(format!("?id={expired}")).await.unwrap(), StatusCode::GONE).await;
        let res = app.public_request(WRONG_METHOD, &format!("{}?id={flow}", op.path)).send().await.unwrap();
        check.public(&op, res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn recovery_submissions(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let op = Op::post("/self-service/recovery");
        let identity = app.identity("ada@example.com", "active").await;
        let (flow, code) = app.code_for(identity, json!({"flow_type": "api"})).await;
        let submit = |flow, body: Value| app.code_submission(flow, &body).send();
        let res = submit(flow, json!({"method": "code", "code": wrong(&code)})).await.unwrap();
        check.public(&op, res, StatusCode::OK).await;
        let res = submit(flow, json!({"method": "code"})).await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;
        let res = submit(flow, json!({"method": "code", "code": code})).await.unwrap();
        let recovered = check.public(&op, res, StatusCode::OK).await.json();
        assert_eq!(recovered["state"], "passed_challenge");
        let res = submit(Uuid::new_v4(), json!({"method": "code", "code": code})).await.unwrap();
        check.public(&op, res, StatusCode::NOT_FOUND).await;
        for query in ["", "?flow=not-a-uuid"] {
            let path = format!("{}{query}", op.path);
            let res = app.public_request(Method::POST, &path).json(&json!({"code": code})).send().await.unwrap();
            check.public(&op, res, StatusCode::NOT_FOUND).await;
        }
        check.public(&op, submit(flow, oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
        let res = app.public_request(WRONG_METHOD, &format!("{}?flow={flow}", op.path)).send().await.unwrap();
        check.public(&op, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let (spent, code) = app.code_for(identity, json!({})).await;
        for _ in 0..5 {
            submit(spent, json!({"code": wrong(&code)})).await.unwrap();
        }
        let res = submit(spent, json!({"code": code})).await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;

        let (expired, code) = app.code_for(identity, json!({"expires_in": "1ms"})).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let res = submit(expired, json!({"code": code})).await.unwrap();
        check.public(&op, res, StatusCode::GONE).await;

        let disabled = app.identity("off@example.com", "inactive").await;
        let (flow, code) = app.code_for(disabled, json!({})).await;
        let res = submit(flow, json!({"code": code})).await.unwrap();
        check.public(&op, res, StatusCode::FORBIDDEN).await;
    }

    async fn recovery_forms_and_page(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let op = Op::post("/self-service/recovery");
        let page = Op::get("/recovery");
        let origin = app.public.clone();
        let identity = app.identity("ada@example.com", "active").await;
        let (flow, code) = app.code_for(identity, json!({})).await;
        let action = format!("/self-service/recovery?flow={flow}");
        let res = app.form(&action, "https://evil.example.net", &[("code", &code)]).send().await.unwrap();
        check.public(&op, res, StatusCode::FORBIDDEN).await;
        let res = app.form(&action, &origin, &[("code", &wrong(&code))]).send().await.unwrap();
        check.public(&op, res, StatusCode::OK).await;
        let show = |flow: String| app.public_request(Method::GET, &format!("/recovery?flow={flow}")).send();
        check.public(&page, show(flow.to_string()).await.unwrap(), StatusCode::OK).await;
        let res = app.form(&action, &origin, &[("code", &code)]).send().await.unwrap();
        check.public(&op, res, StatusCode::SEE_OTHER).await;
        check.public(&page, show(flow.to_string()).await.unwrap(), StatusCode::OK).await;
        check.public(&page, show(Uuid::new_v4().to_string()).await.unwrap(), StatusCode::NOT_FOUND).await;
        check.public(&page, show(String::from("not-a-uuid")).await.unwrap(), StatusCode::NOT_FOUND).await;
        let res = app.public_request(Method::GET, "/recovery").send().await.unwrap();
        check.public(&page, res, StatusCode::NOT_FOUND).await;
        let res = app.public_request(WRONG_METHOD, "/recovery").send().await.unwrap();
        check.public(&page, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let res = app
            .form(&format!("/self-service/recovery?flow={}", Uuid::new_v4()), &origin, &[("code", &code)])
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::NOT_FOUND).await;

        let (spent, code) = app.code_for(identity, json!({})).await;
        let action = format!("/self-service/recovery?flow={spent}");
        for _ in 0..5 {
            app.form(&action, &origin, &[("code", &wrong(&code))]).send().await.unwrap();
        }
        let res = app.form(&action, &origin, &[("code", &code)]).send().await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;

        let (expired, code) = app.code_for(identity, json!({"expires_in": "1ms"})).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let res = app
            .form(&format!("/self-service/recovery?flow={expired}"), &origin, &[("code", &code)])
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::GONE).await;
        check.public(&page, show(expired.to_string()).await.unwrap(), StatusCode::GONE).await;

        let disabled = app.identity("off@example.com", "inactive").await;
        let (flow, code) = app.code_for(disabled, json!({})).await;
        let res = app
            .form(&format!("/self-service/recovery?flow={flow}"), &origin, &[("code", &code)])
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::FORBIDDEN).await;
    }

    async fn settings(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let flows = Op::get("/self-service/settings/flows");
        let op = Op::post("/self-service/settings");
        let (token, flow) = app.recovered("ada@example.com").await;
        let (other_token, _) = app.recovered("bob@example.com").await;
        let get = |id: String, token: &str| {
            app.public_request(Method::GET, &format!("{}?id={id}", flows.path))
                .header("x-session-token", token)
                .send()
        };
        check.public(&flows, get(flow.to_string(), &token).await.unwrap(), StatusCode::OK).await;
        check.public(&flows, get(flow.to_string(), "ory_st_nobody").await.unwrap(), StatusCode::UNAUTHORIZED).await;
        check.public(&flows, get(flow.to_string(), &other_token).await.unwrap(), StatusCode::FORBIDDEN).await;
        check.public(&flows, get(Uuid::new_v4().to_string(), &token).await.unwrap(), StatusCode::NOT_FOUND).await;
        check.public(&flows, get(String::from("not-a-uuid"), &token).await.unwrap(), StatusCode::BAD_REQUEST).await;
        let res = app.public_request(WRONG_METHOD, flows.path).send().await.unwrap();
        check.public(&flows, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let submit = |flow: Uuid, token: &str, body: Value| {
            app.public_request(Method::POST, &format!("{}?flow={flow}", op.path))
                .header("x-session-token", token)
                .json(&body)
                .send()
        };
        let res = submit(flow, &token, json!({"method": "password", "password": "short"})).await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;
        let res = submit(flow, "ory_st_nobody", json!({"method": "password", "password": PASSWORD})).await.unwrap();
        check.public(&op, res, StatusCode::UNAUTHORIZED).await;
        let res = submit(flow, &other_token, json!({"method": "password", "password": PASSWORD})).await.unwrap();
        check.public(&op, res, StatusCode::FORBIDDEN).await;
        let res = submit(Uuid::new_v4(), &token, json!({"method": "password", "password": PASSWORD})).await.unwrap();
        check.public(&op, res, StatusCode::NOT_FOUND).await;
        for query in ["", "?flow=not-a-uuid"] {
            let res = app
                .public_request(Method::POST, &format!("{}{query}", op.path))
                .header("x-session-token", &token)
                .json(&json!({"method": "password", "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            check.public(&op, res, StatusCode::NOT_FOUND).await;
        }
        check.public(&op, submit(flow, &token, oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
        let res = app.public_request(WRONG_METHOD, &format!("{}?flow={flow}", op.path)).send().await.unwrap();
        check.public(&op, res, StatusCode::METHOD_NOT_ALLOWED).await;
        let res = submit(flow, &token, json!({"method": "password", "password": PASSWORD})).await.unwrap();
        check.public(&op, res, StatusCode::OK).await;
        let res = submit(flow, &token, json!({"method": "password", "password": PASSWORD})).await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;
    }

    async fn expired_settings_flows(kind) {
        let mut options = Options::default();
        options.selfservice.privileged_session_max_age = chrono::TimeDelta::milliseconds(300);
        let app = app_with(kind, options).await;
        let mut check = Conformance::of(&app).await;
        let (token, flow) = app.recovered("ada@example.com").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let flows = Op::get("/self-service/settings/flows");
        let res = app
            .public_request(Method::GET, &format!("{}?id={flow}", flows.path))
            .header("x-session-token", &token)
            .send()
            .await
            .unwrap();
        check.public(&flows, res, StatusCode::GONE).await;
        let op = Op::post("/self-service/settings");
        let res = app
            .public_request(Method::POST, &format!("{}?flow={flow}", op.path))
            .header("x-session-token", &token)
            .json(&json!({"method": "password", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::GONE).await;
    }

    async fn settings_forms_and_page(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let op = Op::post("/self-service/settings");
        let page = Op::get("/settings");
        let origin = app.public.clone();
        let (token, flow) = app.recovered("ada@example.com").await;
        let (other_token, _) = app.recovered("bob@example.com").await;
        let cookie = format!("ory_kratos_session={token}");
        let action = format!("/self-service/settings?flow={flow}");
        let show = |cookie: Option<String>| {
            let mut req = app.public_request(Method::GET, &format!("/settings?flow={flow}"));
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            req.send()
        };
        check.public(&page, show(Some(cookie.clone())).await.unwrap(), StatusCode::OK).await;
        check.public(&page, show(None).await.unwrap(), StatusCode::SEE_OTHER).await;
        let res = show(Some(format!("ory_kratos_session={other_token}"))).await.unwrap();
        check.public(&page, res, StatusCode::FORBIDDEN).await;
        let res = app.public_request(WRONG_METHOD, "/settings").send().await.unwrap();
        check.public(&page, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let post = |origin: &str, cookie: Option<&str>, password: &str| {
            let mut req = app.form(&action, origin, &[("method", "password"), ("password", password)]);
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            req.send()
        };
        let res = post("https://evil.example.net", Some(&cookie), PASSWORD).await.unwrap();
        check.public(&op, res, StatusCode::FORBIDDEN).await;
        check.public(&op, post(&origin, None, PASSWORD).await.unwrap(), StatusCode::SEE_OTHER).await;
        check.public(&op, post(&origin, Some(&cookie), "short").await.unwrap(), StatusCode::OK).await;
        check.public(&op, post(&origin, Some(&cookie), PASSWORD).await.unwrap(), StatusCode::SEE_OTHER).await;
        check.public(&page, show(Some(cookie.clone())).await.unwrap(), StatusCode::OK).await;
    }

    async fn login(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        app.identity("ada@example.com", "active").await;
        app.identity("off@example.com", "inactive").await;
        let api = Op::get("/self-service/login/api");
        let browser = Op::get("/self-service/login/browser");
        let flows = Op::get("/self-service/login/flows");
        let op = Op::post("/self-service/login");
        let get = |path: String| app.public_request(Method::GET, &path).send();
        let off_list = "?return_to=https%3A%2F%2Fevil.example.net%2F";
        let flow = check.public(&api, get(api.path.to_owned()).await.unwrap(), StatusCode::OK).await.json();
        check.public(&api, get(format!("{}{off_list}", api.path)).await.unwrap(), StatusCode::BAD_REQUEST).await;
        let res = app.public_request(WRONG_METHOD, api.path).send().await.unwrap();
        check.public(&api, res, StatusCode::METHOD_NOT_ALLOWED).await;
        check.public(&browser, get(browser.path.to_owned()).await.unwrap(), StatusCode::SEE_OTHER).await;
        // A single-page app asks for the flow itself.
        let res = app.public_request(Method::GET, browser.path).header("accept", "application/json").send().await.unwrap();
        check.public(&browser, res, StatusCode::OK).await;
        let res = get(format!("{}{off_list}", browser.path)).await.unwrap();
        check.public(&browser, res, StatusCode::BAD_REQUEST).await;
        let res = app.public_request(WRONG_METHOD, browser.path).send().await.unwrap();
        check.public(&browser, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let id = flow["id"].as_str().unwrap();
        check.public(&flows, get(format!("{}?id={id}", flows.path)).await.unwrap(), StatusCode::OK).await;
        check.public(&flows, get(flows.path.to_owned()).await.unwrap(), StatusCode::BAD_REQUEST).await;
        let res = get(format!("{}?id={}", flows.path, Uuid::new_v4())).await.unwrap();
        check.public(&flows, res, StatusCode::NOT_FOUND).await;
        let res = app.public_request(WRONG_METHOD, flows.path).send().await.unwrap();
        check.public(&flows, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let submit = |flow: &str, identifier: &str, password: &str| {
            app.public_request(Method::POST, &format!("{}?flow={flow}", op.path))
                .json(&json!({"method": "password", "identifier": identifier, "password": password}))
                .send()
        };
        let res = submit(id, "ada@example.com", "wrong password").await.unwrap();
        check.public(&op, res, StatusCode::BAD_REQUEST).await;
        check.public(&op, submit(id, "off@example.com", PASSWORD).await.unwrap(), StatusCode::FORBIDDEN).await;
        for flow in [Uuid::new_v4().to_string(), String::from("not-a-uuid"), String::new()] {
            let res = submit(&flow, "ada@example.com", PASSWORD).await.unwrap();
            check.public(&op, res, StatusCode::NOT_FOUND).await;
        }
        let path = format!("{}?flow={id}", op.path);
        let res = app.public_request(Method::POST, &path).json(&oversized()).send().await.unwrap();
        check.public(&op, res, StatusCode::PAYLOAD_TOO_LARGE).await;
        let res = app.public_request(WRONG_METHOD, op.path).send().await.unwrap();
        check.public(&op, res, StatusCode::METHOD_NOT_ALLOWED).await;
        let signed_in = check.public(&op, submit(id, "ada@example.com", PASSWORD).await.unwrap(), StatusCode::OK).await;
        assert!(signed_in.json()["session_token"].is_string());
    }

    async fn login_forms_and_pages(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        app.identity("ada@example.com", "active").await;
        let op = Op::post("/self-service/login");
        let page = Op::get("/login");
        let home = Op::get("/");
        let origin = app.public.clone();
        let browser = app.public_request(Method::GET, "/self-service/login/browser").send().await.unwrap();
        let location = browser.headers()["location"].to_str().unwrap().to_owned();
        let flow = location.rsplit_once("flow=").unwrap().1.to_owned();
        let res = app.public_request(Method::GET, &format!("/login?flow={flow}")).send().await.unwrap();
        check.public(&page, res, StatusCode::OK).await;
        let res = app.public_request(Method::GET, &format!("/login?flow={}", Uuid::new_v4())).send().await.unwrap();
        check.public(&page, res, StatusCode::SEE_OTHER).await;
        let res = app.public_request(Method::GET, "/login").send().await.unwrap();
        check.public(&page, res, StatusCode::SEE_OTHER).await;
        let res = app.public_request(Method::GET, "/login?flow=not-a-uuid").send().await.unwrap();
        check.public(&page, res, StatusCode::SEE_OTHER).await;
        let res = app.public_request(WRONG_METHOD, "/login").send().await.unwrap();
        check.public(&page, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let action = format!("/self-service/login?flow={flow}");
        let post = |origin: &str, password: &str| {
            app.form(&action, origin, &[("identifier", "ada@example.com"), ("password", password)]).send()
        };
        check.public(&op, post("https://evil.example.net", PASSWORD).await.unwrap(), StatusCode::FORBIDDEN).await;
        check.public(&op, post(&origin, "wrong password").await.unwrap(), StatusCode::OK).await;
        let res = post(&origin, PASSWORD).await.unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        check.public(&op, res, StatusCode::SEE_OTHER).await;
        let res = app
            .form(
                &format!("/self-service/login?flow={}", Uuid::new_v4()),
                &origin,
                &[("identifier", "a@b.co"), ("password", "x")],
            )
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::SEE_OTHER).await;

        for cookie in [Some(cookie), None] {
            let mut req = app.public_request(Method::GET, "/");
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            check.public(&home, req.send().await.unwrap(), StatusCode::OK).await;
        }
        let res = app.public_request(WRONG_METHOD, "/").send().await.unwrap();
        check.public(&home, res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn expired_login_flows(kind) {
        let mut options = Options::default();
        options.selfservice.flow_lifespan = chrono::TimeDelta::milliseconds(5);
        let app = app_with(kind, options).await;
        let mut check = Conformance::of(&app).await;
        let flow = app.login_flow().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let flows = Op::get("/self-service/login/flows");
        let res = app.public_request(Method::GET, &format!("{}?id={flow}", flows.path)).send().await.unwrap();
        check.public(&flows, res, StatusCode::GONE).await;
        let op = Op::post("/self-service/login");
        let res = app
            .public_request(Method::POST, &format!("{}?flow={flow}", op.path))
            .json(&json!({"method": "password", "identifier": "a@b.co", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::GONE).await;
    }

    async fn sessions(kind) {
        let app = app(kind).await;
        let mut check = Conformance::of(&app).await;
        let whoami = Op::get("/sessions/whoami");
        let logout_api = Op::delete("/self-service/logout/api");
        let logout = Op::post("/self-service/logout");
        let (token, _) = app.recovered("ada@example.com").await;
        let who = |token: &str| {
            app.public_request(Method::GET, whoami.path).header("x-session-token", token).send()
        };
        check.public(&whoami, who(&token).await.unwrap(), StatusCode::OK).await;
        check.public(&whoami, who("ory_st_nobody").await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let res = app.public_request(WRONG_METHOD, whoami.path).send().await.unwrap();
        check.public(&whoami, res, StatusCode::METHOD_NOT_ALLOWED).await;

        let end = |body: Value| app.public_request(Method::DELETE, logout_api.path).json(&body).send();
        check.public(&logout_api, end(json!({})).await.unwrap(), StatusCode::BAD_REQUEST).await;
        check.public(&logout_api, end(oversized()).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
        let res = app.public_request(WRONG_METHOD, logout_api.path).send().await.unwrap();
        check.public(&logout_api, res, StatusCode::METHOD_NOT_ALLOWED).await;
        check.public(&logout_api, end(json!({"session_token": token})).await.unwrap(), StatusCode::NO_CONTENT).await;
        check.public(&logout_api, end(json!({"session_token": token})).await.unwrap(), StatusCode::UNAUTHORIZED).await;

        let (token, _) = app.recovered("bob@example.com").await;
        let cookie = format!("ory_kratos_session={token}");
        let post = |origin: &str| {
            app.public_request(Method::POST, logout.path).header("origin", origin).header("cookie", &cookie).send()
        };
        check.public(&logout, post("https://evil.example.net").await.unwrap(), StatusCode::FORBIDDEN).await;
        check.public(&logout, post(&app.public).await.unwrap(), StatusCode::SEE_OTHER).await;
        let res = app.public_request(WRONG_METHOD, logout.path).send().await.unwrap();
        check.public(&logout, res, StatusCode::METHOD_NOT_ALLOWED).await;
    }

    async fn rate_limits(kind) {
        let app = spawn_app_with(kind, Options::default()).await;
        let mut check = Conformance::of(&app).await;
        // Flow creation: a burst of 20, whichever route stores the flow.
        for _ in 0..20 {
            app.login_flow().await;
        }
        for path in ["/self-service/login/api", "/self-service/login/browser", "/login"] {
            let res = app.public_request(Method::GET, path).send().await.unwrap();
            check.public(&Op::get(path), res, StatusCode::TOO_MANY_REQUESTS).await;
        }
        // Submissions: a burst of 10 each, JSON or form.
        let submissions = ["/self-service/login", "/self-service/recovery", "/self-service/settings"];
        for op in submissions.map(Op::post) {
            let path = format!("{}?flow={}", op.path, Uuid::new_v4());
            for _ in 0..10 {
                app.public_request(Method::POST, &path).json(&json!({})).send().await.unwrap();
            }
            let res = app.public_request(Method::POST, &path).json(&json!({})).send().await.unwrap();
            check.public(&op, res, StatusCode::TOO_MANY_REQUESTS).await;
            let res = app.form(&path, &app.public, &[("method", "password")]).send().await.unwrap();
            check.public(&op, res, StatusCode::TOO_MANY_REQUESTS).await;
        }
    }

    async fn the_lockout_holds_sign_ins_back(kind) {
        let app = app_with(kind, Options { trusted_proxies: vec!["127.0.0.1/32"], ..Options::default() }).await;
        let mut check = Conformance::of(&app).await;
        app.identity("ada@example.com", "active").await;
        let op = Op::post("/self-service/login");
        for _ in 0..5 {
            app.sign_in_through_flow("ada@example.com", "wrong password", Some("203.0.113.9")).await;
        }
        let res = app.sign_in_through_flow("ada@example.com", PASSWORD, Some("203.0.113.9")).await;
        check.public(&op, res, StatusCode::TOO_MANY_REQUESTS).await;
        let flow = app.public_request(Method::GET, "/self-service/login/browser").send().await.unwrap();
        let flow = flow.headers()["location"].to_str().unwrap().rsplit_once("flow=").unwrap().1.to_owned();
        let res = app
            .form(
                &format!("{}?flow={flow}", op.path),
                &app.public,
                &[("identifier", "ada@example.com"), ("password", PASSWORD)],
            )
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        check.public(&op, res, StatusCode::TOO_MANY_REQUESTS).await;
    }
}

#[tokio::test]
async fn every_route_that_reads_the_store_is_a_503_when_it_is_down() {
    let app = app_without_store().await;
    let mut check = Conformance::of(&app).await;
    let id = Uuid::new_v4();
    let ready = &HEALTH[1];
    let res = app
        .admin_request(Method::GET, ready.path)
        .send()
        .await
        .unwrap();
    check
        .admin(ready, res, StatusCode::SERVICE_UNAVAILABLE)
        .await;
    let res = app
        .public_request(Method::GET, ready.path)
        .send()
        .await
        .unwrap();
    check
        .public(ready, res, StatusCode::SERVICE_UNAVAILABLE)
        .await;
    // The metrics read no store.
    for op in admin_operations().filter(|op| !METRICS.contains(op)) {
        let body = if op.path.ends_with("/code") {
            json!({"identity_id": id})
        } else if op.method == Method::PUT {
            json!({"state": "active", "traits": {}})
        } else if op.method == Method::PATCH {
            json!([])
        } else {
            json!({"traits": {"email": "ada@example.com"}})
        };
        let path = if REVOKE_CODES.contains(op) {
            format!("{}?identity_id={id}", op.path)
        } else {
            concrete(op.path, id)
        };
        let res = app
            .admin_request(op.method.clone(), &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        check.admin(op, res, StatusCode::SERVICE_UNAVAILABLE).await;
    }

    let token = ("x-session-token", "ory_st_somebody");
    let cookie = ("cookie", "ory_kratos_session=ory_st_somebody");
    let submission = json!({"method": "password", "identifier": "a@b.co", "password": PASSWORD, "code": "123456"});
    let requests = [
        (
            Op::get("/self-service/recovery/flows"),
            format!("?id={id}"),
            None,
            None,
        ),
        (
            Op::post("/self-service/recovery"),
            format!("?flow={id}"),
            None,
            Some(&submission),
        ),
        (
            Op::get("/self-service/settings/flows"),
            format!("?id={id}"),
            Some(token),
            None,
        ),
        (
            Op::post("/self-service/settings"),
            format!("?flow={id}"),
            Some(token),
            Some(&submission),
        ),
        (
            Op::get("/self-service/login/api"),
            String::new(),
            None,
            None,
        ),
        (
            Op::get("/self-service/login/browser"),
            String::new(),
            None,
            None,
        ),
        (
            Op::get("/self-service/login/flows"),
            format!("?id={id}"),
            None,
            None,
        ),
        (
            Op::post("/self-service/login"),
            format!("?flow={id}"),
            None,
            Some(&submission),
        ),
        (
            Op::get("/sessions/whoami"),
            String::new(),
            Some(token),
            None,
        ),
        (
            Op::post("/self-service/logout"),
            String::new(),
            Some(cookie),
            None,
        ),
        (Op::get("/recovery"), format!("?flow={id}"), None, None),
        (
            Op::get("/settings"),
            format!("?flow={id}"),
            Some(cookie),
            None,
        ),
        (Op::get("/login"), String::new(), None, None),
        (Op::get("/"), String::new(), Some(cookie), None),
        (Op::get("/sessions"), String::new(), Some(token), None),
        (Op::delete("/sessions"), String::new(), Some(token), None),
        (
            Op::delete("/sessions/{id}"),
            String::new(),
            Some(token),
            None,
        ),
    ];
    for (op, query, header, body) in requests {
        let mut req = app.public_request(
            op.method.clone(),
            &format!("{}{query}", concrete(op.path, id)),
        );
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        if op.path == "/self-service/logout" {
            req = req.header("origin", &app.public);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        check
            .public(
                &op,
                req.send().await.unwrap(),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await;
    }
    let res = app
        .public_request(Method::DELETE, "/self-service/logout/api")
        .json(&json!({"session_token": "ory_st_somebody"}))
        .send()
        .await
        .unwrap();
    check
        .public(
            &Op::delete("/self-service/logout/api"),
            res,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
}

#[test]
fn routes_listed_as_ours_are_not_in_kratos_document() {
    // A route listed as ours must not be one Kratos has: its answers would go unchecked.
    for (ours, why) in KRATOS_DIFFERENCES {
        if let Ours::Route(op) = ours {
            let answer = Answer {
                status: StatusCode::OK,
                media_type: None,
                body: Vec::new(),
            };
            let checked = KRATOS.check(op, &answer);
            assert!(
                checked.is_err_and(|error| error.contains("has no operation")),
                "{op} is in Kratos's document, yet listed as ours ({why})"
            );
        }
    }
}
