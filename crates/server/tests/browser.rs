//! The web application in a real browser: Debian's headless Chromium driven over WebDriver
//! (a small client over reqwest). An officer signs in, filters the queue to the red lane,
//! opens a case and sees its contribution chart; a trader is refused the queue. Screenshots go
//! to `target/tmp/web-screenshots/`.
//!
//! Needs BORDERLINE_TEST_CHROMEDRIVER (set by `source scripts/browser.sh`, which
//! scripts/test.sh does); skips with a message without it.

mod common;

use reqwest::Client;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
    session: Option<String>,
    http: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl Driver {
    async fn start(driver: &str, browser: Option<String>) -> Driver {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {driver}: {e}"));
        let http = Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{url}/status")).send().await;
            if let Ok(r) = ready {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == json!(true) {
                        break;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut d = Driver {
            child,
            url,
            session: None,
            http,
            _profile: profile,
        };
        let mut options = json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", d._profile.path().display()),
            ]
        });
        if let Some(b) = browser {
            options["binary"] = json!(b);
        }
        let v = d
            .call(
                reqwest::Method::POST,
                "/session",
                Some(json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome", "goog:chromeOptions": options}}})),
            )
            .await;
        d.session = Some(
            v["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
                .to_string(),
        );
        d
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        v["value"].clone()
    }

    fn s(&self) -> String {
        format!("/session/{}", self.session.as_deref().expect("session"))
    }

    async fn goto(&self, url: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("{}/url", self.s()),
            Some(json!({"url": url})),
        )
        .await;
    }

    async fn current_url(&self) -> String {
        let v = self
            .call(reqwest::Method::GET, &format!("{}/url", self.s()), None)
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// The current URL once it satisfies `ok` (navigation after a click can lag), else panics.
    async fn wait_url(&self, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.current_url().await;
            if ok(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "the browser stayed on {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("{}/element", self.s()),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        match v[ELEMENT].as_str() {
            Some(e) => Some(e.to_string()),
            None if v["error"] == json!("no such element") => None,
            None => panic!("finding {css}: {v}"),
        }
    }

    async fn must(&self, css: &str) -> String {
        match self.find(css).await {
            Some(e) => e,
            None => {
                let src = self
                    .call(reqwest::Method::GET, &format!("{}/source", self.s()), None)
                    .await;
                panic!("no element {css} on {}: {src}", self.current_url().await)
            }
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.must(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/value", self.s()),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.must(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/click", self.s()),
            Some(json!({})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.must(css).await;
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("{}/element/{e}/text", self.s()),
                None,
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn screenshot(&self, name: &str) {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("{}/screenshot", self.s()),
                None,
            )
            .await;
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = base64_decode(v.as_str().expect("screenshot base64"));
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn quit(mut self) {
        if let Some(s) = self.session.take() {
            self.call(reqwest::Method::DELETE, &format!("/session/{s}"), None)
                .await;
        }
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

async fn sign_in(d: &Driver, base: &str, account: &str) {
    d.goto(&format!("{base}/sign-in")).await;
    d.type_into("input[name=account]", account).await;
    d.type_into("input[name=password]", common::PASSWORD).await;
    d.click("button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_works_the_queue_in_chromium_and_a_trader_is_refused_it() {
    let Ok(driver) = std::env::var("BORDERLINE_TEST_CHROMEDRIVER") else {
        eprintln!(
            "SKIPPED: BORDERLINE_TEST_CHROMEDRIVER is unset; `source scripts/browser.sh` (scripts/test.sh does) to run the browser test"
        );
        return;
    };
    let browser = std::env::var("BORDERLINE_TEST_CHROMIUM").ok();
    let s = common::start().await;
    let d = Driver::start(&driver, browser).await;

    sign_in(&d, &s.base, "officer.one").await;
    d.wait_url(|u| u.ends_with("/app")).await;
    d.screenshot("home-officer").await;
    d.click("nav a[href='/app/queue']").await;
    // Filter by lane through the form, as an officer would.
    let lane = d.must("select[name=lane]").await;
    let red = d
        .call(
            reqwest::Method::POST,
            &format!("{}/element/{lane}/element", d.s()),
            Some(json!({"using": "css selector", "value": "option[value=red]"})),
        )
        .await;
    let red = red[ELEMENT].as_str().expect("red option").to_string();
    d.call(
        reqwest::Method::POST,
        &format!("{}/element/{red}/click", d.s()),
        Some(json!({})),
    )
    .await;
    d.click("form.filters button[type=submit]").await;
    d.wait_url(|u| u.contains("lane=red")).await;
    assert_eq!(d.text("tbody tr td .lane").await.to_lowercase(), "red");
    d.screenshot("queue-red").await;
    d.click("tbody tr td a[href^='/app/cases/']").await;
    d.wait_url(|u| u.contains("/app/cases/")).await;
    assert!(
        d.find("svg.waterfall rect.up, svg.waterfall rect.down")
            .await
            .is_some(),
        "waterfall bars drawn"
    );
    assert!(d.text("main").await.contains("Calibrated risk of fraud"));
    d.screenshot("case-page").await;
    d.click("header form button[type=submit]").await;
    d.wait_url(|u| u.ends_with("/sign-in")).await;

    sign_in(&d, &s.base, "trader.one").await;
    d.wait_url(|u| u.ends_with("/app")).await;
    assert!(d.find("nav a[href='/app/self-check']").await.is_some());
    assert!(
        d.find("nav a[href='/app/queue']").await.is_none(),
        "no queue link for a trader"
    );
    d.goto(&format!("{}/app/queue", s.base)).await;
    assert!(d.text("main").await.contains("Not allowed"));
    d.screenshot("trader-refused-queue").await;
    d.quit().await;
}
