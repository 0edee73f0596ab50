use std::process::ExitCode;

use server::cli::{Cli, Command, Exit, USAGE};
use server::config::{self, Settings};
use server::startup::Application;
use server::telemetry;

fn main() -> ExitCode {
    let cli = match Cli::parse(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(Exit::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Exit::Version) => {
            println!("iam-recovery {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(Exit::Usage(message)) => {
            eprintln!("iam-recovery: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match config::load(cli.config.as_deref(), |name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("iam-recovery: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings);
    if settings.generated_secret {
        tracing::warn!(
            "no secrets.default configured: using a random secret for this run only; codes \
             issued now stop working when the process restarts"
        );
    }
    if let Err(error) = migrate(&settings) {
        tracing::error!(%error, "migrations failed");
        return ExitCode::FAILURE;
    }
    match cli.command {
        Command::Migrate => ExitCode::SUCCESS,
        Command::Serve => serve(&settings),
    }
}

fn migrate(settings: &Settings) -> Result<(), postgres_store::MigrationError> {
    let applied = postgres_store::run_migrations(&settings.dsn)?;
    tracing::info!(applied = applied.len(), versions = ?applied, "database schema is up to date");
    Ok(())
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
        tracing::info!(
            admin = %app.admin_addr(),
            public = %app.public_addr(),
            admin_base_url = %settings.admin.base_url,
            public_base_url = %settings.public.base_url,
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
