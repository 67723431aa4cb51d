//! Final lanes: model score, analyst rule hits, a random share and an exploration share,
//! under a capacity per lane.
//!
//! For `n` declarations every share becomes a count by `floor(n x share / 100)` ([`count`]):
//! a capacity never rounds up, so a lane never holds more than its share. The lanes are filled
//! in this order (documented in docs/governance.md, tested below):
//!
//! 1. **Random** (red): exactly `random` declarations drawn uniformly without replacement with
//!    ChaCha8 seeded by `seed`, over the declarations sorted by id, so the draw depends neither
//!    on the input order nor on scores or rules. These give the unbiased hit rate.
//! 2. **Rules** (red, then yellow, then blue): each declaration with rule hits goes to the lane
//!    of its deciding hit (highest priority, then most severe lane, then file order). Rule
//!    candidates of a lane are taken by priority, then score; red rule hits use the red slots
//!    left after the random and exploration reservations, and those that do not fit move down
//!    to the yellow candidates, then to blue (over capacity in every lane they are released
//!    with their rule reason recorded). A `lane green` hit releases the declaration: it takes no
//!    score or exploration slot (trusted-trader rules), though it can still be drawn at random.
//! 3. **Exploration** (red): exactly `explore` not-yet-selected declarations with the highest
//!    uncertainty the caller supplies (e.g. [`score_uncertainty`], or 1 for an unseen importer),
//!    so the model also learns where it knows least.
//! 4. **Score** (red, yellow, blue): the remaining slots of each lane by risk score, highest
//!    first, ties broken by declaration id.
//! 5. Everything else is green (released).
//!
//! Random and exploration shares are part of the red capacity (physical inspection gives the
//! outcome they are for), so `random + explore <= red` is required.

use crate::rules::RuleHit;
use borderline_core::Lane;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// Lane shares in percent of the declarations selected together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
    /// Random share, inside the red capacity.
    pub random: f64,
    /// Exploration share, inside the red capacity.
    pub explore: f64,
    pub seed: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            red: 2.0,
            yellow: 5.0,
            blue: 1.0,
            random: 0.5,
            explore: 1.0,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("{name} share {value}% must be between 0% and 100%")]
    OutOfRange { name: &'static str, value: f64 },
    #[error("red + yellow + blue = {0}% exceeds 100% of declarations")]
    OverCommitted(f64),
    #[error(
        "random ({random}%) + exploration ({explore}%) must fit inside the red capacity ({red}%)"
    )]
    ReservationExceedsRed { random: f64, explore: f64, red: f64 },
}

impl Policy {
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (name, value) in [
            ("red", self.red),
            ("yellow", self.yellow),
            ("blue", self.blue),
            ("random", self.random),
            ("explore", self.explore),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(PolicyError::OutOfRange { name, value });
            }
        }
        let total = self.red + self.yellow + self.blue;
        if total > 100.0 + 1e-9 {
            return Err(PolicyError::OverCommitted(total));
        }
        if self.random + self.explore > self.red + 1e-9 {
            return Err(PolicyError::ReservationExceedsRed {
                random: self.random,
                explore: self.explore,
                red: self.red,
            });
        }
        Ok(())
    }
}

/// Declarations a share of `percent` % of `n` allows: the one capacity rule of
/// [`borderline_core::lane::capacity_count`].
pub use borderline_core::lane::capacity_count as count;

/// Uncertainty of a calibrated probability: 1 at 0.5, 0 at 0 or 1.
pub fn score_uncertainty(probability: f64) -> f64 {
    if probability.is_finite() {
        1.0 - (2.0 * probability - 1.0).abs()
    } else {
        0.0
    }
}

/// One declaration offered for selection.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub declaration_id: &'a str,
    /// Risk score (higher = riskier); NaN ranks last.
    pub score: f64,
    /// How little the model knows about this declaration (higher = less); NaN ranks last.
    pub uncertainty: f64,
    pub rule_hits: &'a [RuleHit],
}

/// Why a declaration got its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Random,
    Rule,
    Exploration,
    Score,
    Release,
}

/// The lane of one declaration and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub lane: Lane,
    pub basis: Basis,
    /// 1-based rank by score among all declarations selected together.
    pub score_rank: usize,
    /// The deciding rule, when rules hit.
    pub rule_id: Option<String>,
    /// One sentence for the officer and the audit log.
    pub why: String,
}

/// Deciding hit: highest priority, then most severe lane (red first), then file order.
fn deciding(hits: &[RuleHit]) -> Option<&RuleHit> {
    hits.iter()
        .enumerate()
        .min_by_key(|(i, h)| (std::cmp::Reverse(h.priority), h.lane, *i))
        .map(|(_, h)| h)
}

fn key(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x
    }
}

/// Assigns every candidate a lane under `policy` (see the module documentation for the order).
/// The result is in the order of `candidates`.
pub fn select(candidates: &[Candidate], policy: &Policy) -> Result<Vec<Selection>, PolicyError> {
    policy.validate()?;
    let n = candidates.len();
    let by_id = |a: &usize, b: &usize| {
        candidates[*a]
            .declaration_id
            .cmp(candidates[*b].declaration_id)
            .then(a.cmp(b))
    };
    let mut rank_order: Vec<usize> = (0..n).collect();
    rank_order.sort_by(|a, b| {
        key(candidates[*b].score)
            .total_cmp(&key(candidates[*a].score))
            .then_with(|| by_id(a, b))
    });
    let mut score_rank = vec![0usize; n];
    for (r, &i) in rank_order.iter().enumerate() {
        score_rank[i] = r + 1;
    }

    let capacity = |lane: Lane| match lane {
        Lane::Red => count(n, policy.red),
        Lane::Yellow => count(n, policy.yellow),
        Lane::Blue => count(n, policy.blue),
        Lane::Green => n,
    };
    let (n_random, n_explore) = (count(n, policy.random), count(n, policy.explore));
    let mut lane: Vec<Option<(Lane, Basis)>> = vec![None; n];
    let mut used = [0usize; 4];
    let slot = |l: Lane| l as usize;

    // 1. Random, over id order so that the input order does not matter.
    let mut id_order: Vec<usize> = (0..n).collect();
    id_order.sort_by(by_id);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(policy.seed);
    for k in rand::seq::index::sample(&mut rng, n, n_random.min(n)) {
        lane[id_order[k]] = Some((Lane::Red, Basis::Random));
    }
    used[slot(Lane::Red)] = n_random;

    // 2. Rules.
    let decided: Vec<Option<&RuleHit>> = candidates.iter().map(|c| deciding(c.rule_hits)).collect();
    let released_by_rule = |i: usize| matches!(decided[i], Some(h) if h.lane == Lane::Green);
    let mut overflow: Vec<usize> = Vec::new();
    for l in [Lane::Red, Lane::Yellow, Lane::Blue] {
        let mut queue: Vec<usize> = (0..n)
            .filter(|&i| lane[i].is_none() && matches!(decided[i], Some(h) if h.lane == l))
            .chain(overflow.drain(..))
            .collect();
        queue.sort_by(|&a, &b| {
            let pa = decided[a].map_or(0, |h| h.priority);
            let pb = decided[b].map_or(0, |h| h.priority);
            pb.cmp(&pa).then(score_rank[a].cmp(&score_rank[b]))
        });
        let reserved = if l == Lane::Red { n_explore } else { 0 };
        let free = capacity(l).saturating_sub(used[slot(l)] + reserved);
        for (k, i) in queue.into_iter().enumerate() {
            if k < free {
                lane[i] = Some((l, Basis::Rule));
                used[slot(l)] += 1;
            } else {
                overflow.push(i);
            }
        }
    }

    // 3. Exploration.
    let mut explore: Vec<usize> = (0..n)
        .filter(|&i| lane[i].is_none() && !released_by_rule(i))
        .collect();
    explore.sort_by(|&a, &b| {
        key(candidates[b].uncertainty)
            .total_cmp(&key(candidates[a].uncertainty))
            .then_with(|| by_id(&a, &b))
    });
    let explore_slots = n_explore.min(capacity(Lane::Red).saturating_sub(used[slot(Lane::Red)]));
    for &i in explore.iter().take(explore_slots) {
        lane[i] = Some((Lane::Red, Basis::Exploration));
        used[slot(Lane::Red)] += 1;
    }

    // 4. Score, lane by lane.
    let mut next = rank_order
        .iter()
        .copied()
        .filter(|&i| !released_by_rule(i))
        .peekable();
    for l in [Lane::Red, Lane::Yellow, Lane::Blue] {
        while used[slot(l)] < capacity(l) {
            let Some(i) = next.next() else { break };
            if lane[i].is_none() {
                lane[i] = Some((l, Basis::Score));
                used[slot(l)] += 1;
            }
        }
    }

    Ok((0..n)
        .map(|i| {
            let (l, basis) = lane[i].unwrap_or((Lane::Green, Basis::Release));
            let hit = decided[i];
            let why = match basis {
                Basis::Random => format!(
                    "selected at random ({}% random share, seed {}) for unbiased measurement",
                    policy.random, policy.seed
                ),
                Basis::Rule => match hit {
                    Some(h) => format!("analyst rule {}: {}", h.rule_id, h.reason.text),
                    None => "analyst rule".to_string(),
                },
                Basis::Exploration => format!(
                    "exploration: among the {} declarations the model knows least (uncertainty {:.2})",
                    n_explore, candidates[i].uncertainty
                ),
                Basis::Score => format!(
                    "risk score rank {} of {n} within the {l} lane capacity",
                    score_rank[i]
                ),
                Basis::Release => match hit {
                    Some(h) if h.lane == Lane::Green => {
                        format!("released by analyst rule {}: {}", h.rule_id, h.reason.text)
                    }
                    Some(h) => format!(
                        "released: analyst rule {} asked for {} but every lane was at capacity",
                        h.rule_id, h.lane
                    ),
                    None => format!("released: risk score rank {} of {n}", score_rank[i]),
                },
            };
            Selection {
                lane: l,
                basis,
                score_rank: score_rank[i],
                rule_id: hit.map(|h| h.rule_id.clone()),
                why,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use borderline_core::{Reason, ReasonKind};

    fn hit(id: &str, lane: Lane, priority: i64) -> RuleHit {
        RuleHit {
            rule_id: id.into(),
            priority,
            lane,
            reason: Reason {
                kind: ReasonKind::Rule,
                code: id.into(),
                text: format!("reason {id}"),
                contribution: None,
            },
        }
    }

    struct Batch {
        ids: Vec<String>,
        scores: Vec<f64>,
        uncertainty: Vec<f64>,
        hits: Vec<Vec<RuleHit>>,
    }

    impl Batch {
        /// `n` declarations with distinct pseudo-random scores.
        fn new(n: usize) -> Batch {
            let scores: Vec<f64> = (0..n)
                .map(|i| ((i as u64 * 2_654_435_761) % 1_000_003) as f64 / 1_000_003.0)
                .collect();
            Batch {
                ids: (0..n).map(|i| format!("D{i:06}")).collect(),
                uncertainty: scores.iter().map(|s| score_uncertainty(*s)).collect(),
                scores,
                hits: vec![Vec::new(); n],
            }
        }
        fn candidates(&self) -> Vec<Candidate<'_>> {
            (0..self.ids.len())
                .map(|i| Candidate {
                    declaration_id: &self.ids[i],
                    score: self.scores[i],
                    uncertainty: self.uncertainty[i],
                    rule_hits: &self.hits[i],
                })
                .collect()
        }
    }

    fn lanes(sel: &[Selection], lane: Lane) -> usize {
        sel.iter().filter(|s| s.lane == lane).count()
    }

    fn basis(sel: &[Selection], b: Basis) -> usize {
        sel.iter().filter(|s| s.basis == b).count()
    }

    #[test]
    fn capacity_counts_are_floors() {
        assert_eq!(count(1000, 2.0), 20);
        assert_eq!(count(1000, 0.5), 5);
        assert_eq!(count(999, 0.5), 4);
        assert_eq!(count(100, 29.0), 29);
        assert_eq!(count(10, 5.0), 0);
        assert_eq!(count(0, 5.0), 0);
        assert_eq!(count(7, 100.0), 7);
    }

    #[test]
    fn capacities_and_random_share_are_respected_exactly() {
        for n in [0, 1, 99, 200, 1000, 1234, 10_007] {
            let b = Batch::new(n);
            let policy = Policy {
                red: 2.0,
                yellow: 5.0,
                blue: 1.0,
                random: 0.5,
                explore: 1.0,
                seed: 42,
            };
            let sel = select(&b.candidates(), &policy).expect("valid policy");
            assert_eq!(sel.len(), n);
            assert_eq!(lanes(&sel, Lane::Red), count(n, 2.0), "n={n}");
            assert_eq!(lanes(&sel, Lane::Yellow), count(n, 5.0), "n={n}");
            assert_eq!(lanes(&sel, Lane::Blue), count(n, 1.0), "n={n}");
            assert_eq!(basis(&sel, Basis::Random), count(n, 0.5), "n={n}");
            assert_eq!(basis(&sel, Basis::Exploration), count(n, 1.0), "n={n}");
            assert_eq!(
                basis(&sel, Basis::Score),
                count(n, 2.0) - count(n, 0.5) - count(n, 1.0) + count(n, 5.0) + count(n, 1.0)
            );
        }
    }

    #[test]
    fn score_fills_lanes_in_rank_order() {
        let b = Batch::new(1000);
        let policy = Policy {
            red: 3.0,
            yellow: 5.0,
            blue: 2.0,
            random: 0.0,
            explore: 0.0,
            seed: 1,
        };
        let sel = select(&b.candidates(), &policy).expect("valid");
        for s in &sel {
            let expected = match s.score_rank {
                1..=30 => Lane::Red,
                31..=80 => Lane::Yellow,
                81..=100 => Lane::Blue,
                _ => Lane::Green,
            };
            assert_eq!(s.lane, expected, "{s:?}");
        }
        assert!(sel
            .iter()
            .any(|s| s.why.contains("risk score rank 1 of 1000")));
    }

    #[test]
    fn random_draw_is_deterministic_for_a_seed_and_independent_of_input_order() {
        let b = Batch::new(2000);
        let policy = Policy {
            random: 1.0,
            ..Policy::default()
        };
        let picked = |b: &Batch, p: &Policy| -> Vec<String> {
            let sel = select(&b.candidates(), p).expect("valid");
            let mut ids: Vec<String> = (0..b.ids.len())
                .filter(|&i| sel[i].basis == Basis::Random)
                .map(|i| b.ids[i].clone())
                .collect();
            ids.sort();
            ids
        };
        let first = picked(&b, &policy);
        assert_eq!(first.len(), 20);
        assert_eq!(first, picked(&b, &policy));
        let mut reversed = Batch::new(2000);
        reversed.ids.reverse();
        reversed.scores.reverse();
        reversed.uncertainty.reverse();
        assert_eq!(first, picked(&reversed, &policy));
        let other = picked(&b, &Policy { seed: 7, ..policy });
        assert_ne!(first, other);
        // Not simply the riskiest: random picks spread over the score ranking.
        let sel = select(&b.candidates(), &policy).expect("valid");
        let worst = sel
            .iter()
            .filter(|s| s.basis == Basis::Random)
            .map(|s| s.score_rank)
            .max();
        assert!(worst > Some(1000), "{worst:?}");
    }

    #[test]
    fn exploration_takes_the_least_certain() {
        let mut b = Batch::new(1000);
        // Declaration 500 has a low score but the model knows nothing about it.
        b.scores[500] = 0.01;
        b.uncertainty[500] = 5.0;
        let policy = Policy {
            red: 2.0,
            yellow: 0.0,
            blue: 0.0,
            random: 0.0,
            explore: 1.0,
            seed: 1,
        };
        let sel = select(&b.candidates(), &policy).expect("valid");
        assert_eq!(sel[500].basis, Basis::Exploration);
        assert_eq!(sel[500].lane, Lane::Red);
        let explored: Vec<usize> = (0..1000)
            .filter(|&i| sel[i].basis == Basis::Exploration)
            .collect();
        assert_eq!(explored.len(), 10);
        let mut rest: Vec<f64> = (0..1000)
            .filter(|i| !explored.contains(i) && sel[*i].lane == Lane::Green)
            .map(|i| b.uncertainty[i])
            .collect();
        rest.sort_by(f64::total_cmp);
        let least_explored = explored
            .iter()
            .map(|&i| b.uncertainty[i])
            .fold(f64::INFINITY, f64::min);
        assert!(rest.last().is_none_or(|m| *m <= least_explored));
    }

    #[test]
    fn rules_direct_lanes_within_capacity_and_overflow_downwards() {
        let mut b = Batch::new(1000);
        // 15 red-rule hits on low-scored declarations; red capacity 2% = 20 with 5 random and
        // 10 exploration reserved leaves 5 rule slots: the other 10 move down to yellow.
        for i in 0..15 {
            b.scores[900 + i] = 0.0001 * i as f64;
            b.hits[900 + i] = vec![hit("red-rule", Lane::Red, i as i64)];
        }
        b.hits[10] = vec![hit("trusted", Lane::Green, 0)];
        b.scores[10] = 0.999_999_9; // would otherwise be the riskiest
        b.hits[11] = vec![hit("audit", Lane::Blue, 0), hit("doc", Lane::Yellow, 0)];
        let policy = Policy {
            red: 2.0,
            yellow: 5.0,
            blue: 1.0,
            random: 0.5,
            explore: 1.0,
            seed: 3,
        };
        let sel = select(&b.candidates(), &policy).expect("valid");
        assert_eq!(lanes(&sel, Lane::Red), 20);
        assert_eq!(lanes(&sel, Lane::Yellow), 50);
        assert_eq!(lanes(&sel, Lane::Blue), 10);
        let rule_red: Vec<usize> = (900..915)
            .filter(|&i| sel[i].lane == Lane::Red && sel[i].basis == Basis::Rule)
            .collect();
        // Highest priorities win the red slots (unless drawn at random first).
        assert!(rule_red.len() <= 5);
        assert!(rule_red.iter().all(|&i| i >= 905), "{rule_red:?}");
        for (i, s) in sel.iter().enumerate().take(915).skip(900) {
            assert!(matches!(s.lane, Lane::Red | Lane::Yellow), "{i}: {s:?}");
            assert_eq!(s.rule_id.as_deref(), Some("red-rule"));
        }
        // A green rule releases even the riskiest declaration, unless drawn at random.
        if sel[10].basis != Basis::Random {
            assert_eq!((sel[10].lane, sel[10].basis), (Lane::Green, Basis::Release));
            assert!(sel[10].why.contains("released by analyst rule trusted"));
        }
        // Equal priority: the more severe lane decides.
        assert_eq!(sel[11].rule_id.as_deref(), Some("doc"));
        assert_eq!(sel[11].lane, Lane::Yellow);
    }

    #[test]
    fn green_rules_release_from_score_and_exploration_but_not_from_random() {
        let mut b = Batch::new(100);
        for h in &mut b.hits {
            *h = vec![hit("everyone-trusted", Lane::Green, 0)];
        }
        let policy = Policy {
            red: 10.0,
            yellow: 10.0,
            blue: 0.0,
            random: 5.0,
            explore: 5.0,
            seed: 1,
        };
        let sel = select(&b.candidates(), &policy).expect("valid");
        assert_eq!(basis(&sel, Basis::Random), 5);
        assert_eq!(lanes(&sel, Lane::Red), 5);
        assert_eq!(lanes(&sel, Lane::Green), 95);
    }

    #[test]
    fn invalid_policies_are_typed_errors() {
        let b = Batch::new(10);
        let bad = |p: Policy| select(&b.candidates(), &p).expect_err("invalid");
        assert!(matches!(
            bad(Policy {
                red: 120.0,
                ..Policy::default()
            }),
            PolicyError::OutOfRange { name: "red", .. }
        ));
        assert!(matches!(
            bad(Policy {
                red: 60.0,
                yellow: 50.0,
                ..Policy::default()
            }),
            PolicyError::OverCommitted(_)
        ));
        assert!(matches!(
            bad(Policy {
                red: 1.0,
                random: 0.5,
                explore: 1.0,
                ..Policy::default()
            }),
            PolicyError::ReservationExceedsRed { .. }
        ));
        assert!(matches!(
            bad(Policy {
                random: f64::NAN,
                ..Policy::default()
            }),
            PolicyError::OutOfRange { name: "random", .. }
        ));
    }
}
