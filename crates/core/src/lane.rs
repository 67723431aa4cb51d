//! The one lane model of Borderline: [`Lane`] and the capacity rule every front end uses
//! (`score`, `select`, the service and the stream workers).
//!
//! **Capacity rule.** A lane share of `p` % over `n` declarations decided together allows
//! [`capacity_count`]`(n, p) = floor(n x p / 100)` declarations: a capacity is a ceiling and never
//! rounds up. A small batch therefore gets fewer (possibly no) red declarations from a share: 5% of
//! 10 declarations is 0. Scoring a declaration on its own (a stream) uses absolute score
//! thresholds instead, so that its lane does not depend on what else is in the batch.

use serde::{Deserialize, Serialize};

/// Selectivity lane of a declaration.
///
/// Targeting's model fills red, yellow and green by rank; analysts' rules can also route a
/// declaration to blue (post-clearance audit rather than a check at the border).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Physical inspection.
    Red,
    /// Documentary check.
    Yellow,
    /// Post-clearance audit: released now, audited later.
    Blue,
    /// Release.
    Green,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Red => "red",
            Lane::Yellow => "yellow",
            Lane::Blue => "blue",
            Lane::Green => "green",
        }
    }

    /// Whether an officer checks the declaration before release (red or yellow), so that its
    /// inspection outcome is observed.
    pub fn is_inspection(self) -> bool {
        matches!(self, Lane::Red | Lane::Yellow)
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declarations a share of `percent` % of `n` allows: `floor(n x percent / 100)`, at most `n`.
/// The small epsilon keeps shares such as 29% of 100 (28.999... in binary) at 29.
pub fn capacity_count(n: usize, percent: f64) -> usize {
    // NaN and non-positive shares allow nothing.
    if percent.is_nan() || percent <= 0.0 {
        return 0;
    }
    (((n as f64) * percent / 100.0 + 1e-9).floor().max(0.0) as usize).min(n)
}

/// Ranks a scored batch (probability descending, ties by declaration id ascending) and gives the
/// top `red_percent` % red and the next `yellow_percent` % yellow under [`capacity_count`].
/// Returns `(rank order, lane per declaration)`.
pub fn lanes_by_rank(
    probabilities: &[f64],
    ids: &[&str],
    red_percent: f64,
    yellow_percent: f64,
) -> (Vec<usize>, Vec<Lane>) {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then_with(|| ids[a].cmp(ids[b]))
    });
    let n = order.len();
    let red = capacity_count(n, red_percent);
    let yellow_end = capacity_count(n, red_percent + yellow_percent).max(red);
    let mut lanes = vec![Lane::Green; n];
    for (rank, &i) in order.iter().enumerate() {
        lanes[i] = if rank < red {
            Lane::Red
        } else if rank < yellow_end {
            Lane::Yellow
        } else {
            Lane::Green
        };
    }
    (order, lanes)
}

/// A lane name that is not red, yellow, blue or green.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane {0:?} (expected red, yellow, blue or green)")]
pub struct UnknownLane(pub String);

impl std::str::FromStr for Lane {
    type Err = UnknownLane;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "red" => Ok(Lane::Red),
            "yellow" => Ok(Lane::Yellow),
            "blue" => Ok(Lane::Blue),
            "green" => Ok(Lane::Green),
            _ => Err(UnknownLane(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_parse_case_insensitively_and_round_trip() {
        for lane in Lane::ALL {
            assert_eq!(lane.as_str().to_uppercase().parse::<Lane>(), Ok(lane));
        }
        assert!("orange".parse::<Lane>().is_err());
        assert!(Lane::Red.is_inspection() && !Lane::Blue.is_inspection());
    }

    #[test]
    fn capacities_are_ceilings_and_small_batches_get_none() {
        assert_eq!(capacity_count(8481, 5.0), 424);
        assert_eq!(capacity_count(100, 29.0), 29);
        assert_eq!(capacity_count(10, 5.0), 0);
        assert_eq!(capacity_count(20, 5.0), 1);
        assert_eq!(capacity_count(5, 0.0), 0);
        assert_eq!(capacity_count(5, 200.0), 5);
        assert_eq!(capacity_count(5, f64::NAN), 0);
    }

    #[test]
    fn rank_lanes_break_ties_by_id_and_respect_both_capacities() {
        let p = [0.9, 0.9, 0.1, 0.5, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8];
        let ids = ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j"];
        let (order, lanes) = lanes_by_rank(&p, &ids, 10.0, 20.0);
        assert_eq!(order[..2], [1, 0]);
        assert_eq!(lanes[1], Lane::Red);
        assert_eq!(lanes[0], Lane::Yellow);
        assert_eq!(lanes[9], Lane::Yellow);
        assert_eq!(lanes.iter().filter(|l| **l == Lane::Red).count(), 1);
        assert_eq!(lanes.iter().filter(|l| **l == Lane::Green).count(), 7);
    }
}
