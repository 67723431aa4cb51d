//! Inspection capacities across workers: red and yellow quotas per office per day held in the
//! store's capacity ledger and consumed in the deciding transaction, so the lane shares over a
//! period come within ±0.5 percentage points of the capacities with one worker or two, and a
//! drift alarm fires when a capacity cannot be met. Runs on a real nats-server
//! (`BORDERLINE_TEST_NATS`); the two-worker case on PostgreSQL (`BORDERLINE_TEST_POSTGRES`), each
//! worker with its own pool as on two machines. Skipped with a message without them.

mod support;

use borderline_app::capacity::{report, CapacityReport, QuotaPolicy};
use borderline_app::stream::{self as app_stream, Outcome, StreamPolicy};
use borderline_app::targeting::{Capacities, Reasons};
use borderline_governance::GovernanceStore;
use borderline_store_sqlite::SqliteStore;
use borderline_worker::{connect, publish, run_worker};
use chrono::{Days, NaiveDate, Utc};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// The tolerance this suite holds the shares to, in percentage points.
const TOLERANCE_PP: f64 = 0.5;

fn policy() -> QuotaPolicy {
    QuotaPolicy::new(Capacities {
        red_percent: 5.0,
        yellow_percent: 10.0,
    })
}

/// The shares of the days around today (a run may straddle midnight UTC).
fn shares(store: &dyn GovernanceStore) -> CapacityReport {
    let today = Utc::now().date_naive();
    let day = |d: Option<NaiveDate>| d.expect("a date");
    report(
        store,
        day(today.checked_sub_days(Days::new(1))),
        day(today.checked_add_days(Days::new(1))),
        &policy(),
    )
    .expect("capacity report")
}

fn assert_within_capacities(r: &CapacityReport, n: usize) {
    assert_eq!(r.total.decided as usize, n, "{r:#?}");
    assert!(
        (r.red_percent - 5.0).abs() <= TOLERANCE_PP,
        "red share {:.2}% against a 5% capacity",
        r.red_percent
    );
    assert!(
        (r.yellow_percent - 10.0).abs() <= TOLERANCE_PP,
        "yellow share {:.2}% against a 10% capacity",
        r.yellow_percent
    );
    // Every office that decided enough to judge is within its capacities.
    let alarms: Vec<_> = r.offices.iter().filter(|o| o.alarm.is_some()).collect();
    assert!(alarms.is_empty(), "{alarms:#?}");
    assert!(r.offices.iter().any(|o| o.decided >= 400), "{r:#?}");
}

async fn run(
    url: &str,
    workers: Vec<(Arc<dyn GovernanceStore>, &str)>,
    t: &borderline_worker::Topology,
) -> u64 {
    let handles: Vec<_> = workers
        .into_iter()
        .map(|(store, id)| {
            let (url, mut cfg) = (url.to_string(), config(t, id));
            cfg.policy.quota = policy();
            tokio::spawn(async move {
                run_worker(&url, store, cfg, Arc::new(AtomicBool::new(false))).await
            })
        })
        .collect();
    let mut decided = 0;
    for h in handles {
        let r = tokio::time::timeout(Duration::from_secs(300), h)
            .await
            .expect("workers finish in time")
            .expect("join")
            .expect("worker");
        assert_eq!(r.dead_lettered, 0, "{r:?}");
        decided += r.decided;
    }
    decided
}

#[test]
fn one_worker_keeps_each_offices_lane_shares_within_half_a_point_of_its_capacities() {
    let Some(url) = nats_url() else { return };
    let (_dir, store, _, _) = store_with_models();
    let store: Arc<dyn GovernanceStore> = store;
    let t = topology("capacity1");
    let batch = rows("test", 2);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        assert_eq!(
            run(&url, vec![(store.clone(), "worker.1")], &t).await,
            n as u64
        );
    });
    let r = shares(store.as_ref());
    eprintln!(
        "one worker: red {:.2}%, yellow {:.2}% of {}",
        r.red_percent, r.yellow_percent, r.total.decided
    );
    assert_within_capacities(&r, n);
}

#[test]
fn two_workers_on_one_postgres_store_share_the_quotas() {
    let Some(url) = nats_url() else { return };
    let Some(db) = postgres_database("borderline_capacity") else {
        return;
    };
    let stores: Vec<Arc<dyn GovernanceStore>> = vec![postgres_store(&db), postgres_store(&db)];
    two_models(stores[0].as_ref());
    let t = topology("capacity2");
    let batch = rows("test", 2);
    let n = batch.len();
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        publish(&js, &t, bodies(&batch)).await.expect("publish");
        let workers = vec![
            (stores[0].clone(), "worker.1"),
            (stores[1].clone(), "worker.2"),
        ];
        assert_eq!(run(&url, workers, &t).await, n as u64);
    });
    let r = shares(stores[0].as_ref());
    eprintln!(
        "two workers: red {:.2}%, yellow {:.2}% of {}",
        r.red_percent, r.yellow_percent, r.total.decided
    );
    assert_within_capacities(&r, n);
}

#[test]
fn a_capacity_the_model_cannot_fill_raises_the_drift_alarm() {
    // A red capacity of 60%: the model's thresholds go no lower than its median score, so
    // the office cannot reach it and the report says so.
    let store = SqliteStore::open_in_memory().expect("store");
    two_models(&store);
    let active = app_stream::refresh(&store, None).expect("active");
    let wanted = QuotaPolicy::new(Capacities {
        red_percent: 60.0,
        yellow_percent: 10.0,
    });
    let policy = StreamPolicy {
        quota: wanted,
        reasons: Reasons {
            method: None,
            top: 0,
        },
        ..StreamPolicy::default()
    };
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
    let messages = bodies(&rows("test", 4));
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    for chunk in refs.chunks(64) {
        let out = app_stream::decide_batch(&store, &actor("worker.1"), &active, policy, chunk, day)
            .expect("decide");
        assert!(out.iter().all(|o| matches!(o, Outcome::Decided(_))));
    }
    let r = report(&store, day, day, &wanted).expect("report");
    assert_eq!(r.total.decided as usize, messages.len());
    assert!(r.red_percent < 60.0 - TOLERANCE_PP, "{r:#?}");
    assert!(r.alarms > 0, "{r:#?}");
    let busiest = r
        .offices
        .iter()
        .max_by_key(|o| o.decided)
        .expect("an office");
    let alarm = busiest.alarm.as_deref().unwrap_or_default();
    assert!(alarm.contains("red share"), "{alarm}");
    assert!(alarm.contains("capacity 60.00%"), "{alarm}");
}
