//! Branch-free, lane-interleaved tree traversal: the fast path behind
//! [`crate::trees::Ensemble::raw_scores_block`] for models whose trees are too deep to pad
//! into complete binary trees.
//!
//! Why this and not a bitvector (QuickScorer) traversal: on the default model (about 1,300
//! trees of 63 leaves, median depth 15) a declaration visits about 5 nodes per tree, while
//! QuickScorer must test every node whose threshold the value exceeds (about half of all 80,000
//! nodes) and then find each tree's exit leaf. The pointer walk itself is cheap; what makes it
//! slow is one branch misprediction per node and the latency of dependent loads. Here:
//!
//! - every tree's leaves are nodes too, holding the leaf value and pointing at the next tree's
//!   root, so a declaration's walk through a group of trees is one uninterrupted chain of
//!   identical steps `node -> child` that adds each node's value (internal nodes add `-0.0`,
//!   the exact additive identity, so sums are bit-identical to adding leaf values tree by tree);
//! - the child is chosen by a compare and a select, never a branch;
//! - `LANES` declarations walk at once, so the CPU overlaps their independent load chains; a
//!   lane that finishes its group takes the next declaration of the block (checked every
//!   few steps, a rarely taken branch);
//! - trees are cut into groups of about [`GROUP_BYTES`] of nodes, and the whole block passes
//!   through one group before the next, so the group's nodes stay in the core's cache.
//!
//! Thresholds are stored as the largest f32 not above LightGBM's f64 threshold, so the f32
//! compare decides exactly as LightGBM's f64 one (see [`crate::trees`]).

/// LightGBM `decision_type` bits (see `trees.rs`).
const DEFAULT_LEFT: u8 = 2;
const MISSING_SHIFT: u8 = 2;
const MISSING_ZERO: u8 = 1;
const MISSING_NAN: u8 = 2;
/// LightGBM's `kZeroThreshold`: values this close to zero count as zero.
const ZERO_THRESHOLD: f64 = 1e-35;

/// Declarations walked at once. 16 independent chains hide the load latency on the machines
/// measured (BENCHMARKS.md, "Targeting at the hardware limit").
pub const LANES: usize = 16;

/// Target size of one group's nodes: well inside a core's L2 cache, beside the block's
/// feature rows.
pub const GROUP_BYTES: usize = 96 * 1024;

/// Steps between checks for lanes that finished their group.
const CHECK_EVERY: usize = 8;

/// Feature-word flags.
const NAN_RIGHT: u32 = 1 << 31;
const ZERO_MISSING: u32 = 1 << 30;
const FEATURE_MASK: u32 = (1 << 30) - 1;

/// One step of the chain: a split, a leaf (both children are the next tree's root) or the
/// group's end (a self-loop).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    /// Leaf value, or `-0.0` for splits and the end.
    value: f64,
    /// Largest f32 `<=` the split's f64 threshold.
    threshold: f32,
    /// Feature index, with [`NAN_RIGHT`] (where NaN goes) and [`ZERO_MISSING`] (values within
    /// [`ZERO_THRESHOLD`] of zero also go the default way).
    feature: u32,
    left: u32,
    right: u32,
}

/// The trees of one ensemble laid out as chains of [`Step`]s, one chain per group.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneForest {
    steps: Vec<Step>,
    /// Per group: index of its first tree's root and of its end step.
    groups: Vec<(u32, u32)>,
    num_features: usize,
    /// Some split treats zero as missing: the walk needs the extra zero test.
    zero_missing: bool,
}

/// What [`LaneForest::build`] needs of one tree (LightGBM's arrays; children `>= 0` are
/// internal nodes, `< 0` leaves `!leaf`).
pub struct TreeView<'a> {
    pub split_feature: &'a [u32],
    pub threshold: &'a [f64],
    pub decision_type: &'a [u8],
    pub left_child: &'a [i32],
    pub right_child: &'a [i32],
    pub leaf_value: &'a [f64],
}

/// Largest f32 that is `<= t`.
pub fn f32_at_or_below(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) <= t || r.is_nan() {
        return r;
    }
    if r == 0.0 {
        -f32::from_bits(1)
    } else if r > 0.0 {
        f32::from_bits(r.to_bits() - 1)
    } else {
        f32::from_bits(r.to_bits() + 1)
    }
}

impl LaneForest {
    /// Lays the trees out in groups of about `group_bytes`. `None` when the ensemble cannot be
    /// indexed in 30-bit features or 32-bit steps (never for real models).
    pub fn build(trees: &[TreeView<'_>], num_features: usize, group_bytes: usize) -> Option<Self> {
        if num_features == 0 || num_features > FEATURE_MASK as usize {
            return None;
        }
        let total: usize = trees
            .iter()
            .map(|t| t.split_feature.len() + t.leaf_value.len())
            .sum::<usize>()
            + trees.len();
        if total >= u32::MAX as usize / 2 {
            return None;
        }
        let per_group = (group_bytes / std::mem::size_of::<Step>()).max(1);
        let mut steps: Vec<Step> = Vec::with_capacity(total);
        let mut groups = Vec::new();
        let mut zero_missing = false;
        let mut t = 0;
        while t < trees.len() {
            // Take trees until the group is full (at least one tree per group).
            let mut end = t;
            let mut size = 0;
            while end < trees.len() {
                let s = trees[end].split_feature.len() + trees[end].leaf_value.len();
                if end > t && size + s > per_group {
                    break;
                }
                size += s;
                end += 1;
            }
            let first = steps.len() as u32;
            // Roots are laid out in order; a tree's leaves point at the next tree's root, the
            // last tree's at the group's end step.
            let mut roots = Vec::with_capacity(end - t + 1);
            let mut at = steps.len();
            for tree in &trees[t..end] {
                roots.push(at as u32);
                at += tree.split_feature.len() + tree.leaf_value.len();
            }
            let end_step = at as u32;
            roots.push(end_step);
            for (k, tree) in trees[t..end].iter().enumerate() {
                zero_missing |= lay_out(tree, num_features, roots[k], roots[k + 1], &mut steps)?;
            }
            steps.push(Step {
                value: -0.0,
                threshold: 0.0,
                feature: 0,
                left: end_step,
                right: end_step,
            });
            groups.push((first, end_step));
            t = end;
        }
        Some(LaneForest {
            steps,
            groups,
            num_features,
            zero_missing,
        })
    }

    /// Adds each row's raw score (rows of `num_features` in `xs`, row-major) into `out`,
    /// tree by tree in model order, exactly as the pointer walk does.
    pub fn add_block(&self, xs: &[f32], out: &mut [f64]) {
        if self.zero_missing {
            self.add_block_lanes::<true>(xs, out);
        } else {
            self.add_block_lanes::<false>(xs, out);
        }
    }

    fn add_block_lanes<const ZERO: bool>(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        let rows = out.len().min(xs.len() / nf);
        if rows == 0 {
            return;
        }
        let zero_band = f32_at_or_below(ZERO_THRESHOLD);
        let steps = &self.steps[..];
        for &(root, end) in &self.groups {
            let mut at = [end; LANES];
            let mut base = [0usize; LANES];
            let mut row = [usize::MAX; LANES];
            let mut acc = [0.0f64; LANES];
            let mut next_row = 0;
            for k in 0..LANES.min(rows) {
                at[k] = root;
                base[k] = k * nf;
                row[k] = k;
                acc[k] = out[k];
                next_row += 1;
            }
            loop {
                for _ in 0..CHECK_EVERY {
                    for k in 0..LANES {
                        let s = steps[at[k] as usize];
                        let v = xs[base[k] + (s.feature & FEATURE_MASK) as usize];
                        let nan_right = s.feature & NAN_RIGHT != 0;
                        let right = if ZERO {
                            let special = v.is_nan()
                                | ((s.feature & ZERO_MISSING != 0) & (v.abs() <= zero_band));
                            (special & nan_right) | (!special & (v > s.threshold))
                        } else {
                            (v > s.threshold) | (v.is_nan() & nan_right)
                        };
                        at[k] = if right { s.right } else { s.left };
                        acc[k] += s.value;
                    }
                }
                let mut busy = false;
                for k in 0..LANES {
                    if at[k] == end {
                        if row[k] != usize::MAX {
                            out[row[k]] = acc[k];
                            row[k] = usize::MAX;
                        }
                        if next_row < rows {
                            at[k] = root;
                            base[k] = next_row * nf;
                            row[k] = next_row;
                            acc[k] = out[next_row];
                            next_row += 1;
                        }
                    }
                    busy |= at[k] != end;
                }
                if !busy {
                    break;
                }
            }
        }
    }

    /// Steps (nodes and leaves) in the layout, for reports.
    pub fn num_steps(&self) -> usize {
        self.steps.len()
    }

    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }
}

/// Appends `tree`'s nodes (pre-order from `root_at`) and then its leaves; leaves lead to
/// `next`. Returns whether some split treats zero as missing, `None` on malformed trees.
fn lay_out(
    tree: &TreeView<'_>,
    num_features: usize,
    root_at: u32,
    next: u32,
    steps: &mut Vec<Step>,
) -> Option<bool> {
    let internal = tree.split_feature.len();
    let leaf_base = root_at as usize + internal;
    let start = steps.len();
    debug_assert_eq!(start, root_at as usize);
    steps.resize(
        start + internal + tree.leaf_value.len(),
        Step {
            value: -0.0,
            threshold: 0.0,
            feature: 0,
            left: next,
            right: next,
        },
    );
    // Nodes keep LightGBM's numbering (node 0 is the root), which already puts a tree's
    // nodes close together; the walk does not need pre-order.
    let place = |c: i32| -> Option<u32> {
        if c >= 0 {
            ((c as usize) < internal).then_some(root_at + c as u32)
        } else {
            ((!c as usize) < tree.leaf_value.len()).then_some((leaf_base + !c as usize) as u32)
        }
    };
    let mut zero_missing = false;
    for n in 0..internal {
        let d = *tree.decision_type.get(n)?;
        let t = *tree.threshold.get(n)?;
        let feature = *tree.split_feature.get(n)?;
        if feature as usize >= num_features {
            return None;
        }
        let missing = (d >> MISSING_SHIFT) & 3;
        // NaN goes the default way for NaN- and zero-missing splits; otherwise LightGBM reads
        // NaN as 0.
        let nan_right = if missing == MISSING_NAN || missing == MISSING_ZERO {
            d & DEFAULT_LEFT == 0
        } else {
            !(0.0 <= t)
        };
        zero_missing |= missing == MISSING_ZERO;
        let mut word = feature;
        if nan_right {
            word |= NAN_RIGHT;
        }
        if missing == MISSING_ZERO {
            word |= ZERO_MISSING;
        }
        steps[start + n] = Step {
            value: -0.0,
            threshold: f32_at_or_below(t),
            feature: word,
            left: place(*tree.left_child.get(n)?)?,
            right: place(*tree.right_child.get(n)?)?,
        };
    }
    for (l, &v) in tree.leaf_value.iter().enumerate() {
        steps[leaf_base + l].value = v;
    }
    if internal == 0 && tree.leaf_value.is_empty() {
        return None;
    }
    Some(zero_missing)
}
