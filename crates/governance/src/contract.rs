//! The contract every governance store must pass (feature `contract`).
//!
//! A store implementation runs [`run_all`] from its own tests with a function that makes a
//! fresh, empty store. The store also implements [`Tamper`]: what someone with raw access to
//! its storage could do (or try), so the suite can check that the store refuses ordinary
//! rewrites and that the hash chain detects forced ones, whatever the engine.
//!
//! The suite panics with the name of the failing check.

use crate::actor::Actor;
use crate::audit::{
    AuditEvent, AuditLog, AuditRecord, Break, GovernanceAction, Verification, GENESIS,
};
use crate::checkpoint::{CheckpointFinding, CheckpointKey};
use crate::feedback::{FeedbackError, FeedbackLog, Outcome};
use crate::identity::{token_sha256, Identity, IdentityError, NewAccount, Principal, TOKEN_PREFIX};
use crate::integrity::verify_store;
use crate::registry::{
    sha256_hex, GroupPerformance, ModelCard, ModelState, NewModel, Registry, RegistryError,
};
use crate::replay::RegistryFinding;
use crate::rulebook::{RuleSetState, Rulebook, RulebookError};
use crate::rules::DECLARATION_FIELDS;
use crate::store::GovernanceStore;
use crate::Role;
use chrono::NaiveDate;

/// Raw access to a store's records, as someone with the database (not the API) has it.
pub trait Tamper {
    /// Tries to change the `user` of audit record `seq` the ordinary way (the store's
    /// protections left in place). Returns true when the store refused.
    fn try_rewrite_audit(&self, seq: u64) -> bool;
    /// Tries to delete audit record `seq` the ordinary way. Returns true when refused.
    fn try_delete_audit(&self, seq: u64) -> bool;
    /// Lifts the protections and changes one byte of the body of audit record `seq`.
    fn force_change_audit_byte(&self, seq: u64);
    /// Lifts the protections and deletes audit record `seq`.
    fn force_delete_audit(&self, seq: u64);
    /// Lifts the protections and exchanges the sequence numbers of records `a` and `b`.
    fn force_swap_audit(&self, a: u64, b: u64);
    /// Lifts the protections and changes one byte of the stored artefact with this hash.
    fn force_change_artefact(&self, sha256: &str);
    /// Sets the registry state of a model directly (`UPDATE models SET state = ...`), as
    /// someone with a database shell could.
    fn force_set_model_state(&self, version: &str, state: &str);
    /// Lifts the protections and replaces the whole audit log with `records` (an empty slice
    /// empties it; records with recomputed hashes are a full rewrite).
    fn force_replace_audit(&self, records: &[AuditRecord]);
    /// Sets the state of a rule set directly (`UPDATE rule_sets SET state = ...`).
    fn force_set_rule_set_state(&self, version: &str, state: &str);
}

/// Runs every check, each on a fresh store from `make_store`.
pub fn run_all<S: GovernanceStore + Tamper>(make_store: impl Fn() -> S) {
    type Check<S> = (&'static str, fn(&S));
    let checks: [Check<S>; 26] = [
        ("audit_is_append_only", audit_is_append_only),
        ("chain_detects_a_changed_byte", chain_detects_a_changed_byte),
        (
            "chain_detects_a_deleted_record",
            chain_detects_a_deleted_record,
        ),
        ("chain_detects_a_swap", chain_detects_a_swap),
        ("lifecycle_with_an_audit_record_per_step", lifecycle),
        ("four_eyes", four_eyes),
        (
            "invalid_transitions_and_retire",
            invalid_transitions_and_retire,
        ),
        (
            "one_active_model_and_rollback",
            one_active_model_and_rollback,
        ),
        ("artefact_hash_refusal", artefact_hash_refusal),
        ("feedback_validation", feedback_validation),
        (
            "feedback_audited_as_the_acting_actor",
            feedback_audited_as_actor,
        ),
        (
            "latest_feedback_per_declaration_since",
            latest_feedback_since,
        ),
        (
            "latest_feedback_of_named_declarations_only",
            latest_feedback_of,
        ),
        (
            "registry_state_is_derivable_from_the_chain",
            registry_derivable_from_chain,
        ),
        (
            "registry_tampering_is_found_and_refused",
            registry_tampering_found_and_refused,
        ),
        (
            "checkpoints_detect_truncation_emptying_and_rewrite",
            checkpoints_detect_truncation_emptying_and_rewrite,
        ),
        (
            "accounts_bootstrap_once_and_audit_the_actor",
            accounts_bootstrap_once,
        ),
        ("tokens_authenticate_until_revoked", tokens_until_revoked),
        (
            "a_declaration_is_decided_once_per_model_version",
            decided_once_per_model_version,
        ),
        (
            "a_batch_of_decisions_is_written_together_and_once",
            batch_of_decisions_written_together_and_once,
        ),
        (
            "the_decision_index_filters_orders_and_pages",
            decision_index_filters_orders_and_pages,
        ),
        (
            "the_rule_filter_follows_each_declarations_latest_decision",
            rule_filter_follows_latest_decision,
        ),
        (
            "a_case_is_worked_by_one_officer_at_a_time",
            case_worked_by_one_officer_at_a_time,
        ),
        (
            "capacity_ledger_per_office_and_window",
            capacity_ledger_per_office_and_window,
        ),
        (
            "rule_sets_four_eyes_one_active_backed_by_the_chain",
            rule_sets_governed,
        ),
        (
            "the_supplier_network_keeps_each_link_once_and_the_latest_screening",
            supplier_network_links_and_screenings,
        ),
    ];
    for (name, check) in checks {
        let store = make_store();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&store)));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("store contract check {name} failed: {msg}");
        }
    }
}

fn actor(id: &str) -> Actor {
    Actor::new(id).expect("actor id")
}

fn event(i: usize) -> AuditEvent {
    AuditEvent::Governance(GovernanceAction {
        action: "test.event".into(),
        subject: format!("DECL-{i:04}"),
        detail: serde_json::json!({"lane": "green", "i": i}),
    })
}

fn with_events(store: &dyn GovernanceStore, n: usize) {
    let events: Vec<AuditEvent> = (1..=n).map(event).collect();
    AuditLog::new(store)
        .append_all(&actor("officer.kim"), &events)
        .expect("append");
}

fn broken_at(store: &dyn GovernanceStore) -> (u64, Break) {
    match AuditLog::new(store).verify().expect("verify") {
        Verification::Broken { seq, problem, .. } => (seq, problem),
        ok => panic!("tampering not detected: {ok}"),
    }
}

fn audit_is_append_only<S: GovernanceStore + Tamper>(store: &S) {
    with_events(store, 5);
    let log = AuditLog::new(store);
    let records = log.records().expect("records");
    assert_eq!(records.len(), 5);
    assert_eq!(records[0].prev_hash, GENESIS);
    for w in records.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
    assert_eq!(records[2].user, "officer.kim");
    assert_eq!(records[2].event().expect("parses"), event(3));
    assert!(
        store.try_rewrite_audit(2),
        "the store let a record be rewritten"
    );
    assert!(
        store.try_delete_audit(5),
        "the store let a record be deleted"
    );
    assert_eq!(
        log.verify().expect("verify"),
        Verification::Intact {
            records: 5,
            head: records[4].hash.clone()
        }
    );
}

fn chain_detects_a_changed_byte<S: GovernanceStore + Tamper>(store: &S) {
    with_events(store, 10);
    store.force_change_audit_byte(7);
    assert_eq!(broken_at(store), (7, Break::Altered));
}

fn chain_detects_a_deleted_record<S: GovernanceStore + Tamper>(store: &S) {
    with_events(store, 10);
    store.force_delete_audit(4);
    assert_eq!(broken_at(store), (4, Break::Missing));
}

fn chain_detects_a_swap<S: GovernanceStore + Tamper>(store: &S) {
    with_events(store, 10);
    store.force_swap_audit(3, 8);
    assert_eq!(broken_at(store), (3, Break::Unlinked));
}

fn model(version: &str, trainer: &str) -> NewModel {
    NewModel {
        version: version.into(),
        trainer: trainer.into(),
        artefact_sha256: String::new(),
        data_fingerprint: "sha256:00".into(),
        parameters: serde_json::json!({"learning_rate": 0.05}),
        metrics: serde_json::json!({"auc": 0.91}),
        card: ModelCard {
            intended_use: "rank import declarations for inspection".into(),
            data: "KCS synthetic 2020".into(),
            limits: "not for export declarations".into(),
            evaluated_on: Some("2021-Q1".into()),
            performance_by_office: vec![GroupPerformance {
                group: "40".into(),
                declarations: 100,
                frauds: 20,
                auc: Some(0.9),
                precision_at_10: Some(0.8),
            }],
            performance_by_origin: Vec::new(),
        },
    }
}

fn artefact_of(version: &str) -> Vec<u8> {
    format!("{{\"model_id\":\"{version}\"}}").into_bytes()
}

fn register(reg: &Registry, version: &str, trainer: &str, by: &str) {
    reg.register(&model(version, trainer), &artefact_of(version), &actor(by))
        .expect("register");
}

fn state(reg: &Registry, v: &str) -> ModelState {
    reg.get(v).expect("read").expect("registered").state
}

fn actions(store: &dyn GovernanceStore) -> Vec<String> {
    AuditLog::new(store)
        .records()
        .expect("records")
        .into_iter()
        .filter_map(|r| match r.event() {
            Ok(AuditEvent::Governance(g)) => {
                Some(format!("{} {} by {}", g.action, g.subject, r.user))
            }
            _ => None,
        })
        .collect()
}

fn lifecycle<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    let e = reg
        .register(&model("m1", "ana"), &artefact_of("m1"), &actor("ana"))
        .expect("register");
    assert_eq!(e.state, ModelState::Draft);
    assert_eq!(e.model.artefact_sha256, sha256_hex(&artefact_of("m1")));
    assert_eq!(e.model.card.performance_by_office[0].group, "40");
    assert!(matches!(
        reg.require_active(),
        Err(RegistryError::NoActiveModel)
    ));
    let e = reg
        .approve("m1", &actor("ben"), "AUC 0.91 on 2021-Q1, card reviewed")
        .expect("approve");
    assert_eq!(
        (e.state, e.approved_by.as_deref()),
        (ModelState::Approved, Some("ben"))
    );
    assert_eq!(reg.activate("m1", &actor("ben")).expect("activate"), None);
    assert_eq!(reg.require_active().expect("active").model.version, "m1");
    assert_eq!(reg.get("m1").expect("read").expect("m1"), {
        let mut listed = reg.list().expect("list");
        assert_eq!(listed.len(), 1);
        listed.remove(0)
    });
    reg.retire("m1", &actor("ben"), "end of pilot")
        .expect("retire");
    assert_eq!(state(&reg, "m1"), ModelState::Retired);
    assert!(reg.active().expect("read").is_none());
    // A refused action writes nothing, in the registry or the audit log.
    assert!(matches!(
        reg.register(&model("m1", "ana"), &artefact_of("m1"), &actor("ana")),
        Err(RegistryError::AlreadyRegistered(_))
    ));
    assert_eq!(
        actions(store),
        [
            "model.register m1 by ana",
            "model.approve m1 by ben",
            "model.activate m1 by ben",
            "model.retire m1 by ben"
        ]
    );
    assert!(matches!(
        AuditLog::new(store).verify().expect("verify"),
        Verification::Intact { records: 4, .. }
    ));
}

fn four_eyes<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    register(&reg, "m1", "ana", "ana");
    // Case, spaces, zero-width and format characters, full-width letters, Cyrillic look-alikes.
    for same in [
        "ana",
        "ANA",
        " ana ",
        "a na",
        "an\u{200B}a",
        "\u{FF41}\u{FF4E}\u{FF41}",
        "\u{0430}n\u{0430}",
    ] {
        match reg.approve("m1", &actor(same), "looks good") {
            Err(RegistryError::FourEyes { version, .. }) => assert_eq!(version, "m1"),
            other => panic!("expected a four-eyes refusal for {same:?}, got {other:?}"),
        }
    }
    assert_eq!(state(&reg, "m1"), ModelState::Draft);
    assert_eq!(actions(store), ["model.register m1 by ana"]);
    assert!(matches!(
        reg.approve("m1", &actor("ben"), "  "),
        Err(RegistryError::ReasonRequired(_))
    ));
    reg.approve("m1", &actor("ben"), "independent review")
        .expect("approve");

    // The registering actor counts as a trainer: naming someone else as trainer does not
    // let the registrant approve.
    register(&reg, "m2", "bob", "ana");
    for who in ["ana", "Ana", "bob"] {
        assert!(
            matches!(
                reg.approve("m2", &actor(who), "ok"),
                Err(RegistryError::FourEyes { .. })
            ),
            "{who} approved m2"
        );
    }
    reg.approve("m2", &actor("cho"), "independent review")
        .expect("approve");
}

fn invalid_transitions_and_retire<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    register(&reg, "m1", "ana", "ana");
    assert!(matches!(
        reg.activate("m1", &actor("ben")),
        Err(RegistryError::InvalidTransition {
            from: ModelState::Draft,
            to: ModelState::Active,
            ..
        })
    ));
    reg.approve("m1", &actor("ben"), "ok").expect("approve");
    assert!(matches!(
        reg.approve("m1", &actor("cho"), "again"),
        Err(RegistryError::InvalidTransition {
            from: ModelState::Approved,
            ..
        })
    ));
    reg.retire("m1", &actor("ben"), "withdrawn")
        .expect("retire");
    assert!(matches!(
        reg.activate("m1", &actor("ben")),
        Err(RegistryError::InvalidTransition {
            from: ModelState::Retired,
            ..
        })
    ));
    assert!(matches!(
        reg.retire("m1", &actor("ben"), "again"),
        Err(RegistryError::InvalidTransition { .. })
    ));
    assert!(matches!(
        reg.activate("nope", &actor("ben")),
        Err(RegistryError::UnknownModel(_))
    ));
}

fn one_active_model_and_rollback<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    let ben = actor("ben");
    for v in ["m1", "m2", "m3"] {
        register(&reg, v, "ana", "ana");
        reg.approve(v, &ben, "ok").expect("approve");
    }
    assert!(matches!(
        reg.rollback(&ben, "x"),
        Err(RegistryError::NothingActiveToRollBack)
    ));
    reg.activate("m1", &ben).expect("activate");
    assert!(matches!(
        reg.rollback(&ben, "x"),
        Err(RegistryError::NothingToRollBackTo)
    ));
    assert_eq!(
        reg.activate("m2", &ben).expect("activate"),
        Some("m1".into())
    );
    assert_eq!(
        reg.activate("m3", &ben).expect("activate"),
        Some("m2".into())
    );
    let active: Vec<String> = reg
        .list()
        .expect("list")
        .into_iter()
        .filter(|m| m.state == ModelState::Active)
        .map(|m| m.model.version)
        .collect();
    assert_eq!(active, ["m3"]);
    let cho = actor("cho");
    // Withdrawing a model, by roll-back or retirement, is recorded with its reason.
    for blank in ["", " \t\u{c}"] {
        assert!(matches!(
            reg.rollback(&cho, blank),
            Err(RegistryError::ReasonRequired(v)) if v == "m3"
        ));
        assert!(matches!(
            reg.retire("m1", &cho, blank),
            Err(RegistryError::ReasonRequired(v)) if v == "m1"
        ));
    }
    assert_eq!(reg.require_active().expect("active").model.version, "m3");
    assert_eq!(
        reg.rollback(&cho, "drift alert on m3").expect("rollback"),
        ("m3".into(), "m2".into())
    );
    assert_eq!(reg.require_active().expect("active").model.version, "m2");
    // m3 was withdrawn, not superseded: the next rollback goes to m1, not back to m3.
    assert_eq!(
        reg.rollback(&cho, "again").expect("rollback"),
        ("m2".into(), "m1".into())
    );
    assert!(matches!(
        reg.rollback(&cho, "again"),
        Err(RegistryError::NothingToRollBackTo)
    ));
    assert_eq!(state(&reg, "m3"), ModelState::Retired);
    assert!(actions(store).contains(&"model.rollback m2 by cho".to_string()));
}

fn artefact_hash_refusal<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    register(&reg, "m1", "ana", "ana");
    reg.approve("m1", &actor("ben"), "ok").expect("approve");
    reg.activate("m1", &actor("ben")).expect("activate");
    let (entry, bytes) = reg.active_artefact().expect("intact artefact");
    assert_eq!(bytes, artefact_of("m1"));
    store.force_change_artefact(&entry.model.artefact_sha256);
    assert!(matches!(
        reg.active_artefact(),
        Err(RegistryError::ArtefactChanged { .. })
    ));
    assert!(matches!(
        reg.artefact("m1"),
        Err(RegistryError::ArtefactChanged { .. })
    ));
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 4, d).expect("date")
}

fn outcome(id: &str, d: u32, fraud: bool) -> Outcome {
    Outcome {
        declaration_id: id.into(),
        decided_on: day(d),
        decision: "inspected".into(),
        fraud,
        critical_level: u8::from(fraud),
        amount_recovered: fraud.then_some(125_000.0),
        note: None,
        reported_officer: "officer.kim".into(),
    }
}

fn feedback_validation<S: GovernanceStore + Tamper>(store: &S) {
    let fb = FeedbackLog::new(store);
    let mut critical_without_fraud = outcome("B", 1, false);
    critical_without_fraud.critical_level = 2;
    let mut negative = outcome("C", 1, true);
    negative.amount_recovered = Some(-5.0);
    let mut fraud_without_level = outcome("E", 1, true);
    fraud_without_level.critical_level = 0;
    let mut nobody = outcome("D", 1, true);
    nobody.reported_officer = " ".into();
    let mut level_3 = outcome("F", 1, true);
    level_3.critical_level = 3;
    for bad in [
        critical_without_fraud,
        negative,
        fraud_without_level,
        nobody,
        level_3,
        outcome("", 1, true),
    ] {
        let err = fb
            .record_all(&[outcome("A", 1, true), bad.clone()], &actor("kim"))
            .expect_err("refused");
        assert!(matches!(err, FeedbackError::Invalid { .. }), "{bad:?}");
    }
    assert!(fb.all().expect("all").is_empty());
    assert_eq!(AuditLog::new(store).len().expect("len"), 0);
}

fn feedback_audited_as_actor<S: GovernanceStore + Tamper>(store: &S) {
    let fb = FeedbackLog::new(store);
    // The outcome names the inspecting officer; the audit record names who recorded it.
    let mut o = outcome("A", 1, true);
    o.reported_officer = "someone.else".into();
    fb.record_all(&[o], &actor("officer.kim")).expect("record");
    let records = AuditLog::new(store).records().expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].user, "officer.kim");
    assert_eq!(
        fb.all().expect("all")[0].outcome.reported_officer,
        "someone.else"
    );
}

fn latest_feedback_since<S: GovernanceStore + Tamper>(store: &S) {
    let fb = FeedbackLog::new(store);
    let kim = actor("officer.kim");
    fb.record_all(
        &[
            outcome("A", 1, true),
            outcome("B", 5, false),
            outcome("C", 9, true),
        ],
        &kim,
    )
    .expect("record");
    let ids = |since| -> Vec<String> {
        fb.latest(since)
            .expect("query")
            .into_iter()
            .map(|r| r.outcome.declaration_id)
            .collect()
    };
    assert_eq!(ids(Some(day(5))), ["B", "C"]);
    assert_eq!(ids(None), ["A", "B", "C"]);
    assert_eq!(
        fb.latest(None).expect("query")[0].outcome,
        outcome("A", 1, true)
    );
    // A correction supersedes the earlier record without erasing it; the latest record
    // counts even when it is dated earlier.
    let mut corrected = outcome("C", 2, false);
    corrected.note = Some("lab result: no irregularity".into());
    fb.record(&corrected, &kim).expect("record");
    assert_eq!(ids(Some(day(5))), ["B"]);
    let latest = fb.latest(None).expect("query");
    assert_eq!(latest.len(), 3);
    assert_eq!(latest[1].outcome, corrected);
    assert_eq!(fb.all().expect("all").len(), 4);
    assert!(matches!(
        AuditLog::new(store).verify().expect("verify"),
        Verification::Intact { records: 4, .. }
    ));
}

/// A case page asks for the outcomes of one importer's declarations: it gets the latest record
/// of each named declaration that has one, in the order asked, and nothing of the others.
fn latest_feedback_of<S: GovernanceStore + Tamper>(store: &S) {
    let fb = FeedbackLog::new(store);
    let kim = actor("officer.kim");
    fb.record_all(
        &[
            outcome("A", 1, true),
            outcome("B", 5, false),
            outcome("C", 9, true),
        ],
        &kim,
    )
    .expect("record");
    let corrected = outcome("A", 3, false);
    fb.record(&corrected, &kim).expect("record");
    let of = |ids: &[&str]| -> Vec<Outcome> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        fb.latest_of(&ids)
            .expect("query")
            .into_iter()
            .map(|r| r.outcome)
            .collect()
    };
    assert_eq!(
        of(&["C", "A", "Z"]),
        [outcome("C", 9, true), corrected.clone()]
    );
    assert_eq!(of(&["B"]), [outcome("B", 5, false)]);
    assert_eq!(of(&[]), Vec::<Outcome>::new());
    // An id that is a prefix or a pattern of another matches nothing.
    assert_eq!(of(&["%", "A'"]), Vec::<Outcome>::new());
}

/// Draft, approved, active, superseded, rolled back, withdrawn: the chain replays to exactly
/// the registry tables.
fn registry_derivable_from_chain<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    let ben = actor("ben");
    for v in ["m1", "m2", "m3", "m4"] {
        register(&reg, v, "ana", "ana");
    }
    for v in ["m1", "m2", "m3"] {
        reg.approve(v, &ben, "ok").expect("approve");
    }
    reg.activate("m1", &ben).expect("activate");
    reg.activate("m2", &ben).expect("activate");
    reg.rollback(&actor("cho"), "drift").expect("rollback");
    reg.retire("m3", &ben, "withdrawn").expect("retire");
    FeedbackLog::new(store)
        .record(&outcome("A", 1, true), &actor("officer.kim"))
        .expect("feedback");
    let report = verify_store(store, None).expect("verify");
    assert_eq!(report.registry, [], "registry differs from its chain");
    assert!(report.holds(), "{report}");
    let (active, _) = reg
        .active_artefact()
        .expect("active model backed by the chain");
    assert_eq!(active.model.version, "m1");
}

/// `UPDATE models SET state = 'active'` on a draft: reported, and never scores.
fn registry_tampering_found_and_refused<S: GovernanceStore + Tamper>(store: &S) {
    let reg = Registry::new(store);
    register(&reg, "m1", "ana", "ana");
    store.force_set_model_state("m1", "active");
    assert_eq!(state(&reg, "m1"), ModelState::Active, "the tamper took");
    assert!(AuditLog::new(store).verify().expect("chain").is_intact());
    let report = verify_store(store, None).expect("verify");
    assert!(!report.holds(), "{report}");
    assert!(
        report.registry.contains(&RegistryFinding::Mismatch {
            version: "m1".into(),
            field: "state",
            recorded: "draft".into(),
            stored: "active".into(),
        }),
        "{:?}",
        report.registry
    );
    assert!(matches!(
        reg.active_artefact(),
        Err(RegistryError::NotBackedByAudit { .. })
    ));

    // The legitimately active model swapped in the tables for an unapproved one.
    store.force_set_model_state("m1", "draft");
    register(&reg, "m2", "ana", "ana");
    reg.approve("m2", &actor("ben"), "ok").expect("approve");
    reg.activate("m2", &actor("ben")).expect("activate");
    assert!(verify_store(store, None).expect("verify").holds());
    store.force_set_model_state("m2", "retired");
    store.force_set_model_state("m1", "active");
    assert!(matches!(
        reg.active_artefact(),
        Err(RegistryError::NotBackedByAudit { version, .. }) if version == "m1"
    ));
    assert_eq!(
        verify_store(store, None).expect("verify").registry.len(),
        2,
        "m1 and m2 states"
    );
}

/// A signed checkpoint finds the tail cut, the log emptied, and a rewrite with recomputed
/// hashes, none of which the chain alone shows.
fn checkpoints_detect_truncation_emptying_and_rewrite<S: GovernanceStore + Tamper>(store: &S) {
    with_events(store, 6);
    let key = CheckpointKey::generate();
    let public = key.public();
    let log = AuditLog::new(store);
    let original = log.records().expect("records");
    let tx_cp = |at: &str| {
        let mut tx = store.begin(false).expect("tx");
        crate::checkpoint::sign_head(tx.as_mut(), &key, at).expect("sign")
    };
    let first = tx_cp("2021-04-01T00:00:00.000Z");
    with_events(store, 2);
    let all = log.records().expect("records");
    let second = tx_cp("2021-04-02T00:00:00.000Z");
    assert_eq!((first.length, second.length), (6, 8));
    let witness = [first, second];
    let findings = |store: &S| {
        let report = verify_store(store, Some((&witness, &public))).expect("verify");
        report.checkpoints.expect("witness given").findings
    };
    assert_eq!(findings(store), []);

    // Tail truncation: the chain of 6 still verifies; the checkpoint of 8 does not hold.
    store.force_replace_audit(&original);
    assert!(log.verify().expect("chain").is_intact());
    assert!(matches!(
        findings(store)[..],
        [CheckpointFinding::Truncated {
            length: 8,
            chain_length: 6,
            ..
        }]
    ));

    // Everything deleted: "intact, 0 records" by the chain alone.
    store.force_replace_audit(&[]);
    assert!(log.verify().expect("chain").is_intact());
    assert_eq!(findings(store).len(), 2);

    // Rewritten with recomputed hashes: the chain verifies, the signed heads do not match.
    let mut forged: Vec<AuditRecord> = Vec::new();
    for r in &all {
        let mut f = r.clone();
        f.user = "someone.else".into();
        f.prev_hash = forged
            .last()
            .map_or(GENESIS.to_string(), |p| p.hash.clone());
        f.hash = f.computed_hash();
        forged.push(f);
    }
    store.force_replace_audit(&forged);
    assert!(log.verify().expect("chain").is_intact());
    assert!(matches!(
        findings(store)[..],
        [
            CheckpointFinding::Rewritten { seq: 6, .. },
            CheckpointFinding::Rewritten { seq: 8, .. }
        ]
    ));
    store.force_replace_audit(&all);
    assert_eq!(findings(store), []);
}

fn admin_of(store: &dyn GovernanceStore) -> Principal {
    let id = Identity::new(store);
    id.bootstrap_admin("root.admin", None, "a long admin passphrase")
        .expect("bootstrap");
    id.authenticate_password("root.admin", "a long admin passphrase")
        .expect("admin password")
}

fn officer(id: &str) -> NewAccount {
    NewAccount {
        id: id.into(),
        display_name: None,
        roles: vec![Role::Officer],
        importer_ids: Vec::new(),
        password: Some("officer passphrase 1".into()),
    }
}

fn accounts_bootstrap_once<S: GovernanceStore + Tamper>(store: &S) {
    let ident = Identity::new(store);
    assert!(ident.is_empty().expect("empty"));
    let admin = admin_of(store);
    assert!(matches!(
        ident.bootstrap_admin("second", None, "another long passphrase"),
        Err(IdentityError::AlreadyBootstrapped)
    ));
    let kim = ident
        .create_account(&admin, &officer("officer.kim"))
        .expect("create");
    assert_eq!(kim.roles, vec![Role::Officer]);
    // A look-alike id (Cyrillic o, zero-width space) is the same person: refused.
    assert!(matches!(
        ident.create_account(&admin, &officer("\u{043E}fficer.k\u{200B}im")),
        Err(IdentityError::Duplicate(_))
    ));
    let as_kim = ident
        .authenticate_password("OFFICER.KIM", "officer passphrase 1")
        .expect("password");
    assert_eq!(as_kim.actor.id, "officer.kim");
    assert!(matches!(
        ident.create_account(&as_kim, &officer("officer.lee")),
        Err(IdentityError::Forbidden { .. })
    ));
    assert!(matches!(
        ident.authenticate_password("officer.kim", "wrong passphrase 1"),
        Err(IdentityError::Unauthenticated)
    ));
    ident.disable(&admin, "officer.kim").expect("disable");
    assert!(matches!(
        ident.authenticate_password("officer.kim", "officer passphrase 1"),
        Err(IdentityError::Unauthenticated)
    ));
    let records = AuditLog::new(store).records().expect("records");
    let actions: Vec<(String, String)> = records
        .iter()
        .map(|r| match r.event().expect("event") {
            AuditEvent::Governance(g) => (g.action, r.user.clone()),
            AuditEvent::Decision(_) => panic!("no decision expected"),
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("account.bootstrap".to_string(), "root.admin".to_string()),
            ("account.create".to_string(), "root.admin".to_string()),
            ("account.disable".to_string(), "root.admin".to_string()),
        ]
    );
    for r in &records {
        assert!(
            !r.body.contains("passphrase") && !r.body.contains("$argon2"),
            "{}",
            r.body
        );
    }
}

fn tokens_until_revoked<S: GovernanceStore + Tamper>(store: &S) {
    let ident = Identity::new(store);
    let admin = admin_of(store);
    ident
        .create_account(&admin, &officer("officer.kim"))
        .expect("create");
    let now = chrono::Utc::now();
    let issued = ident
        .create_token(&admin, "officer.kim", "laptop", None)
        .expect("token");
    assert!(issued.secret.starts_with(TOKEN_PREFIX));
    let who = ident.authenticate_token(&issued.secret, now).expect("auth");
    assert_eq!(who.actor.id, "officer.kim");
    assert_eq!(who.actor.roles, vec![Role::Officer]);
    assert_eq!(who.token_id.as_deref(), Some(issued.token.id.as_str()));
    let listed = ident.tokens(&admin, Some("officer.kim")).expect("list");
    assert_eq!(listed.len(), 1);
    assert_ne!(listed[0].secret_sha256, issued.secret);
    assert_eq!(listed[0].secret_sha256, token_sha256(&issued.secret));
    // One changed character, or another token text, does not authenticate.
    let mut wrong = issued.secret.clone();
    wrong.pop();
    wrong.push('x');
    assert!(ident.authenticate_token(&wrong, now).is_err());
    assert!(ident.authenticate_token("Bearer nothing", now).is_err());
    // Expiry.
    let short = ident
        .create_token(
            &admin,
            "officer.kim",
            "short",
            Some(now + chrono::Duration::minutes(1)),
        )
        .expect("token");
    assert!(ident.authenticate_token(&short.secret, now).is_ok());
    assert!(ident
        .authenticate_token(&short.secret, now + chrono::Duration::minutes(2))
        .is_err());
    // Revocation by the token's own account.
    ident
        .revoke_token(&who, &issued.token.id)
        .expect("revoke own");
    assert!(matches!(
        ident.authenticate_token(&issued.secret, now),
        Err(IdentityError::Unauthenticated)
    ));
    // Disabling the account stops its other tokens.
    ident.disable(&admin, "officer.kim").expect("disable");
    assert!(ident.authenticate_token(&short.secret, now).is_err());
    let bodies: Vec<String> = AuditLog::new(store)
        .records()
        .expect("records")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert!(bodies.iter().any(|b| b.contains("token.revoke")));
    for b in &bodies {
        assert!(
            !b.contains(&issued.secret) && !b.contains(&listed[0].secret_sha256),
            "{b}"
        );
    }
}

fn stream_decision(declaration_id: &str, model_version: &str) -> crate::audit::Decision {
    crate::audit::Decision {
        declaration_id: declaration_id.into(),
        input_hash: "0".repeat(64),
        model_version: model_version.into(),
        rules_version: "none".into(),
        score: 0.25,
        lane: crate::Lane::Green,
        basis: crate::selectivity::Basis::Score,
        why: "contract".into(),
        reasons: Vec::new(),
        subject: None,
    }
}

fn decided_once_per_model_version<S: GovernanceStore + Tamper>(store: &S) {
    use crate::audit::{record_decision_once, Recorded};
    let worker = actor("worker.1");
    let first =
        record_decision_once(store, &worker, &stream_decision("D-1", "m-1")).expect("first");
    let Recorded::New(seq) = first else {
        panic!("the first decision must be new, got {first:?}");
    };
    // Redelivered, possibly to another worker: the earlier record, nothing appended.
    let again = record_decision_once(store, &actor("worker.2"), &stream_decision("D-1", "m-1"))
        .expect("again");
    assert_eq!(again, Recorded::Already(seq));
    assert_eq!(AuditLog::new(store).len().expect("len"), 1);
    // Another model version decides the declaration anew.
    let other = record_decision_once(store, &worker, &stream_decision("D-1", "m-2")).expect("m-2");
    assert_eq!(other, Recorded::New(seq + 1));
    assert_eq!(AuditLog::new(store).len().expect("len"), 2);
    // The key itself refuses a second row for a decided pair.
    let mut tx = store.begin(true).expect("begin");
    assert_eq!(tx.decision_key("D-1", "m-1").expect("key"), Some(seq));
    assert_eq!(tx.decision_key("D-2", "m-1").expect("key"), None);
    assert!(tx.insert_decision_key("D-1", "m-1", seq + 1).is_err());
    drop(tx);
    assert!(AuditLog::new(store).verify().expect("verify").is_intact());
}

/// The batch writes of a stream worker: the keys of a batch in one look-up, new decisions
/// appended after one chain-head read with their keys and index rows (a later decision of a
/// declaration indexed over an earlier one, its rules replaced), the ledger rows of several
/// offices read and written together; a batch holding a decided pair, or one pair twice, is
/// refused whole and writes nothing.
fn batch_of_decisions_written_together_and_once<S: GovernanceStore + Tamper>(store: &S) {
    use crate::audit::{append_new_decisions_in, record_decision_once};
    use crate::capacity::LaneUsage;
    use crate::cases::QueueQuery;
    use crate::Lane;
    let worker = actor("worker.1");
    record_decision_once(store, &worker, &stream_decision("D-0", "m-1")).expect("first");
    let batch = vec![
        ruled_decision("D-1", Lane::Red, 0.9, "IMP-1", &["R-1"]),
        stream_decision("D-2", "m-1"),
        // The same declaration by another model version, later in the batch: indexed last.
        crate::audit::Decision {
            model_version: "m-2".into(),
            ..ruled_decision("D-1", Lane::Yellow, 0.5, "IMP-1", &["R-2"])
        },
    ];
    let mut tx = store.begin(true).expect("begin");
    let known = tx
        .decision_keys(&["D-0", "D-1", "D-2", "D-9"], "m-1")
        .expect("keys");
    assert_eq!(known.len(), 1, "{known:?}");
    assert_eq!(known.get("D-0"), Some(&1));
    let seqs = append_new_decisions_in(tx.as_mut(), &worker, &batch).expect("append");
    assert_eq!(seqs, vec![2, 3, 4]);
    let usage = |decided, red, yellow| LaneUsage {
        decided,
        red,
        yellow,
    };
    tx.put_lane_usages(
        "2026-12-06",
        &[("010", usage(2, 1, 0)), ("020", usage(1, 0, 1))],
    )
    .expect("ledger");
    tx.commit().expect("commit");
    let mut tx = store.begin(false).expect("begin");
    let known = tx.decision_keys(&["D-1", "D-2"], "m-1").expect("keys");
    assert_eq!(known.get("D-1"), Some(&2));
    assert_eq!(known.get("D-2"), Some(&3));
    assert_eq!(
        tx.decision_keys(&["D-1", "D-2"], "m-2").expect("keys"),
        [("D-1".to_string(), 4)].into_iter().collect()
    );
    let latest = tx.latest_decision("D-1").expect("latest").expect("indexed");
    assert_eq!(latest.record.seq, 4);
    let ledger = tx
        .lane_usages_of(&["010", "020", "030"], "2026-12-06")
        .expect("ledger");
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger.get("010"), Some(&usage(2, 1, 0)));
    assert_eq!(ledger.get("020"), Some(&usage(1, 0, 1)));
    let by_rule = |tx: &mut Box<dyn crate::store::StoreTx + '_>, rule: &str| {
        let q = QueueQuery {
            rule: Some(rule.into()),
            limit: 10,
            ..QueueQuery::default()
        };
        tx.queue_page(&q).expect("page").1
    };
    assert_eq!(
        by_rule(&mut tx, "R-1"),
        0,
        "the later decision's rules replace R-1"
    );
    assert_eq!(by_rule(&mut tx, "R-2"), 1);
    drop(tx);
    // A batch with a decided pair, or with one pair twice, fails whole.
    for refused in [
        vec![stream_decision("D-3", "m-1"), stream_decision("D-2", "m-1")],
        vec![stream_decision("D-4", "m-1"), stream_decision("D-4", "m-1")],
    ] {
        let mut tx = store.begin(true).expect("begin");
        assert!(append_new_decisions_in(tx.as_mut(), &worker, &refused).is_err());
        drop(tx);
    }
    assert_eq!(AuditLog::new(store).len().expect("len"), 4);
    let mut tx = store.begin(false).expect("begin");
    assert!(tx
        .decision_keys(&["D-3", "D-4"], "m-1")
        .expect("keys")
        .is_empty());
    drop(tx);
    assert!(AuditLog::new(store).verify().expect("verify").is_intact());
}

fn subject_decision(
    id: &str,
    lane: crate::Lane,
    score: f64,
    importer: &str,
    hs: &str,
    date: &str,
) -> crate::audit::Decision {
    crate::audit::Decision {
        lane,
        score,
        subject: Some(crate::audit::DecisionSubject {
            importer: importer.into(),
            hs_code: hs.into(),
            office: "030".into(),
            date: date.into(),
        }),
        ..stream_decision(id, "m-1")
    }
}

fn queue_ids(store: &dyn GovernanceStore, q: &crate::cases::QueueQuery) -> (Vec<String>, u64) {
    let (hits, total) = crate::cases::Cases::new(store).queue(q).expect("queue");
    let ids = hits
        .iter()
        .map(|h| match h.record.event().expect("event") {
            AuditEvent::Decision(d) => d.declaration_id,
            other => panic!("the index points at a non-decision record: {other:?}"),
        })
        .collect();
    (ids, total)
}

/// Every appended decision is indexed in its transaction; the latest decision of a declaration
/// replaces the earlier one; filters, order (lane, score descending, id) and pages.
fn decision_index_filters_orders_and_pages<S: GovernanceStore + Tamper>(store: &S) {
    use crate::cases::{CaseState, QueueQuery};
    use crate::Lane;
    let officer = actor("officer.kim");
    let events: Vec<AuditEvent> = [
        subject_decision("A", Lane::Green, 0.10, "IMP-1", "850440", "2021-03-01"),
        subject_decision("B", Lane::Red, 0.70, "IMP-2", "850440", "2021-03-02"),
        subject_decision("C", Lane::Red, 0.90, "IMP-1", "610910", "2021-03-03"),
        subject_decision("D", Lane::Yellow, 0.95, "IMP-1", "850450", "2021-03-04"),
        stream_decision("E", "m-1"),
        // A newer decision on A: A is red now.
        subject_decision("A", Lane::Red, 0.80, "IMP-1", "850440", "2021-03-01"),
    ]
    .into_iter()
    .map(AuditEvent::Decision)
    .collect();
    AuditLog::new(store)
        .append_all(&officer, &events)
        .expect("append");
    let all = QueueQuery {
        limit: 100,
        ..QueueQuery::default()
    };
    assert_eq!(
        queue_ids(store, &all),
        (
            vec!["C".into(), "A".into(), "B".into(), "D".into(), "E".into()],
            5
        )
    );
    let page2 = QueueQuery {
        offset: 2,
        limit: 2,
        ..all.clone()
    };
    assert_eq!(queue_ids(store, &page2), (vec!["B".into(), "D".into()], 5));
    let red_imp1 = QueueQuery {
        lane_rank: Some(0),
        importer: Some("IMP-1".into()),
        ..all.clone()
    };
    assert_eq!(
        queue_ids(store, &red_imp1),
        (vec!["C".into(), "A".into()], 2)
    );
    let hs = QueueQuery {
        hs_code_prefix: Some("8504".into()),
        from: Some("2021-03-02".into()),
        to: Some("2021-03-04".into()),
        ..all.clone()
    };
    // E has no subject: it never matches a subject filter.
    assert_eq!(queue_ids(store, &hs), (vec!["B".into(), "D".into()], 2));
    let basis = QueueQuery {
        basis: Some("rule".into()),
        ..all.clone()
    };
    assert_eq!(queue_ids(store, &basis).1, 0);
    let pending = QueueQuery {
        case_state: Some(CaseState::Pending),
        ..all.clone()
    };
    assert_eq!(queue_ids(store, &pending).1, 5);
    // The latest decision of A is the one looked up.
    let mut tx = store.begin(false).expect("begin");
    let hit = tx.latest_decision("A").expect("lookup").expect("indexed");
    assert_eq!(hit.record.seq, 6);
    assert!(hit.case.is_none());
    assert!(tx.latest_decision("Z").expect("lookup").is_none());
    drop(tx);
    // Nothing indexed outside a committed transaction.
    {
        let mut tx = store.begin(true).expect("begin");
        crate::audit::append_in(
            tx.as_mut(),
            &officer,
            &AuditEvent::Decision(stream_decision("F", "m-1")),
        )
        .expect("append");
        // dropped: rolled back
    }
    assert_eq!(queue_ids(store, &all).1, 5);
}

/// A decision hit by analyst rules `rules` (reasons of kind rule, code = rule id; a rule may
/// give more than one reason).
fn ruled_decision(
    id: &str,
    lane: crate::Lane,
    score: f64,
    importer: &str,
    rules: &[&str],
) -> crate::audit::Decision {
    use borderline_core::{Reason, ReasonKind};
    let mut reasons: Vec<Reason> = rules
        .iter()
        .map(|r| Reason {
            kind: ReasonKind::Rule,
            code: (*r).into(),
            text: format!("analyst rule {r}"),
            contribution: None,
        })
        .collect();
    // A reason of another kind whose code looks like a rule id is not a rule hit.
    reasons.push(Reason {
        kind: ReasonKind::Valuation,
        code: "R-VALUE".into(),
        text: "declared value far below the benchmark".into(),
        contribution: None,
    });
    crate::audit::Decision {
        basis: if rules.is_empty() {
            crate::selectivity::Basis::Score
        } else {
            crate::selectivity::Basis::Rule
        },
        reasons,
        ..subject_decision(id, lane, score, importer, "850440", "2021-03-01")
    }
}

/// The rule filter: a declaration is listed under every analyst rule that hit its latest
/// decision (several rules, each once), combines with the other filters, and a newer decision
/// replaces the rules of the older one in its transaction; a rolled-back decision changes
/// nothing.
fn rule_filter_follows_latest_decision<S: GovernanceStore + Tamper>(store: &S) {
    use crate::cases::QueueQuery;
    use crate::Lane;
    let officer = actor("officer.kim");
    let events: Vec<AuditEvent> = [
        // R-1 gives two reasons on A: A is listed once.
        ruled_decision("A", Lane::Red, 0.60, "IMP-1", &["R-1", "R-2", "R-1"]),
        ruled_decision("B", Lane::Red, 0.90, "IMP-2", &["R-2"]),
        ruled_decision("C", Lane::Yellow, 0.95, "IMP-1", &["R-2"]),
        ruled_decision("D", Lane::Red, 0.99, "IMP-1", &[]),
    ]
    .into_iter()
    .map(AuditEvent::Decision)
    .collect();
    AuditLog::new(store)
        .append_all(&officer, &events)
        .expect("append");
    let by_rule = |rule: &str| QueueQuery {
        rule: Some(rule.into()),
        limit: 100,
        ..QueueQuery::default()
    };
    assert_eq!(
        queue_ids(store, &by_rule("R-2")),
        (vec!["B".into(), "A".into(), "C".into()], 3)
    );
    assert_eq!(queue_ids(store, &by_rule("R-1")), (vec!["A".into()], 1));
    assert_eq!(queue_ids(store, &by_rule("R-VALUE")), (vec![], 0));
    assert_eq!(queue_ids(store, &by_rule("r-2")), (vec![], 0));
    let red_imp1_r2 = QueueQuery {
        lane_rank: Some(0),
        importer: Some("IMP-1".into()),
        ..by_rule("R-2")
    };
    assert_eq!(queue_ids(store, &red_imp1_r2), (vec!["A".into()], 1));
    let page = QueueQuery {
        offset: 1,
        limit: 1,
        ..by_rule("R-2")
    };
    assert_eq!(queue_ids(store, &page), (vec!["A".into()], 3));
    // A is decided anew: only R-3 hits it now.
    AuditLog::new(store)
        .append_all(
            &officer,
            &[AuditEvent::Decision(ruled_decision(
                "A",
                Lane::Yellow,
                0.50,
                "IMP-1",
                &["R-3"],
            ))],
        )
        .expect("append");
    assert_eq!(queue_ids(store, &by_rule("R-1")), (vec![], 0));
    assert_eq!(
        queue_ids(store, &by_rule("R-2")),
        (vec!["B".into(), "C".into()], 2)
    );
    assert_eq!(queue_ids(store, &by_rule("R-3")), (vec!["A".into()], 1));
    // A decision no rule hit clears the declaration's rules.
    AuditLog::new(store)
        .append_all(
            &officer,
            &[AuditEvent::Decision(ruled_decision(
                "B",
                Lane::Green,
                0.10,
                "IMP-2",
                &[],
            ))],
        )
        .expect("append");
    assert_eq!(queue_ids(store, &by_rule("R-2")), (vec!["C".into()], 1));
    // Rolled back: neither the decision nor its rules are indexed.
    {
        let mut tx = store.begin(true).expect("begin");
        crate::audit::append_in(
            tx.as_mut(),
            &officer,
            &AuditEvent::Decision(ruled_decision("C", Lane::Green, 0.1, "IMP-1", &["R-4"])),
        )
        .expect("append");
        // dropped: rolled back
    }
    assert_eq!(queue_ids(store, &by_rule("R-4")), (vec![], 0));
    assert_eq!(queue_ids(store, &by_rule("R-2")), (vec!["C".into()], 1));
}

/// Take, a second officer refused with the holder named, escalate, reassign, close with an
/// outcome (feedback and audit records in the same transaction), every step audited as the
/// acting actor.
fn case_worked_by_one_officer_at_a_time<S: GovernanceStore + Tamper>(store: &S) {
    use crate::cases::{CaseError, CaseState, Cases, QueueQuery};
    let (kim, lee, sup) = (
        actor("officer.kim"),
        actor("officer.lee"),
        actor("sup.park"),
    );
    AuditLog::new(store)
        .append(
            &kim,
            &AuditEvent::Decision(subject_decision(
                "D-1",
                crate::Lane::Red,
                0.9,
                "IMP-1",
                "850440",
                "2021-03-01",
            )),
        )
        .expect("decision");
    let cases = Cases::new(store);
    assert!(matches!(
        cases.take(&kim, "NO-SUCH"),
        Err(CaseError::NoDecision(_))
    ));
    assert!(matches!(
        cases.close(&kim, &outcome("D-1", 5, true)),
        Err(CaseError::WrongState { .. })
    ));
    let taken = cases.take(&kim, "D-1").expect("take");
    assert_eq!(taken.state, CaseState::InInspection);
    assert_eq!(taken.holder.as_deref(), Some("officer.kim"));
    // Taking it again changes nothing; another officer is refused and told who holds it.
    assert_eq!(cases.take(&kim, "D-1").expect("again"), taken);
    match cases.take(&lee, "D-1") {
        Err(CaseError::Held { holder, .. }) => assert_eq!(holder, "officer.kim"),
        other => panic!("a second take must be refused, got {other:?}"),
    }
    assert!(matches!(
        cases.escalate(&lee, "D-1", "not mine"),
        Err(CaseError::NotHolder { .. })
    ));
    assert!(matches!(
        cases.escalate(&kim, "D-1", "  "),
        Err(CaseError::Invalid { .. })
    ));
    let esc = cases
        .escalate(&kim, "D-1", "valuation needs a supervisor")
        .expect("escalate");
    assert_eq!(esc.state, CaseState::Escalated);
    let moved = cases
        .reassign(&sup, "D-1", "officer.lee")
        .expect("reassign");
    assert_eq!(
        (moved.state, moved.holder.as_deref()),
        (CaseState::InInspection, Some("officer.lee"))
    );
    assert!(matches!(
        cases.close(&kim, &outcome("D-1", 5, true)),
        Err(CaseError::NotHolder { .. })
    ));
    let mut bad = outcome("D-1", 5, true);
    bad.critical_level = 0;
    assert!(matches!(
        cases.close(&lee, &bad),
        Err(CaseError::Feedback(_))
    ));
    let closed = cases.close(&lee, &outcome("D-1", 5, true)).expect("close");
    assert_eq!(closed.state, CaseState::OutcomeRecorded);
    let fid = closed.feedback_id.expect("feedback id");
    let fb = FeedbackLog::new(store).all().expect("feedback");
    assert_eq!(fb.len(), 1);
    assert_eq!(fb[0].id, fid);
    assert!(fb[0].outcome.fraud);
    assert!(matches!(
        cases.take(&kim, "D-1"),
        Err(CaseError::WrongState { .. })
    ));
    assert!(matches!(
        cases.reassign(&sup, "D-1", "officer.kim"),
        Err(CaseError::WrongState { .. })
    ));
    // The case is stored: it reads back, and the queue filters on its state.
    let (hit, state) = cases.get("D-1").expect("get").expect("case");
    assert_eq!(state, CaseState::OutcomeRecorded);
    assert_eq!(hit.case, Some(closed));
    let q = QueueQuery {
        case_state: Some(CaseState::OutcomeRecorded),
        limit: 10,
        ..QueueQuery::default()
    };
    assert_eq!(queue_ids(store, &q).1, 1);
    // Every transition is an audit record by its actor; refusals wrote nothing.
    let trail: Vec<(String, String)> = AuditLog::new(store)
        .records()
        .expect("records")
        .into_iter()
        .filter_map(|r| match r.event().expect("event") {
            AuditEvent::Governance(g) => Some((g.action, r.user)),
            AuditEvent::Decision(_) => None,
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("case.take", "officer.kim"),
        ("case.escalate", "officer.kim"),
        ("case.reassign", "sup.park"),
        ("feedback.record", "officer.lee"),
        ("case.close", "officer.lee"),
    ]
    .iter()
    .map(|(a, u)| (a.to_string(), u.to_string()))
    .collect();
    assert_eq!(trail, want);
    assert!(AuditLog::new(store).verify().expect("verify").is_intact());
}

fn capacity_ledger_per_office_and_window<S: GovernanceStore>(store: &S) {
    use crate::capacity::{LaneUsage, UsageRow};
    let usage = |decided, red, yellow| LaneUsage {
        decided,
        red,
        yellow,
    };
    let mut tx = store.begin(true).expect("begin");
    assert_eq!(tx.lane_usage("020", "2026-12-05").expect("read"), None);
    tx.put_lane_usage("020", "2026-12-05", &usage(10, 1, 2))
        .expect("insert");
    tx.put_lane_usage("020", "2026-12-05", &usage(11, 1, 3))
        .expect("update");
    tx.put_lane_usage("010", "2026-12-05", &usage(4, 0, 0))
        .expect("insert");
    tx.put_lane_usage("010", "2026-12-06", &usage(1, 1, 0))
        .expect("insert");
    tx.commit().expect("commit");
    // A transaction that is not committed leaves the counts as they were.
    let mut tx = store.begin(true).expect("begin");
    tx.put_lane_usage("020", "2026-12-05", &usage(99, 9, 9))
        .expect("update");
    drop(tx);
    let mut tx = store.begin(false).expect("begin");
    assert_eq!(
        tx.lane_usage("020", "2026-12-05").expect("read"),
        Some(usage(11, 1, 3))
    );
    let rows = tx.lane_usages("2026-12-05", "2026-12-05").expect("rows");
    let row = |office: &str, window: &str, u| UsageRow {
        office: office.into(),
        window: window.into(),
        usage: u,
    };
    assert_eq!(
        rows,
        vec![
            row("010", "2026-12-05", usage(4, 0, 0)),
            row("020", "2026-12-05", usage(11, 1, 3)),
        ]
    );
    assert_eq!(
        tx.lane_usages("2026-12-01", "2026-12-31")
            .expect("rows")
            .len(),
        3
    );
}

fn supplier_network_links_and_screenings<S: GovernanceStore>(store: &S) {
    use crate::network::{PartyScreening, TradeLink};
    let link = |from: &str, to: &str, first: &str| TradeLink {
        from: from.into(),
        to: to.into(),
        relation: "trade".into(),
        first_declaration: first.into(),
        first_seen: "2026-12-06T08:00:00.000Z".into(),
    };
    let screening = |party: &str, listed: bool, version: &str| PartyScreening {
        party_id: party.into(),
        lists_version: version.into(),
        listed,
        result: format!("{{\"party\":\"{party}\",\"listed\":{listed}}}"),
        screened_at: "2026-12-06T08:00:00.000Z".into(),
    };
    let mut tx = store.begin(true).expect("begin");
    assert_eq!(
        tx.add_trade_links(&[
            link("I1", "S1", "D1"),
            link("I1", "S2", "D2"),
            link("S1", "I1", "D3"),
            // The same link twice in one call is recorded once, with the first declaration.
            link("I1", "S1", "D4"),
        ])
        .expect("add"),
        3
    );
    tx.put_party_screenings(&[
        screening("S1", true, "lists-1"),
        screening("S2", false, "lists-1"),
        screening("I1", false, "lists-1"),
    ])
    .expect("screenings");
    tx.commit().expect("commit");
    // A link already stored (a later declaration, or a redelivery) adds nothing and keeps
    // its first declaration; an uncommitted link is not kept.
    let mut tx = store.begin(true).expect("begin");
    assert_eq!(
        tx.add_trade_links(&[link("I1", "S1", "D9")]).expect("add"),
        0
    );
    tx.commit().expect("commit");
    let mut tx = store.begin(true).expect("begin");
    tx.add_trade_links(&[link("I9", "S9", "D9")]).expect("add");
    drop(tx);
    let mut tx = store.begin(false).expect("begin");
    assert_eq!(
        tx.trade_links_of(&["I1"]).expect("links"),
        vec![
            link("I1", "S1", "D1"),
            link("I1", "S2", "D2"),
            link("S1", "I1", "D3")
        ]
    );
    assert_eq!(
        tx.trade_links_of(&["S2", "I9"]).expect("links"),
        vec![link("I1", "S2", "D2")]
    );
    assert!(tx.trade_links_of(&[]).expect("links").is_empty());
    // The first hop towards listed parties: from I1 both links with S1 (either direction),
    // not the one with S2 (screened, not listed); from S1 none (I1 is not listed).
    assert_eq!(
        tx.links_to_listed(&["I1"]).expect("listed"),
        vec![
            (link("I1", "S1", "D1"), screening("S1", true, "lists-1")),
            (link("S1", "I1", "D3"), screening("S1", true, "lists-1")),
        ]
    );
    assert!(tx.links_to_listed(&["S1"]).expect("listed").is_empty());
    drop(tx);
    // A new screening replaces the earlier one: S2 listed under new lists.
    let mut tx = store.begin(true).expect("begin");
    tx.put_party_screenings(&[screening("S2", true, "lists-2")])
        .expect("screenings");
    tx.commit().expect("commit");
    let mut tx = store.begin(false).expect("begin");
    assert_eq!(
        tx.links_to_listed(&["I1"]).expect("listed").len(),
        3,
        "S2 is listed now"
    );
    let got = tx.party_screenings(&["S2", "S1", "nobody"]).expect("read");
    assert_eq!(got.len(), 2);
    assert_eq!(got.get("S2"), Some(&screening("S2", true, "lists-2")));
    assert_eq!(got.get("S1"), Some(&screening("S1", true, "lists-1")));
}

const RULES_A: &str = "rule \"cheap-solar\" priority 10\nwhen hs6 starts_with \"8541\" and origin = \"CN\"\nthen lane yellow reason \"solar cells from CN\"\n";
const RULES_B: &str =
    "rule \"all-red\"\nwhen origin = \"KP\"\nthen lane red reason \"embargoed origin\"\n";

/// Rule sets: stored with their source, a syntax error names line and column and stores
/// nothing, the author cannot approve (look-alike ids included), one active set, every state
/// change in the chain by the acting actor, and a state set in the tables alone never decides.
fn rule_sets_governed<S: GovernanceStore + Tamper>(store: &S) {
    let book = Rulebook::new(store);
    assert!(book
        .active_rules(DECLARATION_FIELDS)
        .expect("none")
        .is_none());
    match book.upload(
        "rule \"x\"\nwhen nonsense > 3\nthen lane red reason \"r\"\n",
        DECLARATION_FIELDS,
        &actor("ana"),
    ) {
        Err(RulebookError::Syntax(e)) => assert_eq!((e.line, e.column), (2, 6), "{e}"),
        other => panic!("a bad field was accepted: {other:?}"),
    }
    assert_eq!(book.list().expect("list"), []);
    let a = book
        .upload(RULES_A, DECLARATION_FIELDS, &actor("ana"))
        .expect("upload");
    assert_eq!(
        (a.state, a.rules, a.uploaded_by.as_str()),
        (RuleSetState::Draft, 1, "ana")
    );
    assert_eq!(book.get(&a.version).expect("get").source, RULES_A);
    assert!(matches!(
        book.upload(RULES_A, DECLARATION_FIELDS, &actor("ben")),
        Err(RulebookError::AlreadyUploaded(_))
    ));
    assert!(matches!(
        book.activate(&a.version, &actor("ben")),
        Err(RulebookError::InvalidTransition { .. })
    ));
    for me in ["ana", "ANA", "\u{0430}na"] {
        assert!(
            matches!(
                book.approve(&a.version, &actor(me), "fine"),
                Err(RulebookError::FourEyes { .. })
            ),
            "{me} approved their own rules"
        );
    }
    assert!(matches!(
        book.approve(&a.version, &actor("ben"), "  "),
        Err(RulebookError::ReasonRequired(_))
    ));
    assert!(matches!(
        book.retire(&a.version, &actor("ben"), "\u{c}"),
        Err(RulebookError::ReasonRequired(_))
    ));
    book.approve(&a.version, &actor("ben"), "reviewed")
        .expect("approve");
    assert_eq!(
        book.activate(&a.version, &actor("ben")).expect("activate"),
        None
    );
    let (entry, rules) = book
        .active_rules(DECLARATION_FIELDS)
        .expect("active")
        .expect("some");
    assert_eq!(
        (entry.version.as_str(), rules.version()),
        (a.version.as_str(), a.version.as_str())
    );

    let b = book
        .upload(RULES_B, DECLARATION_FIELDS, &actor("cleo"))
        .expect("upload b");
    book.approve(&b.version, &actor("ana"), "ok")
        .expect("approve b");
    assert_eq!(
        book.activate(&b.version, &actor("ana"))
            .expect("activate b"),
        Some(a.version.clone())
    );
    let states: Vec<RuleSetState> = book.list().expect("list").iter().map(|r| r.state).collect();
    assert_eq!(states, [RuleSetState::Retired, RuleSetState::Active]);
    let acts = actions(store);
    for want in [
        format!("rules.upload {} by ana", a.version),
        format!("rules.approve {} by ben", a.version),
        format!("rules.activate {} by ben", a.version),
        format!("rules.activate {} by ana", b.version),
    ] {
        assert!(acts.contains(&want), "{want} missing from {acts:?}");
    }
    assert!(AuditLog::new(store).verify().expect("verify").is_intact());

    // A draft made active in the tables: refused, though the chain is intact.
    let c = book
        .upload(
            "rule \"c\"\nwhen origin = \"RU\"\nthen lane red reason \"c\"\n",
            DECLARATION_FIELDS,
            &actor("cleo"),
        )
        .expect("upload c");
    store.force_set_rule_set_state(&b.version, "retired");
    store.force_set_rule_set_state(&c.version, "active");
    assert!(matches!(
        book.active_rules(DECLARATION_FIELDS),
        Err(RulebookError::NotBackedByAudit { version, .. }) if version == c.version
    ));
    // `audit verify` names both rows the chain does not back, though the chain is intact.
    let report = crate::integrity::verify_store(store, None).expect("verify");
    assert!(report.chain.is_intact() && !report.holds(), "{report}");
    let state_of = |version: &str| {
        report.rule_sets.iter().find_map(|f| match f {
            crate::rulebook::RuleSetFinding::Mismatch {
                version: v,
                field: "state",
                recorded,
                stored,
            } if v == version => Some((recorded.clone(), stored.clone())),
            _ => None,
        })
    };
    assert_eq!(
        state_of(&b.version),
        Some(("active".into(), "retired".into())),
        "{report}"
    );
    assert_eq!(
        state_of(&c.version),
        Some(("draft".into(), "active".into())),
        "{report}"
    );
    assert_eq!(report.rule_sets.len(), 2, "{report}");
    // The legitimately active set retired in the tables alone: refused too, not "no rules".
    store.force_set_rule_set_state(&c.version, "draft");
    assert!(matches!(
        book.active_rules(DECLARATION_FIELDS),
        Err(RulebookError::NotBackedByAudit { .. })
    ));
    store.force_set_rule_set_state(&b.version, "active");
    assert!(book
        .active_rules(DECLARATION_FIELDS)
        .expect("restored")
        .is_some());
    let report = crate::integrity::verify_store(store, None).expect("verify");
    assert!(
        report.holds(),
        "tables restored to what the chain gives: {report}"
    );
}
