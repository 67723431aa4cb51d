//! Valuation as a targeting [`Signal`].

use crate::benchmark::{Benchmarks, Config};
use crate::check::{Direction, Status};
use crate::error::ValuationError;
use crate::key::Level;
use borderline_core::{Declaration, FeatureDef, Reason, RuleFieldDef, Signal};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Valuation features and reasons from benchmarks fitted on history before the scored period.
/// Serialisable (serde) so it can live inside a model artefact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValuationSignal {
    pub benchmarks: Benchmarks,
}

const FEATURES: [(&str, &str); 12] = [
    ("valuation_score", "combined valuation score: signed tail score of the log unit value under the expected-price mixture (the HS6's products weighted by the evidence of net mass, origin, duty rate and the importer's and seller's own past declarations); about |z| + 0.4, negative = cheaper than expected"),
    ("valuation_robust_z", "(log unit value - median of its benchmark cell) / (1.4826 x MAD), cell at the most specific level with the minimum sample"),
    ("valuation_log_dev", "log unit value minus the benchmark cell median log unit value"),
    ("valuation_percentile", "percentile (0-100) of the unit value within its benchmark cell"),
    ("valuation_level", "benchmark level used: 0 HS6 x origin, 1 HS6, 2 HS4, 3 HS2"),
    ("valuation_own_importer_dev", "log unit value minus the importer's own median for this HS6 over the window (missing if none)"),
    ("valuation_own_importer_n", "importer's own declarations of this HS6 in the window"),
    ("valuation_log_duty_at_risk", "ln(1 + duty at risk), duty at risk = (cell median unit value x mass - declared value) x duty rate, floored at 0"),
    ("valuation_data_quality", "1 if mass, value, currency or HS code prevents a valuation check, else 0"),
    ("valuation_under_rank", "under-valuation ranking score: log likelihood ratio of 'declared at 10-90% of the expected price' vs 'at the expected price', minus 0.3 x valuation_score"),
    ("valuation_over_rank", "over-valuation ranking score: log likelihood ratio of 'declared at 1.1-10x the expected price' vs 'at the expected price', plus 0.3 x valuation_score"),
    ("valuation_product_confidence", "posterior probability of the most likely product (price group) of the HS6 given the declaration's evidence (1 for single-product HS6s)"),
];

impl ValuationSignal {
    /// Fits on `history` (declarations dated before `as_of` within the window are used; later
    /// ones are ignored, so passing a superset cannot leak the scored period).
    pub fn fit<'a>(
        config: Config,
        history: impl IntoIterator<Item = &'a Declaration>,
        as_of: NaiveDate,
    ) -> Result<ValuationSignal, ValuationError> {
        Ok(ValuationSignal {
            benchmarks: Benchmarks::build(config, history, as_of)?,
        })
    }

    pub fn new(benchmarks: Benchmarks) -> Self {
        ValuationSignal { benchmarks }
    }
}

impl Signal for ValuationSignal {
    fn name(&self) -> &str {
        "valuation"
    }

    fn feature_defs(&self) -> Vec<FeatureDef> {
        FeatureDef::table(&FEATURES)
    }

    fn features(&self, d: &Declaration, out: &mut [f32]) {
        let nan = f32::NAN;
        for v in out.iter_mut() {
            *v = nan;
        }
        if out.len() < FEATURES.len() {
            return;
        }
        // the allocation-free assessment: features are computed for every scored row
        let c = self.benchmarks.assess(d);
        out[8] = matches!(c.status, Status::DataQuality(_)) as u8 as f32;
        if c.status != Status::Checked {
            return;
        }
        out[0] = c.score as f32;
        out[1] = c.robust_z as f32;
        out[2] = (c.log_unit_value - c.cell_median) as f32;
        out[3] = c.percentile as f32;
        out[4] = match c.level {
            Some(Level::Hs6Origin) => 0.0,
            Some(Level::Hs6) => 1.0,
            Some(Level::Hs4) => 2.0,
            Some(Level::Hs2) => 3.0,
            None => nan,
        };
        if let Some(p) = c.own_importer {
            out[5] = (c.log_unit_value - p.median) as f32;
            out[6] = p.n as f32;
        } else {
            out[6] = 0.0;
        }
        out[7] = if c.direction == Direction::Under || c.duty_at_risk > 0.0 {
            c.duty_at_risk.ln_1p() as f32
        } else {
            0.0
        };
        out[9] = c.under_rank as f32;
        out[10] = c.over_rank as f32;
        out[11] = c.product_confidence as f32;
    }

    fn reasons(&self, d: &Declaration) -> Vec<Reason> {
        let c = self.benchmarks.check(d);
        self.benchmarks.reasons(d, &c)
    }

    fn describe(&self, feature: usize, value: f32, d: &Declaration) -> Option<String> {
        let v = f64::from(value);
        let hs6 = d.hs_code.hs6();
        let cur = borderline_core::currency_shown(&d.currency);
        let pct = |v: f64| format!("{:+.0}%", (v.exp() - 1.0) * 100.0);
        let side = if v < 0.0 { "below" } else { "above" };
        Some(match FEATURES.get(feature)?.0 {
            "valuation_score" => format!(
                "unit value {side} the price expected for this trader and goods (valuation score {v:+.1})"
            ),
            "valuation_robust_z" => {
                format!("unit value robust z-score {v:+.1} against its price benchmark")
            }
            "valuation_log_dev" => {
                format!("unit value {} against the benchmark median for HS {hs6}", pct(v))
            }
            "valuation_percentile" => {
                format!("unit value at percentile {v:.0} of its price benchmark")
            }
            "valuation_own_importer_dev" => format!(
                "unit value {} against the importer's own median for HS {hs6}",
                pct(v)
            ),
            "valuation_log_duty_at_risk" => format!(
                "estimated duty at risk from under-valuation {} {cur}",
                borderline_core::amount_shown(v.exp_m1())
            ),
            "valuation_data_quality" => {
                "mass, value, currency or HS code prevents a valuation check".to_string()
            }
            _ => return None,
        })
    }

    fn rule_fields(&self) -> Vec<RuleFieldDef> {
        vec![
            RuleFieldDef {
                name: "unit_value_percentile",
                definition: "percentile (0-100) of the unit value against its HS6 x origin benchmark (valuation module)",
            },
            RuleFieldDef {
                name: "valuation_z",
                definition: "robust z of the log unit value against its benchmark (valuation module)",
            },
        ]
    }

    fn rule_values(&self, d: &Declaration, out: &mut Vec<(&'static str, f64)>) {
        let c = self.benchmarks.check(d);
        if c.outcome == crate::CheckOutcome::Checked {
            if c.percentile.is_finite() {
                out.push(("unit_value_percentile", c.percentile));
            }
            if c.robust_z.is_finite() {
                out.push(("valuation_z", c.robust_z));
            }
        }
    }
}
