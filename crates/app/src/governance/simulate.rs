//! Replays a labelled period week by week under two selection policies — exploitation only, and
//! exploitation with exploration and random draws — inspecting by the policy, learning only
//! from what was inspected and retraining weekly. It shows what a policy does to the hit rate
//! and to what the model can still learn (selection bias), before a policy is set.

use super::select::{model_rule_fields, uncertainty};
use crate::Result;
use borderline_core::Declaration;
use borderline_governance::monitor;
use borderline_governance::selectivity::{self, Candidate, Policy};
use borderline_targeting::score::Scorer;
use borderline_training::{train, TrainConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// What to replay.
pub struct SimulateRequest {
    /// The initial model's training and validation periods (with outcomes).
    pub train: Vec<Declaration>,
    pub valid: Vec<Declaration>,
    /// The period replayed week by week (with outcomes the policies do not see until they
    /// inspect).
    pub replay: Vec<Declaration>,
    /// Weeks of the replayed period at most (`None`: all).
    pub weeks: Option<usize>,
    /// Use at most about this many declarations of each period (every k-th row).
    pub sample: Option<usize>,
    /// Inspected share of each week (red lane), percent.
    pub capacity: f64,
    /// Random and exploration shares of the exploring policy (inside the capacity), percent.
    pub random: f64,
    pub explore: f64,
    pub seed: u64,
    pub config: TrainConfig,
}

/// One week (or the whole replay) under one policy.
#[derive(Debug, Serialize, Clone, Default)]
pub struct WeekResult {
    pub week: String,
    pub declarations: usize,
    pub frauds: usize,
    pub inspected: usize,
    pub found: usize,
    pub precision: f64,
    pub recall: f64,
    /// Ranking quality of the policy's current model on all of the week's declarations (ground
    /// truth the policy does not see): how well it has learned.
    pub auc: f64,
}

#[derive(Debug, Serialize)]
pub struct PolicyResult {
    pub name: String,
    pub policy: Policy,
    pub weeks: Vec<WeekResult>,
    /// Sums over the weeks; `auc` is the mean of the weekly AUCs.
    pub overall: WeekResult,
}

/// What the caller is told while the replay runs.
pub enum Progress<'a> {
    /// The initial model is being trained on this many training and validation declarations.
    Training {
        train: usize,
        valid: usize,
    },
    /// A policy starts its replay of this many weeks.
    Policy {
        name: &'a str,
        weeks: usize,
    },
    Week(&'a WeekResult),
}

/// Every k-th row so that at most about `max` remain (deterministic).
fn thin(rows: Vec<Declaration>, max: Option<usize>) -> Vec<Declaration> {
    match max {
        Some(m) if m > 0 && rows.len() > m => {
            let k = rows.len().div_ceil(m);
            rows.into_iter().step_by(k).collect()
        }
        _ => rows,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Runs the replay; the two policies in order: exploitation only, then exploitation +
/// exploration + random.
pub fn simulate(
    req: SimulateRequest,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Vec<PolicyResult>> {
    let train_rows = thin(req.train, req.sample);
    let valid_rows = thin(req.valid, req.sample);
    let mut weeks: BTreeMap<String, Vec<Declaration>> = BTreeMap::new();
    for d in thin(req.replay, req.sample) {
        weeks.entry(monitor::iso_week(d.date)).or_default().push(d);
    }
    let weeks: Vec<(String, Vec<Declaration>)> = weeks
        .into_iter()
        .take(req.weeks.unwrap_or(usize::MAX))
        .collect();
    let quiet = |_: &str| {};
    progress(Progress::Training {
        train: train_rows.len(),
        valid: valid_rows.len(),
    });
    let initial = train(&train_rows, &valid_rows, &req.config, &quiet)?;
    let exploit = Policy {
        red: req.capacity,
        yellow: 0.0,
        blue: 0.0,
        random: 0.0,
        explore: 0.0,
        seed: req.seed,
    };
    let policies = [
        ("exploitation only", exploit),
        (
            "exploitation + exploration + random",
            Policy {
                random: req.random,
                explore: req.explore,
                ..exploit
            },
        ),
    ];
    let fraud = |d: &Declaration| d.outcome.is_some_and(|o| o.fraud);
    let mut results = Vec::new();
    for (name, policy) in policies {
        policy.validate()?;
        progress(Progress::Policy {
            name,
            weeks: weeks.len(),
        });
        let mut scorer = Scorer::new(initial.clone());
        let mut learned: Vec<Declaration> = train_rows.clone();
        let mut out = Vec::new();
        for (w, (week, rows)) in weeks.iter().enumerate() {
            let scores: Vec<f64> = scorer
                .score_block(rows)
                .into_iter()
                .map(|s| s.probability)
                .collect();
            let mut x = vec![0.0f32; scorer.num_features()];
            let unknown: Vec<f64> = rows
                .iter()
                .zip(&scores)
                .map(|(d, p)| uncertainty(*p, &model_rule_fields(&scorer, d, &mut x)))
                .collect();
            let candidates: Vec<Candidate> = rows
                .iter()
                .enumerate()
                .map(|(i, d)| Candidate {
                    declaration_id: &d.declaration_id,
                    score: scores[i],
                    uncertainty: unknown[i],
                    rule_hits: &[],
                })
                .collect();
            let sel = selectivity::select(
                &candidates,
                &Policy {
                    seed: policy.seed.wrapping_add(w as u64),
                    ..policy
                },
            )?;
            let labels: Vec<bool> = rows.iter().map(fraud).collect();
            let inspected: Vec<&Declaration> = rows
                .iter()
                .zip(&sel)
                .filter(|(_, s)| s.lane.is_inspection())
                .map(|(d, _)| d)
                .collect();
            let found = inspected.iter().filter(|d| fraud(d)).count();
            let frauds = labels.iter().filter(|f| **f).count();
            out.push(WeekResult {
                week: week.clone(),
                declarations: rows.len(),
                frauds,
                inspected: inspected.len(),
                found,
                precision: ratio(found, inspected.len()),
                recall: ratio(found, frauds),
                auc: borderline_core::metrics::auc(&scores, &labels),
            });
            // Only what was inspected becomes known; the rest stays unlabelled.
            learned.extend(inspected.into_iter().cloned());
            if w + 1 < weeks.len() {
                scorer = Scorer::new(train(&learned, &valid_rows, &req.config, &quiet)?);
            }
            if let Some(r) = out.last() {
                progress(Progress::Week(r));
            }
        }
        let sum = |f: fn(&WeekResult) -> usize| out.iter().map(f).sum::<usize>();
        let (insp, found, frauds) = (sum(|w| w.inspected), sum(|w| w.found), sum(|w| w.frauds));
        let aucs: Vec<f64> = out
            .iter()
            .map(|w| w.auc)
            .filter(|a| a.is_finite())
            .collect();
        let overall = WeekResult {
            week: "all".into(),
            declarations: sum(|w| w.declarations),
            frauds,
            inspected: insp,
            found,
            precision: ratio(found, insp),
            recall: ratio(found, frauds),
            auc: aucs.iter().sum::<f64>() / aucs.len().max(1) as f64,
        };
        results.push(PolicyResult {
            name: name.into(),
            policy,
            weeks: out,
            overall,
        });
    }
    Ok(results)
}
