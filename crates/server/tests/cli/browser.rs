//! The whole story in a real headless browser (Debian's chromium, driven over WebDriver):
//! an operator issues a code, the person opens the link, types the code, sets a new password,
//! lands signed in, signs out and signs in again. A screenshot of each page is kept in
//! `<target>/tmp/browser-e2e/`.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};

use crate::{ADMIN_KEY, Server, iam_recovery};

/// chromedriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .unwrap_or_else(|| {
                panic!(
                    "the browser test needs Chromium and ChromeDriver: install Debian's \
                     `chromium` and `chromium-driver` packages (.ci/run does)"
                )
            });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or("chromium");
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=480,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object")
    };
    // The service's own client brings rustls with ring, the WebDriver client with aws-lc-rs:
    // with both in one process, rustls wants the provider named.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap()
}

/// Waits until the page's path is `path`.
async fn wait_for_path(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(client: &Client, folder: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

async fn fill(client: &Client, selector: &str, text: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn submit(client: &Client) {
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn body_text(client: &Client) -> String {
    client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn walk(client: &Client, folder: &Path, link: &str, code: &str) {
    client.goto(link).await.unwrap();
    assert!(body_text(client).await.contains("Recover your account"));
    let field = client.find(Locator::Css("input#code")).await.unwrap();
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(""));
    screenshot(client, folder, "1-recovery").await;

    fill(client, "input#code", code).await;
    submit(client).await;
    wait_for_path(client, "/settings").await;
    assert!(body_text(client).await.contains("Set a new password"));
    screenshot(client, folder, "2-settings").await;

    fill(client, "input#password", "correct horse battery staple").await;
    submit(client).await;
    wait_for_path(client, "/").await;
    let text = body_text(client).await;
    assert!(text.contains("You are signed in"), "{text}");
    assert!(text.contains("ada@example.com"), "{text}");
    screenshot(client, folder, "3-signed-in").await;

    submit(client).await;
    wait_for_path(client, "/login").await;
    assert!(body_text(client).await.contains("Sign in"));
    screenshot(client, folder, "4-signed-out").await;

    fill(client, "input#identifier", "ada@example.com").await;
    fill(client, "input#password", "correct horse battery staple").await;
    submit(client).await;
    wait_for_path(client, "/").await;
    let text = body_text(client).await;
    assert!(text.contains("You are signed in"), "{text}");
    screenshot(client, folder, "5-signed-in-again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_recovers_the_account_in_a_browser() {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-e2e");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let profile = folder.join("profile");

    // Dev mode: the cookie may travel over plain http to 127.0.0.1.
    let mut command = iam_recovery("memory");
    command.env("DEV", "true");
    let server = Server::start(command);
    let driver = Driver::start();

    let http = reqwest::Client::new();
    let identity: Value = http
        .post(format!("{}/admin/identities", server.admin))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"traits": {"email": "ada@example.com"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued: Value = http
        .post(format!("{}/iam/recovery/code", server.admin))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"identity_id": identity["id"], "expires_in": "15m"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["recovery_code"].as_str().unwrap();
    let link = issued["recovery_link"].as_str().unwrap();

    let client = browser(&driver, &profile).await;
    // The browser is closed whatever happens, then any failure is raised.
    let walked = AssertUnwindSafe(walk(&client, &folder, link, code))
        .catch_unwind()
        .await;
    client.close().await.unwrap();
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
    for name in [
        "1-recovery",
        "2-settings",
        "3-signed-in",
        "4-signed-out",
        "5-signed-in-again",
    ] {
        assert!(folder.join(format!("{name}.png")).exists(), "{name}");
    }
}
