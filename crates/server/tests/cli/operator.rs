//! The operator commands against a running service, as a support engineer runs them: the same
//! binary, the endpoint and key from the environment, over TCP.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::{ADMIN_KEY, ADMIN_KEY_NAME, Server, iam_recovery};

/// `iam-recovery ARGS` against `server`'s admin API, with `stdin` as its input.
fn operate(server: &Server, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iam-recovery"))
        .env_clear()
        .env("IAM_RECOVERY_ENDPOINT", &server.admin)
        .env("IAM_RECOVERY_API_KEY", ADMIN_KEY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap()
}

#[test]
fn a_support_engineer_issues_and_revokes_a_code_from_the_command_line() {
    let server = Server::start(iam_recovery("memory"));
    let created = json(&operate(
        &server,
        &[
            "identities",
            "create",
            "--email",
            "ada@example.com",
            "--password-stdin",
            "--json",
        ],
        "a long and good password\n",
    ));
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["traits"]["email"], "ada@example.com");
    assert!(!created.to_string().contains("a long and good password"));

    let shown = stdout(&operate(&server, &["identities", "get", &id], ""));
    assert!(shown.contains(&format!("id:        {id}")), "{shown}");
    assert!(
        shown.contains("ada@example.com (email, not verified)"),
        "{shown}"
    );
    let listed = stdout(&operate(
        &server,
        &["identities", "list", "--identifier", "ADA@example.com"],
        "",
    ));
    assert!(listed.starts_with(&id), "{listed}");

    // By email, with an expiry: code, link, expiry and the link as a QR code.
    let issued = stdout(&operate(
        &server,
        &[
            "recovery",
            "code",
            "--email",
            "ada@example.com",
            "--expires-in",
            "2h",
            "--flow-type",
            "api",
        ],
        "",
    ));
    let code = issued
        .lines()
        .find_map(|line| line.strip_prefix("recovery code: "))
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 6, "{issued}");
    assert!(issued.contains("recovery link: http://"), "{issued}");
    assert!(issued.contains("expires at:    "), "{issued}");
    assert!(
        issued.contains('▀') || issued.contains('▄'),
        "no QR code: {issued}"
    );
    let as_json = json(&operate(
        &server,
        &["recovery", "code", "--identity", &id, "--json"],
        "",
    ));
    assert!(as_json["recovery_link"].as_str().unwrap().contains("flow="));

    let revoked = stdout(&operate(
        &server,
        &["recovery", "revoke", "--identity", &id],
        "",
    ));
    assert!(revoked.starts_with(&format!(
        "revoked the outstanding recovery codes of identity {id}"
    )));
    let link = as_json["recovery_link"].as_str().unwrap();
    let flow = link.rsplit_once("flow=").unwrap().1;
    let answer: Value = reqwest::blocking::Client::new()
        .post(format!(
            "{}/self-service/recovery?flow={flow}",
            server.public
        ))
        .json(&serde_json::json!({"method": "code", "code": as_json["recovery_code"]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["ui"]["messages"][0]["id"], 4_060_006, "{answer}");

    let deleted = stdout(&operate(&server, &["identities", "delete", &id], ""));
    assert_eq!(deleted.trim(), format!("deleted identity {id}"));

    // The trail outlives the identity: who issued each code, and what came of them.
    let trail = stdout(&operate(&server, &["audit", "--identity", &id], ""));
    let lines: Vec<&str> = trail.lines().collect();
    let actions: Vec<&str> = lines
        .iter()
        .map(|line| line.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "identity.created",
            "recovery_code.issued",
            "recovery_code.issued",
            "recovery_codes.revoked",
            "recovery.refused",
            "identity.deleted"
        ],
        "{trail}"
    );
    assert!(
        lines[1].contains(&format!("by {ADMIN_KEY_NAME}")),
        "{trail}"
    );
    assert!(
        lines[4].contains("(code_revoked)") && lines[4].contains("by self-service"),
        "{trail}"
    );
    let as_json = json(&operate(
        &server,
        &["audit", "--identity", &id, "--json"],
        "",
    ));
    assert_eq!(as_json.as_array().unwrap().len(), 6);
}

#[test]
fn a_refusal_prints_the_envelope_and_exits_non_zero() {
    let server = Server::start(iam_recovery("memory"));
    let unknown = "0193a0e6-0000-7000-8000-000000000000";
    let output = operate(&server, &["recovery", "code", "--identity", unknown], "");
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.starts_with("iam-recovery: Unable to locate the resource (404)"),
        "{error}"
    );
    assert!(
        error.contains(unknown),
        "the reason names the identity: {error}"
    );

    let output = operate(
        &server,
        &["recovery", "revoke", "--email", "nobody@example.com"],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.contains("no identity signs in with \"nobody@example.com\""),
        "{error}"
    );

    // A wrong key: the API's 401, said so.
    let output = Command::new(env!("CARGO_BIN_EXE_iam-recovery"))
        .env_clear()
        .args([
            "identities",
            "list",
            "--endpoint",
            &server.admin,
            "--api-key",
            "wrong",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("(401)"));

    // Nobody there.
    let output = Command::new(env!("CARGO_BIN_EXE_iam-recovery"))
        .env_clear()
        .args(["identities", "list", "--endpoint", "http://127.0.0.1:1/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the admin API"));

    // A usage mistake is clap's: exit 2.
    let output = Command::new(env!("CARGO_BIN_EXE_iam-recovery"))
        .args(["recovery", "code"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
