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
type FastSet = std::collections::HashSet<u64, BuildHasherDefault<KeyHasher>>;

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

/// Parameters of the combined score (all chosen on the validation period, see
/// docs/valuation.md; none was chosen on the test period).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tuning {
    /// Two neighbouring price groups of an HS6 are merged into one product while the difference
    /// of their mean log unit values is below this many standard errors (sigma0-based).
    pub merge_t: f64,
    /// Naive-Bayes smoothing of the product-evidence tallies (pseudo-declarations spread like the
    /// HS6's products).
    pub smoothing: f64,
    /// Exponents (trust) of each piece of product evidence: same exact net mass, same origin,
    /// same duty rate, the importer's and the seller's own past declarations of the HS6.
    pub mass_weight: f64,
    pub origin_weight: f64,
    pub tax_weight: f64,
    pub importer_weight: f64,
    pub seller_weight: f64,
    /// Share of the product posterior replaced by the HS6's plain product frequencies (guards
    /// against over-confident evidence).
    pub prior_mix: f64,
    /// Pseudo-count of an HS6 product not seen in the window, and its width (x sigma0).
    pub novel_weight: f64,
    pub novel_width: f64,
    /// Width (x sigma0) of the fallback cell's quantile points when the HS6 itself is unseen.
    pub unseen_width: f64,
    /// Weight of the tail score in the ranking scores (`under_rank = under_evidence -
    /// tail_weight x score`).
    pub tail_weight: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            merge_t: 6.0,
            smoothing: 1.0,
            mass_weight: 1.0,
            origin_weight: 1.0,
            tax_weight: 1.0,
            importer_weight: 1.0,
            seller_weight: 1.0,
            prior_mix: 0.1,
            novel_weight: 0.5,
            novel_width: 3.0,
            unseen_width: 1.0,
            tail_weight: 0.3,
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
            } if declared.trim().is_empty() => {
                format!("no currency declared; price benchmarks are in {benchmarks} (not compared)")
            }
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

/// One per-kg declaration kept for its HS6 x origin cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Obs {
    day: i32,
    luv: f32,
    w: f32,
    origin: u16,
    /// Exact net mass (`key::mass_value`), duty rate (`key::tax_value`, `u64::MAX` if unknown),
    /// importer and seller hashes (`key::party_hash`, 0 if none): the product evidence.
    mass: u64,
    tax: u64,
    importer: u64,
    seller: u64,
}

impl Obs {
    /// Canonical order, so finalized benchmarks do not depend on arrival order.
    fn canonical(a: &Obs, b: &Obs) -> std::cmp::Ordering {
        a.luv
            .total_cmp(&b.luv)
            .then(a.mass.cmp(&b.mass))
            .then(a.tax.cmp(&b.tax))
            .then(a.origin.cmp(&b.origin))
            .then(a.importer.cmp(&b.importer))
            .then(a.seller.cmp(&b.seller))
            .then(a.day.cmp(&b.day))
            .then(a.w.total_cmp(&b.w))
    }
}

/// One declaration kept for an own-history group (importer x HS6, seller x HS6).
#[derive(Debug, Clone, Copy, PartialEq)]
struct PartyObs {
    day: i32,
    luv: f32,
    w: f32,
}

/// A range of an arena vector (`Benchmarks::products`, `Benchmarks::tallies`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    fn of<T>(v: &[T], start: usize) -> Span {
        Span {
            start: start as u32,
            len: (v.len() - start) as u32,
        }
    }
    pub fn get<'a, T>(&self, v: &'a [T]) -> &'a [T] {
        v.get(self.start as usize..self.start as usize + self.len as usize)
            .unwrap_or(&[])
    }
}

/// One price group ("product") of an HS6: the bundled data prices each HS10 product at one
/// unit price, so an HS6's log unit values form clusters; real data has products too.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Mean log unit value of the group's declarations.
    pub center: f64,
    /// Predictive sd of one new declaration of this product:
    /// sqrt(max(sigma0, group sd)^2 + sigma0^2 / n).
    pub width: f64,
    pub n: u32,
}

/// Products kept per HS6 (the largest groups; a rare HS6 with more keeps its biggest).
pub const MAX_PRODUCTS: usize = 24;

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
    parties: FastMap<Vec<PartyObs>>,
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
            // Unit codes are case-insensitive ("PCS" and "pcs" are one unit, one cell).
            .position(|b| matches!(b, Basis::Unit(u) if u.eq_ignore_ascii_case(unit)))
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
        let importer = key::party_hash(&d.importer);
        let seller = d
            .seller
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(key::party_hash);
        let ck = key::cell_key(Level::Hs6Origin, hs6, Some(origin), 0);
        self.cells.entry(ck).or_default().push(Obs {
            day,
            luv: luv as f32,
            w,
            origin,
            mass: key::mass_value(mass),
            tax: key::tax_value(d.tax_rate).unwrap_or(u64::MAX),
            importer,
            seller: seller.unwrap_or(0),
        });
        let po = PartyObs {
            day,
            luv: luv as f32,
            w,
        };
        self.push_parties(hs6, 0, importer, seller, po);
        self.counts.added += 1;
        // Per declared quantity unit, in separate cells (units are never mixed).
        if let (Some(q), Some(unit), Some(v)) =
            (d.quantity, d.quantity_unit.as_deref(), d.customs_value)
        {
            if q.is_finite() && q > 0.0 && !unit.trim().is_empty() {
                if let Some(b) = self.basis_index(unit.trim()) {
                    let w = if self.config.weighted { q as f32 } else { 1.0 };
                    let luv = (v / q).ln() as f32;
                    let ck = key::cell_key(Level::Hs6Origin, hs6, Some(origin), b);
                    self.cells.entry(ck).or_default().push(Obs {
                        day,
                        luv,
                        w,
                        origin,
                        mass: 0,
                        tax: u64::MAX,
                        importer,
                        seller: seller.unwrap_or(0),
                    });
                    self.push_parties(hs6, b, importer, seller, PartyObs { day, luv, w });
                    self.counts.added_per_unit += 1;
                }
            }
        }
        AddOutcome::Added
    }

    fn push_parties(&mut self, hs6: u32, basis: u16, imp: u64, sel: Option<u64>, o: PartyObs) {
        let ik = key::attr_key(key::TAG_IMPORTER, hs6, basis, imp);
        self.parties.entry(ik).or_default().push(o);
        if let Some(s) = sel {
            let sk = key::attr_key(key::TAG_SELLER, hs6, basis, s);
            self.parties.entry(sk).or_default().push(o);
        }
    }

    /// Drops observations dated before `day` (bounded memory when streaming in date order and
    /// finalizing at the end: evict everything older than the window).
    pub fn evict_before(&mut self, day: NaiveDate) {
        let cut = day_number(day);
        self.cells.retain(|_, v| {
            v.retain(|o| o.day >= cut);
            !v.is_empty()
        });
        self.parties.retain(|_, v| {
            v.retain(|o| o.day >= cut);
            !v.is_empty()
        });
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
        let in_window = |day: i32| day >= lo && day < hi;
        let weighted = self.config.weighted;

        let mut pooled: FastMap<Vec<(f64, f64)>> = FastMap::default();
        let mut pooled_importers: FastMap<FastSet> = FastMap::default();
        let mut cells: FastMap<CellStats> = FastMap::default();
        // per-kg declarations of each HS6 (all origins), for the products
        let mut by_hs6: std::collections::BTreeMap<u32, Vec<Obs>> = Default::default();
        for (&k, obs) in &self.cells {
            let (_, hs, _, basis) = key::decode_cell_key(k);
            let hs6 = key::hs6_number(&hs).unwrap_or(0);
            let mut vals: Vec<(f64, f64)> = obs
                .iter()
                .filter(|o| in_window(o.day))
                .map(|o| (o.luv as f64, o.w as f64))
                .collect();
            if vals.is_empty() {
                continue;
            }
            if basis == 0 {
                by_hs6
                    .entry(hs6)
                    .or_default()
                    .extend(obs.iter().filter(|o| in_window(o.day)));
            }
            let importers: FastSet = obs
                .iter()
                .filter(|o| in_window(o.day))
                .map(|o| o.importer)
                .collect();
            for level in [Level::Hs6, Level::Hs4, Level::Hs2] {
                let pk = key::cell_key(level, hs6, None, basis);
                pooled.entry(pk).or_default().extend_from_slice(&vals);
                pooled_importers
                    .entry(pk)
                    .or_default()
                    .extend(importers.iter().copied());
            }
            if let Some(s) = Summary::of(&mut vals, weighted) {
                cells.insert(
                    k,
                    CellStats {
                        importers: importers.len() as u32,
                        ..CellStats::from(s)
                    },
                );
            }
        }
        let mut cell_scales: Vec<f64> = cells
            .values()
            .filter(|c: &&CellStats| c.n >= 5)
            .map(|c| c.mad * MAD_TO_SD)
            .collect();
        for (k, mut vals) in pooled {
            if let Some(s) = Summary::of(&mut vals, weighted) {
                let importers = pooled_importers.get(&k).map_or(0, |i| i.len() as u32);
                cells.insert(
                    k,
                    CellStats {
                        importers,
                        ..CellStats::from(s)
                    },
                );
            }
        }
        let mut parties = FastMap::default();
        let mut party_scales = Vec::new();
        for (&k, obs) in &self.parties {
            let mut vals: Vec<(f64, f64)> = obs
                .iter()
                .filter(|o| in_window(o.day))
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
                        tally: Span::default(),
                    },
                );
            }
        }
        // Typical within-product dispersion: median robust sd of HS6 x origin cells with 5+
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
            // No cell with 5+ declarations: fall back to a moderate price dispersion.
            0.35f64.max(self.config.min_scale)
        };

        // Products per HS6 and the evidence tallies, HS6 by HS6 in code order so the arenas
        // are laid out identically however the declarations arrived.
        let mut products = Vec::new();
        let mut tallies = Vec::new();
        let mut attrs = FastMap::default();
        for (hs6, mut obs) in by_hs6 {
            obs.sort_by(Obs::canonical);
            let (labels, groups) = products_of(&obs, sigma0, self.config.tuning.merge_t);
            let first = products.len();
            products.extend(groups.iter().map(|g| g.product(sigma0)));
            if let Some(c) = cells.get_mut(&key::cell_key(Level::Hs6, hs6, None, 0)) {
                c.products = Span::of(&products, first);
            }
            if groups.len() < 2 {
                // one product: nothing to tell apart, no tallies needed
                continue;
            }
            // (tag, value, product) for every piece of evidence, sorted, then counted in runs
            let mut ev: Vec<(u8, u64, u8)> = Vec::with_capacity(obs.len() * 5);
            for (o, l) in obs.iter().zip(&labels) {
                let Some(l) = *l else { continue };
                ev.push((key::TAG_MASS, o.mass, l));
                ev.push((TAG_ORIGIN, o.origin as u64, l));
                if o.tax != u64::MAX {
                    ev.push((key::TAG_TAX, o.tax, l));
                }
                ev.push((key::TAG_IMPORTER, o.importer, l));
                if o.seller != 0 {
                    ev.push((key::TAG_SELLER, o.seller, l));
                }
            }
            ev.sort_unstable();
            let mut i = 0;
            while i < ev.len() {
                let (tag, value, _) = ev[i];
                let first = tallies.len();
                while i < ev.len() && (ev[i].0, ev[i].1) == (tag, value) {
                    let l = ev[i].2;
                    let mut c = 0u32;
                    while i < ev.len() && ev[i] == (tag, value, l) {
                        c += 1;
                        i += 1;
                    }
                    tallies.push(((l as u32) << 24) | c.min(0xFF_FFFF));
                }
                let span = Span::of(&tallies, first);
                match tag {
                    TAG_ORIGIN => {
                        let ck = key::cell_key(Level::Hs6Origin, hs6, Some(value as u16), 0);
                        if let Some(c) = cells.get_mut(&ck) {
                            c.tally = span;
                        }
                    }
                    key::TAG_IMPORTER | key::TAG_SELLER => {
                        if let Some(p) = parties.get_mut(&key::attr_key(tag, hs6, 0, value)) {
                            p.tally = span;
                        }
                    }
                    _ => {
                        attrs.insert(key::attr_key(tag, hs6, 0, value), span);
                    }
                }
            }
        }
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
            products,
            tallies,
            attrs,
            parties,
            counts: self.counts.clone(),
        }
    }
}

/// Internal tag of the origin tallies (stored on the HS6 x origin cell, not in `attrs`).
const TAG_ORIGIN: u8 = 5;

/// Running sums of one price group.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    sum: f64,
    sumsq: f64,
    n: u32,
}

impl Group {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.sumsq += x * x;
        self.n += 1;
    }
    fn merge(&mut self, o: &Group) {
        self.sum += o.sum;
        self.sumsq += o.sumsq;
        self.n += o.n;
    }
    fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }
    /// Difference of means in standard errors, with per-declaration sd `sigma`.
    fn t(&self, o: &Group, sigma: f64) -> f64 {
        (o.mean() - self.mean()).abs() / (sigma * (1.0 / self.n as f64 + 1.0 / o.n as f64).sqrt())
    }
    fn product(&self, sigma0: f64) -> Product {
        let n = self.n as f64;
        let m = self.mean();
        // sample sd of the group (merged neighbouring products are wider than sigma0)
        let sd = if self.n >= 3 {
            ((self.sumsq / n - m * m).max(0.0) * n / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let s = sd.max(sigma0);
        Product {
            center: m,
            width: (s * s + sigma0 * sigma0 / n).sqrt(),
            n: self.n,
        }
    }
}

/// Splits an HS6's declarations (canonically sorted) into products: declarations of the same
/// exact net mass start as one group (repeated consignments of one product) unless their
/// prices disagree by more than 3 sigma; neighbouring groups (by mean log unit value) are then
/// merged, closest first, while their means differ by less than `merge_t` standard errors.
/// Returns each declaration's product (None if the product was dropped beyond
/// [`MAX_PRODUCTS`]) and the products in increasing price.
fn products_of(obs: &[Obs], sigma: f64, merge_t: f64) -> (Vec<Option<u8>>, Vec<Group>) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // 1. seed groups: runs of equal mass
    let mut by_mass: Vec<usize> = (0..obs.len()).collect();
    by_mass.sort_by(|&a, &b| obs[a].mass.cmp(&obs[b].mass).then(a.cmp(&b)));
    let mut seeds: Vec<(Group, Vec<usize>)> = Vec::new();
    let mut i = 0;
    while i < by_mass.len() {
        let mut j = i;
        while j < by_mass.len() && obs[by_mass[j]].mass == obs[by_mass[i]].mass {
            j += 1;
        }
        let run = &by_mass[i..j];
        let mut g = Group::default();
        for &k in run {
            g.add(obs[k].luv as f64);
        }
        let m = g.mean();
        if run
            .iter()
            .all(|&k| (obs[k].luv as f64 - m).abs() <= 3.0 * sigma)
        {
            seeds.push((g, run.to_vec()));
        } else {
            for &k in run {
                let mut g = Group::default();
                g.add(obs[k].luv as f64);
                seeds.push((g, vec![k]));
            }
        }
        i = j;
    }
    seeds.sort_by(|a, b| a.0.mean().total_cmp(&b.0.mean()).then(a.1[0].cmp(&b.1[0])));
    // 2. agglomerate neighbours, closest pair first (heap with lazy invalidation)
    let n = seeds.len();
    let mut g: Vec<Group> = seeds.iter().map(|s| s.0).collect();
    let mut next: Vec<usize> = (1..=n).collect();
    let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
    let mut alive = vec![true; n];
    let mut ver = vec![0u32; n];
    let mut heap = BinaryHeap::new();
    // t >= 0, so the bit pattern orders like the value
    let t_bits = |t: f64| if t.is_finite() { t.to_bits() } else { u64::MAX };
    for i in 1..n {
        heap.push(Reverse((
            t_bits(g[i - 1].t(&g[i], sigma)),
            i - 1,
            0u32,
            0u32,
        )));
    }
    while let Some(Reverse((tb, l, vl, vr))) = heap.pop() {
        if tb == u64::MAX || f64::from_bits(tb) > merge_t {
            break;
        }
        let r = next[l];
        if !alive[l] || r >= n || ver[l] != vl || ver[r] != vr {
            continue;
        }
        let gr = g[r];
        g[l].merge(&gr);
        alive[r] = false;
        ver[l] += 1;
        next[l] = next[r];
        if next[l] < n {
            prev[next[l]] = l;
        }
        let p = prev[l];
        if p < n {
            heap.push(Reverse((t_bits(g[p].t(&g[l], sigma)), p, ver[p], ver[l])));
        }
        if next[l] < n {
            let q = next[l];
            heap.push(Reverse((t_bits(g[l].t(&g[q], sigma)), l, ver[l], ver[q])));
        }
    }
    // 3. an alive seed covers the seeds up to the next alive one (merges are contiguous)
    let roots: Vec<usize> = (0..n).filter(|&i| alive[i]).collect();
    let mut keep: Vec<usize> = (0..roots.len()).collect();
    if keep.len() > MAX_PRODUCTS {
        keep.sort_by(|&a, &b| g[roots[b]].n.cmp(&g[roots[a]].n).then(a.cmp(&b)));
        keep.truncate(MAX_PRODUCTS);
        keep.sort_unstable();
    }
    let mut label_of_root = vec![None; roots.len()];
    for (new, &r) in keep.iter().enumerate() {
        label_of_root[r] = Some(new as u8);
    }
    let mut labels = vec![None; obs.len()];
    let mut root = 0;
    for (i, seed) in seeds.iter().enumerate() {
        while root + 1 < roots.len() && roots[root + 1] <= i {
            root += 1;
        }
        for &k in &seed.1 {
            labels[k] = label_of_root[root];
        }
    }
    let groups = keep.iter().map(|&r| g[roots[r]]).collect();
    (labels, groups)
}

pub const FORMAT: &str = "borderline-valuation-benchmarks";
pub const FORMAT_VERSION: u32 = 2;

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
    /// HS6 cells: the HS6's products in `Benchmarks::products`.
    #[serde(default)]
    pub products: Span,
    /// HS6 x origin cells: declarations of this origin per product (`Benchmarks::tallies`).
    #[serde(default)]
    pub tally: Span,
    /// Distinct importers among the cell's declarations: a benchmark reaches a trader only
    /// when enough importers made it that no competitor's prices can be read off it. 0 in
    /// files written before it was recorded (such cells are never shown to traders).
    #[serde(default)]
    pub importers: u32,
}

impl From<Summary> for CellStats {
    fn from(s: Summary) -> Self {
        CellStats {
            n: s.n as u32,
            weight: s.weight,
            grid: s.grid,
            mad: s.mad,
            products: Span::default(),
            tally: Span::default(),
            importers: 0,
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
    /// Per-kg groups of a multi-product HS6: the party's declarations per product.
    #[serde(default)]
    pub tally: Span,
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
    /// Products of all HS6s (per-kg), in spans referenced by the HS6 cells.
    pub products: Vec<Product>,
    /// Product-evidence counts, `product << 24 | count`, in spans referenced by HS6 x origin
    /// cells, own-history groups and `attrs`.
    pub tallies: Vec<u32>,
    /// Spans of the exact-net-mass and duty-rate tallies, keyed by `key::attr_key`.
    #[serde(with = "sorted_map")]
    pub attrs: FastMap<Span>,
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
            // Unit codes are case-insensitive ("PCS" and "pcs" are one unit, one cell).
            .position(|b| matches!(b, Basis::Unit(u) if u.eq_ignore_ascii_case(unit)))
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

    /// The products of an HS6 (per kg), in increasing price; empty if the HS6 is unseen.
    pub fn products(&self, hs6: u32) -> &[Product] {
        self.cells
            .get(&key::cell_key(Level::Hs6, hs6, None, 0))
            .map_or(&[], |c| c.products.get(&self.products))
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
        let file = borderline_atomic_file::AtomicFile::create(path).map_err(io)?;
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        serde_json::to_writer(&mut gz, self).map_err(|source| ValuationError::Json {
            path: shown.clone(),
            source,
        })?;
        gz.finish().map_err(io)?.commit().map_err(io)
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
