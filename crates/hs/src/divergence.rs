//! HS divergence from norms: how unusual a declared HS6 is for its importer, seller and
//! importer–seller pair, whether its unit value fits the declared code worse than the codes the
//! importer usually declares, and whether the declared code carries a lower duty rate than
//! those codes (a tariff-engineering signal). Structured history only, no text.
//!
//! [`HsDivergence`] implements [`borderline_core::Signal`]. Fit it on history strictly before
//! the scoring period ([`HsDivergence::fit`]); for training rows use
//! [`HsDivergence::rolling_features`], which gives each declaration features computed only
//! from declarations on earlier dates (no leakage of the row itself or of later rows).

use crate::nomenclature::{CodeStatus, Nomenclature};
use borderline_core::{Declaration, FeatureDef, Reason, ReasonKind, Signal, Text};
use std::collections::HashMap;

/// Tunables of the divergence signal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DivergenceConfig {
    /// Pseudo-count of the smoothing prior (the overall HS6 distribution) in trader shares.
    pub alpha: f64,
    /// Earlier declarations a trader needs before "unusual code" reasons are given.
    pub min_history: u32,
    /// Share below which a code is "unusual" for a trader (reason threshold).
    pub rare_share: f64,
    /// Unit-value observations a code needs before its price benchmark is used.
    pub min_code_obs: u32,
    /// Floor of the log-unit-value spread (natural log units) used in z-scores.
    pub min_log_spread: f64,
    /// How many of the trader's most frequent other codes count as "usual codes".
    pub usual_codes: usize,
    /// Reason threshold: the declared code's unit-value z-score exceeds the best usual code's by this.
    pub uv_gap: f64,
    /// Reason threshold: the usual codes' duty rate exceeds the declared rate by this many points.
    pub tax_gap_pp: f64,
}

impl Default for DivergenceConfig {
    fn default() -> Self {
        DivergenceConfig {
            alpha: 1.0,
            min_history: 10,
            rare_share: 0.02,
            min_code_obs: 5,
            min_log_spread: 0.25,
            usual_codes: 3,
            uv_gap: 2.0,
            tax_gap_pp: 3.0,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Profile {
    total: u32,
    hs6: HashMap<Text, u32>,
}

impl Profile {
    fn add(&mut self, hs6: &Text) {
        self.total += 1;
        *self.hs6.entry(hs6.clone()).or_default() += 1;
    }
    fn count(&self, hs6: &str) -> u32 {
        self.hs6.get(hs6).copied().unwrap_or(0)
    }
    /// Most frequent codes other than `except`, ties by code.
    fn usual(&self, except: &str, k: usize) -> Vec<(&Text, u32)> {
        let mut v: Vec<(&Text, u32)> = self
            .hs6
            .iter()
            .filter(|(c, _)| c.as_str() != except)
            .map(|(c, n)| (c, *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(k);
        v
    }
}

/// Running price and duty statistics of one HS6 (Welford mean/variance of log unit value).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
struct CodeStats {
    uv_n: u32,
    uv_mean: f64,
    uv_m2: f64,
    tax_n: u32,
    tax_sum: f64,
}

impl CodeStats {
    fn add(&mut self, d: &Declaration) {
        if let Some(uv) = d.unit_value().filter(|u| *u > 0.0) {
            let x = uv.ln();
            self.uv_n += 1;
            let delta = x - self.uv_mean;
            self.uv_mean += delta / f64::from(self.uv_n);
            self.uv_m2 += delta * (x - self.uv_mean);
        }
        if let Some(r) = d.tax_rate.filter(|r| r.is_finite()) {
            self.tax_n += 1;
            self.tax_sum += r;
        }
    }
    fn tax_mean(&self) -> Option<f64> {
        (self.tax_n > 0).then(|| self.tax_sum / f64::from(self.tax_n))
    }
}

/// Feature names, in output order.
const FEATURES: &[(&str, &str)] = &[
    ("hs_code_invalid", "1 when the declared HS6 is not an HS 2022 subheading (unknown or other edition), else 0"),
    ("hs_importer_history", "number of earlier declarations of this importer"),
    ("hs_importer_hs6_share", "smoothed share of the declared HS6 among the importer's earlier declarations (prior: overall HS6 frequency, pseudo-count alpha); NaN without history"),
    ("hs_importer_hs4_share", "smoothed share of the declared heading (HS4) among the importer's earlier declarations; NaN without history"),
    ("hs_seller_hs6_share", "smoothed share of the declared HS6 among the seller's earlier declarations; NaN without history or seller"),
    ("hs_pair_hs6_share", "smoothed share of the declared HS6 among earlier declarations of this importer-seller pair; NaN without history"),
    ("hs_uv_z_declared", "|z| of the log unit value against the declared HS6's earlier unit values; NaN when too few"),
    ("hs_uv_z_usual", "smallest |z| of the log unit value against the importer's usual other HS6 codes; NaN when none has enough data"),
    ("hs_uv_fit_gap", "hs_uv_z_declared - hs_uv_z_usual: positive when the goods' price fits the importer's usual codes better than the declared one"),
    ("hs_tax_gap_pp", "count-weighted mean duty rate of the importer's usual other codes minus the declared rate (percentage points); positive = declared code is cheaper"),
];

/// The fitted HS divergence signal. Serialisable (serde) so it can live inside a model
/// artefact; the nomenclature is the bundled one and is not written out.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HsDivergence {
    config: DivergenceConfig,
    #[serde(skip, default = "Nomenclature::bundled")]
    nom: &'static Nomenclature,
    total: u32,
    global: HashMap<Text, u32>,
    global_hs4: HashMap<Text, u32>,
    importer: HashMap<Text, Profile>,
    importer_hs4: HashMap<Text, Profile>,
    seller: HashMap<Text, Profile>,
    // JSON object keys must be strings: the pair map is written as a list of entries.
    #[serde(with = "pair_entries")]
    pair: HashMap<(Text, Text), Profile>,
    codes: HashMap<Text, CodeStats>,
}

mod pair_entries {
    use super::{Profile, Text};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;

    pub fn serialize<S: Serializer>(
        map: &HashMap<(Text, Text), Profile>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        // Sorted so that the same history always serialises to the same bytes.
        let mut v: Vec<(&(Text, Text), &Profile)> = map.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<HashMap<(Text, Text), Profile>, D::Error> {
        let v: Vec<((Text, Text), Profile)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

fn hs6_of(d: &Declaration) -> Text {
    Text::from(d.hs_code.hs6())
}

impl HsDivergence {
    /// An empty signal (no history).
    pub fn new(config: DivergenceConfig) -> Self {
        HsDivergence {
            config,
            nom: Nomenclature::bundled(),
            total: 0,
            global: HashMap::new(),
            global_hs4: HashMap::new(),
            importer: HashMap::new(),
            importer_hs4: HashMap::new(),
            seller: HashMap::new(),
            pair: HashMap::new(),
            codes: HashMap::new(),
        }
    }

    /// Fits on a history slice (declarations before the scoring period; order does not matter).
    pub fn fit(history: &[Declaration], config: DivergenceConfig) -> Self {
        let mut s = Self::new(config);
        for d in history {
            s.add(d);
        }
        s
    }

    /// Adds one declaration to the history.
    pub fn add(&mut self, d: &Declaration) {
        let hs6 = hs6_of(d);
        self.total += 1;
        *self.global.entry(hs6.clone()).or_default() += 1;
        *self
            .global_hs4
            .entry(Text::from(d.hs_code.hs4()))
            .or_default() += 1;
        self.importer
            .entry(d.importer.clone())
            .or_default()
            .add(&hs6);
        self.importer_hs4
            .entry(d.importer.clone())
            .or_default()
            .add(&Text::from(d.hs_code.hs4()));
        if let Some(s) = &d.seller {
            self.seller.entry(s.clone()).or_default().add(&hs6);
            self.pair
                .entry((d.importer.clone(), s.clone()))
                .or_default()
                .add(&hs6);
        }
        self.codes.entry(hs6).or_default().add(d);
    }

    /// Features for every declaration of `history`, each computed only from declarations with
    /// an earlier date (same-day declarations do not see each other). Rows are returned in the
    /// input order; each has `feature_defs().len()` values.
    pub fn rolling_features(history: &[Declaration], config: DivergenceConfig) -> Vec<Vec<f32>> {
        let mut order: Vec<usize> = (0..history.len()).collect();
        order.sort_by_key(|&i| (history[i].date, i));
        let mut s = Self::new(config);
        let n = FEATURES.len();
        let mut out = vec![vec![f32::NAN; n]; history.len()];
        let mut i = 0;
        while i < order.len() {
            let date = history[order[i]].date;
            let mut j = i;
            while j < order.len() && history[order[j]].date == date {
                s.features(&history[order[j]], &mut out[order[j]]);
                j += 1;
            }
            for &k in &order[i..j] {
                s.add(&history[k]);
            }
            i = j;
        }
        out
    }

    /// Overall probability of an HS6 (add-one over the 5,612 subheadings).
    fn prior(&self, hs6: &str) -> f64 {
        let c = self.global.get(hs6).copied().unwrap_or(0);
        (f64::from(c) + 1.0) / (f64::from(self.total) + 5612.0)
    }

    fn share(&self, p: Option<&Profile>, code: &str, prior: f64) -> Option<f64> {
        let p = p.filter(|p| p.total > 0)?;
        let a = self.config.alpha;
        Some((f64::from(p.count(code)) + a * prior) / (f64::from(p.total) + a))
    }

    fn uv_z(&self, code: &str, luv: f64) -> Option<f64> {
        let s = self.codes.get(code)?;
        if s.uv_n < self.config.min_code_obs {
            return None;
        }
        let sd = (s.uv_m2 / f64::from(s.uv_n.saturating_sub(1).max(1)))
            .sqrt()
            .max(self.config.min_log_spread);
        Some((luv - s.uv_mean).abs() / sd)
    }

    /// All computed quantities for one declaration (shared by features and reasons).
    fn analyse(&self, d: &Declaration) -> Analysis {
        let hs6 = d.hs_code.hs6();
        let prior = self.prior(hs6);
        let importer = self.importer.get(&d.importer);
        let usual: Vec<(Text, u32)> = importer
            .map(|p| {
                p.usual(hs6, self.config.usual_codes)
                    .into_iter()
                    .map(|(c, n)| (c.clone(), n))
                    .collect()
            })
            .unwrap_or_default();
        let luv = d.unit_value().filter(|u| *u > 0.0).map(f64::ln);
        let uv_declared = luv.and_then(|l| self.uv_z(hs6, l));
        let uv_usual = luv.and_then(|l| {
            usual
                .iter()
                .filter_map(|(c, _)| self.uv_z(c, l).map(|z| (z, c.clone())))
                .min_by(|a, b| a.0.total_cmp(&b.0))
        });
        let declared_rate = d
            .tax_rate
            .filter(|r| r.is_finite())
            .or_else(|| self.codes.get(hs6).and_then(CodeStats::tax_mean));
        let (mut wsum, mut rsum) = (0.0, 0.0);
        for (c, n) in &usual {
            if let Some(r) = self.codes.get(c).and_then(CodeStats::tax_mean) {
                wsum += f64::from(*n);
                rsum += f64::from(*n) * r;
            }
        }
        let usual_rate = (wsum > 0.0).then(|| rsum / wsum);
        let hs4_count = self.global_hs4.get(d.hs_code.hs4()).copied().unwrap_or(0);
        let hs4_prior = (f64::from(hs4_count) + 1.0) / (f64::from(self.total) + 1228.0);
        Analysis {
            status: self.nom.validate(hs6),
            importer_history: importer.map_or(0, |p| p.total),
            importer_count: importer.map_or(0, |p| p.count(hs6)),
            importer_share: self.share(importer, hs6, prior),
            importer_hs4_share: self.share(
                self.importer_hs4.get(&d.importer),
                d.hs_code.hs4(),
                hs4_prior,
            ),
            seller_share: d
                .seller
                .as_ref()
                .and_then(|s| self.share(self.seller.get(s), hs6, prior)),
            pair_share: d.seller.as_ref().and_then(|s| {
                self.share(self.pair.get(&(d.importer.clone(), s.clone())), hs6, prior)
            }),
            uv_declared,
            uv_usual,
            declared_rate,
            usual_rate,
            usual,
        }
    }
}

struct Analysis {
    status: CodeStatus,
    importer_history: u32,
    importer_count: u32,
    importer_share: Option<f64>,
    importer_hs4_share: Option<f64>,
    seller_share: Option<f64>,
    pair_share: Option<f64>,
    uv_declared: Option<f64>,
    uv_usual: Option<(f64, Text)>,
    declared_rate: Option<f64>,
    usual_rate: Option<f64>,
    usual: Vec<(Text, u32)>,
}

impl Analysis {
    fn tax_gap(&self) -> Option<f64> {
        Some(self.usual_rate? - self.declared_rate?)
    }
    fn uv_gap(&self) -> Option<f64> {
        Some(self.uv_declared? - self.uv_usual.as_ref()?.0)
    }
    fn usual_list(&self) -> String {
        self.usual
            .iter()
            .map(|(c, n)| format!("{c} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn f(x: Option<f64>) -> f32 {
    x.map_or(f32::NAN, |v| v as f32)
}

impl Signal for HsDivergence {
    fn name(&self) -> &str {
        "hs"
    }

    fn feature_defs(&self) -> Vec<FeatureDef> {
        FeatureDef::table(FEATURES)
    }

    fn features(&self, d: &Declaration, out: &mut [f32]) {
        let a = self.analyse(d);
        let vals = [
            if a.status.is_valid() { 0.0 } else { 1.0 },
            a.importer_history as f32,
            f(a.importer_share),
            f(a.importer_hs4_share),
            f(a.seller_share),
            f(a.pair_share),
            f(a.uv_declared),
            f(a.uv_usual.as_ref().map(|x| x.0)),
            f(a.uv_gap()),
            f(a.tax_gap()),
        ];
        for (o, v) in out.iter_mut().zip(vals) {
            *o = v;
        }
    }

    fn describe(&self, feature: usize, value: f32, d: &Declaration) -> Option<String> {
        let v = f64::from(value);
        let hs6 = d.hs_code.hs6();
        Some(match FEATURES.get(feature)?.0 {
            "hs_code_invalid" => format!("declared HS {hs6} is not an HS 2022 subheading"),
            "hs_importer_hs6_share" => format!(
                "HS {hs6} is {:.1}% of the importer's earlier declarations",
                v * 100.0
            ),
            "hs_seller_hs6_share" => format!(
                "HS {hs6} is {:.1}% of the seller's earlier declarations",
                v * 100.0
            ),
            "hs_pair_hs6_share" => format!(
                "HS {hs6} is {:.1}% of this importer-seller pair's earlier declarations",
                v * 100.0
            ),
            "hs_tax_gap_pp" => {
                format!("declared code's duty rate {v:.1} points below the importer's usual codes")
            }
            _ => return None,
        })
    }

    fn rule_fields(&self) -> Vec<borderline_core::RuleFieldDef> {
        vec![borderline_core::RuleFieldDef {
            name: "hs_divergence",
            definition: "1 minus the smoothed share of the declared HS6 among the importer's earlier declarations: 0 = the importer's usual code, near 1 = a code it has not used (HS module; absent without history)",
        }]
    }

    fn rule_values(&self, d: &Declaration, out: &mut Vec<(&'static str, f64)>) {
        if let Some(share) = self.analyse(d).importer_share {
            if share.is_finite() {
                out.push(("hs_divergence", 1.0 - share));
            }
        }
    }

    fn reasons(&self, d: &Declaration) -> Vec<Reason> {
        let a = self.analyse(d);
        let cfg = &self.config;
        let hs6 = d.hs_code.hs6();
        let mut out: Vec<Reason> = a.status.reason().into_iter().collect();
        let reason = |code: &str, text: String| Reason {
            kind: ReasonKind::Classification,
            code: code.to_string(),
            text,
            contribution: None,
        };
        let unusual = a.importer_history >= cfg.min_history
            && a.importer_share.is_some_and(|s| s < cfg.rare_share);
        if unusual {
            out.push(reason(
                "hs_importer_hs6_share",
                format!(
                    "HS {hs6} is unusual for importer {}: {} of {} earlier declarations (smoothed share {:.1}%); usual codes: {}",
                    d.importer,
                    a.importer_count,
                    a.importer_history,
                    a.importer_share.unwrap_or(0.0) * 100.0,
                    a.usual_list()
                ),
            ));
        }
        if let (Some(s), Some(seller)) = (a.seller_share, &d.seller) {
            let hist = self.seller.get(seller).map_or(0, |p| p.total);
            if hist >= cfg.min_history && s < cfg.rare_share {
                out.push(reason(
                    "hs_seller_hs6_share",
                    format!("HS {hs6} is unusual for seller {seller}: smoothed share {:.1}% of {hist} earlier declarations", s * 100.0),
                ));
            }
        }
        if let (Some(gap), Some((z_usual, code)), Some(z_decl)) =
            (a.uv_gap(), &a.uv_usual, a.uv_declared)
        {
            if gap >= cfg.uv_gap {
                out.push(reason(
                    "hs_uv_fit_gap",
                    format!(
                        "unit value {} {}/kg fits the declared HS {hs6} poorly (z {z_decl:.1}) but fits the importer's usual HS {code} (z {z_usual:.1})",
                        borderline_core::amount_shown(d.unit_value().unwrap_or(f64::NAN)),
                        borderline_core::currency_shown(&d.currency)
                    ),
                ));
            }
        }
        if let (Some(gap), Some(rate), Some(usual)) = (a.tax_gap(), a.declared_rate, a.usual_rate) {
            // Cheaper than the usual codes, and either the price points to the usual codes, or
            // the code is unusual for the importer and the price does not clearly fit it better.
            let price_points_to_usual = a.uv_gap().is_some_and(|g| g >= cfg.uv_gap);
            let price_fits_declared = a.uv_gap().is_some_and(|g| g <= -1.0);
            if gap >= cfg.tax_gap_pp && (price_points_to_usual || (unusual && !price_fits_declared))
            {
                out.push(reason(
                    "hs_tax_gap_pp",
                    format!(
                        "possible tariff engineering: declared HS {hs6} carries {rate:.1}% duty, {gap:.1} points below the {usual:.1}% of the importer's usual codes {}",
                        a.usual_list()
                    ),
                ));
            }
        }
        out
    }
}

/// Text-based companion signal: how well the declared code fits the declaration's goods
/// description, from the [`crate::Classifier`]. Features are `NaN` when a declaration has no
/// description.
pub struct HsDescriptionSignal {
    classifier: crate::Classifier,
    policy: crate::CheckPolicy,
}

const TEXT_FEATURES: &[(&str, &str)] = &[
    (
        "hs_desc_p_declared",
        "P(declared HS6 | goods description) from the HS suggester; NaN without description",
    ),
    (
        "hs_desc_p_declared_heading",
        "P(declared heading | goods description); NaN without description",
    ),
    (
        "hs_desc_p_top",
        "probability of the most likely HS6 for the description; NaN without description",
    ),
];

impl HsDescriptionSignal {
    pub fn new(classifier: crate::Classifier, policy: crate::CheckPolicy) -> Self {
        HsDescriptionSignal { classifier, policy }
    }

    fn check(&self, d: &Declaration) -> Option<crate::CheckResult> {
        let desc = d.description.as_deref().filter(|s| !s.trim().is_empty())?;
        Some(self.classifier.check(desc, d.hs_code.as_str(), self.policy))
    }
}

impl Signal for HsDescriptionSignal {
    fn name(&self) -> &str {
        "hs_desc"
    }

    fn feature_defs(&self) -> Vec<FeatureDef> {
        FeatureDef::table(TEXT_FEATURES)
    }

    fn features(&self, d: &Declaration, out: &mut [f32]) {
        let vals = match self.check(d) {
            Some(c) => [
                c.declared_confidence as f32,
                c.declared_heading_confidence as f32,
                c.suggestions
                    .first()
                    .map_or(f32::NAN, |s| s.confidence as f32),
            ],
            None => [f32::NAN; 3],
        };
        for (o, v) in out.iter_mut().zip(vals) {
            *o = v;
        }
    }

    fn reasons(&self, d: &Declaration) -> Vec<Reason> {
        // Validation reasons come from HsDivergence; only the text mismatch is added here.
        self.check(d)
            .map(|c| {
                c.reasons
                    .into_iter()
                    .filter(|r| r.kind == ReasonKind::Classification)
                    .collect()
            })
            .unwrap_or_default()
    }
}
