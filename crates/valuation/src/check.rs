//! Flags for one declaration against built [`Benchmarks`].

use crate::benchmark::{log_unit_value, Benchmarks, CellStats, PartyStats, Problem, MAX_PRODUCTS};
use crate::key::{self, Level};
use crate::stats::{cdf_diff, ln_cdf_diff, ln_norm_cdf, norm_cdf, percentile_in_grid};
use borderline_core::{amount_shown, Declaration, Reason, ReasonKind};
use serde::Serialize;

pub use crate::benchmark::Problem as Finding;

/// Direction of a deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Under,
    Over,
    Within,
}

/// Whether the check could be made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CheckOutcome {
    /// Mass/value/currency/code problem: not compared.
    DataQuality {
        problem: Problem,
    },
    /// No cell at any level had the minimum sample.
    NoBenchmark,
    Checked,
}

/// Result of checking one declaration. Log quantities are natural logs of unit values in the
/// benchmark currency per kg.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub outcome: CheckOutcome,
    pub log_unit_value: f64,
    pub level: Option<Level>,
    pub cell: Option<CellStats>,
    /// (log unit value - cell median) / (1.4826 MAD, floored).
    pub robust_z: f64,
    /// Percentile within the cell (0-100, interpolated between stored quantiles).
    pub percentile: f64,
    pub own_importer: Option<PartyStats>,
    pub own_seller: Option<PartyStats>,
    /// Products (price groups) of the HS6 in the window (0 if the HS6 is unseen).
    pub products: u32,
    /// Posterior probability of the most likely product given the evidence.
    pub product_confidence: f64,
    /// Weighted centre of the references (cells and the traders' own history), log scale.
    pub expected: f64,
    /// Combined tail score (see `Mixture::score`); negative = cheaper than the references.
    pub score: f64,
    pub direction: Direction,
    pub flagged: bool,
    /// (cell median unit value x mass - declared value) x duty rate, when below the median.
    pub duty_at_risk: f64,
    /// Per declared quantity unit, when the declaration carries one and a benchmark exists.
    pub per_unit_z: Option<f64>,
    /// Log likelihood ratio "declared at 10-90% of the reference price" vs "at the reference
    /// price" (references as for `score`); the ranking score for under-valuation.
    pub under_evidence: f64,
    /// Same for "declared at 1.1-10 times the reference price".
    pub over_evidence: f64,
    /// Ranking score for under-valuation: `under_evidence - score` (likelihood ratio plus tail
    /// distance; the sum ranked best on the validation period).
    pub under_rank: f64,
    /// Ranking score for over-valuation: `over_evidence + score`.
    pub over_rank: f64,
}

/// Generic mis-valuation alternatives (price factors) of the evidence scores. Fixed a priori,
/// deliberately wider than the evaluation's bands.
pub const UNDER: (f64, f64) = (0.1, 0.9);
pub const OVER: (f64, f64) = (1.1, 10.0);

/// Mixture terms: the HS6's products and the novel-product term, or the 9 quantile points of
/// a fallback cell.
const MAX_TERMS: usize = MAX_PRODUCTS + 9;

/// Gaussian mixture around reference prices; gives the two tail probabilities of `x`.
struct Mixture {
    x: f64,
    // (weight, center, bandwidth), at most 2 sketches + 2 parties.
    terms: [(f64, f64, f64); MAX_TERMS],
    len: usize,
}

impl Mixture {
    fn new(x: f64) -> Self {
        Mixture {
            x,
            terms: [(0.0, 0.0, 1.0); MAX_TERMS],
            len: 0,
        }
    }
    fn point(&mut self, center: f64, weight: f64, h: f64) {
        if self.len < self.terms.len() && weight > 0.0 && center.is_finite() {
            self.terms[self.len] = (weight, center, h);
            self.len += 1;
        }
    }
    /// (tail score, under evidence, over evidence) in one pass in linear space; a quantity that
    /// underflows is recomputed in log space (same value, slower).
    fn scores(&self) -> (f64, f64, f64) {
        const TINY: f64 = 1e-280;
        let t = &self.terms[..self.len];
        let w: f64 = t.iter().map(|p| p.0).sum();
        if w.is_nan() || w <= 0.0 {
            return (0.0, 0.0, 0.0);
        }
        let (ua, ub) = (UNDER.0.ln(), UNDER.1.ln());
        let (oa, ob) = (OVER.0.ln(), OVER.1.ln());
        let (mut lo, mut hi, mut den, mut un, mut ov) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(wi, c, h) in t {
            let inv = 1.0 / h;
            let z = (self.x - c) * inv;
            let p = norm_cdf(z);
            lo += wi * p;
            hi += wi * (1.0 - p);
            den += wi * inv * (-0.5 * z * z).exp();
            un += wi * cdf_diff(z - ua * inv, z - ub * inv);
            ov += wi * cdf_diff(z - oa * inv, z - ob * inv);
        }
        let score = if lo.min(hi) / w > 1e-12 {
            let (lower, tail) = if lo <= hi {
                (true, lo / w)
            } else {
                (false, hi / w)
            };
            let s = (-2.0 * (tail.ln() + std::f64::consts::LN_2))
                .max(0.0)
                .sqrt();
            if lower {
                -s
            } else {
                s
            }
        } else {
            self.score()
        };
        let ln_den = if den > TINY {
            den.ln() - 0.918_938_533_204_672_8
        } else {
            f64::NAN
        };
        let ev = |num: f64, a: f64, b: f64| {
            if num > TINY && ln_den.is_finite() {
                (num.ln() - (b - a).ln() - ln_den).clamp(-700.0, 700.0)
            } else {
                self.evidence(a, b)
            }
        };
        (score, ev(un, ua, ub), ev(ov, oa, ob))
    }

    /// Log likelihood ratio of `x` under "the declared value is the reference price x f,
    /// ln f uniform on [a, b]" against "the declared value is the reference price".
    fn evidence(&self, a: f64, b: f64) -> f64 {
        let t = &self.terms[..self.len];
        if t.is_empty() {
            return 0.0;
        }
        let lse = |it: &mut dyn Iterator<Item = f64>| {
            let v: [f64; MAX_TERMS] = {
                let mut v = [f64::NEG_INFINITY; MAX_TERMS];
                for (slot, x) in v.iter_mut().zip(it) {
                    *slot = x;
                }
                v
            };
            let v = &v[..t.len()];
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if m == f64::NEG_INFINITY {
                return m;
            }
            m + v.iter().map(|l| (l - m).exp()).sum::<f64>().ln()
        };
        let num = lse(&mut t
            .iter()
            .map(|&(w, c, h)| w.ln() + ln_cdf_diff((self.x - c - a) / h, (self.x - c - b) / h)))
            - (b - a).ln();
        let den = lse(&mut t.iter().map(|&(w, c, h)| {
            let z = (self.x - c) / h;
            w.ln() - 0.5 * z * z - h.ln() - 0.918_938_533_204_672_8
        }));
        (num - den).clamp(-700.0, 700.0)
    }

    fn weighted_center(&self) -> f64 {
        let t = &self.terms[..self.len];
        let w: f64 = t.iter().map(|p| p.0).sum();
        t.iter().map(|p| p.0 * p.1).sum::<f64>() / w
    }
    /// Signed tail score: -sqrt(-2 ln(2 P(X <= x))) when the lower tail is the smaller,
    /// +sqrt(-2 ln(2 P(X >= x))) otherwise (about |z| + 0.4 in a normal cell's tails).
    fn score(&self) -> f64 {
        let t = &self.terms[..self.len];
        let w: f64 = t.iter().map(|p| p.0).sum();
        if w.is_nan() || w <= 0.0 {
            return 0.0;
        }
        let (mut lo, mut hi) = (0.0, 0.0);
        for &(wi, c, h) in t {
            let z = (self.x - c) / h;
            let p = norm_cdf(z);
            lo += wi * p;
            hi += wi * (1.0 - p);
        }
        let (lower, tail) = if lo <= hi {
            (true, lo / w)
        } else {
            (false, hi / w)
        };
        let ln_tail = if tail > 1e-12 {
            tail.ln()
        } else {
            // far tail: log-sum-exp of log-CDF terms
            let sign = if lower { 1.0 } else { -1.0 };
            let logs = t
                .iter()
                .map(|&(wi, c, h)| wi.ln() + ln_norm_cdf(sign * (self.x - c) / h));
            let m = logs.clone().fold(f64::NEG_INFINITY, f64::max);
            m + logs.map(|l| (l - m).exp()).sum::<f64>().ln() - w.ln()
        };
        let s = (-2.0 * (ln_tail + std::f64::consts::LN_2)).max(0.0).sqrt();
        if lower {
            -s
        } else {
            s
        }
    }
}

/// The cell-statistics part of a check (no own history, no mixture): the cheap first stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuickCheck {
    pub level: Option<Level>,
    pub log_unit_value: f64,
    pub robust_z: f64,
    pub percentile: f64,
    pub duty_at_risk: f64,
}

/// Why a declaration could not be valued, without the allocation of [`Problem`]'s texts:
/// the status of an [`Assessment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    MissingMass,
    ZeroMass,
    MissingValue,
    ZeroValue,
    InvalidNumber,
    CurrencyMismatch,
    BadHsCode,
}

impl Quality {
    fn of(p: &Problem) -> Quality {
        match p {
            Problem::MissingMass => Quality::MissingMass,
            Problem::ZeroMass => Quality::ZeroMass,
            Problem::MissingValue => Quality::MissingValue,
            Problem::ZeroValue => Quality::ZeroValue,
            Problem::InvalidNumber => Quality::InvalidNumber,
            Problem::CurrencyMismatch { .. } => Quality::CurrencyMismatch,
            Problem::BadHsCode => Quality::BadHsCode,
        }
    }
    /// The full finding (the currency names are only built here, on demand).
    pub fn problem(self, d: &Declaration, b: &Benchmarks) -> Problem {
        match self {
            Quality::MissingMass => Problem::MissingMass,
            Quality::ZeroMass => Problem::ZeroMass,
            Quality::MissingValue => Problem::MissingValue,
            Quality::ZeroValue => Problem::ZeroValue,
            Quality::InvalidNumber => Problem::InvalidNumber,
            Quality::CurrencyMismatch => Problem::CurrencyMismatch {
                declared: d.currency.to_string(),
                benchmarks: b.currency.clone().unwrap_or_default(),
            },
            Quality::BadHsCode => Problem::BadHsCode,
        }
    }
}

/// Status of an [`Assessment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "finding")]
pub enum Status {
    Checked,
    NoBenchmark,
    DataQuality(Quality),
}

/// Everything the full check computes, as a small `Copy` value with no allocation: what the
/// targeting features, the evaluation and bulk checking use. [`Benchmarks::check`] adds the
/// cell, the per-unit comparison and the texts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assessment {
    pub status: Status,
    pub log_unit_value: f64,
    pub level: Option<Level>,
    pub cell_median: f64,
    pub cell_n: u32,
    pub robust_z: f64,
    pub percentile: f64,
    pub own_importer: Option<PartyStats>,
    pub own_seller: Option<PartyStats>,
    /// Products (price groups) of the HS6 in the window (0 if the HS6 is unseen).
    pub products: u32,
    /// Posterior probability of the most likely product given the evidence.
    pub product_confidence: f64,
    pub expected: f64,
    pub score: f64,
    pub under_evidence: f64,
    pub over_evidence: f64,
    pub under_rank: f64,
    pub over_rank: f64,
    pub direction: Direction,
    pub flagged: bool,
    pub duty_at_risk: f64,
}

impl Assessment {
    fn empty(status: Status) -> Assessment {
        Assessment {
            status,
            log_unit_value: f64::NAN,
            level: None,
            cell_median: f64::NAN,
            cell_n: 0,
            robust_z: f64::NAN,
            percentile: f64::NAN,
            own_importer: None,
            own_seller: None,
            products: 0,
            product_confidence: f64::NAN,
            expected: f64::NAN,
            score: f64::NAN,
            under_evidence: f64::NAN,
            over_evidence: f64::NAN,
            under_rank: f64::NAN,
            over_rank: f64::NAN,
            direction: Direction::Within,
            flagged: false,
            duty_at_risk: 0.0,
        }
    }
}

/// Multiplies product weights by one piece of evidence: naive-Bayes likelihood ratio
/// `(c_k + s c / N) / (n_k + s)` (c_k = this value's declarations of product k, c = all of
/// them, n_k = product k's declarations, N = the HS6's, s = smoothing), raised to `trust`.
/// A value spread over the products like the products themselves leaves the weights
/// unchanged; a value seen only with one product moves the weight to it.
fn apply_evidence(pi: &mut [f64], n: &[f64], n_total: f64, tally: &[u32], s: f64, trust: f64) {
    if tally.is_empty() || trust == 0.0 {
        return;
    }
    let mut c = [0f64; MAX_PRODUCTS];
    let mut total = 0.0;
    for &t in tally {
        if let Some(slot) = c.get_mut((t >> 24) as usize) {
            let k = (t & 0xFF_FFFF) as f64;
            *slot += k;
            total += k;
        }
    }
    let prior = s * total / n_total;
    for ((p, &ck), &nk) in pi.iter_mut().zip(&c).zip(n) {
        let f = (ck + prior) / (nk + s);
        *p *= if trust == 1.0 { f } else { f.powf(trust) };
    }
}

impl Benchmarks {
    /// Cell statistics only: fallback level, robust z, percentile, duty at risk. `Err` carries
    /// the data-quality problem; `level: None` means no benchmark.
    pub fn quick_check(&self, d: &Declaration) -> Result<QuickCheck, Problem> {
        let x = log_unit_value(d)?;
        if let Some(c) = &self.currency {
            if c.as_str() != d.currency.as_str() {
                return Err(Problem::CurrencyMismatch {
                    declared: d.currency.to_string(),
                    benchmarks: c.clone(),
                });
            }
        }
        let hs6 = key::hs6_number(d.hs_code.as_str()).ok_or(Problem::BadHsCode)?;
        let mut q = QuickCheck {
            level: None,
            log_unit_value: x,
            robust_z: f64::NAN,
            percentile: f64::NAN,
            duty_at_risk: 0.0,
        };
        if let Some((level, cell)) = self.fallback(hs6, self.origin_index(&d.origin_country), 0) {
            q.level = Some(level);
            q.robust_z = (x - cell.median()) / cell.scale(self.config.min_scale);
            q.percentile = percentile_in_grid(&cell.grid, x);
            q.duty_at_risk = duty_at_risk(d, cell.median());
        }
        Ok(q)
    }

    /// The full check without allocation (see [`Assessment`]). Never panics and never divides
    /// by zero: unusable mass, value, currency or code is a [`Status::DataQuality`].
    pub fn assess(&self, d: &Declaration) -> Assessment {
        self.assess_with_cell(d).0
    }

    fn assess_with_cell(&self, d: &Declaration) -> (Assessment, Option<&CellStats>) {
        let x = match log_unit_value(d) {
            Ok(x) => x,
            Err(p) => {
                return (
                    Assessment::empty(Status::DataQuality(Quality::of(&p))),
                    None,
                )
            }
        };
        if let Some(c) = &self.currency {
            if c.as_str() != d.currency.as_str() {
                let s = Status::DataQuality(Quality::CurrencyMismatch);
                return (Assessment::empty(s), None);
            }
        }
        let Some(hs6) = key::hs6_number(d.hs_code.as_str()) else {
            let s = Status::DataQuality(Quality::BadHsCode);
            return (Assessment::empty(s), None);
        };
        let origin = self.origin_index(&d.origin_country);
        let min = self.config.min_sample;
        // The HS6 x origin cell (also when thin: it holds the origin's product tally) and the
        // HS6 cell (it holds the products) are needed anyway; HS4/HS2 only as fallback.
        let c_origin = origin.and_then(|o| {
            self.cells
                .get(&key::cell_key(Level::Hs6Origin, hs6, Some(o), 0))
        });
        let c_hs6 = self.cells.get(&key::cell_key(Level::Hs6, hs6, None, 0));
        let fallback = match (c_origin, c_hs6) {
            (Some(c), _) if c.n >= min => Some((Level::Hs6Origin, c)),
            (_, Some(c)) if c.n >= min => Some((Level::Hs6, c)),
            _ => [Level::Hs4, Level::Hs2].into_iter().find_map(|l| {
                self.cell(l, hs6, None, 0)
                    .filter(|c| c.n >= min)
                    .map(|c| (l, c))
            }),
        };
        let Some((level, cell)) = fallback else {
            let mut a = Assessment::empty(Status::NoBenchmark);
            a.log_unit_value = x;
            return (a, None);
        };
        let min_scale = self.config.min_scale;
        let t = &self.config.tuning;
        let sigma0 = self.sigma0.max(min_scale);
        let own_importer = self
            .parties
            .get(&key::party_key(key::TAG_IMPORTER, &d.importer, hs6, 0))
            .copied();
        let own_seller = d
            .seller
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| {
                self.parties
                    .get(&key::party_key(key::TAG_SELLER, s, hs6, 0))
            })
            .copied();

        // Expected price: a mixture over the HS6's products, weighted by how likely the
        // declaration is each product given its net mass, origin, duty rate and the
        // importer's and seller's own past declarations (naive Bayes), plus a wide component
        // for a product not seen in the window. Unseen HS6: the fallback cell's quantiles.
        let mut mix = Mixture::new(x);
        let products = c_hs6.map_or(&[][..], |c| c.products.get(&self.products));
        let mut confidence = f64::NAN;
        if products.is_empty() {
            // Headings are often multi-modal, and their MAD can be 0 when one product
            // dominates: use their quantiles p1..p99 as equally weighted points.
            for &g in &cell.grid[1..=9] {
                mix.point(g, 1.0, sigma0 * t.unseen_width);
            }
        } else {
            let k = products.len().min(MAX_PRODUCTS);
            let mut n = [0f64; MAX_PRODUCTS];
            let mut pi = [0f64; MAX_PRODUCTS];
            for ((nk, pk), p) in n.iter_mut().zip(pi.iter_mut()).zip(products) {
                *nk = p.n as f64;
                *pk = p.n as f64;
            }
            let n_total: f64 = n[..k].iter().sum();
            if k >= 2 {
                let s = t.smoothing;
                let (n, pi) = (&n[..k], &mut pi[..k]);
                if let Some(m) = d.net_mass_kg {
                    let key = key::attr_key(key::TAG_MASS, hs6, 0, key::mass_value(m));
                    if let Some(span) = self.attrs.get(&key) {
                        let tally = span.get(&self.tallies);
                        apply_evidence(pi, n, n_total, tally, s, t.mass_weight);
                    }
                }
                if let Some(c) = c_origin {
                    let tally = c.tally.get(&self.tallies);
                    apply_evidence(pi, n, n_total, tally, s, t.origin_weight);
                }
                if let Some(tax) = key::tax_value(d.tax_rate) {
                    if let Some(span) = self.attrs.get(&key::attr_key(key::TAG_TAX, hs6, 0, tax)) {
                        let tally = span.get(&self.tallies);
                        apply_evidence(pi, n, n_total, tally, s, t.tax_weight);
                    }
                }
                for (p, w) in [
                    (own_importer, t.importer_weight),
                    (own_seller, t.seller_weight),
                ] {
                    if let Some(p) = p {
                        apply_evidence(pi, n, n_total, p.tally.get(&self.tallies), s, w);
                    }
                }
            }
            let sum: f64 = pi[..k].iter().sum();
            let mix_prior = t.prior_mix.clamp(0.0, 1.0);
            let novel = t.novel_weight.max(0.0) / (n_total + t.novel_weight.max(0.0));
            confidence = 0.0;
            for (p, pk) in products.iter().zip(&pi[..k]) {
                // evidence that underflowed everywhere leaves the plain frequencies
                let post = if sum > 0.0 && sum.is_finite() {
                    (1.0 - mix_prior) * pk / sum + mix_prior * p.n as f64 / n_total
                } else {
                    p.n as f64 / n_total
                };
                confidence = f64::max(confidence, post);
                mix.point(p.center, (1.0 - novel) * post, p.width.max(min_scale));
            }
            if novel > 0.0 {
                let centre = c_hs6.map_or(cell.median(), |c| c.median());
                mix.point(centre, novel, sigma0 * t.novel_width);
            }
        }
        let expected = mix.weighted_center();
        let (score, under_evidence, over_evidence) = mix.scores();
        let thr = self.config.z_threshold;
        let direction = if score <= -thr {
            Direction::Under
        } else if score >= thr {
            Direction::Over
        } else {
            Direction::Within
        };
        let a = Assessment {
            status: Status::Checked,
            log_unit_value: x,
            level: Some(level),
            cell_median: cell.median(),
            cell_n: cell.n,
            robust_z: (x - cell.median()) / cell.scale(min_scale),
            percentile: percentile_in_grid(&cell.grid, x),
            own_importer,
            own_seller,
            products: products.len() as u32,
            product_confidence: confidence,
            expected,
            score,
            under_evidence,
            over_evidence,
            under_rank: under_evidence - t.tail_weight * score,
            over_rank: over_evidence + t.tail_weight * score,
            direction,
            flagged: direction != Direction::Within,
            duty_at_risk: duty_at_risk(d, cell.median()),
        };
        (a, Some(cell))
    }

    /// Checks one declaration: [`Benchmarks::assess`] plus the benchmark cell, the per-unit
    /// comparison and the full data-quality finding. Never panics and never divides by zero.
    pub fn check(&self, d: &Declaration) -> Check {
        let (a, cell) = self.assess_with_cell(d);
        let outcome = match a.status {
            Status::Checked => CheckOutcome::Checked,
            Status::NoBenchmark => CheckOutcome::NoBenchmark,
            Status::DataQuality(q) => CheckOutcome::DataQuality {
                problem: q.problem(d, self),
            },
        };
        let per_unit_z = match (a.status, key::hs6_number(d.hs_code.as_str())) {
            (Status::Checked, Some(hs6)) => {
                self.per_unit_z(d, hs6, self.origin_index(&d.origin_country))
            }
            _ => None,
        };
        Check {
            outcome,
            log_unit_value: a.log_unit_value,
            level: a.level,
            cell: cell.copied(),
            robust_z: a.robust_z,
            percentile: a.percentile,
            own_importer: a.own_importer,
            own_seller: a.own_seller,
            products: a.products,
            product_confidence: a.product_confidence,
            expected: a.expected,
            score: a.score,
            direction: a.direction,
            flagged: a.flagged,
            duty_at_risk: a.duty_at_risk,
            per_unit_z,
            under_evidence: a.under_evidence,
            over_evidence: a.over_evidence,
            under_rank: a.under_rank,
            over_rank: a.over_rank,
        }
    }

    fn per_unit_z(&self, d: &Declaration, hs6: u32, origin: Option<u16>) -> Option<f64> {
        if self.bases.len() < 2 {
            return None;
        }
        let (q, unit, v) = (d.quantity?, d.quantity_unit.as_deref()?, d.customs_value?);
        if !(q.is_finite() && q > 0.0 && v.is_finite() && v > 0.0) {
            return None;
        }
        let b = self.basis_index(unit.trim())?;
        let (_, c) = self.fallback(hs6, origin, b)?;
        Some(((v / q).ln() - c.median()) / c.scale(self.config.min_scale))
    }

    /// Officer-readable reasons for a check (empty when nothing is abnormal).
    pub fn reasons(&self, d: &Declaration, c: &Check) -> Vec<Reason> {
        let mut out = Vec::new();
        match &c.outcome {
            CheckOutcome::DataQuality { problem } => out.push(Reason {
                kind: ReasonKind::DataQuality,
                code: problem.code().to_string(),
                text: problem.text(),
                contribution: None,
            }),
            CheckOutcome::NoBenchmark => {}
            CheckOutcome::Checked => {
                if c.flagged {
                    out.push(Reason {
                        kind: ReasonKind::Valuation,
                        code: match c.direction {
                            Direction::Under => "valuation_under",
                            _ => "valuation_over",
                        }
                        .to_string(),
                        text: self.phrase(d, c),
                        contribution: None,
                    });
                }
                if let Some(z) = c.per_unit_z {
                    if z.abs() >= self.config.z_threshold {
                        out.push(Reason {
                            kind: ReasonKind::Valuation,
                            code: "valuation_per_unit".into(),
                            text: format!(
                                "value per declared {} is {:.1} robust deviations {} its benchmark",
                                d.quantity_unit.as_deref().unwrap_or("unit"),
                                z.abs(),
                                if z < 0.0 { "below" } else { "above" }
                            ),
                            contribution: None,
                        });
                    }
                }
            }
        }
        out
    }

    /// "declared 1.20 KRW/kg; median 9.80 for HS 854140 from CN (n=312); below the 1st percentile; ..."
    pub fn phrase(&self, d: &Declaration, c: &Check) -> String {
        let cur = borderline_core::currency_shown(self.currency.as_deref().unwrap_or(""));
        let Some(cell) = c.cell else {
            return String::new();
        };
        let hs = d.hs_code.as_str();
        let scope = match c.level {
            Some(Level::Hs6Origin) => format!("HS {} from {}", &hs[..6], d.origin_country),
            Some(Level::Hs6) => format!(
                "HS {}, all origins (few from {})",
                &hs[..6],
                d.origin_country
            ),
            Some(Level::Hs4) => format!("heading {}, all origins", &hs[..4]),
            _ => format!("chapter {}, all origins", &hs[..2]),
        };
        let pct = if c.percentile < 1.0 {
            "below the 1st percentile".to_string()
        } else if c.percentile > 99.0 {
            "above the 99th percentile".to_string()
        } else {
            format!("at the {}th percentile", c.percentile.round())
        };
        let mut s = format!(
            "declared {} {cur}/kg; median {} for {scope} (n={}); {pct}",
            amount_shown(c.log_unit_value.exp()),
            amount_shown(cell.median().exp()),
            cell.n
        );
        if matches!(c.level, Some(Level::Hs4 | Level::Hs2)) {
            // the combined score also used the thin HS6 history: say so
            if let Some(h) = key::hs6_number(hs).and_then(|n| self.cell(Level::Hs6, n, None, 0)) {
                s.push_str(&format!(
                    "; HS {} itself: median {} (n={})",
                    &hs[..6],
                    amount_shown(h.median().exp()),
                    h.n
                ));
            }
        }
        if let Some(p) = c.own_importer {
            s.push_str(&format!(
                "; importer's own median {} (n={})",
                amount_shown(p.median.exp()),
                p.n
            ));
        }
        if let Some(p) = c.own_seller {
            s.push_str(&format!(
                "; seller's median {} (n={})",
                amount_shown(p.median.exp()),
                p.n
            ));
        }
        s.push_str(&format!("; score {:.1}", c.score));
        if c.direction == Direction::Under && c.duty_at_risk > 0.0 {
            s.push_str(&format!(
                "; duty at risk about {} {cur}",
                amount_shown(c.duty_at_risk)
            ));
        }
        s
    }
}

/// (cell median unit value x mass - declared value) x duty rate, floored at 0; 0 when mass,
/// value or rate is unknown.
fn duty_at_risk(d: &Declaration, median: f64) -> f64 {
    match (d.net_mass_kg, d.customs_value, d.tax_rate) {
        (Some(m), Some(v), Some(r)) if r.is_finite() && r > 0.0 => {
            ((median.exp() * m - v) * r / 100.0).max(0.0)
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_log_space_scores_agree() {
        for x in [-1.0, 0.3, 1.7, 2.3, 4.0] {
            let mut m = Mixture::new(x);
            m.point(2.3, 3.0, 0.35);
            m.point(2.0, 1.0, 0.2);
            m.point(4.1, 0.5, 0.4);
            let (s, u, o) = m.scores();
            assert!((s - m.score()).abs() < 1e-5, "{x}: {s} {}", m.score());
            assert!(
                (u - m.evidence(UNDER.0.ln(), UNDER.1.ln())).abs() < 1e-4,
                "{x}"
            );
            assert!(
                (o - m.evidence(OVER.0.ln(), OVER.1.ln())).abs() < 1e-4,
                "{x}"
            );
        }
        // far tail: falls back to log space, stays finite and monotone
        let mut a = Mixture::new(-40.0);
        a.point(2.3, 1.0, 0.1);
        let mut b = Mixture::new(-30.0);
        b.point(2.3, 1.0, 0.1);
        assert!(a.scores().0 < b.scores().0 && a.scores().0.is_finite());
    }
}
