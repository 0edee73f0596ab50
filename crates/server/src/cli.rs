//! `iam-recovery [--config FILE] [serve|migrate]`.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Command {
    /// Apply pending migrations, then serve both listeners (the default).
    #[default]
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cli {
    pub command: Command,
    pub config: Option<PathBuf>,
}

/// What the command line asked for, when it is not a command to run.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Help,
    Version,
    Usage(String),
}

pub const USAGE: &str = "\
Usage: iam-recovery [--config FILE] [COMMAND]

Commands:
  serve    Apply pending migrations, then serve the public and admin APIs (default)
  migrate  Apply pending migrations and exit

Options:
  -c, --config FILE  YAML configuration file; environment variables override it
  -h, --help         Print this help
  -V, --version      Print the version";

impl Cli {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    /// [`Exit`] for help, version, or a usage mistake (with its message).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, Exit> {
        let mut cli = Self::default();
        let mut command = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Err(Exit::Help),
                "-V" | "--version" => return Err(Exit::Version),
                "-c" | "--config" => {
                    let file = args
                        .next()
                        .ok_or_else(|| Exit::Usage(format!("{arg} needs a file")))?;
                    cli.config = Some(PathBuf::from(file));
                }
                _ if arg.starts_with("--config=") => {
                    cli.config = Some(PathBuf::from(&arg["--config=".len()..]));
                }
                "serve" | "migrate" if command.is_none() => {
                    command = Some(if arg == "serve" {
                        Command::Serve
                    } else {
                        Command::Migrate
                    });
                }
                other => return Err(Exit::Usage(format!("unexpected argument \"{other}\""))),
            }
        }
        cli.command = command.unwrap_or_default();
        Ok(cli)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, Exit> {
        Cli::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse(&[]).unwrap().command, Command::Serve);
        assert_eq!(parse(&["serve"]).unwrap().command, Command::Serve);
        assert_eq!(parse(&["migrate"]).unwrap().command, Command::Migrate);
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
    fn mistakes_are_reported() {
        assert_eq!(parse(&["--help"]), Err(Exit::Help));
        assert_eq!(parse(&["-V"]), Err(Exit::Version));
        assert!(matches!(parse(&["--config"]), Err(Exit::Usage(_))));
        assert!(matches!(parse(&["serve", "migrate"]), Err(Exit::Usage(_))));
        assert!(matches!(parse(&["--verbose"]), Err(Exit::Usage(_))));
    }
}
