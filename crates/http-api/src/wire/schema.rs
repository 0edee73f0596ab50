//! `identitySchema`: the JSON Schema each identity's `schema_url` points to.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::value::RawValue;

/// The built-in schema: the rules of `domain::identity`, an optional, unique email that
/// people sign in with. Served as written.
const DEFAULT: &str = include_str!("default-identity-schema.json");

/// The `schema_url` path of the schema `schema_id`: its id in base64url, as Kratos.
pub(crate) fn path_of(schema_id: &str) -> String {
    format!("schemas/{}", URL_SAFE_NO_PAD.encode(schema_id))
}

/// The schema with the base64url id `encoded`, when there is one.
pub(crate) fn find(encoded: &str) -> Option<&'static RawValue> {
    let known = URL_SAFE_NO_PAD
        .decode(encoded.as_bytes())
        .is_ok_and(|decoded| decoded == domain::identity::DEFAULT_SCHEMA_ID.as_bytes());
    // Borrowed from the constant, so nothing is parsed into a copy.
    known.then(|| serde_json::from_str(DEFAULT).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schema_is_found_by_its_path() {
        let path = path_of(domain::identity::DEFAULT_SCHEMA_ID);
        let encoded = path.trim_start_matches("schemas/");
        let schema = find(encoded).map(RawValue::get);
        assert!(schema.is_some_and(|schema| schema.contains("\"ory.sh/kratos\"")));
        assert!(find("bm9uZQ").is_none());
    }
}
