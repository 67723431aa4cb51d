//! The inspection queue use case the web page calls (`borderline_app::decisions::queue`),
//! over decision records in a real SQLite store.

use borderline_app::decisions::{queue, QueueFilter};
use borderline_core::Lane;
use borderline_governance::audit::{AuditEvent, AuditLog, Decision, DecisionSubject};
use borderline_governance::selectivity::Basis;
use borderline_governance::{Actor, GovernanceStore};
use borderline_store_sqlite::SqliteStore;
use chrono::NaiveDate;

fn decision(
    id: &str,
    lane: Lane,
    score: f64,
    subject: Option<(&str, &str, &str, &str)>,
) -> AuditEvent {
    AuditEvent::Decision(Decision {
        declaration_id: id.into(),
        input_hash: "h".into(),
        model_version: "m".into(),
        rules_version: "none".into(),
        score,
        lane,
        basis: Basis::Score,
        why: "score threshold".into(),
        reasons: vec![],
        subject: subject.map(|(importer, hs, office, date)| DecisionSubject {
            importer: importer.into(),
            hs_code: hs.into(),
            office: office.into(),
            date: date.into(),
        }),
    })
}

fn ids(store: &dyn GovernanceStore, f: &QueueFilter, page: usize, per: usize) -> Vec<String> {
    queue(store, f, page, per)
        .expect("queue")
        .rows
        .into_iter()
        .map(|r| r.decision.declaration_id)
        .collect()
}

#[test]
fn the_queue_shows_each_declarations_latest_decision_riskiest_first_and_filters_by_subject() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("gov.db")).expect("store");
    let officer = Actor::new("officer.one").expect("actor");
    let log = AuditLog::new(&store);
    for e in [
        decision(
            "A",
            Lane::Green,
            0.10,
            Some(("IMP-1", "030617", "20", "2021-04-01")),
        ),
        decision(
            "B",
            Lane::Red,
            0.70,
            Some(("IMP-2", "850440", "20", "2021-04-02")),
        ),
        decision(
            "C",
            Lane::Red,
            0.90,
            Some(("IMP-1", "850450", "30", "2021-04-03")),
        ),
        decision(
            "D",
            Lane::Yellow,
            0.40,
            Some(("IMP-2", "030617", "30", "2021-04-04")),
        ),
        // A record written before decisions carried their subject.
        decision("OLD", Lane::Red, 0.95, None),
        // A later decision on A replaces the earlier one in the queue.
        decision(
            "A",
            Lane::Red,
            0.80,
            Some(("IMP-1", "030617", "20", "2021-04-01")),
        ),
    ] {
        log.append(&officer, &e).expect("append");
    }
    let all = QueueFilter::default();
    assert_eq!(ids(&store, &all, 1, 50), ["OLD", "C", "A", "B", "D"]);
    let page = queue(&store, &all, 2, 2).expect("queue");
    assert_eq!(page.total, 5);
    assert_eq!(
        page.rows
            .iter()
            .map(|r| r.decision.declaration_id.as_str())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert_eq!(page.rows[0].recorded_by, "officer.one");

    let red_imp1 = QueueFilter {
        lane: Some(Lane::Red),
        importer: Some("IMP-1".into()),
        ..QueueFilter::default()
    };
    assert_eq!(ids(&store, &red_imp1, 1, 50), ["C", "A"]);
    let hs_8504_office_20 = QueueFilter {
        hs_code_prefix: Some("8504".into()),
        office: Some("20".into()),
        ..QueueFilter::default()
    };
    assert_eq!(ids(&store, &hs_8504_office_20, 1, 50), ["B"]);
    let dates = QueueFilter {
        from: NaiveDate::from_ymd_opt(2021, 4, 2),
        to: NaiveDate::from_ymd_opt(2021, 4, 3),
        ..QueueFilter::default()
    };
    assert_eq!(
        ids(&store, &dates, 1, 50),
        ["C", "B"],
        "a record without a subject never matches a subject filter"
    );
}
