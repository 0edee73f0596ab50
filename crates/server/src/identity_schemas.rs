//! Reading the configured identity schemas at start-up: from a file, from the URL itself
//! (`base64://`), or over http(s), once. A schema that cannot be read or compiled stops
//! start-up with its id and why.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use domain::identity_schema::{IdentitySchema, IdentitySchemas, MAX_SCHEMA_BYTES, SchemaError};

use crate::config::{IdentitySettings, SchemaSource};

/// How long fetching one schema over http(s) may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("identity schema \"{id}\" cannot be read from {url}: {reason}")]
    Unreadable {
        id: String,
        url: String,
        reason: String,
    },
    #[error(transparent)]
    Invalid(#[from] SchemaError),
}

/// The configured schemas, compiled; the built-in one when none is configured.
///
/// # Errors
/// [`LoadError`] for the first schema that cannot be read or is not a usable identity schema.
pub fn load(settings: &IdentitySettings) -> Result<IdentitySchemas, LoadError> {
    if settings.schemas.is_empty() {
        return Ok(IdentitySchemas::built_in());
    }
    let schemas = settings
        .schemas
        .iter()
        .map(|source| {
            let document = read(source).map_err(|reason| LoadError::Unreadable {
                id: source.id.clone(),
                url: shown(&source.url),
                reason,
            })?;
            Ok(IdentitySchema::parse(&source.id, &document)?)
        })
        .collect::<Result<Vec<_>, LoadError>>()?;
    Ok(IdentitySchemas::new(schemas, &settings.default_schema_id)?)
}

fn read(source: &SchemaSource) -> Result<String, String> {
    let url = &source.url;
    let bytes = match url.scheme() {
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|()| "not a file path".to_owned())?;
            let file = std::fs::File::open(&path).map_err(|error| error.to_string())?;
            read_capped(file)?
        }
        "base64" => {
            let encoded = url.as_str().trim_start_matches("base64://");
            BASE64
                .decode(encoded)
                .map_err(|error| format!("not base64: {error}"))?
        }
        _ => fetch(url)?,
    };
    if bytes.len() > MAX_SCHEMA_BYTES {
        return Err(format!("larger than {MAX_SCHEMA_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// Base64 with or without padding, as people paste it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// At most one byte more than a schema may have, so that a larger one is told apart.
fn read_capped(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_SCHEMA_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    Ok(bytes)
}

/// Fetches on a thread of its own: start-up may already run inside the async runtime, where a
/// blocking client must not run.
fn fetch(url: &url::Url) -> Result<Vec<u8>, String> {
    let url = url.clone();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .build()
                    .map_err(|error| error.to_string())?;
                let response = client
                    .get(url)
                    .send()
                    .and_then(reqwest::blocking::Response::error_for_status)
                    .map_err(|error| error.without_url().to_string())?;
                read_capped(response)
            })
            .join()
            .unwrap_or_else(|_| Err("the fetch failed".to_owned()))
    })
}

/// The URL without its query or credentials, for messages; a `base64://` URL is the schema
/// itself and is not repeated.
fn shown(url: &url::Url) -> String {
    if url.scheme() == "base64" {
        return "a base64:// URL".to_owned();
    }
    let mut shown = url.clone();
    shown.set_query(None);
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;

    use base64::engine::general_purpose::STANDARD;
    use url::Url;

    use super::*;

    const SCHEMA: &str = r#"{"title": "Customer", "properties": {"traits": {"properties": {
        "username": {"type": "string",
                     "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}}}"#;

    fn settings(sources: &[(&str, String)]) -> IdentitySettings {
        IdentitySettings {
            schemas: sources
                .iter()
                .map(|(id, url)| SchemaSource {
                    id: (*id).to_owned(),
                    url: Url::parse(url).unwrap(),
                })
                .collect(),
            default_schema_id: sources[0].0.to_owned(),
        }
    }

    /// Answers one request with `status` and `body`, on a free port: the URL.
    fn serve_once(status: &'static str, body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/customer.json", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0_u8; 1024];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        });
        url
    }

    #[test]
    fn nothing_configured_is_the_built_in_schema() {
        let schemas = load(&IdentitySettings::default()).unwrap();
        assert_eq!(schemas.default_schema().id(), "default");
    }

    #[test]
    fn schemas_are_read_from_files_base64_and_http() {
        let path = std::env::temp_dir().join(format!("schema-{:x}.json", rand::random::<u64>()));
        std::fs::write(&path, SCHEMA).unwrap();
        let file_url = Url::from_file_path(&path).unwrap().to_string();
        let schemas = load(&settings(&[
            ("from-file", file_url),
            ("inline", format!("base64://{}", STANDARD.encode(SCHEMA))),
            ("fetched", serve_once("200 OK", SCHEMA)),
        ]))
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        let ids: Vec<&str> = schemas.iter().map(IdentitySchema::id).collect();
        assert_eq!(ids, ["from-file", "inline", "fetched"]);
        assert!(schemas.iter().all(|schema| !schema.signs_in_with_email()));
        assert_eq!(schemas.default_schema().document().get(), SCHEMA);
    }

    #[test]
    fn a_schema_that_cannot_be_read_or_used_stops_start_up_naming_it() {
        let cases = [
            (
                "file:///nonexistent/customer.json".to_owned(),
                "identity schema \"customer\" cannot be read from file:///nonexistent/customer.json",
            ),
            (
                serve_once("404 Not Found", "no"),
                "identity schema \"customer\" cannot be read from http://",
            ),
            ("base64://!!".to_owned(), "not base64"),
            (format!("base64://{}", STANDARD.encode("{")), "is not JSON"),
            (
                format!("base64://{}", STANDARD.encode(r#"{"type": 12}"#)),
                "is not a usable JSON Schema",
            ),
            (
                format!(
                    "base64://{}",
                    STANDARD.encode(" ".repeat(MAX_SCHEMA_BYTES + 1))
                ),
                "larger than",
            ),
        ];
        for (url, says) in cases {
            let error = load(&settings(&[("customer", url.clone())])).unwrap_err();
            assert!(error.to_string().contains(says), "{url}: {error}");
        }
    }
}
