//! The declaration stream end to end on a real nats-server with JetStream
//! (`BORDERLINE_TEST_NATS`, started by scripts/nats.sh) and a SQLite store: every published
//! declaration decided exactly once by two workers, redelivery and republication decide
//! nothing twice, a malformed message is dead-lettered with its reason while the stream keeps
//! flowing, and an activation reaches a running worker. Each test uses its own subjects.

mod support;

use borderline_app::governance::models;
use borderline_app::stream as app_stream;
use borderline_governance::audit::AuditLog;
use borderline_worker::{connect, publish, run_worker, shared_consumer, DeadLetter, Topology};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

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
    let Some(store) = postgres_database("borderline_worker").map(|url| postgres_store(&url)) else {
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

/// Regression (found by the first stream benchmark): `borderline worker --db postgres://...`
/// panicked at exit, because the last reference to the store, handed to `run_worker`, was
/// dropped on the async runtime, and the synchronous PostgreSQL client's connections cannot be
/// dropped there. Here, as in the CLI, the worker holds the only reference.
#[test]
fn a_worker_holding_the_only_reference_to_a_postgres_store_stops_without_a_panic() {
    let Some(url) = nats_url() else { return };
    let Some(db) = postgres_database("borderline_worker_exit") else {
        return;
    };
    let setup = postgres_store(&db);
    two_models(setup.as_ref());
    drop(setup);
    // Opened off the runtime (the blocking client cannot connect on it either).
    let store = postgres_store(&db);
    let t = topology("exit");
    let batch = rows("test", 500);
    let report = runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let mut cfg = config(&t, "worker.1");
        cfg.idle_exit = Some(Duration::from_secs(1));
        run_worker(&url, store, cfg, Arc::new(AtomicBool::new(false))).await
    });
    assert_eq!(report.expect("worker").decided, batch.len() as u64);
}
