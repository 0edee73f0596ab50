//! Memory and threads are bounded under a flood of sign-ins: password hashing (19 MiB each)
//! runs a few at a time, what cannot wait is refused with 503 before any memory is spent, and
//! store calls wait for a connection without holding a thread each.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Server, iam_recovery};

/// Concurrent sign-ins, each from an address of its own (through a trusted proxy), so that
/// neither the per-address rate limits nor the lockout hold them back: the hashing bound does.
const FLOOD: usize = 200;
/// Peak resident memory allowed (`VmHWM`), in KiB.
const PEAK_LIMIT_KIB: u64 = 100 * 1024;
/// Threads allowed after the flood: the actix workers, the hashing threads and one blocking
/// thread per database connection, with room to spare; not one per request.
const THREAD_LIMIT: u64 = 64;

fn forwarded_for(index: usize) -> String {
    format!("198.18.{}.{}", index / 250, index % 250 + 1)
}

#[test]
fn two_hundred_concurrent_wrong_passwords_stay_under_100_mib_and_64_threads() {
    let mut command = iam_recovery("memory");
    command.env("SERVE_PUBLIC_TRUSTED_PROXIES", "127.0.0.1/32");
    let server = Server::start(command);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(FLOOD)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let flows = futures_util::future::join_all((0..FLOOD).map(|index| {
            let request = client
                .get(format!("{}/self-service/login/api", server.public))
                .header("x-forwarded-for", forwarded_for(index));
            async move {
                let flow: Value = request.send().await.unwrap().json().await.unwrap();
                flow["id"].as_str().unwrap().to_owned()
            }
        }))
        .await;
        let attempts = flows.iter().enumerate().map(|(index, flow)| {
            client
                .post(format!("{}/self-service/login?flow={flow}", server.public))
                .header("x-forwarded-for", forwarded_for(index))
                .json(&json!({
                    "method": "password",
                    "identifier": format!("nobody-{index}@example.com"),
                    "password": format!("not the password {index}"),
                }))
                .send()
        });
        futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|outcome| outcome.expect("every request is answered").status())
            .collect::<Vec<_>>()
    });

    let refused_at_once = statuses.iter().filter(|s| s.as_u16() == 503).count();
    let checked = statuses.iter().filter(|s| s.as_u16() == 400).count();
    assert!(
        statuses
            .iter()
            .all(|status| status.is_client_error() || status.as_u16() == 503),
        "{statuses:?}"
    );
    assert!(checked > 0, "some passwords were checked: {statuses:?}");
    assert!(
        refused_at_once > 0,
        "the hashing queue shed load: {statuses:?}"
    );
    let threads = server.threads();
    assert!(threads <= THREAD_LIMIT, "{threads} threads after the flood");
    let peak = server.peak_rss_kib();
    assert!(
        peak < PEAK_LIMIT_KIB,
        "peak RSS {} MiB ({checked} checked, {refused_at_once} refused)",
        peak / 1024
    );
    println!(
        "peak RSS {} MiB, {threads} threads; {checked} checked, {refused_at_once} refused with 503",
        peak / 1024
    );
}
