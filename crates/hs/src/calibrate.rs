//! Temperature calibration on the hand-written calibration set (`data/hs/calibration.tsv`).
//! (`data/hs/dev.tsv` is a second hand-written set for tests and vocabulary work.)
//!
//! P(heading) and P(subheading | heading) are softmaxes of scores divided by a temperature.
//! The negative log-likelihood of the true code splits into a heading term and a
//! subheading term, so each temperature is fitted separately by a grid search. The set is
//! ours (written from general knowledge), never evaluation data.

use crate::error::HsError;
use crate::model::{Classifier, RawScores};

/// Temperature-calibration set: noisy marketplace-style descriptions, never used to edit the
/// vocabulary.
pub const BUNDLED: &str = include_str!("../../../data/hs/calibration.tsv");
/// Development set: clean descriptions used in tests and to find vocabulary gaps.
pub const DEV: &str = include_str!("../../../data/hs/dev.tsv");

/// (HS6, description) pairs of a calibration file (`CODE<TAB>description`, `#` comments).
pub fn parse(src: &str) -> Result<Vec<(String, String)>, HsError> {
    let mut out = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((code, desc)) = line.split_once('\t') else {
            return Err(HsError::Input {
                path: "calibration".into(),
                message: format!("line {}: expected CODE<TAB>text", i + 1),
            });
        };
        out.push((code.trim().to_string(), desc.trim().to_string()));
    }
    Ok(out)
}

/// Result of a calibration run.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub t_heading: f64,
    pub t_subheading: f64,
    /// Mean NLL of the true heading / subheading-given-heading at the fitted temperatures.
    pub nll_heading: f64,
    pub nll_subheading: f64,
    pub items: usize,
}

/// Temperature grid: 0.1 .. ~30, geometric.
pub fn grid() -> Vec<f64> {
    (0..=60).map(|i| 0.1 * 1.1f64.powi(i)).collect()
}

/// Mean NLL of heading and subheading terms at the given temperatures.
pub fn nll(
    model: &Classifier,
    items: &[(String, String)],
    t_heading: f64,
    t_sub: f64,
) -> (f64, f64) {
    let mut a = 0.0;
    let mut b = 0.0;
    let mut n = 0usize;
    for (code, desc) in items {
        let raw = model.raw_scores(&[(desc.as_str(), 1.0)]);
        if let Some((l4, l6)) = model.gold_log_probs(&raw, code, t_heading, t_sub) {
            a -= l4;
            b -= l6;
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    (a / n, b / n)
}

/// Fits both temperatures by grid search.
pub fn fit(model: &Classifier, items: &[(String, String)]) -> Fit {
    let scored: Vec<(String, RawScores)> = items
        .iter()
        .map(|(c, d)| (c.clone(), model.raw_scores(&[(d.as_str(), 1.0)])))
        .collect();
    fit_scored(model, &scored)
}

/// Fits both temperatures on already computed scores (gold HS6, scores). `model` only supplies
/// the code layout (every `Classifier` shares it).
pub fn fit_scored(model: &Classifier, scored: &[(String, RawScores)]) -> Fit {
    let eval = |t4: f64, t6: f64| {
        let (mut a, mut b, mut n) = (0.0, 0.0, 0usize);
        for (c, raw) in scored {
            if let Some((l4, l6)) = model.gold_log_probs(raw, c, t4, t6) {
                a -= l4;
                b -= l6;
                n += 1;
            }
        }
        (a / n.max(1) as f64, b / n.max(1) as f64, n)
    };
    let g = grid();
    let best = |which: usize| {
        g.iter()
            .map(|&t| {
                let (a, b, _) = if which == 4 {
                    eval(t, 1.0)
                } else {
                    eval(1.0, t)
                };
                (t, if which == 4 { a } else { b })
            })
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap_or((1.0, f64::NAN))
    };
    let (b4, b6) = (best(4), best(6));
    Fit {
        t_heading: b4.0,
        t_subheading: b6.0,
        nll_heading: b4.1,
        nll_subheading: b6.1,
        items: eval(1.0, 1.0).2,
    }
}
