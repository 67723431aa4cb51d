//! Specification of "what would have changed the lane": the change the model crate suggests,
//! rescored, really is under the lane threshold, no smaller change of the searched grid is, and
//! only fields a declarant controls change. Trains a small model (feature `training`).
#![cfg(feature = "training")]
#![allow(clippy::result_large_err)]

use borderline_app::declarations::{self, Source};
use borderline_app::targeting::{counterfactual, Capacities};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_core::{Declaration, HsCode, Lane};
use borderline_ingest::Profile;
use borderline_targeting::counterfactual::{
    grid, plausible_origins, search, Alternatives, Counterfactual,
};
use borderline_targeting::score::Scorer;
use std::cmp::Ordering;

fn bundled(split: &str, every: usize) -> Vec<Declaration> {
    let path = format!(
        "{}/../../data/declarations/kcs_{split}.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let loaded = declarations::load(&Source::new(path, Profile::korea_customs())).expect("data");
    loaded.declarations.into_iter().step_by(every).collect()
}

fn scorer() -> Scorer {
    let cfg = TrainConfig {
        max_rounds: 60,
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
    Scorer::new(train_model(req, &|_| {}).expect("trains").0)
}

fn probability(s: &Scorer, d: &Declaration) -> f64 {
    let mut x = vec![0.0f32; s.num_features()];
    s.score(d, &mut x).probability
}

/// Everything but the declared value, HS code and origin is as declared.
fn only_declarant_fields_changed(a: &Declaration, b: &Declaration) -> bool {
    let mut b = b.clone();
    b.customs_value = a.customs_value;
    b.hs_code = a.hs_code.clone();
    b.origin_country = a.origin_country.clone();
    &b == a
}

#[test]
fn the_suggested_change_rescored_is_under_the_threshold_and_no_smaller_change_is() {
    let s = scorer();
    let caps = Capacities::default();
    let t = s.lane_thresholds(caps.red_percent, caps.yellow_percent);
    let test = bundled("test", 3);
    let red: Vec<&Declaration> = test
        .iter()
        .filter(|d| probability(&s, d) >= t.red)
        .take(25)
        .collect();
    assert!(red.len() >= 10, "too few red declarations: {}", red.len());
    // HS alternatives: codes other red-lane declarations used (the page uses the classifier's
    // suggestions for the description; any list serves the grid's guarantee).
    let hs_pool: Vec<HsCode> = test.iter().take(40).map(|d| d.hs_code.clone()).collect();
    let (mut found, mut not_found) = (0, 0);
    for d in red {
        let alt = Alternatives::new(hs_pool.clone(), plausible_origins(&s, d, 8));
        match search(&s, d, t.red, &alt) {
            Counterfactual::Found {
                candidate,
                probability: p,
                threshold,
                tried,
            } => {
                found += 1;
                assert_eq!(threshold, t.red);
                assert!(p >= t.red);
                let changed = candidate.change.apply(d);
                assert!(only_declarant_fields_changed(d, &changed));
                let rescored = probability(&s, &changed);
                assert!(
                    rescored < t.red,
                    "{}: suggested change rescored {rescored} >= threshold {}",
                    d.declaration_id,
                    t.red
                );
                assert!((rescored - candidate.probability).abs() < 1e-9);
                let all = grid(d, &alt);
                assert_eq!(all.len(), tried);
                for (change, cost) in &all {
                    if cost.compare(&candidate.cost) == Ordering::Less {
                        let p = probability(&s, &change.apply(d));
                        assert!(
                            p >= t.red,
                            "{}: smaller change {change:?} ({cost:?}) already brings it under ({p})",
                            d.declaration_id
                        );
                    }
                }
            }
            Counterfactual::NotFound { tried, closest, .. } => {
                not_found += 1;
                // Nothing in the grid is under the threshold.
                for (change, _) in grid(d, &alt) {
                    assert!(probability(&s, &change.apply(d)) >= t.red);
                }
                assert_eq!(grid(d, &alt).len(), tried);
                if let Some(c) = closest {
                    assert!(c.probability >= t.red);
                }
            }
            Counterfactual::AlreadyUnder { .. } => {
                panic!("a red declaration is over the threshold")
            }
        }
    }
    assert!(
        found > 0,
        "no counterfactual found for any of the red declarations ({not_found} not found)"
    );
}

#[test]
fn the_use_case_targets_the_lanes_threshold_and_has_nothing_to_say_for_green() {
    let s = scorer();
    let caps = Capacities::default();
    let t = s.lane_thresholds(caps.red_percent, caps.yellow_percent);
    let test = bundled("test", 5);
    let d = test
        .iter()
        .find(|d| {
            let p = probability(&s, d);
            p >= t.yellow && p < t.red
        })
        .expect("a yellow declaration");
    match counterfactual(&s, None, d, Lane::Yellow, caps).expect("yellow has a lower lane") {
        Counterfactual::Found {
            threshold,
            candidate,
            ..
        } => {
            assert_eq!(threshold, t.yellow);
            // No HS alternatives without a classifier: only value and origin change.
            assert!(candidate.change.hs_code.is_none());
            assert!(probability(&s, &candidate.change.apply(d)) < t.yellow);
        }
        Counterfactual::NotFound { threshold, .. } => assert_eq!(threshold, t.yellow),
        Counterfactual::AlreadyUnder { .. } => panic!("over the yellow threshold"),
    }
    assert!(counterfactual(&s, None, d, Lane::Green, caps).is_none());
    assert!(counterfactual(&s, None, d, Lane::Blue, caps).is_none());
}
