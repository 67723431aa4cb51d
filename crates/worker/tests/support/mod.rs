//! What the stream tests share: fixtures, stores, topologies and counts.
#![allow(dead_code)]

use borderline_app::governance::{models, Actor};
use borderline_app::stream::{self as app_stream, StreamPolicy};
use borderline_app::targeting::Reasons;
use borderline_core::Declaration;
use borderline_governance::audit::{AuditLog, Decision};
use borderline_governance::GovernanceStore;
use borderline_ingest::{read_all, Profile};
use borderline_store_sqlite::SqliteStore;
use borderline_worker::{Topology, WorkerConfig};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub fn nats_url() -> Option<String> {
    let url = std::env::var("BORDERLINE_TEST_NATS").ok();
    if url.is_none() {
        eprintln!("skipped: BORDERLINE_TEST_NATS is unset (source scripts/nats.sh first)");
    }
    url
}

pub fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

/// Two small models with different settings (so different versions): fixtures made with
/// `borderline train` on every 20th row of the bundled periods (10 trees of depth 3, learning
/// rates 0.1 and 0.2, no valuation module), so this crate's tests need not link LightGBM.
pub fn artefacts() -> &'static (Vec<u8>, Vec<u8>) {
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

pub fn actor(id: &str) -> Actor {
    Actor::new(id).expect("actor")
}

/// A store on a temporary file with two approved models, the first active.
pub fn store_with_models() -> (tempfile::TempDir, Arc<SqliteStore>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("b.db")).expect("store"));
    let (v1, v2) = two_models(store.as_ref());
    (dir, store, v1, v2)
}

/// Registers and approves the two fixture models; activates the first.
pub fn two_models(store: &dyn GovernanceStore) -> (String, String) {
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

/// A fresh database on the test cluster (`BORDERLINE_TEST_POSTGRES`), as a URL, if any.
pub fn postgres_database(name: &str) -> Option<String> {
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
    Some(format!("{base}/{name}"))
}

/// A PostgreSQL store with its own pool on `url` (as another process would have).
pub fn postgres_store(url: &str) -> Arc<dyn GovernanceStore> {
    Arc::new(borderline_store_postgres::PostgresStore::open(url).expect("open"))
}

pub fn topology(test: &str) -> Topology {
    Topology::new(format!("t{}.{test}", std::process::id()))
}

pub fn config(topology: &Topology, worker: &str) -> WorkerConfig {
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

pub fn bodies(declarations: &[Declaration]) -> Vec<Vec<u8>> {
    declarations
        .iter()
        .map(|d| app_stream::encode_declaration(d).expect("encode"))
        .collect()
}

/// Decisions in the audit log: (declaration id, model version) -> how many records.
pub fn decided(store: &dyn GovernanceStore) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for r in AuditLog::new(store).records().expect("records") {
        if r.kind == "decision" {
            let d: Decision = serde_json::from_str(&r.body).expect("decision body");
            *out.entry((d.declaration_id, d.model_version)).or_default() += 1;
        }
    }
    out
}

/// Asserts that each of `declarations` has exactly one decision record, by `version`, each
/// with its decision key, and that the chain verifies. Call off the async runtime.
pub fn exactly_once(store: &dyn GovernanceStore, declarations: &[Declaration], version: &str) {
    let seen = decided(store);
    let twice: Vec<_> = seen.iter().filter(|(_, &c)| c > 1).collect();
    assert!(twice.is_empty(), "decided twice: {twice:?}");
    for d in declarations {
        let key = (d.declaration_id.to_string(), version.to_string());
        assert_eq!(seen.get(&key), Some(&1), "{} not decided", d.declaration_id);
    }
    assert_eq!(
        seen.len(),
        declarations.len(),
        "decisions of unknown declarations"
    );
    let mut tx = store.begin(false).expect("begin");
    for d in declarations {
        assert!(
            tx.decision_key(d.declaration_id.as_str(), version)
                .expect("key")
                .is_some(),
            "no decision key for {}",
            d.declaration_id
        );
    }
    drop(tx);
    assert!(AuditLog::new(store).verify().expect("verify").is_intact());
}

/// Messages stored on a stream.
pub async fn stream_len(js: &async_nats::jetstream::Context, name: String) -> u64 {
    let mut s = js.get_stream(name).await.expect("stream");
    s.info().await.expect("info").state.messages
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Decision records in the audit log so far (off the runtime).
pub async fn decisions_so_far(store: Arc<dyn GovernanceStore>) -> usize {
    tokio::task::spawn_blocking(move || {
        let mut tx = store.begin(false).ok()?;
        let mut n = 0usize;
        tx.audit_scan(Some("decision"), &mut |_| {
            n += 1;
            Ok(())
        })
        .ok()?;
        Some(n)
    })
    .await
    .ok()
    .flatten()
    .unwrap_or(0)
}

/// Waits (at most `limit`) until at least `n` decisions are recorded.
pub async fn wait_for_decisions(store: Arc<dyn GovernanceStore>, n: usize, limit: Duration) {
    let start = tokio::time::Instant::now();
    while decisions_so_far(store.clone()).await < n {
        assert!(
            start.elapsed() < limit,
            "fewer than {n} decisions after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
