//! Who may call the admin listener: `serve.admin.api_keys`, `serve.admin.allowed_hosts` and
//! `serve.admin.allow_unauthenticated`, checked against where the listener binds.

use http_api::{AdminAccess, ApiKey};
use serde::Deserialize;

use super::{ConfigError, OneOrMany, Settings, invalid};

/// Configured keys must be at least this long outside dev mode: 32 random characters are
/// beyond guessing, online or offline against a leaked digest.
pub const MIN_API_KEY_LEN: usize = 32;

const KEYS_KEY: &str = "serve.admin.api_keys";
const HOSTS_KEY: &str = "serve.admin.allowed_hosts";

/// `serve.admin.api_keys`: a list of `{name, key}` in a file, `name:key,name2:key2` in the
/// environment.
#[derive(Default)]
pub(super) enum RawApiKeys {
    #[default]
    None,
    Text(String),
    List(Vec<RawApiKey>),
}

/// Never prints a key.
impl std::fmt::Debug for RawApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Text(_) => f.write_str("Text(<redacted>)"),
            Self::List(list) => f.debug_list().entries(list).finish(),
        }
    }
}

/// A value of the wrong shape is refused with what is expected, without being quoted back: it
/// holds keys.
impl<'de> Deserialize<'de> for RawApiKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Text(String),
            List(Vec<RawApiKey>),
        }
        Shape::deserialize(deserializer)
            .map(|shape| match shape {
                Shape::Text(text) => Self::Text(text),
                Shape::List(list) => Self::List(list),
            })
            .map_err(|_| {
                serde::de::Error::custom(
                    "expected a list of {name, key} entries (or name:key,name2:key2 in \
                     SERVE_ADMIN_API_KEYS); the value is not repeated here, as it holds keys",
                )
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApiKey {
    name: String,
    key: String,
}

/// Never prints the key.
impl std::fmt::Debug for RawApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawApiKey({})", self.name)
    }
}

/// What the admin section adds to a listener.
pub(super) struct RawAdminAccess {
    pub api_keys: RawApiKeys,
    pub allowed_hosts: OneOrMany,
    pub allow_unauthenticated: Option<bool>,
}

/// The admin listener's access rules, checked.
#[derive(Debug, Clone, Default)]
pub struct AdminAuth {
    pub access: AdminAccess,
    /// A gateway in front authenticates: no keys are needed on a non-loopback address.
    pub allow_unauthenticated: bool,
}

pub(super) fn check(raw: RawAdminAccess, dev: bool) -> Result<AdminAuth, ConfigError> {
    let keys = api_keys(raw.api_keys, dev)?;
    let allowed_hosts = raw
        .allowed_hosts
        .into_vec()
        .into_iter()
        .map(|host| allowed_host(&host))
        .collect::<Result<Vec<_>, _>>()?;
    let allow_unauthenticated = raw.allow_unauthenticated.unwrap_or(false);
    Ok(AdminAuth {
        access: AdminAccess {
            keys,
            allowed_hosts,
        },
        allow_unauthenticated,
    })
}

/// Serving refuses an admin listener that other machines can reach with no key, unless a
/// gateway in front authenticates. (Only `serve` asks: `migrate` listens on nothing.)
///
/// # Errors
/// [`ConfigError`] naming `serve.admin.api_keys` and saying what to set.
pub fn check_exposure(settings: &Settings) -> Result<(), ConfigError> {
    let auth = &settings.admin_auth;
    let host = &settings.admin.host;
    if auth.access.keys.is_empty() && !auth.allow_unauthenticated && !is_loopback(host) {
        return Err(invalid(
            KEYS_KEY,
            format!(
                "the admin listener binds to {host}, which other machines can reach, and no API \
                 key is configured: set serve.admin.api_keys (SERVE_ADMIN_API_KEYS=name:key, keys \
                 of {MIN_API_KEY_LEN} or more random characters), or set \
                 serve.admin.allow_unauthenticated: true (SERVE_ADMIN_ALLOW_UNAUTHENTICATED=true) \
                 if a gateway in front of it authenticates every request"
            ),
        ));
    }
    Ok(())
}

/// Whether a listener bound to `host` is reachable from this machine only.
#[must_use]
pub fn is_loopback(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn api_keys(raw: RawApiKeys, dev: bool) -> Result<Vec<ApiKey>, ConfigError> {
    let entries = match raw {
        RawApiKeys::None => Vec::new(),
        RawApiKeys::List(entries) => entries,
        RawApiKeys::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(i, entry)| {
                let (name, key) = entry.split_once(':').ok_or_else(|| {
                    invalid(
                        KEYS_KEY,
                        format!(
                            "entry number {} is not name:key (the entry is not repeated here: \
                             it may hold a key)",
                            i + 1
                        ),
                    )
                })?;
                Ok(RawApiKey {
                    name: name.trim().to_owned(),
                    key: key.trim().to_owned(),
                })
            })
            .collect::<Result<_, ConfigError>>()?,
    };
    let mut keys: Vec<ApiKey> = Vec::with_capacity(entries.len());
    for entry in entries {
        let key = api_key(entry, dev)?;
        if let Some(other) = keys.iter().find(|other| other.name() == key.name()) {
            return Err(invalid(
                KEYS_KEY,
                format!("the name \"{}\" is used twice", other.name()),
            ));
        }
        if let Some(other) = keys.iter().find(|other| other.same_secret(&key)) {
            return Err(invalid(
                KEYS_KEY,
                format!(
                    "\"{}\" and \"{}\" have the same key: give each caller a key of its own, so \
                     audit events say who acted",
                    other.name(),
                    key.name()
                ),
            ));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// One entry: a name fit for logs, and the key itself or `sha256:<hex>` of it.
fn api_key(entry: RawApiKey, dev: bool) -> Result<ApiKey, ConfigError> {
    let RawApiKey { name, key } = entry;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if !name_ok {
        return Err(invalid(
            KEYS_KEY,
            "a key's name must be 1 to 64 letters, digits, '-', '_', '.' or '@' (it names the \
             caller in audit events)",
        ));
    }
    if domain::audit::is_reserved_actor_name(&name) {
        return Err(invalid(
            KEYS_KEY,
            format!(
                "\"{name}\" cannot name a key: the audit trail uses it for callers without one"
            ),
        ));
    }
    if let Some(hex) = key.strip_prefix("sha256:") {
        return ApiKey::from_hex_digest(name.clone(), hex).map_err(|e| {
            invalid(
                KEYS_KEY,
                format!("the key of \"{name}\": {e} after sha256:"),
            )
        });
    }
    let length = key.chars().count();
    if length == 0 || (!dev && length < MIN_API_KEY_LEN) {
        return Err(invalid(
            KEYS_KEY,
            format!(
                "the key of \"{name}\" is {length} characters long; at least {MIN_API_KEY_LEN} \
                 are required outside dev mode (e.g. `openssl rand -hex 32`)"
            ),
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            KEYS_KEY,
            format!(
                "the key of \"{name}\" holds spaces or control characters, which no Authorization header can carry"
            ),
        ));
    }
    Ok(ApiKey::from_secret(name, &key))
}

/// A host name as `Host` carries it, without scheme, port or path; kept lower-case.
fn allowed_host(host: &str) -> Result<String, ConfigError> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        Ok(host)
    } else {
        Err(invalid(
            HOSTS_KEY,
            format!(
                "\"{host}\" is not a host name (no scheme, port or path: e.g. iam-recovery-admin)"
            ),
        ))
    }
}
