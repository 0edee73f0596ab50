//! The release build of `iam-recovery`, started on the bench's database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::database::Database;

/// The workspace this tool belongs to.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the release binary and returns its path.
pub fn build_release() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "server",
            "--bin",
            "iam-recovery",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build of iam-recovery failed".to_owned());
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| workspace().join("target"), PathBuf::from);
    Ok(target.join("release").join("iam-recovery"))
}

/// A secret for the bench's server only.
pub const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";
/// The admin API key the bench's server is given (`SERVE_ADMIN_API_KEYS`, `name:key`) and that
/// every admin request carries as `Authorization: Bearer` (see [`crate::load::admin`]). A server
/// that does not check keys ignores both.
pub const ADMIN_KEY_NAME: &str = "bench";
pub const ADMIN_KEY: &str = "bench-admin-key-that-is-long-enough-0123456789";

/// The address a client on this machine connects from, trusted as a proxy in
/// [`Setup::Isolation`] so that each flooding client can name its own address in
/// `X-Forwarded-For`.
pub const LOAD_PROXY: &str = "127.0.0.1/32";

/// How the server is configured for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// `issue`, `redeem`, `scale`: the load comes from one address, so the per-client limit
    /// on recovery submissions is off; the others are not on the measured routes.
    Throughput,
    /// `isolation`: the per-client limits at their defaults, and `X-Forwarded-For` honoured
    /// from this machine, so that every flooding client is a client of its own.
    Isolation,
}

/// The one place where the server's environment is set, for `migrate` and for `serve`.
fn command(binary: &Path, dsn: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("DSN", dsn)
        .env("SECRETS_DEFAULT", SECRET)
        .env(
            "SERVE_ADMIN_API_KEYS",
            format!("{ADMIN_KEY_NAME}:{ADMIN_KEY}"),
        );
    command
}

/// Applies the migrations with the server's own `migrate`.
pub fn migrate(binary: &Path, dsn: &str) -> Result<(), String> {
    let migrated = command(binary, dsn)
        .env("LOG_LEVEL", "warn")
        .arg("migrate")
        .status()
        .map_err(|e| e.to_string())?;
    if migrated.success() {
        Ok(())
    } else {
        Err("the database could not be migrated".to_owned())
    }
}

pub struct Server {
    child: Child,
    pub admin: String,
    pub public: String,
}

impl Server {
    /// Starts the server on `db` and waits until it listens. Its logs (JSON, at info, as in
    /// production) are read and dropped, so logging costs what it costs.
    /// `extra` (from `--server-env`) comes last, so it can override the bench's settings.
    pub fn start(
        binary: &Path,
        db: &Database,
        setup: Setup,
        extra: &[(String, String)],
    ) -> Result<Self, String> {
        let mut command = command(binary, &db.dsn);
        command
            .env("SERVE_PUBLIC_PORT", "0")
            .env("SERVE_ADMIN_PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            // Bench clients post API flows to the public listener without a browser's Origin.
            .env("DEV", "true");
        match setup {
            // The load comes from one address; per-client limits would measure only themselves.
            Setup::Throughput => command.env("SERVE_PUBLIC_RATE_LIMITS_RECOVERY_PER_MINUTE", "0"),
            Setup::Isolation => command.env("SERVE_PUBLIC_TRUSTED_PROXIES", LOAD_PROXY),
        };
        command.envs(extra.iter().map(|(k, v)| (k, v)));
        let mut child = command
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("iam-recovery is listening") {
                    let _ = sender.send(line);
                }
            }
        });
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "the server did not start listening".to_owned())?;
        let event: serde_json::Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        let port = |field: &str| -> Result<String, String> {
            let addr = event["fields"][field].as_str().ok_or("no address")?;
            Ok(addr.rsplit_once(':').ok_or("no port")?.1.to_owned())
        };
        Ok(Self {
            admin: format!("http://127.0.0.1:{}", port("admin")?),
            public: format!("http://127.0.0.1:{}", port("public")?),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The largest resident set the server had so far, from `/proc` (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
