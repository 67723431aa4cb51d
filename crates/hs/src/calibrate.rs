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

/// Platt scaling of a top-1 probability: (a, b) minimising the log-loss of
/// sigmoid(a * logit(c) + b) against whether the top-1 answer was right (Newton's method,
/// with a tiny ridge towards the identity a = 1, b = 0). Identity when there are no samples.
pub fn fit_platt(samples: &[(f64, bool)]) -> (f64, f64) {
    if samples.is_empty() {
        return (1.0, 0.0);
    }
    let xs: Vec<(f64, f64)> = samples
        .iter()
        .map(|&(c, y)| {
            let c = c.clamp(1e-6, 1.0 - 1e-6);
            ((c / (1.0 - c)).ln(), if y { 1.0 } else { 0.0 })
        })
        .collect();
    let ridge = 1e-3;
    let loss = |a: f64, b: f64| {
        let mut l = 0.5 * ridge * ((a - 1.0).powi(2) + b * b);
        for &(x, y) in &xs {
            let z = a * x + b;
            // log(1 + e^z) - y z, computed without overflow.
            l += z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z;
        }
        l
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb) = (ridge * (a - 1.0), ridge * b);
        let (mut haa, mut hab, mut hbb) = (ridge, 0.0, ridge);
        for &(x, y) in &xs {
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let w = (p * (1.0 - p)).max(1e-12);
            ga += (p - y) * x;
            gb += p - y;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if !det.is_finite() || det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        // Damped Newton step: halve until the loss does not increase.
        let mut step = 1.0;
        let mut moved = false;
        while step > 1e-6 {
            let (na, nb) = (a - step * da, b - step * db);
            let l = loss(na, nb);
            if l <= current {
                (a, b, current) = (na, nb, l);
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if !moved || (da.abs() + db.abs()) * step < 1e-10 {
            break;
        }
    }
    (a, b)
}

/// Top-label recalibration fitted on labelled descriptions (never evaluation data).
#[derive(Debug, Clone, PartialEq)]
pub struct TopLabelFit {
    /// (a, b) of the heading recalibration (`Params::cal_heading_a/b`).
    pub heading: (f64, f64),
    /// (a, b) of the subheading-within-heading recalibration (`Params::cal_sub_a/b`).
    pub sub: (f64, f64),
    pub items: usize,
}

/// Fits the two top-label recalibrations at the model's temperatures: the heading one on
/// whether the most probable heading is the gold heading, the subheading one on whether the
/// most probable subheading within the gold heading is the gold subheading.
pub fn fit_top_label(model: &Classifier, items: &[(String, String)]) -> TopLabelFit {
    let mut h = Vec::new();
    let mut s = Vec::new();
    for (code, desc) in items {
        let raw = model.raw_scores(&[(desc.as_str(), 1.0)]);
        if let Some([a, b]) = model.top_label_samples(&raw, code) {
            h.push(a);
            s.push(b);
        }
    }
    TopLabelFit {
        heading: fit_platt(&h),
        sub: fit_platt(&s),
        items: h.len(),
    }
}

/// Logistic regression by damped Newton steps with a small ridge towards `prior`: the
/// coefficients w minimising the log loss of sigmoid(w · x) against y. Every row has
/// `prior.len()` features.
pub fn fit_logistic(rows: &[(Vec<f64>, bool)], prior: &[f64]) -> Vec<f64> {
    let k = prior.len();
    let mut w = prior.to_vec();
    if rows.is_empty() || rows.iter().any(|(x, _)| x.len() != k) {
        return w;
    }
    let ridge = 1e-3;
    let loss = |w: &[f64]| {
        let mut l: f64 = 0.5
            * ridge
            * w.iter()
                .zip(prior)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>();
        for (x, y) in rows {
            let z: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
            l += z.max(0.0) + (-z.abs()).exp().ln_1p() - if *y { z } else { 0.0 };
        }
        l
    };
    let mut current = loss(&w);
    for _ in 0..100 {
        let mut g: Vec<f64> = w.iter().zip(prior).map(|(a, b)| ridge * (a - b)).collect();
        let mut h = vec![vec![0.0; k]; k];
        for (i, row) in h.iter_mut().enumerate() {
            row[i] = ridge;
        }
        for (x, y) in rows {
            let z: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let r = (p * (1.0 - p)).max(1e-12);
            let e = p - if *y { 1.0 } else { 0.0 };
            for i in 0..k {
                g[i] += e * x[i];
                for j in 0..k {
                    h[i][j] += r * x[i] * x[j];
                }
            }
        }
        let Some(d) = solve(h, g) else { break };
        let mut step = 1.0;
        let mut moved = false;
        while step > 1e-6 {
            let nw: Vec<f64> = w.iter().zip(&d).map(|(a, b)| a - step * b).collect();
            let l = loss(&nw);
            if l <= current {
                (w, current) = (nw, l);
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if !moved || d.iter().map(|x| x.abs()).sum::<f64>() * step < 1e-10 {
            break;
        }
    }
    w
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (`None` when singular).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[piv][c].abs() < 1e-15 {
            return None;
        }
        a.swap(c, piv);
        b.swap(c, piv);
        let (upper, lower) = a.split_at_mut(c + 1);
        let pivot = &upper[c];
        for (k, row) in lower.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + k] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|j| a[r][j] * x[j]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// The heading recalibration with evidence features, fitted on labelled descriptions (never
/// evaluation data): `[a, b, len, unknown, disagree]` of sigmoid(a · logit(c) + b + len ·
/// ln(1 + words) + unknown · share of unknown words + disagree · [lexical and learned best
/// headings differ]) (`Params::cal_heading_a`, `_b`, `_len`, `_unknown`, `_disagree`).
/// Features whose `use_features` entry is false are held at 0.
pub fn fit_heading_with_evidence(
    model: &Classifier,
    items: &[(String, String)],
    use_features: [bool; 3],
) -> [f64; 5] {
    let mut rows = Vec::new();
    for (code, desc) in items {
        let raw = model.raw_scores(&[(desc.as_str(), 1.0)]);
        if let Some([(c, hit), _]) = model.top_label_samples(&raw, code) {
            let c = c.clamp(1e-6, 1.0 - 1e-6);
            let f = raw.features();
            let mut x = vec![(c / (1.0 - c)).ln(), 1.0];
            x.extend((0..3).filter(|&i| use_features[i]).map(|i| f[i]));
            rows.push((x, hit));
        }
    }
    let k = 2 + use_features.iter().filter(|&&u| u).count();
    let mut prior = vec![0.0; k];
    prior[0] = 1.0;
    let w = fit_logistic(&rows, &prior);
    let mut out = [w[0], w[1], 0.0, 0.0, 0.0];
    let mut j = 2;
    for i in 0..3 {
        if use_features[i] {
            out[2 + i] = w[j];
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_maps_an_overconfident_bin_to_its_accuracy() {
        // 0.98 confident, right 3 times in 4; 0.03 confident, right 1 time in 6.
        let mut samples = Vec::new();
        for i in 0..400 {
            samples.push((0.98, i % 4 != 0));
            samples.push((0.03, i % 6 == 0));
        }
        let (a, b) = fit_platt(&samples);
        let map = |c: f64| 1.0 / (1.0 + (-(a * (c / (1.0 - c)).ln() + b)).exp());
        assert!((map(0.98) - 0.75).abs() < 0.01, "{}", map(0.98));
        assert!((map(0.03) - 1.0 / 6.0).abs() < 0.01, "{}", map(0.03));
        assert!(a > 0.0 && a < 1.0);
    }

    #[test]
    fn logistic_fit_recovers_an_evidence_slope() {
        // Right 80 % of the time on short queries (x = 0), 20 % on long ones (x = 1), same
        // confidence: the intercept and the slope carry it, sigmoid(1.386 - 2.773 x).
        let mut rows = Vec::new();
        for i in 0..1000 {
            rows.push((vec![1.0, 0.0], i % 5 != 0));
            rows.push((vec![1.0, 1.0], i % 5 == 0));
        }
        let w = fit_logistic(&rows, &[0.0, 0.0]);
        let p = |x: f64| 1.0 / (1.0 + (-(w[0] + w[1] * x)).exp());
        assert!(
            (p(0.0) - 0.8).abs() < 0.01 && (p(1.0) - 0.2).abs() < 0.01,
            "{w:?}"
        );
        assert_eq!(fit_logistic(&[], &[1.0, 0.0]), vec![1.0, 0.0]);
    }

    #[test]
    fn platt_of_calibrated_samples_is_near_identity() {
        let mut samples = Vec::new();
        for i in 0..1000 {
            samples.push((0.8, i % 5 != 0));
            samples.push((0.2, i % 5 == 0));
        }
        let (a, b) = fit_platt(&samples);
        assert!((a - 1.0).abs() < 0.02 && b.abs() < 0.02, "{a} {b}");
        assert_eq!(fit_platt(&[]), (1.0, 0.0));
    }
}
