//! Leakage-free history features.
//!
//! A [`FeatureSpec`] names the categorical dimensions (and crosses of them) whose past fraud
//! rates matter. [`HistoryTables::fit`] counts outcomes per key over a history of inspected
//! declarations; [`HistoryTables::features`] turns one declaration into a feature vector using
//! only those counts. Training rows get out-of-fold values ([`HistoryTables::fit_out_of_fold`]):
//! each row's statistics exclude the fold it belongs to, so no row sees its own label.
//! Unseen keys fall back to the prior (smoothing pulls thin keys towards it).

use ahash::AHashMap;
use borderline_core::{Declaration, FeatureDef};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A categorical dimension of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Office,
    ProcessType,
    ImportType,
    ImportUse,
    PaymentType,
    TransportMode,
    Declarant,
    Importer,
    Seller,
    Courier,
    Hs6,
    Hs4,
    Hs2,
    /// HS6 code at one unit price (log price rounded to 0.1 %): the same product line of the
    /// same price. In the bundled data prices were rebuilt as mass x an HS10 unit price, so this
    /// identifies the HS10 line.
    PricePoint,
    DepartureCountry,
    OriginCountry,
    TaxType,
    TaxRate,
    OriginIndicator,
}

impl Dim {
    pub fn name(self) -> &'static str {
        match self {
            Dim::Office => "office",
            Dim::ProcessType => "process_type",
            Dim::ImportType => "import_type",
            Dim::ImportUse => "import_use",
            Dim::PaymentType => "payment_type",
            Dim::TransportMode => "transport_mode",
            Dim::Declarant => "declarant",
            Dim::Importer => "importer",
            Dim::Seller => "seller",
            Dim::Courier => "courier",
            Dim::Hs6 => "hs6",
            Dim::Hs4 => "hs4",
            Dim::Hs2 => "hs2",
            Dim::PricePoint => "price_point",
            Dim::DepartureCountry => "departure",
            Dim::OriginCountry => "origin",
            Dim::TaxType => "tax_type",
            Dim::TaxRate => "tax_rate",
            Dim::OriginIndicator => "origin_indicator",
        }
    }

    /// Whether two declarations equal on `self` are equal on `other`.
    pub fn determines(self, other: Dim) -> bool {
        use Dim::*;
        self == other
            || matches!(
                (self, other),
                (PricePoint, Hs6 | Hs4 | Hs2) | (Hs6, Hs4 | Hs2) | (Hs4, Hs2)
            )
    }

    /// How an officer would name it.
    pub fn label(self) -> &'static str {
        match self {
            Dim::Office => "customs office",
            Dim::ProcessType => "process type",
            Dim::ImportType => "import type",
            Dim::ImportUse => "import use",
            Dim::PaymentType => "payment type",
            Dim::TransportMode => "transport mode",
            Dim::Declarant => "declarant",
            Dim::Importer => "importer",
            Dim::Seller => "seller",
            Dim::Courier => "courier",
            Dim::Hs6 => "HS6 code",
            Dim::Hs4 => "HS heading",
            Dim::Hs2 => "HS chapter",
            Dim::PricePoint => "product line at this unit price",
            Dim::DepartureCountry => "country of departure",
            Dim::OriginCountry => "country of origin",
            Dim::TaxType => "tax type",
            Dim::TaxRate => "duty rate",
            Dim::OriginIndicator => "origin indicator",
        }
    }

    /// The declaration's value in this dimension, as shown to an officer.
    pub fn value(self, d: &Declaration) -> String {
        let opt = |v: &Option<borderline_core::Text>| v.as_deref().unwrap_or("").to_string();
        match self {
            Dim::Office => d.office.to_string(),
            Dim::ProcessType => d.process_type.to_string(),
            Dim::ImportType => d.import_type.to_string(),
            Dim::ImportUse => d.import_use.to_string(),
            Dim::PaymentType => d.payment_type.to_string(),
            Dim::TransportMode => d.transport_mode.to_string(),
            Dim::Declarant => d.declarant.to_string(),
            Dim::Importer => d.importer.to_string(),
            Dim::Seller => opt(&d.seller),
            Dim::Courier => opt(&d.courier),
            Dim::Hs6 => d.hs_code.hs6().to_string(),
            Dim::Hs4 => d.hs_code.hs4().to_string(),
            Dim::Hs2 => d.hs_code.hs2().to_string(),
            Dim::PricePoint => match d.unit_value() {
                Some(uv) if uv > 0.0 => format!(
                    "{} at {} {}/kg",
                    d.hs_code.hs6(),
                    unit_price(uv),
                    borderline_core::currency_shown(&d.currency)
                ),
                _ => format!("{} at no unit price", d.hs_code.hs6()),
            },
            Dim::DepartureCountry => opt(&d.departure_country),
            Dim::OriginCountry => d.origin_country.to_string(),
            Dim::TaxType => d.tax_type.to_string(),
            Dim::TaxRate => d.tax_rate.map(|r| format!("{r}%")).unwrap_or_default(),
            Dim::OriginIndicator => d.origin_indicator.to_string(),
        }
    }

    /// The hash key of this dimension's value (what the history tables are keyed by; the
    /// text of [`Dim::value`] is only what an officer reads).
    fn key(self, d: &Declaration) -> u64 {
        let seed = self as u64;
        let h = |s: &str| xxh3_64_with_seed(s.as_bytes(), seed);
        match self {
            Dim::Office => h(&d.office),
            Dim::ProcessType => h(&d.process_type),
            Dim::ImportType => h(&d.import_type),
            Dim::ImportUse => h(&d.import_use),
            Dim::PaymentType => h(&d.payment_type),
            Dim::TransportMode => h(&d.transport_mode),
            Dim::Declarant => h(&d.declarant),
            Dim::Importer => h(&d.importer),
            Dim::Seller => h(d.seller.as_deref().unwrap_or("")),
            Dim::Courier => h(d.courier.as_deref().unwrap_or("")),
            Dim::Hs6 => h(d.hs_code.hs6()),
            Dim::Hs4 => h(d.hs_code.hs4()),
            Dim::Hs2 => h(d.hs_code.hs2()),
            Dim::PricePoint => {
                let bucket = match d.unit_value() {
                    Some(uv) if uv > 0.0 => (uv.ln() * 1000.0).round() as i64,
                    _ => i64::MIN,
                };
                h(d.hs_code.hs6()) ^ xxh3_64_with_seed(&bucket.to_le_bytes(), seed + 1000)
            }
            Dim::DepartureCountry => h(d.departure_country.as_deref().unwrap_or("")),
            Dim::OriginCountry => h(&d.origin_country),
            Dim::TaxType => h(&d.tax_type),
            Dim::TaxRate => {
                let r = d
                    .tax_rate
                    .map(|r| (r * 1000.0).round() as i64)
                    .unwrap_or(i64::MIN);
                xxh3_64_with_seed(&r.to_le_bytes(), seed)
            }
            Dim::OriginIndicator => h(&d.origin_indicator),
        }
    }
}

/// One key of the history tables: a single dimension or a cross of several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeySpec {
    pub dims: Vec<Dim>,
    /// Also emit the key's critical-fraud rate.
    pub critical: bool,
}

impl KeySpec {
    pub fn name(&self) -> String {
        self.dims
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join("_x_")
    }
    /// Whether every declaration that shares this key with another also shares `coarser`
    /// with it: each dimension of `coarser` is determined by one of this key's (a price point
    /// holds its HS6 code, an HS6 code its HS4 and HS2). Then this key's past inspections are a
    /// subset of `coarser`'s, and equal counts mean the very same inspections.
    pub fn refines(&self, coarser: &KeySpec) -> bool {
        coarser
            .dims
            .iter()
            .all(|&b| self.dims.iter().any(|&a| a.determines(b)))
    }

    /// The names of the features this key emits, in vector order.
    pub fn feature_names(&self) -> Vec<String> {
        let name = self.name();
        let mut names = vec![format!("{name}_fraud_rate"), format!("{name}_count")];
        if self.critical {
            names.push(format!("{name}_critical_rate"));
        }
        names
    }
    pub fn label(&self) -> String {
        self.dims
            .iter()
            .map(|d| d.label())
            .collect::<Vec<_>>()
            .join(" x ")
    }
    fn key(&self, d: &Declaration) -> u64 {
        let mut acc = 0x9E37_79B9_7F4A_7C15u64;
        for dim in &self.dims {
            acc = xxh3_64_with_seed(&dim.key(d).to_le_bytes(), acc);
        }
        acc
    }
}

/// Which history features to compute and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub keys: Vec<KeySpec>,
    /// Pseudo-count pulling a key's rate towards the prior: rate = (frauds + m·prior) / (n + m).
    pub smoothing: f64,
    /// Folds for out-of-fold statistics on training rows.
    pub folds: u32,
    pub seed: u64,
}

/// Numeric (non-history) features appended after the history features.
pub const NUMERIC_FEATURES: [(&str, &str); 9] = [
    (
        "log_unit_value",
        "ln(customs value / net mass in kg); missing when mass is zero",
    ),
    (
        "unit_value_vs_hs6_origin",
        "log unit value minus the median log unit value of its HS6 x origin in the history",
    ),
    (
        "unit_value_vs_hs6",
        "log unit value minus the median log unit value of its HS6 in the history",
    ),
    ("tax_rate", "declared duty rate in percent"),
    ("net_mass_kg", "declared net mass in kg"),
    ("customs_value", "declared customs value (item price)"),
    ("tax_at_stake", "customs value x duty rate"),
    ("day_of_week", "day of week of the declaration (0 = Monday)"),
    ("day_of_month", "day of month of the declaration"),
];

impl Default for FeatureSpec {
    fn default() -> Self {
        use Dim::*;
        let single = [
            Office,
            ProcessType,
            ImportType,
            ImportUse,
            PaymentType,
            TransportMode,
            Declarant,
            Importer,
            Seller,
            Courier,
            Hs6,
            Hs4,
            Hs2,
            PricePoint,
            DepartureCountry,
            OriginCountry,
            TaxType,
            OriginIndicator,
        ];
        let pairs = [
            (PricePoint, OriginCountry),
            (Hs6, TaxRate),
            (PricePoint, Importer),
            (Importer, Hs6),
            (Seller, Hs6),
            (Declarant, Importer),
            (Importer, Seller),
            (Hs6, OriginCountry),
            (Office, Hs6),
            (Declarant, Hs6),
        ];
        let mut keys: Vec<KeySpec> = single
            .iter()
            .map(|d| KeySpec {
                dims: vec![*d],
                critical: true,
            })
            .collect();
        keys.extend(pairs.iter().map(|(a, b)| KeySpec {
            dims: vec![*a, *b],
            critical: false,
        }));
        FeatureSpec {
            keys,
            smoothing: 5.0,
            folds: 5,
            seed: 42,
        }
    }
}

impl FeatureSpec {
    /// Names and definitions of every feature, in vector order.
    pub fn feature_defs(&self) -> Vec<FeatureDef> {
        let mut defs = Vec::new();
        for k in &self.keys {
            let (name, label) = (k.name(), k.label());
            defs.push(FeatureDef {
                name: format!("{name}_fraud_rate"),
                definition: format!(
                    "smoothed past fraud rate of declarations with the same {label} (m = {})",
                    self.smoothing
                ),
            });
            defs.push(FeatureDef {
                name: format!("{name}_count"),
                definition: format!("past inspected declarations with the same {label}"),
            });
            if k.critical {
                defs.push(FeatureDef {
                    name: format!("{name}_critical_rate"),
                    definition: format!(
                        "smoothed past critical-fraud rate of declarations with the same {label}"
                    ),
                });
            }
        }
        for (name, definition) in NUMERIC_FEATURES {
            defs.push(FeatureDef {
                name: name.to_string(),
                definition: definition.to_string(),
            });
        }
        defs
    }

    pub fn num_features(&self) -> usize {
        self.keys
            .iter()
            .map(|k| 2 + usize::from(k.critical))
            .sum::<usize>()
            + NUMERIC_FEATURES.len()
    }
}

/// Outcome counts of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: f32,
    pub fraud: f32,
    pub critical: f32,
}

impl Stats {
    fn add(&mut self, d: &Declaration) {
        if let Some(o) = d.outcome {
            self.n += 1.0;
            self.fraud += f32::from(u8::from(o.fraud));
            self.critical += f32::from(u8::from(o.is_critical()));
        }
    }
    fn minus(self, o: Stats) -> Stats {
        Stats {
            n: self.n - o.n,
            fraud: self.fraud - o.fraud,
            critical: self.critical - o.critical,
        }
    }
}

/// Fitted history: per-key outcome counts and unit-value norms. Serialisable as part of the model
/// artefact; keys are 64-bit hashes of the dimension values (no raw party ids are stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryTables {
    pub spec: FeatureSpec,
    pub rows: u64,
    pub prior_fraud: f64,
    pub prior_critical: f64,
    #[serde(with = "table_serde")]
    pub tables: Vec<AHashMap<u64, Stats>>,
    #[serde(with = "median_serde")]
    pub uv_median_hs6_origin: AHashMap<u64, f32>,
    #[serde(with = "median_serde")]
    pub uv_median_hs6: AHashMap<u64, f32>,
    /// The currency of the history's customs values: the most frequent among its rows (issue
    /// 14). Money features (unit value, its deviations from the medians, customs value, duty
    /// at stake) and the price-point key of a row in another currency are missing values, at
    /// fitting as at scoring: an amount is never compared with amounts in another currency.
    /// `None` in artefacts written before it (no check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// The most frequent non-empty currency of `history` (ties: alphabetical), upper-case.
fn history_currency(history: &[Declaration]) -> Option<String> {
    let mut counts: AHashMap<String, usize> = AHashMap::new();
    for d in history {
        let c = d.currency.trim();
        if !c.is_empty() {
            *counts.entry(c.to_ascii_uppercase()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(c, _)| c)
}

/// A unit price with the digits that tell prices apart (the price-point key resolves 0.1 %):
/// two decimals from 100 up, four significant digits below.
///
/// Not [`borderline_core::amount_shown`] (three significant digits, the rule of amounts in
/// reasons and pages): this text names a price *point*, a key 0.1 % wide, and with three digits
/// neighbouring points (12.34 and 12.36 USD/kg) would read as one price with two different
/// fraud rates. Called only with a positive unit value; an infinite one reads `inf`.
fn unit_price(uv: f64) -> String {
    if uv >= 100.0 {
        format!("{uv:.2}")
    } else {
        let decimals = (3 - uv.log10().floor() as i32).clamp(0, 12) as usize;
        format!("{uv:.decimals$}")
    }
}

fn money_comparable(currency: Option<&str>, d: &Declaration) -> bool {
    currency.is_none_or(|c| c.eq_ignore_ascii_case(d.currency.trim()))
}

/// `d` itself when its money is in `currency`, else a copy without its customs value.
fn without_money<'a>(
    currency: Option<&str>,
    d: &'a Declaration,
) -> std::borrow::Cow<'a, Declaration> {
    if money_comparable(currency, d) {
        std::borrow::Cow::Borrowed(d)
    } else {
        std::borrow::Cow::Owned(Declaration {
            customs_value: None,
            ..d.clone()
        })
    }
}

fn hs6_origin_key(d: &Declaration) -> u64 {
    xxh3_64_with_seed(
        format!("{}|{}", d.hs_code.hs6(), d.origin_country).as_bytes(),
        7,
    )
}
fn hs6_key(d: &Declaration) -> u64 {
    xxh3_64_with_seed(d.hs_code.hs6().as_bytes(), 8)
}

/// Deterministic fold of a declaration (by id, so the same row always lands in the same fold).
pub fn fold_of(d: &Declaration, folds: u32, seed: u64) -> usize {
    (xxh3_64_with_seed(d.declaration_id.as_bytes(), seed) % u64::from(folds.max(1))) as usize
}

fn medians(history: &[Declaration], key: fn(&Declaration) -> u64) -> AHashMap<u64, f32> {
    let mut groups: AHashMap<u64, Vec<f64>> = AHashMap::new();
    for d in history {
        if let Some(uv) = d.unit_value().filter(|v| *v > 0.0) {
            groups.entry(key(d)).or_default().push(uv.ln());
        }
    }
    groups
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            let m = if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
            };
            (k, m as f32)
        })
        .collect()
}

impl HistoryTables {
    /// Two-letter origin codes from which goods of `d`'s HS6 were declared in the history the
    /// tables were fitted on (those with a usual unit value for HS6 x origin), each with that
    /// median log unit value.
    pub fn origins_seen_for_hs6(&self, d: &Declaration) -> Vec<(String, f32)> {
        let mut probe = d.clone();
        let mut out = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8_lossy(&[a, b]).into_owned();
                probe.origin_country = code.as_str().into();
                if let Some(m) = self.uv_median_hs6_origin.get(&hs6_origin_key(&probe)) {
                    out.push((code, *m));
                }
            }
        }
        out
    }

    /// Fits tables on `history`; rows without an inspection outcome add nothing.
    pub fn fit(history: &[Declaration], spec: &FeatureSpec) -> HistoryTables {
        Self::fit_inner(history, spec, false).0
    }

    /// Fits tables on `history` and returns, for each history row, its out-of-fold feature
    /// vector (statistics from the other folds only, counts rescaled to the full history).
    pub fn fit_out_of_fold(
        history: &[Declaration],
        spec: &FeatureSpec,
    ) -> (HistoryTables, Vec<Vec<f32>>) {
        let (tables, oof) = Self::fit_inner(history, spec, true);
        (tables, oof.unwrap_or_default())
    }

    fn fit_inner(
        history: &[Declaration],
        spec: &FeatureSpec,
        out_of_fold: bool,
    ) -> (HistoryTables, Option<Vec<Vec<f32>>>) {
        let folds = spec.folds.max(2) as usize;
        let currency = history_currency(history);
        // Rows in another currency: counted, their money missing (see `currency`).
        let stripped: Vec<Declaration>;
        let history: &[Declaration] = if history
            .iter()
            .all(|d| money_comparable(currency.as_deref(), d))
        {
            history
        } else {
            stripped = history
                .iter()
                .map(|d| without_money(currency.as_deref(), d).into_owned())
                .collect();
            &stripped
        };
        let mut total = Stats::default();
        for d in history {
            total.add(d);
        }
        let (prior_fraud, prior_critical) = if total.n > 0.0 {
            (
                f64::from(total.fraud / total.n),
                f64::from(total.critical / total.n),
            )
        } else {
            (0.0, 0.0)
        };
        let fold: Vec<usize> = history
            .iter()
            .map(|d| fold_of(d, folds as u32, spec.seed))
            .collect();
        let mut tables = Vec::with_capacity(spec.keys.len());
        let mut per_fold = Vec::new();
        for k in &spec.keys {
            let mut t: AHashMap<u64, Stats> = AHashMap::new();
            let mut f: AHashMap<(u64, usize), Stats> = AHashMap::new();
            for (d, &fi) in history.iter().zip(&fold) {
                let key = k.key(d);
                t.entry(key).or_default().add(d);
                if out_of_fold {
                    f.entry((key, fi)).or_default().add(d);
                }
            }
            tables.push(t);
            per_fold.push(f);
        }
        let fitted = HistoryTables {
            spec: spec.clone(),
            rows: history.len() as u64,
            prior_fraud,
            prior_critical,
            tables,
            uv_median_hs6_origin: medians(history, hs6_origin_key),
            uv_median_hs6: medians(history, hs6_key),
            currency,
        };
        if !out_of_fold {
            return (fitted, None);
        }
        let scale = folds as f32 / (folds as f32 - 1.0);
        // Priors out of fold too: a row's own label must not move even the global rate.
        let mut fold_totals = vec![Stats::default(); folds];
        for (d, &fi) in history.iter().zip(&fold) {
            fold_totals[fi].add(d);
        }
        let fold_priors: Vec<(f64, f64)> = fold_totals
            .iter()
            .map(|f| {
                let rest = total.minus(*f);
                if rest.n > 0.0 {
                    (
                        f64::from(rest.fraud / rest.n),
                        f64::from(rest.critical / rest.n),
                    )
                } else {
                    (prior_fraud, prior_critical)
                }
            })
            .collect();
        let oof = history
            .iter()
            .zip(&fold)
            .map(|(d, &fi)| {
                let mut x = vec![0.0; spec.num_features()];
                fitted.write_features(
                    d,
                    fold_priors[fi],
                    |i, key| {
                        let t = fitted.tables[i].get(&key).copied().unwrap_or_default();
                        let own = per_fold[i].get(&(key, fi)).copied().unwrap_or_default();
                        let s = t.minus(own);
                        Stats {
                            n: s.n * scale,
                            fraud: s.fraud * scale,
                            critical: s.critical * scale,
                        }
                    },
                    &mut x,
                );
                x
            })
            .collect();
        (fitted, Some(oof))
    }

    /// Whether `d`'s customs value is in the history's currency (always, for artefacts written
    /// before the currency was recorded).
    pub fn money_comparable(&self, d: &Declaration) -> bool {
        money_comparable(self.currency.as_deref(), d)
    }

    /// The feature vector of `d` from the fitted history (length `spec.num_features()`).
    pub fn features(&self, d: &Declaration, out: &mut [f32]) {
        let d = without_money(self.currency.as_deref(), d);
        self.write_features(
            &d,
            (self.prior_fraud, self.prior_critical),
            |i, key| self.tables[i].get(&key).copied().unwrap_or_default(),
            out,
        );
    }

    /// Outcome counts for key spec `i` of `d` (what reasons quote).
    pub fn stats(&self, i: usize, d: &Declaration) -> Stats {
        let d = without_money(self.currency.as_deref(), d);
        self.tables[i]
            .get(&self.spec.keys[i].key(&d))
            .copied()
            .unwrap_or_default()
    }

    fn write_features(
        &self,
        d: &Declaration,
        (prior_fraud, prior_critical): (f64, f64),
        lookup: impl Fn(usize, u64) -> Stats,
        out: &mut [f32],
    ) {
        let m = self.spec.smoothing;
        let mut j = 0;
        for (i, k) in self.spec.keys.iter().enumerate() {
            let s = lookup(i, k.key(d));
            let n = f64::from(s.n);
            out[j] = ((f64::from(s.fraud) + m * prior_fraud) / (n + m)) as f32;
            out[j + 1] = s.n;
            j += 2;
            if k.critical {
                out[j] = ((f64::from(s.critical) + m * prior_critical) / (n + m)) as f32;
                j += 1;
            }
        }
        let luv = d.unit_value().filter(|v| *v > 0.0).map(f64::ln);
        let dev = |table: &AHashMap<u64, f32>, key: u64| match (luv, table.get(&key)) {
            (Some(l), Some(m)) => (l - f64::from(*m)) as f32,
            _ => f32::NAN,
        };
        out[j] = luv.map(|l| l as f32).unwrap_or(f32::NAN);
        out[j + 1] = dev(&self.uv_median_hs6_origin, hs6_origin_key(d));
        out[j + 2] = dev(&self.uv_median_hs6, hs6_key(d));
        out[j + 3] = d.tax_rate.map(|v| v as f32).unwrap_or(f32::NAN);
        out[j + 4] = d.net_mass_kg.map(|v| v as f32).unwrap_or(f32::NAN);
        out[j + 5] = d.customs_value.map(|v| v as f32).unwrap_or(f32::NAN);
        out[j + 6] = if d.customs_value.is_some() {
            d.tax_at_stake() as f32
        } else {
            f32::NAN
        };
        out[j + 7] = d.date.weekday().num_days_from_monday() as f32;
        out[j + 8] = d.date.day() as f32;
    }
}

/// Tables serialise as sorted parallel arrays: compact, deterministic, diff-able.
mod table_serde {
    use super::Stats;
    use ahash::AHashMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Table {
        keys: Vec<u64>,
        n: Vec<f32>,
        fraud: Vec<f32>,
        critical: Vec<f32>,
    }

    pub fn serialize<S: Serializer>(
        tables: &[AHashMap<u64, Stats>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let out: Vec<Table> = tables
            .iter()
            .map(|t| {
                let mut entries: Vec<(&u64, &Stats)> = t.iter().collect();
                entries.sort_by_key(|(k, _)| **k);
                Table {
                    keys: entries.iter().map(|(k, _)| **k).collect(),
                    n: entries.iter().map(|(_, s)| s.n).collect(),
                    fraud: entries.iter().map(|(_, s)| s.fraud).collect(),
                    critical: entries.iter().map(|(_, s)| s.critical).collect(),
                }
            })
            .collect();
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<AHashMap<u64, Stats>>, D::Error> {
        let tables = Vec::<Table>::deserialize(d)?;
        tables
            .into_iter()
            .map(|t| {
                let len = t.keys.len();
                if t.n.len() != len || t.fraud.len() != len || t.critical.len() != len {
                    return Err(serde::de::Error::custom(
                        "history table arrays differ in length",
                    ));
                }
                Ok((0..len)
                    .map(|i| {
                        (
                            t.keys[i],
                            Stats {
                                n: t.n[i],
                                fraud: t.fraud[i],
                                critical: t.critical[i],
                            },
                        )
                    })
                    .collect())
            })
            .collect()
    }
}

mod median_serde {
    use ahash::AHashMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &AHashMap<u64, f32>, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(u64, f32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_by_key(|(k, _)| *k);
        entries.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AHashMap<u64, f32>, D::Error> {
        Ok(Vec::<(u64, f32)>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(id: &str, currency: &str, value: f64, fraud: bool) -> Declaration {
        serde_json::from_value(serde_json::json!({
            "declaration_id": id, "date": "2021-04-01", "office": "O1", "declarant": "D1",
            "importer": "I1", "seller": "S1", "courier": null, "hs_code": "610910",
            "origin_country": "CN", "departure_country": null, "transport_mode": "10",
            "process_type": "11", "import_type": "21", "import_use": "21", "payment_type": "11",
            "net_mass_kg": 100.0, "customs_value": value, "currency": currency,
            "tax_rate": 8.0, "tax_type": "A", "origin_indicator": "B", "description": null,
            "quantity": null, "quantity_unit": null,
            "outcome": {"fraud": fraud, "critical_level": u8::from(fraud), "amount_recovered": null}
        }))
        .expect("declaration")
    }

    /// Issue 14: USD per kg was compared with KRW history. A model records its history's
    /// currency; money features of a row in another currency are missing (never compared),
    /// at fitting (the medians hold only the model's currency) as at scoring.
    #[test]
    fn money_in_another_currency_than_the_history_is_compared_with_nothing() {
        let mut history: Vec<Declaration> = (0..20)
            .map(|i| {
                decl(
                    &format!("K{i}"),
                    "KRW",
                    1_000_000.0 + f64::from(i),
                    i % 4 == 0,
                )
            })
            .collect();
        history.push(decl("U1", "USD", 5.0, false));
        let spec = FeatureSpec::default();
        let t = HistoryTables::fit(&history, &spec);
        assert_eq!(t.currency.as_deref(), Some("KRW"));
        let n = spec.num_features();
        let money = n - NUMERIC_FEATURES.len();
        let features = |d: &Declaration| {
            let mut x = vec![0.0f32; n];
            t.features(d, &mut x);
            x
        };
        // A KRW row is compared: its deviation from the HS6 x origin median is near 0 (the
        // USD row at 5/100 kg did not drag the median).
        let krw = features(&decl("K99", "KRW", 1_000_010.0, false));
        assert!(krw[money + 1].abs() < 1e-3, "{}", krw[money + 1]);
        // A USD row: every money feature missing, whatever its value; the rest as for KRW.
        let usd = features(&decl("U9", "USD", 900.0, false));
        let usd_cheap = features(&decl("U9", "USD", 9.0, false));
        for k in [0, 1, 2, 5, 6] {
            assert!(usd[money + k].is_nan(), "{}", NUMERIC_FEATURES[k].0);
        }
        for (a, b) in usd.iter().zip(&usd_cheap) {
            assert!(a == b || (a.is_nan() && b.is_nan()));
        }
        assert!(t.money_comparable(&decl("K1", "krw", 1.0, false)));
        assert!(!t.money_comparable(&decl("U1", "USD", 1.0, false)));
    }
}
