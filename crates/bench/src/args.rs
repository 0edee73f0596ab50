//! The command line.

use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
Usage: bench <issue|redeem|scale|isolation> [options]

  issue    POST /iam/recovery/code for random identities; pgbench baselines (a) the obvious
           transaction and (b) one statement
  redeem   submit pre-issued codes through the recovery API; pgbench baselines: look up and
           consume the code, and the same work as the service in one statement
  scale    issue at 10k and at 1M identities (as many outstanding codes), and their ratio
  isolation
           the admin API's p99 for issuing codes with no flood, then while --flood-clients
           addresses flood the public login with wrong passwords; the ratio of the two p99s
           (target: at most 2x), the flood's answers by status, the server's peak RSS

Options:
  --identities N    identities to seed (default 10000)
  --codes N         codes to pre-issue for redeem (default 20000)
  --concurrency N   concurrent clients, for the service and for pgbench (default 16; for
                    isolation, the admin clients, default 4)
  --flood-clients N isolation: flooding clients, each at an address of its own (default 200)
  --duration D      measured time, e.g. 20s (default 20s)
  --warmup D        unmeasured time before it (default 3s)
  --rate R          send R requests/s in all, on a fixed schedule, instead of as fast as the
                    clients go; latency then counts from the scheduled instant
  --store S         postgres (default) or sqlite
  --database-url U  the PostgreSQL server to create the database on
                    (default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  --server-env K=V  also start the server with K=V in its environment (repeatable), e.g.
                    HASHERS_MAX_CONCURRENT=1, to try a setting
  --json PATH       also write the results as JSON";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Issue,
    Redeem,
    Scale,
    Isolation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub mode: Mode,
    pub identities: usize,
    pub codes: usize,
    pub concurrency: usize,
    pub flood_clients: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Requests per second in all, when paced.
    pub rate: Option<f64>,
    pub store: Store,
    pub database_url: String,
    pub json: Option<PathBuf>,
    /// Extra environment for the server, after the bench's own.
    pub server_env: Vec<(String, String)>,
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter();
        let mode = match args.next().as_deref() {
            Some("issue") => Mode::Issue,
            Some("redeem") => Mode::Redeem,
            Some("scale") => Mode::Scale,
            Some("isolation") => Mode::Isolation,
            Some(other) => return Err(format!("unknown mode \"{other}\"")),
            None => return Err("a mode is required".to_owned()),
        };
        let mut parsed = Self {
            mode,
            identities: 10_000,
            codes: 20_000,
            // Isolation measures the admin API's latency, not its saturation: a modest load.
            concurrency: if mode == Mode::Isolation { 4 } else { 16 },
            flood_clients: 200,
            duration: Duration::from_secs(20),
            warmup: Duration::from_secs(3),
            rate: None,
            store: Store::Postgres,
            database_url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            json: None,
            server_env: Vec::new(),
        };
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--identities" => parsed.identities = number(&value()?)?,
                "--codes" => parsed.codes = number(&value()?)?,
                "--concurrency" => parsed.concurrency = number(&value()?)?,
                "--flood-clients" => parsed.flood_clients = number(&value()?)?,
                "--duration" => parsed.duration = seconds(&value()?)?,
                "--warmup" => parsed.warmup = seconds(&value()?)?,
                "--rate" => {
                    let text = value()?;
                    let rate: f64 = text
                        .parse()
                        .ok()
                        .filter(|r: &f64| *r > 0.0)
                        .ok_or_else(|| format!("\"{text}\" is not a positive rate"))?;
                    parsed.rate = Some(rate);
                }
                "--store" => {
                    parsed.store = match value()?.as_str() {
                        "postgres" => Store::Postgres,
                        "sqlite" => Store::Sqlite,
                        other => return Err(format!("unknown store \"{other}\"")),
                    }
                }
                "--database-url" => parsed.database_url = value()?,
                "--server-env" => {
                    let text = value()?;
                    let (key, value) = text
                        .split_once('=')
                        .ok_or_else(|| format!("\"{text}\" is not KEY=VALUE"))?;
                    parsed.server_env.push((key.to_owned(), value.to_owned()));
                }
                "--json" => parsed.json = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown option \"{other}\"")),
            }
        }
        if parsed.concurrency == 0 || parsed.identities == 0 {
            return Err("--concurrency and --identities must be at least 1".to_owned());
        }
        if parsed.mode == Mode::Isolation && parsed.flood_clients == 0 {
            return Err("--flood-clients must be at least 1".to_owned());
        }
        if parsed.identities < parsed.concurrency {
            // pgbench's clients each draw from identities of their own.
            return Err("--identities must be at least --concurrency".to_owned());
        }
        Ok(parsed)
    }
}

fn number(text: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number"))
}

/// `20s`, `500ms` or `2m`.
fn seconds(text: &str) -> Result<Duration, String> {
    let bad = || format!("\"{text}\" is not a duration like 20s, 500ms or 2m");
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse().map(Duration::from_millis).map_err(|_| bad());
    }
    if let Some(s) = text.strip_suffix('s') {
        return s.parse().map(Duration::from_secs).map_err(|_| bad());
    }
    if let Some(m) = text.strip_suffix('m') {
        return m
            .parse::<u64>()
            .map(|m| Duration::from_secs(60 * m))
            .map_err(|_| bad());
    }
    Err(bad())
}
