//! Identity traits: what is accepted reads back equal on every store, what cannot be kept is a
//! 400 that names the field, and a row that cannot be read does not break listings.

use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{TestApp, TestDb, assert_envelope, spawn_app};

/// Whether two documents are equal as JSON, numbers compared by value: `1e16` and
/// `10000000000000000` are the same number, and so are `-0.0` and `0`.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i128(), y.as_i128()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}

impl TestApp {
    /// Posts `body` as it is, JSON the client library could not write (`1e400`).
    pub async fn post_raw(&self, path: &str, body: &str) -> reqwest::Response {
        self.admin_client
            .post(format!("{}{path}", self.admin))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn get_admin(&self, path: &str) -> reqwest::Response {
        self.admin_client
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .unwrap()
    }

    /// The traits of identity `id`, as `GET /admin/identities/{id}` and the listing show them.
    pub async fn stored_traits(&self, id: &str) -> (Value, Value) {
        let res = self.get_admin(&format!("/admin/identities/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let one: Value = res.json().await.unwrap();
        let res = self.get_admin("/admin/identities?page_size=1000").await;
        assert_eq!(res.status(), StatusCode::OK);
        let all: Value = res.json().await.unwrap();
        let listed = all
            .as_array()
            .unwrap()
            .iter()
            .find(|identity| identity["id"] == id)
            .expect("the identity is listed");
        (one["traits"].clone(), listed["traits"].clone())
    }

    /// Writes an identity the service cannot read straight into the database: on PostgreSQL a
    /// `jsonb` number no `f64` holds, on SQLite text that is not JSON.
    pub fn insert_unreadable_identity(&self) -> Uuid {
        let id = Uuid::now_v7();
        let columns =
            "INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at)";
        let at = "'2026-11-25T10:30:00.123Z', '2026-11-25T10:30:00.123Z'";
        match &self.db {
            TestDb::Postgres(db) => db
                .connection()
                .batch_execute(&format!(
                    "{columns} VALUES ('{id}', 'default', 'active', '{{\"n\": 1e400}}', {at})"
                ))
                .unwrap(),
            // The table's CHECK keeps malformed text out; only a hand-edited database has it.
            TestDb::Sqlite(db) => db
                .connection()
                .batch_execute(&format!(
                    "PRAGMA ignore_check_constraints = ON;
                     {columns} VALUES ('{id}', 'default', 'active', '{{\"address\": ', {at})"
                ))
                .unwrap(),
        }
        id
    }
}

/// The fields a 400 envelope names in `details.fields`.
pub fn named_fields(error: &Value) -> Vec<String> {
    error["details"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

on_every_store! {
    async fn huge_and_tiny_numbers_read_back_equal(kind) {
        let app = spawn_app(kind).await;
        let traits = json!({
            "max": f64::MAX, "min": f64::MIN, "tiny": 5e-324, "smallest_normal": f64::MIN_POSITIVE,
            "negative_zero": -0.0, "e16": 1e16, "i64": [i64::MIN, i64::MAX], "u64": u64::MAX,
            "tenth": 0.1,
        });
        // As a client would write it, and in the literal form of the report: both parse alike.
        for body in [
            json!({ "traits": traits }).to_string(),
            r#"{"traits": {"max": 1.7976931348623157e308}}"#.to_owned(),
        ] {
            let res = app.post_raw("/admin/identities", &body).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            let created: Value = res.json().await.unwrap();
            let sent: Value = serde_json::from_str::<Value>(&body).unwrap()["traits"].clone();
            assert!(same_json(&created["traits"], &sent), "{created}");
            let (one, listed) = app.stored_traits(created["id"].as_str().unwrap()).await;
            assert!(same_json(&one, &sent), "{one} != {sent}");
            assert!(same_json(&listed, &sent), "{listed} != {sent}");
        }
    }

    async fn nul_characters_are_a_400_naming_the_field(kind) {
        let app = spawn_app(kind).await;
        for (traits, field) in [
            (json!({"address": {"lines": ["a", "b", "c\u{0}d"]}}), "traits.address.lines[2]"),
            (json!({"\u{0}": 1}), r#"traits["\u0000"]"#),
            (json!({"name": "\u{0}"}), "traits.name"),
        ] {
            let res = app.post_json("/admin/identities", &json!({ "traits": traits })).await;
            let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(named_fields(&error), [field], "{error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(field) && message.contains("NUL"), "{message}");
            assert!(error["details"]["fields"][0]["message"].as_str().unwrap().contains("\\u0000"));
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);
        assert_eq!(app.get_admin("/admin/identities").await.status(), StatusCode::OK);
    }

    async fn numbers_no_float_holds_are_a_400_naming_the_field(kind) {
        let app = spawn_app(kind).await;
        for (body, field) in [
            (&r#"{"traits": {"n": 1e400}}"#.to_owned(), "traits.n"),
            (&r#"{"traits": {"a": [0, -1e309]}}"#.to_owned(), "traits.a[1]"),
            (&format!(r#"{{"traits": {{"big": 1{}}}}}"#, "0".repeat(400)), "traits.big"),
        ] {
            let error = assert_envelope(app.post_raw("/admin/identities", body).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(named_fields(&error), [field], "{error}");
            let message = error["details"]["fields"][0]["message"].as_str().unwrap();
            assert!(message.contains("1.7976931348623157e308"), "{message}");
        }
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);
    }

    async fn other_undecodable_values_name_their_field(kind) {
        let app = spawn_app(kind).await;
        for (body, field) in [
            // A lone surrogate is no character at all.
            (r#"{"traits": {"name": "\ud800"}}"#, "traits.name"),
            (r#"{"traits": {"email": "a@b.co"}, "state": 5}"#, "state"),
            (r#"{"traits": {}, "credentials": {"password": {"config": {"password": 1}}}}"#, "credentials.password.config.password"),
        ] {
            let error = assert_envelope(app.post_raw("/admin/identities", body).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(named_fields(&error), [field], "{error}");
            assert!(error["message"].as_str().unwrap().contains(field), "{error}");
        }
        let body = r#"{"traits": {"name": "\ud800"}}"#;
        let error = assert_envelope(app.post_raw("/admin/identities", body).await, StatusCode::BAD_REQUEST).await;
        assert!(error["details"]["fields"][0]["message"].as_str().unwrap().contains("whole characters"), "{error}");
    }

    async fn nesting_is_bounded_at_32_levels(kind) {
        let app = spawn_app(kind).await;
        let nested = |levels: usize| (0..levels).fold(json!("leaf"), |inner, _| json!([inner]));
        // `traits` itself is the first level.
        let res = app.post_json("/admin/identities", &json!({"traits": {"a": nested(31)}})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app.post_json("/admin/identities", &json!({"traits": {"a": nested(32)}})).await;
        let error = assert_envelope(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(named_fields(&error), [format!("traits.a{}", "[0]".repeat(31))]);
        assert!(error["message"].as_str().unwrap().contains("deeper than 32 levels"), "{error}");
    }

    async fn nesting_beyond_what_the_parser_takes_is_a_400(kind) {
        let app = spawn_app(kind).await;
        let body = format!(r#"{{"traits": {{"a": {}1{}}}}}"#, "[".repeat(200), "]".repeat(200));
        let error = assert_envelope(app.post_raw("/admin/identities", &body).await, StatusCode::BAD_REQUEST).await;
        assert!(error["message"].as_str().unwrap().contains("at most 32 levels deep"), "{error}");
        assert_eq!(app.count("SELECT count(*) AS count FROM identities"), 0);
    }

    async fn every_field_refusal_lists_its_fields(kind) {
        let app = spawn_app(kind).await;
        for (body, field) in [
            (json!({"traits": {"email": 5}}), "traits.email"),
            (json!({"traits": {"email": "not-an-address"}}), "traits.email"),
            (json!({"traits": [1]}), "traits"),
            (json!({"schema_id": "customer"}), "schema_id"),
            (json!({"state": "banned"}), "state"),
        ] {
            let error = assert_envelope(app.post_json("/admin/identities", &body).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(named_fields(&error), [field], "{error}");
        }
    }

    async fn an_unreadable_row_does_not_break_the_listing(kind) {
        let app = spawn_app(kind).await;
        // Ids are time-ordered: a few milliseconds apart, they are ordered as created.
        let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
        let before = app.create_identity("ada@example.com").await;
        pause().await;
        let unreadable = app.insert_unreadable_identity();
        pause().await;
        let after = app.create_identity("bob@example.com").await;
        assert!(before < unreadable && unreadable < after);

        let res = app.get_admin("/admin/identities").await;
        assert_eq!(res.status(), StatusCode::OK);
        let listed: Vec<Value> = res.json().await.unwrap();
        let ids: Vec<&str> = listed.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [before.to_string(), after.to_string()]);

        // Page by page, the page that meets it is filled from the rows after it.
        let res = app.get_admin(&format!("/admin/identities?page_size=1&page_token={before}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Vec<Value> = res.json().await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0]["id"], after.to_string());

        // The row itself is an error of its own, with no content in the answer.
        let res = app.get_admin(&format!("/admin/identities/{unreadable}")).await;
        let error = assert_envelope(res, StatusCode::INTERNAL_SERVER_ERROR).await;
        assert!(!error.to_string().contains("1e400") && !error.to_string().contains("address"));
    }
}
