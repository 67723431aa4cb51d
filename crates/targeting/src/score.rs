//! Scoring: a pure function of a declaration and a loaded [`ModelArtefact`] — risk probability,
//! lane, and officer-readable reasons from the features' SHAP contributions.

use crate::features::{Dim, NUMERIC_FEATURES};
use crate::model::ModelArtefact;
use crate::trees::Contributions;
use borderline_core::{Declaration, Reason, ReasonKind};
use serde::{Deserialize, Serialize};

/// Selectivity lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Physical inspection.
    Red,
    /// Documentary check.
    Yellow,
    /// Release.
    Green,
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lane::Red => "red",
            Lane::Yellow => "yellow",
            Lane::Green => "green",
        })
    }
}

/// Declarations scored together by [`Scorer::score_block`].
pub const BLOCK: usize = 128;

/// How reasons are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Explain {
    /// Exact TreeSHAP contributions.
    #[default]
    Exact,
    /// Path (Saabas) contributions: much faster, same total, approximate attribution.
    Fast,
}

#[derive(Clone, Copy)]
enum Meta {
    Rate(usize),
    Count(usize),
    Critical(usize),
    Numeric(usize),
}

/// Scores declarations with one model. Cheap to share across threads (`&Scorer` is `Sync`).
pub struct Scorer<'m> {
    model: &'m ModelArtefact,
    meta: Vec<Meta>,
}

/// A declaration's score before lanes are assigned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub probability: f64,
    pub raw: f64,
}

impl<'m> Scorer<'m> {
    pub fn new(model: &'m ModelArtefact) -> Self {
        let mut meta = Vec::new();
        for (i, k) in model.history.spec.keys.iter().enumerate() {
            meta.push(Meta::Rate(i));
            meta.push(Meta::Count(i));
            if k.critical {
                meta.push(Meta::Critical(i));
            }
        }
        meta.extend((0..NUMERIC_FEATURES.len()).map(Meta::Numeric));
        Scorer { model, meta }
    }

    pub fn model(&self) -> &ModelArtefact {
        self.model
    }

    pub fn num_features(&self) -> usize {
        self.meta.len()
    }

    /// Writes the feature vector of `d` into `x` (length [`Scorer::num_features`]).
    pub fn features(&self, d: &Declaration, x: &mut [f32]) {
        self.model.history.features(d, x);
    }

    /// Risk score of `d`; `x` is scratch space of length [`Scorer::num_features`].
    pub fn score(&self, d: &Declaration, x: &mut [f32]) -> Scored {
        self.features(d, x);
        let raw = self.model.ensemble.raw_score(x);
        Scored {
            probability: self.model.calibration.probability(raw),
            raw,
        }
    }

    /// Scores a block of declarations at once (faster than one by one: see
    /// [`crate::trees::Ensemble::raw_scores_block`]). Same results as [`Scorer::score`].
    pub fn score_block(&self, declarations: &[Declaration]) -> Vec<Scored> {
        let nf = self.num_features();
        let mut out = Vec::with_capacity(declarations.len());
        let mut xs = vec![0.0f32; BLOCK * nf];
        let mut raw = [0.0f64; BLOCK];
        for chunk in declarations.chunks(BLOCK) {
            for (i, d) in chunk.iter().enumerate() {
                self.features(d, &mut xs[i * nf..(i + 1) * nf]);
            }
            let raw = &mut raw[..chunk.len()];
            raw.fill(0.0);
            self.model
                .ensemble
                .raw_scores_block(&xs[..chunk.len() * nf], raw);
            out.extend(raw.iter().map(|&r| Scored {
                probability: self.model.calibration.probability(r),
                raw: r,
            }));
        }
        out
    }

    /// Lane of a probability in a stream, from the validation-period score distribution.
    pub fn stream_lane(&self, probability: f64, red_percent: f64, yellow_percent: f64) -> Lane {
        let q = &self.model.lane_quantiles;
        if probability >= q.threshold_for(red_percent) {
            Lane::Red
        } else if probability >= q.threshold_for(red_percent + yellow_percent) {
            Lane::Yellow
        } else {
            Lane::Green
        }
    }

    /// The `top` features that raised the score most, phrased for an officer. `x` must hold the
    /// features of `d` (as left by [`Scorer::score`]).
    pub fn reasons(&self, d: &Declaration, x: &[f32], method: Explain, top: usize) -> Vec<Reason> {
        let c: Contributions = match method {
            Explain::Exact => self.model.ensemble.shap(x),
            Explain::Fast => self.model.ensemble.path_contributions(x),
        };
        let mut order: Vec<usize> = (0..c.values.len()).filter(|&i| c.values[i] > 0.0).collect();
        order.sort_by(|&a, &b| c.values[b].total_cmp(&c.values[a]));
        order
            .into_iter()
            .take(top)
            .map(|i| Reason {
                kind: ReasonKind::Model,
                code: self.model.features[i].name.clone(),
                text: self.phrase(i, d, x),
                contribution: Some(c.values[i]),
            })
            .collect()
    }

    fn phrase(&self, i: usize, d: &Declaration, x: &[f32]) -> String {
        let h = &self.model.history;
        let pct = |v: f64| format!("{:.0}%", v * 100.0);
        let subject = |k: usize| {
            let spec = &h.spec.keys[k];
            let values: Vec<String> = spec.dims.iter().map(|dim| dim.value(d)).collect();
            format!("{} {}", spec.label(), values.join(" x "))
        };
        match self.meta[i] {
            Meta::Rate(k) => {
                let s = h.stats(k, d);
                format!(
                    "{}: fraud found in {} of {} past inspections (smoothed rate {}, all declarations {})",
                    subject(k),
                    s.fraud,
                    s.n,
                    pct(f64::from(x[i])),
                    pct(h.prior_fraud)
                )
            }
            Meta::Critical(k) => format!(
                "{}: past critical-fraud rate {} (all declarations {})",
                subject(k),
                pct(f64::from(x[i])),
                pct(h.prior_critical)
            ),
            Meta::Count(k) => {
                if x[i] == 0.0 {
                    format!("{}: no inspection history", subject(k))
                } else {
                    format!("{}: {} past inspected declarations", subject(k), x[i])
                }
            }
            Meta::Numeric(n) => {
                let v = f64::from(x[i]);
                let cur = &d.currency;
                match NUMERIC_FEATURES[n].0 {
                    "log_unit_value" if v.is_finite() => {
                        format!("unit value {:.2} {cur}/kg", v.exp())
                    }
                    "unit_value_vs_hs6_origin" if v.is_finite() => format!(
                        "unit value {} the usual for HS {} from {} ({:+.0}%)",
                        if v < 0.0 { "below" } else { "above" },
                        Dim::Hs6.value(d),
                        d.origin_country,
                        (v.exp() - 1.0) * 100.0
                    ),
                    "unit_value_vs_hs6" if v.is_finite() => format!(
                        "unit value {} the usual for HS {} ({:+.0}%)",
                        if v < 0.0 { "below" } else { "above" },
                        Dim::Hs6.value(d),
                        (v.exp() - 1.0) * 100.0
                    ),
                    "tax_rate" => format!("duty rate {v}%"),
                    "net_mass_kg" => format!("net mass {v} kg"),
                    "customs_value" => format!("customs value {v:.0} {cur}"),
                    "tax_at_stake" => format!("duty at stake {v:.0} {cur}"),
                    "day_of_week" => format!("declared on {}", d.date.format("%A")),
                    "day_of_month" => format!("declared on day {v} of the month"),
                    name => format!("{name} missing"),
                }
            }
        }
    }
}

/// Assigns lanes to a scored batch by rank: the top `red_percent` % red, the next
/// `yellow_percent` % yellow. Returns `(rank order, lane per declaration)`.
pub fn assign_lanes(
    probabilities: &[f64],
    ids: &[&str],
    red_percent: f64,
    yellow_percent: f64,
) -> (Vec<usize>, Vec<Lane>) {
    let order = crate::metrics::rank_order(probabilities, ids);
    let n = order.len();
    let red = if red_percent > 0.0 {
        crate::metrics::capacity_count(n, red_percent)
    } else {
        0
    };
    let yellow_end = if red_percent + yellow_percent > 0.0 {
        crate::metrics::capacity_count(n, red_percent + yellow_percent).max(red)
    } else {
        0
    };
    let mut lanes = vec![Lane::Green; n];
    for (rank, &i) in order.iter().enumerate() {
        lanes[i] = if rank < red {
            Lane::Red
        } else if rank < yellow_end {
            Lane::Yellow
        } else {
            Lane::Green
        };
    }
    (order, lanes)
}
