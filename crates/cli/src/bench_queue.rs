//! `borderline bench queue`: the web inspection queue's response time with many decisions in
//! the store (issue 12: under 300 ms with 100k). Fills a SQLite store with synthetic decisions
//! (deterministic), starts the server in this process on loopback, signs an officer in, and
//! times pages over HTTP: the start page (a signed-in page without the queue: the baseline),
//! then queue pages with filters and a deep page. Prints medians, the slowest run, and the
//! ratio of each median to the baseline's.

use crate::bench::BenchQueue;
use anyhow::{anyhow, bail, Context, Result};
use borderline_app::identity;
use borderline_core::{Lane, Reason, ReasonKind};
use borderline_governance::audit::{AuditEvent, AuditLog, Decision, DecisionSubject};
use borderline_governance::identity::NewAccount;
use borderline_governance::selectivity::Basis;
use borderline_governance::{Actor, GovernanceStore, Role};
use borderline_server::{AppState, ServerConfig};
use borderline_store_sqlite::SqliteStore;
use rand::{Rng, SeedableRng};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "a long benchmark passphrase";

/// The analyst rules that hit decision `i` (from `i` alone, so the rest of the synthetic data
/// does not change): one in five decisions is hit by one of 40 narrow rules (`RULE-00` ..
/// `RULE-39`, 0.5 % of the rows each), one in ten also by the broad `RULE-WIDE` (10 %).
fn rule_hits(i: usize) -> Vec<String> {
    let mut hits = Vec::new();
    if i.is_multiple_of(5) {
        hits.push(format!("RULE-{:02}", (i / 5) % 40));
    }
    if i.is_multiple_of(10) {
        hits.push("RULE-WIDE".to_string());
    }
    hits
}

fn decisions(n: usize, from: usize) -> Vec<AuditEvent> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(from as u64 + 7);
    (from..from + n)
        .map(|i| {
            let r: f64 = rng.random();
            let (lane, score) = if r < 0.05 {
                (Lane::Red, 0.5 + rng.random::<f64>() * 0.5)
            } else if r < 0.15 {
                (Lane::Yellow, 0.2 + rng.random::<f64>() * 0.3)
            } else {
                (Lane::Green, rng.random::<f64>() * 0.2)
            };
            let importer = format!("IMP-{:04}", rng.random_range(0..2000));
            let hs = format!("{:06}", 10000 + rng.random_range(0..500) * 1700);
            AuditEvent::Decision(Decision {
                declaration_id: format!("BENCH-{i:07}"),
                input_hash: format!("{i:064x}"),
                model_version: "bench-model".into(),
                rules_version: "none".into(),
                score,
                lane,
                basis: Basis::Score,
                why: "score threshold of the active model".into(),
                reasons: (0..3)
                    .map(|k| Reason {
                        kind: ReasonKind::Model,
                        code: format!("feature_{k}"),
                        text: format!(
                            "importer {importer}: fraud found in {k} of 4 past inspections"
                        ),
                        contribution: Some(0.3 - 0.1 * k as f64),
                    })
                    .chain(rule_hits(i).into_iter().map(|code| Reason {
                        kind: ReasonKind::Rule,
                        text: format!("analyst rule {code}"),
                        code,
                        contribution: None,
                    }))
                    .collect(),
                subject: Some(DecisionSubject {
                    importer,
                    hs_code: hs,
                    office: format!("{:03}", rng.random_range(10..40)),
                    date: format!(
                        "2021-{:02}-{:02}",
                        rng.random_range(1..7),
                        rng.random_range(1..29)
                    ),
                }),
            })
        })
        .collect()
}

/// GET `path` with the session cookie; returns (status, body length).
fn get(addr: &str, path: &str, cookie: &str) -> Result<(u16, usize)> {
    let (status, _, body) = request(addr, "GET", path, cookie, None)?;
    Ok((status, body.len()))
}

fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&str>,
) -> Result<(u16, String, String)> {
    let mut s = TcpStream::connect(addr)?;
    let body = form.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: borderline_session={cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("no HTTP status in {head:?}"))?;
    Ok((status, head.to_string(), body.to_string()))
}

fn cookie_of(head: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: borderline_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .find(|v| !v.is_empty())
}

fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[at..].split('"').next()?.to_string())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(a: &BenchQueue) -> Result<()> {
    if a.runs == 0 || a.rows == 0 {
        bail!("--runs and --rows must be positive");
    }
    let dir = tempfile::tempdir()?;
    let path = a.db.clone().unwrap_or_else(|| dir.path().join("queue.db"));
    let store = SqliteStore::open(&path)?;
    let have = AuditLog::new(&store).len()? as usize;
    let t = Instant::now();
    if have < a.rows {
        let writer = Actor::new("bench.writer")?;
        let mut at = have;
        while at < a.rows {
            let n = (a.rows - at).min(10_000);
            AuditLog::new(&store).append_all(&writer, &decisions(n, at))?;
            at += n;
        }
        println!(
            "filled {} with {} decisions in {:.1} s",
            path.display(),
            a.rows,
            t.elapsed().as_secs_f64()
        );
    }
    let store: Arc<dyn GovernanceStore> = Arc::new(store);
    if identity::no_accounts(store.as_ref())? {
        let (_, root) = identity::bootstrap_admin(store.as_ref(), "bench.admin", None, PASSWORD)?;
        let admin = identity::authenticate_token(store.as_ref(), &root.secret)?;
        identity::create_account(
            store.as_ref(),
            &admin,
            &NewAccount {
                id: "bench.officer".into(),
                display_name: None,
                roles: vec![Role::Officer],
                importer_ids: vec![],
                password: Some(PASSWORD.into()),
            },
        )?;
    }
    let state = Arc::new(AppState::new(store, ServerConfig::default(), None)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?.to_string();
    rt.spawn(borderline_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    // Sign in through the form, as a browser does.
    let (_, head, body) = request(&addr, "GET", "/sign-in", "", None)?;
    let pre = cookie_of(&head).context("no session cookie from the sign-in page")?;
    let csrf = csrf_of(&body).context("no csrf token on the sign-in page")?;
    let form = format!("csrf={csrf}&account=bench.officer&password=a+long+benchmark+passphrase");
    let (status, head, _) = request(&addr, "POST", "/sign-in", &pre, Some(&form))?;
    if status != 303 {
        bail!("sign-in answered {status}");
    }
    let cookie = cookie_of(&head).context("no session after sign-in")?;
    let pages = [
        (
            "baseline: start page (signed in, no queue)",
            "/app".to_string(),
        ),
        ("queue, first page, no filter", "/app/queue".into()),
        ("queue, red lane", "/app/queue?lane=red".into()),
        ("queue, one importer", "/app/queue?importer=IMP-0042".into()),
        (
            "queue, HS prefix + green + date range",
            "/app/queue?hs=0&lane=green&from=2021-02-01&to=2021-03-31".into(),
        ),
        (
            "queue, pending cases, yellow",
            "/app/queue?case=pending&lane=yellow".into(),
        ),
        (
            "queue, one analyst rule (0.5 % of rows)",
            "/app/queue?rule=RULE-07".into(),
        ),
        (
            "queue, broad analyst rule (10 %) + red",
            "/app/queue?rule=RULE-WIDE&lane=red".into(),
        ),
        (
            "queue, deep page (row ~50k)",
            format!("/app/queue?page={}", (a.rows / 2 / 50).max(1)),
        ),
    ];
    println!(
        "{} decisions in the store; {} requests per page over HTTP on loopback (median, slowest)",
        a.rows, a.runs
    );
    let mut baseline = None;
    for (label, path) in &pages {
        // One warm-up request (page cache, prepared statements), not counted.
        let (status, _) = get(&addr, path, &cookie)?;
        if status != 200 {
            bail!("{path} answered {status}");
        }
        let mut ms = Vec::with_capacity(a.runs);
        let mut bytes = 0;
        for _ in 0..a.runs {
            let t = Instant::now();
            let (_, b) = get(&addr, path, &cookie)?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes = b;
        }
        let slowest = ms.iter().copied().fold(0.0, f64::max);
        let m = median(&mut ms);
        let base = *baseline.get_or_insert(m);
        println!(
            "{label:<42} median {m:>7.1} ms  slowest {slowest:>7.1} ms  x{:>5.1} baseline  ({bytes} bytes)",
            m / base
        );
    }
    rt.shutdown_background();
    Ok(())
}
