//! Counterfactual explanation: "what would have changed the lane".
//!
//! For a declaration whose risk reached a lane threshold, the smallest change to the fields a
//! declarant controls — the declared customs value, the HS code (among plausible alternatives
//! the caller gives, e.g. the HS classifier's suggestions for the goods description) and the
//! origin country (among alternatives the caller gives) — that brings the score under the
//! threshold. Every candidate of the grid is rescored with the same model, so what is reported
//! is what the model really does with the changed declaration, never an extrapolation of the
//! contributions.
//!
//! "Smallest" is an explicit order ([`Cost`]): fewer fields changed first, then the smaller
//! change of declared value (|ln factor|: doubling and halving are the same distance), then the
//! more plausible HS code and origin (their position in the caller's lists). The search tries
//! the whole grid ([`grid`]) and keeps the least costly candidate under the threshold, so no
//! smaller change in the grid brings the score under it.
//!
//! It serves due process (an officer or an appeal reads why the lane was what it was); it is
//! never shown to a trader, who could use it to tune declarations against the model.

use crate::score::Scorer;
use borderline_core::{Declaration, HsCode, Text};
use serde::Serialize;
use std::cmp::Ordering;

/// Multipliers of the declared customs value tried by default: from a third to three times
/// the declared value (1 = unchanged is implied).
pub const VALUE_FACTORS: [f64; 16] = [
    0.33, 0.5, 0.67, 0.75, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.25, 1.33, 1.5, 2.0, 2.5, 3.0,
];

/// The grid searched: alternatives for each declarant-controlled field (the declared values
/// themselves are always part of the grid, as "unchanged").
#[derive(Debug, Clone, PartialEq)]
pub struct Alternatives {
    /// Multipliers of the customs value (values <= 0, 1 and non-finite ones are ignored).
    pub value_factors: Vec<f64>,
    /// Plausible HS codes, most plausible first (the declared one is skipped).
    pub hs_codes: Vec<HsCode>,
    /// Plausible origin countries, most plausible first (the declared one is skipped).
    pub origins: Vec<Text>,
}

impl Alternatives {
    /// The default value factors and the given HS codes and origins.
    pub fn new(hs_codes: Vec<HsCode>, origins: Vec<Text>) -> Self {
        Alternatives {
            value_factors: VALUE_FACTORS.to_vec(),
            hs_codes,
            origins,
        }
    }
}

/// How large a change is; ordered (smaller first) by fields changed, then |ln value factor|,
/// then the HS code's and origin's positions among the alternatives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    pub fields: u8,
    pub value_shift: f64,
    pub hs_rank: usize,
    pub origin_rank: usize,
}

impl Cost {
    pub fn compare(&self, other: &Cost) -> Ordering {
        self.fields
            .cmp(&other.fields)
            .then(self.value_shift.total_cmp(&other.value_shift))
            .then(self.hs_rank.cmp(&other.hs_rank))
            .then(self.origin_rank.cmp(&other.origin_rank))
    }
}

/// A change to a declaration: each field `Some((declared, changed))` when changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub customs_value: Option<(f64, f64)>,
    pub hs_code: Option<(String, String)>,
    pub origin: Option<(String, String)>,
}

impl Change {
    /// `d` with this change applied.
    pub fn apply(&self, d: &Declaration) -> Declaration {
        let mut out = d.clone();
        if let Some((_, v)) = self.customs_value {
            out.customs_value = Some(v);
        }
        if let Some((_, h)) = &self.hs_code {
            if let Ok(h) = HsCode::parse(h) {
                out.hs_code = h;
            }
        }
        if let Some((_, o)) = &self.origin {
            out.origin_country = o.as_str().into();
        }
        out
    }
}

/// One rescored candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub change: Change,
    pub cost: Cost,
    /// The model's calibrated probability for the changed declaration.
    pub probability: f64,
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Counterfactual {
    /// The declaration already scores under the threshold: no change is needed.
    AlreadyUnder { probability: f64, threshold: f64 },
    /// The least costly change in the grid that brings the score under the threshold.
    Found {
        probability: f64,
        threshold: f64,
        candidate: Candidate,
        tried: usize,
    },
    /// No change in the grid brings it under; `closest` is the candidate with the lowest score.
    NotFound {
        probability: f64,
        threshold: f64,
        closest: Option<Candidate>,
        tried: usize,
    },
}

/// Every change of the grid (the unchanged declaration excluded), with its cost.
pub fn grid(d: &Declaration, alt: &Alternatives) -> Vec<(Change, Cost)> {
    let mut values: Vec<(Option<(f64, f64)>, f64)> = vec![(None, 0.0)];
    if let Some(v) = d.customs_value.filter(|v| v.is_finite() && *v > 0.0) {
        for &f in &alt.value_factors {
            if f.is_finite() && f > 0.0 && f != 1.0 {
                values.push((Some((v, v * f)), f.ln().abs()));
            }
        }
    }
    let mut hs: Vec<(Option<(String, String)>, usize)> = vec![(None, 0)];
    for (i, h) in alt.hs_codes.iter().enumerate() {
        if h != &d.hs_code
            && !hs
                .iter()
                .any(|(c, _)| c.as_ref().is_some_and(|c| c.1 == h.as_str()))
        {
            hs.push((
                Some((d.hs_code.as_str().to_string(), h.as_str().to_string())),
                i + 1,
            ));
        }
    }
    let mut origins: Vec<(Option<(String, String)>, usize)> = vec![(None, 0)];
    for (i, o) in alt.origins.iter().enumerate() {
        let o = o.trim();
        if !o.is_empty()
            && o != d.origin_country.as_str()
            && !origins
                .iter()
                .any(|(c, _)| c.as_ref().is_some_and(|c| c.1 == o))
        {
            origins.push((Some((d.origin_country.to_string(), o.to_string())), i + 1));
        }
    }
    let mut out = Vec::with_capacity(values.len() * hs.len() * origins.len());
    for (v, shift) in &values {
        for (h, hr) in &hs {
            for (o, or) in &origins {
                let fields = u8::from(v.is_some()) + u8::from(h.is_some()) + u8::from(o.is_some());
                if fields == 0 {
                    continue;
                }
                out.push((
                    Change {
                        customs_value: *v,
                        hs_code: h.clone(),
                        origin: o.clone(),
                    },
                    Cost {
                        fields,
                        value_shift: *shift,
                        hs_rank: *hr,
                        origin_rank: *or,
                    },
                ));
            }
        }
    }
    out
}

/// The least costly change of the grid that brings `d`'s probability under `threshold`,
/// every candidate rescored by `scorer`.
pub fn search(
    scorer: &Scorer,
    d: &Declaration,
    threshold: f64,
    alt: &Alternatives,
) -> Counterfactual {
    let mut x = vec![0.0f32; scorer.num_features()];
    let probability = scorer.score(d, &mut x).probability;
    if probability < threshold {
        return Counterfactual::AlreadyUnder {
            probability,
            threshold,
        };
    }
    let candidates = grid(d, alt);
    let changed: Vec<Declaration> = candidates.iter().map(|(c, _)| c.apply(d)).collect();
    let scores = scorer.score_block(&changed);
    let mut best: Option<Candidate> = None;
    let mut closest: Option<Candidate> = None;
    for ((change, cost), s) in candidates.iter().zip(&scores) {
        let cand = || Candidate {
            change: change.clone(),
            cost: *cost,
            probability: s.probability,
        };
        if s.probability < threshold {
            if best
                .as_ref()
                .is_none_or(|b| cost.compare(&b.cost) == Ordering::Less)
            {
                best = Some(cand());
            }
        } else if closest
            .as_ref()
            .is_none_or(|c| s.probability < c.probability)
        {
            closest = Some(cand());
        }
    }
    let tried = candidates.len();
    match best {
        Some(candidate) => Counterfactual::Found {
            probability,
            threshold,
            candidate,
            tried,
        },
        None => Counterfactual::NotFound {
            probability,
            threshold,
            closest,
            tried,
        },
    }
}

/// Up to `max` plausible other origins for `d`: origins from which goods of its HS6 were
/// declared in the model's training history, those where the declared unit value is most
/// usual first.
pub fn plausible_origins(scorer: &Scorer, d: &Declaration, max: usize) -> Vec<Text> {
    let luv = d.unit_value().filter(|v| *v > 0.0).map(f64::ln);
    let mut seen: Vec<(String, f64)> = scorer
        .model()
        .history
        .origins_seen_for_hs6(d)
        .into_iter()
        .filter(|(o, _)| o.as_str() != d.origin_country.as_str())
        .map(|(o, m)| {
            let distance = luv.map_or(0.0, |l| (l - f64::from(m)).abs());
            (o, distance)
        })
        .collect();
    seen.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    seen.into_iter()
        .take(max)
        .map(|(o, _)| o.as_str().into())
        .collect()
}
