//! The one lane model of Borderline: [`Lane`] and the capacity rule every front end uses
//! (`score`, `select`, the service and the stream workers).
//!
//! **Lane rule.** A declaration's lane comes from absolute score thresholds ([`LaneThresholds`]:
//! the model's scores that `p` % of declarations exceeded out of sample), so it does not depend
//! on what else is in the batch: a 20-row file and the same rows inside a large batch get the
//! same lanes ([`lanes_by_threshold`]). Capacities are ceilings on top: a lane share of `p` %
//! over `n` declarations decided together allows at most
//! [`capacity_count`]`(n, p) = floor(n x p / 100)` declarations, never rounding up (5% of 10
//! declarations is 0 red). When more declarations pass a threshold than the capacity allows, the
//! highest scores keep the lane and the rest move down one lane (red to yellow, yellow to green)
//! within the yellow ceiling. Scoring a declaration on its own (a stream) has no batch and uses
//! the thresholds alone.

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
    let order = rank_order(probabilities, ids);
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

/// Absolute probability thresholds of the red and yellow lanes (yellow <= red): a declaration
/// scoring at least `red` is red, else at least `yellow` is yellow, else green.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaneThresholds {
    pub red: f64,
    pub yellow: f64,
}

impl LaneThresholds {
    /// The lane of one probability by the thresholds alone (no capacity).
    pub fn lane(&self, probability: f64) -> Lane {
        if probability >= self.red {
            Lane::Red
        } else if probability >= self.yellow {
            Lane::Yellow
        } else {
            Lane::Green
        }
    }
}

/// Lanes of a batch decided together by absolute thresholds, with the capacities as ceilings:
/// at most [`capacity_count`]`(n, red_percent)` red and `capacity_count(n, red_percent +
/// yellow_percent)` red plus yellow; the highest-ranked declarations (probability descending,
/// ties by id ascending) keep their lane and the overflow moves down a lane. Returns `(rank
/// order, lane per declaration)` like [`lanes_by_rank`].
pub fn lanes_by_threshold(
    probabilities: &[f64],
    ids: &[&str],
    thresholds: LaneThresholds,
    red_percent: f64,
    yellow_percent: f64,
) -> (Vec<usize>, Vec<Lane>) {
    let order = rank_order(probabilities, ids);
    let n = order.len();
    let red_cap = capacity_count(n, red_percent);
    let inspect_cap = capacity_count(n, red_percent + yellow_percent).max(red_cap);
    let (mut red, mut inspected) = (0usize, 0usize);
    let mut lanes = vec![Lane::Green; n];
    for &i in &order {
        let wanted = thresholds.lane(probabilities[i]);
        let lane = match wanted {
            Lane::Red if red < red_cap => Lane::Red,
            Lane::Red | Lane::Yellow if inspected < inspect_cap => Lane::Yellow,
            _ => Lane::Green,
        };
        red += usize::from(lane == Lane::Red);
        inspected += usize::from(lane.is_inspection());
        lanes[i] = lane;
    }
    (order, lanes)
}

fn rank_order(probabilities: &[f64], ids: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then_with(|| ids[a].cmp(ids[b]))
    });
    order
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

    const T: LaneThresholds = LaneThresholds {
        red: 0.8,
        yellow: 0.5,
    };

    #[test]
    fn threshold_lanes_do_not_depend_on_the_rest_of_the_batch_when_capacity_allows() {
        // 20 declarations, one above the red threshold, two above the yellow one.
        let mut p = vec![0.1; 20];
        p[3] = 0.9;
        p[7] = 0.6;
        p[8] = 0.55;
        let ids: Vec<String> = (0..20).map(|i| format!("D{i:02}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (_, small) = lanes_by_threshold(&p, &id_refs, T, 5.0, 10.0);
        assert_eq!(small[3], Lane::Red);
        assert_eq!((small[7], small[8]), (Lane::Yellow, Lane::Yellow));
        assert_eq!(small.iter().filter(|l| **l == Lane::Green).count(), 17);
        // The same rows inside 2,000 low-risk declarations get the same lanes.
        let mut big_p = p.clone();
        big_p.extend(std::iter::repeat_n(0.05, 1980));
        let big_ids: Vec<String> = (0..2000).map(|i| format!("D{i:04}")).collect();
        let big_refs: Vec<&str> = big_ids.iter().map(String::as_str).collect();
        let (_, big) = lanes_by_threshold(&big_p, &big_refs, T, 5.0, 10.0);
        assert_eq!(&big[..20], &small[..]);
        // By rank, the small batch would put its top declaration red whatever its score.
        let low = vec![0.1; 20];
        let (_, by_rank) = lanes_by_rank(&low, &id_refs, 5.0, 10.0);
        assert!(by_rank.contains(&Lane::Red));
        let (_, by_threshold) = lanes_by_threshold(&low, &id_refs, T, 5.0, 10.0);
        assert!(by_threshold.iter().all(|l| *l == Lane::Green));
    }

    #[test]
    fn capacities_are_ceilings_on_threshold_lanes_and_the_overflow_moves_down_a_lane() {
        // All 20 above the red threshold: 1 red (5%), 2 yellow (up to 15%), the rest green.
        let p: Vec<f64> = (0..20).map(|i| 0.99 - i as f64 * 0.001).collect();
        let ids: Vec<String> = (0..20).map(|i| format!("D{i:02}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (order, lanes) = lanes_by_threshold(&p, &id_refs, T, 5.0, 10.0);
        assert_eq!(lanes[order[0]], Lane::Red);
        assert_eq!(lanes.iter().filter(|l| **l == Lane::Red).count(), 1);
        assert_eq!(lanes.iter().filter(|l| **l == Lane::Yellow).count(), 2);
        // 10 declarations: 5% allows no red at all, whatever the scores.
        let (_, ten) = lanes_by_threshold(&p[..10], &id_refs[..10], T, 5.0, 10.0);
        assert!(!ten.contains(&Lane::Red));
        assert_eq!(ten.iter().filter(|l| **l == Lane::Yellow).count(), 1);
    }
}
