//! Monitoring: population stability of features and scores, and hit rates of inspections.
//!
//! **PSI** compares a recent window with a reference sample (the training period):
//! `PSI = sum over bins (recent% - reference%) x ln(recent% / reference%)`. Bins are the
//! reference's deciles (edges deduplicated, so a feature with few distinct values gets fewer
//! bins), plus a bin for missing values (NaN) when either sample has any. Shares of empty bins
//! are raised to [`PSI_EPSILON`] so the logarithm stays finite. Usual reading, used here:
//! below [`PSI_WARN`] (0.1) stable, up to [`PSI_ALERT`] (0.25) a moderate shift worth a look,
//! above that a major shift (retrain, or check the data feed).
//!
//! **Hit rate** is the share of inspected declarations found fraudulent, per ISO week and
//! overall, by lane, by selection basis (the random lane's hit rate is the unbiased estimate of
//! the fraud rate) and by analyst rule.

use crate::audit::Decision;
use crate::feedback::FeedbackRecord;
use crate::lane::Lane;
use crate::selectivity::Basis;
use borderline_core::ReasonKind;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const PSI_WARN: f64 = 0.1;
pub const PSI_ALERT: f64 = 0.25;
/// Floor on a bin's share: an empty bin would otherwise make the PSI infinite.
pub const PSI_EPSILON: f64 = 1e-4;
pub const PSI_BINS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    Stable,
    Warn,
    Alert,
}

impl Drift {
    pub fn of(psi: f64) -> Drift {
        if psi >= PSI_ALERT {
            Drift::Alert
        } else if psi >= PSI_WARN {
            Drift::Warn
        } else {
            Drift::Stable
        }
    }
}

/// One PSI bin: values in `[lower, upper)`; the missing-value bin has both bounds NaN
/// (serialised as null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsiBin {
    pub lower: f64,
    pub upper: f64,
    pub reference_share: f64,
    pub recent_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Psi {
    pub value: f64,
    pub drift: Drift,
    pub bins: Vec<PsiBin>,
    pub reference_count: usize,
    pub recent_count: usize,
}

/// PSI of `recent` against `reference` over `bins` reference quantile bins. `None` when either
/// sample is empty.
pub fn psi(reference: &[f64], recent: &[f64], bins: usize) -> Option<Psi> {
    if reference.is_empty() || recent.is_empty() {
        return None;
    }
    let mut sorted: Vec<f64> = reference.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let bins = bins.max(1);
    let mut edges: Vec<f64> = Vec::with_capacity(bins);
    if !sorted.is_empty() {
        for k in 1..bins {
            let e = sorted[(k * sorted.len() / bins).min(sorted.len() - 1)];
            // Ties at an edge (discrete features) would make empty duplicate bins.
            if edges.last().is_none_or(|last| e > *last) && e > sorted[0] {
                edges.push(e);
            }
        }
    }
    let nb = edges.len() + 1;
    let histogram = |xs: &[f64]| {
        let mut counts = vec![0usize; nb + 1];
        for &x in xs {
            if x.is_nan() {
                counts[nb] += 1;
            } else {
                counts[edges.partition_point(|e| *e <= x)] += 1;
            }
        }
        counts
    };
    let (rc, nc) = (histogram(reference), histogram(recent));
    let (rn, nn) = (reference.len() as f64, recent.len() as f64);
    let mut out = Vec::with_capacity(nb + 1);
    let mut value = 0.0;
    for i in 0..=nb {
        if i == nb && rc[nb] == 0 && nc[nb] == 0 {
            break;
        }
        let (e, a) = (rc[i] as f64 / rn, nc[i] as f64 / nn);
        let (ef, af) = (e.max(PSI_EPSILON), a.max(PSI_EPSILON));
        value += (af - ef) * (af / ef).ln();
        let (lower, upper) = if i == nb {
            (f64::NAN, f64::NAN)
        } else {
            (
                if i == 0 {
                    f64::NEG_INFINITY
                } else {
                    edges[i - 1]
                },
                if i == nb - 1 { f64::INFINITY } else { edges[i] },
            )
        };
        out.push(PsiBin {
            lower,
            upper,
            reference_share: e,
            recent_share: a,
        });
    }
    Some(Psi {
        value,
        drift: Drift::of(value),
        bins: out,
        reference_count: reference.len(),
        recent_count: recent.len(),
    })
}

/// An inspected declaration as the monitor sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub date: NaiveDate,
    /// Lane and basis of the decision that sent it to inspection, when the audit log has one.
    pub lane: Option<Lane>,
    pub basis: Option<Basis>,
    pub rule_ids: Vec<String>,
    pub fraud: bool,
}

/// Joins inspection outcomes with the decisions that selected them (from the audit log).
/// Outcomes of declarations without a logged decision count under `lane unknown`.
pub fn inspections(
    outcomes: &[FeedbackRecord],
    decisions: &HashMap<String, Decision>,
) -> Vec<Inspection> {
    outcomes
        .iter()
        .map(|f| {
            let d = decisions.get(&f.outcome.declaration_id);
            Inspection {
                date: f.outcome.decided_on,
                lane: d.map(|d| d.lane),
                basis: d.map(|d| d.basis),
                rule_ids: d
                    .map(|d| {
                        d.reasons
                            .iter()
                            .filter(|r| r.kind == ReasonKind::Rule)
                            .map(|r| r.code.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                fraud: f.outcome.fraud,
            }
        })
        .collect()
}

/// Hit rate of one group in one week (`week` = `2021-W14`, or `all`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitRate {
    /// `all`, `lane red`, `basis random`, `rule <id>`, or `lane unknown` for outcomes without a
    /// logged decision.
    pub group: String,
    pub week: String,
    pub inspected: u64,
    pub frauds: u64,
    pub rate: f64,
}

/// ISO week label of a date, e.g. `2021-W14`.
pub fn iso_week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Hit rates per group and week, plus each group's total (`week = "all"`), sorted by group
/// then week.
pub fn hit_rates(inspections: &[Inspection]) -> Vec<HitRate> {
    let mut acc: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for i in inspections {
        let mut groups = vec!["all".to_string()];
        groups.push(match i.lane {
            Some(l) => format!("lane {l}"),
            None => "lane unknown".into(),
        });
        if let Some(b) = i.basis {
            let name = serde_json::to_value(b)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            groups.push(format!("basis {name}"));
        }
        groups.extend(i.rule_ids.iter().map(|r| format!("rule {r}")));
        for g in groups {
            for week in [iso_week(i.date), "all".to_string()] {
                let e = acc.entry((g.clone(), week)).or_default();
                e.0 += 1;
                e.1 += u64::from(i.fraud);
            }
        }
    }
    acc.into_iter()
        .map(|((group, week), (inspected, frauds))| HitRate {
            group,
            week,
            inspected,
            frauds,
            rate: frauds as f64 / inspected as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
    fn phi(x: f64) -> f64 {
        let z = x.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-z * z).exp();
        if x >= 0.0 {
            0.5 * (1.0 + erf)
        } else {
            0.5 * (1.0 - erf)
        }
    }

    fn normal(n: usize, mean: f64, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (u1, u2): (f64, f64) = (rng.random(), rng.random());
                mean + (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    fn value(reference: &[f64], recent: &[f64]) -> f64 {
        psi(reference, recent, PSI_BINS)
            .map(|p| p.value)
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn identical_samples_have_zero_psi_and_same_distribution_samples_near_zero() {
        let a = normal(100_000, 0.0, 1);
        assert_eq!(value(&a, &a), 0.0);
        let b = normal(100_000, 0.0, 2);
        let v = value(&a, &b);
        assert!(v < 0.001, "{v}");
        assert_eq!(Drift::of(v), Drift::Stable);
    }

    #[test]
    fn a_shifted_normal_gives_the_analytic_decile_psi() {
        // Reference N(0,1), recent N(0.5,1): with the reference's deciles q_k as bins, the
        // recent share of bin k is Phi(q_k+1 - 0.5) - Phi(q_k - 0.5) against 10 % each.
        let z = [
            f64::NEG_INFINITY,
            -1.281_551_6,
            -0.841_621_2,
            -0.524_400_5,
            -0.253_347_1,
            0.0,
            0.253_347_1,
            0.524_400_5,
            0.841_621_2,
            1.281_551_6,
            f64::INFINITY,
        ];
        let expected: f64 = z
            .windows(2)
            .map(|w| {
                let a = phi(w[1] - 0.5) - phi(w[0] - 0.5);
                (a - 0.1) * (a / 0.1).ln()
            })
            .sum();
        // The continuous value would be 0.25 (= shift^2); ten bins see a little less.
        assert!((expected - 0.2377).abs() < 0.001, "{expected}");
        let v = value(&normal(200_000, 0.0, 3), &normal(200_000, 0.5, 4));
        assert!(
            (v - expected).abs() < 0.01,
            "psi {v} vs analytic {expected}"
        );
        assert_eq!(Drift::of(v), Drift::Warn);
        let big = value(&normal(50_000, 0.0, 5), &normal(50_000, 1.0, 6));
        assert_eq!(Drift::of(big), Drift::Alert, "{big}");
    }

    #[test]
    fn a_shifted_uniform_grid_gives_the_exact_value_with_epsilon_for_the_empty_bin() {
        let reference: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let recent: Vec<f64> = reference.iter().map(|x| x + 0.1003).collect();
        let p = psi(&reference, &recent, 10).expect("samples");
        assert_eq!(p.bins.len(), 10);
        let shares: Vec<f64> = p.bins.iter().map(|b| b.recent_share).collect();
        assert_eq!(shares, [0.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]);
        let exact = (PSI_EPSILON - 0.1) * (PSI_EPSILON / 0.1).ln() + 0.1 * 2f64.ln();
        assert!((p.value - exact).abs() < 1e-9, "{} vs {exact}", p.value);
    }

    #[test]
    fn missing_values_and_discrete_features_get_their_own_bins() {
        // A duty rate with three values: bins collapse to the distinct values.
        let reference: Vec<f64> = (0..100).map(|i| [0.0, 8.0, 13.0][i % 3]).collect();
        let p = psi(&reference, &reference, 10).expect("samples");
        assert_eq!(p.bins.len(), 3);
        assert_eq!(p.value, 0.0);
        // Missing values appearing in the recent window are drift.
        let mut recent = reference.clone();
        for x in recent.iter_mut().take(30) {
            *x = f64::NAN;
        }
        let p = psi(&reference, &recent, 10).expect("samples");
        assert_eq!(p.bins.len(), 4);
        assert!(p.bins[3].lower.is_nan() && (p.bins[3].recent_share - 0.3).abs() < 1e-12);
        assert_eq!(p.drift, Drift::Alert);
        assert!(psi(&[], &reference, 10).is_none());
    }

    #[test]
    fn hit_rates_by_lane_basis_rule_and_week() {
        let d = |day| NaiveDate::from_ymd_opt(2021, 4, day).unwrap_or_default();
        let insp = |day, lane, basis, rules: &[&str], fraud| Inspection {
            date: d(day),
            lane,
            basis,
            rule_ids: rules.iter().map(|r| r.to_string()).collect(),
            fraud,
        };
        let items = [
            insp(5, Some(Lane::Red), Some(Basis::Score), &[], true),
            insp(6, Some(Lane::Red), Some(Basis::Score), &[], true),
            insp(7, Some(Lane::Red), Some(Basis::Random), &[], false),
            insp(12, Some(Lane::Yellow), Some(Basis::Rule), &["solar"], true),
            insp(13, Some(Lane::Red), Some(Basis::Score), &["solar"], false),
            insp(14, None, None, &[], false),
        ];
        let rates = hit_rates(&items);
        let get = |g: &str, w: &str| {
            rates
                .iter()
                .find(|r| r.group == g && r.week == w)
                .map(|r| (r.inspected, r.frauds))
        };
        assert_eq!(iso_week(d(5)), "2021-W14");
        assert_eq!(get("all", "all"), Some((6, 3)));
        assert_eq!(get("all", "2021-W14"), Some((3, 2)));
        assert_eq!(get("all", "2021-W15"), Some((3, 1)));
        assert_eq!(get("lane red", "all"), Some((4, 2)));
        assert_eq!(get("lane red", "2021-W15"), Some((1, 0)));
        assert_eq!(get("basis random", "all"), Some((1, 0)));
        assert_eq!(get("rule solar", "all"), Some((2, 1)));
        assert_eq!(get("lane unknown", "all"), Some((1, 0)));
        assert_eq!(get("lane yellow", "2021-W14"), None);
        let red = rates
            .iter()
            .find(|r| r.group == "lane red" && r.week == "all")
            .map(|r| r.rate);
        assert_eq!(red, Some(0.5));
    }
}
