//! Targeting quality on a labelled period: ranking quality (AUC) and what an inspection
//! capacity of k % catches (precision, recall, critical-fraud recall, share of duty at stake).

use borderline_core::Declaration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Inspection capacities reported, in percent of declarations.
pub const CAPACITIES: [u32; 4] = [1, 2, 5, 10];

/// A figure that a period cannot define is `NaN` here and `null` in JSON (written by every
/// artefact, read back by [`undefined_as_null`]): AUC without both outcomes, recall of critical
/// fraud in a period that recorded none (data without `critical_level`), duty recall without
/// duty at stake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    pub declarations: usize,
    pub frauds: usize,
    pub critical_frauds: usize,
    #[serde(with = "undefined_as_null")]
    pub auc: f64,
    #[serde(with = "undefined_as_null::by_capacity")]
    pub precision_at: BTreeMap<String, f64>,
    #[serde(with = "undefined_as_null::by_capacity")]
    pub recall_at: BTreeMap<String, f64>,
    #[serde(with = "undefined_as_null::by_capacity")]
    pub critical_recall_at: BTreeMap<String, f64>,
    #[serde(with = "undefined_as_null::by_capacity")]
    pub tax_recall_at: BTreeMap<String, f64>,
    /// How far the model's probabilities match observed fraud rates, when the scores
    /// evaluated were probabilities (`borderline evaluate`); absent for raw-score reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
}

/// Serde for figures that may be undefined (`NaN`): JSON has no `NaN`, and `serde_json` writes
/// it as `null`, which an `f64` field then refuses to read, so a model trained on data without
/// critical-fraud outcomes could be written but not loaded. `null` reads back as `NaN`.
pub mod undefined_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    /// The same for figures keyed by inspection capacity.
    pub mod by_capacity {
        use serde::ser::SerializeMap;
        use serde::{Deserialize, Deserializer, Serializer};
        use std::collections::BTreeMap;

        pub fn serialize<S: Serializer>(
            m: &BTreeMap<String, f64>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            let mut out = s.serialize_map(Some(m.len()))?;
            for (k, v) in m {
                out.serialize_entry(k, &v.is_finite().then_some(*v))?;
            }
            out.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, f64>, D::Error> {
            Ok(BTreeMap::<String, Option<f64>>::deserialize(d)?
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
                .collect())
        }
    }
}

/// A figure for the text report: three decimals, or `n/a` where the period cannot define it.
fn figure(v: f64, width: usize) -> String {
    if v.is_finite() {
        format!("{v:>width$.3}")
    } else {
        format!("{:>width$}", "n/a")
    }
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
        let auc = if self.auc.is_finite() {
            format!("{:.4}", self.auc)
        } else {
            "n/a (one outcome only)".to_string()
        };
        writeln!(
            f,
            "declarations {}  frauds {}  critical {}  AUC {auc}",
            self.declarations, self.frauds, self.critical_frauds
        )?;
        writeln!(
            f,
            "{:>9} {:>10} {:>8} {:>16} {:>14}",
            "inspect", "precision", "recall", "critical recall", "duty recall"
        )?;
        for k in CAPACITIES {
            let key = k.to_string();
            let at = |m: &BTreeMap<String, f64>| m.get(&key).copied().unwrap_or(f64::NAN);
            writeln!(
                f,
                "{:>8}% {} {} {} {}",
                k,
                figure(at(&self.precision_at), 10),
                figure(at(&self.recall_at), 8),
                figure(at(&self.critical_recall_at), 16),
                figure(at(&self.tax_recall_at), 14)
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

    /// A period that recorded no critical fraud (data without `critical_level`) cannot define
    /// critical recall: the report writes `null`, reads it back (the artefact stores the
    /// validation report, and a model must load what it wrote) and prints `n/a`.
    #[test]
    fn figures_a_period_cannot_define_are_null_in_json_and_read_back() {
        // Fraud recorded, critical level 0 throughout (a source without `critical_level`).
        let rows: Vec<Declaration> = (0..20)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "declaration_id": format!("D{i}"), "date": "2021-04-01", "office": "",
                    "declarant": "", "importer": "I1", "seller": null, "courier": null,
                    "hs_code": "610910", "origin_country": "CN", "departure_country": null,
                    "transport_mode": "", "process_type": "", "import_type": "",
                    "import_use": "", "payment_type": "", "net_mass_kg": 100.0,
                    "customs_value": 1000.0, "currency": "", "tax_rate": null, "tax_type": "",
                    "origin_indicator": "", "description": null, "quantity": null,
                    "quantity_unit": null,
                    "outcome": {"fraud": i % 4 == 0, "critical_level": 0, "amount_recovered": null}
                }))
                .expect("declaration")
            })
            .collect();
        let scores: Vec<f64> = (0..20)
            .map(|i| f64::from(i % 4 == 0) + 0.01 * f64::from(i))
            .collect();
        let report = evaluate(&rows, &scores);
        assert!(report.critical_recall_at["5"].is_nan());
        assert!(report.auc.is_finite());
        let json = serde_json::to_string(&report).expect("JSON");
        assert!(json.contains(r#""critical_recall_at":{"1":null"#), "{json}");
        let back: EvaluationReport = serde_json::from_str(&json).expect("reads back");
        assert_eq!(serde_json::to_string(&back).expect("JSON"), json);
        assert!(back.critical_recall_at["10"].is_nan());
        let text = report.to_string();
        assert!(text.contains("n/a") && !text.contains("NaN"), "{text}");
        // A period with one outcome only has no AUC either.
        let one = evaluate(&rows[1..4], &scores[1..4]);
        assert!(one.auc.is_nan());
        let back: EvaluationReport =
            serde_json::from_str(&serde_json::to_string(&one).expect("JSON")).expect("reads back");
        assert!(back.auc.is_nan());
        assert!(one.to_string().contains("AUC n/a"), "{one}");
    }

    #[test]
    fn capacity_rounds_down_but_inspects_at_least_one() {
        assert_eq!(capacity_count(8481, 5.0), 424);
        assert_eq!(capacity_count(10, 1.0), 1);
        assert_eq!(capacity_count(0, 5.0), 0);
    }
}
