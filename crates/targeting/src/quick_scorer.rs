//! Bitvector (QuickScorer) traversal, Lucchese et al., SIGIR 2015: a second block scorer beside
//! the lane walk ([`crate::lane_walk`]), reached through
//! [`crate::trees::Ensemble::raw_scores_block_bitvector`]. It is **not** the default: on the
//! 3,104-tree model (issue 17's default; the current one has 2,941 trees) it scores at 0.7x to 0.8x the lane walk's rate in the portable
//! build and 0.9x to 1.0x when built for the machine's AVX-512 (BENCHMARKS.md, "Bitvector
//! traversal"), so `raw_scores_block` stays on the lane walk. It is kept as the measured
//! alternative and a second oracle for the lane walk.
//!
//! How it works: the pointer walk and the lane walk follow one path per tree, a chain of
//! dependent loads. QuickScorer has no dependent chain: a tree's leaves are the bits of a
//! 64-bit word, numbered left to right; every split whose test sends the row right ("a false
//! node") clears the bits of its left subtree's leaves, and the row's exit leaf is the lowest
//! bit still set. Each feature's splits of a group of trees are sorted by threshold, so the
//! false nodes of a value are a prefix of that list (the scan stops at the first threshold no
//! row of the scan exceeds). [`ROWS`] rows are scanned together, so each mask is applied to
//! all of them with straight-line word operations (values are compared as f64, so an outcome
//! is already a 64-bit lane mask). Trees are taken [`GROUP_TREES`] at a time, so the group's
//! splits and the rows' leaf words stay in cache while the block passes through it.
//!
//! Why it loses here: a row's scan covers the splits below the largest of the [`ROWS`] values,
//! nearly all of the model's 192,000 splits, at about two word operations per split and row;
//! the lane walk takes about 5 steps per tree (15,500 per declaration). Fewer rows per scan
//! waste less of the scan but amortise less (8 rows: 0.43x the lane walk, 16 and 32: 0.7x
//! to 0.8x, BENCHMARKS.md).
//!
//! Invariant (tested on random trees with every missing-value rule, `tests/fast_paths.rs`):
//! raw scores are bit-identical to the pointer walk. It holds because (1) every split decides
//! as LightGBM's f64 test does (the f32 threshold is the largest f32 not above it, and missing
//! values take the split's default side, [`crate::lane_walk::goes_right`]); (2) a value that is
//! NaN never exceeds a threshold in the sorted scan and gets its own list of the splits that
//! send NaN right, and splits that treat zero as missing are kept out of the sorted lists and
//! decided one by one; (3) leaf values are added tree by tree in model order, as the pointer
//! walk adds them. Trees with more than 64 leaves do not fit a word: they are walked node by
//! node at their place in the order.

use crate::lane_walk::{encode, goes_right, TreeView};

/// Rows scanned together (8 measured 0.43x the lane walk, 16 and 32 about 0.75x).
pub const ROWS: usize = 16;

/// Trees per group: their leaf words for [`ROWS`] rows take 64 x 128 B = 8 KB, their splits
/// (about 4,000 of 62-split trees, 16 bytes each) about 64 KB, within the L2 cache (128 trees
/// measured the same).
pub const GROUP_TREES: usize = 64;

/// Leaves a tree may have to be scored by bits (one `u64` word per tree and row).
const MAX_LEAVES: usize = 64;

/// A tree of more than [`MAX_LEAVES`] leaves, walked split by split.
#[derive(Debug, Clone, PartialEq)]
struct WalkedTree {
    /// Per split: encoded threshold and feature word ([`encode`]), left and right child
    /// (`>= 0` split, `< 0` leaf `!leaf`).
    threshold: Vec<f32>,
    word: Vec<u32>,
    children: Vec<[i32; 2]>,
    leaves: Vec<f64>,
}

impl WalkedTree {
    fn value(&self, x: &[f32]) -> f64 {
        let mut node = 0i32;
        if self.threshold.is_empty() {
            return self.leaves.first().copied().unwrap_or(0.0);
        }
        // At most one step per split: a valid tree reaches a leaf sooner.
        for _ in 0..=self.threshold.len() {
            if node < 0 {
                break;
            }
            let n = node as usize;
            let v = x
                .get((self.word[n] & FEATURE_BITS) as usize)
                .copied()
                .unwrap_or(0.0);
            node = self.children[n][usize::from(goes_right(self.threshold[n], self.word[n], v))];
        }
        if node < 0 {
            self.leaves.get(!node as usize).copied().unwrap_or(0.0)
        } else {
            0.0
        }
    }
}

/// The feature bits of an encoded feature word (the top two are flags).
const FEATURE_BITS: u32 = (1 << 30) - 1;
/// [`encode`]'s flag: NaN (and, for zero-missing splits, zero) goes right.
const NAN_RIGHT: u32 = 1 << 31;
/// [`encode`]'s flag: the split treats values within `1e-35` of zero as missing.
const ZERO_MISSING: u32 = 1 << 30;

/// How a tree of a group is scored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// By its leaf word; its leaf values, left to right, are this entry of [`Group::leaves`].
    Bits(u32),
    /// Walked: index in [`Group::walked`].
    Walked(u32),
}

/// One feature's splits in a group: `[start, end)` of [`Group::sorted`] (ascending
/// thresholds), of [`Group::nan`] (splits that send NaN right) and of [`Group::zero`] (splits
/// that treat zero as missing, decided one by one).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct FeatureSplits {
    feature: u32,
    sorted: (u32, u32),
    nan: (u32, u32),
    zero: (u32, u32),
}

/// A split in a sorted list: the mask that clears its left subtree's leaves, its threshold
/// (the largest f32 not above LightGBM's), its tree's index in the group.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    mask: u64,
    threshold: f32,
    tree: u32,
}

/// [`GROUP_TREES`] consecutive trees (fewer in the last group).
#[derive(Debug, Clone, PartialEq)]
struct Group {
    kinds: Vec<Kind>,
    features: Vec<FeatureSplits>,
    sorted: Vec<Node>,
    nan: Vec<Node>,
    /// Zero-as-missing splits with their feature words ([`encode`]).
    zero: Vec<(Node, u32)>,
    leaves: Vec<[f64; MAX_LEAVES]>,
    walked: Vec<WalkedTree>,
}

/// The trees of one ensemble as groups of bitvector trees.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickForest {
    groups: Vec<Group>,
    num_features: usize,
}

/// One split as the build collects it.
struct Split {
    feature: u32,
    threshold: f32,
    word: u32,
    mask: u64,
    tree: u16,
}

/// Mask with the bits `lo..hi` clear (`hi - lo <= 64`).
fn clear_bits(lo: usize, hi: usize) -> u64 {
    let width = hi.saturating_sub(lo);
    let ones = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    !(ones.checked_shl(lo as u32).unwrap_or(0))
}

/// Leaf numbers `[start, end)`.
type LeafRange = (usize, usize);

/// Numbers a tree's leaves left to right and returns, per split, the range of leaf numbers of
/// its left subtree, plus the leaf values in that order. `None` when the arrays do not form one
/// binary tree (a loop, a shared subtree, an index out of range).
fn leaf_ranges(tree: &TreeView<'_>) -> Option<(Vec<LeafRange>, Vec<f64>)> {
    enum Item {
        /// A child to number: a split `>= 0` or a leaf `!leaf`.
        Visit(i32),
        /// A split whose left subtree is numbered.
        Middle(usize),
    }
    let n = tree.split_feature.len();
    if n == 0 {
        return Some((Vec::new(), vec![*tree.leaf_value.first()?]));
    }
    let mut ranges = vec![(0, 0); n];
    let mut seen = vec![false; n];
    let mut leaf_seen = vec![false; n + 1];
    let mut values = Vec::with_capacity(n + 1);
    let mut stack = vec![Item::Visit(0)];
    while let Some(item) = stack.pop() {
        match item {
            Item::Visit(c) if c < 0 => {
                let leaf = !c as usize;
                if std::mem::replace(leaf_seen.get_mut(leaf)?, true) {
                    return None;
                }
                values.push(*tree.leaf_value.get(leaf)?);
            }
            Item::Visit(c) => {
                let node = c as usize;
                if std::mem::replace(seen.get_mut(node)?, true) {
                    return None;
                }
                ranges[node].0 = values.len();
                stack.push(Item::Visit(*tree.right_child.get(node)?));
                stack.push(Item::Middle(node));
                stack.push(Item::Visit(*tree.left_child.get(node)?));
            }
            Item::Middle(node) => ranges[node].1 = values.len(),
        }
    }
    (values.len() == n + 1 && seen.iter().all(|s| *s)).then_some((ranges, values))
}

impl QuickForest {
    /// Lays the trees out in groups of [`GROUP_TREES`]. `None` when a split's feature is out of
    /// range, a threshold is NaN (it would not sort), or the arrays do not form binary trees.
    pub fn build(trees: &[TreeView<'_>], num_features: usize) -> Option<Self> {
        if num_features == 0 || num_features > FEATURE_BITS as usize {
            return None;
        }
        let groups = trees
            .chunks(GROUP_TREES)
            .map(|g| build_group(g, num_features))
            .collect::<Option<Vec<_>>>()?;
        Some(QuickForest {
            groups,
            num_features,
        })
    }

    /// Adds each row's raw score (rows of `num_features` in `xs`, row-major) into `out`, tree by
    /// tree in model order, exactly as the pointer walk does.
    pub fn add_block(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        let rows = out.len().min(xs.len() / nf);
        let mut words = Box::new([[u64::MAX; ROWS]; GROUP_TREES]);
        for group in &self.groups {
            let mut r0 = 0;
            while r0 < rows {
                let lanes = ROWS.min(rows - r0);
                let xs = &xs[r0 * nf..(r0 + lanes) * nf];
                group.exit_leaves(xs, nf, lanes, &mut words);
                group.add_leaves(xs, nf, &words, &mut out[r0..r0 + lanes]);
                r0 += lanes;
            }
        }
    }
}

fn build_group(trees: &[TreeView<'_>], num_features: usize) -> Option<Group> {
    let mut splits = Vec::new();
    let mut kinds = Vec::with_capacity(trees.len());
    let mut leaves = Vec::new();
    let mut walked = Vec::new();
    for (h, tree) in trees.iter().enumerate() {
        let n = tree.split_feature.len();
        if tree.threshold.len() != n
            || tree.decision_type.len() != n
            || tree.left_child.len() != n
            || tree.right_child.len() != n
            || tree.leaf_value.len() != n + 1
        {
            return None;
        }
        let mut words = Vec::with_capacity(n);
        let mut thresholds = Vec::with_capacity(n);
        for i in 0..n {
            let feature = tree.split_feature[i];
            if feature as usize >= num_features || tree.threshold[i].is_nan() {
                return None;
            }
            let (t, w) = encode(tree.decision_type[i], tree.threshold[i], feature);
            thresholds.push(t);
            words.push(w);
        }
        let (ranges, values) = leaf_ranges(tree)?;
        if values.len() > MAX_LEAVES {
            kinds.push(Kind::Walked(u32::try_from(walked.len()).ok()?));
            walked.push(WalkedTree {
                threshold: thresholds,
                word: words,
                children: (0..n)
                    .map(|i| [tree.left_child[i], tree.right_child[i]])
                    .collect(),
                leaves: tree.leaf_value.to_vec(),
            });
            continue;
        }
        kinds.push(Kind::Bits(u32::try_from(leaves.len()).ok()?));
        let mut row = [0.0; MAX_LEAVES];
        row[..values.len()].copy_from_slice(&values);
        leaves.push(row);
        for (i, (lo, hi)) in ranges.into_iter().enumerate() {
            splits.push(Split {
                feature: tree.split_feature[i],
                threshold: thresholds[i],
                word: words[i],
                mask: clear_bits(lo, hi),
                tree: h as u16,
            });
        }
    }
    splits.sort_by(|a, b| {
        (a.feature, a.word & ZERO_MISSING != 0)
            .cmp(&(b.feature, b.word & ZERO_MISSING != 0))
            .then(a.threshold.total_cmp(&b.threshold))
            .then(a.tree.cmp(&b.tree))
    });
    let mut g = Group {
        kinds,
        features: Vec::new(),
        sorted: Vec::new(),
        nan: Vec::new(),
        zero: Vec::new(),
        leaves,
        walked,
    };
    let len = |v: usize| u32::try_from(v).ok();
    for same in splits.chunk_by(|a, b| a.feature == b.feature) {
        let mut f = FeatureSplits {
            feature: same[0].feature,
            sorted: (len(g.sorted.len())?, 0),
            nan: (len(g.nan.len())?, 0),
            zero: (len(g.zero.len())?, 0),
        };
        for s in same {
            let node = Node {
                mask: s.mask,
                threshold: s.threshold,
                tree: u32::from(s.tree),
            };
            if s.word & ZERO_MISSING != 0 {
                g.zero.push((node, s.word));
                continue;
            }
            g.sorted.push(node);
            if s.word & NAN_RIGHT != 0 {
                g.nan.push(node);
            }
        }
        f.sorted.1 = len(g.sorted.len())?;
        f.nan.1 = len(g.nan.len())?;
        f.zero.1 = len(g.zero.len())?;
        g.features.push(f);
    }
    Some(g)
}

impl Group {
    /// Clears, in `words` (one word per tree of the group and row), the leaves each of the
    /// `lanes` rows of `xs` cannot reach.
    fn exit_leaves(
        &self,
        xs: &[f32],
        nf: usize,
        lanes: usize,
        words: &mut [[u64; ROWS]; GROUP_TREES],
    ) {
        for w in words.iter_mut() {
            *w = [u64::MAX; ROWS];
        }
        for f in &self.features {
            let k = f.feature as usize;
            // As f64, so a comparison's outcome is already a 64-bit lane mask. Rows beyond
            // `lanes` and NaN values never exceed a threshold in the sorted scan.
            let mut v = [f64::NEG_INFINITY; ROWS];
            let mut nan = [0u64; ROWS];
            for l in 0..lanes {
                let x = xs[l * nf + k];
                if x.is_nan() {
                    nan[l] = u64::MAX;
                } else {
                    v[l] = f64::from(x);
                }
            }
            let top = v.iter().fold(f64::NEG_INFINITY, |m, x| m.max(*x));
            for n in &self.sorted[f.sorted.0 as usize..f.sorted.1 as usize] {
                let t = f64::from(n.threshold);
                // Neither is NaN (NaN values are left out of `top`, NaN thresholds refused by
                // `build`): no later threshold is exceeded either.
                if top <= t {
                    break;
                }
                let w = &mut words[n.tree as usize & (GROUP_TREES - 1)];
                for l in 0..ROWS {
                    // Keeps every bit where the row goes left.
                    w[l] &= n.mask | u64::from(v[l] <= t).wrapping_neg();
                }
            }
            if nan.iter().any(|n| *n != 0) {
                for n in &self.nan[f.nan.0 as usize..f.nan.1 as usize] {
                    let w = &mut words[n.tree as usize & (GROUP_TREES - 1)];
                    for l in 0..ROWS {
                        w[l] &= n.mask | !nan[l];
                    }
                }
            }
            for (n, word) in &self.zero[f.zero.0 as usize..f.zero.1 as usize] {
                let w = &mut words[n.tree as usize & (GROUP_TREES - 1)];
                for l in 0..lanes {
                    if goes_right(n.threshold, *word, xs[l * nf + k]) {
                        w[l] &= n.mask;
                    }
                }
            }
        }
    }

    /// Adds each tree's exit leaf value to its row's sum, tree by tree in model order.
    fn add_leaves(
        &self,
        xs: &[f32],
        nf: usize,
        words: &[[u64; ROWS]; GROUP_TREES],
        out: &mut [f64],
    ) {
        for (kind, w) in self.kinds.iter().zip(words) {
            match *kind {
                Kind::Bits(i) => {
                    let leaves = &self.leaves[i as usize];
                    for (o, w) in out.iter_mut().zip(w) {
                        *o += leaves[(w.trailing_zeros() as usize) & (MAX_LEAVES - 1)];
                    }
                }
                Kind::Walked(i) => {
                    let tree = &self.walked[i as usize];
                    for (o, x) in out.iter_mut().zip(xs.chunks_exact(nf)) {
                        *o += tree.value(x);
                    }
                }
            }
        }
    }
}

impl QuickForest {
    /// Groups of trees in the layout, for reports.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view of arrays that may not form a tree.
    fn view<'a>(
        feature: &'a [u32],
        threshold: &'a [f64],
        children: (&'a [i32], &'a [i32]),
        leaves: &'a [f64],
    ) -> TreeView<'a> {
        TreeView {
            split_feature: feature,
            threshold,
            decision_type: &[2, 2, 2][..feature.len()],
            left_child: children.0,
            right_child: children.1,
            leaf_value: leaves,
        }
    }

    #[test]
    fn crafted_trees_are_refused_not_a_panic() {
        let leaves = [1.0, 2.0, 3.0];
        // Well formed: split 0 -> (split 1, leaf 2), split 1 -> (leaf 0, leaf 1).
        let good = view(&[0, 1], &[0.5, 0.5], (&[1, !0], &[!2, !1]), &leaves);
        assert!(QuickForest::build(&[good], 2).is_some());
        let crafted = [
            (
                "a loop",
                view(&[0, 1], &[0.5, 0.5], (&[1, 0], &[!2, !1]), &leaves),
            ),
            (
                "a shared leaf",
                view(&[0, 1], &[0.5, 0.5], (&[1, !0], &[!0, !1]), &leaves),
            ),
            (
                "a child out of range",
                view(&[0, 1], &[0.5, 0.5], (&[7, !0], &[!2, !1]), &leaves),
            ),
            (
                "a leaf out of range",
                view(&[0, 1], &[0.5, 0.5], (&[1, !9], &[!2, !1]), &leaves),
            ),
            (
                "a NaN threshold",
                view(&[0, 1], &[f64::NAN, 0.5], (&[1, !0], &[!2, !1]), &leaves),
            ),
            (
                "a feature out of range",
                view(&[0, 5], &[0.5, 0.5], (&[1, !0], &[!2, !1]), &leaves),
            ),
        ];
        for (what, tree) in crafted {
            assert!(
                QuickForest::build(&[tree], 2).is_none(),
                "{what} was accepted"
            );
        }
    }

    #[test]
    fn leaves_are_numbered_left_to_right_and_splits_clear_their_left_subtree() {
        let leaves = [10.0, 20.0, 30.0];
        // Split 0 -> (split 1, leaf 2); split 1 -> (leaf 1, leaf 0): left to right 1, 0, 2.
        let tree = view(&[0, 1], &[0.5, 0.5], (&[1, !1], &[!2, !0]), &leaves);
        let (ranges, values) = leaf_ranges(&tree).expect("a tree");
        assert_eq!(values, vec![20.0, 10.0, 30.0]);
        assert_eq!(ranges, vec![(0, 2), (0, 1)]);
        assert_eq!(clear_bits(0, 2), !0b11);
        assert_eq!(clear_bits(0, 64), 0);
    }
}
