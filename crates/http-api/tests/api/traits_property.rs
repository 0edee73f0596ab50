//! Property: arbitrary JSON traits posted through the real API either read back equal (by
//! value, through `GET` and the listing) or are refused with a 400 envelope naming a field,
//! exactly when they hold what no store can keep: NUL characters or nesting deeper than
//! `domain::document::MAX_DEPTH`.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::documents::{named_fields, same_json};
use crate::{StoreKind, TestApp, spawn_app};

/// Enough to meet every kind of value often, few enough to keep the suite quick;
/// `PROPTEST_CASES` asks for more.
const CASES: u32 = 48;

fn number() -> impl Strategy<Value = Value> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, i64::MAX]).prop_map(Value::from),
        prop::sample::select(vec![u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) + 1])
            .prop_map(Value::from),
        (NORMAL | SUBNORMAL | ZERO | NEGATIVE | POSITIVE).prop_map(Value::from),
        prop::sample::select(vec![
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            1e16,
            1e300,
            -1e-300,
            0.1,
            1.234_567_890_123_456_7e18,
        ])
        .prop_map(Value::from),
    ]
}

/// Any characters, with the ones that need care (NUL, controls, quotes, escapes, separators,
/// non-characters, astral planes) much more often than chance would give them.
fn text() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '\0',
        '\u{1}',
        '\u{1f}',
        '"',
        '\\',
        '/',
        '\u{7f}',
        '\u{2028}',
        '\u{fffd}',
        '\u{feff}',
        '\u{ffff}',
        '\u{10ffff}',
        'é',
        '🦀',
        '.',
        '[',
        ' ',
    ]);
    prop_oneof![
        "[a-z0-9 ._@-]{0,12}",
        prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
        prop::collection::vec(tricky, 0..6).prop_map(String::from_iter),
    ]
}

/// Keys as varied as strings; never `email`, whose own rules are tested elsewhere.
fn key() -> impl Strategy<Value = String> {
    text().prop_map(|key| if key == "email" { "e-mail".into() } else { key })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A chain of arrays or one-key objects around a leaf, near the nesting bound.
fn deep() -> impl Strategy<Value = Value> {
    (leaf(), 25..40_usize, any::<bool>()).prop_map(|(leaf, levels, arrays)| {
        (0..levels).fold(leaf, |inner, _| {
            if arrays {
                json!([inner])
            } else {
                json!({ "k": inner })
            }
        })
    })
}

fn traits() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), prop_oneof![4 => document(), 1 => deep()], 0..6)
        .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>()))
}

/// The model: what no store can keep, counting `traits` itself as the first level.
fn storable(value: &Value, depth: usize) -> bool {
    match value {
        Value::String(text) => !text.contains('\0'),
        Value::Array(items) => {
            depth <= domain::document::MAX_DEPTH && items.iter().all(|v| storable(v, depth + 1))
        }
        Value::Object(members) => {
            depth <= domain::document::MAX_DEPTH
                && members
                    .iter()
                    .all(|(k, v)| !k.contains('\0') && storable(v, depth + 1))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Checks one document; whether it was accepted.
async fn round_trip(app: &TestApp, traits: Value) -> Result<bool, TestCaseError> {
    let res = app
        .post_json("/admin/identities", &json!({ "traits": traits }))
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    let accepted = storable(&traits, 1);
    if accepted {
        prop_assert_eq!(status, StatusCode::CREATED, "refused: {}", body);
        let (one, listed) = app.stored_traits(body["id"].as_str().unwrap()).await;
        prop_assert!(
            same_json(&body["traits"], &traits),
            "created {} != {}",
            body,
            traits
        );
        prop_assert!(same_json(&one, &traits), "read back {} != {}", one, traits);
        prop_assert!(
            same_json(&listed, &traits),
            "listed {} != {}",
            listed,
            traits
        );
    } else {
        prop_assert_eq!(status, StatusCode::BAD_REQUEST, "accepted: {}", body);
        let error = &body["error"];
        let fields = named_fields(error);
        prop_assert!(!fields.is_empty(), "no field named: {}", body);
        prop_assert!(fields.iter().all(|f| f.starts_with("traits")), "{}", body);
        let message = error["message"].as_str().unwrap_or_default();
        prop_assert!(message.contains(&fields[0]), "{}", body);
    }
    Ok(accepted)
}

fn run(kind: StoreKind) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(spawn_app(kind));
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(CASES),
        failure_persistence: None,
        ..Config::default()
    });
    let (accepted, refused) = (Cell::new(0), Cell::new(0));
    let outcome = runner.run(&traits(), |traits| {
        let counter = if runtime.block_on(round_trip(&app, traits))? {
            &accepted
        } else {
            &refused
        };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // The cases must have met both outcomes, or the property proved little.
    println!(
        "{kind:?}: {} accepted, {} refused",
        accepted.get(),
        refused.get()
    );
    assert!(accepted.get() > 0 && refused.get() > 0);
    // Every accepted document is still listed, all together.
    let listing = runtime.block_on(app.get_admin("/admin/identities?page_size=1000"));
    assert_eq!(listing.status(), StatusCode::OK);
}

#[test]
fn postgres() {
    run(StoreKind::Postgres);
}

#[test]
fn sqlite() {
    run(StoreKind::Sqlite);
}
