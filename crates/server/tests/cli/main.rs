//! The `iam-recovery` binary as an operator runs it: real process, real PostgreSQL, real TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::RunQueryDsl;
use postgres_store::test_support::{TestDatabase, revert_all_migrations};
use serde_json::{Value, json};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-prod";

fn iam_recovery(dsn: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_iam-recovery"));
    command
        .env_clear()
        .env("DSN", dsn)
        .env("SECRETS_DEFAULT", SECRET)
        .env("SERVE_PUBLIC_PORT", "0")
        .env("SERVE_ADMIN_PORT", "0")
        .env("LOG_FORMAT", "json");
    command
}

fn tables(db: &TestDatabase) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS count FROM information_schema.tables \
         WHERE table_schema = current_schema() \
           AND table_name IN ('identities', 'recovery_flows', 'recovery_codes')",
    )
    .get_result::<Count>(&mut db.connection())
    .unwrap()
    .count
}

#[test]
fn migrate_applies_the_schema_even_when_replicas_race() {
    let db = TestDatabase::new();
    revert_all_migrations(&db.url).unwrap();
    assert_eq!(tables(&db), 0);

    let runs: Vec<Child> = (0..3)
        .map(|_| {
            iam_recovery(&db.url)
                .arg("migrate")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert_eq!(tables(&db), 3);
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

#[test]
fn a_bad_configuration_stops_start_up_naming_the_key() {
    let output = run(iam_recovery("postgres://x/y").env("SERVE_ADMIN_PORT", "abc"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("serve.admin.port"), "{stderr}");

    let output = run(iam_recovery("postgres://x/y").env("SECRETS_DEFAULT", "short"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("secrets.default"), "{stderr}");

    let output = run(iam_recovery("postgres://x/y").arg("--bogus"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage"));
}

#[test]
fn an_unreachable_database_fails_start_up() {
    let output = run(&mut iam_recovery("postgres://postgres@127.0.0.1:1/none"));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("migrations failed"), "{stdout}");
}

/// The server process; killed on drop.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Server {
    fn start(db: &TestDatabase) -> Self {
        let mut child = iam_recovery(&db.url)
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The next log line whose message is `message`.
    fn wait_for(&mut self, message: &str) -> Value {
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_migrates_listens_and_issues_codes_without_logging_them() {
    let db = TestDatabase::new();
    revert_all_migrations(&db.url).unwrap();
    let mut server = Server::start(&db);
    let listening = server.wait_for("iam-recovery is listening");
    let admin = format!("http://{}", listening["fields"]["admin"].as_str().unwrap());
    let public_port = listening["fields"]["public"]
        .as_str()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .1
        .to_owned();
    let public = format!("http://127.0.0.1:{public_port}");
    assert_eq!(tables(&db), 3);

    let client = reqwest::blocking::Client::new();
    for base in [&admin, &public] {
        let res = client.get(format!("{base}/health/ready")).send().unwrap();
        assert_eq!(res.status(), 200, "{base}");
    }
    let identity: Value = client
        .post(format!("{admin}/admin/identities"))
        .json(&json!({"traits": {"email": "ada@example.com"}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let res = client
        .post(format!("{admin}/iam/recovery/code"))
        .header("x-request-id", "req-cli-test")
        .json(&json!({"identity_id": identity["id"], "expires_in": "1h30m"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    let issued: Value = res.json().unwrap();
    let code = issued["recovery_code"].as_str().unwrap().to_owned();

    let audit = server.wait_for("recovery code created");
    assert_eq!(audit["target"], "audit");
    assert_eq!(audit["fields"]["identity_id"], identity["id"]);
    assert_eq!(audit["fields"]["expires_at"], issued["expires_at"]);
    assert_eq!(audit["fields"]["request_id"], "req-cli-test");
    let flow_id = issued["recovery_link"]
        .as_str()
        .unwrap()
        .rsplit_once("flow=")
        .unwrap()
        .1;
    assert_eq!(audit["fields"]["flow_id"], flow_id);
    assert!(
        server
            .log
            .iter()
            .all(|line| !line.contains(&format!("\"{code}\""))),
        "the code was logged"
    );
}
