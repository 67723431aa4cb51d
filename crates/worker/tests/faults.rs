//! The stream under faults, on real services: a worker killed with SIGKILL mid-batch, forced
//! redelivery, PostgreSQL stopped and started again mid-stream, nats-server killed and started
//! again mid-stream. Each ends with every published declaration decided exactly once (one
//! audit record, one decision key) and an intact audit chain, and each is bounded in time.
//! (The poison message is in `stream.rs`.)
//!
//! Needs `BORDERLINE_TEST_NATS` and `BORDERLINE_TEST_NATS_SERVER` (scripts/nats.sh), and for
//! the PostgreSQL restart `BORDERLINE_TEST_POSTGRES` with `_CTL`, `_DATA` and `_OWNER`
//! (scripts/postgres.sh); without them a test says why and skips. The tests run one at a time
//! (one stops the shared PostgreSQL server).

mod support;

use borderline_app::stream::{self as app_stream, Outcome};
use borderline_governance::GovernanceStore;
use borderline_store_sqlite::SqliteStore;
use borderline_worker::{connect, publish, run_worker, shared_consumer, WorkerReport};
use futures_util::StreamExt;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// One fault at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every test gives up after this long instead of hanging.
const LIMIT: Duration = Duration::from_secs(180);

const CHILD_DB: &str = "BORDERLINE_FAULT_CHILD_DB";
const CHILD_PREFIX: &str = "BORDERLINE_FAULT_CHILD_PREFIX";

/// Not a test: the worker process that `a_worker_killed_mid_batch...` starts and kills (the test
/// binary run again with `--ignored --exact`). Does nothing without its environment.
#[test]
#[ignore = "the worker process of the kill -9 test; started by that test"]
fn child_worker_until_killed() {
    let (Ok(db), Ok(prefix), Some(url)) = (
        std::env::var(CHILD_DB),
        std::env::var(CHILD_PREFIX),
        nats_url(),
    ) else {
        return;
    };
    let store: Arc<dyn GovernanceStore> =
        Arc::new(SqliteStore::open(Path::new(&db)).expect("store"));
    let mut cfg = config(&borderline_worker::Topology::new(prefix), "worker.doomed");
    cfg.batch = 16;
    cfg.idle_exit = Some(Duration::from_secs(60));
    runtime()
        .block_on(run_worker(
            &url,
            store,
            cfg,
            Arc::new(AtomicBool::new(false)),
        ))
        .expect("worker");
}

/// Runs a worker in this process until it has been idle for its `idle_exit`.
async fn drain(
    url: &str,
    store: Arc<dyn GovernanceStore>,
    cfg: borderline_worker::WorkerConfig,
) -> WorkerReport {
    tokio::time::timeout(
        LIMIT,
        run_worker(url, store, cfg, Arc::new(AtomicBool::new(false))),
    )
    .await
    .expect("the worker did not finish in time")
    .expect("worker")
}

#[test]
fn a_worker_killed_mid_batch_leaves_every_declaration_decided_exactly_once() {
    let _one = serial();
    let Some(url) = nats_url() else { return };
    let (dir, store, v1, _) = store_with_models();
    let store: Arc<dyn GovernanceStore> = store;
    let t = topology("kill9");
    let batch = rows("test", 10);
    let n = batch.len();
    let at_kill = runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let mut child: Child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "child_worker_until_killed",
                "--nocapture",
            ])
            .env(CHILD_DB, dir.path().join("b.db"))
            .env(CHILD_PREFIX, &t.prefix)
            .env("BORDERLINE_TEST_NATS", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the worker process");
        // Let it commit some batches, then kill it without warning, whatever it is doing.
        wait_for_decisions(store.clone(), 48, Duration::from_secs(60)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let at_kill = decisions_so_far(store.clone()).await;
        let report = drain(&url, store.clone(), config(&t, "worker.2")).await;
        // What the killed worker committed but did not acknowledge comes back as duplicates.
        assert_eq!(report.decided as usize, n - at_kill, "{report:?}");
        assert_eq!(report.dead_lettered, 0, "{report:?}");
        at_kill
    });
    assert!(
        at_kill < n,
        "the worker finished before it was killed ({at_kill} of {n})"
    );
    exactly_once(store.as_ref(), &batch, &v1);
}

#[test]
fn forced_redelivery_of_decided_messages_decides_nothing_twice() {
    let _one = serial();
    let Some(url) = nats_url() else { return };
    let (_dir, store, v1, _) = store_with_models();
    let store: Arc<dyn GovernanceStore> = store;
    let t = topology("nak");
    let batch = rows("test", 200);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        // Decide ten messages and commit, then ask the server to redeliver them at once.
        let cfg = config(&t, "worker.1");
        let consumer = shared_consumer(&js, &cfg).await.expect("consumer");
        let mut fetched = consumer
            .fetch()
            .max_messages(10)
            .messages()
            .await
            .expect("fetch");
        let mut messages = Vec::new();
        while let Some(m) = fetched.next().await {
            messages.push(m.expect("message"));
        }
        assert_eq!(messages.len(), 10);
        let s = store.clone();
        let bodies: Vec<Vec<u8>> = messages.iter().map(|m| m.payload.to_vec()).collect();
        let outcomes = tokio::task::spawn_blocking(move || {
            let active = app_stream::refresh(s.as_ref(), None).expect("active");
            let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
            app_stream::decide_batch(
                s.as_ref(),
                &actor("worker.1"),
                &active,
                cfg.policy,
                &refs,
                chrono::Utc::now().date_naive(),
            )
            .expect("decide")
        })
        .await
        .expect("join");
        assert!(outcomes.iter().all(|o| matches!(o, Outcome::Decided(_))));
        for m in &messages {
            m.ack_with(async_nats::jetstream::AckKind::Nak(None))
                .await
                .expect("nak");
        }
        let report = drain(&url, store.clone(), config(&t, "worker.2")).await;
        assert_eq!(report.duplicates, 10, "{report:?}");
        assert_eq!(report.decided as usize, n - 10, "{report:?}");
    });
    exactly_once(store.as_ref(), &batch, &v1);
}

/// Runs `pg_ctl ARGS` on the test cluster as the user that owns it.
fn pg_ctl(args: &[&str]) {
    let ctl = std::env::var("BORDERLINE_TEST_POSTGRES_CTL").expect("pg_ctl");
    let data = std::env::var("BORDERLINE_TEST_POSTGRES_DATA").expect("data directory");
    let owner = std::env::var("BORDERLINE_TEST_POSTGRES_OWNER").unwrap_or_default();
    let log = Path::new(&data).with_file_name("server.log");
    let mut cmd = if owner.is_empty() {
        Command::new(&ctl)
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &owner, "--"]).arg(&ctl);
        c
    };
    cmd.arg("-D").arg(&data).arg("-l").arg(&log).args(args);
    let out = cmd.output().expect("pg_ctl runs");
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn postgres_restarted_mid_stream_loses_nothing_and_decides_nothing_twice() {
    let _one = serial();
    let Some(url) = nats_url() else { return };
    if std::env::var("BORDERLINE_TEST_POSTGRES_CTL").is_err() {
        eprintln!(
            "skipped: BORDERLINE_TEST_POSTGRES_CTL is unset (source scripts/postgres.sh first)"
        );
        return;
    }
    let Some(db) = postgres_database("borderline_fault_pg") else {
        return;
    };
    // The test cluster trades durability for speed (synchronous_commit off: a crash loses the
    // last commits, which a worker has already acknowledged). Production runs with it on, the
    // default; so does this database, so that a crash loses no acknowledged decision.
    {
        let mut c: postgres::Client = db
            .parse::<postgres::Config>()
            .expect("URL")
            .connect(postgres::NoTls)
            .expect("connect");
        let name = db.rsplit('/').next().expect("database name");
        c.batch_execute(&format!(
            "ALTER DATABASE {name} SET synchronous_commit = on"
        ))
        .expect("synchronous commits");
    }
    let setup = postgres_store(&db);
    let (v1, _) = two_models(setup.as_ref());
    // Each worker with a store and pool of its own, as on two machines (opened, and later
    // dropped, off the async runtime: the blocking client must not be dropped on it).
    let stores: Vec<Arc<dyn GovernanceStore>> = vec![postgres_store(&db), postgres_store(&db)];
    let probe = postgres_store(&db);
    let t = topology("pgrestart");
    let batch = rows("test", 6);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let workers: Vec<_> = ["worker.1", "worker.2"]
            .into_iter()
            .zip(stores.clone())
            .map(|(w, store)| {
                let url = url.clone();
                let mut cfg = config(&t, w);
                cfg.idle_exit = Some(Duration::from_secs(10));
                tokio::spawn(async move { drain(&url, store, cfg).await })
            })
            .collect();
        wait_for_decisions(probe.clone(), 100, Duration::from_secs(60)).await;
        // Down without a shutdown (connections cut mid-transaction), for two seconds.
        tokio::task::spawn_blocking(|| pg_ctl(&["-m", "immediate", "-w", "stop"]))
            .await
            .expect("stop");
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::spawn_blocking(|| pg_ctl(&["-w", "-t", "60", "start"]))
            .await
            .expect("start");
        let mut total = WorkerReport::default();
        for w in workers {
            let r = w.await.expect("join");
            total.decided += r.decided;
            total.duplicates += r.duplicates;
            total.dead_lettered += r.dead_lettered;
            total.backoffs += r.backoffs;
            total.retried += r.retried;
        }
        eprintln!("two workers through a PostgreSQL restart: {total:?}");
        assert_eq!(total.dead_lettered, 0, "{total:?}");
        // A COMMIT the server carried out just before it was killed reaches the worker as an
        // error: the worker cannot know its decisions stand, and its retry finds them as
        // duplicates. So the workers' own count may fall short of the batch (CI saw 32 short,
        // one batch); the store below is the judge of exactly once.
        assert!(total.decided as usize <= n, "{total:?}");
        assert!(
            (total.decided + total.duplicates) as usize >= n,
            "every declaration answered: {total:?}"
        );
    });
    exactly_once(probe.as_ref(), &batch, &v1);
    drop(stores);
}

/// A nats-server with JetStream of this test's own, on `port`, storing in `dir`.
fn nats_server(port: u16, dir: &Path) -> Option<Child> {
    let Ok(bin) = std::env::var("BORDERLINE_TEST_NATS_SERVER") else {
        eprintln!("skipped: BORDERLINE_TEST_NATS_SERVER is unset (source scripts/nats.sh first)");
        return None;
    };
    let mut child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("nats-server did not listen on {port} within 5 s");
}

#[test]
fn nats_server_killed_and_restarted_mid_stream_loses_nothing_and_decides_nothing_twice() {
    let _one = serial();
    let (_dir, store, v1, _) = store_with_models();
    let store: Arc<dyn GovernanceStore> = store;
    let js_dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let Some(mut server) = nats_server(port, js_dir.path()) else {
        return;
    };
    let url = format!("nats://127.0.0.1:{port}");
    let t = topology("natsrestart");
    let batch = rows("test", 6);
    let n = batch.len();
    let outcome = runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let workers: Vec<_> = ["worker.1", "worker.2"]
            .into_iter()
            .map(|w| {
                let (url, store) = (url.clone(), store.clone());
                let mut cfg = config(&t, w);
                cfg.idle_exit = Some(Duration::from_secs(10));
                tokio::spawn(async move { drain(&url, store, cfg).await })
            })
            .collect();
        wait_for_decisions(store.clone(), 100, Duration::from_secs(60)).await;
        server.kill().expect("SIGKILL the server");
        server.wait().expect("reaped");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let restarted = tokio::task::spawn_blocking({
            let dir = js_dir.path().to_path_buf();
            move || nats_server(port, &dir)
        })
        .await
        .expect("join")
        .expect("restarted");
        let mut total = WorkerReport::default();
        for w in workers {
            let r = w.await.expect("join");
            total.decided += r.decided;
            total.duplicates += r.duplicates;
            total.dead_lettered += r.dead_lettered;
            total.backoffs += r.backoffs;
        }
        (total, restarted)
    });
    let (total, mut restarted) = outcome;
    let _ = restarted.kill();
    let _ = restarted.wait();
    eprintln!("two workers through a nats-server restart: {total:?}");
    assert_eq!(total.dead_lettered, 0, "{total:?}");
    assert_eq!(total.decided as usize, n, "{total:?}");
    exactly_once(store.as_ref(), &batch, &v1);
}
