//! Configuration: a YAML file and Kratos-style environment variables, checked in full before
//! anything starts. Every error names the key at fault.

mod client_limits;
mod identity;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use application::hashing::HashingOptions;
use domain::code::CodeLength;
use domain::duration;
use domain::lifespan::LifespanPolicy;
use domain::password::HashCost;
use domain::secret::{MIN_SECRET_LEN, Secrets};
use http_api::RateLimitSettings;
use ipnet::IpNet;
use serde::Deserialize;
use url::Url;

mod admin;

pub use admin::{AdminAuth, MIN_API_KEY_LEN, check_exposure, is_loopback};
pub use identity::{IdentitySettings, SchemaSource};

/// Every key, as written in the file. Its environment variable is the key upper-cased with
/// `_` for `.`: `serve.admin.port` is `SERVE_ADMIN_PORT`.
pub const KEYS: [&str; 46] = [
    "dsn",
    "store.issue_batch_size",
    "dev",
    "serve.public.host",
    "serve.public.port",
    "serve.public.base_url",
    "serve.public.trusted_proxies",
    "serve.public.rate_limits.flow_creation.per_minute",
    "serve.public.rate_limits.flow_creation.burst",
    "serve.public.rate_limits.login.per_minute",
    "serve.public.rate_limits.login.burst",
    "serve.public.rate_limits.recovery.per_minute",
    "serve.public.rate_limits.recovery.burst",
    "serve.public.rate_limits.settings.per_minute",
    "serve.public.rate_limits.settings.burst",
    "serve.admin.host",
    "serve.admin.port",
    "serve.admin.base_url",
    "serve.admin.api_keys",
    "serve.admin.allowed_hosts",
    "serve.admin.allow_unauthenticated",
    "secrets.default",
    "selfservice.methods.code.enabled",
    "selfservice.methods.code.config.lifespan",
    "selfservice.methods.code.config.max_lifespan",
    "selfservice.methods.code.config.code_length",
    "selfservice.methods.code.config.invalidate_previous",
    "selfservice.methods.code.config.max_submissions",
    "selfservice.flows.recovery.enabled",
    "selfservice.flows.recovery.ui_url",
    "selfservice.flows.recovery.revoke_active_sessions",
    "selfservice.flows.recovery.mark_address_verified",
    "selfservice.flows.settings.privileged_session_max_age",
    "selfservice.flows.settings.revoke_active_sessions",
    "selfservice.allowed_return_urls",
    "session.lifespan",
    "audit.retention",
    "identity.default_schema_id",
    "identity.schemas",
    "hashers.argon2.memory",
    "hashers.argon2.iterations",
    "hashers.argon2.parallelism",
    "hashers.max_concurrent",
    "hashers.queue",
    "log.level",
    "log.format",
];

/// The largest `store.issue_batch_size`: a batch is one statement, whose arrays grow with it.
const MAX_ISSUE_BATCH_SIZE: usize = 1000;

/// The longest `audit.retention`: its cutoff stays a time every store can compare with.
const MAX_AUDIT_RETENTION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The environment variable of `key`.
#[must_use]
pub fn env_name(key: &str) -> String {
    key.to_uppercase().replace('.', "_")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Source(#[from] config::ConfigError),
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.to_string(),
    }
}

// The file's shape. Unknown keys are refused, so a typo stops start-up instead of being ignored.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dsn: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    serve: RawServe,
    #[serde(default)]
    secrets: RawSecrets,
    #[serde(default)]
    selfservice: RawSelfservice,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    hashers: RawHashers,
    #[serde(default)]
    identity: identity::RawIdentity,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    store: RawStore,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    issue_batch_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashers {
    #[serde(default)]
    argon2: RawArgon2,
    max_concurrent: Option<usize>,
    queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgon2 {
    memory: Option<String>,
    iterations: Option<u32>,
    parallelism: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    lifespan: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServe {
    #[serde(default)]
    public: RawPublicListener,
    #[serde(default)]
    admin: RawAdminListener,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdminListener {
    host: Option<String>,
    port: Option<u16>,
    base_url: Option<String>,
    #[serde(default)]
    api_keys: admin::RawApiKeys,
    #[serde(default)]
    allowed_hosts: OneOrMany,
    allow_unauthenticated: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListener {
    host: Option<String>,
    port: Option<u16>,
    base_url: Option<String>,
}

/// The public listener has what the admin listener has, and the settings of its clients.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublicListener {
    host: Option<String>,
    port: Option<u16>,
    base_url: Option<String>,
    #[serde(default)]
    trusted_proxies: OneOrMany,
    #[serde(default)]
    rate_limits: client_limits::RawRateLimits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    #[serde(default)]
    default: OneOrMany,
}

/// A list, or a single value meaning a list of one. Untagged, so that a value of the wrong type
/// is refused without being quoted back: it may be a secret.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(value) => vec![value],
            Self::Many(values) => values,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelfservice {
    #[serde(default)]
    methods: RawMethods,
    #[serde(default)]
    flows: RawFlows,
    #[serde(default)]
    allowed_return_urls: OneOrMany,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethods {
    #[serde(default)]
    code: RawCodeMethod,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodeMethod {
    enabled: Option<bool>,
    #[serde(default)]
    config: RawCodeConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodeConfig {
    lifespan: Option<String>,
    max_lifespan: Option<String>,
    code_length: Option<usize>,
    invalidate_previous: Option<bool>,
    max_submissions: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlows {
    #[serde(default)]
    recovery: RawRecoveryFlow,
    #[serde(default)]
    settings: RawSettingsFlow,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettingsFlow {
    privileged_session_max_age: Option<String>,
    revoke_active_sessions: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecoveryFlow {
    enabled: Option<bool>,
    ui_url: Option<String>,
    revoke_active_sessions: Option<bool>,
    mark_address_verified: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A listener's address and how the outside reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub host: String,
    pub port: u16,
    /// As configured (always ending with `/`); when absent it is derived from the address the
    /// listener is bound to, see [`Listener::base_url_for`].
    pub base_url: Option<Url>,
}

impl Listener {
    /// The configured base URL, or one built from the bound address (a wildcard host, which no
    /// browser can open, becomes 127.0.0.1).
    ///
    /// # Errors
    /// Never for an IP address and port; the type says what `Url` could.
    pub fn base_url_for(&self, bound: std::net::SocketAddr) -> Result<Url, url::ParseError> {
        if let Some(url) = &self.base_url {
            return Ok(url.clone());
        }
        let ip = if bound.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            bound.ip()
        };
        Url::parse(&format!(
            "http://{}/",
            std::net::SocketAddr::new(ip, bound.port())
        ))
    }
}

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DSN: &str = "sqlite://./data/iam-recovery.sqlite";

/// Where the data lives, from `dsn`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// `postgres://…` or `postgresql://…`.
    Postgres { dsn: String },
    /// `sqlite://PATH`.
    Sqlite { path: PathBuf },
    /// `memory`: gone when the process ends.
    Memory,
}

impl StoreConfig {
    /// Whether the store is embedded in the process (no server to share secrets with).
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        !matches!(self, Self::Postgres { .. })
    }
}

/// Never prints a PostgreSQL DSN: it may carry a password.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres { .. } => f.write_str("Postgres(<dsn redacted>)"),
            Self::Sqlite { path } => write!(f, "Sqlite({})", path.display()),
            Self::Memory => f.write_str("Memory"),
        }
    }
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub store: StoreConfig,
    pub dev: bool,
    pub public: Listener,
    /// The proxies whose forwarding headers name the public listener's clients.
    pub trusted_proxies: Vec<IpNet>,
    pub rate_limits: RateLimitSettings,
    pub admin: Listener,
    /// Who may call the admin listener.
    pub admin_auth: AdminAuth,
    /// `None` when none is configured, which only dev mode and the embedded stores allow; the
    /// server then generates one.
    pub secrets: Option<Secrets>,
    pub code_enabled: bool,
    pub recovery_enabled: bool,
    pub lifespan: LifespanPolicy,
    pub code_length: CodeLength,
    pub invalidate_previous: bool,
    /// As configured; by default `<public base URL>recovery`.
    pub recovery_ui_url: Option<Url>,
    pub max_submissions: u32,
    pub revoke_active_sessions: bool,
    /// Redeeming an admin code verifies the identity's recovery addresses unless the request
    /// says otherwise.
    pub mark_address_verified: bool,
    /// The identity schemas and the default one.
    pub identity: IdentitySettings,
    pub privileged_session_max_age: Duration,
    /// A new password ends the identity's other sessions.
    pub revoke_sessions_on_password_change: bool,
    pub session_lifespan: Duration,
    /// How long audit events are kept.
    pub audit_retention: Duration,
    /// The most code issues the store writes in one statement or transaction.
    pub issue_batch_size: usize,
    pub allowed_return_urls: Vec<Url>,
    pub hashing: HashingOptions,
    pub log_level: String,
    pub log_format: LogFormat,
}

/// Loads `file` (YAML, optional) with the environment on top, as given by `env` (a lookup,
/// so tests need not touch the process environment).
///
/// # Errors
/// [`ConfigError`] naming the key at fault.
pub fn load(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        builder = builder.add_source(
            config::File::from(path)
                .format(config::FileFormat::Yaml)
                .required(true),
        );
    }
    for key in KEYS {
        let Some(value) = env(&env_name(key)) else {
            continue;
        };
        // `serve.admin.api_keys` stays text (`name:key,…`): its own check splits it.
        let is_list = matches!(
            key,
            "secrets.default"
                | "selfservice.allowed_return_urls"
                | "serve.public.trusted_proxies"
                | "serve.admin.allowed_hosts"
        );
        builder = if is_list {
            let list: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            builder.set_override(key, list)?
        } else {
            builder.set_override(key, value)?
        };
    }
    let raw: RawConfig = builder.build()?.try_deserialize()?;
    check(raw)
}

fn check(raw: RawConfig) -> Result<Settings, ConfigError> {
    let store = store(raw.dsn.as_deref().unwrap_or(DEFAULT_DSN))?;
    let raw_public = raw.serve.public;
    let trusted_proxies = client_limits::trusted_proxies(raw_public.trusted_proxies.into_vec())?;
    let rate_limits = client_limits::rate_limits(raw_public.rate_limits)?;
    let public = listener(
        RawListener {
            host: raw_public.host,
            port: raw_public.port,
            base_url: raw_public.base_url,
        },
        "0.0.0.0",
        4433,
        "serve.public.base_url",
    )?;
    let raw_admin = raw.serve.admin;
    let admin = listener(
        RawListener {
            host: raw_admin.host,
            port: raw_admin.port,
            base_url: raw_admin.base_url,
        },
        "127.0.0.1",
        4434,
        "serve.admin.base_url",
    )?;
    let admin_auth = admin::check(
        admin::RawAdminAccess {
            api_keys: raw_admin.api_keys,
            allowed_hosts: raw_admin.allowed_hosts,
            allow_unauthenticated: raw_admin.allow_unauthenticated,
        },
        raw.dev,
    )?;
    let secrets = secrets(raw.secrets.default.into_vec(), raw.dev, &store)?;

    let code = raw.selfservice.methods.code;
    let lifespan = parse_duration(
        "selfservice.methods.code.config.lifespan",
        code.config.lifespan.as_deref(),
        Duration::from_secs(3600),
    )?;
    let max_lifespan = parse_duration(
        "selfservice.methods.code.config.max_lifespan",
        code.config.max_lifespan.as_deref(),
        Duration::from_secs(720 * 3600),
    )?;
    let lifespan = LifespanPolicy::new(lifespan, max_lifespan)
        .map_err(|e| invalid("selfservice.methods.code.config.lifespan", e))?;
    let code_length = CodeLength::new(code.config.code_length.unwrap_or(CodeLength::MIN))
        .map_err(|e| invalid("selfservice.methods.code.config.code_length", e))?;

    let recovery = raw.selfservice.flows.recovery;
    let recovery_ui_url = recovery
        .ui_url
        .map(|url| {
            Url::parse(&url).map_err(|e| {
                invalid(
                    "selfservice.flows.recovery.ui_url",
                    format!("\"{url}\" is not an absolute URL: {e}"),
                )
            })
        })
        .transpose()?;

    let max_submissions = code.config.max_submissions.unwrap_or(5);
    if !(1..=255).contains(&max_submissions) {
        return Err(invalid(
            "selfservice.methods.code.config.max_submissions",
            format!("must be between 1 and 255, not {max_submissions}"),
        ));
    }
    let privileged_session_max_age = parse_positive_duration(
        "selfservice.flows.settings.privileged_session_max_age",
        raw.selfservice
            .flows
            .settings
            .privileged_session_max_age
            .as_deref(),
        Duration::from_secs(3600),
    )?;
    let session_lifespan = parse_positive_duration(
        "session.lifespan",
        raw.session.lifespan.as_deref(),
        Duration::from_secs(24 * 3600),
    )?;
    let audit_retention = parse_positive_duration(
        "audit.retention",
        raw.audit.retention.as_deref(),
        Duration::from_secs(90 * 24 * 3600),
    )?;
    let issue_batch_size = raw
        .store
        .issue_batch_size
        .unwrap_or(sql_store::DEFAULT_ISSUE_BATCH_SIZE);
    if !(1..=MAX_ISSUE_BATCH_SIZE).contains(&issue_batch_size) {
        return Err(invalid(
            "store.issue_batch_size",
            format!("must be 1 to {MAX_ISSUE_BATCH_SIZE}, not {issue_batch_size}"),
        ));
    }
    if audit_retention > MAX_AUDIT_RETENTION {
        return Err(invalid(
            "audit.retention",
            "must be at most 87600h (10 years)",
        ));
    }
    let allowed_return_urls = raw
        .selfservice
        .allowed_return_urls
        .into_vec()
        .iter()
        .map(|url| {
            Url::parse(url).map_err(|e| {
                invalid(
                    "selfservice.allowed_return_urls",
                    format!("\"{url}\" is not an absolute URL: {e}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let hashing = hashing(raw.hashers)?;
    let identity = identity::identity(raw.identity)?;

    let log_level = raw.log.level.unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::EnvFilter::try_new(&log_level)
        .map_err(|e| invalid("log.level", format!("\"{log_level}\" is not a level: {e}")))?;

    Ok(Settings {
        store,
        dev: raw.dev,
        public,
        trusted_proxies,
        rate_limits,
        admin,
        admin_auth,
        secrets,
        code_enabled: code.enabled.unwrap_or(true),
        recovery_enabled: recovery.enabled.unwrap_or(true),
        lifespan,
        code_length,
        invalidate_previous: code.config.invalidate_previous.unwrap_or(true),
        recovery_ui_url,
        max_submissions,
        revoke_active_sessions: recovery.revoke_active_sessions.unwrap_or(true),
        mark_address_verified: recovery.mark_address_verified.unwrap_or(false),
        identity,
        privileged_session_max_age,
        revoke_sessions_on_password_change: raw
            .selfservice
            .flows
            .settings
            .revoke_active_sessions
            .unwrap_or(true),
        session_lifespan,
        audit_retention,
        issue_batch_size,
        allowed_return_urls,
        hashing,
        log_level,
        log_format: raw.log.format.unwrap_or_default(),
    })
}

/// Argon2's cost as Kratos writes it, and how many hashes may run and wait at once.
fn hashing(raw: RawHashers) -> Result<HashingOptions, ConfigError> {
    let defaults = HashingOptions::default();
    let memory_kib = match raw.argon2.memory {
        None => defaults.cost.memory_kib(),
        Some(text) => byte_size(&text)
            .map(|bytes| bytes / 1024)
            .and_then(|kib| u32::try_from(kib).ok())
            .ok_or_else(|| {
                invalid(
                    "hashers.argon2.memory",
                    format!("\"{text}\" is not a byte size such as 19MB, 64MiB or 131072KB"),
                )
            })?,
    };
    let cost = HashCost::new(
        memory_kib,
        raw.argon2.iterations.unwrap_or(defaults.cost.iterations()),
        raw.argon2
            .parallelism
            .unwrap_or(defaults.cost.parallelism()),
    )
    .map_err(|e| invalid("hashers.argon2", e))?;
    let max_concurrent = raw.max_concurrent.unwrap_or(defaults.max_concurrent);
    if max_concurrent == 0 {
        return Err(invalid("hashers.max_concurrent", "must be at least 1"));
    }
    Ok(HashingOptions {
        cost,
        max_concurrent,
        queue: raw.queue.unwrap_or(defaults.queue),
    })
}

/// A byte size as Kratos reads one: a number and a unit among B, KB, MB and GB, which count in
/// 1024s (so `19MB` is 19 MiB), or KiB, MiB and GiB, which say so.
fn byte_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "B" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(factor)
}

fn store(dsn: &str) -> Result<StoreConfig, ConfigError> {
    if dsn == "memory" {
        return Ok(StoreConfig::Memory);
    }
    if let Some(path) = dsn.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(invalid(
                "dsn",
                "sqlite:// needs a file path, e.g. sqlite://./data/iam-recovery.sqlite",
            ));
        }
        return Ok(StoreConfig::Sqlite {
            path: PathBuf::from(path),
        });
    }
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        return Ok(StoreConfig::Postgres {
            dsn: dsn.to_owned(),
        });
    }
    Err(invalid(
        "dsn",
        "expected postgres://…, sqlite://PATH or memory (the value is not repeated here: it may \
         hold a password)",
    ))
}

fn listener(
    raw: RawListener,
    default_host: &str,
    default_port: u16,
    base_url_key: &'static str,
) -> Result<Listener, ConfigError> {
    let base_url = raw
        .base_url
        .map(|url| {
            let mut parsed = Url::parse(&url).map_err(|e| {
                invalid(
                    base_url_key,
                    format!("\"{url}\" is not an absolute URL: {e}"),
                )
            })?;
            if !parsed.path().ends_with('/') {
                let path = format!("{}/", parsed.path());
                parsed.set_path(&path);
            }
            Ok::<_, ConfigError>(parsed)
        })
        .transpose()?;
    Ok(Listener {
        host: raw.host.unwrap_or_else(|| default_host.to_owned()),
        port: raw.port.unwrap_or(default_port),
        base_url,
    })
}

fn parse_positive_duration(
    key: &'static str,
    value: Option<&str>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let parsed = parse_duration(key, value, default)?;
    if parsed.is_zero() {
        return Err(invalid(key, "must be longer than zero"));
    }
    Ok(parsed)
}

fn parse_duration(
    key: &'static str,
    value: Option<&str>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value.map(duration::parse).transpose() {
        Ok(parsed) => Ok(parsed.flatten().unwrap_or(default)),
        Err(e) => Err(invalid(key, e)),
    }
}

/// Configured secrets must be long outside dev mode. None configured is allowed in dev mode and
/// for the embedded stores, for which the server generates one; PostgreSQL deployments, which
/// usually run several replicas, must share configured ones.
fn secrets(
    configured: Vec<String>,
    dev: bool,
    store: &StoreConfig,
) -> Result<Option<Secrets>, ConfigError> {
    let help = format!(
        "set SECRETS_DEFAULT to a comma-separated list of random strings of {MIN_SECRET_LEN} or \
         more characters"
    );
    if configured.is_empty() {
        return if dev || store.is_embedded() {
            Ok(None)
        } else {
            Err(invalid(
                "secrets.default",
                format!(
                    "at least one secret is required with PostgreSQL outside dev mode ({help})"
                ),
            ))
        };
    }
    let checked = if dev {
        Secrets::new_unchecked_length(configured)
    } else {
        Secrets::new(configured)
    };
    checked
        .map(Some)
        .map_err(|e| invalid("secrets.default", format!("{e} ({help})")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use http_api::{ApiKey, Limit};

    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load(None, env(pairs))
    }

    /// A YAML file in the system's temporary folder, removed on drop.
    struct TempYaml(std::path::PathBuf);

    impl Drop for TempYaml {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn yaml(text: &str) -> TempYaml {
        let name = format!("iam-recovery-{:032x}.yaml", rand::random::<u128>());
        let path = std::env::temp_dir().join(name);
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .unwrap();
        TempYaml(path)
    }

    fn error_of(result: Result<Settings, ConfigError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn nothing_configured_runs_on_the_embedded_store_with_kratos_defaults() {
        let settings = load_env(&[]).unwrap();
        assert_eq!(
            settings.store,
            StoreConfig::Sqlite {
                path: PathBuf::from("./data/iam-recovery.sqlite")
            }
        );
        assert!(settings.secrets.is_none());
        assert_eq!(settings.public.host, "0.0.0.0");
        assert_eq!(settings.public.port, 4433);
        assert_eq!(settings.public.base_url, None);
        assert_eq!(settings.admin.host, "127.0.0.1");
        assert_eq!(settings.admin.port, 4434);
        assert!(settings.admin_auth.access.keys.is_empty());
        assert!(settings.admin_auth.access.allowed_hosts.is_empty());
        assert!(!settings.admin_auth.allow_unauthenticated);
        assert_eq!(
            settings.lifespan.default_lifespan(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            settings.lifespan.max_lifespan(),
            Duration::from_secs(720 * 3600)
        );
        assert_eq!(settings.code_length.get(), 6);
        assert!(settings.invalidate_previous);
        assert!(settings.code_enabled && settings.recovery_enabled);
        assert_eq!(settings.recovery_ui_url, None);
        assert_eq!(settings.max_submissions, 5);
        assert!(settings.revoke_active_sessions);
        assert!(settings.revoke_sessions_on_password_change);
        assert_eq!(
            settings.privileged_session_max_age,
            Duration::from_secs(3600)
        );
        assert_eq!(settings.session_lifespan, Duration::from_secs(24 * 3600));
        assert!(settings.allowed_return_urls.is_empty());
        assert!(settings.trusted_proxies.is_empty());
        assert_eq!(settings.rate_limits, RateLimitSettings::default());
        assert_eq!(settings.log_level, "info");
        assert_eq!(settings.log_format, LogFormat::Text);
        assert!(!settings.dev);
        assert_eq!(settings.hashing.cost, HashCost::default());
        assert_eq!(settings.hashing.max_concurrent, 2);
    }

    #[test]
    fn argon2_memory_is_a_byte_size_as_kratos_writes_it() {
        let memory = |text: &str| {
            load_env(&[("HASHERS_ARGON2_MEMORY", text)]).map(|s| s.hashing.cost.memory_kib())
        };
        assert_eq!(memory("19MB").unwrap(), 19 * 1024);
        assert_eq!(memory("19MiB").unwrap(), 19 * 1024);
        assert_eq!(memory("131072KB").unwrap(), 128 * 1024);
        assert_eq!(memory("1GB").unwrap(), 1024 * 1024);
        for bad in ["19", "19 furlongs", "-1MB", "1.5MB", "", "99999999999GB"] {
            let message = memory(bad).unwrap_err().to_string();
            assert!(
                message.contains("hashers.argon2.memory"),
                "{bad}: {message}"
            );
        }
        let message = error_of(load_env(&[("HASHERS_ARGON2_ITERATIONS", "0")]));
        assert!(message.contains("hashers.argon2"), "{message}");
        let message = error_of(load_env(&[("HASHERS_MAX_CONCURRENT", "0")]));
        assert!(message.contains("hashers.max_concurrent"), "{message}");
    }

    #[test]
    fn base_urls_default_to_the_bound_address() {
        let settings = load_env(&[]).unwrap();
        let bound = "0.0.0.0:40433".parse().unwrap();
        assert_eq!(
            settings.public.base_url_for(bound).unwrap().as_str(),
            "http://127.0.0.1:40433/"
        );
        let bound = "10.1.2.3:4434".parse().unwrap();
        assert_eq!(
            settings.admin.base_url_for(bound).unwrap().as_str(),
            "http://10.1.2.3:4434/"
        );
        let settings =
            load_env(&[("SERVE_PUBLIC_BASE_URL", "https://id.example.com/auth")]).unwrap();
        assert_eq!(
            settings.public.base_url_for(bound).unwrap().as_str(),
            "https://id.example.com/auth/"
        );
    }

    #[test]
    fn the_dsn_chooses_the_store() {
        let store = |dsn| load_env(&[("DSN", dsn)]).map(|s| s.store);
        assert_eq!(store("memory").unwrap(), StoreConfig::Memory);
        assert_eq!(
            store("sqlite:///var/lib/iam/db.sqlite").unwrap(),
            StoreConfig::Sqlite {
                path: PathBuf::from("/var/lib/iam/db.sqlite")
            }
        );
        let message = store("mysql://root:hunter2@db/iam")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("dsn:"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(store("sqlite://").is_err());
    }

    #[test]
    fn postgres_needs_long_secrets_outside_dev_mode() {
        let dsn = "postgres://iam:hunter2@db/iam";
        let settings = load_env(&[("DSN", dsn), ("SECRETS_DEFAULT", SECRET)]).unwrap();
        assert_eq!(settings.store, StoreConfig::Postgres { dsn: dsn.into() });
        assert!(!format!("{settings:?}").contains("hunter2"));

        let message = error_of(load_env(&[("DSN", dsn)]));
        assert!(message.starts_with("secrets.default:"), "{message}");
        let message = error_of(load_env(&[("DSN", dsn), ("SECRETS_DEFAULT", "short")]));
        assert!(message.starts_with("secrets.default:"), "{message}");
        assert!(message.contains("32"), "{message}");
        let settings = load_env(&[("DSN", dsn), ("DEV", "true")]).unwrap();
        assert!(settings.secrets.is_none());
    }

    #[test]
    fn every_key_has_its_environment_variable() {
        let settings = load_env(&[
            ("DSN", "memory"),
            ("DEV", "true"),
            ("SERVE_PUBLIC_HOST", "127.0.0.2"),
            ("SERVE_PUBLIC_PORT", "8433"),
            ("SERVE_PUBLIC_BASE_URL", "https://id.example.com/auth"),
            ("SERVE_PUBLIC_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32"),
            ("SERVE_PUBLIC_RATE_LIMITS_FLOW_CREATION_PER_MINUTE", "61"),
            ("SERVE_PUBLIC_RATE_LIMITS_FLOW_CREATION_BURST", "21"),
            ("SERVE_PUBLIC_RATE_LIMITS_LOGIN_PER_MINUTE", "31"),
            ("SERVE_PUBLIC_RATE_LIMITS_LOGIN_BURST", "11"),
            ("SERVE_PUBLIC_RATE_LIMITS_RECOVERY_PER_MINUTE", "32"),
            ("SERVE_PUBLIC_RATE_LIMITS_RECOVERY_BURST", "12"),
            ("SERVE_PUBLIC_RATE_LIMITS_SETTINGS_PER_MINUTE", "0"),
            ("SERVE_PUBLIC_RATE_LIMITS_SETTINGS_BURST", "13"),
            ("SERVE_ADMIN_HOST", "0.0.0.0"),
            ("SERVE_ADMIN_PORT", "8434"),
            ("SERVE_ADMIN_BASE_URL", "http://admin.internal:8434/"),
            ("SERVE_ADMIN_API_KEYS", "ops:short-in-dev-mode"),
            (
                "SERVE_ADMIN_ALLOWED_HOSTS",
                "iam-recovery-admin, Admin.Example.com.",
            ),
            ("SERVE_ADMIN_ALLOW_UNAUTHENTICATED", "true"),
            ("SECRETS_DEFAULT", "short"),
            ("SELFSERVICE_METHODS_CODE_ENABLED", "false"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN", "15m"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_MAX_LIFESPAN", "48h"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_CODE_LENGTH", "8"),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_INVALIDATE_PREVIOUS",
                "false",
            ),
            ("SELFSERVICE_FLOWS_RECOVERY_ENABLED", "false"),
            (
                "SELFSERVICE_FLOWS_RECOVERY_UI_URL",
                "https://app.example.com/recover?x=1",
            ),
            ("SELFSERVICE_METHODS_CODE_CONFIG_MAX_SUBMISSIONS", "3"),
            ("SELFSERVICE_FLOWS_RECOVERY_REVOKE_ACTIVE_SESSIONS", "false"),
            (
                "SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE",
                "10m",
            ),
            ("SELFSERVICE_FLOWS_SETTINGS_REVOKE_ACTIVE_SESSIONS", "false"),
            (
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/, https://admin.example.com/portal/",
            ),
            ("SELFSERVICE_FLOWS_RECOVERY_MARK_ADDRESS_VERIFIED", "true"),
            ("SESSION_LIFESPAN", "8h"),
            ("IDENTITY_DEFAULT_SCHEMA_ID", "customer"),
            (
                "IDENTITY_SCHEMAS",
                r#"[{"id": "customer", "url": "file:///etc/iam/customer.json"},
                    {"id": "default", "url": "base64://e30"}]"#,
            ),
            ("HASHERS_ARGON2_MEMORY", "64MB"),
            ("HASHERS_ARGON2_ITERATIONS", "3"),
            ("HASHERS_ARGON2_PARALLELISM", "2"),
            ("HASHERS_MAX_CONCURRENT", "1"),
            ("HASHERS_QUEUE", "4"),
            ("LOG_LEVEL", "debug"),
            ("LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(settings.store, StoreConfig::Memory);
        assert!(settings.dev);
        assert_eq!(settings.public.host, "127.0.0.2");
        assert_eq!(settings.public.port, 8433);
        assert_eq!(
            settings.public.base_url.unwrap().as_str(),
            "https://id.example.com/auth/"
        );
        assert_eq!(
            settings
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["10.0.0.0/8", "2001:db8::/32"]
        );
        assert_eq!(
            settings.rate_limits,
            RateLimitSettings {
                flow_creation: Some(Limit::new(61, 21)),
                login: Some(Limit::new(31, 11)),
                recovery: Some(Limit::new(32, 12)),
                settings: None,
            }
        );
        assert_eq!(settings.admin.host, "0.0.0.0");
        assert_eq!(settings.admin.port, 8434);
        assert_eq!(
            settings.admin.base_url.unwrap().as_str(),
            "http://admin.internal:8434/"
        );
        let names: Vec<&str> = settings
            .admin_auth
            .access
            .keys
            .iter()
            .map(ApiKey::name)
            .collect();
        assert_eq!(names, ["ops"]);
        assert_eq!(
            settings.admin_auth.access.allowed_hosts,
            ["iam-recovery-admin", "admin.example.com"]
        );
        assert!(settings.admin_auth.allow_unauthenticated);
        assert!(settings.secrets.is_some());
        assert!(!settings.code_enabled);
        assert_eq!(
            settings.lifespan.default_lifespan(),
            Duration::from_secs(900)
        );
        assert_eq!(
            settings.lifespan.max_lifespan(),
            Duration::from_secs(48 * 3600)
        );
        assert_eq!(settings.code_length.get(), 8);
        assert!(!settings.invalidate_previous);
        assert!(!settings.recovery_enabled);
        assert_eq!(
            settings.recovery_ui_url.unwrap().as_str(),
            "https://app.example.com/recover?x=1"
        );
        assert_eq!(settings.max_submissions, 3);
        assert!(!settings.revoke_active_sessions);
        assert!(!settings.revoke_sessions_on_password_change);
        assert_eq!(
            settings.privileged_session_max_age,
            Duration::from_secs(600)
        );
        assert_eq!(
            settings
                .allowed_return_urls
                .iter()
                .map(Url::as_str)
                .collect::<Vec<_>>(),
            [
                "https://app.example.com/",
                "https://admin.example.com/portal/"
            ]
        );
        assert_eq!(settings.session_lifespan, Duration::from_secs(8 * 3600));
        assert_eq!(settings.log_level, "debug");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(
            settings.hashing.cost,
            HashCost::new(64 * 1024, 3, 2).unwrap()
        );
        assert_eq!(settings.hashing.max_concurrent, 1);
        assert_eq!(settings.hashing.queue, 4);
        assert!(settings.mark_address_verified);
        assert_eq!(settings.identity.default_schema_id, "customer");
        let schemas: Vec<(&str, &str)> = settings
            .identity
            .schemas
            .iter()
            .map(|schema| (schema.id.as_str(), schema.url.as_str()))
            .collect();
        assert_eq!(
            schemas,
            [
                ("customer", "file:///etc/iam/customer.json"),
                ("default", "base64://e30")
            ]
        );
        assert_eq!(KEYS.len(), 46);
    }

    #[test]
    fn identity_schemas_are_read_from_a_file_and_checked() {
        let file = yaml(
            "identity:\n  default_schema_id: customer\n  schemas:\n\
             \x20   - {id: customer, url: \"https://schemas.example.com/customer.json\"}\n",
        );
        let settings = load(Some(&file.0), env(&[])).unwrap();
        assert_eq!(settings.identity.schemas[0].id, "customer");
        assert!(!settings.mark_address_verified);
        let defaults = load_env(&[]).unwrap();
        assert!(defaults.identity.schemas.is_empty());
        assert_eq!(defaults.identity.default_schema_id, "default");

        for (pairs, says) in [
            (
                vec![("IDENTITY_DEFAULT_SCHEMA_ID", "customer")],
                "identity.default_schema_id: \"customer\" is not among the identity schemas (default)",
            ),
            (
                vec![(
                    "IDENTITY_SCHEMAS",
                    r#"[{"id": "a", "url": "ftp://x/a.json"}]"#,
                )],
                "identity.schemas: the url of \"a\" must start with file://",
            ),
            (
                vec![(
                    "IDENTITY_SCHEMAS",
                    r#"[{"id": "a", "url": "base64://e30"}, {"id": "a", "url": "base64://e30"}]"#,
                )],
                "identity.schemas: the id \"a\" is given twice",
            ),
            (
                vec![("IDENTITY_SCHEMAS", "not json")],
                "identity.schemas: must be a JSON list",
            ),
        ] {
            let error = error_of(load_env(&pairs));
            assert!(error.starts_with(says), "{error}");
        }
    }

    #[test]
    fn rate_limits_and_trusted_proxies_are_read_from_a_file() {
        let file = yaml(
            "serve:\n  public:\n    trusted_proxies: [10.1.2.3, \"192.168.7.9/24\", \"::1\"]\n\
             \x20   rate_limits:\n      login: {per_minute: 5}\n      recovery: {burst: 3}\n\
             \x20     flow_creation: {per_minute: 0, burst: 0}\n",
        );
        let settings = load(Some(&file.0), env(&[])).unwrap();
        assert_eq!(
            settings
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["10.1.2.3/32", "192.168.7.0/24", "::1/128"]
        );
        let defaults = RateLimitSettings::default();
        assert_eq!(
            settings.rate_limits,
            RateLimitSettings {
                flow_creation: None,
                login: Some(Limit::new(5, 10)),
                recovery: Some(Limit::new(30, 3)),
                settings: defaults.settings,
            }
        );
        let settings = load(Some(&file.0), env(&[("SERVE_PUBLIC_TRUSTED_PROXIES", "")])).unwrap();
        assert!(settings.trusted_proxies.is_empty(), "the environment wins");
        // The admin listener has no clients to limit.
        let file = yaml("serve:\n  admin:\n    trusted_proxies: [10.0.0.0/8]\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(message.contains("trusted_proxies"), "{message}");
        let file = yaml("serve:\n  public:\n    rate_limits:\n      signup: {burst: 1}\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(message.contains("signup"), "{message}");
    }

    #[test]
    fn secrets_come_as_a_comma_separated_list_and_the_first_signs() {
        let other = "another-secret-that-is-long-enough-too";
        let list = format!("{SECRET}, {other}");
        let settings = load_env(&[("SECRETS_DEFAULT", list.as_str())]).unwrap();
        let secrets = settings.secrets.unwrap();
        let first = Secrets::new(vec![SECRET.into()]).unwrap();
        let second = Secrets::new(vec![other.into()]).unwrap();
        let code = domain::code::PlainCode::generate(&mut rand::rng(), CodeLength::default());
        assert!(secrets.verify(code.expose(), &first.hash(&code)));
        assert!(secrets.verify(code.expose(), &second.hash(&code)));
        assert_eq!(secrets.hash(&code), first.hash(&code));
    }

    #[test]
    fn a_file_is_read_and_the_environment_wins() {
        let file = yaml(&format!(
            "dsn: memory\n\
             serve:\n  admin:\n    port: 9434\n\
             secrets:\n  default:\n    - {SECRET}\n\
             selfservice:\n  methods:\n    code:\n      config:\n        lifespan: 2h\n        code_length: 10\n\
             log:\n  format: json\n"
        ));
        let settings = load(Some(&file.0), env(&[("SERVE_ADMIN_PORT", "7434")])).unwrap();
        assert_eq!(settings.store, StoreConfig::Memory);
        assert_eq!(settings.admin.port, 7434);
        assert_eq!(
            settings.lifespan.default_lifespan(),
            Duration::from_secs(7200)
        );
        assert_eq!(settings.code_length.get(), 10);
        assert_eq!(settings.log_format, LogFormat::Json);
        assert!(settings.secrets.is_some());
    }

    #[test]
    fn a_single_secret_may_be_written_as_a_string() {
        let file = yaml(&format!("secrets:\n  default: {SECRET}\n"));
        assert!(load(Some(&file.0), env(&[])).unwrap().secrets.is_some());
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted_back() {
        let file = yaml("secrets:\n  default:\n    nested: hunter2-hunter2-hunter2-hunter2-x\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(!message.contains("hunter2"), "{message}");
    }

    const API_KEY: &str = "an-admin-api-key-that-is-long-enough-0123";

    fn key_names(settings: &Settings) -> Vec<String> {
        let keys = &settings.admin_auth.access.keys;
        keys.iter().map(|key| key.name().to_owned()).collect()
    }

    #[test]
    fn admin_api_keys_come_from_a_file_or_the_environment() {
        let digest = "aa21df1de5d51068213d7f19ba65dad74828de2a3a90ed62702a21801e633c20";
        let file = yaml(&format!(
            "serve:\n  admin:\n    api_keys:\n      - {{name: ops, key: {API_KEY}}}\n      - {{name: support, key: \"sha256:{digest}\"}}\n"
        ));
        let settings = load(Some(&file.0), env(&[])).unwrap();
        assert_eq!(key_names(&settings), ["ops", "support"]);
        assert!(!format!("{settings:?}").contains(API_KEY));
        assert!(!format!("{settings:?}").contains(digest));
        assert_eq!(
            settings.admin_auth.access.keys[1],
            ApiKey::from_secret("support", "iam-recovery-sha256-form-key-0123456789abcdef")
        );

        let list = format!("ops:{API_KEY}, support:sha256:{}", digest.to_uppercase());
        let settings = load_env(&[("SERVE_ADMIN_API_KEYS", list.as_str())]).unwrap();
        assert_eq!(key_names(&settings), ["ops", "support"]);
        assert_eq!(
            settings.admin_auth.access.keys[0],
            ApiKey::from_secret("ops", API_KEY)
        );
        assert!(!format!("{settings:?}").contains(API_KEY));
    }

    #[test]
    fn bad_admin_api_keys_stop_start_up_without_being_quoted() {
        let same = format!("a:{API_KEY},b:{API_KEY}");
        let twice = format!("a:{API_KEY},a:{API_KEY}x");
        let no_name = format!(":{API_KEY}");
        let bad_name = format!("o p:{API_KEY}");
        for (value, needle) in [
            ("ops:hunter2-too-short", "at least 32"),
            ("hunter2-hunter2-hunter2-hunter2-hunter2", "not name:key"),
            ("ops:sha256:hunter2", "64 hexadecimal digits"),
            ("ops:", "0 characters"),
            (same.as_str(), "same key"),
            (twice.as_str(), "used twice"),
            (no_name.as_str(), "name must be"),
            (bad_name.as_str(), "name must be"),
        ] {
            let message = error_of(load_env(&[("SERVE_ADMIN_API_KEYS", value)]));
            assert!(message.starts_with("serve.admin.api_keys:"), "{message}");
            assert!(message.contains(needle), "{value}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!message.contains(API_KEY), "{message}");
        }
        // Short keys are for dev mode only.
        let settings = load_env(&[("SERVE_ADMIN_API_KEYS", "ops:short"), ("DEV", "true")]).unwrap();
        assert_eq!(key_names(&settings), ["ops"]);
        // A value of the wrong shape in a file is not quoted back either.
        let file = yaml("serve:\n  admin:\n    api_keys:\n      - {name: ops, secret: hunter2}\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("serve.admin.api_keys"), "{message}");
        assert!(message.contains("{name, key}"), "{message}");
    }

    #[test]
    fn an_admin_listener_others_can_reach_needs_keys_or_a_gateway() {
        let load_env = |pairs: &[(&str, &str)]| {
            load_env(pairs).and_then(|settings| check_exposure(&settings).map(|()| settings))
        };
        for host in ["0.0.0.0", "10.1.2.3", "::", "admin.internal"] {
            let message = error_of(load_env(&[("SERVE_ADMIN_HOST", host)]));
            assert!(message.starts_with("serve.admin.api_keys:"), "{message}");
            assert!(message.contains(host), "{message}");
            assert!(message.contains("SERVE_ADMIN_API_KEYS"), "{message}");
            assert!(
                message.contains("serve.admin.allow_unauthenticated"),
                "{message}"
            );
        }
        let with_key = format!("ops:{API_KEY}");
        assert!(
            load_env(&[
                ("SERVE_ADMIN_HOST", "0.0.0.0"),
                ("SERVE_ADMIN_API_KEYS", &with_key)
            ])
            .is_ok()
        );
        assert!(
            load_env(&[
                ("SERVE_ADMIN_HOST", "0.0.0.0"),
                ("SERVE_ADMIN_ALLOW_UNAUTHENTICATED", "true")
            ])
            .is_ok()
        );
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            assert!(load_env(&[("SERVE_ADMIN_HOST", host)]).is_ok(), "{host}");
        }
    }

    #[test]
    fn unknown_keys_stop_start_up_naming_the_key() {
        let file =
            yaml("selfservice:\n  methods:\n    code:\n      config:\n        lifespam: 1h\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(message.contains("lifespam"), "{message}");
        let file = yaml("serve:\n  admn: {}\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(message.contains("admn"), "{message}");
        // The admin listener's own keys are not the public one's.
        let file = yaml("serve:\n  public:\n    api_keys: []\n");
        let message = error_of(load(Some(&file.0), env(&[])));
        assert!(message.contains("api_keys"), "{message}");
    }

    #[test]
    fn invalid_values_stop_start_up_naming_the_key() {
        let cases: [(&str, &str, &str); 26] = [
            (
                "SERVE_PUBLIC_TRUSTED_PROXIES",
                "10.0.0.0/8, gateway",
                "serve.public.trusted_proxies",
            ),
            (
                "SERVE_PUBLIC_TRUSTED_PROXIES",
                "10.0.0.0/33",
                "serve.public.trusted_proxies",
            ),
            (
                "SERVE_PUBLIC_TRUSTED_PROXIES",
                "0.0.0.0/0",
                "serve.public.trusted_proxies",
            ),
            (
                "SERVE_PUBLIC_TRUSTED_PROXIES",
                "::/0",
                "serve.public.trusted_proxies",
            ),
            (
                "SERVE_PUBLIC_RATE_LIMITS_LOGIN_BURST",
                "0",
                "serve.public.rate_limits.login.burst",
            ),
            (
                "SERVE_PUBLIC_RATE_LIMITS_RECOVERY_PER_MINUTE",
                "-1",
                "serve.public.rate_limits.recovery.per_minute",
            ),
            (
                "SERVE_ADMIN_ALLOWED_HOSTS",
                "https://admin.example.com/",
                "serve.admin.allowed_hosts",
            ),
            (
                "SERVE_ADMIN_ALLOW_UNAUTHENTICATED",
                "sure",
                "serve.admin.allow_unauthenticated",
            ),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_MAX_SUBMISSIONS",
                "0",
                "selfservice.methods.code.config.max_submissions",
            ),
            ("SESSION_LIFESPAN", "0s", "session.lifespan"),
            ("AUDIT_RETENTION", "0s", "audit.retention"),
            ("STORE_ISSUE_BATCH_SIZE", "0", "store.issue_batch_size"),
            ("AUDIT_RETENTION", "87601h", "audit.retention"),
            (
                "SERVE_ADMIN_API_KEYS",
                "self-service:a-key-that-is-long-enough-0123456789",
                "serve.admin.api_keys",
            ),
            (
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "not-a-url",
                "selfservice.allowed_return_urls",
            ),
            ("SERVE_ADMIN_PORT", "abc", "serve.admin.port"),
            ("SERVE_PUBLIC_PORT", "70000", "serve.public.port"),
            (
                "SERVE_PUBLIC_BASE_URL",
                "not a url",
                "serve.public.base_url",
            ),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN",
                "1d",
                "selfservice.methods.code.config.lifespan",
            ),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN",
                "1000h",
                "selfservice.methods.code.config.lifespan",
            ),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_MAX_LIFESPAN",
                "1.5h",
                "selfservice.methods.code.config.max_lifespan",
            ),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_CODE_LENGTH",
                "5",
                "selfservice.methods.code.config.code_length",
            ),
            (
                "SELFSERVICE_FLOWS_RECOVERY_UI_URL",
                "/relative",
                "selfservice.flows.recovery.ui_url",
            ),
            ("LOG_FORMAT", "xml", "log.format"),
            (
                "SELFSERVICE_METHODS_CODE_ENABLED",
                "maybe",
                "selfservice.methods.code.enabled",
            ),
            ("SECRETS_DEFAULT", "short", "secrets.default"),
        ];
        for (name, value, key) in cases {
            let message = error_of(load_env(&[(name, value)]));
            assert!(message.contains(key), "{name}={value}: {message}");
        }
    }
}
