//! The governance workflow of the application core, on the embedded SQLite store. It lives with
//! the store so that the application crate itself never depends on SQLite, even for tests.
//! The governance workflow at the application boundary (no binary): register with a model card,
//! four-eyes refusals (including the bypasses measured in issue 11), approve, activate, load the
//! active model (refused without one and with changed stored bytes), rollback, feedback recorded
//! in the acting actor's name, recorded outcomes since a date, audit verification; and one
//! regression test per bypass measured in issue 11 (`issue_11_*`), tampering through SQL on
//! the database as someone with a SQLite shell would.

#![allow(clippy::result_large_err)] // AppError carries context; moved only on failure

use borderline_app::governance::{audit, feedback, models, Actor};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_app::AppError;
use borderline_core::{Declaration, Lane};
use borderline_governance::audit::{
    AuditEvent, AuditLog, AuditRecord, Decision, Verification, GENESIS,
};
use borderline_governance::checkpoint::CheckpointFinding;
use borderline_governance::feedback::{FeedbackLog, Outcome};
use borderline_governance::registry::{ModelState, RegistryError};
use borderline_governance::replay::RegistryFinding;
use borderline_governance::selectivity::Basis;
use borderline_ingest::{read_all, Profile};
use borderline_store_sqlite::SqliteStore;
use chrono::NaiveDate;
use std::path::Path;
use std::sync::OnceLock;

fn rows(split: &str, every: usize) -> Vec<Declaration> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"));
    let profile = Profile::resolve("korea-customs").expect("profile");
    let (rows, _, _) = read_all(&path, profile).expect("bundled declarations");
    rows.into_iter().step_by(every).collect()
}

/// Two small models with different settings (so different ids), as artefact bytes; trained
/// once for all tests of this file.
fn artefacts() -> (Vec<u8>, Vec<u8>, Vec<Declaration>) {
    static TRAINED: OnceLock<(Vec<u8>, Vec<u8>, Vec<Declaration>)> = OnceLock::new();
    TRAINED.get_or_init(train_artefacts).clone()
}

fn train_artefacts() -> (Vec<u8>, Vec<u8>, Vec<Declaration>) {
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

/// Decision records for `ids` in the audit log, as `select` or the service would write them
/// (outcomes are accepted only for decided declarations).
fn decide(store: &SqliteStore, ids: &[&str]) {
    let events: Vec<AuditEvent> = ids
        .iter()
        .map(|id| {
            AuditEvent::Decision(Decision {
                declaration_id: (*id).to_string(),
                input_hash: "0".repeat(64),
                model_version: "m".into(),
                rules_version: "none".into(),
                score: 0.5,
                lane: Lane::Red,
                basis: Basis::Score,
                why: "test".into(),
                reasons: Vec::new(),
                subject: None,
            })
        })
        .collect();
    AuditLog::new(store)
        .append_all(&actor("officer.kim"), &events)
        .expect("decisions");
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
        audit::verify(&store).expect("verify").chain,
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
    assert_eq!(outcomes[0].reported_officer, "mallory");
    assert_eq!(outcomes[1].reported_officer, "officer.kim");
    decide(&store, &["D1", "D2"]);
    feedback::record_all(&store, &kim, &outcomes, today).expect("record");
    // Issue 11: the officer column must not become the audit record's actor.
    let records = AuditLog::new(&store).records().expect("records");
    assert_eq!(records.len(), 4);
    for r in &records[2..] {
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
        "declaration_id,fraud,date\n{},yes,2021-04-01\n{},no,2021-04-10\nELSEWHERE,no,2021-04-10\n",
        ids[0], ids[1]
    );
    // ELSEWHERE was decided here but is not among the declarations retraining reads.
    decide(&store, &[&ids[0], &ids[1], "ELSEWHERE"]);
    let outcomes = feedback::read_outcomes(csv.as_bytes(), "fb2.csv", &kim, today).expect("parse");
    feedback::record_all(&store, &kim, &outcomes, today).expect("record");
    let since = NaiveDate::from_ymd_opt(2021, 4, 5).expect("date");
    let (joined, unmatched) =
        feedback::recorded_outcomes_since(&store, since, decls).expect("recorded");
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].declaration_id.as_str(), ids[1]);
    assert_eq!(joined[0].outcome.map(|o| o.fraud), Some(false));
    // D2 and ELSEWHERE were decided since then but are not among the declarations.
    assert_eq!(unmatched, 2);
    // Five decisions and five outcomes, one chain.
    assert!(matches!(
        audit::verify(&store).expect("verify").chain,
        Verification::Intact { records: 10, .. }
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
        rules: select::Rules::Given(&rules),
        policy,
        valuation: None,
        screening: None,
        reasons: Reasons::default(),
        as_of: chrono::NaiveDate::from_ymd_opt(2021, 7, 1).expect("date"),
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
    // The chain holds and the registry replays from it.
    assert!(audit::verify(&store).expect("verify").holds());

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
    feedback::record_all(&store, &kim, &outcomes, today).expect("record");
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

// ------------------------------------------------------------------ issue 11 regressions

/// Registers `artefact` as `by` (trainer `trainer`), approves it as `approver` and activates it.
fn activated(store: &SqliteStore, artefact: &[u8], by: &str, approver: &str) -> String {
    let v = models::register(store, &actor(by), &request(artefact, None, None))
        .expect("register")
        .model
        .version;
    models::approve(store, &actor(approver), &v, "card reviewed").expect("approve");
    models::activate(store, &actor(approver), &v).expect("activate");
    v
}

#[test]
fn issue_11_registering_as_ana_naming_bob_as_trainer_does_not_let_ana_approve() {
    let (first, _, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    // `models register MODEL --user ana --trainer bob` then `models approve ID --user ana`.
    let e = models::register(&store, &actor("ana"), &request(&first, Some("bob"), None))
        .expect("register");
    assert_eq!(
        (e.model.trainer.as_str(), e.registered_by.as_str()),
        ("bob", "ana")
    );
    let v = e.model.version;
    for who in ["ana", "bob"] {
        assert!(
            four_eyes(models::approve(&store, &actor(who), &v, "fine")),
            "{who} approved"
        );
    }
    assert_eq!(
        models::card(&store, &v).expect("card").state,
        ModelState::Draft
    );
    let report = audit::verify(&store).expect("verify");
    assert!(report.holds(), "{report}");
    assert!(matches!(
        report.chain,
        Verification::Intact { records: 1, .. }
    ));
}

#[test]
fn issue_11_look_alike_approver_names_are_the_trainer() {
    let (first, _, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    let v = models::register(&store, &actor("ana"), &request(&first, None, None))
        .expect("register")
        .model
        .version;
    for look_alike in [
        "\u{0430}na",               // Cyrillic a
        "an\u{0430}",               // Cyrillic a at the end
        "a\u{200B}na",              // zero-width space
        "an\u{2060}a",              // word joiner
        "\u{FF41}\u{FF4E}\u{FF41}", // full-width letters
        "\u{FF21}NA",               // full-width capital
    ] {
        assert!(
            four_eyes(models::approve(&store, &actor(look_alike), &v, "fine")),
            "{look_alike:?} approved ana's model"
        );
    }
    assert_eq!(
        models::card(&store, &v).expect("card").state,
        ModelState::Draft
    );
}

#[test]
fn issue_11_a_model_made_active_in_the_database_is_reported_and_never_scores() {
    let (first, second, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    let draft = models::register(&store, &actor("ana"), &request(&second, None, None))
        .expect("register")
        .model
        .version;
    // `UPDATE models SET state = 'active'` on a draft nobody approved.
    store
        .raw_connection()
        .execute(
            "UPDATE models SET state = 'active' WHERE version = ?1",
            [&draft],
        )
        .expect("tamper");
    let report = audit::verify(&store).expect("verify");
    assert!(report.chain.is_intact(), "the chain itself was not touched");
    assert!(!report.holds(), "{report}");
    assert!(
        report.registry.contains(&RegistryFinding::Mismatch {
            version: draft.clone(),
            field: "state",
            recorded: "draft".into(),
            stored: "active".into(),
        }),
        "{report}"
    );
    // What select, a server's ActiveScorer and anything else that scores with the active
    // model load: refused.
    assert!(matches!(
        models::load_active(&store),
        Err(AppError::Registry(RegistryError::NotBackedByAudit { .. }))
    ));
    assert!(!models::artefact_status(Some(&store), &second)
        .expect("status")
        .is_active());

    // A legitimately active model swapped for the draft in the tables: refused as well.
    let store = SqliteStore::open_in_memory().expect("store");
    let approved = activated(&store, &first, "ana", "ben");
    let draft = models::register(&store, &actor("ana"), &request(&second, None, None))
        .expect("register")
        .model
        .version;
    store
        .raw_connection()
        .execute_batch(&format!(
            "UPDATE models SET state = 'retired' WHERE version = '{approved}';
             UPDATE models SET state = 'active', approved_by = 'ben' WHERE version = '{draft}';"
        ))
        .expect("tamper");
    assert!(matches!(
        models::load_active(&store),
        Err(AppError::Registry(RegistryError::NotBackedByAudit { version, .. })) if version == draft
    ));
    let findings = audit::verify(&store).expect("verify").registry;
    assert!(findings.len() >= 3, "{findings:?}");
}

fn findings_against(store: &SqliteStore, witness: &audit::Witness) -> Vec<CheckpointFinding> {
    audit::verify_with(store, Some(witness))
        .expect("verify")
        .checkpoints
        .expect("witness checked")
        .findings
}

#[test]
fn issue_11_an_emptied_or_rewritten_audit_log_is_found_against_a_signed_checkpoint() {
    let (first, _, _) = artefacts();
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("checkpoint.key");
    let files = audit::keygen(&key).expect("keygen");
    assert!(audit::keygen(&key).is_err(), "a key is never overwritten");
    let witness = audit::Witness {
        file: dir.path().join("witness.jsonl"),
        public_key: files.public_key.clone(),
    };
    let setup = || {
        let store = SqliteStore::open_in_memory().expect("store");
        activated(&store, &first, "ana", "ben");
        store
    };
    let store = setup();
    let cp = audit::checkpoint(&store, &key, &witness.file).expect("checkpoint");
    assert_eq!(cp.length, 3);
    let report = audit::verify_with(&store, Some(&witness)).expect("verify");
    assert!(report.holds(), "{report}");
    // The key is not in the database.
    let key_text = std::fs::read_to_string(&key).expect("key");
    let in_db: i64 = store
        .raw_connection()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE body LIKE '%' || ?1 || '%'",
            [key_text.trim()],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(in_db, 0);

    // Emptied: `DROP TRIGGER ...; DELETE FROM audit_log` ("intact: 0 records" by itself).
    let w2 = audit::Witness {
        file: dir.path().join("w2.jsonl"),
        public_key: files.public_key.clone(),
    };
    let store2 = setup();
    audit::checkpoint(&store2, &key, &w2.file).expect("checkpoint");
    store2
        .raw_connection()
        .execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log;")
        .expect("tamper");
    let report = audit::verify_with(&store2, Some(&w2)).expect("verify");
    assert!(matches!(
        report.chain,
        Verification::Intact { records: 0, .. }
    ));
    assert!(!report.holds(), "{report}");
    assert!(matches!(
        findings_against(&store2, &w2)[..],
        [CheckpointFinding::Truncated {
            length: 3,
            chain_length: 0,
            ..
        }]
    ));

    // Tail truncation: the last record removed.
    store
        .raw_connection()
        .execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;")
        .expect("tamper");
    assert!(matches!(
        findings_against(&store, &witness)[..],
        [CheckpointFinding::Truncated {
            length: 3,
            chain_length: 2,
            ..
        }]
    ));

    // A full rewrite with recomputed hashes (the formula is documented): the approver is
    // changed in the chain and the tables alike, so the chain and the registry agree.
    let store3 = setup();
    let w3 = audit::Witness {
        file: dir.path().join("w3.jsonl"),
        public_key: files.public_key.clone(),
    };
    audit::checkpoint(&store3, &key, &w3.file).expect("checkpoint");
    let mut forged: Vec<AuditRecord> = Vec::new();
    for r in AuditLog::new(&store3).records().expect("records") {
        let mut f = r.clone();
        if f.user == "ben" {
            f.user = "zoe".into();
        }
        f.prev_hash = forged
            .last()
            .map_or(GENESIS.to_string(), |p: &AuditRecord| p.hash.clone());
        f.hash = f.computed_hash();
        forged.push(f);
    }
    {
        let conn = store3.raw_connection();
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log; UPDATE models SET approved_by = 'zoe';",
        )
        .expect("tamper");
        for r in &forged {
            conn.execute(
                "INSERT INTO audit_log (seq, recorded_at, user, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![r.seq as i64, r.recorded_at, r.user, r.kind, r.body, r.prev_hash, r.hash],
            )
            .expect("insert");
        }
    }
    let without_witness = audit::verify(&store3).expect("verify");
    assert!(
        without_witness.holds(),
        "the rewrite is consistent by itself"
    );
    let report = audit::verify_with(&store3, Some(&w3)).expect("verify");
    assert!(!report.holds(), "{report}");
    assert!(matches!(
        report.checkpoints.expect("checked").findings[..],
        [CheckpointFinding::Rewritten { seq: 3, .. }]
    ));

    // A checkpoint signed by another key does not vouch.
    let other = audit::keygen(&dir.path().join("other.key")).expect("keygen");
    let foreign = audit::Witness {
        file: witness.file.clone(),
        public_key: other.public_key,
    };
    assert!(matches!(
        findings_against(&store, &foreign)[..],
        [CheckpointFinding::BadSignature { .. }]
    ));
    // The truncated store is not checkpointed (its registry no longer agrees with the chain),
    // nor is a broken chain.
    assert!(audit::checkpoint(&store, &key, &dir.path().join("w4.jsonl")).is_err());
    let store = setup();
    assert!(audit::checkpoint(&store, &key, &dir.path().join("w4.jsonl")).is_ok());
    store
        .raw_connection()
        .execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update; UPDATE audit_log SET user = 'x' WHERE seq = 1;")
        .expect("tamper");
    assert!(audit::checkpoint(&store, &key, &dir.path().join("w5.jsonl")).is_err());
}

#[test]
fn issue_11_feedback_import_officer_column_is_reported_never_the_actor() {
    let store = SqliteStore::open_in_memory().expect("store");
    let kim = actor("officer.kim");
    let csv = "declaration_id,fraud,officer\nD1,yes,mallory\n";
    let today = NaiveDate::from_ymd_opt(2021, 5, 1).expect("date");
    decide(&store, &["D1"]);
    let outcomes = feedback::read_outcomes(csv.as_bytes(), "fb.csv", &kim, today).expect("parse");
    feedback::record_all(&store, &kim, &outcomes, today).expect("record");
    let records = AuditLog::new(&store).records().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].user, "officer.kim");
    let Ok(AuditEvent::Governance(g)) = records[1].event() else {
        panic!("a governance record");
    };
    assert_eq!(g.detail["reported_officer"], "mallory");
    assert!(
        g.detail.get("officer").is_none(),
        "the file's officer must not read as who acted: {}",
        g.detail
    );
    assert!(
        !records[0].body.contains("\"officer\""),
        "{}",
        records[0].body
    );
}

#[test]
fn issue_11_scoring_with_an_unregistered_model_is_marked() {
    let (first, second, _) = artefacts();
    // No store given: unregistered.
    assert_eq!(
        models::artefact_status(None, &first).expect("status"),
        models::ModelStatus::Unregistered
    );
    let store = SqliteStore::open_in_memory().expect("store");
    assert_eq!(
        models::artefact_status(Some(&store), &first)
            .expect("status")
            .label(),
        "unregistered"
    );
    let v = activated(&store, &first, "ana", "ben");
    assert_eq!(
        models::artefact_status(Some(&store), &first).expect("status"),
        models::ModelStatus::Active { version: v }
    );
    // Any other file, even a registered draft, is not the active approved model.
    assert_eq!(
        models::artefact_status(Some(&store), &second).expect("status"),
        models::ModelStatus::Unregistered
    );
    models::register(&store, &actor("ana"), &request(&second, None, None)).expect("register");
    let status = models::artefact_status(Some(&store), &second).expect("status");
    assert_eq!(status.label(), "registered-not-active");
    assert!(!status.is_active());
}

/// Issue 14: the issue's implausible declarations (0 kg, a value of 1e300, HS 999999, origin
/// ZZ, dated 9999-12-31) each get their data-quality reason in `select`, whatever their lane,
/// recorded with the decision in the audit log.
#[test]
fn issue_14_select_gives_each_implausible_declaration_its_data_quality_reason() {
    use borderline_app::governance::select;
    use borderline_app::targeting::Reasons;
    use borderline_governance::rules::{RuleSet, DECLARATION_FIELDS};
    use borderline_governance::selectivity::Policy;

    let (a, _, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    activated(&store, &a, "analyst.ana", "supervisor.bob");
    let active = select::ActiveModel::load(&store).expect("active");
    let mut batch = rows("test", 200);
    batch.truncate(10);
    let codes = [
        "quality.zero_mass",
        "quality.absurd_value",
        "quality.unknown_hs_code",
        "quality.unknown_origin",
        "quality.future_date",
    ];
    batch[0].net_mass_kg = Some(0.0);
    batch[1].customs_value = Some(1e300);
    batch[2].hs_code = borderline_core::HsCode::parse("999999").expect("six digits");
    batch[3].origin_country = "ZZ".into();
    batch[4].date = NaiveDate::from_ymd_opt(9999, 12, 31).expect("date");
    let rules = RuleSet::parse("", DECLARATION_FIELDS).expect("no rules");
    let req = select::SelectRequest {
        declarations: &batch,
        subject: "implausible",
        rules: select::Rules::Given(&rules),
        policy: Policy {
            red: 5.0,
            yellow: 10.0,
            blue: 0.0,
            random: 0.0,
            explore: 0.0,
            seed: 1,
        },
        valuation: None,
        screening: None,
        reasons: Reasons::default(),
        as_of: NaiveDate::from_ymd_opt(2021, 7, 1).expect("date"),
    };
    let out = select::select(&store, &actor("officer.kim"), &active, &req).expect("select");
    for (i, code) in codes.iter().enumerate() {
        let d = &out.decisions[i];
        assert!(
            d.reasons
                .iter()
                .any(|r| r.code == *code && r.kind == borderline_core::ReasonKind::DataQuality),
            "{code}: {:?}",
            d.reasons
        );
    }
}

#[test]
fn stream_messages_are_decided_once_per_model_version_and_malformed_ones_rejected() {
    use borderline_app::governance::select::ActiveModel;
    use borderline_app::stream::{self, Outcome, StreamPolicy};
    use borderline_app::targeting::Reasons;

    let (a, b, _) = artefacts();
    let store = SqliteStore::open_in_memory().expect("store");
    let (ana, bob, worker) = (
        actor("analyst.ana"),
        actor("supervisor.bob"),
        actor("worker.1"),
    );
    let v1 = models::register(&store, &ana, &request(&a, None, None))
        .expect("register")
        .model
        .version;
    let v2 = models::register(&store, &ana, &request(&b, None, None))
        .expect("register")
        .model
        .version;
    for v in [&v1, &v2] {
        models::approve(&store, &bob, v, "validated").expect("approve");
    }
    models::activate(&store, &bob, &v1).expect("activate");
    let policy = StreamPolicy {
        reasons: Reasons {
            method: None,
            top: 0,
        },
        ..StreamPolicy::default()
    };
    let as_of = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
    let active = stream::refresh(&store, None).expect("active");
    let d = &rows("test", 500)[0];
    let msg = stream::encode_declaration(d).expect("encode");
    assert_eq!(
        &stream::parse_message(&msg).expect("parse"),
        &Declaration {
            outcome: None,
            ..d.clone()
        }
    );

    let before = AuditLog::new(&store).len().expect("len");
    let first =
        stream::decide_message(&store, &worker, &active, policy, &msg, as_of).expect("decide");
    let Outcome::Decided(first) = first else {
        panic!("not decided: {first:?}")
    };
    assert_eq!(first.model_version, v1);
    assert!(first.lane.is_some());
    let again =
        stream::decide_message(&store, &worker, &active, policy, &msg, as_of).expect("again");
    assert!(
        matches!(&again, Outcome::Duplicate(s) if s.audit_seq == first.audit_seq),
        "{again:?}"
    );
    assert_eq!(AuditLog::new(&store).len().expect("len"), before + 1);

    // Activation reaches a running worker at its next refresh; the declaration is decided anew.
    models::activate(&store, &bob, &v2).expect("activate v2");
    let active: ActiveModel = stream::refresh(&store, Some(active)).expect("refresh");
    assert_eq!(active.entry.model.version, v2);
    let third = stream::decide_message(&store, &worker, &active, policy, &msg, as_of).expect("v2");
    assert!(
        matches!(&third, Outcome::Decided(s) if s.model_version == v2),
        "{third:?}"
    );

    for (bad, why) in [
        (&b"{not json"[..], "not JSON"),
        (&br#"{"declaration_id": "X-1"}"#[..], "not a declaration"),
    ] {
        match stream::decide_message(&store, &worker, &active, policy, bad, as_of).expect("reject")
        {
            Outcome::Rejected(r) => assert!(r.reason.contains(why), "{}", r.reason),
            other => panic!("accepted {bad:?}: {other:?}"),
        }
    }
    assert!(AuditLog::new(&store).verify().expect("verify").is_intact());
}

/// Issue 14: feedback was accepted for declaration ids nothing decided and for dates in 2099.
/// An outcome joins a recorded decision to what the inspection found: for an id with no
/// decision in the audit log, or a day that cannot have happened, the whole import is refused
/// naming file, line and column, and nothing is recorded.
#[test]
fn issue_14_feedback_for_undecided_declarations_or_impossible_dates_is_refused() {
    let store = SqliteStore::open_in_memory().expect("store");
    let kim = actor("officer.kim");
    let today = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
    decide(&store, &["D1", "D2"]);
    let decided = AuditLog::new(&store).len().expect("len");

    let import = |csv: &str| feedback::import(&store, &kim, csv.as_bytes(), "fb.csv", today);
    let err = import("declaration_id,fraud,date\nD1,yes,2026-12-01\nNOPE-7,no,2026-12-01\n")
        .expect_err("unknown id");
    let msg = err.to_string();
    assert!(
        msg.contains("fb.csv: line 3: declaration_id") && msg.contains("NOPE-7"),
        "{msg}"
    );
    assert!(msg.contains("no decision"), "{msg}");
    let err = import("declaration_id,fraud,date\nD1,yes,2099-01-01\n").expect_err("2099");
    let msg = err.to_string();
    assert!(
        msg.contains("fb.csv: line 2: date 2099-01-01 is in the future"),
        "{msg}"
    );
    let err = import("declaration_id,fraud,date\nD2,no,1969-12-31\n").expect_err("1969");
    assert!(err.to_string().contains("line 2: date 1969-12-31"), "{err}");
    // All or none: nothing of a refused file was recorded.
    assert_eq!(AuditLog::new(&store).len().expect("len"), decided);
    assert!(FeedbackLog::new(&store).all().expect("all").is_empty());

    // One outcome at a time (the CLI's `feedback record`, the service's POST /v1/outcomes):
    // the error names the outcome's field.
    let outcome = |id: &str, day: NaiveDate| Outcome {
        declaration_id: id.into(),
        decided_on: day,
        decision: "inspected".into(),
        fraud: false,
        critical_level: 0,
        amount_recovered: None,
        note: None,
        reported_officer: "officer.kim".into(),
    };
    let far = NaiveDate::from_ymd_opt(2099, 1, 1).expect("date");
    assert!(matches!(
        feedback::record(&store, &kim, &outcome("NOPE-7", today), today),
        Err(AppError::Field { ref field, .. }) if field == "declaration_id"
    ));
    assert!(matches!(
        feedback::record(&store, &kim, &outcome("D1", far), today),
        Err(AppError::Field { ref field, .. }) if field == "decided_on"
    ));
    assert!(matches!(
        feedback::record_all(&store, &kim, &[outcome("D1", today), outcome("D2", far)], today),
        Err(AppError::Field { ref field, .. }) if field == "[1].decided_on"
    ));
    assert!(FeedbackLog::new(&store).all().expect("all").is_empty());

    // Decided declarations, dated up to the time-zone tolerance ahead, are recorded.
    let tomorrow = today.succ_opt().expect("date");
    let ids = import("declaration_id,fraud,date\nD1,yes,2026-12-01\n\nD2,no,2026-12-06\n")
        .expect("decided declarations");
    assert_eq!(ids.len(), 2);
    feedback::record(&store, &kim, &outcome("D1", tomorrow), today).expect("record");
    assert_eq!(FeedbackLog::new(&store).all().expect("all").len(), 3);
}

/// The decided-declaration check of feedback reads the decision index, but trusts only the
/// audit record the index row names: a row planted in the index alone (here pointing at the
/// decision on another declaration) makes nothing decided.
#[test]
fn feedback_trusts_the_audit_record_behind_the_decision_index_not_the_index_alone() {
    let store = SqliteStore::open_in_memory().expect("store");
    let kim = actor("officer.kim");
    let today = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
    decide(&store, &["D1"]);
    store
        .raw_connection()
        .execute_batch(
            "INSERT INTO decision_index (declaration_id, audit_seq, lane_rank, score, basis)
             SELECT 'PLANTED-1', audit_seq, lane_rank, score, basis FROM decision_index
             WHERE declaration_id = 'D1'",
        )
        .expect("plant an index row");
    let err = feedback::import(
        &store,
        &kim,
        "declaration_id,fraud,date\nD1,no,2026-12-01\nPLANTED-1,yes,2026-12-01\n".as_bytes(),
        "fb.csv",
        today,
    )
    .expect_err("planted row");
    assert!(
        err.to_string().contains("fb.csv: line 3: declaration_id"),
        "{err}"
    );
    assert!(FeedbackLog::new(&store).all().expect("all").is_empty());
    feedback::import(
        &store,
        &kim,
        "declaration_id,fraud,date\nD1,no,2026-12-01\n".as_bytes(),
        "fb.csv",
        today,
    )
    .expect("the decided declaration");
}
