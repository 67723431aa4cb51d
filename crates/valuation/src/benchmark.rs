//! Incremental benchmark building and the finalized, serialisable [`Benchmarks`].

use crate::error::ValuationError;
use crate::key::{self, Basis, Level};
use crate::stats::{Summary, MAD_TO_SD};
use borderline_core::Declaration;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};
use std::path::Path;

/// Hasher for keys that are already `u64` (packed cells, xxh3 party hashes): one multiply and
/// a shift, instead of SipHash.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);
impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, i: u64) {
        let x = (i ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}
pub type FastMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// Serialises a [`FastMap`] as a list sorted by key, so files are byte-identical across runs.
mod sorted_map {
    use super::FastMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<V: Serialize, S: Serializer>(m: &FastMap<V>, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(&u64, &V)> = m.iter().collect();
        v.sort_by_key(|p| *p.0);
        v.serialize(s)
    }
    pub fn deserialize<'de, V: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<FastMap<V>, D::Error> {
        let v: Vec<(u64, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

/// Benchmark parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Trailing window before `as_of`, in calendar months.
    pub window_months: u32,
    /// Minimum declarations for a cell to serve as a benchmark (else the next level is used).
    pub min_sample: u32,
    /// Weight each declaration by its quantity (net mass for per-kg, declared quantity for
    /// per-unit benchmarks) instead of counting declarations equally.
    pub weighted: bool,
    /// Floor on the robust scale (log units) so that cells of identical prices do not give
    /// infinite z-scores.
    pub min_scale: f64,
    /// |combined score| at or above which a declaration is flagged.
    pub z_threshold: f64,
    /// Currency of the benchmarks; `None` = the first accepted declaration's currency.
    pub currency: Option<String>,
    /// Weights of the combined score (chosen on the validation period).
    #[serde(default)]
    pub tuning: Tuning,
}

/// Weights of the combined score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tuning {
    /// Bandwidth on ln net mass of the quantity-conditional reference.
    pub mass_bandwidth: f64,
    /// Weight kept by past declarations of dissimilar mass (added to the mass kernel).
    pub mass_floor: f64,
    /// Weight multiplier of past declarations from the same origin.
    pub origin_bonus: f64,
    /// Weight multiplier of past declarations at the same duty rate.
    pub tax_bonus: f64,
    /// Weight per own past declaration of the importer / the seller (HS6 cell weight is its
    /// effective sample size).
    pub importer_weight: f64,
    pub seller_weight: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            mass_bandwidth: 0.5,
            mass_floor: 0.05,
            origin_bonus: 2.0,
            tax_bonus: 2.0,
            importer_weight: 3.0,
            seller_weight: 2.0,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_months: 12,
            min_sample: 5,
            weighted: false,
            min_scale: 0.05,
            z_threshold: 3.5,
            currency: None,
            tuning: Tuning::default(),
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), ValuationError> {
        if self.window_months == 0 {
            return Err(ValuationError::Config(
                "window must be at least 1 month".into(),
            ));
        }
        if self.min_sample == 0 {
            return Err(ValuationError::Config(
                "minimum sample must be at least 1".into(),
            ));
        }
        if !(self.min_scale.is_finite() && self.min_scale > 0.0) {
            return Err(ValuationError::Config(
                "minimum scale must be positive".into(),
            ));
        }
        if !(self.z_threshold.is_finite() && self.z_threshold > 0.0) {
            return Err(ValuationError::Config(
                "z threshold must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Why a declaration cannot be valued (a data-quality finding, never a division by zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "finding")]
pub enum Problem {
    MissingMass,
    ZeroMass,
    MissingValue,
    ZeroValue,
    /// Negative or non-finite mass or value.
    InvalidNumber,
    CurrencyMismatch {
        declared: String,
        benchmarks: String,
    },
    /// The HS code does not start with 6 digits.
    BadHsCode,
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::MissingMass => "valuation_missing_mass",
            Problem::ZeroMass => "valuation_zero_mass",
            Problem::MissingValue => "valuation_missing_value",
            Problem::ZeroValue => "valuation_zero_value",
            Problem::InvalidNumber => "valuation_invalid_number",
            Problem::CurrencyMismatch { .. } => "valuation_currency_mismatch",
            Problem::BadHsCode => "valuation_bad_hs_code",
        }
    }
    pub fn text(&self) -> String {
        match self {
            Problem::MissingMass => "net mass missing: unit value cannot be checked".into(),
            Problem::ZeroMass => "net mass is zero: unit value cannot be checked".into(),
            Problem::MissingValue => "customs value missing: unit value cannot be checked".into(),
            Problem::ZeroValue => "customs value is zero".into(),
            Problem::InvalidNumber => "negative or non-numeric mass or value".into(),
            Problem::CurrencyMismatch {
                declared,
                benchmarks,
            } => format!(
                "value declared in {declared}; price benchmarks are in {benchmarks} (not compared)"
            ),
            Problem::BadHsCode => "HS code has no valid 6-digit subheading".into(),
        }
    }
}

/// The per-kg log unit value of a declaration, or the data-quality problem preventing it.
pub fn log_unit_value(d: &Declaration) -> Result<f64, Problem> {
    let m = match d.net_mass_kg {
        None => return Err(Problem::MissingMass),
        Some(m) if !m.is_finite() || m < 0.0 => return Err(Problem::InvalidNumber),
        Some(0.0) => return Err(Problem::ZeroMass),
        Some(m) => m,
    };
    let v = match d.customs_value {
        None => return Err(Problem::MissingValue),
        Some(v) if !v.is_finite() || v < 0.0 => return Err(Problem::InvalidNumber),
        Some(0.0) => return Err(Problem::ZeroValue),
        Some(v) => v,
    };
    Ok((v / m).ln())
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Obs {
    day: i32,
    luv: f32,
    w: f32,
    /// ln net mass (kg), for the quantity-conditional reference.
    lm: f32,
    tax: f32,
}

/// One past declaration kept as a reference point of its HS6 (per-kg basis).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub luv: f32,
    /// ln net mass (kg).
    pub lm: f32,
    /// Duty rate in percent (NaN if unknown).
    pub tax: f32,
    pub origin: u16,
}

/// Reference points kept per HS6 (all of them for small cells, else a mass-stratified sample).
pub const MAX_POINTS: usize = 48;

/// Whether [`BenchmarkBuilder::add`] used a declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    Added,
    Skipped(Problem),
}

/// Counts of what the builder saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildCounts {
    pub added: u64,
    pub added_per_unit: u64,
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// Accumulates declarations incrementally (any order, any number of batches); `finalize`
/// computes the statistics of a trailing window. Adding batch B after finalizing on batch A and
/// finalizing again gives exactly what a builder fed A then B gives (tested).
#[derive(Debug, Clone)]
pub struct BenchmarkBuilder {
    config: Config,
    currency: Option<String>,
    origins: Vec<String>,
    origin_lookup: FastMap<u16>,
    bases: Vec<Basis>,
    cells: FastMap<Vec<Obs>>,
    parties: FastMap<Vec<Obs>>,
    counts: BuildCounts,
}

fn origin_code(origin: &str) -> u64 {
    let b = origin.as_bytes();
    if b.len() <= 7 {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        x[7] = b.len() as u8;
        u64::from_le_bytes(x)
    } else {
        xxhash_rust::xxh3::xxh3_64(b) | (1 << 63)
    }
}

fn day_number(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

impl BenchmarkBuilder {
    pub fn new(config: Config) -> Result<Self, ValuationError> {
        config.validate()?;
        Ok(BenchmarkBuilder {
            currency: config.currency.clone(),
            config,
            origins: Vec::new(),
            origin_lookup: FastMap::default(),
            bases: vec![Basis::Kg],
            cells: FastMap::default(),
            parties: FastMap::default(),
            counts: BuildCounts::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn counts(&self) -> &BuildCounts {
        &self.counts
    }
    /// Number of stored observations (per-kg and per-unit, cells and own histories).
    pub fn stored(&self) -> usize {
        self.cells.values().map(Vec::len).sum::<usize>()
            + self.parties.values().map(Vec::len).sum::<usize>()
    }

    fn skip(&mut self, p: Problem) -> AddOutcome {
        *self.counts.skipped.entry(p.code().to_string()).or_default() += 1;
        AddOutcome::Skipped(p)
    }

    fn origin_index(&mut self, origin: &str) -> Option<u16> {
        let code = origin_code(origin);
        if let Some(&i) = self.origin_lookup.get(&code) {
            return Some(i);
        }
        let i = u16::try_from(self.origins.len())
            .ok()
            .filter(|&i| i < u16::MAX - 1)?;
        self.origins.push(origin.to_string());
        self.origin_lookup.insert(code, i);
        Some(i)
    }

    fn basis_index(&mut self, unit: &str) -> Option<u16> {
        if let Some(i) = self
            .bases
            .iter()
            .position(|b| matches!(b, Basis::Unit(u) if u == unit))
        {
            return Some(i as u16);
        }
        let i = u16::try_from(self.bases.len())
            .ok()
            .filter(|&i| i < 0x0FFF)?;
        self.bases.push(Basis::Unit(unit.to_string()));
        Some(i)
    }

    /// Adds one declaration. Declarations without a usable per-kg unit value, or in another
    /// currency than the benchmarks, are counted and skipped (never mixed in).
    pub fn add(&mut self, d: &Declaration) -> AddOutcome {
        let luv = match log_unit_value(d) {
            Ok(x) => x,
            Err(p) => return self.skip(p),
        };
        match &self.currency {
            None => self.currency = Some(d.currency.to_string()),
            Some(c) if c.as_str() != d.currency.as_str() => {
                let p = Problem::CurrencyMismatch {
                    declared: d.currency.to_string(),
                    benchmarks: c.clone(),
                };
                return self.skip(p);
            }
            Some(_) => {}
        }
        let Some(hs6) = key::hs6_number(d.hs_code.as_str()) else {
            return self.skip(Problem::BadHsCode);
        };
        let Some(origin) = self.origin_index(&d.origin_country) else {
            return self.skip(Problem::InvalidNumber);
        };
        let day = day_number(d.date);
        let mass = d.net_mass_kg.unwrap_or(1.0);
        let w = if self.config.weighted {
            mass as f32
        } else {
            1.0
        };
        let lm = mass.ln() as f32;
        let tax = d.tax_rate.map_or(f32::NAN, |t| t as f32);
        self.push(
            hs6,
            origin,
            0,
            d,
            Obs {
                day,
                luv: luv as f32,
                w,
                lm,
                tax,
            },
        );
        self.counts.added += 1;
        // Per declared quantity unit, in separate cells (units are never mixed).
        if let (Some(q), Some(unit), Some(v)) =
            (d.quantity, d.quantity_unit.as_deref(), d.customs_value)
        {
            if q.is_finite() && q > 0.0 && !unit.trim().is_empty() {
                if let Some(b) = self.basis_index(unit.trim()) {
                    let w = if self.config.weighted { q as f32 } else { 1.0 };
                    let luv = (v / q).ln() as f32;
                    self.push(
                        hs6,
                        origin,
                        b,
                        d,
                        Obs {
                            day,
                            luv,
                            w,
                            lm,
                            tax,
                        },
                    );
                    self.counts.added_per_unit += 1;
                }
            }
        }
        AddOutcome::Added
    }

    fn push(&mut self, hs6: u32, origin: u16, basis: u16, d: &Declaration, o: Obs) {
        let ck = key::cell_key(Level::Hs6Origin, hs6, Some(origin), basis);
        self.cells.entry(ck).or_default().push(o);
        let ik = key::party_key(key::TAG_IMPORTER, &d.importer, hs6, basis);
        self.parties.entry(ik).or_default().push(o);
        if let Some(s) = d.seller.as_deref().filter(|s| !s.is_empty()) {
            let sk = key::party_key(key::TAG_SELLER, s, hs6, basis);
            self.parties.entry(sk).or_default().push(o);
        }
    }

    /// Drops observations dated before `day` (bounded memory when streaming in date order and
    /// finalizing at the end: evict everything older than the window).
    pub fn evict_before(&mut self, day: NaiveDate) {
        let cut = day_number(day);
        for map in [&mut self.cells, &mut self.parties] {
            map.retain(|_, v| {
                v.retain(|o| o.day >= cut);
                !v.is_empty()
            });
        }
    }

    /// First day of the trailing window ending (exclusively) at `as_of`.
    pub fn window_start(&self, as_of: NaiveDate) -> NaiveDate {
        as_of
            .checked_sub_months(Months::new(self.config.window_months))
            .unwrap_or(NaiveDate::MIN)
    }

    /// Statistics over declarations dated in `[as_of - window, as_of)`.
    pub fn finalize(&self, as_of: NaiveDate) -> Benchmarks {
        let start = self.window_start(as_of);
        let (lo, hi) = (day_number(start), day_number(as_of));
        let in_window = |o: &&Obs| o.day >= lo && o.day < hi;
        let weighted = self.config.weighted;

        let mut pooled: FastMap<Vec<(f64, f64)>> = FastMap::default();
        let mut cells = FastMap::default();
        let mut points: FastMap<Vec<Point>> = FastMap::default();
        for (&k, obs) in &self.cells {
            let (_, _, origin, basis) = key::decode_cell_key(k);
            if basis == 0 {
                let hs6 = key::decode_cell_key(k).1;
                let pk = key::cell_key(Level::Hs6, key::hs6_number(&hs6).unwrap_or(0), None, 0);
                points
                    .entry(pk)
                    .or_default()
                    .extend(obs.iter().filter(in_window).map(|o| Point {
                        luv: o.luv,
                        lm: o.lm,
                        tax: o.tax,
                        origin: origin.unwrap_or(u16::MAX),
                    }));
            }
            let mut vals: Vec<(f64, f64)> = obs
                .iter()
                .filter(in_window)
                .map(|o| (o.luv as f64, o.w as f64))
                .collect();
            if vals.is_empty() {
                continue;
            }
            let (_, hs, _, basis) = key::decode_cell_key(k);
            let hs6 = key::hs6_number(&hs).unwrap_or(0);
            for level in [Level::Hs6, Level::Hs4, Level::Hs2] {
                pooled
                    .entry(key::cell_key(level, hs6, None, basis))
                    .or_default()
                    .extend_from_slice(&vals);
            }
            if let Some(s) = Summary::of(&mut vals, weighted) {
                cells.insert(k, CellStats::from(s));
            }
        }
        let mut cell_scales: Vec<f64> = cells
            .values()
            .filter(|c: &&CellStats| c.n >= 5)
            .map(|c| c.mad * MAD_TO_SD)
            .collect();
        for (k, mut vals) in pooled {
            if let Some(s) = Summary::of(&mut vals, weighted) {
                cells.insert(k, CellStats::from(s));
            }
        }
        for v in points.values_mut() {
            v.sort_by(|a, b| {
                (a.lm, a.luv, a.tax, a.origin)
                    .partial_cmp(&(b.lm, b.luv, b.tax, b.origin))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            if v.len() > MAX_POINTS {
                let n = v.len();
                *v = (0..MAX_POINTS)
                    .map(|i| v[(2 * i + 1) * n / (2 * MAX_POINTS)])
                    .collect();
            }
        }
        points.retain(|_, v| !v.is_empty());
        let mut parties = FastMap::default();
        let mut party_scales = Vec::new();
        for (&k, obs) in &self.parties {
            let mut vals: Vec<(f64, f64)> = obs
                .iter()
                .filter(in_window)
                .map(|o| (o.luv as f64, o.w as f64))
                .collect();
            if let Some(s) = Summary::of(&mut vals, weighted) {
                if s.n >= 5 {
                    party_scales.push(s.mad * MAD_TO_SD);
                }
                parties.insert(
                    k,
                    PartyStats {
                        n: s.n as u32,
                        median: s.grid[5],
                        mad: s.mad,
                    },
                );
            }
        }
        // Typical within-cell dispersion: median robust sd of HS6 x origin cells with 5+
        // declarations (own histories when there are no such cells).
        let scales = if cell_scales.is_empty() {
            &mut party_scales
        } else {
            &mut cell_scales
        };
        scales.sort_by(f64::total_cmp);
        let sigma0 = crate::stats::quantile_sorted(scales, 0.5);
        let sigma0 = if sigma0.is_finite() {
            sigma0.max(self.config.min_scale)
        } else {
            // No trader with 5+ declarations: fall back to a moderate price dispersion.
            0.35f64.max(self.config.min_scale)
        };
        let origin_lookup = self
            .origins
            .iter()
            .enumerate()
            .map(|(i, o)| (origin_code(o), i as u16))
            .collect();
        Benchmarks {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            config: self.config.clone(),
            as_of,
            window_start: start,
            currency: self.currency.clone(),
            origins: self.origins.clone(),
            origin_lookup,
            bases: self.bases.clone(),
            sigma0,
            cells,
            points,
            parties,
            counts: self.counts.clone(),
        }
    }
}

pub const FORMAT: &str = "borderline-valuation-benchmarks";
pub const FORMAT_VERSION: u32 = 1;

/// Robust statistics of one cell's log unit values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellStats {
    pub n: u32,
    /// Sum of weights (= n unless quantity-weighted).
    pub weight: f64,
    /// Log unit value at min, p1, p5, p10, p25, p50, p75, p90, p95, p99, max.
    pub grid: [f64; 11],
    /// Median absolute deviation of the log unit value (unscaled).
    pub mad: f64,
}

impl From<Summary> for CellStats {
    fn from(s: Summary) -> Self {
        CellStats {
            n: s.n as u32,
            weight: s.weight,
            grid: s.grid,
            mad: s.mad,
        }
    }
}

impl CellStats {
    pub fn median(&self) -> f64 {
        self.grid[5]
    }
    pub fn q1(&self) -> f64 {
        self.grid[4]
    }
    pub fn q3(&self) -> f64 {
        self.grid[6]
    }
    pub fn p5(&self) -> f64 {
        self.grid[2]
    }
    pub fn p95(&self) -> f64 {
        self.grid[8]
    }
    /// Robust standard deviation (1.4826 x MAD), floored at `min_scale`.
    pub fn scale(&self, min_scale: f64) -> f64 {
        (self.mad * MAD_TO_SD).max(min_scale)
    }
}

/// A trader's own price history for one HS6 (log unit values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PartyStats {
    pub n: u32,
    pub median: f64,
    pub mad: f64,
}

/// Finalized benchmarks as of a date: pure lookups, serialisable (gzip JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benchmarks {
    pub format: String,
    pub format_version: u32,
    pub config: Config,
    /// Benchmarks cover declarations dated in `[window_start, as_of)`.
    pub as_of: NaiveDate,
    pub window_start: NaiveDate,
    pub currency: Option<String>,
    pub origins: Vec<String>,
    #[serde(with = "sorted_map")]
    origin_lookup: FastMap<u16>,
    pub bases: Vec<Basis>,
    /// Pooled within-trader price dispersion (robust sd of log unit value), used as the scale of
    /// thin own histories.
    pub sigma0: f64,
    #[serde(with = "sorted_map")]
    pub cells: FastMap<CellStats>,
    /// Reference points per HS6 (per-kg), keyed like the HS6 cell.
    #[serde(with = "sorted_map")]
    pub points: FastMap<Vec<Point>>,
    #[serde(with = "sorted_map")]
    pub parties: FastMap<PartyStats>,
    pub counts: BuildCounts,
}

impl Benchmarks {
    /// Builds from any declarations in one pass (streaming-friendly), as of `as_of`.
    pub fn build<'a>(
        config: Config,
        history: impl IntoIterator<Item = &'a Declaration>,
        as_of: NaiveDate,
    ) -> Result<Benchmarks, ValuationError> {
        let mut b = BenchmarkBuilder::new(config)?;
        for d in history {
            b.add(d);
        }
        Ok(b.finalize(as_of))
    }

    pub fn origin_index(&self, origin: &str) -> Option<u16> {
        self.origin_lookup.get(&origin_code(origin)).copied()
    }
    pub fn basis_index(&self, unit: &str) -> Option<u16> {
        self.bases
            .iter()
            .position(|b| matches!(b, Basis::Unit(u) if u == unit))
            .map(|i| i as u16)
    }

    /// The statistics of one cell, if any declaration fell in it.
    pub fn cell(
        &self,
        level: Level,
        hs6: u32,
        origin: Option<u16>,
        basis: u16,
    ) -> Option<&CellStats> {
        if level == Level::Hs6Origin && origin.is_none() {
            return None;
        }
        self.cells.get(&key::cell_key(level, hs6, origin, basis))
    }

    /// The most specific cell with at least `min_sample` declarations.
    pub fn fallback(
        &self,
        hs6: u32,
        origin: Option<u16>,
        basis: u16,
    ) -> Option<(Level, &CellStats)> {
        Level::ALL.into_iter().find_map(|l| {
            self.cell(l, hs6, origin, basis)
                .filter(|c| c.n >= self.config.min_sample)
                .map(|c| (l, c))
        })
    }

    pub fn points(&self, hs6: u32) -> &[Point] {
        self.points
            .get(&key::cell_key(Level::Hs6, hs6, None, 0))
            .map_or(&[], Vec::as_slice)
    }

    pub fn party(&self, tag: u8, party: &str, hs6: u32, basis: u16) -> Option<&PartyStats> {
        self.parties.get(&key::party_key(tag, party, hs6, basis))
    }

    /// Writes the analysts' table: one row per cell and level, unit values in the benchmark
    /// currency per kg or per declared unit, sorted by level, HS code, origin, basis.
    pub fn write_csv<W: Write>(&self, out: W) -> Result<(), ValuationError> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "level",
            "hs",
            "origin",
            "basis",
            "currency",
            "n",
            "weight",
            "median",
            "q1",
            "q3",
            "p1",
            "p5",
            "p95",
            "p99",
            "mad_log",
            "robust_sd_log",
            "window_start",
            "as_of",
        ])?;
        let mut rows: Vec<(Level, String, String, String, &CellStats)> = self
            .cells
            .iter()
            .map(|(&k, c)| {
                let (level, hs, o, b) = key::decode_cell_key(k);
                let origin = o
                    .and_then(|i| self.origins.get(i as usize))
                    .cloned()
                    .unwrap_or_default();
                let basis = match self.bases.get(b as usize) {
                    Some(Basis::Unit(u)) => u.clone(),
                    _ => "kg".to_string(),
                };
                (level, hs, origin, basis, c)
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1, &a.2, &a.3).cmp(&(b.0, &b.1, &b.2, &b.3)));
        let cur = self.currency.clone().unwrap_or_default();
        let f = |x: f64| format!("{:.6}", x.exp());
        for (level, hs, origin, basis, c) in rows {
            w.write_record([
                level.name().to_string(),
                hs,
                origin,
                basis,
                cur.clone(),
                c.n.to_string(),
                format!("{}", c.weight),
                f(c.median()),
                f(c.q1()),
                f(c.q3()),
                f(c.grid[1]),
                f(c.p5()),
                f(c.p95()),
                f(c.grid[9]),
                format!("{:.6}", c.mad),
                format!("{:.6}", c.mad * MAD_TO_SD),
                self.window_start.to_string(),
                self.as_of.to_string(),
            ])?;
        }
        w.flush().map_err(|e| ValuationError::Io {
            path: "csv".into(),
            source: e,
        })?;
        Ok(())
    }

    /// Saves as gzip JSON, atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> Result<(), ValuationError> {
        let shown = path.display().to_string();
        let io = |source| ValuationError::Io {
            path: shown.clone(),
            source,
        };
        let tmp = path.with_extension("tmp");
        {
            let file = std::fs::File::create(&tmp).map_err(io)?;
            let mut gz = flate2::write::GzEncoder::new(
                std::io::BufWriter::new(file),
                flate2::Compression::default(),
            );
            serde_json::to_writer(&mut gz, self).map_err(|source| ValuationError::Json {
                path: shown.clone(),
                source,
            })?;
            gz.finish().map_err(io)?.flush().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Loads a file written by [`Benchmarks::save`] (gzip detected by magic bytes).
    pub fn load(path: &Path) -> Result<Benchmarks, ValuationError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ValuationError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut text = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .map_err(|source| ValuationError::Io {
                    path: shown.clone(),
                    source,
                })?;
        } else {
            text = bytes;
        }
        #[derive(Deserialize)]
        struct Head {
            format: String,
        }
        let head: Head = serde_json::from_slice(&text).map_err(|source| ValuationError::Json {
            path: shown.clone(),
            source,
        })?;
        if head.format != FORMAT {
            return Err(ValuationError::Format {
                path: shown,
                found: head.format,
                expected: FORMAT.into(),
            });
        }
        serde_json::from_slice(&text).map_err(|source| ValuationError::Json {
            path: shown,
            source,
        })
    }
}
