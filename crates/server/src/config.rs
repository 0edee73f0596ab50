//! Configuration: a YAML file and Kratos-style environment variables, checked in full before
//! anything starts. Every error names the key at fault.

use std::path::Path;
use std::time::Duration;

use domain::code::CodeLength;
use domain::duration;
use domain::lifespan::LifespanPolicy;
use domain::secret::{MIN_SECRET_LEN, Secrets};
use serde::Deserialize;
use url::Url;

/// Every key, as written in the file. Its environment variable is the key upper-cased with
/// `_` for `.`: `serve.admin.port` is `SERVE_ADMIN_PORT`.
pub const KEYS: [&str; 18] = [
    "dsn",
    "dev",
    "serve.public.host",
    "serve.public.port",
    "serve.public.base_url",
    "serve.admin.host",
    "serve.admin.port",
    "serve.admin.base_url",
    "secrets.default",
    "selfservice.methods.code.enabled",
    "selfservice.methods.code.config.lifespan",
    "selfservice.methods.code.config.max_lifespan",
    "selfservice.methods.code.config.code_length",
    "selfservice.methods.code.config.invalidate_previous",
    "selfservice.flows.recovery.enabled",
    "selfservice.flows.recovery.ui_url",
    "log.level",
    "log.format",
];

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServe {
    #[serde(default)]
    public: RawListener,
    #[serde(default)]
    admin: RawListener,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListener {
    host: Option<String>,
    port: Option<u16>,
    base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    #[serde(default)]
    default: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelfservice {
    #[serde(default)]
    methods: RawMethods,
    #[serde(default)]
    flows: RawFlows,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlows {
    #[serde(default)]
    recovery: RawRecoveryFlow,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecoveryFlow {
    enabled: Option<bool>,
    ui_url: Option<String>,
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
    /// Always ends with `/`.
    pub base_url: Url,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dsn: String,
    pub dev: bool,
    pub public: Listener,
    pub admin: Listener,
    pub secrets: Secrets,
    /// Set when no secret was configured in dev mode and a random one is used instead.
    pub generated_secret: bool,
    pub code_enabled: bool,
    pub recovery_enabled: bool,
    pub lifespan: LifespanPolicy,
    pub code_length: CodeLength,
    pub invalidate_previous: bool,
    pub recovery_ui_url: Url,
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
        builder = if key == "secrets.default" {
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
    let dsn = raw.dsn.filter(|dsn| !dsn.is_empty()).ok_or_else(|| {
        invalid(
            "dsn",
            "a database is required: set `dsn` in the file or DSN in the environment, \
             e.g. postgres://user:password@127.0.0.1:5432/iam",
        )
    })?;
    let public = listener(raw.serve.public, "0.0.0.0", 4433, "serve.public.base_url")?;
    let admin = listener(raw.serve.admin, "127.0.0.1", 4434, "serve.admin.base_url")?;

    let (secrets, generated_secret) = secrets(raw.secrets.default, raw.dev)?;

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
    let recovery_ui_url = match recovery.ui_url {
        Some(url) => Url::parse(&url).map_err(|e| {
            invalid(
                "selfservice.flows.recovery.ui_url",
                format!("\"{url}\" is not a URL: {e}"),
            )
        })?,
        None => public
            .base_url
            .join("recovery")
            .map_err(|e| invalid("serve.public.base_url", e))?,
    };

    let log_level = raw.log.level.unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::EnvFilter::try_new(&log_level)
        .map_err(|e| invalid("log.level", format!("\"{log_level}\" is not a level: {e}")))?;

    Ok(Settings {
        dsn,
        dev: raw.dev,
        public,
        admin,
        secrets,
        generated_secret,
        code_enabled: code.enabled.unwrap_or(true),
        recovery_enabled: recovery.enabled.unwrap_or(true),
        lifespan,
        code_length,
        invalidate_previous: code.config.invalidate_previous.unwrap_or(true),
        recovery_ui_url,
        log_level,
        log_format: raw.log.format.unwrap_or_default(),
    })
}

fn listener(
    raw: RawListener,
    default_host: &str,
    default_port: u16,
    base_url_key: &'static str,
) -> Result<Listener, ConfigError> {
    let host = raw.host.unwrap_or_else(|| default_host.to_owned());
    let port = raw.port.unwrap_or(default_port);
    let base_url = match raw.base_url {
        Some(url) => url,
        None => {
            // A wildcard address is not one a browser can open.
            let reachable = if host.is_empty() || host == "0.0.0.0" || host == "::" {
                "127.0.0.1"
            } else {
                &host
            };
            format!("http://{reachable}:{port}/")
        }
    };
    let mut base_url = Url::parse(&base_url)
        .map_err(|e| invalid(base_url_key, format!("\"{base_url}\" is not a URL: {e}")))?;
    if !base_url.path().ends_with('/') {
        let path = format!("{}/", base_url.path());
        base_url.set_path(&path);
    }
    Ok(Listener {
        host,
        port,
        base_url,
    })
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

/// Outside dev mode secrets are required and long; in dev mode a missing secret is replaced by
/// a random one (codes then do not survive a restart).
fn secrets(configured: Vec<String>, dev: bool) -> Result<(Secrets, bool), ConfigError> {
    if configured.is_empty() && dev {
        let generated: String = (0..MIN_SECRET_LEN * 2)
            .map(|_| {
                char::from(rand::Rng::sample(
                    &mut rand::rng(),
                    rand::distr::Alphanumeric,
                ))
            })
            .collect();
        let secrets = Secrets::new(vec![generated]).map_err(|e| invalid("secrets.default", e))?;
        return Ok((secrets, true));
    }
    let checked = if dev {
        Secrets::new_unchecked_length(configured)
    } else {
        Secrets::new(configured)
    };
    checked.map(|secrets| (secrets, false)).map_err(|e| {
        invalid(
            "secrets.default",
            format!(
                "{e} (set SECRETS_DEFAULT to a comma-separated list of random strings of \
                     {MIN_SECRET_LEN} or more characters)"
            ),
        )
    })
}
