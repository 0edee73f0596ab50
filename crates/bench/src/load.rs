//! The load generator: a fixed number of clients on keep-alive connections, each sending its
//! next request as soon as the last is answered; a warm-up that is not measured, then a fixed
//! measured window with a latency histogram.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::id::{IdentityId, RecoveryFlowId};
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::{Value, json};

use crate::args::Args;
use crate::server::Server;

/// Microseconds from 1 µs to a minute, at three significant figures.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| unreachable!("these bounds and precision are valid"))
}

/// What a run measured.
pub struct Measured {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies in microseconds.
    pub latency: Histogram<u64>,
}

impl Measured {
    fn new() -> Self {
        Self {
            requests: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latency: histogram(),
        }
    }

    pub fn from_parts(
        requests: u64,
        errors: u64,
        elapsed: Duration,
        latency: Histogram<u64>,
    ) -> Self {
        Self {
            requests,
            errors,
            elapsed,
            latency,
        }
    }

    fn merge(&mut self, other: &Self) {
        self.requests += other.requests;
        self.errors += other.errors;
        let _ = self.latency.add(&other.latency);
    }
}

/// The one place where admin requests are built: every one carries the bench's API key.
pub fn admin(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
) -> reqwest::RequestBuilder {
    client
        .request(method, url)
        .bearer_auth(crate::server::ADMIN_KEY)
}

fn client(concurrency: usize) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())
}

/// Runs `concurrency` clients calling `request` until the warm-up and the measured window have
/// passed, or `request` says there is nothing left to send (`None`).
async fn drive<F, Fut>(args: &Args, request: F) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let (concurrency, warmup, duration) = (args.concurrency, args.warmup, args.duration);
    // Paced: each client sends on its own schedule, offset from the others.
    #[allow(clippy::cast_precision_loss)]
    let interval = args
        .rate
        .map(|rate| Duration::from_secs_f64(concurrency as f64 / rate));
    let request = Arc::new(request);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut measured = Measured::new();
                #[allow(clippy::cast_possible_truncation)]
                let mut scheduled =
                    interval.map(|i| start + i.mul_f64(worker as f64 / concurrency as f64));
                loop {
                    // Latency counts from the scheduled instant, so a slow answer that delays
                    // the next request is not hidden.
                    let sent = match (&mut scheduled, interval) {
                        (Some(at), Some(interval)) => {
                            tokio::time::sleep_until((*at).into()).await;
                            let due = *at;
                            *at += interval;
                            due
                        }
                        _ => Instant::now(),
                    };
                    if sent >= end {
                        break;
                    }
                    let Some(ok) = request(worker).await else {
                        break;
                    };
                    if sent >= measure_from {
                        measured.requests += 1;
                        if !ok {
                            measured.errors += 1;
                        }
                        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                        let _ = measured.latency.record(micros.max(1));
                    }
                }
                (measured, Instant::now())
            })
        })
        .collect();
    let mut total = Measured::new();
    let mut finished = measure_from;
    for task in tasks {
        if let Ok((measured, at)) = task.await {
            total.merge(&measured);
            finished = finished.max(at);
        }
    }
    total.elapsed = finished.min(end).saturating_duration_since(measure_from);
    if total.elapsed.is_zero() {
        total.elapsed = duration;
    }
    total
}

/// `POST /iam/recovery/code` for identities drawn at random.
pub async fn issue(server: &Server, ids: &[IdentityId], args: &Args) -> Result<Measured, String> {
    let client = client(args.concurrency)?;
    let url = format!("{}/iam/recovery/code", server.admin);
    let bodies: Arc<Vec<String>> = Arc::new(
        ids.iter()
            .map(|id| json!({"identity_id": id, "expires_in": "1h"}).to_string())
            .collect(),
    );
    Ok(drive(args, move |_| {
        let client = client.clone();
        let url = url.clone();
        let body = bodies[rand::rng().random_range(0..bodies.len())].clone();
        async move {
            let sent = admin(&client, reqwest::Method::POST, &url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            Some(match sent {
                Ok(res) => {
                    let ok = res.status().as_u16() == 201;
                    let _ = res.bytes().await;
                    ok
                }
                Err(_) => false,
            })
        }
    })
    .await)
}

/// A code ready to redeem: its flow and digits.
pub struct Issued {
    flow: RecoveryFlowId,
    code: String,
}

/// Issues one API-flow code for each of the first `n` identities (issuing a second for one
/// identity would revoke its first).
pub async fn preissue(
    server: &Server,
    ids: &[IdentityId],
    n: usize,
    concurrency: usize,
) -> Result<Vec<Issued>, String> {
    if n > ids.len() {
        return Err(format!("--codes {n} needs at least as many --identities"));
    }
    let client = client(concurrency)?;
    let url = format!("{}/iam/recovery/code", server.admin);
    let mut issued = Vec::with_capacity(n);
    for chunk in ids[..n].chunks(concurrency.max(1)) {
        let answers = futures_util::future::join_all(chunk.iter().map(|id| {
            admin(&client, reqwest::Method::POST, &url)
                .json(&json!({"identity_id": id, "flow_type": "api"}))
                .send()
        }))
        .await;
        for answer in answers {
            let body: Value = answer
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let link = body["recovery_link"].as_str().ok_or("no recovery_link")?;
            issued.push(Issued {
                flow: link
                    .rsplit_once("flow=")
                    .ok_or("no flow")?
                    .1
                    .parse()
                    .map_err(|e| format!("flow of {link}: {e}"))?,
                code: body["recovery_code"].as_str().ok_or("no code")?.to_owned(),
            });
        }
    }
    Ok(issued)
}

/// Submits each pre-issued code once through the recovery API.
pub async fn redeem(server: &Server, codes: Vec<Issued>, args: &Args) -> Result<Measured, String> {
    let client = client(args.concurrency)?;
    let base = format!("{}/self-service/recovery?flow=", server.public);
    let queue = Arc::new(Mutex::new(codes));
    Ok(drive(args, move |_| {
        let client = client.clone();
        let next = queue.lock().ok().and_then(|mut q| q.pop());
        let base = base.clone();
        async move {
            let Issued { flow, code } = next?;
            let sent = client
                .post(format!("{base}{flow}"))
                .json(&json!({"method": "code", "code": code}))
                .send()
                .await;
            Some(match sent {
                Ok(res) => {
                    let ok = res.status().as_u16() == 200;
                    let body = res.bytes().await.unwrap_or_default();
                    ok && body.windows(16).any(|w| w == b"passed_challenge")
                }
                Err(_) => false,
            })
        }
    })
    .await)
}
