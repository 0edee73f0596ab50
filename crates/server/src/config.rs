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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("DSN", "postgres://localhost/iam"),
            ("SECRETS_DEFAULT", SECRET),
        ]
    }

    fn load_env(extra: &[(&'static str, &'static str)]) -> Result<Settings, ConfigError> {
        let mut pairs = minimal();
        pairs.extend_from_slice(extra);
        load(None, env(&pairs))
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
    fn defaults_match_kratos() {
        let settings = load_env(&[]).unwrap();
        assert_eq!(settings.public.host, "0.0.0.0");
        assert_eq!(settings.public.port, 4433);
        assert_eq!(settings.public.base_url.as_str(), "http://127.0.0.1:4433/");
        assert_eq!(settings.admin.host, "127.0.0.1");
        assert_eq!(settings.admin.port, 4434);
        assert_eq!(settings.admin.base_url.as_str(), "http://127.0.0.1:4434/");
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
        assert_eq!(
            settings.recovery_ui_url.as_str(),
            "http://127.0.0.1:4433/recovery"
        );
        assert_eq!(settings.log_level, "info");
        assert_eq!(settings.log_format, LogFormat::Text);
        assert!(!settings.dev);
        assert!(!settings.generated_secret);
    }

    #[test]
    fn every_key_has_its_environment_variable() {
        let settings = load_env(&[
            ("DEV", "true"),
            ("SERVE_PUBLIC_HOST", "127.0.0.2"),
            ("SERVE_PUBLIC_PORT", "8433"),
            ("SERVE_PUBLIC_BASE_URL", "https://id.example.com/auth"),
            ("SERVE_ADMIN_HOST", "0.0.0.0"),
            ("SERVE_ADMIN_PORT", "8434"),
            ("SERVE_ADMIN_BASE_URL", "http://admin.internal:8434/"),
            ("SELFSERVICE_METHODS_CODE_ENABLED", "false"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN", "15m"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_MAX_LIFESPAN", "48h"),
            ("SELFSERVICE_METHODS_CODE_CONFIG_CODE_LENGTH", "8"),
            (
                "SELFSERVICE_METHODS_CODE_CONFIG_INVALIDATE_PREVIOUS",
                "false",
            ),
            ("SELFSERVICE_FLOWS_RECOVERY_ENABLED", "false"),
            ("LOG_LEVEL", "debug"),
            ("LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert!(settings.dev);
        assert_eq!(settings.public.host, "127.0.0.2");
        assert_eq!(settings.public.port, 8433);
        assert_eq!(
            settings.public.base_url.as_str(),
            "https://id.example.com/auth/"
        );
        assert_eq!(settings.admin.host, "0.0.0.0");
        assert_eq!(settings.admin.port, 8434);
        assert_eq!(
            settings.admin.base_url.as_str(),
            "http://admin.internal:8434/"
        );
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
            settings.recovery_ui_url.as_str(),
            "https://id.example.com/auth/recovery"
        );
        assert_eq!(settings.log_level, "debug");
        assert_eq!(settings.log_format, LogFormat::Json);

        let settings = load_env(&[(
            "SELFSERVICE_FLOWS_RECOVERY_UI_URL",
            "https://app.example.com/recover?x=1",
        )])
        .unwrap();
        assert_eq!(
            settings.recovery_ui_url.as_str(),
            "https://app.example.com/recover?x=1"
        );
        assert_eq!(KEYS.len(), 18);
    }

    #[test]
    fn secrets_come_as_a_comma_separated_list_and_the_first_signs() {
        let other = "another-secret-that-is-long-enough-too";
        let list = format!("{SECRET},{other}");
        let pairs = [
            ("DSN", "postgres://localhost/iam"),
            ("SECRETS_DEFAULT", list.as_str()),
        ];
        let settings = load(None, env(&pairs)).unwrap();
        let first = Secrets::new(vec![SECRET.into()]).unwrap();
        let second = Secrets::new(vec![other.into()]).unwrap();
        let code = domain::code::PlainCode::generate(&mut rand::rng(), CodeLength::default());
        assert!(settings.secrets.verify(code.expose(), &first.hash(&code)));
        assert!(settings.secrets.verify(code.expose(), &second.hash(&code)));
        assert_eq!(settings.secrets.hash(&code), first.hash(&code));
    }

    #[test]
    fn a_file_is_read_and_the_environment_wins() {
        let file = yaml(&format!(
            "dsn: postgres://file/iam\n\
             serve:\n  admin:\n    port: 9434\n\
             secrets:\n  default:\n    - {SECRET}\n\
             selfservice:\n  methods:\n    code:\n      config:\n        lifespan: 2h\n        code_length: 10\n\
             log:\n  format: json\n"
        ));
        let settings = load(Some(&file.0), env(&[("SERVE_ADMIN_PORT", "7434")])).unwrap();
        assert_eq!(settings.dsn, "postgres://file/iam");
        assert_eq!(settings.admin.port, 7434);
        assert_eq!(
            settings.lifespan.default_lifespan(),
            Duration::from_secs(7200)
        );
        assert_eq!(settings.code_length.get(), 10);
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn unknown_keys_stop_start_up_naming_the_key() {
        let file = yaml(
            "dsn: postgres://x/y\nselfservice:\n  methods:\n    code:\n      config:\n        lifespam: 1h\n",
        );
        let message = error_of(load(Some(&file.0), env(&[("SECRETS_DEFAULT", SECRET)])));
        assert!(message.contains("lifespam"), "{message}");
        let file = yaml("dsn: postgres://x/y\nserve:\n  admn: {}\n");
        let message = error_of(load(Some(&file.0), env(&[("SECRETS_DEFAULT", SECRET)])));
        assert!(message.contains("admn"), "{message}");
    }

    #[test]
    fn invalid_values_stop_start_up_naming_the_key() {
        let cases: [(&str, &str, &str); 10] = [
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
        ];
        for (name, value, key) in cases {
            let message = error_of(load_env(&[(name, value)]));
            assert!(message.contains(key), "{name}={value}: {message}");
        }
    }

    #[test]
    fn a_database_is_required() {
        let message = error_of(load(None, env(&[("SECRETS_DEFAULT", SECRET)])));
        assert!(message.starts_with("dsn:"), "{message}");
    }

    #[test]
    fn outside_dev_mode_secrets_are_required_and_long() {
        let message = error_of(load(None, env(&[("DSN", "postgres://x/y")])));
        assert!(message.starts_with("secrets.default:"), "{message}");
        let message = error_of(load(
            None,
            env(&[("DSN", "postgres://x/y"), ("SECRETS_DEFAULT", "short")]),
        ));
        assert!(message.starts_with("secrets.default:"), "{message}");
        assert!(message.contains("32"), "{message}");
    }

    #[test]
    fn dev_mode_relaxes_secrets() {
        let settings = load(None, env(&[("DSN", "postgres://x/y"), ("DEV", "true")])).unwrap();
        assert!(settings.generated_secret);
        let settings = load(
            None,
            env(&[
                ("DSN", "postgres://x/y"),
                ("DEV", "true"),
                ("SECRETS_DEFAULT", "short"),
            ]),
        )
        .unwrap();
        assert!(!settings.generated_secret);
    }
}
