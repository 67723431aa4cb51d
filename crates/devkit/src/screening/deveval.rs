//! Pair metrics on the development sets ([`super::devsets`]), dev and held-aside parts apart,
//! for Borderline and the named baselines in the same run, and the threshold table.

use super::devsets::DevSet;
use borderline_screening::token_set::token_set_ratio;
use borderline_screening::Matcher;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DevSetMetrics {
    pub set: String,
    /// "dev" or "held_aside".
    pub part: String,
    pub method: String,
    pub threshold: f64,
    pub pairs: usize,
    pub positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Counts and P/R/F1 for scores against labels at a threshold.
pub fn prf(labels: &[bool], scores: &[f64], thr: f64) -> (usize, f64, f64, f64) {
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    for (&l, &s) in labels.iter().zip(scores) {
        match (s >= thr, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            _ => {}
        }
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / (tp + fneg).max(1) as f64;
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (tp + fneg, p, r, f1)
}

/// Scores of one set's pairs by each method: (method, threshold, scores).
pub struct SetScores {
    pub set: String,
    pub labels: Vec<bool>,
    pub held_aside: Vec<bool>,
    /// Borderline's pair score.
    pub ours: Vec<f64>,
    pub token_set: Vec<f64>,
    pub jw_sorted: Vec<f64>,
}

pub fn score_set(m: &Matcher, s: &DevSet) -> SetScores {
    SetScores {
        set: s.name.clone(),
        labels: s.pairs.iter().map(|p| p.is_match).collect(),
        held_aside: s.pairs.iter().map(|p| p.held_aside).collect(),
        ours: s
            .pairs
            .iter()
            .map(|p| m.compare(&p.a, &p.b, p.schema).0)
            .collect(),
        token_set: s
            .pairs
            .iter()
            .map(|p| token_set_ratio(&p.a, &p.b))
            .collect(),
        jw_sorted: s
            .pairs
            .iter()
            .map(|p| super::baseline::pair_score(&p.a, &p.b))
            .collect(),
    }
}

/// Metrics for both parts and all methods: Borderline at `thr`, `token_set_ratio` at 0.90
/// (the reference point) and token-sorted Jaro-Winkler at 0.94.
pub fn metrics(sc: &SetScores, thr: f64) -> Vec<DevSetMetrics> {
    let mut out = Vec::new();
    for (part, want_held) in [("dev", false), ("held_aside", true)] {
        let keep: Vec<usize> = (0..sc.labels.len())
            .filter(|&i| sc.held_aside[i] == want_held)
            .collect();
        let labels: Vec<bool> = keep.iter().map(|&i| sc.labels[i]).collect();
        for (method, t, scores) in [
            ("borderline", thr, &sc.ours),
            ("rapidfuzz_token_set_ratio", 0.90, &sc.token_set),
            ("baseline_jw_sorted", 0.94, &sc.jw_sorted),
        ] {
            let s: Vec<f64> = keep.iter().map(|&i| scores[i]).collect();
            let (positives, precision, recall, f1) = prf(&labels, &s, t);
            out.push(DevSetMetrics {
                set: sc.set.clone(),
                part: part.into(),
                method: method.into(),
                threshold: t,
                pairs: keep.len(),
                positives,
                precision,
                recall,
                f1,
            });
        }
    }
    out
}

/// One row of the threshold table: what each candidate default threshold would give.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdRow {
    pub threshold: f64,
    /// Pooled dev parts of the person / company alias and UN sets: P, R, F1.
    pub dev_precision: f64,
    pub dev_recall: f64,
    pub dev_f1: f64,
    pub held_precision: f64,
    pub held_recall: f64,
    pub held_f1: f64,
    /// False hits per 1,000 of the 100k synthetic people, name only, all bundled lists and
    /// the UN list alone.
    pub false_hits_per_1000_all: f64,
    pub false_hits_per_1000_un: f64,
    /// Recall of the UN positives with typos (the named UN entry at or above the threshold).
    pub un_typo_recall: f64,
}

/// Candidate thresholds of the table.
pub const TABLE_THRESHOLDS: &[f64] = &[
    0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90,
];

/// Builds the table from pair scores (the sets named in `pooled`), the best score per
/// synthetic person (all lists, UN list) and the expected entry's score per UN typo row.
pub fn threshold_table(
    sets: &[SetScores],
    pooled: &[&str],
    people_best: &[(f64, f64)],
    un_typo_best: &[f64],
) -> Vec<ThresholdRow> {
    let mut out = Vec::new();
    for &t in TABLE_THRESHOLDS {
        let part = |held: bool| {
            let (mut l, mut s) = (Vec::new(), Vec::new());
            for sc in sets.iter().filter(|s| pooled.contains(&s.set.as_str())) {
                for i in 0..sc.labels.len() {
                    if sc.held_aside[i] == held {
                        l.push(sc.labels[i]);
                        s.push(sc.ours[i]);
                    }
                }
            }
            prf(&l, &s, t)
        };
        let (_, dp, dr, df) = part(false);
        let (_, hp, hr, hf) = part(true);
        let n = people_best.len().max(1) as f64;
        out.push(ThresholdRow {
            threshold: t,
            dev_precision: dp,
            dev_recall: dr,
            dev_f1: df,
            held_precision: hp,
            held_recall: hr,
            held_f1: hf,
            false_hits_per_1000_all: people_best.iter().filter(|b| b.0 >= t).count() as f64
                * 1000.0
                / n,
            false_hits_per_1000_un: people_best.iter().filter(|b| b.1 >= t).count() as f64 * 1000.0
                / n,
            un_typo_recall: un_typo_best.iter().filter(|&&s| s >= t).count() as f64
                / un_typo_best.len().max(1) as f64,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_counts() {
        let l = [true, true, false, false];
        let s = [0.9, 0.4, 0.95, 0.1];
        let (pos, p, r, f1) = prf(&l, &s, 0.5);
        assert_eq!(pos, 2);
        assert!((p - 0.5).abs() < 1e-9 && (r - 0.5).abs() < 1e-9 && (f1 - 0.5).abs() < 1e-9);
    }
}
