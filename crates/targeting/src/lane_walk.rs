//! Branch-free, lane-interleaved tree traversal: the fast path behind
//! [`crate::trees::Ensemble::raw_scores_block`].
//!
//! Why this and not a bitvector (QuickScorer) traversal: on issue 17's default model (3,104 trees of
//! 63 leaves, median depth 15) a declaration visits about 5 nodes per tree, while QuickScorer
//! must test every node whose threshold the value exceeds (about half of all 192,000 nodes;
//! nearly all of them for the largest value of the rows scanned together) and then find each
//! tree's exit leaf. [`crate::quick_scorer`] is that traversal, built and measured: 0.7x to
//! 0.8x this walk's rate (BENCHMARKS.md). The pointer walk itself is cheap; what makes it
//! slow is one branch misprediction per node and the latency of dependent loads. Here:
//!
//! - a split whose child is a leaf leads straight to the next tree's root and adds the leaf's
//!   value, so a declaration's walk through a group of trees is one uninterrupted chain of
//!   identical steps `split -> child` that each add a value (`-0.0` towards a split: the exact
//!   additive identity, so sums are bit-identical to adding leaf values tree by tree);
//! - the child is chosen by a compare and a shift, never a branch; the compare is the only
//!   test: each row is copied with its missing values replaced by `-inf` or `+inf` (the side
//!   they go to), and each split reads the copy of its missing-value rule
//!   (`LaneForest::walk_columns`; 1.15x to 1.2x on the 127-leaf default, BENCHMARKS.md);
//! - `LANES` declarations walk at once, so the CPU overlaps their independent load chains; a
//!   lane that finishes its group takes the next declaration of the block (checked every
//!   few steps, a rarely taken branch);
//! - trees are cut into groups of at most [`GROUP_STEPS`] splits, and the whole block passes
//!   through one group before the next, so the group's steps stay in the core's cache.
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

/// Declarations walked at once: enough independent chains to hide the load latency, few
/// enough that the lanes' state stays in registers (8 measured fastest, BENCHMARKS.md).
pub const LANES: usize = 8;

/// Steps per group (a power of two, so a masked index needs no bounds check): 2,048 steps of
/// 16 bytes plus their two values take 64 KB, well inside the L2 cache (2,048 measured faster
/// than 1,024 and 4,096).
pub const GROUP_STEPS: usize = 2048;

/// Steps between checks for lanes that finished their group.
const CHECK_EVERY: usize = 8;

/// Feature-word flags.
const NAN_RIGHT: u32 = 1 << 31;
const ZERO_MISSING: u32 = 1 << 30;

/// One step of the chain: a split (a stump is a split whose both sides add its leaf) or the
/// group's end (a self-loop). Children are indices in the group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Step {
    /// Largest f32 `<=` the split's f64 threshold.
    threshold: f32,
    /// With [`LaneForest::columns`]: the column of the row copy the split reads (the copy
    /// where its missing values stand at the side they go to). Without: the feature index, with
    /// [`NAN_RIGHT`] (where NaN goes) and [`ZERO_MISSING`] (values within [`ZERO_THRESHOLD`] of
    /// zero also go the default way).
    feature: u32,
    /// Left child in the low, right child in the high 16 bits: the comparison's outcome picks
    /// one by a shift, so the choice never becomes a branch (nor a round trip through memory).
    children: u32,
}

/// A group of trees: steps and, at the same index, the value each step adds (the leaf value,
/// `-0.0` for splits and the end).
#[derive(Debug, Clone, PartialEq)]
struct Group {
    steps: Box<[Step; GROUP_STEPS]>,
    /// Per step, what going left and right adds: the leaf value when that child is a leaf
    /// (the step then leads to the next tree's root), `-0.0` otherwise.
    values: Box<[[f64; 2]; GROUP_STEPS]>,
    end: u16,
}

/// The trees of one ensemble laid out as chains of [`Step`]s, one chain per group (the first
/// tree's root at index 0).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneForest {
    groups: Vec<Group>,
    num_features: usize,
    /// Some split treats zero as missing: the walk needs the extra zero test (or, with
    /// `columns`, the two zero-missing copies of the row).
    zero_missing: bool,
    /// How many copies of each row the walk reads (see [`LaneForest::walk_columns`]): 2, or 4
    /// when some split treats zero as missing; 0 when some threshold is NaN or `+inf` (where
    /// `+inf` standing for "missing, goes right" would not go right), and the walk tests
    /// missing values at every step instead ([`LaneForest::walk`]).
    columns: usize,
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

/// The eight lanes of a walk through one group of trees: the step each lane is at, the padded
/// row it reads, which row that is (`usize::MAX`: none) and its running sum. Shared by both
/// walks, which differ only in how a step compares.
struct Lanes<'a, const S: usize> {
    at: [u16; LANES],
    x: [&'a [f32; S]; LANES],
    row: [usize; LANES],
    acc: [f64; LANES],
    next_row: usize,
}

impl<'a, const S: usize> Lanes<'a, S> {
    /// The first rows (up to eight) at the group's first step, each starting from its sum so
    /// far in `out`; idle lanes read `idle` and sit at `end`.
    #[inline(always)]
    fn start(end: u16, idle: &'a [f32; S], padded: &'a [[f32; S]], out: &[f64]) -> Self {
        let mut lanes = Lanes {
            at: [end; LANES],
            x: [idle; LANES],
            row: [usize::MAX; LANES],
            acc: [0.0f64; LANES],
            next_row: 0,
        };
        for k in 0..LANES.min(padded.len()) {
            lanes.at[k] = 0;
            lanes.x[k] = &padded[k];
            lanes.row[k] = k;
            lanes.acc[k] = out[k];
            lanes.next_row += 1;
        }
        lanes
    }

    /// Writes the sum of every lane that reached `end` and gives it the next row. False when
    /// every lane is idle (the group is done for all rows).
    #[inline(always)]
    fn refill(&mut self, end: u16, padded: &'a [[f32; S]], out: &mut [f64]) -> bool {
        let mut busy = false;
        for k in 0..LANES {
            if self.at[k] == end {
                if self.row[k] != usize::MAX {
                    out[self.row[k]] = self.acc[k];
                    self.row[k] = usize::MAX;
                }
                if self.next_row < padded.len() {
                    self.at[k] = 0;
                    self.x[k] = &padded[self.next_row];
                    self.row[k] = self.next_row;
                    self.acc[k] = out[self.next_row];
                    self.next_row += 1;
                }
            }
            busy |= self.at[k] != end;
        }
        busy
    }
}

impl LaneForest {
    /// Lays the trees out in groups of at most [`GROUP_STEPS`] steps. `None` when a tree does
    /// not fit a group, a split's feature is out of range, or there are more than 1,024
    /// features (the row stride the walk is compiled for).
    pub fn build(trees: &[TreeView<'_>], num_features: usize) -> Option<Self> {
        if num_features == 0 || num_features > MAX_STRIDE {
            return None;
        }
        // Missing values become -inf or +inf in the row copies, which every threshold but NaN and
        // +inf (as an f32 at or below LightGBM's f64 threshold) compares as the default side;
        // with those, the walk tests missing values at every step, as before the copies.
        let finite = trees.iter().all(|t| {
            t.threshold.iter().all(|&x| {
                let f = f32_at_or_below(x);
                !f.is_nan() && f != f32::INFINITY
            })
        });
        let any_zero = trees.iter().any(|t| {
            t.decision_type
                .iter()
                .any(|&d| (d >> MISSING_SHIFT) & 3 == MISSING_ZERO)
        });
        let columns = match (finite, any_zero) {
            (false, _) => 0,
            (true, false) => 2,
            (true, true) => 4,
        };
        let mut groups = Vec::new();
        let mut zero_missing = false;
        let mut t = 0;
        while t < trees.len() {
            // Take trees while they fit, keeping one step for the end.
            let mut end = t;
            let mut size = 0;
            while end < trees.len() {
                let s = steps_of(&trees[end]);
                if size + s >= GROUP_STEPS {
                    break;
                }
                size += s;
                end += 1;
            }
            if end == t {
                return None;
            }
            let mut roots = Vec::with_capacity(end - t + 1);
            let mut at = 0;
            for tree in &trees[t..end] {
                roots.push(at as u16);
                at += steps_of(tree);
            }
            let end_step = at as u16;
            roots.push(end_step);
            let mut group = Group {
                steps: Box::new([Step::default(); GROUP_STEPS]),
                values: Box::new([[-0.0; 2]; GROUP_STEPS]),
                end: end_step,
            };
            for (k, tree) in trees[t..end].iter().enumerate() {
                zero_missing |= lay_out(
                    tree,
                    num_features,
                    columns > 0,
                    roots[k],
                    roots[k + 1],
                    &mut group,
                )?;
            }
            // The end and the unused rest loop to the end.
            for s in group.steps[usize::from(end_step)..].iter_mut() {
                s.children = both(end_step, end_step);
            }
            groups.push(group);
            t = end;
        }
        Some(LaneForest {
            groups,
            num_features,
            zero_missing,
            columns,
        })
    }

    /// Adds each row's raw score (rows of `num_features` in `xs`, row-major) into `out`,
    /// tree by tree in model order, exactly as the pointer walk does.
    pub fn add_block(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        if self.columns > 0 {
            match (self.columns * nf).next_power_of_two().max(32) {
                32 => self.walk_columns::<32>(xs, out),
                64 => self.walk_columns::<64>(xs, out),
                128 => self.walk_columns::<128>(xs, out),
                256 => self.walk_columns::<256>(xs, out),
                512 => self.walk_columns::<512>(xs, out),
                1024 => self.walk_columns::<1024>(xs, out),
                2048 => self.walk_columns::<2048>(xs, out),
                _ => self.walk_columns::<4096>(xs, out),
            }
            return;
        }
        match (nf.next_power_of_two().max(32), self.zero_missing) {
            (32, false) => self.walk::<32, false>(xs, out),
            (32, true) => self.walk::<32, true>(xs, out),
            (64, false) => self.walk::<64, false>(xs, out),
            (64, true) => self.walk::<64, true>(xs, out),
            (128, false) => self.walk::<128, false>(xs, out),
            (128, true) => self.walk::<128, true>(xs, out),
            (256, false) => self.walk::<256, false>(xs, out),
            (256, true) => self.walk::<256, true>(xs, out),
            (512, false) => self.walk::<512, false>(xs, out),
            (512, true) => self.walk::<512, true>(xs, out),
            (_, false) => self.walk::<1024, false>(xs, out),
            (_, true) => self.walk::<1024, true>(xs, out),
        }
    }

    /// The walk for rows padded to `S` features (a power of two, so a masked feature index
    /// needs no bounds check).
    fn walk<const S: usize, const ZERO: bool>(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        let rows = out.len().min(xs.len() / nf);
        if rows == 0 {
            return;
        }
        let mut padded = vec![[0.0f32; S]; rows + 1];
        for (p, x) in padded.iter_mut().zip(xs.chunks_exact(nf)) {
            p[..nf].copy_from_slice(x);
        }
        let (padded, idle) = padded.split_at(rows);
        let idle = &idle[0];
        let zero_band = f32_at_or_below(ZERO_THRESHOLD);
        let mask = GROUP_STEPS - 1;
        for group in &self.groups {
            let (steps, values) = (&*group.steps, &*group.values);
            let end = group.end;
            let mut lanes = Lanes::start(end, idle, padded, out);
            loop {
                for _ in 0..CHECK_EVERY {
                    for k in 0..LANES {
                        let i = usize::from(lanes.at[k]) & mask;
                        let s = steps[i];
                        let w = s.feature;
                        // S <= 2^30, so the mask also drops the flag bits.
                        let v = lanes.x[k][w as usize & (S - 1)];
                        let greater = u32::from(v > s.threshold);
                        let nan = u32::from(v.is_nan());
                        let right = if ZERO {
                            let zero = u32::from(v.abs() <= zero_band) & (w >> 30);
                            let special = nan | zero;
                            (special & (w >> 31)) | (!special & greater)
                        } else {
                            greater | (nan & (w >> 31))
                        };
                        let side = (right & 1) as usize;
                        lanes.at[k] = (s.children >> (side << 4)) as u16;
                        lanes.acc[k] += values[i][side];
                    }
                }
                if !lanes.refill(end, padded, out) {
                    break;
                }
            }
        }
    }

    /// The walk when no threshold is NaN or `+inf` ([`LaneForest::columns`] > 0): each row is
    /// copied `columns` times into a padded row of `S` values, copy `c` (columns `c * nf ..`)
    /// with its missing values replaced by the side they go to: NaN by `-inf` (left) in copy 0
    /// and `+inf` (right) in copy 1, NaN and values within [`ZERO_THRESHOLD`] of zero likewise in
    /// copies 2 and 3. Each split reads the copy of its missing-value rule, so a step is one
    /// compare: `-inf > t` is false and `+inf > t` true for every threshold `t` below `+inf`,
    /// exactly the default side LightGBM takes, and other values compare as before.
    fn walk_columns<const S: usize>(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        let rows = out.len().min(xs.len() / nf);
        if rows == 0 {
            return;
        }
        let zero_band = f32_at_or_below(ZERO_THRESHOLD);
        let mut padded = vec![[0.0f32; S]; rows + 1];
        for (p, x) in padded.iter_mut().zip(xs.chunks_exact(nf)) {
            let (nan_left, rest) = p.split_at_mut(nf);
            let (nan_right, rest) = rest.split_at_mut(nf);
            for (f, &v) in x.iter().enumerate() {
                let nan = v.is_nan();
                nan_left[f] = if nan { f32::NEG_INFINITY } else { v };
                nan_right[f] = if nan { f32::INFINITY } else { v };
            }
            if self.columns == 4 {
                let (zero_left, rest) = rest.split_at_mut(nf);
                let zero_right = &mut rest[..nf];
                for (f, &v) in x.iter().enumerate() {
                    let missing = v.is_nan() || v.abs() <= zero_band;
                    zero_left[f] = if missing { f32::NEG_INFINITY } else { v };
                    zero_right[f] = if missing { f32::INFINITY } else { v };
                }
            }
        }
        let (padded, idle) = padded.split_at(rows);
        let idle = &idle[0];
        let mask = GROUP_STEPS - 1;
        for group in &self.groups {
            let (steps, values) = (&*group.steps, &*group.values);
            let end = group.end;
            let mut lanes = Lanes::start(end, idle, padded, out);
            loop {
                for _ in 0..CHECK_EVERY {
                    for k in 0..LANES {
                        let i = usize::from(lanes.at[k]) & mask;
                        let s = steps[i];
                        let v = lanes.x[k][s.feature as usize & (S - 1)];
                        let side = usize::from(v > s.threshold);
                        lanes.at[k] = (s.children >> (side << 4)) as u16;
                        lanes.acc[k] += values[i][side];
                    }
                }
                if !lanes.refill(end, padded, out) {
                    break;
                }
            }
        }
    }

    /// Groups of trees in the layout, for reports.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }
}

/// A split as the walk tests it: the largest f32 not above LightGBM's f64 threshold, and the
/// feature index with [`NAN_RIGHT`] and [`ZERO_MISSING`] flags.
pub(crate) fn encode(decision_type: u8, threshold: f64, feature: u32) -> (f32, u32) {
    let missing = (decision_type >> MISSING_SHIFT) & 3;
    // NaN goes the default way for NaN- and zero-missing splits; otherwise LightGBM reads NaN
    // as 0.
    let nan_right = if missing == MISSING_NAN || missing == MISSING_ZERO {
        decision_type & DEFAULT_LEFT == 0
    } else {
        threshold < 0.0 || threshold.is_nan()
    };
    let mut word = feature;
    if nan_right {
        word |= NAN_RIGHT;
    }
    if missing == MISSING_ZERO {
        word |= ZERO_MISSING;
    }
    (f32_at_or_below(threshold), word)
}

/// Whether value `v` goes right at a split encoded by [`encode`] (LightGBM's decision,
/// missing-value rules included).
#[inline]
pub(crate) fn goes_right(threshold: f32, word: u32, v: f32) -> bool {
    if v.is_nan() || (word & ZERO_MISSING != 0 && v.abs() <= f32_at_or_below(ZERO_THRESHOLD)) {
        word & NAN_RIGHT != 0
    } else {
        v > threshold
    }
}

/// Steps a tree takes in the layout: one per split (a stump takes one).
fn steps_of(tree: &TreeView<'_>) -> usize {
    tree.split_feature.len().max(1)
}

fn both(left: u16, right: u16) -> u32 {
    u32::from(left) | (u32::from(right) << 16)
}

/// Widest row the walk is compiled for.
const MAX_STRIDE: usize = 1024;

/// Writes `tree`'s nodes (LightGBM's numbering, from `root_at`) and then its leaves into
/// `group`; leaves lead to `next`. With `columns`, a split's feature word is its column in the
/// row copies of [`LaneForest::walk_columns`]. Returns whether some split treats zero as missing, `None`
/// on malformed trees.
fn lay_out(
    tree: &TreeView<'_>,
    num_features: usize,
    columns: bool,
    root_at: u16,
    next: u16,
    group: &mut Group,
) -> Option<bool> {
    let internal = tree.split_feature.len();
    let start = usize::from(root_at);
    if start + steps_of(tree) > GROUP_STEPS || tree.leaf_value.len() != internal + 1 {
        return None;
    }
    if internal == 0 {
        // A stump: one step that adds its single leaf whichever way it goes.
        group.steps[start] = Step {
            threshold: 0.0,
            feature: 0,
            children: both(next, next),
        };
        group.values[start] = [tree.leaf_value[0]; 2];
        return Some(false);
    }
    // A child: a split's step, or for a leaf the next tree's root plus the leaf's value.
    let place = |c: i32| -> Option<(u16, f64)> {
        if c >= 0 {
            let i = ((c as usize) < internal).then_some(start + c as usize)?;
            Some((u16::try_from(i).ok()?, -0.0))
        } else {
            Some((next, *tree.leaf_value.get(!c as usize)?))
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
        let (threshold, word) = encode(d, t, feature);
        zero_missing |= word & ZERO_MISSING != 0;
        // The row copy of the split's missing-value rule (see `LaneForest::walk_columns`).
        let word = if columns {
            let copy = u32::from(word & NAN_RIGHT != 0) + 2 * u32::from(word & ZERO_MISSING != 0);
            copy * num_features as u32 + feature
        } else {
            word
        };
        let (left, left_value) = place(*tree.left_child.get(n)?)?;
        let (right, right_value) = place(*tree.right_child.get(n)?)?;
        group.steps[start + n] = Step {
            threshold,
            feature: word,
            children: both(left, right),
        };
        group.values[start + n] = [left_value, right_value];
    }
    Some(zero_missing)
}
