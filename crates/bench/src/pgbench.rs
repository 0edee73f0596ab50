//! The database's own speed: pgbench on the same database, at the same concurrency and for
//! the same time, running the same work as custom scripts.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::args::Args;
use crate::database::Database;
use crate::load::{Measured, histogram};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// (a) Issue as an ORM would: lock the identity, revoke its codes, insert the flow, insert
    /// the code, commit; a round trip each.
    IssueObvious,
    /// (b) Issue in the fewest round trips SQL allows: one statement.
    IssueOneStatement,
    /// (c) Issue [`BATCH`] codes per statement, by hand: the ceiling of group commit.
    IssueBatched,
    /// Look a code up and consume it atomically.
    Redeem,
    /// Everything a redemption through the API does, in one statement: count the submission,
    /// check the code, consume it, pass the flow, revoke live sessions, open a session and its
    /// settings flow.
    RedeemSameWork,
}

impl Script {
    pub fn label(self) -> String {
        match self {
            Self::IssueObvious => "pgbench (a): obvious transaction",
            Self::IssueOneStatement => "pgbench (b): one statement",
            Self::IssueBatched => "pgbench (c): 16 codes per statement",
            Self::Redeem => "pgbench: look up + consume",
            Self::RedeemSameWork => "pgbench: same work, one statement",
        }
        .to_owned()
    }

    fn text(self) -> &'static str {
        match self {
            Self::IssueObvious => ISSUE_OBVIOUS,
            Self::IssueOneStatement => ISSUE_ONE_STATEMENT,
            Self::IssueBatched => ISSUE_BATCHED,
            Self::Redeem => REDEEM,
            Self::RedeemSameWork => REDEEM_SAME_WORK,
        }
    }

    /// Codes issued by one transaction: its rate counts codes, as the service's counts requests.
    fn codes_per_transaction(self) -> u64 {
        match self {
            Self::IssueBatched => BATCH,
            _ => 1,
        }
    }

    /// Each transaction takes a code of its own: a warm-up would use up codes, not warm.
    fn consumes_codes(self) -> bool {
        matches!(self, Self::Redeem | Self::RedeemSameWork)
    }
}

/// Picks the identity by number: pgbench cannot draw a random UUID from a list otherwise.
/// The codes are `exclusive`, as the service's are, so the one-live-code index is maintained
/// on both sides. pgbench cannot retry that index's conflict, which two issues for one identity
/// at the same moment meet (the service retries it), so each client draws from identities of
/// its own: n = 1 + client_id + clients × k.
const ISSUE_OBVIOUS: &str = r"\set n 1 + :client_id + :clients * random(0, :count / :clients - 1)
BEGIN;
SELECT i.id AS identity FROM bench_ids b JOIN identities i ON i.id = b.id WHERE b.n = :n FOR NO KEY UPDATE OF i \gset
UPDATE recovery_codes SET revoked_at = now() WHERE identity_id = :identity::uuid AND code_type = 'admin' AND used_at IS NULL AND revoked_at IS NULL;
INSERT INTO recovery_flows (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at) VALUES (gen_random_uuid(), :identity::uuid, 'browser', 'sent_email', 'code', 'http://bench/iam/recovery/code', now(), now() + interval '1 hour') RETURNING id AS flow \gset
INSERT INTO recovery_codes (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive) VALUES (gen_random_uuid(), :flow::uuid, :identity::uuid, md5(random()::text) || md5(random()::text), 'admin', now(), now() + interval '1 hour', true);
COMMIT;
";

const ISSUE_ONE_STATEMENT: &str = r"\set n 1 + :client_id + :clients * random(0, :count / :clients - 1)
WITH identity AS (SELECT i.id FROM bench_ids b JOIN identities i ON i.id = b.id WHERE b.n = :n FOR NO KEY UPDATE OF i), flow AS (INSERT INTO recovery_flows (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at) SELECT gen_random_uuid(), id, 'browser', 'sent_email', 'code', 'http://bench/iam/recovery/code', now(), now() + interval '1 hour' FROM identity RETURNING id, identity_id), revoked AS (UPDATE recovery_codes SET revoked_at = now() WHERE identity_id IN (SELECT identity_id FROM flow) AND code_type = 'admin' AND used_at IS NULL AND revoked_at IS NULL RETURNING 1) INSERT INTO recovery_codes (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive) SELECT gen_random_uuid(), flow.id, flow.identity_id, md5(random()::text) || md5(random()::text), 'admin', now(), now() + interval '1 hour', true FROM flow CROSS JOIN (SELECT count(*) FROM revoked) AS done;
";

/// Codes per statement in baseline (c).
const BATCH: u64 = 16;

/// (b) for 16 identities at once, as a batch of the service writes them: the client's own
/// identities, 16 in a row from a random start, locked in id order.
const ISSUE_BATCHED: &str = r"\set per :count / :clients
\set k random(0, :per - 1)
WITH identity AS (SELECT i.id FROM generate_series(0, 15) g JOIN bench_ids b ON b.n = 1 + :client_id::int + :clients::int * ((:k::int + g) % :per::int) JOIN identities i ON i.id = b.id ORDER BY i.id FOR NO KEY UPDATE OF i), flow AS (INSERT INTO recovery_flows (id, identity_id, flow_type, state, active_method, request_url, issued_at, expires_at) SELECT gen_random_uuid(), id, 'browser', 'sent_email', 'code', 'http://bench/iam/recovery/code', now(), now() + interval '1 hour' FROM identity RETURNING id, identity_id), revoked AS (UPDATE recovery_codes SET revoked_at = now() WHERE identity_id IN (SELECT identity_id FROM flow) AND code_type = 'admin' AND used_at IS NULL AND revoked_at IS NULL RETURNING 1) INSERT INTO recovery_codes (id, flow_id, identity_id, code_hash, code_type, issued_at, expires_at, exclusive) SELECT gen_random_uuid(), flow.id, flow.identity_id, md5(random()::text) || md5(random()::text), 'admin', now(), now() + interval '1 hour', true FROM flow CROSS JOIN (SELECT count(*) FROM revoked) AS done;
";

/// Each transaction takes the next code, so every code is consumed once, as over the API.
const REDEEM: &str = r"SELECT c.id AS code FROM bench_flows b JOIN recovery_codes c ON c.flow_id = b.id WHERE b.n = (SELECT nextval('bench_next')) AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > now() \gset
UPDATE recovery_codes SET used_at = now() WHERE id = :code::uuid AND used_at IS NULL;
";

/// The service's redemption as one statement, with the decision made in SQL: the flow's count
/// goes up, and only if the flow is open, under its limit (5, the service's default), the code
/// is its own, live and unused, and the identity active, does the rest happen. The look-up
/// before it stands in for the client, which knows its flow and code, as in [`REDEEM`].
/// The sessions it opens are already expired: pgbench goes through the identities more than
/// once, and a later redemption of one identity must find no live session to revoke, as every
/// redemption in the service's run found none.
const REDEEM_SAME_WORK: &str = r"SELECT b.id AS flow, c.code_hash AS hash FROM bench_flows b JOIN recovery_codes c ON c.flow_id = b.id WHERE b.n = (SELECT nextval('bench_next')) \gset
WITH flow AS (UPDATE recovery_flows f SET submit_count = f.submit_count + 1, state = CASE WHEN f.submit_count < 5 AND EXISTS (SELECT 1 FROM recovery_codes c WHERE c.flow_id = f.id AND c.code_hash = :hash AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > now()) AND EXISTS (SELECT 1 FROM identities i WHERE i.id = f.identity_id AND i.state = 'active') THEN 'passed_challenge' ELSE f.state END WHERE f.id = :flow::uuid AND f.state = 'sent_email' AND f.expires_at > now() RETURNING f.id, f.identity_id, f.state), consumed AS (UPDATE recovery_codes c SET used_at = now() FROM flow WHERE flow.state = 'passed_challenge' AND c.flow_id = flow.id AND c.code_hash = :hash AND c.used_at IS NULL RETURNING c.identity_id), revoked AS (UPDATE sessions s SET revoked_at = now() FROM consumed WHERE s.identity_id = consumed.identity_id AND s.expires_at > now() AND s.revoked_at IS NULL RETURNING 1), session AS (INSERT INTO sessions (id, identity_id, token_hash, method, authenticated_at, expires_at) SELECT gen_random_uuid(), identity_id, md5(random()::text) || md5(random()::text), 'code_recovery', now(), now() - interval '1 second' FROM consumed RETURNING id, identity_id), settings AS (INSERT INTO settings_flows (id, identity_id, session_id, flow_type, state, issued_at, expires_at) SELECT gen_random_uuid(), identity_id, id, 'api', 'show_form', now(), now() + interval '1 hour' FROM session RETURNING 1) SELECT count(*) AS redeemed FROM consumed;
";

fn pgbench_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("pgbench"))
            .find(|candidate| candidate.is_file())
    });
    on_path
        .or_else(|| {
            let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path().join("bin/pgbench")))
                .filter(|p| p.is_file())
                .collect();
            found.sort();
            found.pop()
        })
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// Runs `script` for a warm-up, then for the measured duration with per-transaction logs, and
/// reads the latencies from the logs.
pub fn run(db: &Database, script: Script, count: usize, args: &Args) -> Result<Measured, String> {
    let folder = std::env::temp_dir().join(format!("bench-pgbench-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let file = folder.join("script.sql");
    std::fs::write(&file, script.text()).map_err(|e| e.to_string())?;
    let threads = args.concurrency.min(4).to_string();
    let clients = args.concurrency.to_string();
    let pgbench = |seconds: u64, log: bool| {
        let mut command = Command::new(pgbench_binary());
        // Prepared statements, as the service's hot statement is: the database's best speed.
        command.args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients,
            "-j",
            &threads,
            "-T",
            &seconds.to_string(),
            "-D",
            &format!("count={count}"),
            "-D",
            &format!("clients={clients}"),
            "-f",
            &file.to_string_lossy(),
        ]);
        if log {
            command.args(["-l", "--log-prefix", &folder.join("log").to_string_lossy()]);
        }
        command.arg(&db.dsn);
        command
            .output()
            .map_err(|e| format!("cannot run pgbench: {e}"))
    };
    if !args.warmup.is_zero() && !script.consumes_codes() {
        pgbench(args.warmup.as_secs().max(1), false)?;
    }
    let seconds = args.duration.as_secs().max(1);
    let output = pgbench(seconds, true)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() && !stdout.contains("number of transactions actually processed") {
        return Err(format!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // Clients that stopped on an error count as errors too.
    let aborted = u64::try_from(
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|line| line.contains("aborted"))
            .count(),
    )
    .unwrap_or(u64::MAX);
    let failed = aborted
        + stdout
            .lines()
            .find_map(|line| line.strip_prefix("number of failed transactions: "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    let mut latency = histogram();
    let mut transactions = 0u64;
    for entry in std::fs::read_dir(&folder)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        if !entry.file_name().to_string_lossy().starts_with("log") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
        for line in text.lines() {
            // client_id transaction_no time script_no time_epoch time_us
            if let Some(micros) = line
                .split_whitespace()
                .nth(2)
                .and_then(|t| t.parse::<u64>().ok())
            {
                transactions += 1;
                let _ = latency.record(micros.max(1));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&folder);
    if transactions == 0 {
        return Err(format!(
            "pgbench ran no transaction: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(Measured::from_parts(
        transactions * script.codes_per_transaction(),
        failed,
        Duration::from_secs(seconds),
        latency,
    ))
}
