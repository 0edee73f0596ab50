//! JSON documents the service stores (identity traits): what every store can keep and give
//! back equal.
//!
//! PostgreSQL keeps documents as `jsonb`, SQLite as text. `jsonb` refuses the NUL character in
//! strings and keys, and turns numbers into exact decimals that come back without an exponent
//! (`1e300` reads back as 301 digits). Refusing here, with the field named, is what keeps a
//! document that cannot be stored or read back out of every store.

use serde_json::{Number, Value};

/// How deeply arrays and objects may nest, counting the document itself.
pub const MAX_DEPTH: usize = 32;

/// At most this many problems are reported for one document.
pub const MAX_REPORTED: usize = 16;

/// One problem with one field of a document: `field` is its path (`traits.address.lines[2]`),
/// `message` says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    #[must_use]
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\" {}", self.field, self.message)
    }
}

/// The problems of a document, each with its field; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// `None` when there is nothing to report.
    #[must_use]
    pub fn from_vec(errors: Vec<FieldError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    #[must_use]
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut errors = self.0.iter();
        if let Some(first) = errors.next() {
            write!(f, "{first}")?;
        }
        match errors.len() {
            0 => Ok(()),
            1 => write!(f, " (and 1 more problem)"),
            more => write!(f, " (and {more} more problems)"),
        }
    }
}

/// The problems that keep `document` (found at `field`) from being stored and read back equal:
/// the NUL character in a string or a key, a number that would not read back as the same
/// number, nesting deeper than [`MAX_DEPTH`]. At most [`MAX_REPORTED`], in document order.
#[must_use]
pub fn check(field: &str, document: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    visit(field, document, 1, &mut errors);
    errors.truncate(MAX_REPORTED);
    errors
}

fn visit(field: &str, value: &Value, depth: usize, errors: &mut Vec<FieldError>) {
    if errors.len() >= MAX_REPORTED {
        return;
    }
    let nests = matches!(value, Value::Array(_) | Value::Object(_));
    if nests && depth > MAX_DEPTH {
        errors.push(FieldError::new(
            field,
            format!("nests arrays and objects deeper than {MAX_DEPTH} levels: flatten it"),
        ));
        return;
    }
    match value {
        Value::Null | Value::Bool(_) => {}
        Value::String(text) => {
            if text.contains('\0') {
                errors.push(FieldError::new(field, NUL_IN_STRING));
            }
        }
        Value::Number(number) => {
            if !reads_back_equal(number) {
                errors.push(FieldError::new(
                    field,
                    format!("holds the number {number}, which cannot be stored exactly: send it with fewer digits"),
                ));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                visit(&format!("{field}[{index}]"), item, depth + 1, errors);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                let path = member_path(field, key);
                if key.contains('\0') {
                    errors.push(FieldError::new(&path, NUL_IN_KEY));
                }
                visit(&path, member, depth + 1, errors);
            }
        }
    }
}

const NUL_IN_STRING: &str = "must not contain the NUL character (\\u0000): remove it";
const NUL_IN_KEY: &str = "has a key with the NUL character (\\u0000): rename the key";

/// The path of member `key` of the object at `field`: `field.key` for plain names, else
/// `field["the key"]` with the key as a JSON string, so any key can be told apart.
#[must_use]
pub fn member_path(field: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{field}.{key}")
    } else {
        format!("{field}[{}]", Value::from(key))
    }
}

/// Whether `number` comes back as the same number from every store. Integers are kept exactly.
/// A float is written as its shortest decimal (`1e300`), and PostgreSQL gives it back written
/// out in full (`1000…0`); parsing that must give the same float.
fn reads_back_equal(number: &Number) -> bool {
    if number.is_i64() || number.is_u64() {
        return true;
    }
    let Some(float) = number.as_f64().filter(|f| f.is_finite()) else {
        return false;
    };
    // `Display` of f64 is the shortest decimal that parses back, written without an exponent,
    // as `jsonb` prints it.
    let written_out = format!("{float}");
    let shortest = Value::from(float).to_string();
    [written_out, shortest].iter().all(|text| {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|back| back.as_f64())
            .is_some_and(|back| back == float)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(document: &Value) -> Vec<String> {
        check("traits", document)
            .into_iter()
            .map(|error| error.field)
            .collect()
    }

    #[test]
    fn ordinary_documents_pass() {
        let document = json!({
            "email": "ada@example.com",
            "name": {"first": "Ada", "last": "Lovelace"},
            "tags": ["a", "b", 1, 2.5, -0.0, null, true],
            "control": "\u{1}\u{1f}\u{7f}",
            "": "an empty key is fine",
            "emoji 🦀": "\u{10ffff}",
        });
        assert_eq!(check("traits", &document), vec![]);
    }

    #[test]
    fn nul_in_strings_and_keys_is_named() {
        let document = json!({"address": {"lines": ["a", "b", "c\u{0}"]}, "k\u{0}": 1});
        assert_eq!(
            fields(&document),
            ["traits.address.lines[2]", r#"traits["k\u0000"]"#]
        );
        let errors = check("traits", &document);
        assert!(errors[0].message.contains("NUL"), "{errors:?}");
        assert!(errors[1].message.contains("rename"), "{errors:?}");
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(member_path("traits", "a.b"), r#"traits["a.b"]"#);
        assert_eq!(member_path("traits", ""), r#"traits[""]"#);
        assert_eq!(member_path("traits", "0"), r#"traits["0"]"#);
        assert_eq!(member_path("traits", "first_name"), "traits.first_name");
        assert_eq!(member_path("traits", "x-y"), "traits.x-y");
    }

    #[test]
    fn every_finite_number_reads_back_equal() {
        for number in [
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            1e16,
            0.1,
            1.797_693_134_862_315_7e308,
            2.225_073_858_507_201e-308,
            123_456_789.123_456_79,
        ] {
            let value = Value::from(number);
            let Value::Number(n) = &value else {
                panic!("{number} is not a number")
            };
            assert!(reads_back_equal(n), "{number}");
        }
        for integer in [json!(i64::MIN), json!(i64::MAX), json!(u64::MAX), json!(0)] {
            assert_eq!(check("traits", &json!({ "n": integer })), vec![]);
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let mut document = json!("leaf");
        for _ in 0..MAX_DEPTH {
            document = json!([document]);
        }
        assert_eq!(check("traits", &document), vec![]);
        let too_deep = json!({ "a": document });
        let errors = check("traits", &too_deep);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].field,
            format!("traits.a{}", "[0]".repeat(MAX_DEPTH - 1))
        );
        assert!(errors[0].message.contains("32"), "{errors:?}");
    }

    #[test]
    fn reports_are_bounded() {
        let document = Value::Array(vec![json!("\u{0}"); 100]);
        assert_eq!(check("traits", &document).len(), MAX_REPORTED);
    }
}
