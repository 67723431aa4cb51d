//! Several writers on one PostgreSQL database at once, each with its own store and pool (as
//! separate processes or machines would be): the audit chain never forks, no record is lost,
//! and the registry's rules hold. Skipped with a message when `BORDERLINE_TEST_POSTGRES` is
//! not set (scripts/test.sh starts a cluster).

mod support;

use borderline_governance::audit::{
    AuditEvent, AuditLog, AuditRecord, GovernanceAction, Verification, GENESIS,
};
use borderline_governance::registry::{ModelCard, ModelState, NewModel, RegistryError};
use borderline_governance::{Actor, GovernanceStore, Registry};
use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use support::TestDb;

fn actor(id: &str) -> Actor {
    Actor::new(id).expect("actor id")
}

fn event(subject: String) -> AuditEvent {
    AuditEvent::Governance(GovernanceAction {
        action: "declaration.decide".into(),
        subject,
        detail: serde_json::json!({"lane": "yellow"}),
    })
}

fn model(version: &str) -> NewModel {
    NewModel {
        version: version.into(),
        trainer: "ana".into(),
        artefact_sha256: String::new(),
        data_fingerprint: "sha256:00".into(),
        parameters: serde_json::json!({}),
        metrics: serde_json::json!({"auc": 0.9}),
        card: ModelCard::default(),
    }
}

fn artefact(version: &str) -> Vec<u8> {
    format!("{{\"model_id\":\"{version}\"}}").into_bytes()
}

fn intact_records(store: &dyn GovernanceStore) -> u64 {
    match AuditLog::new(store).verify().expect("verify") {
        Verification::Intact { records, .. } => records,
        broken => panic!("the chain broke under concurrent writers: {broken}"),
    }
}

/// Subjects of the audit records, with how often each appears.
fn subjects(store: &dyn GovernanceStore) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in AuditLog::new(store).records().expect("records") {
        if let Ok(AuditEvent::Governance(g)) = r.event() {
            *out.entry(g.subject).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn two_writers_appending_at_once_keep_one_unbroken_chain() {
    let Some(db) = TestDb::create() else { return };
    const EACH: usize = 150;
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        for writer in ["office.40", "office.41"] {
            let (db, start) = (&db, &start);
            s.spawn(move || {
                let store = db.open();
                let log = AuditLog::new(&store);
                let who = actor(writer);
                start.wait();
                for i in 0..EACH {
                    log.append(&who, &event(format!("{writer}/DECL-{i:04}")))
                        .expect("append");
                }
            });
        }
    });
    let store = db.open();
    assert_eq!(intact_records(&store), 2 * EACH as u64);
    let seen = subjects(&store);
    assert_eq!(seen.len(), 2 * EACH, "a record was lost");
    assert!(seen.values().all(|&n| n == 1), "a record was written twice");
    let seqs: Vec<u64> = AuditLog::new(&store)
        .records()
        .expect("records")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, (1..=2 * EACH as u64).collect::<Vec<_>>());
}

#[test]
fn two_registrars_at_once_lose_no_model_and_no_record() {
    let Some(db) = TestDb::create() else { return };
    const EACH: usize = 12;
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        for (registrar, prefix) in [("ana", "north"), ("bob", "south")] {
            let (db, start) = (&db, &start);
            s.spawn(move || {
                let store = db.open();
                let reg = Registry::new(&store);
                let log = AuditLog::new(&store);
                let who = actor(registrar);
                start.wait();
                for i in 0..EACH {
                    let v = format!("{prefix}-{i}");
                    reg.register(&model(&v), &artefact(&v), &who)
                        .expect("register");
                    log.append(&who, &event(format!("{v}/scored")))
                        .expect("append");
                }
            });
        }
    });
    let store = db.open();
    let reg = Registry::new(&store);
    let models = reg.list().expect("list");
    assert_eq!(models.len(), 2 * EACH, "a model was lost");
    for m in &models {
        let (_, bytes) = reg.artefact(&m.model.version).expect("artefact kept");
        assert_eq!(bytes, artefact(&m.model.version));
    }
    // One registration record and one decision record per model, in one unbroken chain.
    assert_eq!(intact_records(&store), 4 * EACH as u64);
    let seen = subjects(&store);
    for m in &models {
        assert_eq!(seen.get(&m.model.version), Some(&1), "{}", m.model.version);
    }
}

#[test]
fn one_version_registered_by_four_processes_at_once_is_kept_once() {
    let Some(db) = TestDb::create() else { return };
    let start = Barrier::new(4);
    let outcomes: Vec<Result<(), RegistryError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ["ana", "bob", "cho", "dan"]
            .into_iter()
            .map(|who| {
                let (db, start) = (&db, &start);
                s.spawn(move || {
                    let store = db.open();
                    start.wait();
                    Registry::new(&store)
                        .register(&model("m1"), &artefact("m1"), &actor(who))
                        .map(|_| ())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(ok, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| matches!(e, RegistryError::AlreadyRegistered(_))),
        "{outcomes:?}"
    );
    let store = db.open();
    assert_eq!(intact_records(&store), 1);
}

#[test]
fn activations_at_once_leave_exactly_one_active_model() {
    let Some(db) = TestDb::create() else { return };
    let versions = ["m1", "m2", "m3", "m4"];
    {
        let store = db.open();
        let reg = Registry::new(&store);
        for v in versions {
            reg.register(&model(v), &artefact(v), &actor("ana"))
                .expect("register");
            reg.approve(v, &actor("ben"), "independent review")
                .expect("approve");
        }
    }
    let start = Barrier::new(versions.len());
    std::thread::scope(|s| {
        for v in versions {
            let (db, start) = (&db, &start);
            s.spawn(move || {
                let store = db.open();
                start.wait();
                Registry::new(&store)
                    .activate(v, &actor("ben"))
                    .expect("activate");
            });
        }
    });
    let store = db.open();
    let reg = Registry::new(&store);
    let active: Vec<String> = reg
        .list()
        .expect("list")
        .into_iter()
        .filter(|m| m.state == ModelState::Active)
        .map(|m| m.model.version)
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    // Each activation superseded the one before it: the last one in the chain is active.
    let last_activated = AuditLog::new(&store)
        .records()
        .expect("records")
        .into_iter()
        .filter_map(|r| match r.event() {
            Ok(AuditEvent::Governance(g)) if g.action == "model.activate" => Some(g.subject),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(last_activated.len(), versions.len());
    assert_eq!(last_activated.last(), active.first());
    assert_eq!(intact_records(&store), 3 * versions.len() as u64);
}

#[test]
fn a_reader_does_not_wait_for_an_open_write_transaction() {
    let Some(db) = TestDb::create() else { return };
    let (writer, reader) = (db.open(), db.open());
    AuditLog::new(&writer)
        .append(&actor("kim"), &event("DECL-1".into()))
        .expect("append");
    let mut tx = writer.begin(true).expect("write transaction");
    let head = tx.audit_head().expect("head");
    assert_eq!(head.map(|(seq, _)| seq), Some(1));
    let started = Instant::now();
    // The reader sees the last committed state, at once.
    assert_eq!(AuditLog::new(&reader).len().expect("len"), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(tx);
}

#[test]
fn a_second_writer_waits_and_then_appends_after_the_first() {
    let Some(db) = TestDb::create() else { return };
    let (first, second) = (db.open(), db.open());
    let mut tx = first.begin(true).expect("first writer");
    assert_eq!(tx.audit_head().expect("head"), None);
    std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            let started = Instant::now();
            AuditLog::new(&second)
                .append(&actor("bob"), &event("DECL-2".into()))
                .expect("second append");
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(300));
        // The first writer appends on the head it read while the second waits for the lock.
        let action = GovernanceAction {
            action: "declaration.decide".into(),
            subject: "DECL-1".into(),
            detail: serde_json::json!({"lane": "red"}),
        };
        let mut record = AuditRecord {
            seq: 1,
            recorded_at: borderline_governance::store::now(),
            user: "ana".into(),
            kind: "governance".into(),
            body: serde_json::to_string(&action).expect("body"),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        tx.audit_append(&record).expect("first append");
        tx.commit().expect("commit");
        let waited = waiting.join().expect("thread");
        assert!(
            waited >= Duration::from_millis(250),
            "did not wait: {waited:?}"
        );
    });
    let records = AuditLog::new(&first).records().expect("records");
    let order: Vec<&str> = records.iter().map(|r| r.user.as_str()).collect();
    assert_eq!(order, ["ana", "bob"]);
    assert_eq!(intact_records(&first), 2);
}

#[test]
fn sixteen_writers_at_once_keep_one_verifiable_chain_in_each_writers_order() {
    // The audit chain under many writers (issue 13 item 4): each writer is a process of its
    // own (a store with its own pool), appending one record per transaction and then batches
    // of ten in one transaction, all at once. The write lock orders them into one chain.
    let Some(db) = TestDb::create() else { return };
    const WRITERS: usize = 16;
    const SINGLE: usize = 20;
    const BATCHES: usize = 4;
    const BATCH: usize = 10;
    let start = Barrier::new(WRITERS);
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (db, start) = (&db, &start);
            s.spawn(move || {
                let store = db.open();
                let log = AuditLog::new(&store);
                let who = actor(&format!("worker.{w:02}"));
                start.wait();
                for i in 0..SINGLE {
                    log.append(&who, &event(format!("w{w:02}/{i:03}")))
                        .expect("append");
                }
                for b in 0..BATCHES {
                    let events: Vec<AuditEvent> = (0..BATCH)
                        .map(|j| event(format!("w{w:02}/{:03}", SINGLE + b * BATCH + j)))
                        .collect();
                    let seqs = log.append_all(&who, &events).expect("append a batch");
                    // A batch is one transaction: contiguous in the chain.
                    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "{seqs:?}");
                }
            });
        }
    });
    let store = db.open();
    let each = SINGLE + BATCHES * BATCH;
    assert_eq!(intact_records(&store), (WRITERS * each) as u64);
    let records = AuditLog::new(&store).records().expect("records");
    // Every writer's records are all there, once each, in the order it wrote them.
    let mut by_writer: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &records {
        if let Ok(AuditEvent::Governance(g)) = r.event() {
            by_writer.entry(r.user.clone()).or_default().push(g.subject);
        }
    }
    assert_eq!(by_writer.len(), WRITERS);
    for (w, subjects) in by_writer {
        let n = w.trim_start_matches("worker.");
        let wanted: Vec<String> = (0..each).map(|i| format!("w{n}/{i:03}")).collect();
        assert_eq!(subjects, wanted, "{w}'s records out of order or missing");
    }
}
