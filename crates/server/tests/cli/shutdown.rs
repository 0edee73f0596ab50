//! SIGTERM stops both listeners together: no new connections, and requests in progress are
//! answered before the process exits.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Server, iam_recovery};

#[test]
fn sigterm_lets_a_request_in_progress_finish_then_exits() {
    let server = Server::start(iam_recovery("memory"));
    let client = reqwest::blocking::Client::new();
    let flow: Value = client
        .get(format!("{}/self-service/login/api", server.public))
        .send()
        .unwrap()
        .json()
        .unwrap();
    // An unknown identifier: the first one also makes the decoy hash, two Argon2 runs in all,
    // which take a while in a test build.
    let url = format!(
        "{}/self-service/login?flow={}",
        server.public,
        flow["id"].as_str().unwrap()
    );
    let sign_in = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .json(&json!({"method": "password", "identifier": "nobody@example.com", "password": "not the password"}))
            .send()
            .map(|res| res.status().as_u16())
    });
    std::thread::sleep(Duration::from_millis(100));
    let signalled = Instant::now();
    server.terminate();
    assert_eq!(
        sign_in
            .join()
            .unwrap()
            .expect("the request in progress is answered"),
        400
    );
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let took = signalled.elapsed();
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
}
