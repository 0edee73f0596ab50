//! The command line: run the service (`serve`, `migrate`), or operate a running one over its
//! admin API (`identities`, `recovery`), locally or remotely.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "iam-recovery",
    version,
    about = "Account recovery, as Ory Kratos's API."
)]
pub struct Cli {
    /// YAML configuration file of `serve` and `migrate`; environment variables override it.
    #[arg(short, long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// What to do: `serve` when no command is given.
    #[must_use]
    pub fn requested(&self) -> &Command {
        self.command.as_ref().unwrap_or(&Command::Serve)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the public and admin APIs (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create, show, list and delete identities, over the admin API.
    Identities {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: IdentitiesCommand,
    },
    /// Issue and revoke recovery codes, over the admin API.
    Recovery {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: RecoveryCommand,
    },
    /// Show the audit trail, oldest first: of one identity, or of all.
    Audit {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        query: AuditQuery,
    },
}

/// Which audit events, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AuditQuery {
    /// Only the events of this identity (also one deleted since).
    #[arg(long, conflicts_with = "email")]
    pub identity: Option<uuid::Uuid>,
    /// Only the events of the identity that signs in with this identifier.
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long, default_value_t = 250)]
    pub page_size: usize,
    /// The page after the one that printed this token.
    #[arg(long)]
    pub page_token: Option<String>,
}

/// Where the admin API is, and how to answer.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Remote {
    /// The admin API's base URL.
    #[arg(
        long,
        env = "IAM_RECOVERY_ENDPOINT",
        default_value = "http://127.0.0.1:4434/",
        global = true
    )]
    pub endpoint: Url,
    /// An admin API key (`serve.admin.api_keys`); sent as `Authorization: Bearer`.
    #[arg(
        long,
        env = "IAM_RECOVERY_API_KEY",
        hide_env_values = true,
        global = true
    )]
    pub api_key: Option<String>,
    /// Print the API's JSON answer instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum IdentitiesCommand {
    /// Create an identity.
    Create {
        /// The email trait (the built-in schema's identifier); merged into `--traits`.
        #[arg(long)]
        email: Option<String>,
        /// The traits, as a JSON object.
        #[arg(long, value_name = "JSON")]
        traits: Option<String>,
        /// The identity schema; the default one when absent.
        #[arg(long)]
        schema_id: Option<String>,
        /// Read a password from the first line of standard input (never from the command line,
        /// where other users of the machine can see it).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show an identity.
    Get { id: uuid::Uuid },
    /// List identities, a page at a time.
    List {
        /// Only the identity that signs in with this identifier.
        #[arg(long)]
        identifier: Option<String>,
        #[arg(long, default_value_t = 250)]
        page_size: usize,
        /// The `next` token printed with the previous page.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Delete an identity with its flows, codes and sessions.
    Delete { id: uuid::Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum RecoveryCommand {
    /// Issue a recovery code: prints the code, the link (also as a QR code) and the expiry.
    Code {
        #[command(flatten)]
        who: Who,
        /// How long the code lives, e.g. `2h` or `1h30m`; the configured default when absent.
        #[arg(long)]
        expires_in: Option<String>,
        #[arg(long, value_enum, default_value_t = FlowType::Browser)]
        flow_type: FlowType,
        /// The code is delivered to the identity's recovery address: redeeming it verifies it.
        #[arg(long)]
        mark_address_verified: bool,
        /// Print no QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Revoke every outstanding code of an identity, and end the sessions its codes opened.
    Revoke {
        #[command(flatten)]
        who: Who,
    },
}

/// The identity, by id or by the email address it signs in with.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// The identity's id.
    #[arg(long)]
    pub identity: Option<uuid::Uuid>,
    /// The identifier the identity signs in with (an email address, or a username).
    #[arg(long)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowType {
    Browser,
    Api,
}

impl FlowType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Api => "api",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("iam-recovery").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        <Cli as CommandFactory>::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse(&[]).unwrap().requested(), &Command::Serve);
        assert_eq!(parse(&["serve"]).unwrap().requested(), &Command::Serve);
        assert_eq!(parse(&["migrate"]).unwrap().requested(), &Command::Migrate);
    }

    #[test]
    fn config_file_in_every_spelling() {
        for args in [
            &["--config", "a.yaml", "serve"][..],
            &["serve", "-c", "a.yaml"],
            &["--config=a.yaml"],
        ] {
            assert_eq!(parse(args).unwrap().config, Some(PathBuf::from("a.yaml")));
        }
    }

    #[test]
    fn operator_commands_take_an_identity_one_way() {
        let cli = parse(&[
            "recovery",
            "code",
            "--email",
            "a@b.co",
            "--expires-in",
            "2h",
        ])
        .unwrap();
        let Some(Command::Recovery { remote, command }) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(remote.endpoint.as_str(), "http://127.0.0.1:4434/");
        assert!(matches!(
            command,
            RecoveryCommand::Code {
                who: Who { email: Some(_), .. },
                ..
            }
        ));
        let id = "0193a0e6-0000-7000-8000-000000000000";
        assert!(parse(&["recovery", "revoke", "--identity", id, "--email", "a@b.co"]).is_err());
        assert!(parse(&["recovery", "revoke"]).is_err());
        assert!(parse(&["recovery", "revoke", "--identity", "nope"]).is_err());
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(parse(&["serve", "migrate"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
        assert!(parse(&["--config"]).is_err());
        assert_eq!(
            parse(&["--help"]).unwrap_err().kind(),
            clap::error::ErrorKind::DisplayHelp
        );
    }
}
