//! Screening of streamed declarations against the supplier network kept in the store
//! (`borderline_app::stream::decide_batch_screened`, `borderline_app::network`), on SQLite and
//! on PostgreSQL (when `BORDERLINE_TEST_POSTGRES` is set):
//! * a declaration whose seller traded earlier with a listed party gets the network reason
//!   and at least the yellow lane, although the listed party is not on it and the worker
//!   that decides it never saw the earlier declaration (a fresh screening: the link and the
//!   listed party's screening come from the store);
//! * a redelivered batch, and a later declaration between the same parties, add no link;
//! * a party tied to a listed entity by a relationship row gets the network reason;
//! * without party screening the links are still recorded, and no screening reason is given.

mod support;

use borderline_app::cases::{self, EvidenceSources, ScreeningEvidence};
use borderline_app::network::{NetworkScreening, TRADE};
use borderline_app::screening::{bundled_matcher, screen_batch, Parties};
use borderline_app::stream::{self as app_stream, Outcome, StreamDecision};
use borderline_core::{Declaration, Lane, ReasonKind};
use borderline_governance::identity::Principal;
use borderline_governance::{Actor, GovernanceStore, Role};
use borderline_screening::{ExposurePath, PartyDirectory, PartyInfo, Relationship, Schema};
use chrono::NaiveDate;
use support::*;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")
}

fn company(name: &str) -> PartyInfo {
    PartyInfo {
        name: name.into(),
        address: None,
        country: None,
        schema: Schema::Company,
    }
}

/// The directory: one listed airline and clean traders.
fn parties(relationships: Vec<Relationship>) -> Parties {
    let mut directory = PartyDirectory::new();
    directory.insert("LISTED", company("Mahan Air"));
    for (id, name) in [
        ("TRADER", "Quillfeather Ceramics Partnership"),
        ("IMPORTER", "Brindlewood Orchard Supplies"),
        ("IMPORTER2", "Castlemoor Lantern Works"),
        ("CLEAN", "Ashgrove Tidewater Textiles"),
        ("OWNED", "Pellingham Dune Instruments"),
    ] {
        directory.insert(id, company(name));
    }
    Parties {
        directory,
        relationships,
        skipped: Vec::new(),
    }
}

/// A bundled declaration `n` with these parties (declarant and courier unknown to the
/// directory).
fn declaration(n: usize, id: &str, importer: &str, seller: &str) -> Declaration {
    let mut d = rows("test", 300)
        .into_iter()
        .nth(n)
        .expect("a bundled declaration");
    d.declaration_id = id.into();
    d.importer = importer.into();
    d.seller = Some(seller.into());
    d.declarant = "BROKER".into();
    d.courier = None;
    d
}

fn decide(
    store: &dyn GovernanceStore,
    screening: Option<&NetworkScreening>,
    batch: &[Declaration],
) -> Vec<Outcome> {
    let active = app_stream::refresh(store, None).expect("active model");
    let messages = bodies(batch);
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let policy = config(&topology("network"), "worker.1").policy;
    app_stream::decide_batch_screened(
        store,
        &actor("worker.1"),
        &active,
        policy,
        screening,
        &refs,
        day(),
    )
    .expect("decide")
}

fn decided(o: &Outcome) -> &StreamDecision {
    match o {
        Outcome::Decided(d) => d,
        other => panic!("expected a decision, got {other:?}"),
    }
}

fn codes(d: &StreamDecision, prefix: &str) -> Vec<String> {
    d.reasons
        .iter()
        .filter(|r| r.kind == ReasonKind::Screening && r.code.starts_with(prefix))
        .map(|r| r.code.clone())
        .collect()
}

fn at_least_yellow(d: &StreamDecision) {
    assert!(
        matches!(d.lane, Some(Lane::Red | Lane::Yellow)),
        "{} has lane {:?} with reasons {:?}",
        d.declaration_id,
        d.lane,
        d.reasons
    );
}

fn links(store: &dyn GovernanceStore, party: &str) -> Vec<(String, String, String)> {
    let mut tx = store.begin(false).expect("begin");
    tx.trade_links_of(&[party])
        .expect("links")
        .into_iter()
        .map(|l| (l.from, l.to, l.first_declaration))
        .collect()
}

fn a_seller_linked_to_a_listed_party_in_the_store_is_screened(store: &dyn GovernanceStore) {
    let matcher = bundled_matcher().expect("lists");
    let first_worker = NetworkScreening::new(matcher.clone(), parties(Vec::new()));
    // TRADER buys from the listed airline: the seller's own hit, and TRADER's path to it.
    let out = decide(
        store,
        Some(&first_worker),
        &[declaration(0, "D1", "TRADER", "LISTED")],
    );
    let d1 = decided(&out[0]);
    let listed: Vec<String> = codes(d1, "screening:")
        .into_iter()
        .filter_map(|c| c.strip_prefix("screening:").map(str::to_string))
        .collect();
    assert!(!listed.is_empty(), "Mahan Air is listed: {:?}", d1.reasons);
    assert!(
        codes(d1, "network:").contains(&format!("network:{}", listed[0])),
        "{:?}",
        d1.reasons
    );
    at_least_yellow(d1);

    // Another worker (nothing in memory) decides IMPORTER buying from TRADER, and IMPORTER2
    // buying from a clean seller with no history.
    let second_worker = NetworkScreening::new(matcher.clone(), parties(Vec::new()));
    let batch = [
        declaration(1, "D2", "IMPORTER", "TRADER"),
        declaration(2, "D3", "IMPORTER2", "CLEAN"),
    ];
    let out = decide(store, Some(&second_worker), &batch);
    let d2 = decided(&out[0]);
    assert!(codes(d2, "screening:").is_empty(), "{:?}", d2.reasons);
    let network = d2
        .reasons
        .iter()
        .find(|r| r.code == format!("network:{}", listed[0]))
        .unwrap_or_else(|| panic!("no network reason: {:?}", d2.reasons));
    assert!(
        network.text.contains("seller TRADER") && network.text.contains("2 hops"),
        "{}",
        network.text
    );
    at_least_yellow(d2);
    the_case_page_of_a_streamed_decision_shows_the_path_over_the_stored_link(store);
    let d3 = decided(&out[1]);
    assert!(
        d3.reasons.iter().all(|r| r.kind != ReasonKind::Screening),
        "{:?}",
        d3.reasons
    );

    // The store holds each link once, with the declaration that first showed it, and the
    // parties' screenings (the airline listed, the clean seller not).
    let trader = vec![
        (
            "IMPORTER".to_string(),
            "TRADER".to_string(),
            "D2".to_string(),
        ),
        ("TRADER".to_string(), "LISTED".to_string(), "D1".to_string()),
    ];
    assert_eq!(links(store, "TRADER"), trader);
    {
        let mut tx = store.begin(false).expect("begin");
        let s = tx
            .party_screenings(&["LISTED", "CLEAN", "BROKER"])
            .expect("screenings");
        assert!(s["LISTED"].listed && !s["CLEAN"].listed, "{s:?}");
        assert_eq!(s["LISTED"].lists_version, second_worker.lists_version());
        assert!(
            !s.contains_key("BROKER"),
            "not in the directory: not screened"
        );
        assert!(tx
            .trade_links_of(&["TRADER"])
            .expect("links")
            .iter()
            .all(|l| l.relation == TRADE));
    }

    // Redelivery: the same batch again is two duplicates and adds nothing; a later
    // declaration between the same parties adds no second link either.
    let again = decide(store, Some(&second_worker), &batch);
    assert!(
        again.iter().all(|o| matches!(o, Outcome::Duplicate(_))),
        "{again:?}"
    );
    let later = decide(
        store,
        Some(&second_worker),
        &[declaration(3, "D4", "IMPORTER", "TRADER")],
    );
    at_least_yellow(decided(&later[0]));
    assert_eq!(links(store, "TRADER"), trader);

    // A relationship row ties OWNED to the airline's entry: one link, reported.
    let owner = Relationship {
        from: "OWNED".into(),
        to: listed[0].clone(),
        relation: "owner".into(),
        source: "test".into(),
    };
    let third_worker = NetworkScreening::new(matcher, parties(vec![owner]));
    let out = decide(
        store,
        Some(&third_worker),
        &[declaration(4, "D5", "OWNED", "CLEAN")],
    );
    let d5 = decided(&out[0]);
    let network = d5
        .reasons
        .iter()
        .find(|r| r.code == format!("network:{}", listed[0]))
        .unwrap_or_else(|| panic!("no network reason: {:?}", d5.reasons));
    assert!(network.text.contains("--owner-->"), "{}", network.text);
    at_least_yellow(d5);
    let mut tx = store.begin(false).expect("begin");
    assert!(tx.party_screenings(&["OWNED"]).expect("read")["OWNED"].listed);
}

/// D2 (IMPORTER buying from TRADER) was decided by a worker after D1 stored the link
/// TRADER -> LISTED. Its case page: the declaration as decided is stored with the decision,
/// so the evidence is computed; and the path from the seller over the stored link is shown,
/// although the network the service built at start (before D1) does not hold that link.
fn the_case_page_of_a_streamed_decision_shows_the_path_over_the_stored_link(
    store: &dyn GovernanceStore,
) {
    let officer = Principal {
        actor: Actor {
            roles: vec![Role::Officer],
            ..actor("officer.1")
        },
        importer_ids: Vec::new(),
        token_id: None,
    };
    let view = cases::view(store, &officer, "D2")
        .expect("view")
        .expect("D2 is recorded");
    let input = borderline_governance::audit::scored_input(store, &view.decision.input_hash)
        .expect("read")
        .expect("a streamed decision keeps the declaration it decided");
    let input: Declaration = serde_json::from_str(&input).expect("the stored declaration");
    assert_eq!(
        (input.importer.as_str(), input.seller.as_deref()),
        ("IMPORTER", Some("TRADER"))
    );
    let matcher = bundled_matcher().expect("lists");
    let at_start = screen_batch(&[], matcher.clone(), parties(Vec::new()));
    let now = NetworkScreening::new(matcher, parties(Vec::new()));
    let paths = |network: Option<&NetworkScreening>| {
        let sources = EvidenceSources {
            screening: Some(&at_start),
            network,
            ..EvidenceSources::default()
        };
        match cases::evidence(store, &officer, sources, &view.decision)
            .expect("evidence")
            .screening
        {
            ScreeningEvidence::Screened { paths, .. } => paths,
            other => panic!("D2's parties are screened: {other:?}"),
        }
    };
    let over_the_stored_link = |p: &&ExposurePath| {
        p.party == "TRADER" && p.hops == 2 && p.relations.first().map(String::as_str) == Some(TRADE)
    };
    assert!(
        !paths(None).iter().any(|p| over_the_stored_link(&p)),
        "the start-up network holds no link stored after it was built"
    );
    let shown = paths(Some(&now));
    assert!(
        shown.iter().any(|p| over_the_stored_link(&p)),
        "the case page names the path the decision's reason names: {shown:?}"
    );
}

fn without_screening_links_are_recorded_and_no_reason_given(store: &dyn GovernanceStore) {
    let out = decide(store, None, &[declaration(0, "D1", "TRADER", "LISTED")]);
    assert!(decided(&out[0])
        .reasons
        .iter()
        .all(|r| r.kind != ReasonKind::Screening));
    assert_eq!(
        links(store, "LISTED"),
        vec![("TRADER".to_string(), "LISTED".to_string(), "D1".to_string())]
    );
}

#[test]
fn a_seller_linked_through_a_stored_trade_link_to_a_listed_party_is_screened_on_sqlite() {
    let (_dir, store, _, _) = store_with_models();
    a_seller_linked_to_a_listed_party_in_the_store_is_screened(store.as_ref());
}

#[test]
fn without_party_screening_trade_links_are_still_recorded_on_sqlite() {
    let (_dir, store, _, _) = store_with_models();
    without_screening_links_are_recorded_and_no_reason_given(store.as_ref());
}

#[test]
fn a_seller_linked_through_a_stored_trade_link_to_a_listed_party_is_screened_on_postgres() {
    let Some(url) = postgres_database("borderline_network_screened") else {
        return;
    };
    let store = postgres_store(&url);
    two_models(store.as_ref());
    a_seller_linked_to_a_listed_party_in_the_store_is_screened(store.as_ref());
}

#[test]
fn without_party_screening_trade_links_are_still_recorded_on_postgres() {
    let Some(url) = postgres_database("borderline_network_unscreened") else {
        return;
    };
    let store = postgres_store(&url);
    two_models(store.as_ref());
    without_screening_links_are_recorded_and_no_reason_given(store.as_ref());
}

/// Through NATS (`BORDERLINE_TEST_NATS`): a worker started with a party directory screens
/// each declaration; a second worker, started after the first stopped, screens a later
/// declaration against the link the first one stored.
#[test]
fn workers_with_a_party_directory_screen_each_declaration_against_the_stored_network() {
    use borderline_governance::audit::{AuditLog, Decision};
    use borderline_worker::{connect, publish, run_worker};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let Some(url) = nats_url() else { return };
    let (_dir, store, _, _) = store_with_models();
    let t = topology("network");
    let matcher = bundled_matcher().expect("lists");
    runtime().block_on(async {
        let (_c, js) = connect(&url, &t).await.expect("connect");
        for (i, d) in [
            declaration(0, "D1", "TRADER", "LISTED"),
            declaration(1, "D2", "IMPORTER", "TRADER"),
        ]
        .into_iter()
        .enumerate()
        {
            publish(&js, &t, bodies(&[d])).await.expect("publish");
            let mut cfg = config(&t, &format!("worker.{i}"));
            cfg.screening = Some(Arc::new(NetworkScreening::new(
                matcher.clone(),
                parties(Vec::new()),
            )));
            let store: Arc<dyn GovernanceStore> = store.clone();
            let report = run_worker(&url, store, cfg, Arc::new(AtomicBool::new(false)))
                .await
                .expect("worker");
            assert_eq!(report.decided, 1, "{report:?}");
        }
    });
    let d2: Decision = AuditLog::new(store.as_ref())
        .records()
        .expect("records")
        .into_iter()
        .filter(|r| r.kind == "decision")
        .map(|r| serde_json::from_str::<Decision>(&r.body).expect("decision"))
        .find(|d| d.declaration_id == "D2")
        .expect("D2 decided");
    assert!(
        d2.reasons.iter().any(|r| r.code.starts_with("network:")),
        "{:?}",
        d2.reasons
    );
    assert!(matches!(d2.lane, Lane::Red | Lane::Yellow), "{:?}", d2.lane);
}
