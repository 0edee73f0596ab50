//! The flood of `isolation`: many clients, each at an address of its own (named in
//! `X-Forwarded-For`, which the server trusts from this machine), each taking a login flow and
//! submitting a wrong password as soon as the last answer is in, and never waiting as
//! `Retry-After` asks. Every attempt names a fresh unknown email address, so that no identifier
//! ever reaches the lockout's free failures: what the per-client limits let through goes on to
//! the password hashing, and its bound is what holds.
//!
//! The flood runs on a runtime and a thread of its own, so that it cannot delay the admin
//! clients' tasks on the bench's runtime; it still shares the machine's cores with them and
//! with the server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use domain::id::LoginFlowId;
use serde_json::{Value, json};

pub const FLOW_ROUTE: &str = "GET /self-service/login/api";
pub const LOGIN_ROUTE: &str = "POST /self-service/login";

/// How many answers of each kind each route gave within the measured window.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// (route, outcome) to count; outcomes are a status code, with what refused it for 429 and
    /// 503, or `error` when no answer came.
    pub counts: BTreeMap<(&'static str, String), u64>,
    pub window: Duration,
}

impl Outcomes {
    fn add(&mut self, route: &'static str, outcome: String) {
        *self.counts.entry((route, outcome)).or_default() += 1;
    }

    fn merge(&mut self, other: Self) {
        for (key, n) in other.counts {
            *self.counts.entry(key).or_default() += n;
        }
    }

    pub fn total(&self, route: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((r, _), _)| *r == route)
            .map(|(_, n)| n)
            .sum()
    }
}

/// What an answer was: the status, and for a refusal, who refused it (the body says).
pub fn outcome(status: u16, body: &[u8]) -> String {
    let says = |text: &str| body.windows(text.len()).any(|w| w == text.as_bytes());
    match status {
        429 if says("self_service_login_throttled") => "429 lockout".to_owned(),
        429 => "429 rate limit".to_owned(),
        503 if says("passwords are being checked") => "503 hashing busy".to_owned(),
        other => other.to_string(),
    }
}

/// The address flooding client `n` (from 0) names: 10.0.0.1, 10.0.0.2, …
pub fn address(n: usize) -> String {
    let n = n + 1;
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// A running flood; [`Flood::stop`] ends it and returns what it got.
pub struct Flood {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Outcomes, String>>,
}

impl Flood {
    /// Starts `clients` flooding clients on `public`, counting the answers to requests sent from
    /// `measure_from` until `end`.
    pub fn start(public: &str, clients: usize, measure_from: Instant, end: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let public = public.to_owned();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(run(public, clients, measure_from, end, flag))
        });
        Self { stop, thread }
    }

    pub fn stop(self) -> Result<Outcomes, String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| "the flood's thread panicked".to_owned())?
    }
}

async fn run(
    public: String,
    clients: usize,
    measure_from: Instant,
    end: Instant,
    stop: Arc<AtomicBool>,
) -> Result<Outcomes, String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let flow_url = format!("{public}/self-service/login/api");
    let login_url = format!("{public}/self-service/login?flow=");
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let (http, flow_url, login_url, stop) = (
                http.clone(),
                flow_url.clone(),
                login_url.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let address = address(n);
                let mut outcomes = Outcomes::default();
                let mut flow: Option<LoginFlowId> = None;
                let mut attempt = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let counted = sent >= measure_from && sent < end;
                    let answer = http
                        .get(&flow_url)
                        .header("x-forwarded-for", &address)
                        .send()
                        .await;
                    let got = match answer {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let body = res.bytes().await.unwrap_or_default();
                            if status == 200
                                && let Some(id) = serde_json::from_slice::<Value>(&body)
                                    .ok()
                                    .and_then(|v| v["id"].as_str()?.parse().ok())
                            {
                                flow = Some(id);
                            }
                            outcome(status, &body)
                        }
                        Err(_) => "error".to_owned(),
                    };
                    if counted {
                        outcomes.add(FLOW_ROUTE, got);
                    }
                    // Refused a new flow, the client submits to the one it has (they last).
                    let Some(flow) = &flow else {
                        continue;
                    };
                    attempt += 1;
                    let sent = Instant::now();
                    let counted = sent >= measure_from && sent < end;
                    let answer = http
                        .post(format!("{login_url}{flow}"))
                        .header("x-forwarded-for", &address)
                        .json(&json!({
                            "method": "password",
                            "identifier": format!("flood-{n}-{attempt}@example.com"),
                            "password": "not the password",
                        }))
                        .send()
                        .await;
                    let got = match answer {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let body = res.bytes().await.unwrap_or_default();
                            outcome(status, &body)
                        }
                        Err(_) => "error".to_owned(),
                    };
                    if counted {
                        outcomes.add(LOGIN_ROUTE, got);
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut total = Outcomes {
        window: end.saturating_duration_since(measure_from),
        ..Outcomes::default()
    };
    for task in tasks {
        total.merge(task.await.map_err(|e| e.to_string())?);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart_by_their_body() {
        let lockout = br#"{"error":{"code":429,"id":"self_service_login_throttled"}}"#;
        assert_eq!(outcome(429, lockout), "429 lockout");
        assert_eq!(outcome(429, br#"{"error":{"code":429}}"#), "429 rate limit");
        let busy = br#"{"error":{"message":"Too many passwords are being checked right now"}}"#;
        assert_eq!(outcome(503, busy), "503 hashing busy");
        assert_eq!(outcome(503, b"{}"), "503");
        assert_eq!(outcome(400, b"{}"), "400");
    }

    #[test]
    fn every_client_has_an_address_of_its_own() {
        assert_eq!(address(0), "10.0.0.1");
        assert_eq!(address(254), "10.0.0.255");
        assert_eq!(address(255), "10.0.1.0");
        let all: std::collections::HashSet<String> = (0..200).map(address).collect();
        assert_eq!(all.len(), 200);
    }
}
