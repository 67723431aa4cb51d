//! Targeting quality on a labelled period: ranking quality (AUC) and what an inspection
//! capacity of k % catches (precision, recall, critical-fraud recall, share of duty at stake).

use borderline_core::Declaration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Inspection capacities reported, in percent of declarations.
pub const CAPACITIES: [u32; 4] = [1, 2, 5, 10];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    pub declarations: usize,
    pub frauds: usize,
    pub critical_frauds: usize,
    pub auc: f64,
    pub precision_at: BTreeMap<String, f64>,
    pub recall_at: BTreeMap<String, f64>,
    pub critical_recall_at: BTreeMap<String, f64>,
    pub tax_recall_at: BTreeMap<String, f64>,
    /// How far the model's probabilities match observed fraud rates, when the scores
    /// evaluated were probabilities (`borderline evaluate`); absent for raw-score reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
}

/// Calibration of fraud probabilities on a labelled period: the Brier score (mean squared
/// error of the probability against the 0/1 outcome), the Brier score of always answering the
/// period's fraud rate (what a model without information scores), the expected calibration
/// error (bin-weighted gap between mean probability and fraud rate), and a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    pub brier: f64,
    pub brier_base_rate: f64,
    pub expected_calibration_error: f64,
    /// Ten equal-width probability bins, `[from, to)` (the last includes 1); empty bins left out.
    pub bins: Vec<ReliabilityBin>,
}

/// One row of a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub declarations: usize,
    pub mean_probability: f64,
    pub fraud_rate: f64,
}

/// Bins of the reliability table.
pub const RELIABILITY_BINS: usize = 10;

/// Calibration of fraud `probabilities` against outcomes (`frauds[i]`: declaration `i` was
/// fraudulent), labelled declarations only; `None` when there is none.
pub fn calibration(probabilities: &[f64], frauds: &[bool]) -> Option<CalibrationReport> {
    let pairs: Vec<(f64, bool)> = probabilities
        .iter()
        .copied()
        .zip(frauds.iter().copied())
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let y = |f: bool| f64::from(u8::from(f));
    let rate = pairs.iter().map(|&(_, f)| y(f)).sum::<f64>() / n;
    let brier = pairs.iter().map(|&(p, f)| (p - y(f)).powi(2)).sum::<f64>() / n;
    let brier_base_rate = pairs
        .iter()
        .map(|&(_, f)| (rate - y(f)).powi(2))
        .sum::<f64>()
        / n;
    // (count, sum of probabilities, frauds) per bin.
    let mut acc = [(0usize, 0.0f64, 0.0f64); RELIABILITY_BINS];
    for &(p, f) in &pairs {
        let b = ((p * RELIABILITY_BINS as f64).floor().max(0.0) as usize).min(RELIABILITY_BINS - 1);
        acc[b].0 += 1;
        acc[b].1 += p;
        acc[b].2 += y(f);
    }
    let width = 1.0 / RELIABILITY_BINS as f64;
    let bins: Vec<ReliabilityBin> = acc
        .iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(b, &(count, sum_p, frauds))| ReliabilityBin {
            from: b as f64 * width,
            to: (b + 1) as f64 * width,
            declarations: count,
            mean_probability: sum_p / count as f64,
            fraud_rate: frauds / count as f64,
        })
        .collect();
    let expected_calibration_error = bins
        .iter()
        .map(|b| b.declarations as f64 / n * (b.mean_probability - b.fraud_rate).abs())
        .sum();
    Some(CalibrationReport {
        brier,
        brier_base_rate,
        expected_calibration_error,
        bins,
    })
}

pub use borderline_core::metrics::auc;

/// Ranking used everywhere: highest score first, ties broken by declaration id so that the
/// inspection list is deterministic.
pub fn rank_order(scores: &[f64], ids: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then_with(|| ids[a].cmp(ids[b]))
    });
    order
}

/// Number of declarations inspected at `percent` % capacity (at least one).
pub fn capacity_count(n: usize, percent: f64) -> usize {
    (((n as f64) * percent / 100.0).floor() as usize).clamp(usize::from(n > 0), n)
}

/// Evaluates `scores` against the outcomes of `declarations` (unlabelled rows are ignored).
pub fn evaluate(declarations: &[Declaration], scores: &[f64]) -> EvaluationReport {
    let labelled: Vec<usize> = (0..declarations.len())
        .filter(|&i| declarations[i].outcome.is_some())
        .collect();
    let s: Vec<f64> = labelled.iter().map(|&i| scores[i]).collect();
    let ids: Vec<&str> = labelled
        .iter()
        .map(|&i| declarations[i].declaration_id.as_str())
        .collect();
    let fraud: Vec<bool> = labelled
        .iter()
        .map(|&i| declarations[i].outcome.is_some_and(|o| o.fraud))
        .collect();
    let critical: Vec<bool> = labelled
        .iter()
        .map(|&i| declarations[i].outcome.is_some_and(|o| o.is_critical()))
        .collect();
    let tax: Vec<f64> = labelled
        .iter()
        .map(|&i| declarations[i].tax_at_stake())
        .collect();
    let order = rank_order(&s, &ids);
    let n = s.len();
    let total_fraud = fraud.iter().filter(|f| **f).count();
    let total_critical = critical.iter().filter(|f| **f).count();
    let total_tax: f64 = (0..n).filter(|&i| fraud[i]).map(|i| tax[i]).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let mut report = EvaluationReport {
        declarations: n,
        frauds: total_fraud,
        critical_frauds: total_critical,
        auc: auc(&s, &fraud),
        precision_at: BTreeMap::new(),
        recall_at: BTreeMap::new(),
        critical_recall_at: BTreeMap::new(),
        tax_recall_at: BTreeMap::new(),
        calibration: None,
    };
    for k in CAPACITIES {
        let top = &order[..capacity_count(n, f64::from(k))];
        let caught = top.iter().filter(|&&i| fraud[i]).count();
        let caught_critical = top.iter().filter(|&&i| critical[i]).count();
        let caught_tax: f64 = top.iter().filter(|&&i| fraud[i]).map(|&i| tax[i]).sum();
        let key = k.to_string();
        report
            .precision_at
            .insert(key.clone(), ratio(caught as f64, top.len() as f64));
        report
            .recall_at
            .insert(key.clone(), ratio(caught as f64, total_fraud as f64));
        report.critical_recall_at.insert(
            key.clone(),
            ratio(caught_critical as f64, total_critical as f64),
        );
        report
            .tax_recall_at
            .insert(key, ratio(caught_tax, total_tax));
    }
    report
}

impl std::fmt::Display for EvaluationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "declarations {}  frauds {}  critical {}  AUC {:.4}",
            self.declarations, self.frauds, self.critical_frauds, self.auc
        )?;
        writeln!(
            f,
            "{:>9} {:>10} {:>8} {:>16} {:>14}",
            "inspect", "precision", "recall", "critical recall", "duty recall"
        )?;
        for k in CAPACITIES {
            let key = k.to_string();
            writeln!(
                f,
                "{:>8}% {:>10.3} {:>8.3} {:>16.3} {:>14.3}",
                k,
                self.precision_at[&key],
                self.recall_at[&key],
                self.critical_recall_at[&key],
                self.tax_recall_at[&key]
            )?;
        }
        if let Some(c) = &self.calibration {
            writeln!(
                f,
                "calibration: Brier {:.4} (always the fraud rate: {:.4}), expected calibration error {:.4}",
                c.brier, c.brier_base_rate, c.expected_calibration_error
            )?;
            writeln!(
                f,
                "{:>13} {:>12} {:>16} {:>10}",
                "probability", "declarations", "mean probability", "fraud rate"
            )?;
            for b in &c.bins {
                writeln!(
                    f,
                    "{:>6.1}-{:<6.1} {:>12} {:>16.3} {:>10.3}",
                    b.from, b.to, b.declarations, b.mean_probability, b.fraud_rate
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half_and_orders_correctly() {
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &[false, false, true, true]), 1.0);
        assert_eq!(auc(&[0.4, 0.3, 0.2, 0.1], &[false, false, true, true]), 0.0);
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
        // one inversion out of four pairs
        assert_eq!(
            auc(&[0.1, 0.3, 0.2, 0.4], &[false, false, true, true]),
            0.75
        );
    }

    #[test]
    fn calibration_reports_brier_and_a_reliability_table() {
        // 0.1 on ten declarations of which one is fraud, 0.75 on four of which three are:
        // perfectly calibrated, so the table reads back the probabilities and the error is 0.
        let mut p = vec![0.1; 10];
        let mut y = vec![false; 10];
        y[0] = true;
        p.extend([0.75; 4]);
        y.extend([true, true, true, false]);
        let c = calibration(&p, &y).expect("labelled rows");
        assert_eq!(c.bins.len(), 2);
        assert_eq!((c.bins[0].from, c.bins[0].declarations), (0.1, 10));
        assert!((c.bins[0].fraud_rate - 0.1).abs() < 1e-12);
        assert!((c.bins[1].mean_probability - 0.75).abs() < 1e-12);
        assert!((c.bins[1].fraud_rate - 0.75).abs() < 1e-12);
        assert!(c.expected_calibration_error < 1e-12);
        let brier = (0.81 + 9.0 * 0.01 + 3.0 * 0.0625 + 0.5625) / 14.0;
        assert!((c.brier - brier).abs() < 1e-12);
        // Always answering the fraud rate (4/14) scores worse than these informative probabilities.
        assert!(c.brier < c.brier_base_rate);
        // A probability of exactly 1 falls in the last bin; no labelled row, no report.
        assert_eq!(calibration(&[1.0], &[true]).expect("row").bins[0].from, 0.9);
        assert!(calibration(&[], &[]).is_none());
    }

    #[test]
    fn capacity_rounds_down_but_inspects_at_least_one() {
        assert_eq!(capacity_count(8481, 5.0), 424);
        assert_eq!(capacity_count(10, 1.0), 1);
        assert_eq!(capacity_count(0, 5.0), 0);
    }
}
