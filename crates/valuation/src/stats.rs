//! Robust statistics on small samples, written out so the definitions are explicit and
//! hand-checkable in tests.
//!
//! Unweighted quantiles use linear interpolation between order statistics (Hyndman-Fan type 7,
//! numpy's default): position `h = (n-1) q`. Weighted quantiles (quantity weighting) use the
//! lower weighted quantile: the smallest value whose cumulative weight reaches `q * W`.

/// Quantile of an ascending-sorted, non-empty slice (type 7). Returns NaN when empty.
pub fn quantile_sorted(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let h = (xs.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(xs.len() - 1);
    xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo])
}

/// Lower weighted quantile of `(value, weight)` pairs sorted by value; weights must be > 0.
pub fn weighted_quantile_sorted(xs: &[(f64, f64)], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let total: f64 = xs.iter().map(|p| p.1).sum();
    let target = q.clamp(0.0, 1.0) * total;
    let mut cum = 0.0;
    for &(x, w) in xs {
        cum += w;
        if cum >= target - 1e-12 * total {
            return x;
        }
    }
    xs[xs.len() - 1].0
}

/// The statistics Borderline keeps for a sample of log unit values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub weight: f64,
    /// min, p1, p5, p10, p25, p50, p75, p90, p95, p99, max (see [`GRID`]).
    pub grid: [f64; 11],
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
}

/// Probabilities of [`Summary::grid`].
pub const GRID: [f64; 11] = [
    0.0, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 1.0,
];

impl Summary {
    /// Summarises `values` (`(log unit value, weight)`), sorting them in place. `weighted`
    /// selects the weighted quantile definition; otherwise weights only sum into `weight`.
    pub fn of(values: &mut [(f64, f64)], weighted: bool) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let weight = values.iter().map(|p| p.1).sum();
        let mut grid = [0.0; 11];
        let (median, mad) = if weighted {
            for (g, q) in grid.iter_mut().zip(GRID) {
                *g = weighted_quantile_sorted(values, q);
            }
            let med = grid[5];
            let mut dev: Vec<(f64, f64)> =
                values.iter().map(|&(x, w)| ((x - med).abs(), w)).collect();
            dev.sort_by(|a, b| a.0.total_cmp(&b.0));
            (med, weighted_quantile_sorted(&dev, 0.5))
        } else {
            let xs: Vec<f64> = values.iter().map(|p| p.0).collect();
            for (g, q) in grid.iter_mut().zip(GRID) {
                *g = quantile_sorted(&xs, q);
            }
            let med = grid[5];
            let mut dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
            dev.sort_by(f64::total_cmp);
            (med, quantile_sorted(&dev, 0.5))
        };
        let _ = median;
        Some(Summary {
            n: values.len(),
            weight,
            grid,
            mad,
        })
    }
}

/// Percentile (0-100) of `x` within a quantile grid, by linear interpolation between grid
/// points; 0 below the minimum and 100 above the maximum.
pub fn percentile_in_grid(grid: &[f64; 11], x: f64) -> f64 {
    if x <= grid[0] {
        return if x < grid[0] { 0.0 } else { GRID[0] * 100.0 };
    }
    for i in 1..grid.len() {
        if x <= grid[i] {
            let (a, b) = (grid[i - 1], grid[i]);
            let t = if b > a { (x - a) / (b - a) } else { 1.0 };
            return 100.0 * (GRID[i - 1] + t * (GRID[i] - GRID[i - 1]));
        }
    }
    100.0
}

/// Standard normal CDF (Numerical Recipes erfc, relative error < 1.2e-7).
pub fn norm_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// ln of the standard normal CDF, accurate in the far lower tail (asymptotic series below -8).
pub fn ln_norm_cdf(z: f64) -> f64 {
    if z > -8.0 {
        norm_cdf(z).max(f64::MIN_POSITIVE).ln()
    } else {
        let z2 = z * z;
        -0.5 * z2 - (-z).ln() - 0.918_938_533_204_672_8 + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln()
    }
}

/// Phi(hi) - Phi(lo) for hi > lo, computed in the smaller tail.
pub fn cdf_diff(hi: f64, lo: f64) -> f64 {
    if hi + lo > 0.0 {
        norm_cdf(-lo) - norm_cdf(-hi)
    } else {
        norm_cdf(hi) - norm_cdf(lo)
    }
    .max(0.0)
}

/// ln(Phi(hi) - Phi(lo)) for hi > lo, stable in both tails.
pub fn ln_cdf_diff(hi: f64, lo: f64) -> f64 {
    if hi <= lo {
        return f64::NEG_INFINITY;
    }
    // Use the tail where both values are small: Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi).
    let (a, b) = if hi + lo > 0.0 { (-lo, -hi) } else { (hi, lo) };
    let la = ln_norm_cdf(a);
    let lb = ln_norm_cdf(b);
    la + (-(lb - la).exp()).ln_1p()
}

/// Scale factor making the MAD a consistent estimator of a normal standard deviation.
pub const MAD_TO_SD: f64 = 1.4826;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_quantiles_by_hand() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&xs, 0.5), 3.0);
        assert_eq!(quantile_sorted(&xs, 0.25), 2.0);
        assert_eq!(quantile_sorted(&xs, 0.75), 4.0);
        assert!((quantile_sorted(&xs, 0.05) - 1.2).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }

    #[test]
    fn weighted_quantile_by_hand() {
        // weights 1, 1, 8: the median is the heavy value
        let xs = [(1.0, 1.0), (2.0, 1.0), (3.0, 8.0)];
        assert_eq!(weighted_quantile_sorted(&xs, 0.5), 3.0);
        assert_eq!(weighted_quantile_sorted(&xs, 0.1), 1.0);
        assert_eq!(weighted_quantile_sorted(&xs, 0.2), 2.0);
    }

    #[test]
    fn normal_cdf_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((norm_cdf(1.96) - 0.975_002_1).abs() < 1e-6);
        assert!((ln_norm_cdf(-10.0) - (-53.231_285)).abs() < 1e-3);
        assert!((ln_norm_cdf(-7.9) - ln_norm_cdf(-8.1)) > 0.0);
    }

    #[test]
    fn summary_mad_by_hand() {
        let mut v: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 7.0, 100.0]
            .iter()
            .map(|&x| (x, 1.0))
            .collect();
        let s = Summary::of(&mut v, false).unwrap();
        assert_eq!(s.grid[5], 4.0);
        // |dev| = 3, 2, 0, 3, 96 -> sorted 0 2 3 3 96 -> median 3
        assert_eq!(s.mad, 3.0);
        assert_eq!(s.n, 5);
        assert_eq!(percentile_in_grid(&s.grid, 4.0), 50.0);
        assert_eq!(percentile_in_grid(&s.grid, 0.5), 0.0);
    }
}
