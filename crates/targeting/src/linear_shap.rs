//! Exact path-dependent TreeSHAP in time linear in the tree's size, after Linear TreeSHAP
//! (Yu, Bifet, Read and Xu, NeurIPS 2022): the same values as Lundberg et al.'s algorithm
//! (`trees.rs`), which costs `leaves x depth^2` per tree, at `edges x depth / 2` multiply-adds.
//!
//! The identity used: for a leaf `l` with value `v`, whose path tests the unique features `F`
//! (for each, `p_j` is the product of the cover fractions of the path's edges on `j` and
//! `o_j` is 1 when `x` follows all of them, else 0), Shapley's weights
//! `|S|! (|F|-|S|-1)! / |F|! = integral_0^1 t^|S| (1-t)^(|F|-|S|-1) dt` turn the sum over
//! subsets into one integral:
//!
//! ```text
//! phi_i(l) = v (o_i - p_i) integral_0^1 prod_{j in F, j != i} a_j(t) dt,   a_j(t) = p_j + t (o_j - p_j)
//! ```
//!
//! The integrand is a polynomial of degree `|F| - 1`, so Gauss-Legendre quadrature with
//! `ceil(D / 2)` points (`D` the most unique features on any path of the tree) is exact. Per
//! point, a depth-first pass carries the product `P` of the `a_j` down the tree, sums
//! `S = sum v P` of the leaves back up, and credits each edge on feature `d` with
//! `(o - p) sum_k w_k S_k / a_k`; where an ancestor edge already tested `d`, that edge's share
//! for the same leaves is taken back, so every leaf is credited once, with its deepest
//! (complete) factor for `d`. No division at query time for edges `x` does not follow
//! (`a = (1 - t) p`: both reciprocals are precomputed); one per point for the others.
//!
//! Trees with a zero or non-finite cover (where TreeSHAP itself divides by zero) or more than
//! [`MAX_UNIQUE`] features on a path are left to the reference algorithm, so results always
//! equal it.

use crate::trees::Tree;

/// Most unique features on a path handled here (quadrature points up to half of it).
pub const MAX_UNIQUE: usize = 64;

/// Quadrature point counts compiled; a tree uses the smallest not below `ceil(D / 2)` (more
/// points are still exact).
const POINT_COUNTS: [usize; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32];

const NO_ANCESTOR: u8 = u8::MAX;

/// One split with what its two edges need, 64 bytes, stored in pre-order so an explanation
/// reads the model front to back (left subtree right after its parent).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Node {
    /// The split as [`crate::lane_walk::encode`] gives it (exactly LightGBM's decision).
    threshold: f32,
    word: u32,
    /// Position of the right child when it is a split.
    right: u32,
    /// Path depth of the nearest ancestor split on the same feature, or [`NO_ANCESTOR`].
    ancestor: u8,
    /// Bit 0: the left child is a leaf; bit 1: the right child is.
    leaves: u8,
    /// Per edge (left, right): combined cover fraction of this feature along the path, its
    /// reciprocal, and the leaf value when the child is a leaf.
    p: [f64; 2],
    inv_p: [f64; 2],
    leaf: [f64; 2],
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct LinearTree {
    /// Quadrature points (one of [`POINT_COUNTS`]).
    points: usize,
    /// Where the tree's root is in [`LinearShap::nodes`], and its number of splits.
    root: usize,
    len: usize,
}

/// Precomputed, input-independent parts of every tree, aligned with the ensemble's trees.
/// `None` marks a stump or a tree left to the reference algorithm.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearShap {
    trees: Vec<Option<LinearTree>>,
    /// All trees' splits, tree after tree, each in pre-order.
    nodes: Vec<Node>,
    max_depth: usize,
}

/// Gauss-Legendre points and weights on `[0, 1]`, plus `1 / (1 - t)`.
#[derive(Debug, Clone, Copy)]
struct Quadrature<const K: usize> {
    t: [f64; K],
    w: [f64; K],
    inv_one_minus_t: [f64; K],
}

impl<const K: usize> Quadrature<K> {
    fn new() -> Self {
        let (mut t, mut w, mut inv) = ([0.0; K], [0.0; K], [0.0; K]);
        for (k, (x, weight)) in gauss_legendre(K).into_iter().enumerate() {
            t[k] = x;
            w[k] = weight;
            inv[k] = 1.0 / (1.0 - x);
        }
        Quadrature {
            t,
            w,
            inv_one_minus_t: inv,
        }
    }
}

/// Nodes and weights of `n`-point Gauss-Legendre quadrature on `[0, 1]` (Newton's method on
/// the Legendre polynomial from Chebyshev starting points, to full precision).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            // Legendre recurrence for P_n(z) and P_n'(z).
            let (mut p0, mut p1) = (1.0, 0.0);
            for j in 0..n {
                let p2 = p1;
                p1 = p0;
                p0 = ((2 * j + 1) as f64 * z * p1 - j as f64 * p2) / (j + 1) as f64;
            }
            derivative = n as f64 * (z * p0 - p1) / (z * z - 1.0);
            let step = p0 / derivative;
            z -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        let weight = 2.0 / ((1.0 - z * z) * derivative * derivative);
        // Map [-1, 1] to [0, 1].
        out.push(((1.0 - z) / 2.0, weight / 2.0));
    }
    out
}

impl LinearShap {
    pub fn build(trees: &[Tree]) -> Self {
        let mut nodes = Vec::new();
        let mut max_depth = 0;
        let prepared = trees
            .iter()
            .map(|t| {
                let before = nodes.len();
                let prepared = prepare(t, &mut nodes, &mut max_depth);
                if prepared.is_none() {
                    nodes.truncate(before);
                }
                prepared
            })
            .collect();
        LinearShap {
            trees: prepared,
            nodes,
            max_depth,
        }
    }

    /// Scratch space for [`LinearShap::add_tree`], reusable across trees and rows.
    pub fn scratch(&self) -> Scratch {
        let levels = self.max_depth + 1;
        Scratch {
            inv: vec![0.0; levels * 32],
            p: vec![0.0; levels],
            follows: vec![false; levels],
        }
    }

    /// Adds tree `index`'s SHAP values for `x` into `phi`; `false` when the tree is left to
    /// the reference algorithm (nothing added).
    pub fn add_tree(
        &self,
        index: usize,
        x: &[f32],
        phi: &mut [f64],
        scratch: &mut Scratch,
    ) -> bool {
        let Some(Some(lt)) = self.trees.get(index) else {
            return false;
        };
        let nodes = &self.nodes[lt.root..];
        match lt.points {
            1 => run::<1>(nodes, x, phi, scratch),
            2 => run::<2>(nodes, x, phi, scratch),
            3 => run::<3>(nodes, x, phi, scratch),
            4 => run::<4>(nodes, x, phi, scratch),
            5 => run::<5>(nodes, x, phi, scratch),
            6 => run::<6>(nodes, x, phi, scratch),
            7 => run::<7>(nodes, x, phi, scratch),
            8 => run::<8>(nodes, x, phi, scratch),
            10 => run::<10>(nodes, x, phi, scratch),
            12 => run::<12>(nodes, x, phi, scratch),
            16 => run::<16>(nodes, x, phi, scratch),
            24 => run::<24>(nodes, x, phi, scratch),
            _ => run::<32>(nodes, x, phi, scratch),
        }
        true
    }

    /// Scratch space for [`LinearShap::add_tree_block`], reusable across trees and blocks.
    pub fn block_scratch(&self) -> BlockScratch {
        let levels = self.max_depth + 2;
        let points = self
            .trees
            .iter()
            .flatten()
            .map(|t| t.points)
            .max()
            .unwrap_or(1);
        BlockScratch {
            prod: vec![[0.0; ROWS]; levels * points],
            acc: vec![[0.0; ROWS]; levels * points],
            follows: vec![[0.0; ROWS]; levels],
            edge: vec![0; levels],
            coef: vec![[0.0; ROWS]; levels],
            tables: Vec::new(),
        }
    }

    /// Adds tree `index`'s SHAP values for every row of `xs` (row-major, `nf` features each)
    /// into `phi_t`, stored feature-major (`phi_t[f * rows + r]` for row `r`, so the credits of
    /// the lanes to one feature are one contiguous add): the same values as
    /// [`LinearShap::add_tree`] row by row, computed [`ROWS`] rows at a time with the tree's
    /// tables built once for the whole block. `false` when the tree is left to the reference
    /// algorithm (nothing added).
    pub fn add_tree_block(
        &self,
        index: usize,
        xs: &[f32],
        nf: usize,
        phi_t: &mut [f64],
        scratch: &mut BlockScratch,
    ) -> bool {
        let Some(Some(lt)) = self.trees.get(index) else {
            return false;
        };
        let Some(nodes) = self.nodes.get(lt.root..lt.root + lt.len) else {
            return false;
        };
        let rows = xs.len() / nf.max(1);
        if phi_t.len() < rows * nf {
            return false;
        }
        let phi = phi_t;
        if nf == 0 || rows == 0 {
            return true;
        }
        match lt.points {
            1 => run_block::<1>(nodes, xs, nf, rows, phi, scratch),
            2 => run_block::<2>(nodes, xs, nf, rows, phi, scratch),
            3 => run_block::<3>(nodes, xs, nf, rows, phi, scratch),
            4 => run_block::<4>(nodes, xs, nf, rows, phi, scratch),
            5 => run_block::<5>(nodes, xs, nf, rows, phi, scratch),
            6 => run_block::<6>(nodes, xs, nf, rows, phi, scratch),
            7 => run_block::<7>(nodes, xs, nf, rows, phi, scratch),
            8 => run_block::<8>(nodes, xs, nf, rows, phi, scratch),
            10 => run_block::<10>(nodes, xs, nf, rows, phi, scratch),
            12 => run_block::<12>(nodes, xs, nf, rows, phi, scratch),
            16 => run_block::<16>(nodes, xs, nf, rows, phi, scratch),
            24 => run_block::<24>(nodes, xs, nf, rows, phi, scratch),
            _ => run_block::<32>(nodes, xs, nf, rows, phi, scratch),
        }
        true
    }

    /// Work of one row's explanation in split-points: each linear tree's splits times its
    /// quadrature points, summed (the depth-first pass does this many multiply-add groups;
    /// trees left to the reference algorithm are not counted). The explanation cost measure
    /// of issue 17's model sweeps: it grows with the splits and with the unique features on
    /// the tree's longest paths.
    pub fn work(&self) -> usize {
        self.trees.iter().flatten().map(|t| t.len * t.points).sum()
    }

    /// Trees handled here (the rest go to the reference algorithm).
    pub fn num_linear(&self) -> usize {
        self.trees.iter().flatten().count()
    }
}

/// Per-call working memory: for each depth of the current path, the reciprocal of the
/// edge's factor at each point and whether `x` follows the edge's feature so far.
pub struct Scratch {
    inv: Vec<f64>,
    p: Vec<f64>,
    follows: Vec<bool>,
}

fn cover(tree: &Tree, child: i32) -> Option<f64> {
    if child >= 0 {
        tree.internal_count.get(child as usize).copied()
    } else {
        tree.leaf_count.get(!child as usize).copied()
    }
}

/// Appends `tree`'s splits to `nodes` in pre-order. `None` for stumps, zero or non-finite
/// covers, malformed trees, paths deeper than 254 or with more than [`MAX_UNIQUE`] features.
fn prepare(tree: &Tree, nodes: &mut Vec<Node>, max_depth: &mut usize) -> Option<LinearTree> {
    let internal = tree.split_feature.len();
    if internal == 0 || tree.leaf_value.len() != internal + 1 {
        return None;
    }
    let root = nodes.len();
    let mut path: Vec<(u32, f64)> = Vec::new();
    let mut unique = 0;
    place(tree, 0, &mut path, nodes, max_depth, &mut unique)?;
    if unique > MAX_UNIQUE || nodes.len() - root != internal {
        return None;
    }
    let needed = unique.div_ceil(2).max(1);
    let points = *POINT_COUNTS.iter().find(|&&k| k >= needed)?;
    Some(LinearTree {
        points,
        root,
        len: internal,
    })
}

/// Appends internal node `n` and its subtree in pre-order; `path` holds (feature, combined
/// fraction) of the edges above. Tracks the depth and the most unique features on a path.
fn place(
    tree: &Tree,
    n: usize,
    path: &mut Vec<(u32, f64)>,
    nodes: &mut Vec<Node>,
    max_depth: &mut usize,
    unique: &mut usize,
) -> Option<()> {
    let feature = *tree.split_feature.get(n)?;
    let parent_cover = *tree.internal_count.get(n)?;
    if !(parent_cover > 0.0 && parent_cover.is_finite()) || path.len() >= 254 {
        return None;
    }
    let ancestor = path.iter().rposition(|&(f, _)| f == feature);
    let p_ancestor = ancestor.map_or(1.0, |a| path[a].1);
    let (threshold, word) = crate::lane_walk::encode(
        *tree.decision_type.get(n)?,
        *tree.threshold.get(n)?,
        feature,
    );
    let at = nodes.len();
    nodes.push(Node {
        threshold,
        word,
        ancestor: ancestor.map_or(NO_ANCESTOR, |a| a as u8),
        ..Node::default()
    });
    for (side, child) in [*tree.left_child.get(n)?, *tree.right_child.get(n)?]
        .into_iter()
        .enumerate()
    {
        let c = cover(tree, child)?;
        if !(c > 0.0 && c.is_finite()) {
            return None;
        }
        let p = c / parent_cover * p_ancestor;
        nodes[at].p[side] = p;
        nodes[at].inv_p[side] = 1.0 / p;
        path.push((feature, p));
        *max_depth = (*max_depth).max(path.len());
        if child >= 0 {
            if side == 1 {
                nodes[at].right = u32::try_from(nodes.len() - at).ok()?;
            }
            place(tree, child as usize, path, nodes, max_depth, unique)?;
        } else {
            nodes[at].leaves |= 1 << side;
            nodes[at].leaf[side] = *tree.leaf_value.get(!child as usize)?;
            let mut features: Vec<u32> = path.iter().map(|&(f, _)| f).collect();
            features.sort_unstable();
            features.dedup();
            *unique = (*unique).max(features.len());
        }
        path.pop();
    }
    Some(())
}

fn run<const K: usize>(nodes: &[Node], x: &[f32], phi: &mut [f64], scratch: &mut Scratch) {
    let q = quadrature::<K>();
    // The quadrature weights ride along in the product, so every sum below is already
    // weighted.
    visit::<K>(nodes, &q, x, phi, scratch, 0, &q.w);
}

/// Quadratures are cheap to compute (K Newton solves) but run per tree; keep one per K.
fn quadrature<const K: usize>() -> Quadrature<K> {
    use std::sync::OnceLock;
    // One cache slot per compiled point count.
    static CACHE: [OnceLock<Vec<(f64, f64)>>; POINT_COUNTS.len()] =
        [const { OnceLock::new() }; POINT_COUNTS.len()];
    let slot = POINT_COUNTS.iter().position(|&k| k == K).unwrap_or(0);
    let nodes = CACHE[slot].get_or_init(|| gauss_legendre(K));
    if nodes.len() != K {
        return Quadrature::new();
    }
    let mut q = Quadrature {
        t: [0.0; K],
        w: [0.0; K],
        inv_one_minus_t: [0.0; K],
    };
    for (k, &(t, w)) in nodes.iter().enumerate() {
        q.t[k] = t;
        q.w[k] = w;
        q.inv_one_minus_t[k] = 1.0 / (1.0 - t);
    }
    q
}

/// Depth-first pass below the split at `nodes[0]` (its subtree follows it in pre-order; right
/// subtree at `nodes[0].right`), at path depth `depth`, with `product` the points' product of
/// factors down to it (times the quadrature weights). Credits `phi` and returns `sum v P` over
/// the leaves below.
// Several arrays indexed by the same quadrature point: index loops read clearer than zips.
#[allow(clippy::needless_range_loop)]
fn visit<const K: usize>(
    nodes: &[Node],
    q: &Quadrature<K>,
    x: &[f32],
    phi: &mut [f64],
    scratch: &mut Scratch,
    depth: usize,
    product: &[f64; K],
) -> [f64; K] {
    let node = nodes[0];
    let feature = (node.word & ((1 << 30) - 1)) as usize;
    let hot = usize::from(crate::lane_walk::goes_right(
        node.threshold,
        node.word,
        x[feature],
    ));
    // The nearest ancestor edge on the same feature: whether x followed it, its reciprocal
    // factors and its credit coefficient.
    let ancestor = (node.ancestor != NO_ANCESTOR).then(|| {
        let a = usize::from(node.ancestor);
        let mut inv = [0.0; K];
        inv.copy_from_slice(&scratch.inv[a * K..(a + 1) * K]);
        let follows = scratch.follows[a];
        (follows, inv, f64::from(u8::from(follows)) - scratch.p[a])
    });
    let ancestor_follows = ancestor.as_ref().is_none_or(|a| a.0);
    let mut below = [0.0; K];
    for side in 0..2 {
        let follows = ancestor_follows && side == hot;
        let p = node.p[side];
        let mut factor = [0.0; K];
        if follows {
            for k in 0..K {
                factor[k] = p + q.t[k] * (1.0 - p);
            }
        } else {
            for k in 0..K {
                factor[k] = p * (1.0 - q.t[k]);
            }
        }
        // Below this edge the ancestor's factor for the feature is replaced by this one.
        let mut base = *product;
        if let Some((_, ai, _)) = &ancestor {
            for k in 0..K {
                base[k] *= ai[k];
            }
        }
        let mut child_product = [0.0; K];
        for k in 0..K {
            child_product[k] = base[k] * factor[k];
        }
        let coef = f64::from(u8::from(follows)) - p;
        let (sum, credit) = if node.leaves & (1 << side) != 0 {
            // A leaf: its sum divided by this edge's factor is `v * base`, no division needed.
            let v = node.leaf[side];
            let mut s = [0.0; K];
            let mut credit = 0.0;
            match &ancestor {
                Some((_, ai, ancestor_coef)) => {
                    for k in 0..K {
                        s[k] = v * child_product[k];
                        credit += coef * base[k] - ancestor_coef * child_product[k] * ai[k];
                    }
                }
                None => {
                    for k in 0..K {
                        s[k] = v * child_product[k];
                        credit += base[k];
                    }
                    credit *= coef;
                }
            }
            (s, v * credit)
        } else {
            let mut inv = [0.0; K];
            if follows {
                for k in 0..K {
                    inv[k] = 1.0 / factor[k];
                }
            } else {
                for k in 0..K {
                    inv[k] = node.inv_p[side] * q.inv_one_minus_t[k];
                }
            }
            scratch.follows[depth] = follows;
            scratch.p[depth] = p;
            scratch.inv[depth * K..(depth + 1) * K].copy_from_slice(&inv);
            let child = if side == 0 { 1 } else { node.right as usize };
            let sum = visit::<K>(
                &nodes[child..],
                q,
                x,
                phi,
                scratch,
                depth + 1,
                &child_product,
            );
            let mut credit = 0.0;
            match &ancestor {
                Some((_, ai, ancestor_coef)) => {
                    for k in 0..K {
                        credit += sum[k] * (coef * inv[k] - ancestor_coef * ai[k]);
                    }
                }
                None => {
                    for k in 0..K {
                        credit += sum[k] * inv[k];
                    }
                    credit *= coef;
                }
            }
            (sum, credit)
        };
        phi[feature] += credit;
        for k in 0..K {
            below[k] += sum[k];
        }
    }
    below
}

// ---------------------------------------------------------------------------------------------
// Several rows at once.
//
// The pass above visits every split of a tree whatever the row: only whether the row follows
// each edge differs. So [`ROWS`] rows can share one pass, each quantity becoming a vector over
// the rows (`[f64; ROWS]` per quadrature point), and the per-point loops run over contiguous
// lanes the compiler vectorises. The edge factors and their reciprocals (the divisions) depend
// only on the tree: they are tabled once per tree per block, and the tree's records and tables
// stay in the L1 cache while the block's rows pass through it.

/// Rows explained together in one pass over a tree.
pub const ROWS: usize = 8;

/// Working memory of [`LinearShap::add_tree_block`]: per depth of the current path (`K` lanes
/// of [`ROWS`] each per depth for the point-wise quantities).
pub struct BlockScratch {
    /// Product of the factors down to the split at each depth.
    prod: Vec<[f64; ROWS]>,
    /// Sum of `v P` over the leaves below the split at each depth.
    acc: Vec<[f64; ROWS]>,
    /// Whether each row follows the edge taken at each depth (and all edges above it on the
    /// same feature; 1.0 or 0.0), and its credit coefficient `o - p`.
    follows: Vec<[f64; ROWS]>,
    coef: Vec<[f64; ROWS]>,
    /// The tables of the edge taken at each depth (its first array in the current tree's).
    edge: Vec<usize>,
    /// The current tree's edge tables, [`TABLES`] arrays of `K` per edge.
    tables: Vec<f64>,
}

/// Per edge: the factor when not followed, what following adds to it, then for a split child
/// the reciprocals of both factors, for a leaf child both times the leaf value.
const TABLES: usize = 4;
const NOT: usize = 0;
const GAIN: usize = 1;
const INV_FOLLOW: usize = 2;
const INV_NOT: usize = 3;
const V_NOT: usize = 2;
const V_GAIN: usize = 3;

/// One tree over one block of rows.
struct BlockPass<'a, const K: usize> {
    nodes: &'a [Node],
    /// [`TABLES`] arrays per edge, edge `2 * node + side`.
    tables: &'a [[f64; K]],
    xs: &'a [f32],
    nf: usize,
    /// Start of each lane's row in `xs` (the last row repeated past the block's end).
    offsets: [usize; ROWS],
}

// Several arrays indexed by the same quadrature point: index loops read clearer than zips.
#[allow(clippy::needless_range_loop)]
fn run_block<const K: usize>(
    nodes: &[Node],
    xs: &[f32],
    nf: usize,
    rows: usize,
    phi: &mut [f64],
    scratch: &mut BlockScratch,
) {
    let q = quadrature::<K>();
    let mut tables = std::mem::take(&mut scratch.tables);
    // Every entry of the tree's tables is written below: grow, never clear.
    let needed = nodes.len() * 2 * TABLES * K;
    if tables.len() < needed {
        tables.resize(needed, 0.0);
    }
    let (chunks, _) = tables[..needed].as_chunks_mut::<K>();
    for (i, node) in nodes.iter().enumerate() {
        for side in 0..2 {
            let p = node.p[side];
            let at = (2 * i + side) * TABLES;
            let leaf = node.leaves & (1 << side) != 0;
            let v = node.leaf[side];
            for k in 0..K {
                // The row-by-row pass's factors.
                let follow = p + q.t[k] * (1.0 - p);
                let not = p * (1.0 - q.t[k]);
                chunks[at + NOT][k] = not;
                chunks[at + GAIN][k] = follow - not;
                if leaf {
                    chunks[at + V_NOT][k] = v * not;
                    chunks[at + V_GAIN][k] = v * (follow - not);
                } else {
                    chunks[at + INV_FOLLOW][k] = 1.0 / follow;
                    chunks[at + INV_NOT][k] = node.inv_p[side] * q.inv_one_minus_t[k];
                }
            }
        }
    }
    let (chunks, _) = tables[..needed].as_chunks::<K>();
    for start in (0..rows).step_by(ROWS) {
        let n = ROWS.min(rows - start);
        let mut offsets = [0; ROWS];
        for (r, o) in offsets.iter_mut().enumerate() {
            *o = (start + r.min(n - 1)) * nf;
        }
        let pass = BlockPass {
            nodes,
            tables: chunks,
            xs,
            nf,
            offsets,
        };
        // The quadrature weights ride along in the product, as row by row.
        for k in 0..K {
            scratch.prod[k] = [q.w[k]; ROWS];
        }
        let mut credits = Credits {
            phi_t: &mut *phi,
            rows,
            start,
            n,
            nf,
        };
        visit_block::<K>(&pass, 0, 0, scratch, &mut credits);
    }
    scratch.tables = tables;
}

/// Where the lanes' credits go: rows `start..start + n` of `phi_t` (feature-major, `rows` per
/// feature).
struct Credits<'a> {
    phi_t: &'a mut [f64],
    rows: usize,
    start: usize,
    n: usize,
    nf: usize,
}

impl Credits<'_> {
    #[inline]
    fn add(&mut self, feature: usize, credit: &[f64; ROWS]) {
        if feature >= self.nf {
            return;
        }
        let at = feature * self.rows + self.start;
        if let Some(out) = self.phi_t.get_mut(at..at + self.n) {
            for (o, c) in out.iter_mut().zip(credit) {
                *o += c;
            }
        }
    }
}

/// The pass of [`visit`] below split `i` (at path depth `d`, its product in `scratch.prod`
/// at depth `d`) for every lane at once; leaves the lanes' `sum v P` in `scratch.acc` at depth
/// `d`.
fn visit_block<const K: usize>(
    pass: &BlockPass<'_, K>,
    i: usize,
    d: usize,
    scratch: &mut BlockScratch,
    credits: &mut Credits<'_>,
) {
    let node = pass.nodes[i];
    let feature = (node.word & ((1 << 30) - 1)) as usize;
    // 1.0 where the row goes right, 0.0 where it goes left: the lanes' choices as numbers,
    // so every select below is a multiply by exactly 0 or 1 (exact, and vectorised).
    let mut right = [0.0; ROWS];
    for (h, &o) in right.iter_mut().zip(&pass.offsets) {
        let v = pass
            .xs
            .get(o + feature.min(pass.nf - 1))
            .copied()
            .unwrap_or(0.0);
        *h = f64::from(u8::from(crate::lane_walk::goes_right(
            node.threshold,
            node.word,
            v,
        )));
    }
    if node.ancestor == NO_ANCESTOR {
        edges::<K, false>(pass, i, d, 0, &right, feature, scratch, credits);
    } else {
        let a = usize::from(node.ancestor);
        edges::<K, true>(pass, i, d, a, &right, feature, scratch, credits);
    }
}

/// Both edges of split `i`; `ANC`: an ancestor edge at depth `a` tested the same feature.
///
/// Each lane's edge factor is `not + o * gain` with `o` exactly 0 or 1; a split child's credit
/// `(o - p) sum_k S_k / a_k` is taken as `(o - p) (o sum_k S_k / follow_k + (1 - o) sum_k S_k /
/// not_k)`, so no per-lane reciprocal is stored; a leaf child's `v a_k` is tabled.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline]
fn edges<const K: usize, const ANC: bool>(
    pass: &BlockPass<'_, K>,
    i: usize,
    d: usize,
    a: usize,
    right: &[f64; ROWS],
    feature: usize,
    scratch: &mut BlockScratch,
    credits: &mut Credits<'_>,
) {
    let node = pass.nodes[i];
    // The ancestor edge on the same feature: whether each lane followed it, its coefficient,
    // and its reciprocal factors (replaced below this split by this split's own).
    let (anc_follows, anc_coef) = if ANC {
        (scratch.follows[a], scratch.coef[a])
    } else {
        ([1.0; ROWS], [0.0; ROWS])
    };
    let mut ai = [[1.0; ROWS]; K];
    // The product down to this split with the ancestor's factor taken out.
    let mut base = [[0.0; ROWS]; K];
    let mut base_sum = [0.0; ROWS];
    if ANC {
        let ta = &pass.tables[scratch.edge[a]..][..TABLES];
        for k in 0..K {
            let (iff, inot) = (ta[INV_FOLLOW][k], ta[INV_NOT][k]);
            let prod = scratch.prod[d * K + k];
            for r in 0..ROWS {
                ai[k][r] = iff * anc_follows[r] + inot * (1.0 - anc_follows[r]);
                base[k][r] = prod[r] * ai[k][r];
            }
        }
    } else {
        for k in 0..K {
            base[k] = scratch.prod[d * K + k];
            for r in 0..ROWS {
                base_sum[r] += base[k][r];
            }
        }
    }
    let mut acc = [[0.0; ROWS]; K];
    for side in 0..2 {
        let p = node.p[side];
        // Whether each row follows this edge (and the ancestor's), as 1.0 or 0.0.
        let mut fo = [0.0; ROWS];
        let mut coef = [0.0; ROWS];
        for r in 0..ROWS {
            let hot = if side == 1 { right[r] } else { 1.0 - right[r] };
            fo[r] = anc_follows[r] * hot;
            coef[r] = fo[r] - p;
        }
        let at = (2 * i + side) * TABLES;
        let t = &pass.tables[at..][..TABLES];
        let mut credit = [0.0; ROWS];
        if node.leaves & (1 << side) != 0 {
            let v = node.leaf[side];
            if ANC {
                for k in 0..K {
                    let (not, gain) = (t[NOT][k], t[GAIN][k]);
                    for r in 0..ROWS {
                        let child = base[k][r] * (not + fo[r] * gain);
                        acc[k][r] += v * child;
                        credit[r] += coef[r] * base[k][r] - anc_coef[r] * child * ai[k][r];
                    }
                }
                for r in 0..ROWS {
                    credit[r] *= v;
                }
            } else {
                for k in 0..K {
                    let (v_not, v_gain) = (t[V_NOT][k], t[V_GAIN][k]);
                    for r in 0..ROWS {
                        acc[k][r] += base[k][r] * (v_not + fo[r] * v_gain);
                    }
                }
                for r in 0..ROWS {
                    credit[r] = v * coef[r] * base_sum[r];
                }
            }
        } else {
            for k in 0..K {
                let (not, gain) = (t[NOT][k], t[GAIN][k]);
                let mut child = [0.0; ROWS];
                for r in 0..ROWS {
                    child[r] = base[k][r] * (not + fo[r] * gain);
                }
                scratch.prod[(d + 1) * K + k] = child;
            }
            scratch.follows[d] = fo;
            scratch.coef[d] = coef;
            scratch.edge[d] = at;
            let next = if side == 0 {
                i + 1
            } else {
                i + node.right as usize
            };
            visit_block::<K>(pass, next, d + 1, scratch, credits);
            // sum_k S_k / follow_k, sum_k S_k / not_k, and (with an ancestor) sum_k S_k ai_k.
            let (mut on, mut off, mut back) = ([0.0; ROWS], [0.0; ROWS], [0.0; ROWS]);
            for k in 0..K {
                let sum = scratch.acc[(d + 1) * K + k];
                let (iff, inot) = (t[INV_FOLLOW][k], t[INV_NOT][k]);
                for r in 0..ROWS {
                    on[r] += sum[r] * iff;
                    off[r] += sum[r] * inot;
                    if ANC {
                        back[r] += sum[r] * ai[k][r];
                    }
                    acc[k][r] += sum[r];
                }
            }
            for r in 0..ROWS {
                credit[r] = coef[r] * (fo[r] * on[r] + (1.0 - fo[r]) * off[r]);
                if ANC {
                    credit[r] -= anc_coef[r] * back[r];
                }
            }
        }
        credits.add(feature, &credit);
    }
    for (k, lanes) in acc.iter().enumerate() {
        scratch.acc[d * K + k] = *lanes;
    }
}
