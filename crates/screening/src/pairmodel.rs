//! The calibrated pair score: logistic regression over the explainable features of one token
//! alignment (`matcher.rs` computes them), so a score reads as a match probability.
//!
//! Weights live in `data/pair_model.json` (embedded); they are fitted by
//! `cargo run --release -p borderline-devkit --example train_pair_model` on the **dev**
//! parts of the development sets only ([`crate::devsets`]), never the held-aside parts.
//! Without a usable weights file the score falls back to the rule score (feature 0).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Number of features.
pub const NF: usize = 18;

/// Feature names, in order (also the keys of the weights file).
pub const FEATURE_NAMES: [&str; NF] = [
    "rule_score",
    "query_unexplained_share",
    "list_unexplained_share",
    "known_extra_share",
    "fuzzy_loss",
    "single_token_name",
    "person",
    "person_x_rule_score",
    "legal_forms_other_jurisdiction",
    "legal_forms_differ",
    "place_name_one_side",
    "word_order_differs",
    "identical_tokens",
    "transliteration_share",
    "matched_word_rarity",
    "number_one_side",
    "replaced_share",
    "fuzzy_first_letter",
];

pub type Features = [f64; NF];

/// Sign each weight is held to while fitting (+1: >= 0, -1: <= 0, 0: free), so the model
/// cannot learn that a worse spelling or an unexplained word makes a match likelier because
/// the training sets happen to correlate them.
pub const SIGNS: [i8; NF] = [
    1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, 1, -1, 1, -1, -1, -1,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairModel {
    pub bias: f64,
    /// Feature name -> weight.
    pub weights: Vec<(String, f64)>,
    /// What the weights were fitted on (set names, pair counts), for the record.
    #[serde(default)]
    pub trained_on: String,
    /// A separate model for companies, vessels and aircraft (feature `person` = 0), when
    /// fitted; the top-level weights then score persons only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Box<PairModel>>,
    #[serde(skip)]
    w: Features,
}

impl PairModel {
    pub fn from_parts(bias: f64, w: Features, trained_on: String) -> Self {
        PairModel {
            bias,
            weights: FEATURE_NAMES
                .iter()
                .zip(w)
                .map(|(n, x)| (n.to_string(), x))
                .collect(),
            trained_on,
            company: None,
            w,
        }
    }

    /// Adds the model for non-person pairs.
    pub fn with_company(mut self, company: PairModel) -> Self {
        self.company = Some(Box::new(company));
        self
    }

    fn index(mut self) -> Self {
        self.company = self.company.map(|c| Box::new(c.index()));
        for (n, x) in &self.weights {
            if let Some(i) = FEATURE_NAMES.iter().position(|f| f == n) {
                self.w[i] = *x;
            }
        }
        self
    }

    pub fn logit(&self, f: &Features) -> f64 {
        self.bias + self.w.iter().zip(f).map(|(w, x)| w * x).sum::<f64>()
    }

    pub fn prob(&self, f: &Features) -> f64 {
        if let Some(c) = self.company.as_ref().filter(|_| f[6] == 0.0) {
            return c.prob(f);
        }
        1.0 / (1.0 + (-self.logit(f)).exp())
    }
}

static MODEL_JSON: &str = include_str!("../data/pair_model.json");

/// The embedded model (None when the file does not parse: the rule score is used then).
pub fn embedded() -> Option<&'static PairModel> {
    static M: OnceLock<Option<PairModel>> = OnceLock::new();
    M.get_or_init(|| {
        serde_json::from_str::<PairModel>(MODEL_JSON)
            .ok()
            .map(PairModel::index)
    })
    .as_ref()
}

/// Fits logistic regression by full-batch gradient descent with L2 (weights only), rows
/// weighted. Deterministic (no sampling); features are already in [0, 1].
pub fn fit(rows: &[(Features, bool, f64)], l2: f64, iters: usize) -> (f64, Features) {
    let mut w = [0.0f64; NF];
    let mut b = 0.0f64;
    let total_w: f64 = rows.iter().map(|r| r.2).sum::<f64>().max(1e-9);
    let lr = 2.0;
    for _ in 0..iters {
        let mut gw = [0.0f64; NF];
        let mut gb = 0.0f64;
        for (f, y, rw) in rows {
            let z = b + w.iter().zip(f).map(|(a, x)| a * x).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let e = (p - if *y { 1.0 } else { 0.0 }) * rw;
            gb += e;
            for k in 0..NF {
                gw[k] += e * f[k];
            }
        }
        b -= lr * gb / total_w;
        for k in 0..NF {
            w[k] -= lr * (gw[k] / total_w + l2 * w[k]);
            match SIGNS[k] {
                1 => w[k] = w[k].max(0.0),
                -1 => w[k] = w[k].min(0.0),
                _ => {}
            }
        }
    }
    (b, w)
}

/// Mean log loss of a model on rows (for the training report).
pub fn log_loss(b: f64, w: &Features, rows: &[(Features, bool, f64)]) -> f64 {
    let mut s = 0.0;
    let mut n = 0.0;
    for (f, y, rw) in rows {
        let z = b + w.iter().zip(f).map(|(a, x)| a * x).sum::<f64>();
        let p = (1.0 / (1.0 + (-z).exp())).clamp(1e-9, 1.0 - 1e-9);
        s -= rw * if *y { p.ln() } else { (1.0 - p).ln() };
        n += rw;
    }
    s / n.max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_a_clear_feature() {
        let mut rows = Vec::new();
        for i in 0..200 {
            let mut f = [0.0; NF];
            f[0] = i as f64 / 200.0;
            rows.push((f, i >= 100, 1.0));
        }
        let (b, w) = fit(&rows, 1e-4, 2000);
        assert!(w[0] > 1.0, "{w:?}");
        let m = PairModel::from_parts(b, w, String::new());
        let mut lo = [0.0; NF];
        lo[0] = 0.1;
        let mut hi = [0.0; NF];
        hi[0] = 0.9;
        assert!(m.prob(&lo) < 0.5 && m.prob(&hi) > 0.5);
    }

    #[test]
    fn embedded_weights_parse() {
        let m = embedded().expect("data/pair_model.json parses");
        assert_eq!(m.weights.len(), NF);
    }
}
