//! One batch of stream messages, decided in one transaction (`borderline_app::stream::
//! decide_batch`), on SQLite and on PostgreSQL (when `BORDERLINE_TEST_POSTGRES` is set): a
//! declaration decided earlier is skipped as a duplicate while the rest are decided, one
//! repeated inside the batch is decided once, and a poison message is refused with its reason
//! without holding back the others. Outcomes come back in message order; the audit chain, the
//! decision keys and the capacity ledger count each new decision once.

mod support;

use borderline_app::stream::{self as app_stream, Outcome};
use borderline_governance::audit::AuditLog;
use borderline_governance::GovernanceStore;
use chrono::NaiveDate;
use support::*;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")
}

/// Decides `messages` as one batch by `worker.1` on `day()`.
fn decide(store: &dyn GovernanceStore, messages: &[Vec<u8>]) -> Vec<Outcome> {
    let active = app_stream::refresh(store, None).expect("active model");
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let policy = config(&topology("batch"), "worker.1").policy;
    app_stream::decide_batch(store, &actor("worker.1"), &active, policy, &refs, day())
        .expect("decide")
}

/// Decisions counted in the capacity ledger on `day()`, all offices.
fn ledger_decided(store: &dyn GovernanceStore) -> u64 {
    let window = day().to_string();
    let mut tx = store.begin(false).expect("begin");
    tx.lane_usages(&window, &window)
        .expect("ledger")
        .iter()
        .map(|r| r.usage.decided)
        .sum()
}

fn audit_len(store: &dyn GovernanceStore) -> u64 {
    AuditLog::new(store).len().expect("audit length")
}

/// The earlier decisions' audit records, by declaration id.
fn decided_seqs(out: &[Outcome]) -> Vec<(String, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Outcome::Decided(d) => Some((d.declaration_id.clone(), d.audit_seq)),
            _ => None,
        })
        .collect()
}

fn already_decided_declarations_are_skipped_and_the_rest_decided(store: &dyn GovernanceStore) {
    let version = app_stream::active_version(store)
        .expect("version")
        .expect("an active model");
    let rows = rows("test", 300);
    assert!(rows.len() >= 20, "{} declarations", rows.len());
    let (early, rest) = rows.split_at(4);
    let base = audit_len(store);
    let first = decide(store, &bodies(early));
    let earlier = decided_seqs(&first);
    assert_eq!(earlier.len(), 4, "{first:?}");

    // A batch that repeats two decided declarations (in the middle and at the end) and one
    // new declaration twice.
    let mut batch: Vec<_> = rest[..10].to_vec();
    batch.insert(3, early[1].clone());
    batch.push(rest[5].clone());
    batch.push(early[3].clone());
    let out = decide(store, &bodies(&batch));
    assert_eq!(out.len(), batch.len());
    let mut new = 0;
    for (i, (d, o)) in batch.iter().zip(&out).enumerate() {
        let id = d.declaration_id.to_string();
        match o {
            Outcome::Duplicate(s) => {
                assert_eq!(s.declaration_id, id, "message {i}");
                assert_eq!(s.lane, None);
                assert_eq!(s.model_version, version);
                let seq = earlier
                    .iter()
                    .find(|(e, _)| *e == id)
                    .map(|(_, s)| *s)
                    .or_else(|| {
                        decided_seqs(&out[..i])
                            .into_iter()
                            .find(|(e, _)| *e == id)
                            .map(|(_, s)| s)
                    });
                assert_eq!(
                    Some(s.audit_seq),
                    seq,
                    "message {i}: not the earlier record"
                );
            }
            Outcome::Decided(s) => {
                assert_eq!(s.declaration_id, id, "message {i}");
                assert!(s.lane.is_some());
                new += 1;
            }
            Outcome::Rejected(r) => panic!("message {i} refused: {r:?}"),
        }
    }
    assert_eq!(new, 10, "{out:?}");
    // Exactly the new decisions were written and counted.
    assert_eq!(audit_len(store), base + 14);
    assert_eq!(ledger_decided(store), 14);
    let all: Vec<_> = early.iter().chain(&rest[..10]).cloned().collect();
    exactly_once(store, &all, &version);
}

fn a_poison_message_is_refused_and_the_others_decided(store: &dyn GovernanceStore) {
    let good = rows("test", 500);
    assert!(good.len() >= 8, "{} declarations", good.len());
    let mut messages = bodies(&good[..8]);
    messages.insert(2, b"{not json".to_vec());
    messages.insert(5, br#"{"declaration_id": "X-1", "office": "020"}"#.to_vec());
    let base = audit_len(store);
    let out = decide(store, &messages);
    assert_eq!(out.len(), 10);
    for (i, o) in out.iter().enumerate() {
        match (i, o) {
            (2, Outcome::Rejected(r)) => {
                assert_eq!(r.declaration_id, None);
                assert!(r.reason.contains("not JSON"), "{}", r.reason);
            }
            (5, Outcome::Rejected(r)) => {
                assert_eq!(r.declaration_id.as_deref(), Some("X-1"));
                assert!(r.reason.contains("not a declaration"), "{}", r.reason);
            }
            (2 | 5, other) => panic!("message {i} accepted: {other:?}"),
            (_, Outcome::Decided(_)) => {}
            (_, other) => panic!("message {i} not decided: {other:?}"),
        }
    }
    assert_eq!(audit_len(store), base + 8);
    assert_eq!(ledger_decided(store), 8);
    // A batch of nothing but poison writes nothing.
    let out = decide(store, &[b"[]".to_vec(), b"".to_vec()]);
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Rejected(_))),
        "{out:?}"
    );
    assert_eq!(audit_len(store), base + 8);
    let version = app_stream::active_version(store)
        .expect("version")
        .expect("active");
    exactly_once(store, &good[..8], &version);
}

#[test]
fn a_batch_with_an_already_decided_declaration_decides_the_rest_and_skips_it_on_sqlite() {
    let (_dir, store, _, _) = store_with_models();
    already_decided_declarations_are_skipped_and_the_rest_decided(store.as_ref());
}

#[test]
fn a_batch_with_a_poison_message_decides_the_others_on_sqlite() {
    let (_dir, store, _, _) = store_with_models();
    a_poison_message_is_refused_and_the_others_decided(store.as_ref());
}

#[test]
fn a_batch_with_an_already_decided_declaration_decides_the_rest_and_skips_it_on_postgres() {
    let Some(url) = postgres_database("borderline_batch_decided") else {
        return;
    };
    let store = postgres_store(&url);
    two_models(store.as_ref());
    already_decided_declarations_are_skipped_and_the_rest_decided(store.as_ref());
}

#[test]
fn a_batch_with_a_poison_message_decides_the_others_on_postgres() {
    let Some(url) = postgres_database("borderline_batch_poison") else {
        return;
    };
    let store = postgres_store(&url);
    two_models(store.as_ref());
    a_poison_message_is_refused_and_the_others_decided(store.as_ref());
}

/// Issue 17: a batch's red and yellow decisions are explained together (one block), with the
/// same exact reasons as each declaration explained alone (contributions to 1e-9), followed by its data-quality
/// findings; green ones carry no model reasons.
#[test]
fn a_batch_explains_its_red_and_yellow_decisions_as_one_by_one() {
    use borderline_app::targeting::{Explain, Reasons};
    use borderline_core::{Lane, ReasonKind};
    let (_dir, store, _, _) = store_with_models();
    let active = app_stream::refresh(store.as_ref(), None).expect("active model");
    let mut policy = config(&topology("reasons"), "worker.1").policy;
    policy.reasons = Reasons {
        method: Some(Explain::Exact),
        top: 3,
    };
    let batch = rows("test", 40);
    let refs = bodies(&batch);
    let refs: Vec<&[u8]> = refs.iter().map(Vec::as_slice).collect();
    let out = app_stream::decide_batch(
        store.as_ref(),
        &actor("worker.1"),
        &active,
        policy,
        &refs,
        day(),
    )
    .expect("decide");
    let scorer = &active.scorer;
    let mut x = vec![0.0; scorer.num_features()];
    let mut explained = 0;
    for (d, o) in batch.iter().zip(&out) {
        let Outcome::Decided(s) = o else {
            panic!("{o:?}");
        };
        let model_reasons: Vec<_> = s
            .reasons
            .iter()
            .filter(|r| r.kind != ReasonKind::DataQuality)
            .cloned()
            .collect();
        if matches!(s.lane, Some(Lane::Red | Lane::Yellow)) {
            scorer.features(d, &mut x);
            let alone = scorer.explain(d, &x, Explain::Exact, 3);
            assert!(!alone.is_empty());
            // The same reasons; contributions equal up to rounding (block and row SHAP sum in
            // different orders).
            assert_eq!(model_reasons.len(), alone.len(), "{}", s.declaration_id);
            for (b, a) in model_reasons.iter().zip(&alone) {
                assert_eq!((&b.kind, &b.code, &b.text), (&a.kind, &a.code, &a.text));
                let (cb, ca) = (b.contribution.unwrap_or(0.0), a.contribution.unwrap_or(0.0));
                assert!((cb - ca).abs() <= 1e-9, "{cb} vs {ca}");
            }
            explained += 1;
        } else {
            assert!(model_reasons.is_empty(), "{:?}", s.reasons);
        }
    }
    assert!(explained >= 2, "{explained} red or yellow decisions");
}
