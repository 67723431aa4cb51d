//! Scoring: a pure function of a declaration and a loaded [`ModelArtefact`] — risk probability,
//! lane, and officer-readable reasons from the features' SHAP contributions.

use crate::features::{Dim, KeySpec, NUMERIC_FEATURES};
use crate::model::ModelArtefact;
use crate::trees::Contributions;
use borderline_core::lane::LaneThresholds;
use borderline_core::{Declaration, Reason, ReasonKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use borderline_core::Lane;

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
    /// Feature of an analytic module (phrased from its name).
    Module,
}

/// The past inspections a history reason rests on: `inspected` declarations of key `key`
/// (index into the feature spec's keys), read as a fraud rate, a count or a critical rate.
struct Evidence {
    key: usize,
    kind: EvidenceKind,
    inspected: f32,
}

#[derive(PartialEq)]
enum EvidenceKind {
    Fraud,
    Count,
    Critical,
}

impl Evidence {
    /// The same statement about the same inspections: one key refines the other and both
    /// counted the same number, so the finer key's inspections are all of the coarser's.
    fn is_same_as(&self, other: &Evidence, keys: &[KeySpec]) -> bool {
        let (a, b) = (&keys[self.key], &keys[other.key]);
        self.kind == other.kind
            && self.inspected == other.inspected
            && (a.refines(b) || b.refines(a))
    }
}

/// Scores declarations with one model. Owned, `Send + Sync`, cheap to clone (the artefact is
/// shared).
#[derive(Clone)]
pub struct Scorer {
    model: Arc<ModelArtefact>,
    meta: Vec<Meta>,
    history_features: usize,
}

/// A declaration's score before lanes are assigned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub probability: f64,
    pub raw: f64,
}

impl Scorer {
    /// A scorer owning (a shared handle to) its artefact: `Send + Sync`, so a server holds one
    /// behind an atomic swap and activates a new model without a restart.
    pub fn new(model: impl Into<Arc<ModelArtefact>>) -> Self {
        let model: Arc<ModelArtefact> = model.into();
        let mut meta = Vec::new();
        for (i, k) in model.history.spec.keys.iter().enumerate() {
            meta.push(Meta::Rate(i));
            meta.push(Meta::Count(i));
            if k.critical {
                meta.push(Meta::Critical(i));
            }
        }
        meta.extend((0..NUMERIC_FEATURES.len()).map(Meta::Numeric));
        let nh = meta.len();
        meta.resize(model.features.len().max(nh), Meta::Module);
        Scorer {
            model,
            meta,
            history_features: nh,
        }
    }

    pub fn model(&self) -> &ModelArtefact {
        &self.model
    }

    /// The shared artefact handle.
    pub fn artefact(&self) -> &Arc<ModelArtefact> {
        &self.model
    }

    pub fn num_features(&self) -> usize {
        self.meta.len()
    }

    /// Writes the feature vector of `d` into `x` (length [`Scorer::num_features`]).
    pub fn features(&self, d: &Declaration, x: &mut [f32]) {
        let (history, modules) = x.split_at_mut(self.history_features);
        self.model.history.features(d, history);
        self.model.modules.features(d, modules);
    }

    /// The analytic modules' own reasons for `d` (valuation flags, HS divergence), independent
    /// of the model's contributions.
    pub fn module_reasons(&self, d: &Declaration) -> Vec<Reason> {
        self.model.modules.reasons(d)
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

    /// The absolute score thresholds of the red lane at `red_percent` % and of the yellow lane
    /// at `red_percent + yellow_percent` %: the scores that share of validation-period
    /// declarations reached out of sample ([`ModelArtefact::lane_quantiles`]).
    pub fn lane_thresholds(&self, red_percent: f64, yellow_percent: f64) -> LaneThresholds {
        let q = &self.model.lane_quantiles;
        let red = q.threshold_for(red_percent);
        LaneThresholds {
            red,
            yellow: q.threshold_for(red_percent + yellow_percent).min(red),
        }
    }

    /// Lane of a probability on its own (a stream, one declaration): the thresholds alone.
    pub fn stream_lane(&self, probability: f64, red_percent: f64, yellow_percent: f64) -> Lane {
        self.lane_thresholds(red_percent, yellow_percent)
            .lane(probability)
    }

    /// The `top` features that raised the score most, phrased for an officer. `x` must hold the
    /// features of `d` (as left by [`Scorer::score`]).
    pub fn reasons(&self, d: &Declaration, x: &[f32], method: Explain, top: usize) -> Vec<Reason> {
        let c: Contributions = match method {
            Explain::Exact => self.model.ensemble.shap(x),
            Explain::Fast => self.model.ensemble.path_contributions(x),
        };
        self.reasons_from(d, x, &c, top)
    }

    /// [`Scorer::reasons`] of several declarations at once, the same reasons: `xs` holds their
    /// features row-major (as [`Scorer::features`] writes them, [`Scorer::num_features`] per
    /// declaration). Exact contributions come from [`crate::trees::Ensemble::shap_block`], which
    /// explains a block of declarations several times faster than one by one: use this
    /// wherever more than one declaration needs reasons.
    pub fn reasons_block(
        &self,
        declarations: &[&Declaration],
        xs: &[f32],
        method: Explain,
        top: usize,
    ) -> Vec<Vec<Reason>> {
        let nf = self.num_features();
        let rows = declarations.len().min(xs.len() / nf.max(1));
        let xs = &xs[..rows * nf];
        let contributions: Vec<Contributions> = match method {
            Explain::Exact => self.model.ensemble.shap_block(xs),
            Explain::Fast => xs
                .chunks_exact(nf)
                .map(|x| self.model.ensemble.path_contributions(x))
                .collect(),
        };
        declarations
            .iter()
            .zip(xs.chunks_exact(nf))
            .zip(&contributions)
            .map(|((d, x), c)| self.reasons_from(d, x, c, top))
            .collect()
    }

    /// [`Scorer::explain`] of several declarations at once (see [`Scorer::reasons_block`]).
    pub fn explain_block(
        &self,
        declarations: &[&Declaration],
        xs: &[f32],
        method: Explain,
        top: usize,
    ) -> Vec<Vec<Reason>> {
        let mut out = self.reasons_block(declarations, xs, method, top);
        for (reasons, d) in out.iter_mut().zip(declarations) {
            self.add_module_reasons(d, reasons);
        }
        out
    }

    /// The top reasons from contributions `c` of `d` (features `x`).
    fn reasons_from(
        &self,
        d: &Declaration,
        x: &[f32],
        c: &Contributions,
        top: usize,
    ) -> Vec<Reason> {
        let mut order: Vec<usize> = (0..c.values.len()).filter(|&i| c.values[i] > 0.0).collect();
        order.sort_by(|&a, &b| c.values[b].total_cmp(&c.values[a]));
        order.truncate(top);
        // Module features quote the module's own reason when it gave one for that feature.
        let own = if order.iter().any(|&i| i >= self.history_features) {
            self.module_reasons(d)
        } else {
            Vec::new()
        };
        let mut out: Vec<Reason> = Vec::with_capacity(order.len());
        // Per reason: its sentence before any note, and the history evidence it rests on.
        let mut stated: Vec<(String, Option<Evidence>)> = Vec::with_capacity(order.len());
        for i in order {
            let name = &self.model.features[i].name;
            let text = match own.iter().find(|r| &r.code == name) {
                Some(r) => r.text.clone(),
                None => self.phrase(i, d, x),
            };
            // Features resting on the same evidence phrase to the same sentence (a key's rate
            // and count when it was never inspected), or rest on the very same past
            // inspections under a finer and a coarser key (a price point x origin and its HS6 x
            // origin, each 4 of 4): state it once, with their summed contribution.
            let evidence = self.evidence(i, d);
            let same = stated.iter().position(|(t, e)| {
                *t == text
                    || matches!((e, &evidence), (Some(a), Some(b)) if a.is_same_as(b, &self.model.history.spec.keys))
            });
            if let Some(j) = same {
                let r = &mut out[j];
                r.contribution = Some(r.contribution.unwrap_or(0.0) + c.values[i]);
                if stated[j].0 != text {
                    if let Some(e) = &evidence {
                        let subject = self.subject(e.key, d);
                        if !r.text.contains(&subject) {
                            r.text = format!(
                                "{}; the same {} past inspections as {subject}",
                                r.text, e.inspected
                            );
                        }
                    }
                }
                continue;
            }
            stated.push((text.clone(), evidence));
            out.push(Reason {
                kind: ReasonKind::Model,
                code: name.clone(),
                text,
                contribution: Some(c.values[i]),
            });
        }
        out
    }

    /// The past inspections a history feature of `d` rests on (none for other features and
    /// for keys never inspected).
    fn evidence(&self, i: usize, d: &Declaration) -> Option<Evidence> {
        let (key, kind) = match self.meta[i] {
            Meta::Rate(k) => (k, EvidenceKind::Fraud),
            Meta::Count(k) => (k, EvidenceKind::Count),
            Meta::Critical(k) => (k, EvidenceKind::Critical),
            _ => return None,
        };
        let inspected = self.model.history.stats(key, d).n;
        (inspected > 0.0).then_some(Evidence {
            key,
            kind,
            inspected,
        })
    }

    /// A key's label and the declaration's values for it ("HS6 code x country of origin
    /// 401519 x PK").
    fn subject(&self, k: usize, d: &Declaration) -> String {
        let spec = &self.model.history.spec.keys[k];
        let values: Vec<String> = spec.dims.iter().map(|dim| dim.value(d)).collect();
        if values.iter().all(|v| v.trim().is_empty()) {
            format!("{} (not declared)", spec.label())
        } else {
            format!("{} {}", spec.label(), values.join(" x "))
        }
    }

    /// The rule fields the model fills for `d` (see `borderline_governance::rules`): from its
    /// own features `unit_value_vs_norm` (unit value over the usual for the HS6 x origin, 1 =
    /// usual) and `importer_history` (past inspected declarations of the importer), then every
    /// module's fields (valuation percentile and z, HS divergence). `x` must hold the features
    /// of `d`. This is the one place that knows which features the rule fields come from.
    pub fn rule_values(&self, d: &Declaration, x: &[f32], out: &mut Vec<(&'static str, f64)>) {
        for (i, m) in self.meta.iter().enumerate() {
            let Some(v) = x.get(i).map(|v| f64::from(*v)).filter(|v| v.is_finite()) else {
                continue;
            };
            match *m {
                Meta::Numeric(n) if NUMERIC_FEATURES[n].0 == "unit_value_vs_hs6_origin" => {
                    // The feature is a log ratio; analysts read "0.3 times the usual price".
                    out.push(("unit_value_vs_norm", v.exp()));
                }
                Meta::Count(k) if self.model.history.spec.keys[k].dims == [Dim::Importer] => {
                    out.push(("importer_history", v));
                }
                _ => {}
            }
        }
        self.model.modules.rule_values(d, out);
    }

    /// What an officer sees for a selected declaration: the `top` model reasons, then the
    /// modules' own flags (valuation, HS divergence) not already quoted by a model reason.
    pub fn explain(&self, d: &Declaration, x: &[f32], method: Explain, top: usize) -> Vec<Reason> {
        let mut out = self.reasons(d, x, method, top);
        self.add_module_reasons(d, &mut out);
        out
    }

    /// The modules' own flags not already quoted by a model reason.
    fn add_module_reasons(&self, d: &Declaration, out: &mut Vec<Reason>) {
        for r in self.module_reasons(d) {
            if !out.iter().any(|o| o.text == r.text) {
                out.push(r);
            }
        }
    }

    fn phrase(&self, i: usize, d: &Declaration, x: &[f32]) -> String {
        let h = &self.model.history;
        let pct = |v: f64| format!("{:.0}%", v * 100.0);
        let subject = |k: usize| self.subject(k, d);
        // One plain sentence for a party or combination the model has never seen inspected,
        // whichever of its rate, count or critical-rate features raised the score (the caller
        // states each sentence once).
        let unseen = |k: usize| format!("new {}: no inspection history", subject(k));
        match self.meta[i] {
            Meta::Rate(k) => {
                let s = h.stats(k, d);
                if s.n == 0.0 {
                    return unseen(k);
                }
                format!(
                    "{}: fraud found in {} of {} past inspections (smoothed rate {}, all declarations {})",
                    subject(k),
                    s.fraud,
                    s.n,
                    pct(f64::from(x[i])),
                    pct(h.prior_fraud)
                )
            }
            Meta::Critical(k) => {
                if h.stats(k, d).n == 0.0 {
                    return unseen(k);
                }
                format!(
                    "{}: past critical-fraud rate {} (all declarations {})",
                    subject(k),
                    pct(f64::from(x[i])),
                    pct(h.prior_critical)
                )
            }
            Meta::Count(k) => {
                if x[i] == 0.0 {
                    unseen(k)
                } else {
                    format!("{}: {} past inspected declarations", subject(k), x[i])
                }
            }
            Meta::Numeric(n) => {
                let v = f64::from(x[i]);
                let cur = borderline_core::currency_shown(&d.currency);
                match NUMERIC_FEATURES[n].0 {
                    "log_unit_value" if v.is_finite() => {
                        format!(
                            "unit value {} {cur}/kg",
                            borderline_core::amount_shown(v.exp())
                        )
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
            Meta::Module => {
                let v = x[i];
                let label = self.model.features[i].name.replace('_', " ");
                if !v.is_finite() {
                    return format!("{label}: not available");
                }
                // The module that owns the feature phrases it (nothing here names its features).
                self.model
                    .modules
                    .describe(i - self.history_features, v, d)
                    .unwrap_or_else(|| format!("{label} {v:.3}"))
            }
        }
    }
}

/// Assigns lanes to a scored batch by rank under the one capacity rule
/// ([`borderline_core::lane::lanes_by_rank`]). Returns `(rank order, lane per declaration)`.
pub use borderline_core::lane::lanes_by_rank as assign_lanes;
