//! The declaration stream end to end on a real nats-server with JetStream
//! (`BORDERLINE_TEST_NATS`, started by scripts/nats.sh) and a SQLite store: every published
//! declaration decided exactly once by two workers, redelivery and republication decide
//! nothing twice, a malformed message is dead-lettered with its reason while the stream keeps
//! flowing, and an activation reaches a running worker. Each test uses its own subjects.

use borderline_app::governance::{models, Actor};
use borderline_app::stream::{self as app_stream, StreamPolicy};
use borderline_app::targeting::Reasons;
use borderline_core::Declaration;
use borderline_governance::audit::{AuditLog, Decision};
use borderline_governance::GovernanceStore;
use borderline_ingest::{read_all, Profile};
use borderline_store_sqlite::SqliteStore;
use borderline_worker::{
    connect, publish, run_worker, shared_consumer, DeadLetter, Topology, WorkerConfig,
};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn nats_url() -> Option<String> {
    let url = std::env::var("BORDERLINE_TEST_NATS").ok();
    if url.is_none() {
        eprintln!("skipped: BORDERLINE_TEST_NATS is unset (source scripts/nats.sh first)");
    }
    url
}

fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

/// Two small models with different settings (so different versions): fixtures made with
/// `borderline train` on every 20th row of the bundled periods (10 trees of depth 3, learning
/// rates 0.1 and 0.2, no valuation module), so this crate's tests need not link LightGBM.
fn artefacts() -> &'static (Vec<u8>, Vec<u8>) {
    static LOADED: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let read = |name: &str| {
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/data")
                    .join(name),
            )
            .expect("model fixture")
        };
        (read("model_lr0.1.json.gz"), read("model_lr0.2.json.gz"))
    })
}

fn actor(id: &str) -> Actor {
    Actor::new(id).expect("actor")
}

/// A store on a temporary file with two approved models, the first active.
fn store_with_models() -> (tempfile::TempDir, Arc<SqliteStore>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("b.db")).expect("store"));
    let (v1, v2) = two_models(store.as_ref());
    (dir, store, v1, v2)
}

/// Registers and approves the two fixture models; activates the first.
fn two_models(store: &dyn GovernanceStore) -> (String, String) {
    let (a, b) = artefacts();
    let (ana, bob) = (actor("analyst.ana"), actor("supervisor.bob"));
    let mut versions = Vec::new();
    for art in [a, b] {
        let req = models::RegisterRequest {
            artefact: art.clone(),
            trainer: None,
            evaluation: None,
            intended_use: models::DEFAULT_INTENDED_USE.into(),
            limits: models::DEFAULT_LIMITS.into(),
        };
        let v = models::register(store, &ana, &req)
            .expect("register")
            .model
            .version;
        models::approve(store, &bob, &v, "validated").expect("approve");
        versions.push(v);
    }
    models::activate(store, &bob, &versions[0]).expect("activate");
    let v2 = versions.pop().expect("v2");
    let v1 = versions.pop().expect("v1");
    (v1, v2)
}

/// A fresh PostgreSQL database on the test cluster (`BORDERLINE_TEST_POSTGRES`), if any.
fn postgres_store(name: &str) -> Option<Arc<dyn GovernanceStore>> {
    let Ok(url) = std::env::var("BORDERLINE_TEST_POSTGRES") else {
        eprintln!("skipped: BORDERLINE_TEST_POSTGRES is unset (source scripts/postgres.sh first)");
        return None;
    };
    let admin: postgres::Config = url.parse().expect("a PostgreSQL URL");
    let mut client = admin.connect(postgres::NoTls).expect("test cluster");
    let name = format!("{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .expect("drop");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let (base, _) = url.rsplit_once('/').expect("URL with a database name");
    let store =
        borderline_store_postgres::PostgresStore::open(&format!("{base}/{name}")).expect("open");
    Some(Arc::new(store))
}

fn topology(test: &str) -> Topology {
    Topology::new(format!("t{}.{test}", std::process::id()))
}

fn config(topology: &Topology, worker: &str) -> WorkerConfig {
    let mut c = WorkerConfig::new(actor(worker));
    c.topology = topology.clone();
    c.policy = StreamPolicy {
        reasons: Reasons {
            method: None,
            top: 0,
        },
        ..StreamPolicy::default()
    };
    c.batch = 32;
    c.ack_wait = Duration::from_secs(2);
    c.idle_exit = Some(Duration::from_secs(4));
    c
}

fn bodies(declarations: &[Declaration]) -> Vec<Vec<u8>> {
    declarations
        .iter()
        .map(|d| app_stream::encode_declaration(d).expect("encode"))
        .collect()
}

/// Decisions in the audit log: (declaration id, model version) -> how many records.
fn decided(store: &dyn GovernanceStore) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for r in AuditLog::new(store).records().expect("records") {
        if r.kind == "decision" {
            let d: Decision = serde_json::from_str(&r.body).expect("decision body");
            *out.entry((d.declaration_id, d.model_version)).or_default() += 1;
        }
    }
    out
}

/// Messages stored on a stream.
async fn stream_len(js: &async_nats::jetstream::Context, name: String) -> u64 {
    let mut s = js.get_stream(name).await.expect("stream");
    s.info().await.expect("info").state.messages
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn two_workers_decide_every_published_declaration_exactly_once() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, v1, _) = store_with_models();
    let t = topology("two");
    let batch = rows("test", 60);
    let n = batch.len();
    assert!(n > 100, "{n} declarations");
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        assert_eq!(
            publish(&js, &t, bodies(&batch)).await.expect("publish"),
            n as u64
        );
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = ["worker.1", "worker.2"]
            .into_iter()
            .map(|w| {
                let (url, store, cfg, stop) =
                    (url.clone(), store.clone(), config(&t, w), stop.clone());
                tokio::spawn(async move { run_worker(&url, store, cfg, stop).await })
            })
            .collect();
        let mut total = 0;
        for w in workers {
            let report = w.await.expect("join").expect("worker");
            assert_eq!(report.dead_lettered, 0);
            assert_eq!(report.model_versions, vec![v1.clone()]);
            total += report.decided;
        }
        assert_eq!(total, n as u64);
        assert_eq!(stream_len(&js, t.decisions_stream()).await, n as u64);
    });
    let seen = decided(store.as_ref());
    assert_eq!(seen.len(), n, "every declaration decided");
    assert!(
        seen.values().all(|&c| c == 1),
        "a declaration decided twice"
    );
    assert!(seen.keys().all(|(_, v)| *v == v1));
    assert!(AuditLog::new(store.as_ref())
        .verify()
        .expect("verify")
        .is_intact());
}

#[test]
fn two_workers_on_one_postgres_store_decide_every_declaration_exactly_once() {
    let Some(url) = nats_url() else { return };
    let Some(store) = postgres_store("borderline_worker") else {
        return;
    };
    let (v1, _) = {
        let s = store.clone();
        std::thread::spawn(move || two_models(s.as_ref()))
            .join()
            .expect("models")
    };
    let t = topology("postgres");
    let batch = rows("test", 100);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let workers: Vec<_> = ["worker.1", "worker.2"]
            .into_iter()
            .map(|w| {
                let (url, store, cfg) = (url.clone(), store.clone(), config(&t, w));
                let stop = Arc::new(AtomicBool::new(false));
                tokio::spawn(async move { run_worker(&url, store, cfg, stop).await })
            })
            .collect();
        let mut total = 0;
        for w in workers {
            total += w.await.expect("join").expect("worker").decided;
        }
        assert_eq!(total, n as u64);
    });
    // The blocking PostgreSQL client is used off the runtime.
    let seen = std::thread::spawn(move || {
        let seen = decided(store.as_ref());
        assert!(AuditLog::new(store.as_ref())
            .verify()
            .expect("verify")
            .is_intact());
        seen
    })
    .join()
    .expect("read");
    assert_eq!(seen.len(), n);
    assert!(
        seen.values().all(|&c| c == 1),
        "a declaration decided twice"
    );
    assert!(seen.keys().all(|(_, v)| *v == v1));
}

#[test]
fn a_worker_killed_before_its_ack_or_a_republished_declaration_decides_nothing_twice() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, v1, _) = store_with_models();
    let t = topology("redeliver");
    let batch = rows("test", 400);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        // The same declaration lodged twice on the stream.
        publish(&js, &t, bodies(&batch[..1]))
            .await
            .expect("republish");

        // A worker that commits three decisions and dies before acknowledging them.
        let cfg = config(&t, "worker.doomed");
        let consumer = shared_consumer(&js, &cfg).await.expect("consumer");
        let mut fetched = consumer
            .fetch()
            .max_messages(3)
            .messages()
            .await
            .expect("fetch");
        let active = app_stream::refresh(store.as_ref(), None).expect("active");
        let today = chrono::Utc::now().date_naive();
        let mut committed = 0;
        while let Some(m) = fetched.next().await {
            let m = m.expect("message");
            let out = app_stream::decide_message(
                store.as_ref(),
                &actor("worker.doomed"),
                &active,
                cfg.policy,
                &m.payload,
                today,
            )
            .expect("decide");
            assert!(matches!(out, app_stream::Outcome::Decided(_)), "{out:?}");
            committed += 1;
            // No ack: the process is gone.
        }
        assert_eq!(committed, 3);

        let report = run_worker(
            &url,
            store.clone(),
            config(&t, "worker.1"),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("worker");
        // The three redelivered after ack_wait and the republished one: nothing new.
        assert_eq!(report.duplicates, 4, "{report:?}");
        assert_eq!(report.decided, n as u64 - 3, "{report:?}");
        assert_eq!(report.dead_lettered, 0);
    });
    let seen = decided(store.as_ref());
    assert_eq!(seen.len(), n);
    assert!(
        seen.values().all(|&c| c == 1),
        "a declaration decided twice"
    );
    assert!(seen.keys().all(|(_, v)| *v == v1));
}

#[test]
fn a_malformed_message_goes_to_the_dead_letter_subject_with_its_reason() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, _, _) = store_with_models();
    let t = topology("poison");
    let good = rows("test", 2000);
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        let mut messages = vec![b"{not json".to_vec()];
        messages.push(br#"{"declaration_id": "X-1", "office": "020"}"#.to_vec());
        messages.extend(bodies(&good));
        publish(&js, &t, messages).await.expect("publish");
        let report = run_worker(
            &url,
            store.clone(),
            config(&t, "worker.1"),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("worker");
        assert_eq!(report.dead_lettered, 2, "{report:?}");
        assert_eq!(
            report.decided,
            good.len() as u64,
            "the stream keeps flowing"
        );
        assert_eq!(stream_len(&js, t.dead_letter_stream()).await, 2);
        let dead = js.get_stream(t.dead_letter_stream()).await.expect("stream");
        let mut letters = Vec::new();
        for seq in 1..=2 {
            let m = dead.get_raw_message(seq).await.expect("dead letter");
            let d: DeadLetter = serde_json::from_slice(&m.payload).expect("dead letter JSON");
            letters.push(d);
        }
        assert!(
            letters[0].rejection.reason.contains("not JSON"),
            "{letters:?}"
        );
        assert_eq!(letters[0].payload, "{not json");
        assert_eq!(letters[1].rejection.declaration_id.as_deref(), Some("X-1"));
        assert!(
            letters[1].rejection.reason.contains("not a declaration"),
            "{letters:?}"
        );
    });
    assert_eq!(decided(store.as_ref()).len(), good.len());
}

#[test]
fn activating_another_model_changes_the_model_version_of_later_decisions() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, v1, v2) = store_with_models();
    let t = topology("activate");
    let all = rows("test", 100);
    let (first, later) = all.split_at(all.len() / 2);
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        let stop = Arc::new(AtomicBool::new(false));
        let mut cfg = config(&t, "worker.1");
        cfg.idle_exit = None;
        let worker = {
            let (url, store, stop) = (url.clone(), store.clone(), stop.clone());
            tokio::spawn(async move { run_worker(&url, store, cfg, stop).await })
        };
        publish(&js, &t, bodies(first)).await.expect("publish");
        wait_for(&js, &t, first.len() as u64).await;
        let s = store.clone();
        let v = v2.clone();
        tokio::task::spawn_blocking(move || {
            models::activate(s.as_ref(), &actor("supervisor.bob"), &v).expect("activate v2")
        })
        .await
        .expect("join");
        // The worker takes the activation at its next batch: at most one fetch window
        // (`FETCH_WINDOW`) after the commit.
        tokio::time::sleep(borderline_worker::FETCH_WINDOW * 3).await;
        publish(&js, &t, bodies(later)).await.expect("publish");
        wait_for(&js, &t, all.len() as u64).await;
        stop.store(true, Ordering::Relaxed);
        let report = worker.await.expect("join").expect("worker");
        assert_eq!(report.model_versions, vec![v1.clone(), v2.clone()]);
    });
    let seen = decided(store.as_ref());
    for d in first {
        assert!(seen.contains_key(&(d.declaration_id.to_string(), v1.clone())));
    }
    for d in later {
        assert!(
            seen.contains_key(&(d.declaration_id.to_string(), v2.clone())),
            "{} not decided by the newly active model",
            d.declaration_id
        );
    }
}

/// Waits (bounded) until `n` decisions are on the decisions stream.
async fn wait_for(js: &async_nats::jetstream::Context, t: &Topology, n: u64) {
    for _ in 0..300 {
        if stream_len(js, t.decisions_stream()).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} decisions after 30 s");
}
