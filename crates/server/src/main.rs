use std::process::ExitCode;

use clap::Parser;
use server::cli::{Cli, Command};
use server::config::{self, Settings, StoreConfig};
use server::operator;
use server::secret_file::SecretSource;
use server::startup::{self, Application};
use server::telemetry;

fn main() -> ExitCode {
    // Help and version exit 0, a usage mistake 2, as clap does.
    let cli = Cli::parse();
    match cli.requested() {
        Command::Identities { remote, command } => return operator::identities(remote, command),
        Command::Recovery { remote, command } => return operator::recovery(remote, command),
        Command::Audit { remote, query } => return operator::audit(remote, query),
        Command::Serve | Command::Migrate => {}
    }
    let settings = match config::load(cli.config.as_deref(), |name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("iam-recovery: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    if *cli.requested() == Command::Serve
        && let Err(error) = config::check_exposure(&settings)
    {
        eprintln!("iam-recovery: configuration error: {error}");
        return ExitCode::from(2);
    }
    telemetry::init(&settings);
    match cli.requested() {
        Command::Migrate => match startup::migrate(&settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "migrations failed");
                ExitCode::FAILURE
            }
        },
        Command::Serve => serve(&settings),
        Command::Identities { .. } | Command::Recovery { .. } | Command::Audit { .. } => {
            unreachable!("operator commands return above")
        }
    }
}

/// Where the data lives, for people: never a DSN, which may hold a password.
fn store_description(store: &StoreConfig) -> String {
    match store {
        StoreConfig::Postgres { .. } => "PostgreSQL (dsn)".to_owned(),
        StoreConfig::Sqlite { path } => format!("SQLite file {}", path.display()),
        StoreConfig::Memory => "memory (lost when the process ends)".to_owned(),
    }
}

/// Says loudly what leaves the service less protected than in production.
fn warn_about_exposure(settings: &Settings, app: &Application) {
    if settings.dev {
        tracing::warn!(
            "DEV MODE: error answers carry internal detail, the session cookie is not Secure, \
             and short secrets and API keys are accepted; never run dev mode in production \
             (unset DEV / dev)"
        );
    }
    let auth = &settings.admin_auth;
    if !auth.access.keys.is_empty() {
        let names: Vec<&str> = auth.access.keys.iter().map(|key| key.name()).collect();
        tracing::info!(keys = ?names, "the admin API requires one of these API keys");
    } else if auth.allow_unauthenticated && !config::is_loopback(&settings.admin.host) {
        tracing::warn!(
            admin = %app.admin_addr(),
            "the admin API has no API key and relies on the gateway in front of it to \
             authenticate (serve.admin.allow_unauthenticated)"
        );
    } else {
        tracing::warn!(
            admin = %app.admin_addr(),
            "the admin API requires no API key: anyone and any program on this machine can \
             create identities and recovery codes; configure serve.admin.api_keys \
             (SERVE_ADMIN_API_KEYS=name:key)"
        );
    }
}

fn serve(settings: &Settings) -> ExitCode {
    actix_web::rt::System::new().block_on(async {
        let app = match Application::build(settings) {
            Ok(app) => app,
            Err(error) => {
                tracing::error!(%error, "iam-recovery cannot start");
                return ExitCode::FAILURE;
            }
        };
        match app.secret_source() {
            SecretSource::Configured => {}
            SecretSource::File(path) => tracing::warn!(
                file = %path.display(),
                "no secrets.default configured: using the generated secret kept in this file \
                 (owner-only); configure secrets.default to manage and rotate it yourself"
            ),
            SecretSource::Ephemeral => tracing::warn!(
                "no secrets.default configured: using a random secret for this run only; codes \
                 issued now stop working when the process restarts"
            ),
        }
        warn_about_exposure(settings, &app);
        tracing::info!(
            admin = %app.admin_addr(),
            public = %app.public_addr(),
            store = %store_description(&settings.store),
            "iam-recovery is listening"
        );
        match app.run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "a listener failed");
                ExitCode::FAILURE
            }
        }
    })
}
