//! Monitoring a model in use: population stability (PSI) of the score and of every feature
//! between a reference period and a recent window, and hit rates of inspected declarations by
//! lane and rule from the recorded outcomes.

use super::select::ActiveModel;
use crate::Result;
use borderline_core::Declaration;
use borderline_governance::audit::AuditLog;
use borderline_governance::feedback::FeedbackLog;
use borderline_governance::monitor::{self, Drift, HitRate, Psi, PSI_BINS};
use borderline_governance::GovernanceStore;
use borderline_targeting::score::Scorer;
use chrono::NaiveDate;
use serde::Serialize;

/// Which model to monitor.
pub enum Monitored<'a> {
    /// The store's active model.
    Active,
    /// A given scorer (e.g. a candidate model file), under its own model id.
    Scorer(&'a Scorer),
}

/// Drift of one feature.
#[derive(Debug, Clone, Serialize)]
pub struct FeaturePsi {
    pub name: String,
    pub psi: f64,
    pub drift: Drift,
}

/// What monitoring found.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    pub model_version: String,
    pub reference_declarations: usize,
    pub recent_declarations: usize,
    /// PSI of the score (`None` when either period is empty).
    pub score: Option<Psi>,
    /// Every feature's PSI, largest first.
    pub features: Vec<FeaturePsi>,
    pub hit_rates: Vec<HitRate>,
    /// The last day the model learned from, when the reference starts on or before it: the
    /// history features (rates, counts, shares) are in-sample there and their PSI overstates
    /// drift.
    pub reference_in_training_until: Option<NaiveDate>,
}

impl MonitorReport {
    /// The score and the features beyond the warning threshold, in report order.
    pub fn drifting(&self) -> impl Iterator<Item = (&str, f64, Drift)> {
        let score = self
            .score
            .as_ref()
            .filter(|p| p.drift != Drift::Stable)
            .map(|p| ("score", p.value, p.drift));
        score.into_iter().chain(
            self.features
                .iter()
                .filter(|f| f.drift != Drift::Stable)
                .map(|f| (f.name.as_str(), f.psi, f.drift)),
        )
    }
}

/// Hit rates of the inspections recorded in `store` (the latest outcome per declaration with
/// its logged decision), by lane, basis and rule per week.
pub fn hit_rates(store: &dyn GovernanceStore) -> Result<Vec<HitRate>> {
    let outcomes = FeedbackLog::new(store).latest(None)?;
    let decisions = AuditLog::new(store).latest_decisions()?;
    Ok(monitor::hit_rates(&monitor::inspections(
        &outcomes, &decisions,
    )))
}

/// Compares `recent` with `reference` under the monitored model and reads the hit rates of the
/// outcomes recorded in `store`.
pub fn monitor(
    store: &dyn GovernanceStore,
    model: Monitored<'_>,
    reference: &[Declaration],
    recent: &[Declaration],
) -> Result<MonitorReport> {
    let active;
    let scorer = match model {
        Monitored::Scorer(s) => s,
        Monitored::Active => {
            active = ActiveModel::load(store)?;
            active.scorer.as_ref()
        }
    };
    let nf = scorer.num_features();
    let columns = |rows: &[Declaration]| {
        let mut cols = vec![Vec::with_capacity(rows.len()); nf];
        let mut x = vec![0.0f32; nf];
        for d in rows {
            scorer.features(d, &mut x);
            for (c, v) in cols.iter_mut().zip(&x) {
                c.push(f64::from(*v));
            }
        }
        cols
    };
    let (ref_cols, new_cols) = (columns(reference), columns(recent));
    let probs = |rows: &[Declaration]| -> Vec<f64> {
        scorer
            .score_block(rows)
            .into_iter()
            .map(|s| s.probability)
            .collect()
    };
    let score = monitor::psi(&probs(reference), &probs(recent), PSI_BINS);
    let m = scorer.model();
    let mut features: Vec<FeaturePsi> = m
        .features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            monitor::psi(&ref_cols[i], &new_cols[i], PSI_BINS).map(|p| FeaturePsi {
                name: f.name.clone(),
                psi: p.value,
                drift: p.drift,
            })
        })
        .collect();
    features.sort_by(|a, b| b.psi.total_cmp(&a.psi));

    let hit_rates = hit_rates(store)?;

    let t = &m.training;
    let learned_until = [&t.train_period.1, &t.valid_period.1]
        .into_iter()
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .max();
    let reference_in_training_until = match (learned_until, reference.iter().map(|d| d.date).min())
    {
        (Some(end), Some(first)) if first <= end => Some(end),
        _ => None,
    };
    Ok(MonitorReport {
        model_version: m.model_id.clone(),
        reference_declarations: reference.len(),
        recent_declarations: recent.len(),
        score,
        features,
        hit_rates,
        reference_in_training_until,
    })
}
