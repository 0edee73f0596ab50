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

/// Builds the release binary with PostgreSQL support and returns its path.
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
            "--features",
            "postgres",
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
/// The admin API key of the bench's server only, named `bench`.
pub const ADMIN_KEY: &str = "bench-admin-key-that-is-long-enough-0123456789";

pub struct Server {
    child: Child,
    pub admin: String,
    pub public: String,
}

impl Server {
    /// Starts the server on `db` and waits until it listens. Its logs (JSON, at info, as in
    /// production) are read and dropped, so logging costs what it costs.
    pub fn start(binary: &Path, db: &Database) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .env_clear()
            .env("DSN", &db.dsn)
            .env("SECRETS_DEFAULT", SECRET)
            .env("SERVE_ADMIN_API_KEYS", format!("bench:{ADMIN_KEY}"))
            .env("SERVE_PUBLIC_PORT", "0")
            .env("SERVE_ADMIN_PORT", "0")
            // The load comes from one address; per-client limits would measure only themselves.
            .env("SERVE_PUBLIC_RATE_LIMITS_RECOVERY_PER_MINUTE", "0")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            // Bench clients post API flows to the public listener without a browser's Origin.
            .env("DEV", "true")
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
