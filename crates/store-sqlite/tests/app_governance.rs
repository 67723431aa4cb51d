//! The governance workflow of the application core, on the embedded SQLite store. It lives with
//! the store so that the application crate itself never depends on SQLite, even for tests.
//! The governance workflow at the application boundary (no binary): register with a model card,
//! four-eyes refusals (including the bypasses measured in issue 11), approve, activate, load the
//! active model (refused without one and with changed stored bytes), rollback, feedback recorded
//! in the acting actor's name, recorded outcomes since a date, audit verification.

use borderline_app::governance::{audit, feedback, models, Actor};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_app::AppError;
use borderline_core::Declaration;
use borderline_governance::audit::{AuditEvent, AuditLog, Verification};
use borderline_governance::registry::{ModelState, RegistryError};
use borderline_ingest::{read_all, Profile};
use borderline_store_sqlite::SqliteStore;
use chrono::NaiveDate;
use std::path::Path;

fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

/// Two small models with different settings (so different ids), as artefact bytes.
fn artefacts() -> (Vec<u8>, Vec<u8>, Vec<Declaration>) {
    let (train, valid) = (rows("train", 10), rows("valid", 10));
    let make = |lr: f64| {
        let config = TrainConfig {
            learning_rate: lr,
            max_rounds: 20,
            threads: 1,
            ..TrainConfig::default()
        };
        let req = TrainRequest {
            train: train.clone(),
            valid: valid.clone(),
            recorded: Vec::new(),
            config,
        };
        train_model(req, &|_| {}).expect("train").0.to_bytes()
    };
    (make(0.1), make(0.2), valid)
}

fn actor(id: &str) -> Actor {
    Actor::new(id).expect("actor")
}

fn request(
    artefact: &[u8],
    trainer: Option<&str>,
    eval: Option<Vec<Declaration>>,
) -> models::RegisterRequest {
    models::RegisterRequest {
        artefact: artefact.to_vec(),
        trainer: trainer.map(str::to_string),
        evaluation: eval.map(|rows| ("valid sample".to_string(), rows)),
        intended_use: models::DEFAULT_INTENDED_USE.into(),
        limits: models::DEFAULT_LIMITS.into(),
    }
}

fn four_eyes<T>(r: borderline_app::Result<T>) -> bool {
    matches!(r, Err(AppError::Registry(RegistryError::FourEyes { .. })))
}

#[test]
fn register_approve_activate_load_rollback_and_audit() {
    let (first, second, valid) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");

    // Nothing loads before a model is registered, approved and activated.
    assert!(matches!(
        models::load_active(&store),
        Err(AppError::Registry(RegistryError::NoActiveModel))
    ));
    let e = models::register(&store, &actor("ana"), &request(&first, None, Some(valid)))
        .expect("register");
    assert_eq!(
        (e.state, e.model.trainer.as_str()),
        (ModelState::Draft, "ana")
    );
    assert!(!e.model.card.performance_by_office.is_empty());
    let v1 = e.model.version.clone();

    // Four eyes: the trainer under other spellings cannot approve (issue 11: case, spaces,
    // zero-width space, full-width letters, a Cyrillic look-alike).
    for same in [
        "ana",
        "ANA",
        " ana",
        "an\u{200B}a",
        "\u{FF41}\u{FF4E}\u{FF41}",
        "\u{0430}na",
    ] {
        assert!(
            four_eyes(models::approve(&store, &actor(same), &v1, "fine")),
            "{same:?} approved their own model"
        );
    }
    assert!(matches!(
        models::activate(&store, &actor("ben"), &v1),
        Err(AppError::Registry(RegistryError::InvalidTransition { .. }))
    ));
    models::approve(&store, &actor("ben"), &v1, "card reviewed").expect("approve");
    assert_eq!(
        models::activate(&store, &actor("ben"), &v1).expect("activate"),
        None
    );
    let (entry, model) = models::load_active(&store).expect("active model");
    assert_eq!(entry.model.version, v1);
    assert_eq!(model.model_id, v1);

    // Issue 11: register as ana naming bob as trainer, then approve as ana: refused.
    let e = models::register(&store, &actor("ana"), &request(&second, Some("bob"), None))
        .expect("register");
    let v2 = e.model.version.clone();
    assert_ne!(v1, v2);
    assert!(four_eyes(models::approve(
        &store,
        &actor("ana"),
        &v2,
        "fine"
    )));
    assert!(four_eyes(models::approve(
        &store,
        &actor("Bob"),
        &v2,
        "fine"
    )));
    models::approve(&store, &actor("cho"), &v2, "independent").expect("approve");
    assert_eq!(
        models::activate(&store, &actor("cho"), &v2).expect("activate"),
        Some(v1.clone())
    );
    assert_eq!(
        models::rollback(&store, &actor("cho"), "drift").expect("rollback"),
        (v2.clone(), v1.clone())
    );
    assert_eq!(
        models::load_active(&store).expect("active").0.model.version,
        v1
    );
    assert_eq!(models::list(&store).expect("list").len(), 2);

    assert!(matches!(
        audit::verify(&store).expect("verify"),
        Verification::Intact { records: 7, .. }
    ));
    let mut out = Vec::new();
    assert_eq!(audit::export(&store, &mut out).expect("export"), 7);

    // Changed stored bytes are refused (someone with the database file and a SQLite shell).
    store
        .raw_connection()
        .execute_batch(
            "DROP TRIGGER artefacts_no_update; UPDATE artefacts SET bytes = CAST(bytes || x'00' AS BLOB)",
        )
        .expect("tamper");
    assert!(matches!(
        models::load_active(&store),
        Err(AppError::Registry(RegistryError::ArtefactChanged { .. }))
    ));
}

#[test]
fn feedback_is_audited_as_the_acting_actor_and_joins_retraining_by_date() {
    let store = SqliteStore::open_in_memory().expect("store");
    let kim = actor("officer.kim");
    let csv = "declaration_id,fraud,date,officer,critical_level\nD1,yes,2021-04-01,mallory,2\nD2,no,2021-04-09,,\n";
    let today = NaiveDate::from_ymd_opt(2021, 5, 1).expect("date");
    let outcomes = feedback::read_outcomes(csv.as_bytes(), "fb.csv", &kim, today).expect("parse");
    assert_eq!(outcomes[0].officer, "mallory");
    assert_eq!(outcomes[1].officer, "officer.kim");
    feedback::record_all(&store, &kim, &outcomes).expect("record");
    // Issue 11: the officer column must not become the audit record's actor.
    let records = AuditLog::new(&store).records().expect("records");
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.user, "officer.kim");
        assert!(matches!(r.event(), Ok(AuditEvent::Governance(_))));
    }

    let bad = "declaration_id,fraud\nD3,maybe\n";
    let err = feedback::read_outcomes(bad.as_bytes(), "bad.csv", &kim, today).expect_err("bad");
    assert!(err.to_string().contains("bad.csv: line 2"), "{err}");

    let mut decls = rows("test", 2000);
    decls.truncate(3);
    let ids: Vec<String> = decls.iter().map(|d| d.declaration_id.to_string()).collect();
    let csv = format!(
        "declaration_id,fraud,date\n{},yes,2021-04-01\n{},no,2021-04-10\nUNKNOWN,no,2021-04-10\n",
        ids[0], ids[1]
    );
    let outcomes = feedback::read_outcomes(csv.as_bytes(), "fb2.csv", &kim, today).expect("parse");
    feedback::record_all(&store, &kim, &outcomes).expect("record");
    let since = NaiveDate::from_ymd_opt(2021, 4, 5).expect("date");
    let (joined, unmatched) =
        feedback::recorded_outcomes_since(&store, since, decls).expect("recorded");
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].declaration_id.as_str(), ids[1]);
    assert_eq!(joined[0].outcome.map(|o| o.fraud), Some(false));
    // D2 and UNKNOWN were decided since then but are not among the declarations.
    assert_eq!(unmatched, 2);
    assert!(matches!(
        audit::verify(&store).expect("verify"),
        Verification::Intact { records: 5, .. }
    ));
}

/// Lane selection at the application boundary: lanes within the capacities (floor of the share,
/// see `borderline_core::lane`), an analyst rule decides its declarations, model reasons only
/// for inspection lanes, every decision and the selection itself in the audit log as the acting
/// actor; then monitoring reads the outcomes recorded against those decisions.
#[test]
fn select_decides_lanes_with_rules_and_audits_them_then_monitor_reads_hit_rates() {
    use borderline_app::governance::{monitor, select};
    use borderline_app::targeting::Reasons;
    use borderline_governance::rules::{RuleSet, DECLARATION_FIELDS};
    use borderline_governance::selectivity::{Basis, Policy};
    use borderline_governance::Lane;

    let (a, _, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    let (ana, bob, kim) = (
        actor("analyst.ana"),
        actor("supervisor.bob"),
        actor("officer.kim"),
    );
    let entry = models::register(&store, &ana, &request(&a, None, None)).expect("register");
    let v = entry.model.version.clone();
    // Nothing active yet: selection is refused rather than done with an unapproved model.
    assert!(select::ActiveModel::load(&store).is_err());
    models::approve(&store, &bob, &v, "validated").expect("approve");
    models::activate(&store, &bob, &v).expect("activate");
    let active = select::ActiveModel::load(&store).expect("active");
    assert_eq!(active.entry.model.version, v);

    let batch = rows("test", 40);
    let n = batch.len();
    assert!(n > 100, "{n} declarations");
    let rules = RuleSet::parse(
        "rule \"never-seen\" priority 5 when importer_history == 0\nthen lane yellow reason \"importer never inspected\"\n",
        DECLARATION_FIELDS,
    )
    .expect("rules");
    let policy = Policy {
        red: 5.0,
        yellow: 10.0,
        blue: 0.0,
        random: 0.0,
        explore: 0.0,
        seed: 1,
    };
    let req = select::SelectRequest {
        declarations: &batch,
        subject: "test sample",
        rules: &rules,
        policy,
        valuation: None,
        screening: None,
        reasons: Reasons::default(),
    };
    let before = AuditLog::new(&store).records().expect("records").len();
    let out = select::select(&store, &kim, &active, &req).expect("select");
    assert_eq!(out.decisions.len(), n);
    assert_eq!(out.model_version, v);
    let red = out.lanes["red"];
    assert!(red <= n * 5 / 100, "{red} red of {n}");
    assert!(red > 0);
    // The rule decides the declarations of importers the model never saw inspected.
    for d in &out.decisions {
        if d.basis == Basis::Rule {
            assert_eq!(d.rule_id.as_deref(), Some("never-seen"));
            assert!(matches!(d.lane, Lane::Red | Lane::Yellow), "{d:?}");
        }
        let model_reasons = d
            .reasons
            .iter()
            .any(|r| r.kind == borderline_core::ReasonKind::Model);
        // Model reasons are computed for inspection lanes only.
        assert!(!model_reasons || d.lane.is_inspection(), "{d:?}");
    }
    assert!(out.decisions.iter().any(|d| d.lane == Lane::Red
        && d.reasons
            .iter()
            .any(|r| r.kind == borderline_core::ReasonKind::Model)));
    // Working order: inspection lanes first, by score rank.
    let order = out.working_order();
    assert!(out.decisions[order[0]].lane.is_inspection());
    // One decision per declaration and the selection record, as the acting officer.
    let records = AuditLog::new(&store).records().expect("records");
    assert_eq!(records.len(), before + n + 1);
    assert_eq!(out.audit_records.len(), n + 1);
    assert!(records[before..].iter().all(|r| r.user == "officer.kim"));
    assert!(matches!(
        audit::verify(&store).expect("verify"),
        Verification::Intact { .. }
    ));

    // Outcomes for the red declarations, then monitoring of the same period against itself:
    // no drift, and a hit rate for the red lane.
    let today = NaiveDate::from_ymd_opt(2021, 6, 1).expect("date");
    let reds: Vec<&str> = out
        .decisions
        .iter()
        .filter(|d| d.lane == Lane::Red)
        .map(|d| d.declaration_id.as_str())
        .collect();
    let csv = std::iter::once("declaration_id,fraud".to_string())
        .chain(reds.iter().map(|id| format!("{id},yes")))
        .collect::<Vec<_>>()
        .join("\n");
    let outcomes = feedback::read_outcomes(csv.as_bytes(), "fb.csv", &kim, today).expect("parse");
    feedback::record_all(&store, &kim, &outcomes).expect("record");
    let report =
        monitor::monitor(&store, monitor::Monitored::Active, &batch, &batch).expect("monitor");
    assert_eq!(report.model_version, v);
    assert_eq!(report.drifting().count(), 0);
    assert!(report.score.is_some_and(|p| p.value < 1e-9));
    let found: u64 = report
        .hit_rates
        .iter()
        .filter(|h| h.group == "lane red" && h.week == "all")
        .map(|h| h.frauds)
        .sum();
    assert_eq!(found, reds.len() as u64, "{:?}", report.hit_rates);
}
