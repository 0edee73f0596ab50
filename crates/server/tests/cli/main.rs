//! The `iam-recovery` binary as an operator runs it: a real process on real stores, over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod flood;
mod operator;
mod postgres;
mod shutdown;
mod sqlite;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

pub const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";
/// The admin API key of the servers the tests start, named [`ADMIN_KEY_NAME`].
pub const ADMIN_KEY: &str = "cli-test-admin-key-that-is-long-enough-0123";
pub const ADMIN_KEY_NAME: &str = "cli-test";

/// The binary with a clean environment: only `DSN`, free ports, JSON logs and an admin API
/// key.
pub fn iam_recovery(dsn: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_iam-recovery"));
    command
        .env_clear()
        .env("DSN", dsn)
        .env(
            "SERVE_ADMIN_API_KEYS",
            format!("{ADMIN_KEY_NAME}:{ADMIN_KEY}"),
        )
        .env("SERVE_PUBLIC_PORT", "0")
        .env("SERVE_ADMIN_PORT", "0")
        .env("LOG_FORMAT", "json");
    command
}

pub fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

/// A folder of its own, removed on drop.
pub struct TempDir(pub PathBuf);

pub fn temp_dir() -> TempDir {
    let name = format!("iam-recovery-cli-{:032x}", rand::random::<u128>());
    let path = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&path).unwrap();
    TempDir(path)
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server process, killed on drop, with its log lines as they come.
pub struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
    pub admin: String,
    pub public: String,
}

impl Server {
    pub fn start(mut command: Command) -> Self {
        let mut child = command.arg("serve").stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            lines,
            log: Vec::new(),
            admin: String::new(),
            public: String::new(),
        };
        let listening = server.wait_for("iam-recovery is listening");
        let port = |field: &str| {
            let addr = listening["fields"][field].as_str().unwrap().to_owned();
            addr.rsplit_once(':').unwrap().1.to_owned()
        };
        server.admin = format!("http://127.0.0.1:{}", port("admin"));
        server.public = format!("http://127.0.0.1:{}", port("public"));
        server
    }

    /// The next log event whose message is `message`.
    pub fn wait_for(&mut self, message: &str) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no \"{message}\" in {:#?}", self.log));
            self.log.push(line.clone());
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["fields"]["message"] == message {
                return event;
            }
        }
    }

    /// A log event already read whose message is `message`.
    pub fn logged(&self, message: &str) -> Option<Value> {
        self.log
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|event| event["fields"]["message"] == message)
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status("VmHWM")
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap()
    }

    /// Sends SIGTERM, as an orchestrator stopping the service does.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to exit, at most `patience`.
    pub fn wait_exit(mut self, patience: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + patience;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after {patience:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process's threads now.
    pub fn threads(&self) -> u64 {
        self.status("Threads").parse().unwrap()
    }

    /// A field of `/proc/<pid>/status`.
    fn status(&self, field: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .unwrap()
            .trim()
            .to_owned()
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Creates an identity and issues a code for it; returns the identity and the response.
    pub fn issue_code(&self, email: &str) -> (Value, Value) {
        let client = reqwest::blocking::Client::new();
        for base in [&self.admin, &self.public] {
            let res = client.get(format!("{base}/health/ready")).send().unwrap();
            assert_eq!(res.status(), 200, "{base}");
        }
        let identity: Value = client
            .post(format!("{}/admin/identities", self.admin))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"traits": {"email": email}}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let res = client
            .post(format!("{}/iam/recovery/code", self.admin))
            .bearer_auth(ADMIN_KEY)
            .header("x-request-id", "req-cli-test")
            .json(&json!({"identity_id": identity["id"], "expires_in": "1h30m"}))
            .send()
            .unwrap();
        assert_eq!(res.status(), 201);
        (identity, res.json().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_bad_configuration_stops_start_up_naming_the_key() {
    let output = run(iam_recovery("memory").env("SERVE_ADMIN_PORT", "abc"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("serve.admin.port"), "{stderr}");

    let output = run(iam_recovery("memory").env("SECRETS_DEFAULT", "short"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("secrets.default"), "{stderr}");

    let output = run(&mut iam_recovery("redis://cache/0"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("dsn"));

    let output = run(iam_recovery("memory").env("SERVE_ADMIN_API_KEYS", "ops:hunter2"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("serve.admin.api_keys"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    let output = run(iam_recovery("memory").arg("--bogus"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage"));
}

#[test]
fn serves_in_memory_and_never_logs_the_code() {
    let mut server = Server::start(iam_recovery("memory"));
    let (identity, issued) = server.issue_code("ada@example.com");
    let code = issued["recovery_code"].as_str().unwrap().to_owned();

    let audit = server.wait_for("recovery code created");
    assert_eq!(audit["target"], "audit");
    assert_eq!(audit["fields"]["identity_id"], identity["id"]);
    assert_eq!(audit["fields"]["expires_at"], issued["expires_at"]);
    assert_eq!(audit["span"]["request_id"], "req-cli-test");
    // The caller, by the name of its API key: in the request span, which JSON logs carry.
    assert_eq!(audit["span"]["actor"], ADMIN_KEY_NAME);
    assert!(
        server.log.iter().all(|line| !line.contains(ADMIN_KEY)),
        "the API key was logged"
    );
    let flow_id = issued["recovery_link"]
        .as_str()
        .unwrap()
        .rsplit_once("flow=")
        .unwrap()
        .1;
    assert_eq!(audit["fields"]["flow_id"], flow_id);
    assert!(
        issued["recovery_link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/recovery?flow=", server.public)),
        "the link uses the bound public port: {issued}"
    );
    assert!(
        server
            .log
            .iter()
            .all(|line| !line.contains(&format!("\"{code}\""))),
        "the code was logged"
    );
}

#[test]
fn an_admin_listener_others_can_reach_needs_keys_or_a_gateway() {
    let mut exposed = iam_recovery("memory");
    exposed
        .env_remove("SERVE_ADMIN_API_KEYS")
        .env("SERVE_ADMIN_HOST", "0.0.0.0");
    let output = run(&mut exposed);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in [
        "serve.admin.api_keys",
        "0.0.0.0",
        "SERVE_ADMIN_API_KEYS=name:key",
        "SERVE_ADMIN_ALLOW_UNAUTHENTICATED=true",
        "gateway",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }

    // `migrate` listens on nothing, so it does not ask.
    let output = run(&mut exposed_migrate_command());
    assert!(output.status.success(), "{output:?}");

    exposed.env("SERVE_ADMIN_ALLOW_UNAUTHENTICATED", "true");
    let server = Server::start(exposed);
    assert!(
        server
            .logged(
                "the admin API has no API key and relies on the gateway in front of it to \
                 authenticate (serve.admin.allow_unauthenticated)"
            )
            .is_some(),
        "{:#?}",
        server.log
    );
    let res = reqwest::blocking::get(format!("{}/admin/identities", server.admin)).unwrap();
    assert_eq!(res.status(), 200);
}

fn exposed_migrate_command() -> Command {
    let mut command = iam_recovery("memory");
    command
        .env_remove("SERVE_ADMIN_API_KEYS")
        .env("SERVE_ADMIN_HOST", "0.0.0.0")
        .arg("migrate");
    command
}

#[test]
fn on_loopback_without_keys_the_admin_api_is_open_with_a_warning() {
    let mut command = iam_recovery("memory");
    command.env_remove("SERVE_ADMIN_API_KEYS");
    let server = Server::start(command);
    let warning = server
        .log
        .iter()
        .find(|line| line.contains("the admin API requires no API key"));
    assert!(
        warning.is_some_and(|line| line.contains("\"WARN\"")),
        "{:#?}",
        server.log
    );
    let res = reqwest::blocking::get(format!("{}/admin/identities", server.admin)).unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn with_keys_the_admin_api_wants_one() {
    let server = Server::start(iam_recovery("memory"));
    let res = reqwest::blocking::get(format!("{}/admin/identities", server.admin)).unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = reqwest::blocking::Client::new()
        .get(format!("{}/admin/identities", server.admin))
        .header("authorization", ADMIN_KEY)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let listing = server
        .logged("the admin API requires one of these API keys")
        .unwrap();
    assert_eq!(listing["fields"]["keys"], "[\"cli-test\"]");
}

#[test]
fn dev_mode_is_announced_loudly() {
    let mut command = iam_recovery("memory");
    command.env("DEV", "true");
    let server = Server::start(command);
    let warning = server.log.iter().find(|line| line.contains("DEV MODE: "));
    assert!(
        warning.is_some_and(|line| line.contains("\"WARN\"")),
        "{:#?}",
        server.log
    );
}
