//! The seeded evaluation of issue 3: log-normal price noise, injected mis-valuation in three
//! bands, ROC AUC and recall at 1%/2% flagged for Borderline's combined score, the IQR price
//! filter of Pak and Zdanowicz and a plain robust z-score, all in one run.

use borderline_core::Declaration;
use borderline_valuation::{
    hs6_number, log_unit_value, Benchmarks, Config, Status, ValuationError,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Which period is scored: `Test` (history = train + valid) or `Valid` (history = train), the
/// latter for tuning without touching the test period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Valid,
    Test,
}

#[derive(Debug, Clone)]
pub struct EvalConfig {
    pub data_dir: PathBuf,
    pub noise: f64,
    pub seed: u64,
    pub rate: f64,
    pub period: Period,
    pub benchmarks: Config,
}

/// Mis-valuation bands: (name, low factor, high factor).
pub const BANDS: [(&str, f64, f64); 3] = [
    ("under_0.2-0.5", 0.2, 0.5),
    ("under_0.5-0.8", 0.5, 0.8),
    ("over_1.5-4", 1.5, 4.0),
];
pub const RECALL_AT: [(&str, f64); 2] = [("1%", 0.01), ("2%", 0.02)];

/// Per method: AUC per band and recall at 1% / 2% flagged per band.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MethodResult {
    pub auc: BTreeMap<String, f64>,
    pub recall_at: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub borderline: MethodResult,
    pub iqr_filter: MethodResult,
    pub robust_z: MethodResult,
    /// Knowing each declaration's true (pre-noise) price: the attainable limit.
    pub oracle: MethodResult,
    pub period: Period,
    pub noise: f64,
    pub seed: u64,
    pub rate: f64,
    pub history_declarations: usize,
    pub scored_declarations: usize,
    /// Scored declarations without a usable unit value (not in the population).
    pub excluded_data_quality: usize,
    pub positives_per_band: usize,
    /// Share of scored declarations by benchmark level used.
    pub levels: BTreeMap<String, usize>,
    pub as_of: String,
}

fn unit(seed: u64, tag: u64, id: &str) -> f64 {
    let h = xxh3_64_with_seed(
        id.as_bytes(),
        seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Standard normal draw, a pure function of (seed, tag, id): order-independent.
pub fn normal(seed: u64, tag: u64, id: &str) -> f64 {
    let u1 = unit(seed, tag, id);
    let u2 = unit(seed, tag + 1_000_003, id);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Multiplies every customs value by exp(sigma N(0,1)), seeded per declaration id.
pub fn add_noise(ds: &mut [Declaration], sigma: f64, seed: u64) {
    if sigma == 0.0 {
        return;
    }
    for d in ds {
        if let Some(v) = d.customs_value.as_mut() {
            *v *= (sigma * normal(seed, 1, &d.declaration_id)).exp();
        }
    }
}

pub use borderline_core::metrics::auc;

/// Recall among the top `frac` of scores (ties broken by the given deterministic keys).
pub fn recall_at(scores: &[f64], labels: &[bool], tiebreak: &[u64], frac: f64) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(tiebreak[a].cmp(&tiebreak[b]))
    });
    let k = ((scores.len() as f64) * frac).round() as usize;
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return f64::NAN;
    }
    idx[..k.min(idx.len())]
        .iter()
        .filter(|&&i| labels[i])
        .count() as f64
        / pos as f64
}

fn load(cfg: &EvalConfig, name: &str) -> Result<Vec<Declaration>, ValuationError> {
    let path = cfg.data_dir.join(format!("kcs_{name}.csv.gz"));
    let (ds, _, _) =
        borderline_ingest::read_all(&path, borderline_ingest::Profile::korea_customs())?;
    Ok(ds)
}

/// Scores of the baselines for one declaration: (robust z, signed IQR distance).
/// IQR distance: 0 inside [Q1, Q3], else (x - Q3) / IQR above or (x - Q1) / IQR below.
fn baselines(b: &Benchmarks, d: &Declaration) -> (f64, f64) {
    let Ok(x) = log_unit_value(d) else {
        return (0.0, 0.0);
    };
    let Some(hs6) = hs6_number(d.hs_code.as_str()) else {
        return (0.0, 0.0);
    };
    let Some((_, c)) = b.fallback(hs6, b.origin_index(&d.origin_country), 0) else {
        return (0.0, 0.0);
    };
    let z = (x - c.median()) / c.scale(b.config.min_scale);
    let iqr = (c.q3() - c.q1()).max(b.config.min_scale);
    let dist = if x < c.q1() {
        (x - c.q1()) / iqr
    } else if x > c.q3() {
        (x - c.q3()) / iqr
    } else {
        0.0
    };
    (z, dist)
}

pub fn run(cfg: &EvalConfig) -> Result<EvalReport, ValuationError> {
    let mut train = load(cfg, "train")?;
    let mut history: Vec<Declaration>;
    let mut scored: Vec<Declaration>;
    match cfg.period {
        Period::Valid => {
            history = std::mem::take(&mut train);
            scored = load(cfg, "valid")?;
        }
        Period::Test => {
            history = train;
            history.extend(load(cfg, "valid")?);
            scored = load(cfg, "test")?;
        }
    }
    // Raw (pre-noise) log unit values: the oracle knows them.
    let raw: Vec<Option<f64>> = scored.iter().map(|d| log_unit_value(d).ok()).collect();
    add_noise(&mut history, cfg.noise, cfg.seed);
    add_noise(&mut scored, cfg.noise, cfg.seed);
    let as_of = scored
        .iter()
        .map(|d| d.date)
        .min()
        .ok_or_else(|| ValuationError::Config("no declarations to score".into()))?;
    let bench = Benchmarks::build(
        cfg.benchmarks.clone(),
        history.iter().filter(|d| d.date < as_of),
        as_of,
    )?;

    let population: Vec<(usize, &Declaration)> = scored
        .iter()
        .enumerate()
        .filter(|(i, d)| log_unit_value(d).is_ok() && raw[*i].is_some())
        .collect();
    let n = population.len();
    let excluded = scored.len() - n;
    let n_pos = ((n as f64) * cfg.rate).round() as usize;
    let tiebreak: Vec<u64> = population
        .iter()
        .map(|(_, d)| xxh3_64_with_seed(d.declaration_id.as_bytes(), cfg.seed ^ 0x7777))
        .collect();

    let mut levels = BTreeMap::new();
    for (_, d) in &population {
        let c = bench.assess(d);
        let name = match (c.status, c.level) {
            (Status::Checked, Some(l)) => l.name(),
            _ => "none",
        };
        *levels.entry(name.to_string()).or_insert(0) += 1;
    }

    let mut report = EvalReport {
        borderline: MethodResult::default(),
        iqr_filter: MethodResult::default(),
        robust_z: MethodResult::default(),
        oracle: MethodResult::default(),
        period: cfg.period,
        noise: cfg.noise,
        seed: cfg.seed,
        rate: cfg.rate,
        history_declarations: history.len(),
        scored_declarations: scored.len(),
        excluded_data_quality: excluded,
        positives_per_band: n_pos,
        levels,
        as_of: as_of.to_string(),
    };
    for (b_idx, (band, lo, hi)) in BANDS.iter().enumerate() {
        let tag = 100 + b_idx as u64 * 10;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| {
            xxh3_64_with_seed(population[i].1.declaration_id.as_bytes(), cfg.seed ^ tag)
        });
        let mut labels = vec![false; n];
        for &i in &order[..n_pos] {
            labels[i] = true;
        }
        let sign = if *lo >= 1.0 { 1.0 } else { -1.0 };
        let mut s_b = Vec::with_capacity(n);
        let mut s_iqr = Vec::with_capacity(n);
        let mut s_z = Vec::with_capacity(n);
        let mut s_o = Vec::with_capacity(n);
        for (j, &(i, d)) in population.iter().enumerate() {
            let mut d = d.clone();
            if labels[j] {
                let f = lo + (hi - lo) * unit(cfg.seed, tag + 1, &d.declaration_id);
                if let Some(v) = d.customs_value.as_mut() {
                    *v *= f;
                }
            }
            let c = bench.assess(&d);
            let ev = if sign < 0.0 {
                c.under_rank
            } else {
                c.over_rank
            };
            s_b.push(if c.status == Status::Checked && ev.is_finite() {
                ev
            } else {
                0.0
            });
            let (z, dist) = baselines(&bench, &d);
            s_z.push(sign * z);
            // The IQR filter flags a price outside [Q1, Q3] in the band's direction; among
            // flagged prices, farther outside ranks first.
            s_iqr.push((sign * dist).max(0.0));
            let x = log_unit_value(&d).unwrap_or(f64::NAN);
            s_o.push(sign * (x - raw[i].unwrap_or(f64::NAN)));
        }
        for (m, s) in [
            (&mut report.borderline, &s_b),
            (&mut report.iqr_filter, &s_iqr),
            (&mut report.robust_z, &s_z),
            (&mut report.oracle, &s_o),
        ] {
            m.auc.insert(band.to_string(), auc(s, &labels));
            let r = RECALL_AT
                .iter()
                .map(|(k, f)| (k.to_string(), recall_at(s, &labels, &tiebreak, *f)))
                .collect();
            m.recall_at.insert(band.to_string(), r);
        }
    }
    Ok(report)
}

impl EvalReport {
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "valuation evaluate: period {:?}, noise sigma {}, seed {}, {} of {} scored declarations mis-valued per band ({} excluded: no usable unit value); history {} declarations before {}\nbenchmark levels used: {:?}\n\n",
            self.period, self.noise, self.seed, self.positives_per_band, self.scored_declarations - self.excluded_data_quality,
            self.excluded_data_quality, self.history_declarations, self.as_of, self.levels
        );
        s.push_str(&format!("{:<22}", "method"));
        for (b, _, _) in BANDS {
            s.push_str(&format!("{:>28}", b));
        }
        s.push('\n');
        s.push_str(&format!("{:<22}", ""));
        for _ in BANDS {
            s.push_str(&format!("{:>28}", "AUC   R@1%   R@2%"));
        }
        s.push('\n');
        for (name, m) in [
            ("borderline", &self.borderline),
            ("iqr_filter", &self.iqr_filter),
            ("robust_z (baseline)", &self.robust_z),
            ("oracle (true price)", &self.oracle),
        ] {
            s.push_str(&format!("{name:<22}"));
            for (b, _, _) in BANDS {
                let r = &m.recall_at[b];
                s.push_str(&format!(
                    "{:>28}",
                    format!("{:.3}  {:.3}  {:.3}", m.auc[b], r["1%"], r["2%"])
                ));
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn auc_by_hand() {
        // positives 0.9, 0.4; negatives 0.5, 0.1 -> pairs: (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) = 3/4
        let s = [0.9, 0.5, 0.4, 0.1];
        let l = [true, false, true, false];
        assert!((auc(&s, &l) - 0.75).abs() < 1e-12);
        // ties count one half
        assert!((auc(&[1.0, 1.0], &[true, false]) - 0.5).abs() < 1e-12);
        assert_eq!(recall_at(&s, &l, &[0, 1, 2, 3], 0.25), 0.5);
    }
    #[test]
    fn noise_is_seeded_and_order_free() {
        assert_eq!(normal(7, 1, "abc"), normal(7, 1, "abc"));
        assert_ne!(normal(7, 1, "abc"), normal(8, 1, "abc"));
        let xs: Vec<f64> = (0..20000).map(|i| normal(3, 1, &i.to_string())).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
