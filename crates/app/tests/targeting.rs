//! Specification of the targeting use cases at the application boundary: what every front end
//! (CLI, service, workers) gets when it scores, ranks or streams declarations. They train a small
//! model, so they need the `training` feature (on in `cargo test --workspace`, which the CLI's
//! dependency enables).
#![cfg(feature = "training")]
#![allow(clippy::result_large_err)] // AppError carries context; moved only on failure

use borderline_app::declarations::{self, Source};
use borderline_app::targeting::{
    evaluate_model, rank_batch, score_one, score_stream, ActiveScorer, Capacities, Explain, Reasons,
};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_core::{Declaration, Lane};
use borderline_ingest::Profile;
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::Scorer;
use std::sync::OnceLock;

fn bundled_path(split: &str) -> String {
    format!(
        "{}/../../data/declarations/kcs_{split}.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn bundled(split: &str, every: usize) -> Vec<Declaration> {
    let loaded = declarations::load(&Source::new(bundled_path(split), Profile::korea_customs()))
        .expect("bundled data");
    loaded.declarations.into_iter().step_by(every).collect()
}

/// One small model shared by the tests (training is the slow part).
fn model() -> &'static ModelArtefact {
    static MODEL: OnceLock<ModelArtefact> = OnceLock::new();
    MODEL.get_or_init(|| {
        let cfg = TrainConfig {
            max_rounds: 80,
            early_stopping_rounds: 20,
            learning_rate: 0.1,
            num_leaves: 15,
            threads: 1,
            ..TrainConfig::default()
        };
        let req = TrainRequest {
            train: bundled("train", 8),
            valid: bundled("valid", 4),
            recorded: Vec::new(),
            config: cfg,
        };
        train_model(req, &|_| {}).expect("trains").0
    })
}

/// The date the tests score as of: the day after the bundled test period (2021-Q2).
fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2021, 7, 1).expect("date")
}

fn scorer() -> Scorer {
    Scorer::new(model().clone())
}

#[test]
fn a_batch_is_ranked_by_risk_with_lanes_from_thresholds_under_capacity_ceilings() {
    let rows = bundled("test", 20);
    let s = scorer();
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    assert_eq!(list.len(), rows.len());
    for w in list.windows(2) {
        assert!(w[0].risk_score >= w[1].risk_score, "rank order is by risk");
    }
    let t = s.lane_thresholds(5.0, 10.0);
    let red = list.iter().filter(|e| e.lane == Lane::Red).count();
    let yellow = list.iter().filter(|e| e.lane == Lane::Yellow).count();
    assert!(red <= rows.len() * 5 / 100, "red <= floor(n x 5%)");
    assert!(
        red + yellow <= rows.len() * 15 / 100,
        "red + yellow <= floor(n x 15%)"
    );
    let above_red = list.iter().filter(|e| e.risk_score >= t.red).count();
    assert_eq!(
        red,
        above_red.min(rows.len() * 5 / 100),
        "red: above the threshold, capped"
    );
    for e in &list {
        if e.lane == Lane::Red {
            assert!(e.risk_score >= t.red);
        }
        if e.lane.is_inspection() {
            assert!(e.risk_score >= t.yellow);
        }
    }
    assert!(list
        .iter()
        .filter(|e| e.lane == Lane::Red)
        .all(|e| !e.reasons.is_empty()));
    // Green declarations get no model reasons (data-quality reasons, yes).
    assert!(list.iter().filter(|e| e.lane == Lane::Green).all(|e| e
        .reasons
        .iter()
        .all(|r| r.kind != borderline_core::ReasonKind::Model)));
    // The red and yellow ones are explained together (block TreeSHAP): the same reasons, in
    // the same order, as explaining each declaration alone.
    let mut x = vec![0.0; s.num_features()];
    let mut explained = 0;
    for e in list.iter().filter(|e| e.lane.is_inspection()) {
        s.features(e.declaration, &mut x);
        let alone = s.explain(e.declaration, &x, Explain::Exact, Reasons::default().top);
        assert!(e.reasons.len() >= alone.len());
        for (a, b) in e.reasons.iter().zip(&alone) {
            assert_eq!((&a.code, &a.text), (&b.code, &b.text));
            let (a, b) = (a.contribution.unwrap_or(0.0), b.contribution.unwrap_or(0.0));
            assert!((a - b).abs() <= 1e-9, "{a} vs {b}");
        }
        explained += 1;
    }
    assert!(explained > 0);
}

/// Issue 14 item 4: a lane means the same in any batch. Twenty declarations that are green or
/// yellow inside the whole test period keep those lanes scored as a 20-row file (by rank, the
/// riskiest of them would be red in the small file, whatever its score).
#[test]
fn twenty_rows_alone_get_the_lanes_they_get_inside_a_large_batch() {
    let s = scorer();
    let big = bundled("test", 2);
    let in_big = rank_batch(
        &s,
        &big,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    let yellow = in_big
        .iter()
        .find(|e| e.lane == Lane::Yellow)
        .expect("a yellow declaration");
    let greens = in_big.iter().filter(|e| e.lane == Lane::Green).step_by(50);
    let picked: Vec<&Declaration> = std::iter::once(yellow)
        .chain(greens)
        .take(20)
        .map(|e| e.declaration)
        .collect();
    assert_eq!(picked.len(), 20);
    let small: Vec<Declaration> = picked.iter().map(|d| (*d).clone()).collect();
    let alone = rank_batch(
        &s,
        &small,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    for e in &alone {
        let there = in_big
            .iter()
            .find(|b| b.declaration_id == e.declaration_id)
            .expect("present");
        assert_eq!(e.lane, there.lane, "{}", e.declaration_id);
        let one = score_one(
            &s,
            e.declaration,
            Capacities::default(),
            Reasons::default(),
            as_of(),
        );
        assert_eq!(one.lane, e.lane, "a stream agrees");
    }
    assert!(alone.iter().all(|e| e.lane != Lane::Red));
}

#[test]
fn a_batch_smaller_than_one_over_the_share_gets_no_red_lane() {
    let rows: Vec<Declaration> = bundled("test", 50).into_iter().take(10).collect();
    let list = rank_batch(
        &scorer(),
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    assert!(list.iter().all(|e| e.lane != Lane::Red), "5% of 10 is 0");
}

#[test]
fn a_declaration_scored_alone_gets_the_same_risk_as_in_a_batch() {
    let rows = bundled("test", 40);
    let s = scorer();
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    for e in list.iter().take(20) {
        let alone = score_one(
            &s,
            e.declaration,
            Capacities::default(),
            Reasons::default(),
            as_of(),
        );
        assert_eq!(alone.risk_score, e.risk_score);
    }
}

#[test]
fn a_stream_scores_every_accepted_row_in_input_order_like_one_by_one() {
    let s = scorer();
    let source = Source::new(bundled_path("test"), Profile::korea_customs());
    let mut seen = Vec::new();
    let (report, _) = score_stream(
        &s,
        &source,
        Capacities::default(),
        Reasons::default(),
        as_of(),
        |e| {
            seen.push((e.declaration_id.to_string(), e.risk_score, e.lane));
            Ok(())
        },
    )
    .expect("streams");
    assert_eq!(seen.len() as u64, report.accepted);
    let all = bundled("test", 1);
    for (i, (id, p, lane)) in seen.iter().enumerate().step_by(997) {
        assert_eq!(id.as_str(), all[i].declaration_id.as_str());
        let alone = score_one(
            &s,
            &all[i],
            Capacities::default(),
            Reasons::default(),
            as_of(),
        );
        assert_eq!((*p, *lane), (alone.risk_score, alone.lane));
    }
}

/// The stream holds scored declarations back until enough are red or yellow to fill a block of
/// explanations: every row still comes out once, in input order, with the lane, score and
/// reasons it gets alone. With the default shares (about 15 % red or yellow here) blocks fill
/// and part of the held rows is released at a time; with small shares they never fill and all
/// are released at the end.
#[test]
fn a_stream_that_holds_rows_for_full_explanation_blocks_keeps_order_and_reasons() {
    let s = scorer();
    let source = Source::new(bundled_path("test"), Profile::korea_customs());
    let all = bundled("test", 1);
    for capacities in [
        Capacities::default(),
        Capacities {
            red_percent: 0.3,
            yellow_percent: 0.3,
        },
    ] {
        let mut seen = Vec::new();
        score_stream(&s, &source, capacities, Reasons::default(), as_of(), |e| {
            seen.push((
                e.declaration_id.to_string(),
                e.risk_score,
                e.lane,
                e.reasons,
            ));
            Ok(())
        })
        .expect("streams");
        assert_eq!(seen.len(), all.len());
        let mut explained = 0;
        for (i, (id, p, lane, reasons)) in seen.iter().enumerate() {
            assert_eq!(id.as_str(), all[i].declaration_id.as_str(), "row {i}");
            if i % 7 != 0 {
                continue;
            }
            let alone = score_one(&s, &all[i], capacities, Reasons::default(), as_of());
            assert_eq!((*p, *lane), (alone.risk_score, alone.lane), "row {i}");
            assert_eq!(reasons.len(), alone.reasons.len(), "row {i}");
            for (b, a) in reasons.iter().zip(&alone.reasons) {
                assert_eq!((&b.kind, &b.code, &b.text), (&a.kind, &a.code, &a.text));
                let (cb, ca) = (b.contribution.unwrap_or(0.0), a.contribution.unwrap_or(0.0));
                assert!((cb - ca).abs() <= 1e-9, "row {i}: {cb} vs {ca}");
            }
            explained += usize::from(matches!(lane, Lane::Red | Lane::Yellow));
        }
        assert!(explained >= 2, "{explained} red or yellow rows compared");
    }
}

#[test]
fn evaluation_reports_auc_and_precision_at_capacities() {
    let rows = bundled("test", 4);
    let r = evaluate_model(&scorer(), &rows);
    assert!(r.auc > 0.7 && r.auc <= 1.0, "AUC {}", r.auc);
    assert!(r.precision_at.contains_key("5"));
}

#[test]
fn activating_a_model_swaps_it_for_new_requests_while_requests_in_flight_keep_theirs() {
    let active = ActiveScorer::default();
    assert!(
        active.current().is_none(),
        "no model until one is activated"
    );
    active.swap(model().clone());
    let in_flight = active.current().expect("active");
    let mut other = model().clone();
    other.model_id = "risk-other".into();
    let previous = active.swap(other).expect("had one");
    assert_eq!(previous.model().model_id, model().model_id);
    assert_eq!(in_flight.model().model_id, model().model_id);
    assert_eq!(
        active.current().expect("active").model().model_id,
        "risk-other"
    );
}

#[test]
fn an_activated_model_is_ready_to_explain_before_its_first_request() {
    let active = ActiveScorer::default();
    // A fresh artefact: the shared test model may already have explained something.
    let fresh = ModelArtefact::from_bytes(&model().to_bytes(), "memory").expect("loads");
    assert!(
        !fresh.ensemble.exact_explanations_prepared(),
        "a loaded artefact holds no explanation tables until asked"
    );
    active.swap(fresh);
    let current = active.current().expect("active");
    assert!(
        current.model().ensemble.exact_explanations_prepared(),
        "activation builds the exact-explanation tables, not the first request"
    );
}

#[test]
fn the_scorer_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scorer>();
    assert_send_sync::<ActiveScorer>();
}

#[test]
fn an_artefact_round_trips_through_bytes_with_identical_scores() {
    let bytes = model().to_bytes();
    let back = ModelArtefact::from_bytes(&bytes, "memory").expect("loads");
    assert_eq!(back.model_id, model().model_id);
    let rows = bundled("test", 100);
    let (a, b) = (scorer(), Scorer::new(back));
    let mut x = vec![0.0; a.num_features()];
    for d in &rows {
        assert_eq!(a.score(d, &mut x).raw, b.score(d, &mut x).raw);
    }
    assert!(ModelArtefact::from_bytes(b"not a model", "junk").is_err());
}

/// A screening signal that reports one listed party.
struct OneHit(String);

impl borderline_core::Signal for OneHit {
    fn name(&self) -> &str {
        "screening"
    }
    fn feature_defs(&self) -> Vec<borderline_core::FeatureDef> {
        Vec::new()
    }
    fn features(&self, _: &Declaration, _: &mut [f32]) {}
    fn reasons(&self, d: &Declaration) -> Vec<borderline_core::Reason> {
        if d.declaration_id.as_str() == self.0 {
            vec![borderline_core::Reason {
                kind: borderline_core::ReasonKind::Screening,
                code: "screening:SDN:1".into(),
                text: "importer matches SDN entry 1".into(),
                contribution: None,
            }]
        } else {
            Vec::new()
        }
    }
}

#[test]
fn a_screening_hit_sends_a_low_risk_declaration_to_at_least_the_documentary_lane() {
    let rows = bundled("test", 20);
    let s = scorer();
    let plain = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    let lowest = plain.last().expect("rows").declaration_id.to_string();
    assert_eq!(plain.last().expect("rows").lane, Lane::Green);
    let hit = OneHit(lowest.clone());
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        Some(&hit),
        as_of(),
    );
    let e = list
        .iter()
        .find(|e| e.declaration_id == lowest)
        .expect("present");
    assert_eq!(e.lane, Lane::Yellow);
    assert!(e.reasons.iter().any(|r| r.code == "screening:SDN:1"));
    // Everything else keeps its lane.
    for (a, b) in plain.iter().zip(&list) {
        if a.declaration_id != lowest {
            assert_eq!(a.lane, b.lane);
        }
    }
    let off = borderline_app::targeting::rank_batch_with_policy(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        Some(&hit),
        borderline_app::targeting::ScreeningPolicy { at_least: None },
        as_of(),
    );
    assert_eq!(off.last().expect("rows").lane, Lane::Green);
}

#[test]
fn an_unseen_party_gets_one_plain_reason_not_per_feature_noise() {
    let s = scorer();
    let mut d = bundled("test", 20).remove(3);
    d.importer = "IMPORTER-NEVER-SEEN".into();
    d.declarant = "DECLARANT-NEVER-SEEN".into();
    let mut x = vec![0.0; s.num_features()];
    s.features(&d, &mut x);
    let reasons = s.reasons(
        &d,
        &x,
        borderline_targeting::score::Explain::Exact,
        s.num_features(),
    );
    let texts: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
    assert!(
        texts.iter().all(|t| !t.contains("0 of 0")),
        "no 'fraud found in 0 of 0': {texts:?}"
    );
    let mut unique = texts.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), texts.len(), "each sentence once: {texts:?}");
    let about_importer = texts
        .iter()
        .filter(|t| t.starts_with("new importer IMPORTER-NEVER-SEEN"))
        .count();
    assert!(about_importer <= 1, "{texts:?}");
}

/// The implausible rows: each gets its data-quality reason in every scoring path,
/// whatever its lane; an impossible one (1e300, 9999-12-31) sends it to at least the documentary
/// lane, the others (0 kg, HS 999999, origin ZZ) leave the model's lane.
fn implausible_rows() -> Vec<(Declaration, &'static str)> {
    let base = bundled("test", 97);
    let mut out = Vec::new();
    let mut row = |i: usize, code: &'static str, f: &dyn Fn(&mut Declaration)| {
        let mut d = base[i].clone();
        d.declaration_id = format!("DQ-{i}").into();
        f(&mut d);
        out.push((d, code));
    };
    row(0, "quality.zero_mass", &|d| d.net_mass_kg = Some(0.0));
    row(1, "quality.absurd_value", &|d| {
        d.customs_value = Some(1e300)
    });
    row(2, "quality.unknown_hs_code", &|d| {
        d.hs_code = borderline_core::HsCode::parse("999999").expect("six digits")
    });
    row(3, "quality.unknown_origin", &|d| {
        d.origin_country = "ZZ".into()
    });
    row(4, "quality.future_date", &|d| {
        d.date = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("date")
    });
    out
}

fn has_quality_reason(reasons: &[borderline_core::Reason], code: &str) -> bool {
    reasons
        .iter()
        .any(|r| r.code == code && r.kind == borderline_core::ReasonKind::DataQuality)
}

#[test]
fn implausible_declarations_get_their_data_quality_reason_in_every_scoring_path() {
    let s = scorer();
    let bad = implausible_rows();
    // Mixed into ordinary declarations, most of which are green and have no such reason.
    let mut rows = bundled("test", 40);
    let ordinary = rows.len();
    rows.extend(bad.iter().map(|(d, _)| d.clone()));
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    for (d, code) in &bad {
        let e = list
            .iter()
            .find(|e| e.declaration_id == d.declaration_id.as_str())
            .expect("ranked");
        assert!(
            has_quality_reason(&e.reasons, code),
            "{code}: {:?}",
            e.reasons
        );
        let alone = score_one(&s, d, Capacities::default(), Reasons::default(), as_of());
        assert!(has_quality_reason(&alone.reasons, code), "score_one {code}");
        if borderline_quality::is_impossible(code) {
            assert!(e.lane.is_inspection(), "{code} is at least yellow");
            assert!(alone.lane.is_inspection());
        }
    }
    let flagged = list
        .iter()
        .filter(|e| {
            e.reasons
                .iter()
                .any(|r| r.kind == borderline_core::ReasonKind::DataQuality)
        })
        .count();
    assert!(
        flagged < ordinary / 2 + bad.len(),
        "ordinary rows are mostly clean"
    );
    // Without the policy the impossible rows keep the model's lane.
    let off = borderline_app::targeting::rank_batch_with_policy(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        borderline_app::targeting::LanePolicy {
            data_quality: borderline_app::targeting::DataQualityPolicy { at_least: None },
            ..Default::default()
        },
        as_of(),
    );
    let lane_of = |l: &[borderline_app::targeting::Decided<'_>], id: &str| {
        l.iter().find(|e| e.declaration_id == id).map(|e| e.lane)
    };
    let raised = bad
        .iter()
        .filter(|(d, _)| {
            lane_of(&off, d.declaration_id.as_str()) != lane_of(&list, d.declaration_id.as_str())
        })
        .count();
    assert!(raised <= 2, "only the two impossible rows can move");

    // The stream: the same rows from a file in the generic layout.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("implausible.csv");
    let mut w = csv::Writer::from_path(&path).expect("csv");
    w.write_record([
        "declaration_id",
        "date",
        "importer",
        "hs_code",
        "origin_country",
        "net_mass_kg",
        "customs_value",
        "currency",
    ])
    .expect("header");
    for (d, _) in &bad {
        w.write_record([
            d.declaration_id.to_string(),
            d.date.to_string(),
            d.importer.to_string(),
            d.hs_code.as_str().to_string(),
            d.origin_country.to_string(),
            d.net_mass_kg.unwrap_or_default().to_string(),
            format!("{:e}", d.customs_value.unwrap_or_default()),
            "KRW".to_string(),
        ])
        .expect("row");
    }
    w.flush().expect("flush");
    let mut seen = Vec::new();
    score_stream(
        &s,
        &Source::new(&path, Profile::generic()),
        Capacities::default(),
        Reasons::default(),
        as_of(),
        |e| {
            seen.push((e.declaration_id.to_string(), e.lane, e.reasons));
            Ok(())
        },
    )
    .expect("streams");
    assert_eq!(seen.len(), bad.len());
    for ((id, lane, reasons), (d, code)) in seen.iter().zip(&bad) {
        assert_eq!(id.as_str(), d.declaration_id.as_str());
        assert!(
            has_quality_reason(reasons, code),
            "stream {code}: {reasons:?}"
        );
        assert!(!borderline_quality::is_impossible(code) || lane.is_inspection());
    }
}

#[test]
fn the_reference_date_is_the_callers_not_the_batchs_latest_date() {
    let s = scorer();
    let mut d = bundled("test", 97).remove(0);
    d.date = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
    // Alone in its batch, its own date is the batch's latest; it is still in the future.
    let rows = vec![d];
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    assert!(has_quality_reason(&list[0].reasons, "quality.future_date"));
    let later = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        later,
    );
    assert!(!has_quality_reason(&list[0].reasons, "quality.future_date"));
}

/// Issue 14: a row in USD scored by a model whose price benchmarks are in KRW says its price
/// was not compared (before, USD per kg went into KRW-trained features silently).
#[test]
fn a_value_in_another_currency_than_the_models_says_it_was_not_price_compared() {
    let s = scorer();
    let mut rows = bundled("test", 500);
    rows[0].currency = "USD".into();
    let list = rank_batch(
        &s,
        &rows,
        Capacities::default(),
        Reasons::default(),
        None,
        as_of(),
    );
    for e in &list {
        let said = e
            .reasons
            .iter()
            .find(|r| r.code == "valuation_currency_mismatch");
        if e.declaration_id == rows[0].declaration_id.as_str() {
            let r = said.expect("USD row has the reason");
            assert!(
                r.text
                    .starts_with("value declared in USD; the model's price benchmarks are in KRW"),
                "{}",
                r.text
            );
        } else {
            assert!(said.is_none(), "KRW rows are compared");
        }
    }
    let one = score_one(
        &s,
        &rows[0],
        Capacities::default(),
        Reasons::default(),
        as_of(),
    );
    assert!(one
        .reasons
        .iter()
        .any(|r| r.code == "valuation_currency_mismatch"));
}
