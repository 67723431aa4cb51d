//! A tree ensemble evaluator with exact TreeSHAP, over trees imported from LightGBM's text
//! model format.
//!
//! Why our own evaluator rather than calling LightGBM at scoring time: scoring must be a pure,
//! allocation-light function callable from any thread (HTTP service, stream workers) without
//! the C library's global state, and LightGBM's per-row prediction and SHAP paths are far slower
//! than a flat in-process walk. Agreement with LightGBM's own predictions is a tested invariant.

use serde::{Deserialize, Serialize};

/// Bits of LightGBM's `decision_type`.
const DEFAULT_LEFT: u8 = 2;
const MISSING_SHIFT: u8 = 2;
const MISSING_ZERO: u8 = 1;
const MISSING_NAN: u8 = 2;
const ZERO_THRESHOLD: f64 = 1e-35;

/// LightGBM's numerical decision, including its missing-value rules.
#[inline]
fn go_left(decision_type: u8, threshold: f64, value: f32) -> bool {
    let mut v = f64::from(value);
    let missing = (decision_type >> MISSING_SHIFT) & 3;
    if v.is_nan() && missing != MISSING_NAN {
        v = 0.0;
    }
    if (missing == MISSING_ZERO && v.abs() <= ZERO_THRESHOLD)
        || (missing == MISSING_NAN && v.is_nan())
    {
        return decision_type & DEFAULT_LEFT != 0;
    }
    v <= threshold
}

/// One binary regression tree. Children `>= 0` are internal nodes, `< 0` are leaves `!child`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub split_feature: Vec<u32>,
    pub threshold: Vec<f64>,
    pub decision_type: Vec<u8>,
    pub left_child: Vec<i32>,
    pub right_child: Vec<i32>,
    /// Expected output of each internal node (training-weighted mean of its leaves).
    pub internal_value: Vec<f64>,
    /// Training rows reaching each internal node (the "cover" TreeSHAP needs).
    pub internal_count: Vec<f64>,
    pub leaf_value: Vec<f64>,
    pub leaf_count: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("LightGBM model text: {0}")]
pub struct ParseError(String);

impl Tree {
    /// A tree of one leaf and no split (LightGBM writes one when no split gains; a tree that
    /// growth starts from).
    pub fn single_leaf(value: f64, count: f64) -> Tree {
        Tree {
            split_feature: vec![],
            threshold: vec![],
            decision_type: vec![],
            left_child: vec![],
            right_child: vec![],
            internal_value: vec![],
            internal_count: vec![],
            leaf_value: vec![value],
            leaf_count: vec![count],
        }
    }

    fn view(&self) -> crate::lane_walk::TreeView<'_> {
        crate::lane_walk::TreeView {
            split_feature: &self.split_feature,
            threshold: &self.threshold,
            decision_type: &self.decision_type,
            left_child: &self.left_child,
            right_child: &self.right_child,
            leaf_value: &self.leaf_value,
        }
    }

    fn is_stump(&self) -> bool {
        self.split_feature.is_empty()
    }

    #[inline]
    fn go_left(&self, node: usize, value: f32) -> bool {
        go_left(self.decision_type[node], self.threshold[node], value)
    }

    /// Splits `x` passes on its way to its leaf (0 for a stump): the steps any walk of this
    /// tree takes for `x`, the scoring cost measure of issue 17's model sweeps.
    pub fn splits_visited(&self, x: &[f32]) -> usize {
        let (mut node, mut steps) = (0i32, 0);
        // At most one step per split: a malformed tree cannot loop here.
        while node >= 0 && steps < self.split_feature.len() {
            node = self.next(node as usize, x);
            steps += 1;
        }
        steps
    }

    #[inline]
    pub(crate) fn next(&self, node: usize, x: &[f32]) -> i32 {
        if self.go_left(node, x[self.split_feature[node] as usize]) {
            self.left_child[node]
        } else {
            self.right_child[node]
        }
    }

    /// Which way `x` goes at every split of the tree, bit `i` set when it goes right at split
    /// `i` (LightGBM's decision, missing values included); `None` for trees of more than 64
    /// splits. Path-dependent TreeSHAP depends on `x` only through this vector, so two rows
    /// with the same vector have the same contributions from this tree.
    pub fn decision_vector(&self, x: &[f32]) -> Option<u64> {
        if self.split_feature.len() > 64 {
            return None;
        }
        let mut bits = 0u64;
        for (i, (&f, (&t, &d))) in self
            .split_feature
            .iter()
            .zip(self.threshold.iter().zip(&self.decision_type))
            .enumerate()
        {
            let v = x.get(f as usize).copied().unwrap_or(f32::NAN);
            bits |= u64::from(!go_left(d, t, v)) << i;
        }
        Some(bits)
    }

    fn cover(&self, child: i32) -> f64 {
        if child >= 0 {
            self.internal_count[child as usize]
        } else {
            self.leaf_count[!child as usize]
        }
    }

    fn value(&self, child: i32) -> f64 {
        if child >= 0 {
            self.internal_value[child as usize]
        } else {
            self.leaf_value[!child as usize]
        }
    }

    fn expected_value(&self) -> f64 {
        if self.is_stump() {
            return self.leaf_value.first().copied().unwrap_or(0.0);
        }
        let total: f64 = self.leaf_count.iter().sum();
        if total <= 0.0 {
            return self.internal_value[0];
        }
        self.leaf_value
            .iter()
            .zip(&self.leaf_count)
            .map(|(v, c)| v * c)
            .sum::<f64>()
            / total
    }

    /// Depth of the deepest leaf (iterative: a valid tree's depth is bounded by
    /// [`MAX_TREE_DEPTH`], but this must not recurse even before validation).
    fn max_depth(&self) -> usize {
        if self.is_stump() {
            return 0;
        }
        let (mut deepest, mut stack) = (0, vec![(0i32, 1usize)]);
        while let Some((node, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            let n = node as usize;
            for c in [self.left_child[n], self.right_child[n]] {
                if c >= 0 {
                    stack.push((c, depth + 1));
                }
            }
        }
        deepest
    }

    /// Checks that the arrays describe one binary tree over `num_features` features: equal
    /// lengths, one more leaf than internal nodes, every child index in range, every node and
    /// leaf reached exactly once from the root (no loop, no shared subtree), depth at most
    /// [`MAX_TREE_DEPTH`], finite values. Everything that walks a tree relies on this, so a
    /// crafted artefact is refused at load instead of panicking or overflowing the stack.
    pub fn validate(&self, num_features: usize) -> Result<(), String> {
        let n = self.split_feature.len();
        let internal = [
            ("threshold", self.threshold.len()),
            ("decision_type", self.decision_type.len()),
            ("left_child", self.left_child.len()),
            ("right_child", self.right_child.len()),
            ("internal_value", self.internal_value.len()),
            ("internal_count", self.internal_count.len()),
        ];
        if let Some((name, len)) = internal.iter().find(|(_, len)| *len != n) {
            return Err(format!("{name} has {len} entries for {n} internal nodes"));
        }
        let leaves = self.leaf_value.len();
        if self.leaf_count.len() != leaves {
            return Err(format!(
                "leaf_count has {} entries for {leaves} leaves",
                self.leaf_count.len()
            ));
        }
        if leaves != n + 1 {
            return Err(format!(
                "{n} internal nodes need {} leaves, found {leaves}",
                n + 1
            ));
        }
        if let Some(f) = self
            .split_feature
            .iter()
            .find(|f| **f as usize >= num_features)
        {
            return Err(format!("split on feature {f} of {num_features}"));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(&self.leaf_value) || !finite(&self.internal_value) {
            return Err("a node value is not finite".into());
        }
        if n == 0 {
            return Ok(());
        }
        let (mut seen_node, mut seen_leaf) = (vec![false; n], vec![false; leaves]);
        seen_node[0] = true;
        let mut stack = vec![(0usize, 1usize)];
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_TREE_DEPTH {
                return Err(format!("deeper than {MAX_TREE_DEPTH} levels"));
            }
            for c in [self.left_child[node], self.right_child[node]] {
                if c >= 0 {
                    let c = c as usize;
                    if c >= n {
                        return Err(format!(
                            "node {node} has child {c}, beyond {n} internal nodes"
                        ));
                    }
                    if std::mem::replace(&mut seen_node[c], true) {
                        return Err(format!(
                            "node {c} is reached twice (a loop or a shared subtree)"
                        ));
                    }
                    stack.push((c, depth + 1));
                } else {
                    let l = !c as usize;
                    if l >= leaves {
                        return Err(format!("node {node} has leaf {l}, beyond {leaves} leaves"));
                    }
                    if std::mem::replace(&mut seen_leaf[l], true) {
                        return Err(format!("leaf {l} is reached twice"));
                    }
                }
            }
        }
        // n + 1 leaves reached once each from n nodes reached once each: nothing is left out,
        // but say so plainly if a count argument is ever wrong.
        if seen_node.iter().chain(&seen_leaf).any(|s| !s) {
            return Err("a node or leaf is not reachable from the root".into());
        }
        Ok(())
    }
}

/// A boosted ensemble: the raw score (log-odds) is the sum of the trees' leaf values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EnsembleData", into = "EnsembleData")]
pub struct Ensemble {
    pub num_features: usize,
    pub trees: Vec<Tree>,
    max_depth: usize,
    /// All trees' internal nodes in one contiguous array, for cache-friendly scoring.
    nodes: Vec<FlatNode>,
    leaves: Vec<f64>,
    roots: Vec<u32>,
    /// The same trees padded to complete binary trees, when they are shallow enough.
    complete: Option<CompleteForest>,
    /// The same trees as branch-free chains walked several declarations at once.
    lanes: Option<crate::lane_walk::LaneForest>,
    /// The same trees as bitvector groups, built on first use.
    quick: QuickCache,
    /// Input-independent tables of the linear-time exact TreeSHAP, built on the first
    /// explanation (17 MB on the default model: a process scoring without exact reasons never
    /// holds them).
    linear_shap: ShapCache,
}

const LEAF: u32 = 1 << 31;

/// [`crate::quick_scorer::QuickForest`] of an ensemble, built the first time it is asked for
/// (it is not the default scorer, so most processes never need it). Derived from the trees
/// alone, so it never makes two ensembles unequal.
#[derive(Debug, Clone, Default)]
struct QuickCache(std::sync::OnceLock<Option<crate::quick_scorer::QuickForest>>);

impl PartialEq for QuickCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// [`crate::linear_shap::LinearShap`] of an ensemble, built the first time a declaration is
/// explained exactly. Derived from the trees alone, so it never makes two ensembles unequal.
#[derive(Debug, Clone, Default)]
struct ShapCache(std::sync::OnceLock<crate::linear_shap::LinearShap>);

impl PartialEq for ShapCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Rows [`Ensemble::shap_block`] takes through the trees together: each tree's tables are built
/// once per block, and the block's contributions (128 x features) stay in the L2 cache.
pub const SHAP_BLOCK: usize = 128;

/// Deepest tree an artefact may hold. Explanations walk trees recursively (TreeSHAP), so depth
/// bounds stack use; LightGBM trees of the sizes we train are 10 to 40 levels deep, and a
/// 512-level tree needs at least 513 leaves arranged as a chain.
pub const MAX_TREE_DEPTH: usize = 512;

/// Deepest trees [`CompleteForest`] pads: 2^8 leaves, 4 KB per tree. Deeper padding multiplies
/// memory (a 63-leaf tree of depth 12 would take 64 KB) and loses the cache advantage.
const MAX_COMPLETE_DEPTH: usize = 8;

/// Depth-limited trees padded to complete binary trees of one depth, walked without branches:
/// node `i`'s children are `2i + 1` and `2i + 2`, so a walk is `depth` compare-and-shift steps
/// and rows of a block proceed in lock-step with no branch mispredictions (the cost of the
/// pointer-chasing walk). A leaf above the bottom is copied into every leaf below it, so
/// padding nodes may send a row either way. Gives bit-identical sums: same leaves, same order.
#[derive(Debug, Clone, PartialEq)]
struct CompleteForest {
    depth: usize,
    /// `2^depth - 1` per tree.
    nodes: Vec<CompleteNode>,
    /// `2^depth` per tree.
    leaves: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct CompleteNode {
    /// The largest f32 not above LightGBM's f64 threshold: for an f32 value `v`,
    /// `v <= t` exactly when `v <= threshold`.
    threshold: f32,
    feature: u16,
    /// Where a missing (NaN) value goes: LightGBM's default direction, or where 0 goes for
    /// splits without missing-value handling.
    nan_right: bool,
}

/// Largest f32 that is `<= t`.
fn f32_at_or_below(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) <= t || r.is_nan() {
        return r;
    }
    // One step towards negative infinity.
    if r == 0.0 {
        -f32::from_bits(1)
    } else if r > 0.0 {
        f32::from_bits(r.to_bits() - 1)
    } else {
        f32::from_bits(r.to_bits() + 1)
    }
}

/// Rows walked in lock-step by [`CompleteForest::add_block`]: independent walks the CPU
/// overlaps.
const LANES: usize = 8;

impl CompleteForest {
    fn build(trees: &[Tree], depth: usize, num_features: usize) -> Option<Self> {
        if depth > MAX_COMPLETE_DEPTH || num_features > usize::from(u16::MAX) {
            return None;
        }
        let (internal, width) = ((1usize << depth) - 1, 1usize << depth);
        let mut nodes = vec![CompleteNode::default(); internal * trees.len()];
        let mut leaves = vec![0.0; width * trees.len()];
        for (t, tree) in trees.iter().enumerate() {
            if tree
                .decision_type
                .iter()
                .any(|d| (d >> MISSING_SHIFT) & 3 == MISSING_ZERO)
            {
                return None;
            }
            let nodes = &mut nodes[t * internal..(t + 1) * internal];
            let leaves = &mut leaves[t * width..(t + 1) * width];
            let root = if tree.is_stump() { -1 } else { 0 };
            fill(tree, root, 0, nodes, leaves, internal);
        }
        Some(CompleteForest {
            depth,
            nodes,
            leaves,
        })
    }

    /// Adds each row's raw score (rows of `nf` features in `xs`) into `out`.
    fn add_block(&self, xs: &[f32], nf: usize, out: &mut [f64]) {
        let (internal, width) = ((1usize << self.depth) - 1, 1usize << self.depth);
        let rows = out.len().min(xs.len() / nf.max(1));
        if self.depth == 0 {
            // Stumps only: every row gets every tree's single leaf.
            for leaf in &self.leaves {
                for o in out.iter_mut().take(rows) {
                    *o += leaf;
                }
            }
            return;
        }
        for (nodes, leaves) in self
            .nodes
            .chunks_exact(internal.max(1))
            .zip(self.leaves.chunks_exact(width))
        {
            let mut r0 = 0;
            while r0 < rows {
                let lanes = LANES.min(rows - r0);
                let mut at = [0usize; LANES];
                for _ in 0..self.depth {
                    for (k, i) in at.iter_mut().enumerate().take(lanes) {
                        let n = nodes[*i];
                        let v = xs[(r0 + k) * nf + usize::from(n.feature)];
                        let right = (v > n.threshold) | (v.is_nan() & n.nan_right);
                        *i = 2 * *i + 1 + usize::from(right);
                    }
                }
                for (k, i) in at.iter().enumerate().take(lanes) {
                    out[r0 + k] += leaves[*i - internal];
                }
                r0 += lanes;
            }
        }
    }
}

/// Writes `child` of `tree` (an internal node `>= 0` or a leaf `!leaf`) at complete-tree
/// position `pos`.
fn fill(
    tree: &Tree,
    child: i32,
    pos: usize,
    nodes: &mut [CompleteNode],
    leaves: &mut [f64],
    internal: usize,
) {
    if pos >= internal {
        // Bottom level: only leaves arrive here (the depth is the tree's maximum).
        if child < 0 {
            leaves[pos - internal] = tree.leaf_value[!child as usize];
        }
        return;
    }
    if child >= 0 {
        let n = child as usize;
        let d = tree.decision_type[n];
        let t = tree.threshold[n];
        let nan_right = if (d >> MISSING_SHIFT) & 3 == MISSING_NAN {
            d & DEFAULT_LEFT == 0
        } else {
            !go_left(d, t, 0.0)
        };
        nodes[pos] = CompleteNode {
            threshold: f32_at_or_below(t),
            feature: tree.split_feature[n] as u16,
            nan_right,
        };
        fill(
            tree,
            tree.left_child[n],
            2 * pos + 1,
            nodes,
            leaves,
            internal,
        );
        fill(
            tree,
            tree.right_child[n],
            2 * pos + 2,
            nodes,
            leaves,
            internal,
        );
    } else {
        // A leaf above the bottom: both sides lead to it.
        fill(tree, child, 2 * pos + 1, nodes, leaves, internal);
        fill(tree, child, 2 * pos + 2, nodes, leaves, internal);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct FlatNode {
    threshold: f64,
    feature: u32,
    left: u32,
    right: u32,
    decision_type: u8,
}

#[derive(Serialize, Deserialize)]
struct EnsembleData {
    num_features: usize,
    trees: Vec<Tree>,
}

impl TryFrom<EnsembleData> for Ensemble {
    type Error = String;
    fn try_from(d: EnsembleData) -> Result<Self, String> {
        Ensemble::checked(d.num_features, d.trees)
    }
}

impl From<Ensemble> for EnsembleData {
    fn from(e: Ensemble) -> Self {
        EnsembleData {
            num_features: e.num_features,
            trees: e.trees,
        }
    }
}

/// Contributions of each feature to one raw score, plus the ensemble's expected value:
/// `bias + contributions.sum() == raw score`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contributions {
    pub bias: f64,
    pub values: Vec<f64>,
}

#[derive(Clone, Copy, Default)]
struct PathElement {
    feature: i32,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

impl Ensemble {
    pub fn new(num_features: usize, trees: Vec<Tree>) -> Self {
        let max_depth = trees.iter().map(Tree::max_depth).max().unwrap_or(0);
        let (mut nodes, mut leaves, mut roots) = (Vec::new(), Vec::new(), Vec::new());
        for t in &trees {
            let (node_base, leaf_base) = (nodes.len() as u32, leaves.len() as u32);
            let child = |c: i32| {
                if c >= 0 {
                    node_base + c as u32
                } else {
                    LEAF | (leaf_base + !c as u32)
                }
            };
            roots.push(if t.is_stump() {
                LEAF | leaf_base
            } else {
                node_base
            });
            for n in 0..t.split_feature.len() {
                nodes.push(FlatNode {
                    threshold: t.threshold[n],
                    feature: t.split_feature[n],
                    left: child(t.left_child[n]),
                    right: child(t.right_child[n]),
                    decision_type: t.decision_type[n],
                });
            }
            leaves.extend_from_slice(&t.leaf_value);
        }
        let complete = CompleteForest::build(&trees, max_depth, num_features);
        let lanes = crate::lane_walk::LaneForest::build(
            &trees.iter().map(Tree::view).collect::<Vec<_>>(),
            num_features,
        );
        Ensemble {
            num_features,
            max_depth,
            nodes,
            leaves,
            roots,
            complete,
            lanes,
            quick: QuickCache::default(),
            linear_shap: ShapCache::default(),
            trees,
        }
    }

    /// [`Ensemble::new`] after [`Tree::validate`] on every tree: the constructor for trees from
    /// outside (an artefact file, LightGBM's text), which may be crafted.
    pub fn checked(num_features: usize, trees: Vec<Tree>) -> Result<Self, String> {
        for (i, t) in trees.iter().enumerate() {
            t.validate(num_features)
                .map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(Ensemble::new(num_features, trees))
    }

    /// Parses the `Tree=` sections of a LightGBM text model (binary objective, numerical splits).
    pub fn from_lightgbm_text(text: &str) -> Result<Self, ParseError> {
        let mut num_features = None;
        let mut trees = Vec::new();
        let mut current: Option<std::collections::HashMap<&str, &str>> = None;
        let finish = |map: std::collections::HashMap<&str, &str>| -> Result<Tree, ParseError> {
            parse_tree(&map)
        };
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("max_feature_idx=") {
                num_features = Some(
                    v.trim()
                        .parse::<usize>()
                        .map_err(|e| ParseError(format!("max_feature_idx: {e}")))?
                        + 1,
                );
            }
            if line.starts_with("Tree=") {
                if let Some(map) = current.take() {
                    trees.push(finish(map)?);
                }
                current = Some(Default::default());
            } else if line.starts_with("end of trees") {
                if let Some(map) = current.take() {
                    trees.push(finish(map)?);
                }
                break;
            } else if let Some(map) = current.as_mut() {
                if let Some((k, v)) = line.split_once('=') {
                    map.insert(k, v);
                }
            }
        }
        if let Some(map) = current.take() {
            trees.push(finish(map)?);
        }
        let num_features = num_features.ok_or_else(|| ParseError("no max_feature_idx".into()))?;
        Ensemble::checked(num_features, trees).map_err(ParseError)
    }

    /// The trees as a LightGBM text model (`version=v4`, binary objective, numerical splits),
    /// the inverse of [`Ensemble::from_lightgbm_text`]: LightGBM's own `predict` and
    /// `pred_contrib` can then run on exactly the trees Borderline scores with, which is how
    /// the scorers are measured side by side (`scoring_vs_lightgbm` in `borderline-training`)
    /// and how a model can be taken to LightGBM's tools. Numbers are written in Rust's
    /// shortest round-trip form, so every threshold and leaf value reads back bit for bit.
    /// `feature_names` must hold [`Ensemble::num_features`] names without whitespace.
    pub fn to_lightgbm_text(&self, feature_names: &[String]) -> Result<String, ParseError> {
        use std::fmt::Write as _;
        if feature_names.len() != self.num_features {
            return Err(ParseError(format!(
                "{} feature names for {} features",
                feature_names.len(),
                self.num_features
            )));
        }
        if let Some(bad) = feature_names
            .iter()
            .find(|n| n.is_empty() || n.chars().any(char::is_whitespace))
        {
            return Err(ParseError(format!(
                "feature name {bad:?} cannot be written"
            )));
        }
        fn join<T: std::fmt::Debug>(v: &[T]) -> String {
            let mut out = String::with_capacity(v.len() * 12);
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{x:?}");
            }
            out
        }
        // Counts are integers in LightGBM's format (it reads them as such).
        let counts = |v: &[f64]| join(&v.iter().map(|c| c.round() as i64).collect::<Vec<_>>());
        let mut t = String::new();
        let _ = write!(
            t,
            "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n\
             max_feature_idx={}\nobjective=binary sigmoid:1\nfeature_names={}\n\
             feature_infos={}\n\n",
            self.num_features.saturating_sub(1),
            feature_names.join(" "),
            vec!["none"; self.num_features].join(" ")
        );
        for (i, tree) in self.trees.iter().enumerate() {
            let _ = write!(
                t,
                "Tree={i}\nnum_leaves={}\nnum_cat=0\nsplit_feature={}\nthreshold={}\n\
                 decision_type={}\nleft_child={}\nright_child={}\nleaf_value={}\n\
                 leaf_count={}\ninternal_value={}\ninternal_count={}\nis_linear=0\n\
                 shrinkage=1\n\n\n",
                tree.leaf_value.len(),
                join(&tree.split_feature),
                join(&tree.threshold),
                join(&tree.decision_type),
                join(&tree.left_child),
                join(&tree.right_child),
                join(&tree.leaf_value),
                counts(&tree.leaf_count),
                join(&tree.internal_value),
                counts(&tree.internal_count),
            );
        }
        t.push_str("end of trees\n");
        Ok(t)
    }

    /// Builds the exact-explanation tables now instead of on the first explanation. A
    /// long-running process (service, stream worker) calls it when it installs a model, so the
    /// first officer to ask for reasons does not wait for them (about 0.15 s on the default
    /// model); a one-shot `score --reasons none` never calls it and never holds them.
    pub fn prepare_exact_explanations(&self) {
        let _ = self.linear_shap();
    }

    /// Whether the exact-explanation tables are built.
    pub fn exact_explanations_prepared(&self) -> bool {
        self.linear_shap.0.get().is_some()
    }

    /// The linear-time TreeSHAP tables, built on first use.
    fn linear_shap(&self) -> &crate::linear_shap::LinearShap {
        self.linear_shap
            .0
            .get_or_init(|| crate::linear_shap::LinearShap::build(&self.trees))
    }

    /// Value of the leaf that feature vector `x` reaches from `root` (pointer walk).
    #[inline]
    fn leaf_value(&self, root: u32, x: &[f32]) -> f64 {
        let mut n = root;
        while n & LEAF == 0 {
            let node = &self.nodes[n as usize];
            n = if go_left(node.decision_type, node.threshold, x[node.feature as usize]) {
                node.left
            } else {
                node.right
            };
        }
        self.leaves[(n & !LEAF) as usize]
    }

    /// Raw score (log-odds).
    #[inline]
    pub fn raw_score(&self, x: &[f32]) -> f64 {
        let mut sum = 0.0;
        for &root in &self.roots {
            sum += self.leaf_value(root, x);
        }
        sum
    }

    /// Raw scores of `rows` feature vectors stored row-major in `xs` (each `num_features`
    /// long), added into `out`. Evaluates tree by tree over the block so each tree stays in
    /// cache while all rows pass through it: several times faster than row by row once the
    /// model outgrows the CPU cache.
    pub fn raw_scores_block(&self, xs: &[f32], out: &mut [f64]) {
        if let Some(lanes) = &self.lanes {
            lanes.add_block(xs, out);
            return;
        }
        self.raw_scores_block_reference(xs, out);
    }

    /// [`Ensemble::raw_scores_block`] by the bitvector traversal ([`crate::quick_scorer`]),
    /// bit-identical to it; built on the first call. Falls back to the lane walk when the trees
    /// cannot be laid out (a NaN threshold).
    pub fn raw_scores_block_bitvector(&self, xs: &[f32], out: &mut [f64]) {
        let quick = self.quick.0.get_or_init(|| {
            crate::quick_scorer::QuickForest::build(
                &self.trees.iter().map(Tree::view).collect::<Vec<_>>(),
                self.num_features,
            )
        });
        match quick {
            Some(q) => q.add_block(xs, out),
            None => self.raw_scores_block(xs, out),
        }
    }

    /// The block scorer before [`crate::lane_walk`] (complete trees when shallow, else the
    /// pointer walk tree by tree): kept as the benchmark baseline and test oracle.
    pub fn raw_scores_block_reference(&self, xs: &[f32], out: &mut [f64]) {
        let nf = self.num_features;
        if let Some(c) = &self.complete {
            c.add_block(xs, nf, out);
            return;
        }
        let rows = out.len().min(xs.len() / nf.max(1));
        for &root in &self.roots {
            for (r, o) in out.iter_mut().enumerate().take(rows) {
                let x = &xs[r * nf..(r + 1) * nf];
                *o += self.leaf_value(root, x);
            }
        }
    }

    /// Exact path-dependent TreeSHAP contributions, computed in linear time per tree by
    /// [`crate::linear_shap`] (equal to [`Ensemble::shap_reference`] up to rounding).
    pub fn shap(&self, x: &[f32]) -> Contributions {
        let mut values = vec![0.0; self.num_features];
        let mut bias = 0.0;
        let mut scratch = self.linear_shap().scratch();
        let mut reference = None;
        for (i, tree) in self.trees.iter().enumerate() {
            bias += tree.expected_value();
            if tree.is_stump() || self.linear_shap().add_tree(i, x, &mut values, &mut scratch) {
                continue;
            }
            let d = self.max_depth + 2;
            let buffer =
                reference.get_or_insert_with(|| vec![PathElement::default(); d * (d + 1) / 2 + d]);
            tree_shap(tree, x, &mut values, 0, 0, buffer, 0, 1.0, 1.0, -1);
        }
        Contributions { bias, values }
    }

    /// [`Ensemble::shap`] of every row of `xs` (row-major, `num_features` each), computed
    /// [`SHAP_BLOCK`] rows at a time tree by tree: each tree's records stay in cache while the
    /// block's rows pass through it, and the rows share one pass over the tree (see
    /// [`crate::linear_shap::ROWS`]). Equal to [`Ensemble::shap`] up to rounding; use it
    /// whenever several rows need explanations.
    pub fn shap_block(&self, xs: &[f32]) -> Vec<Contributions> {
        let nf = self.num_features;
        if nf == 0 {
            return Vec::new();
        }
        let rows = xs.len() / nf;
        let bias = self.trees.iter().fold(0.0, |b, t| b + t.expected_value());
        let mut out = Vec::with_capacity(rows);
        let mut scratch = self.linear_shap().block_scratch();
        let mut reference = None;
        // One block's contributions, feature-major (see `LinearShap::add_tree_block`).
        let mut phi_t = vec![0.0; SHAP_BLOCK * nf];
        let mut values = vec![0.0; nf];
        for xs in xs[..rows * nf].chunks(SHAP_BLOCK * nf) {
            let n = xs.len() / nf;
            let phi_t = &mut phi_t[..n * nf];
            phi_t.fill(0.0);
            for (i, tree) in self.trees.iter().enumerate() {
                if tree.is_stump()
                    || self
                        .linear_shap()
                        .add_tree_block(i, xs, nf, phi_t, &mut scratch)
                {
                    continue;
                }
                let d = self.max_depth + 2;
                let buffer = reference
                    .get_or_insert_with(|| vec![PathElement::default(); d * (d + 1) / 2 + d]);
                for (r, x) in xs.chunks_exact(nf).enumerate() {
                    values.fill(0.0);
                    tree_shap(tree, x, &mut values, 0, 0, buffer, 0, 1.0, 1.0, -1);
                    for (f, v) in values.iter().enumerate() {
                        phi_t[f * n + r] += v;
                    }
                }
            }
            out.extend((0..n).map(|r| Contributions {
                bias,
                values: (0..nf).map(|f| phi_t[f * n + r]).collect(),
            }));
        }
        out
    }

    /// Exact TreeSHAP (Lundberg et al. 2018, path-dependent algorithm) contributions: the
    /// reference [`Ensemble::shap`] is tested against, `leaves x depth^2` per tree.
    pub fn shap_reference(&self, x: &[f32]) -> Contributions {
        let mut values = vec![0.0; self.num_features];
        let mut bias = 0.0;
        let d = self.max_depth + 2;
        let mut buffer = vec![PathElement::default(); d * (d + 1) / 2 + d];
        for tree in &self.trees {
            bias += tree.expected_value();
            if tree.is_stump() {
                continue;
            }
            tree_shap(tree, x, &mut values, 0, 0, &mut buffer, 0, 1.0, 1.0, -1);
        }
        Contributions { bias, values }
    }

    /// Saabas path attributions: along the path `x` takes, each split's feature is credited
    /// with the change in expected value. O(depth) per tree; sums to the same raw score as
    /// [`Ensemble::shap`] but does not share SHAP's consistency guarantees.
    pub fn path_contributions(&self, x: &[f32]) -> Contributions {
        let mut values = vec![0.0; self.num_features];
        let mut bias = 0.0;
        for tree in &self.trees {
            if tree.is_stump() {
                bias += tree.leaf_value[0];
                continue;
            }
            bias += tree.internal_value[0];
            let mut node = 0i32;
            while node >= 0 {
                let n = node as usize;
                let next = tree.next(n, x);
                values[tree.split_feature[n] as usize] += tree.value(next) - tree.internal_value[n];
                node = next;
            }
        }
        Contributions { bias, values }
    }
}

fn parse_tree(map: &std::collections::HashMap<&str, &str>) -> Result<Tree, ParseError> {
    fn list<T: std::str::FromStr>(
        map: &std::collections::HashMap<&str, &str>,
        key: &str,
    ) -> Result<Vec<T>, ParseError> {
        match map.get(key) {
            None => Ok(Vec::new()),
            Some(v) if v.trim().is_empty() => Ok(Vec::new()),
            Some(v) => v
                .split_whitespace()
                .map(|s| {
                    s.parse::<T>()
                        .map_err(|_| ParseError(format!("{key}: cannot parse {s:?}")))
                })
                .collect(),
        }
    }
    if map.get("num_cat").is_some_and(|v| v.trim() != "0") {
        return Err(ParseError("categorical splits are not supported".into()));
    }
    // Infinite thresholds cannot be stored in JSON; the largest finite value splits every
    // finite feature value the same way.
    let threshold: Vec<f64> = list(map, "threshold")?;
    let threshold = threshold
        .into_iter()
        .map(|t| {
            if t.is_infinite() {
                f64::MAX.copysign(t)
            } else {
                t
            }
        })
        .collect();
    let tree = Tree {
        split_feature: list(map, "split_feature")?,
        threshold,
        decision_type: list(map, "decision_type")?,
        left_child: list(map, "left_child")?,
        right_child: list(map, "right_child")?,
        internal_value: list(map, "internal_value")?,
        internal_count: list(map, "internal_count")?,
        leaf_value: list(map, "leaf_value")?,
        leaf_count: list(map, "leaf_count")?,
    };
    let internal = tree.split_feature.len();
    let consistent = [
        tree.threshold.len(),
        tree.decision_type.len(),
        tree.left_child.len(),
        tree.right_child.len(),
        tree.internal_value.len(),
        tree.internal_count.len(),
    ]
    .iter()
    .all(|&n| n == internal)
        && tree.leaf_value.len() == internal + 1
        && (tree.leaf_count.len() == internal + 1 || internal == 0);
    if !consistent || tree.leaf_value.is_empty() {
        return Err(ParseError("tree arrays have inconsistent lengths".into()));
    }
    let in_range =
        |c: &i32| (*c >= 0 && (*c as usize) < internal) || (*c < 0 && (!*c as usize) <= internal);
    if !tree.left_child.iter().all(in_range) || !tree.right_child.iter().all(in_range) {
        return Err(ParseError("tree child index out of range".into()));
    }
    Ok(tree)
}

fn extend_path(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: i32) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / (depth + 1) as f64;
        path[i].weight = zero * path[i].weight * (depth - i) as f64 / (depth + 1) as f64;
    }
}

fn unwind_path(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].weight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one_portion * (depth + 1) as f64 / ((i + 1) as f64 * one);
            next_one_portion =
                tmp - path[i].weight * zero * (depth - i) as f64 / (depth + 1) as f64;
        } else {
            path[i].weight = path[i].weight * (depth + 1) as f64 / (zero * (depth - i) as f64);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_path_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let mut next_one_portion = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next_one_portion * (depth + 1) as f64 / ((i + 1) as f64 * one);
            total += tmp;
            next_one_portion =
                path[i].weight - tmp * zero * ((depth - i) as f64 / (depth + 1) as f64);
        } else {
            total += (path[i].weight / zero) / ((depth - i) as f64 / (depth + 1) as f64);
        }
    }
    total
}

/// Recursive step of TreeSHAP. `offset` is where the parent's path starts in `buffer`; this
/// call's path is written right after it (`depth + 1` elements), as in the reference algorithm.
#[allow(clippy::too_many_arguments)]
fn tree_shap(
    tree: &Tree,
    x: &[f32],
    phi: &mut [f64],
    node: i32,
    depth: usize,
    buffer: &mut [PathElement],
    offset: usize,
    parent_zero: f64,
    parent_one: f64,
    parent_feature: i32,
) {
    let start = offset + depth;
    // copy parent path [offset, offset+depth) to [start, start+depth)
    let (head, tail) = buffer.split_at_mut(start);
    tail[..depth].copy_from_slice(&head[offset..offset + depth]);
    let path = &mut tail[..];
    extend_path(path, depth, parent_zero, parent_one, parent_feature);
    if node < 0 {
        let leaf_value = tree.leaf_value[!node as usize];
        for i in 1..=depth {
            let w = unwound_path_sum(path, depth, i);
            let el = path[i];
            phi[el.feature as usize] += w * (el.one_fraction - el.zero_fraction) * leaf_value;
        }
        return;
    }
    let n = node as usize;
    let split = tree.split_feature[n] as i32;
    let hot = tree.next(n, x);
    let cold = if hot == tree.left_child[n] {
        tree.right_child[n]
    } else {
        tree.left_child[n]
    };
    let w = tree.internal_count[n];
    let hot_zero = tree.cover(hot) / w;
    let cold_zero = tree.cover(cold) / w;
    let mut incoming_zero = 1.0;
    let mut incoming_one = 1.0;
    let mut depth = depth;
    if let Some(k) = (0..=depth).find(|&k| path[k].feature == split) {
        incoming_zero = path[k].zero_fraction;
        incoming_one = path[k].one_fraction;
        unwind_path(path, depth, k);
        depth -= 1;
    }
    tree_shap(
        tree,
        x,
        phi,
        hot,
        depth + 1,
        buffer,
        start,
        hot_zero * incoming_zero,
        incoming_one,
        split,
    );
    tree_shap(
        tree,
        x,
        phi,
        cold,
        depth + 1,
        buffer,
        start,
        cold_zero * incoming_zero,
        0.0,
        split,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x0 <= 0.5 ? (x1 <= 0.5 ? 1 : 3) : 10, covers 2/2/4 — small enough to verify by hand.
    fn tree() -> Tree {
        Tree {
            split_feature: vec![0, 1],
            threshold: vec![0.5, 0.5],
            decision_type: vec![2 | (MISSING_NAN << MISSING_SHIFT), 0],
            left_child: vec![1, !0],
            right_child: vec![!2, !1],
            internal_value: vec![6.0, 2.0],
            internal_count: vec![8.0, 4.0],
            leaf_value: vec![1.0, 3.0, 10.0],
            leaf_count: vec![2.0, 2.0, 4.0],
        }
    }

    /// A chain of `depth` internal nodes: node i splits feature 0 and sends the left side
    /// to node i + 1, the right side to a leaf.
    fn chain(depth: usize) -> Tree {
        let n = depth;
        Tree {
            split_feature: vec![0; n],
            threshold: (0..n).map(|i| i as f64).collect(),
            decision_type: vec![0; n],
            left_child: (0..n)
                .map(|i| {
                    if i + 1 < n {
                        (i + 1) as i32
                    } else {
                        !(n as i32)
                    }
                })
                .collect(),
            right_child: (0..n).map(|i| !(i as i32)).collect(),
            // Node i covers leaves i..=n (one training row each): consistent covers and means.
            internal_value: (0..n).map(|i| (i + n) as f64 / 2.0).collect(),
            internal_count: (0..n).map(|i| (n + 1 - i) as f64).collect(),
            leaf_value: (0..=n).map(|i| i as f64).collect(),
            leaf_count: vec![1.0; n + 1],
        }
    }

    #[test]
    fn crafted_trees_are_refused_with_the_reason_not_a_panic() {
        assert_eq!(tree().validate(2), Ok(()));
        let refused = |t: Tree, why: &str| {
            let err = Ensemble::checked(2, vec![tree(), t]).expect_err("refused");
            assert!(err.starts_with("tree 1: ") && err.contains(why), "{err}");
        };
        let mut t = tree();
        t.left_child[1] = 999;
        refused(t, "beyond 2 internal nodes");
        let mut t = tree();
        t.left_child[1] = 1; // node 1 is its own child: a loop
        refused(t, "reached twice");
        let mut t = tree();
        t.right_child[1] = !0; // both children the same leaf
        refused(t, "leaf 0 is reached twice");
        let mut t = tree();
        t.right_child[0] = !7;
        refused(t, "beyond 3 leaves");
        let mut t = tree();
        t.threshold.pop();
        refused(t, "threshold has 1 entries for 2 internal nodes");
        let mut t = tree();
        t.leaf_value.push(0.0);
        t.leaf_count.push(1.0);
        refused(t, "need 3 leaves");
        let mut t = tree();
        t.split_feature[0] = 5;
        refused(t, "feature 5 of 2");
        refused(chain(MAX_TREE_DEPTH + 1), "deeper than");
        // The same refusal through deserialisation.
        let mut t = tree();
        t.left_child[0] = 0;
        let json = serde_json::json!({"num_features": 2, "trees": [t]});
        let err = serde_json::from_value::<Ensemble>(json).expect_err("refused");
        assert!(
            err.to_string().contains("tree 0: node 0 is reached twice"),
            "{err}"
        );
    }

    #[test]
    fn the_deepest_allowed_tree_scores_and_explains_on_a_small_thread_stack() {
        let e = Ensemble::checked(1, vec![chain(MAX_TREE_DEPTH)]).expect("valid");
        // 2 MiB: the default stack of a spawned thread (a server's worker).
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let x = [-1.0f32];
                let raw = e.raw_score(&x);
                let c = e.shap(&x);
                let p = e.path_contributions(&x);
                (
                    raw,
                    c.bias + c.values.iter().sum::<f64>(),
                    p.bias + p.values.iter().sum::<f64>(),
                )
            })
            .expect("spawn");
        let (raw, shap_total, path_total) = handle.join().expect("no stack overflow");
        // x = -1 is below every threshold: left down the whole chain to the last leaf.
        assert_eq!(raw, MAX_TREE_DEPTH as f64);
        assert!((shap_total - raw).abs() < 1e-6, "{shap_total} vs {raw}");
        assert!((path_total - raw).abs() < 1e-6, "{path_total} vs {raw}");
    }

    #[test]
    fn walks_splits_and_missing_values() {
        let e = Ensemble::new(2, vec![tree()]);
        assert_eq!(e.raw_score(&[0.0, 0.0]), 1.0);
        assert_eq!(e.raw_score(&[0.0, 1.0]), 3.0);
        assert_eq!(e.raw_score(&[1.0, 0.0]), 10.0);
        // NaN on feature 0 goes to the default (left) side; on feature 1 it is treated as 0.
        assert_eq!(e.raw_score(&[f32::NAN, f32::NAN]), 1.0);
    }

    #[test]
    fn shap_matches_hand_computed_shapley_values() {
        // x = (0, 1): f = 3. E[f] = 6. With x0 known: E[f|x0 left] = 2; with x1 known (right,
        // i.e. leaf 3 under the left branch, 10 under the right): E[f|x1] = 0.5*3 + 0.5*10 = 6.5.
        // phi0 = 0.5*((2-6) + (3-6.5)) = -3.75, phi1 = 0.5*((6.5-6) + (3-2)) = 0.75.
        let e = Ensemble::new(2, vec![tree()]);
        let c = e.shap(&[0.0, 1.0]);
        assert!((c.bias - 6.0).abs() < 1e-12);
        assert!((c.values[0] + 3.75).abs() < 1e-12, "{:?}", c.values);
        assert!((c.values[1] - 0.75).abs() < 1e-12, "{:?}", c.values);
    }

    #[test]
    fn block_scoring_equals_row_by_row() {
        let e = Ensemble::new(2, vec![tree(), tree()]);
        let rows = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [f32::NAN, 0.7]];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let mut out = vec![0.0; rows.len()];
        e.raw_scores_block(&flat, &mut out);
        let single: Vec<f64> = rows.iter().map(|x| e.raw_score(x)).collect();
        assert_eq!(out, single);
    }

    /// A random unbalanced tree of `splits` internal nodes over `nf` features, with
    /// thresholds that f32 cannot represent and every missing-value rule but zero-as-missing.
    fn random_tree(seed: &mut u64, splits: usize, nf: u32) -> Tree {
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        // Grow by splitting a random leaf, as LightGBM's leaf-wise growth does.
        let mut t = Tree::single_leaf(0.0, 1.0);
        // parent[leaf] = (node, is_left)
        let mut parent: Vec<Option<(usize, bool)>> = vec![None];
        for _ in 0..splits {
            let leaf = (next() % t.leaf_value.len() as u64) as usize;
            let node = t.split_feature.len();
            let new_leaf = t.leaf_value.len();
            t.split_feature.push((next() % u64::from(nf)) as u32);
            t.threshold
                .push((next() % 2000) as f64 / 1000.0 - 1.0 + 1e-9);
            let dt = match next() % 3 {
                0 => MISSING_NAN << MISSING_SHIFT | DEFAULT_LEFT,
                1 => MISSING_NAN << MISSING_SHIFT,
                _ => 0,
            };
            t.decision_type.push(dt);
            t.left_child.push(!(leaf as i32));
            t.right_child.push(!(new_leaf as i32));
            t.internal_value.push(0.0);
            t.internal_count.push(1.0);
            if let Some((p, is_left)) = parent[leaf] {
                if is_left {
                    t.left_child[p] = node as i32;
                } else {
                    t.right_child[p] = node as i32;
                }
            }
            parent[leaf] = Some((node, true));
            parent.push(Some((node, false)));
            t.leaf_value.push((next() % 1000) as f64 / 997.0 - 0.5);
            t.leaf_count.push(1.0);
        }
        t
    }

    #[test]
    fn complete_tree_walk_equals_the_pointer_walk_exactly() {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let nf = 5;
        for splits in [0, 1, 3, 7, 20, 40] {
            let trees: Vec<Tree> = (0..6).map(|_| random_tree(&mut seed, splits, nf)).collect();
            let e = Ensemble::new(nf as usize, trees);
            assert_eq!(e.complete.is_some(), e.max_depth <= MAX_COMPLETE_DEPTH);
            let mut rows = Vec::new();
            for r in 0..300u32 {
                let row: Vec<f32> = (0..nf)
                    .map(|f| match (r * 7 + f * 3) % 11 {
                        0 => f32::NAN,
                        1 => 0.0,
                        // Values at and next to the thresholds' f32 roundings.
                        2 => e.trees[0].threshold.first().map_or(0.5, |t| *t as f32),
                        _ => ((r * 31 + f * 17) % 2000) as f32 / 1000.0 - 1.0,
                    })
                    .collect();
                rows.push(row);
            }
            let flat: Vec<f32> = rows.iter().flatten().copied().collect();
            let mut out = vec![0.0; rows.len()];
            e.raw_scores_block(&flat, &mut out);
            for (row, got) in rows.iter().zip(&out) {
                assert_eq!(got.to_bits(), e.raw_score(row).to_bits(), "{row:?}");
            }
        }
    }

    /// The decision vector follows LightGBM's walk (missing values included), and rows that
    /// share a tree's vector share its exact contributions: the property a memo keyed by it
    /// would rest on (measured in `examples/decision_memo.rs`, not built: BENCHMARKS.md).
    #[test]
    fn rows_with_one_decision_vector_share_the_trees_contributions() {
        let mut seed = 0x2545_F491_4F6C_DD1D;
        let nf = 4;
        for splits in [1, 5, 20, 64, 65] {
            let tree = random_tree(&mut seed, splits, nf);
            let e = Ensemble::new(nf as usize, vec![tree.clone()]);
            let mut by_vector: std::collections::HashMap<u64, Vec<f64>> = Default::default();
            let mut shared = 0;
            for r in 0..400u32 {
                let x: Vec<f32> = (0..nf)
                    .map(|f| match (r * 5 + f * 3) % 9 {
                        0 => f32::NAN,
                        _ => ((r * 37 + f * 11) % 40) as f32 / 20.0 - 1.0,
                    })
                    .collect();
                let Some(bits) = tree.decision_vector(&x) else {
                    assert!(splits > 64);
                    continue;
                };
                let mut node = 0i32;
                while node >= 0 {
                    let right = bits >> node & 1 == 1;
                    let next = tree.next(node as usize, &x);
                    assert_eq!(
                        next,
                        [&tree.left_child, &tree.right_child][usize::from(right)][node as usize]
                    );
                    node = next;
                }
                let phi = e.shap_reference(&x).values;
                if let Some(seen) = by_vector.insert(bits, phi.clone()) {
                    shared += 1;
                    for (a, b) in seen.iter().zip(&phi) {
                        assert!((a - b).abs() <= 1e-12, "{seen:?} {phi:?}");
                    }
                }
            }
            assert!(splits > 64 || shared > 0, "no two rows shared a vector");
        }
    }

    #[test]
    fn f32_thresholds_round_down() {
        for t in [
            0.1,
            -0.1,
            1e-40,
            -1e-40,
            0.0,
            3.0,
            f64::MAX,
            -f64::MAX,
            1e39,
        ] {
            let r = f32_at_or_below(t);
            assert!(f64::from(r) <= t, "{t} -> {r}");
            // The next f32 up is above t (the rounding is the tightest one).
            let up = if r == f32::MAX {
                f32::INFINITY
            } else if r >= 0.0 {
                f32::from_bits(r.to_bits() + 1)
            } else if r == -f32::from_bits(1) {
                0.0
            } else {
                f32::from_bits(r.to_bits() - 1)
            };
            assert!(
                f64::from(up) > t || t.is_infinite(),
                "{t} -> {r}, next {up}"
            );
        }
    }

    #[test]
    fn shap_and_path_contributions_sum_to_raw_score() {
        let e = Ensemble::new(2, vec![tree(), tree()]);
        for x in [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [f32::NAN, 0.7]] {
            let raw = e.raw_score(&x);
            for c in [e.shap(&x), e.path_contributions(&x)] {
                let total = c.bias + c.values.iter().sum::<f64>();
                assert!((total - raw).abs() < 1e-9, "{total} vs {raw}");
            }
        }
    }
}
