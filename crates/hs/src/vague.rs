//! "Too vague to classify": a logistic model over a few features of a description and its
//! ranking, learned from HMRC's descriptions judged too vague ("thanks for your order",
//! "khaki, 6") against HMRC's labelled descriptions (index and dev parts only; the held-aside
//! part is reported by `hs evaluate`). A vague description gets that outcome instead of a
//! confident wrong code.
//!
//! Features: content words (log), share of them the tariff index knows, their largest IDF,
//! share of digits in the text, top heading and top subheading probability, margin between the
//! two best headings, whether a head noun was found. Logistic regression is fitted by plain
//! gradient descent (a handful of weights; a crate would add nothing).

use crate::model::{Classifier, Ranking};
use crate::references::{Part, References};
use crate::text;
use serde::{Deserialize, Serialize};

pub const N_FEATURES: usize = 8;
/// Content words from which a description is never called vague.
pub const LONG_TEXT_WORDS: usize = 12;

/// Fitted weights (bias first) and the decision threshold on P(vague). Fitted by
/// `cargo run --release -p borderline-devkit --example hs_fit` on the index and dev parts
/// (refitted after the top-label recalibration, whose probabilities are features).
const BUNDLED_WEIGHTS: [f64; N_FEATURES + 1] = [
    0.7627088066080583,
    0.16020126222877884,
    -2.619254160463559,
    -0.48630239896655697,
    0.45283227807305454,
    -1.2202207813065382,
    -1.2912260619914997,
    1.0486951574047498,
    -0.1498632157196091,
];
/// P(vague) at or above which the outcome is "too vague": set so that at most 10% of the dev
/// part's labelled descriptions are called vague (same fit).
const BUNDLED_THRESHOLD: f64 = 0.9984458449421374; // THRESHOLD
/// Feature means and standard deviations used to standardise (same fit).
const BUNDLED_MEAN: [f64; N_FEATURES] = [
    1.313349507036733,
    0.8925348042995562,
    0.5424235141440269,
    0.029473639634227583,
    0.5675725998815916,
    0.48290005552687404,
    0.500009064703182,
    0.9851439182917218,
];
const BUNDLED_SD: [f64; N_FEATURES] = [
    0.4158270531902339,
    0.25353515591442755,
    0.15991110675072148,
    0.08525685689170763,
    0.24256397478635136,
    0.26295469288807494,
    0.25911359821290997,
    0.12097676861578563,
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VagueDetector {
    pub weights: Vec<f64>,
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
    pub threshold: f64,
}

/// Features of one description (see the module docs).
pub fn features(model: &Classifier, description: &str, r: &Ranking) -> [f64; N_FEATURES] {
    let toks = text::tokens(description, false);
    let (known, max_idf) = model.term_knowledge(&toks);
    let chars = description.chars().filter(|c| !c.is_whitespace()).count();
    let digits = description.chars().filter(char::is_ascii_digit).count();
    let p4 = r.hs4.first().map_or(0.0, |x| x.1);
    let p4b = r.hs4.get(1).map_or(0.0, |x| x.1);
    let p6 = r.hs6.first().map_or(0.0, |x| x.1);
    let segs = text::query_segments(description);
    [
        // Clamped: the vague set has no long texts, so length beyond 8 words says nothing.
        (1.0 + toks.len().min(8) as f64).ln(),
        known,
        max_idf / 10.0,
        digits as f64 / chars.max(1) as f64,
        p4,
        p6,
        p4 - p4b,
        f64::from(u8::from(crate::reading::head_noun(&segs).is_some())),
    ]
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl VagueDetector {
    pub fn bundled() -> VagueDetector {
        VagueDetector {
            weights: BUNDLED_WEIGHTS.to_vec(),
            mean: BUNDLED_MEAN.to_vec(),
            sd: BUNDLED_SD.to_vec(),
            threshold: BUNDLED_THRESHOLD,
        }
    }

    /// True when the detector has fitted weights (all-zero weights mean "never vague").
    pub fn is_fitted(&self) -> bool {
        self.weights.iter().any(|w| *w != 0.0)
    }

    pub fn probability_of(&self, x: &[f64; N_FEATURES]) -> f64 {
        let mut z = self.weights.first().copied().unwrap_or(0.0);
        for (i, &xv) in x.iter().enumerate() {
            let mean = self.mean.get(i).copied().unwrap_or(0.0);
            let sd = self.sd.get(i).copied().unwrap_or(1.0).max(1e-9);
            z += self.weights.get(i + 1).copied().unwrap_or(0.0) * (xv - mean) / sd;
        }
        sigmoid(z)
    }

    /// P(description is too vague to classify).
    pub fn probability(&self, model: &Classifier, description: &str, r: &Ranking) -> f64 {
        if !self.is_fitted() {
            return 0.0;
        }
        self.probability_of(&features(model, description, r))
    }

    pub fn is_vague(&self, model: &Classifier, description: &str, r: &Ranking) -> bool {
        // A description of LONG_TEXT_WORDS content words or more (a ruling's fact paragraph)
        // is never "too vague": the vague examples are all short, so the model has not
        // learned anything about long texts.
        self.is_fitted()
            && text::tokens(description, false).len() < LONG_TEXT_WORDS
            && self.probability(model, description, r) >= self.threshold
    }

    /// Fits the logistic model on the HMRC index part (vague vs labelled, classes weighted
    /// equally) and sets the threshold so that at most `max_false_alarm` of the dev part's
    /// labelled descriptions are called vague.
    pub fn fit(model: &Classifier, max_false_alarm: f64) -> VagueDetector {
        let refs = References::bundled();
        let feats = |part: Part| {
            let vague: Vec<[f64; N_FEATURES]> = refs
                .vague_in(part)
                .map(|v| {
                    let r = model.rank_fields(&[(v.description.as_str(), 1.0)]);
                    features(model, &v.description, &r)
                })
                .collect();
            let labelled: Vec<[f64; N_FEATURES]> = refs
                .labelled_in(part)
                .map(|l| {
                    let r = model.rank_fields(&[(l.description.as_str(), 1.0)]);
                    features(model, &l.description, &r)
                })
                .collect();
            (vague, labelled)
        };
        let (tv, tl) = feats(Part::Index);
        let mut mean = vec![0.0; N_FEATURES];
        let mut sd = vec![0.0; N_FEATURES];
        let all: Vec<&[f64; N_FEATURES]> = tv.iter().chain(tl.iter()).collect();
        let n = all.len().max(1) as f64;
        for x in &all {
            for i in 0..N_FEATURES {
                mean[i] += x[i] / n;
            }
        }
        for x in &all {
            for i in 0..N_FEATURES {
                sd[i] += (x[i] - mean[i]).powi(2) / n;
            }
        }
        for s in &mut sd {
            *s = s.sqrt().max(1e-6);
        }
        let mut det = VagueDetector {
            weights: vec![0.0; N_FEATURES + 1],
            mean,
            sd,
            threshold: 0.5,
        };
        let (wv, wl) = (0.5 / tv.len().max(1) as f64, 0.5 / tl.len().max(1) as f64);
        for _ in 0..400 {
            let mut g = vec![0.0; N_FEATURES + 1];
            for (x, y, w) in tv
                .iter()
                .map(|x| (x, 1.0, wv))
                .chain(tl.iter().map(|x| (x, 0.0, wl)))
            {
                let err = (det.probability_of(x) - y) * w;
                g[0] += err;
                for i in 0..N_FEATURES {
                    g[i + 1] += err * (x[i] - det.mean[i]) / det.sd[i];
                }
            }
            for (wt, gi) in det.weights.iter_mut().zip(&g) {
                // Small L2 penalty keeps weights finite on separable features.
                *wt -= 2.0 * (gi + 1e-3 * *wt);
            }
        }
        let (_, dl) = feats(Part::Dev);
        let mut p: Vec<f64> = dl.iter().map(|x| det.probability_of(x)).collect();
        p.sort_by(|a, b| b.total_cmp(a));
        let k = ((p.len() as f64) * max_false_alarm).floor() as usize;
        det.threshold = p.get(k).map_or(0.5, |&t| (t + 1e-9).clamp(0.5, 0.999));
        det
    }
}
