//! The declaration stream as the HTTP service publishes to it (`JetStreamQueue`, behind
//! `borderline_app::stream::DeclarationQueue`): what it puts on the stream a worker decides,
//! once each; a stream that cannot be reached is an error within a bound, not a hang.

mod support;

use borderline_app::stream::{self as app_stream, DeclarationQueue};
use borderline_worker::{run_worker, JetStreamQueue, PUBLISH_TIMEOUT};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use support::*;

#[test]
fn declarations_published_through_the_queue_are_decided_once_by_a_worker() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, v1, _) = store_with_models();
    let t = topology("queue");
    let batch = rows("test", 200);
    assert!(batch.len() > 20, "{} declarations", batch.len());
    let queue = JetStreamQueue::new(url.clone(), t.clone());
    runtime().block_on(async {
        let receipt = app_stream::publish(&queue, &batch).await.expect("publish");
        assert_eq!(receipt.published, batch.len() as u64);
        assert_eq!(receipt.subject, t.declarations_subject());
        // A second publication reuses the connection made by the first.
        let again = app_stream::publish(&queue, &batch[..1])
            .await
            .expect("again");
        assert_eq!(again.published, 1);
        let report = run_worker(
            &url,
            store.clone(),
            config(&t, "worker.1"),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("worker");
        assert_eq!(report.decided, batch.len() as u64);
        assert_eq!(report.duplicates, 1, "the republished declaration");
    });
    exactly_once(store.as_ref(), &batch, &v1);

    // Nothing listens on port 1: refused, and well within the publication bound.
    let unreachable = JetStreamQueue::new("nats://127.0.0.1:1", t);
    let started = Instant::now();
    let err = runtime()
        .block_on(unreachable.put(vec![b"{}".to_vec()]))
        .expect_err("no server");
    assert!(!err.is_empty());
    assert!(started.elapsed() <= PUBLISH_TIMEOUT + std::time::Duration::from_secs(2));
}
