//! The calibrated pair score: logistic regression over the explainable features of one token
//! alignment (`matcher.rs` computes them), so a score reads as a match probability.
//!
//! Weights live in `data/pair_model.json` (embedded); they are fitted by
//! `cargo run --release -p borderline-devkit --example train_pair_model` on the **dev**
//! parts of the development sets only ([`crate::devsets`]), never the held-aside parts.
//! Without a usable weights file the score falls back to the rule score (feature 0).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Number of features.
pub const NF: usize = 23;

/// Feature names, in order (also the keys of the weights file).
pub const FEATURE_NAMES: [&str; NF] = [
    "rule_score",
    "query_unexplained_share",
    "list_unexplained_share",
    "known_extra_share",
    "fuzzy_loss",
    "single_token_name",
    "person",
    "person_x_rule_score",
    "legal_forms_other_jurisdiction",
    "legal_forms_differ",
    "place_name_one_side",
    "word_order_differs",
    "identical_tokens",
    "transliteration_share",
    "matched_word_rarity",
    "number_one_side",
    "replaced_share",
    "fuzzy_first_letter",
    "unmatched_spelled_alike_share",
    "replaced_word_rarity",
    "given_names_added_after_shared",
    "given_name_added_before_shared",
    "shared_words_other_entries",
];

pub type Features = [f64; NF];

/// Sign each weight is held to while fitting (+1: >= 0, -1: <= 0, 0: free), so the model
/// cannot learn that a worse spelling or an unexplained word makes a match likelier because
/// the training sets happen to correlate them.
pub const SIGNS: [i8; NF] = [
    1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, 1, -1, 1, -1, -1, -1, 1, -1, 1, -1, -1,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairModel {
    pub bias: f64,
    /// Feature name -> weight.
    pub weights: Vec<(String, f64)>,
    /// What the weights were fitted on (set names, pair counts), for the record.
    #[serde(default)]
    pub trained_on: String,
    /// A separate model for companies, vessels and aircraft (feature `person` = 0), when
    /// fitted; the top-level weights then score persons only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Box<PairModel>>,
    /// Boosted trees (when fitted): the logit is `bias` plus the trees' leaf values, and
    /// `weights` are only the record of the logistic fit beside them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trees: Vec<Tree>,
    #[serde(skip)]
    w: Features,
    /// Whether every tree is in the fitter's layout (see [`trees_in_order`]), checked when the
    /// model is loaded: such trees are walked without the guards a hand-edited file needs.
    #[serde(skip)]
    trees_ordered: bool,
}

/// One node of a regression tree: `(feature, threshold, left, right, value)`; a leaf has
/// feature `LEAF` and its value, an inner node sends `x[feature] <= threshold` left.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct TreeNode(pub u8, pub f64, pub u32, pub u32, pub f64);

/// Marks a leaf in [`TreeNode`].
pub const LEAF: u8 = u8::MAX;

/// A regression tree, root first.
pub type Tree = Vec<TreeNode>;

fn tree_value(t: &[TreeNode], f: &Features) -> f64 {
    let mut i = 0usize;
    // A tree of the fitter is acyclic and its indices in range; a hand-edited file that is
    // not ends at the first bad index instead of panicking or looping.
    for _ in 0..64 {
        let Some(n) = t.get(i) else { return 0.0 };
        if n.0 == LEAF {
            return n.4;
        }
        let x = f.get(n.0 as usize).copied().unwrap_or(0.0);
        i = if x <= n.1 { n.2 } else { n.3 } as usize;
    }
    0.0
}

/// Whether every tree is laid out as [`fit_gbdt`] writes it: at most 64 nodes, root first,
/// each inner node's feature in range and its children after it. Walking such a tree from
/// the root reaches a leaf within 64 steps and never leaves the tree, so
/// [`tree_value_ordered`] gives exactly [`tree_value`]'s value without its guards.
/// No trees (a logistic model) is not such a model.
fn trees_in_order(trees: &[Tree]) -> bool {
    !trees.is_empty()
        && trees.iter().all(|t| {
            !t.is_empty()
                && t.len() <= 64
                && t.iter().enumerate().all(|(i, n)| {
                    n.0 == LEAF
                        || ((n.0 as usize) < NF
                            && (n.2 as usize) > i
                            && (n.3 as usize) > i
                            && (n.2 as usize) < t.len()
                            && (n.3 as usize) < t.len())
                })
        })
}

/// [`tree_value`] for a tree checked by [`trees_in_order`]: the company model walks 60 trees
/// for every candidate a company query scores (issue 15, speed).
fn tree_value_ordered(t: &[TreeNode], f: &Features) -> f64 {
    let mut n = &t[0];
    while n.0 != LEAF {
        n = &t[if f[n.0 as usize] <= n.1 { n.2 } else { n.3 } as usize];
    }
    n.4
}

impl PairModel {
    pub fn from_parts(bias: f64, w: Features, trained_on: String) -> Self {
        PairModel {
            bias,
            weights: FEATURE_NAMES
                .iter()
                .zip(w)
                .map(|(n, x)| (n.to_string(), x))
                .collect(),
            trained_on,
            company: None,
            trees: Vec::new(),
            w,
            trees_ordered: false,
        }
    }

    /// Replaces the linear score by boosted trees with base logit `bias`.
    pub fn with_trees(mut self, bias: f64, trees: Vec<Tree>) -> Self {
        self.bias = bias;
        self.trees = trees;
        self.trees_ordered = trees_in_order(&self.trees);
        self
    }

    /// Adds the model for non-person pairs.
    pub fn with_company(mut self, company: PairModel) -> Self {
        self.company = Some(Box::new(company));
        self
    }

    fn index(mut self) -> Self {
        self.company = self.company.map(|c| Box::new(c.index()));
        self.trees_ordered = trees_in_order(&self.trees);
        for (n, x) in &self.weights {
            if let Some(i) = FEATURE_NAMES.iter().position(|f| f == n) {
                self.w[i] = *x;
            }
        }
        self
    }

    pub fn logit(&self, f: &Features) -> f64 {
        if self.trees_ordered {
            return self.bias
                + self
                    .trees
                    .iter()
                    .map(|t| tree_value_ordered(t, f))
                    .sum::<f64>();
        }
        if !self.trees.is_empty() {
            return self.bias + self.trees.iter().map(|t| tree_value(t, f)).sum::<f64>();
        }
        self.bias + self.w.iter().zip(f).map(|(w, x)| w * x).sum::<f64>()
    }

    pub fn prob(&self, f: &Features) -> f64 {
        if let Some(c) = self.company.as_ref().filter(|_| f[6] == 0.0) {
            return c.prob(f);
        }
        1.0 / (1.0 + (-self.logit(f)).exp())
    }
}

static MODEL_JSON: &str = include_str!("../data/pair_model.json");

/// The embedded model (None when the file does not parse: the rule score is used then).
pub fn embedded() -> Option<&'static PairModel> {
    static M: OnceLock<Option<PairModel>> = OnceLock::new();
    M.get_or_init(|| {
        serde_json::from_str::<PairModel>(MODEL_JSON)
            .ok()
            .map(PairModel::index)
    })
    .as_ref()
}

/// Fits logistic regression by full-batch gradient descent with L2 (weights only), rows
/// weighted. Deterministic (no sampling); features are already in [0, 1].
pub fn fit(rows: &[(Features, bool, f64)], l2: f64, iters: usize) -> (f64, Features) {
    let mut w = [0.0f64; NF];
    let mut b = 0.0f64;
    let total_w: f64 = rows.iter().map(|r| r.2).sum::<f64>().max(1e-9);
    let lr = 2.0;
    for _ in 0..iters {
        let mut gw = [0.0f64; NF];
        let mut gb = 0.0f64;
        for (f, y, rw) in rows {
            let z = b + w.iter().zip(f).map(|(a, x)| a * x).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let e = (p - if *y { 1.0 } else { 0.0 }) * rw;
            gb += e;
            for k in 0..NF {
                gw[k] += e * f[k];
            }
        }
        b -= lr * gb / total_w;
        for k in 0..NF {
            w[k] -= lr * (gw[k] / total_w + l2 * w[k]);
            match SIGNS[k] {
                1 => w[k] = w[k].max(0.0),
                -1 => w[k] = w[k].min(0.0),
                _ => {}
            }
        }
    }
    (b, w)
}

/// Parameters of [`fit_gbdt`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GbdtParams {
    pub trees: usize,
    pub depth: usize,
    pub learning_rate: f64,
    /// L2 on leaf values (XGBoost's lambda).
    pub lambda: f64,
    /// Least hessian (row weight x p(1-p)) in a child.
    pub min_child_hessian: f64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            trees: 60,
            // 3 until the eleventh round; 4 chosen by the grouped cross-validation with the
            // `replaced_word_rarity` feature (docs/screening.md, "Eleventh round").
            depth: 4,
            learning_rate: 0.15,
            lambda: 5.0,
            min_child_hessian: 5.0,
        }
    }
}

/// Fits gradient-boosted regression trees for log loss (Newton leaves, exact splits),
/// rows weighted, deterministic. The features of [`SIGNS`] are monotone constraints, as in
/// XGBoost: a split on such a feature must order its children's values in the feature's
/// direction, and the children's subtrees stay within the midpoint bound, so a worse spelling
/// or an unexplained word never raises the probability. Returns (base logit, trees).
pub fn fit_gbdt(rows: &[(Features, bool, f64)], p: &GbdtParams) -> (f64, Vec<Tree>) {
    let n = rows.len();
    let tw: f64 = rows.iter().map(|r| r.2).sum::<f64>().max(1e-9);
    let pw: f64 = rows.iter().filter(|r| r.1).map(|r| r.2).sum::<f64>();
    let prior = (pw / tw).clamp(1e-6, 1.0 - 1e-6);
    let base = (prior / (1.0 - prior)).ln();
    let mut logit = vec![base; n];
    let sorted: Vec<Vec<u32>> = (0..NF)
        .map(|k| {
            let mut ix: Vec<u32> = (0..n as u32).collect();
            ix.sort_by(|&a, &b| rows[a as usize].0[k].total_cmp(&rows[b as usize].0[k]));
            ix
        })
        .collect();
    let (mut g, mut h) = (vec![0.0f64; n], vec![0.0f64; n]);
    let mut node_of = vec![0u32; n];
    let mut trees = Vec::with_capacity(p.trees);
    let leaf_w = |gs: f64, hs: f64, lo: f64, hi: f64| (-gs / (hs + p.lambda)).clamp(lo, hi);
    let gain = |gs: f64, hs: f64, w: f64| -(2.0 * gs * w + (hs + p.lambda) * w * w);
    for _ in 0..p.trees {
        for i in 0..n {
            let pr = 1.0 / (1.0 + (-logit[i]).exp());
            let y = if rows[i].1 { 1.0 } else { 0.0 };
            g[i] = rows[i].2 * (pr - y);
            h[i] = rows[i].2 * (pr * (1.0 - pr)).max(1e-6);
        }
        node_of.iter_mut().for_each(|x| *x = 0);
        let mut tree: Tree = vec![TreeNode(LEAF, 0.0, 0, 0, 0.0)];
        // (node, depth, lower bound, upper bound)
        let mut frontier = vec![(0u32, 0usize, f64::NEG_INFINITY, f64::INFINITY)];
        while let Some((node, depth, lo, hi)) = frontier.pop() {
            let (mut gs, mut hs) = (0.0, 0.0);
            for i in 0..n {
                if node_of[i] == node {
                    gs += g[i];
                    hs += h[i];
                }
            }
            let own = leaf_w(gs, hs, lo, hi);
            tree[node as usize].4 = own * p.learning_rate;
            if depth >= p.depth {
                continue;
            }
            let parent_gain = gain(gs, hs, own);
            // (gain, feature, threshold, left w, right w)
            let mut best: Option<(f64, usize, f64, f64, f64)> = None;
            for (k, order) in sorted.iter().enumerate() {
                let (mut gl, mut hl) = (0.0, 0.0);
                let mut prev: Option<f64> = None;
                for &i in order {
                    let i = i as usize;
                    if node_of[i] != node {
                        continue;
                    }
                    let x = rows[i].0[k];
                    if let Some(px) = prev {
                        if x > px && hl >= p.min_child_hessian && hs - hl >= p.min_child_hessian {
                            let wl = leaf_w(gl, hl, lo, hi);
                            let wr = leaf_w(gs - gl, hs - hl, lo, hi);
                            let ok = match SIGNS[k] {
                                1 => wl <= wr,
                                -1 => wl >= wr,
                                _ => true,
                            };
                            let gn = gain(gl, hl, wl) + gain(gs - gl, hs - hl, wr) - parent_gain;
                            if ok && gn > 1e-6 && best.is_none_or(|b| gn > b.0) {
                                best = Some((gn, k, (px + x) / 2.0, wl, wr));
                            }
                        }
                    }
                    gl += g[i];
                    hl += h[i];
                    prev = Some(x);
                }
            }
            let Some((_, k, thr, wl, wr)) = best else {
                continue;
            };
            let (l, r) = (tree.len() as u32, tree.len() as u32 + 1);
            tree.push(TreeNode(LEAF, 0.0, 0, 0, 0.0));
            tree.push(TreeNode(LEAF, 0.0, 0, 0, 0.0));
            tree[node as usize] = TreeNode(k as u8, thr, l, r, 0.0);
            for i in 0..n {
                if node_of[i] == node {
                    node_of[i] = if rows[i].0[k] <= thr { l } else { r };
                }
            }
            let mid = (wl + wr) / 2.0;
            let (lb, rb) = match SIGNS[k] {
                1 => ((lo, mid), (mid, hi)),
                -1 => ((mid, hi), (lo, mid)),
                _ => ((lo, hi), (lo, hi)),
            };
            frontier.push((l, depth + 1, lb.0, lb.1));
            frontier.push((r, depth + 1, rb.0, rb.1));
        }
        for i in 0..n {
            logit[i] += tree_value(&tree, &rows[i].0);
        }
        trees.push(tree);
    }
    (base, trees)
}

/// Mean log loss of a model on rows (for the training report).
pub fn log_loss(b: f64, w: &Features, rows: &[(Features, bool, f64)]) -> f64 {
    let mut s = 0.0;
    let mut n = 0.0;
    for (f, y, rw) in rows {
        let z = b + w.iter().zip(f).map(|(a, x)| a * x).sum::<f64>();
        let p = (1.0 / (1.0 + (-z).exp())).clamp(1e-9, 1.0 - 1e-9);
        s -= rw * if *y { p.ln() } else { (1.0 - p).ln() };
        n += rw;
    }
    s / n.max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_a_clear_feature() {
        let mut rows = Vec::new();
        for i in 0..200 {
            let mut f = [0.0; NF];
            f[0] = i as f64 / 200.0;
            rows.push((f, i >= 100, 1.0));
        }
        let (b, w) = fit(&rows, 1e-4, 2000);
        assert!(w[0] > 1.0, "{w:?}");
        let m = PairModel::from_parts(b, w, String::new());
        let mut lo = [0.0; NF];
        lo[0] = 0.1;
        let mut hi = [0.0; NF];
        hi[0] = 0.9;
        assert!(m.prob(&lo) < 0.5 && m.prob(&hi) > 0.5);
    }

    #[test]
    fn boosted_trees_separate_and_keep_the_sign_constraints() {
        let mut rows = Vec::new();
        for i in 0..400 {
            let mut f = [0.0; NF];
            f[0] = (i % 200) as f64 / 200.0;
            let y = f[0] >= 0.5;
            // Unexplained share (held <= 0) here correlates with matches: the trees must not
            // learn that an unexplained word makes a match likelier.
            f[1] = if y == (i % 4 != 0) { 0.8 } else { 0.2 };
            rows.push((f, y, 1.0));
        }
        let (base, trees) = fit_gbdt(&rows, &GbdtParams::default());
        let m = PairModel::from_parts(0.0, [0.0; NF], String::new()).with_trees(base, trees);
        let at = |x0: f64, x1: f64| {
            let mut f = [0.0; NF];
            f[0] = x0;
            f[1] = x1;
            m.prob(&f)
        };
        assert!(at(0.9, 0.8) > 0.5 && at(0.1, 0.2) < 0.5);
        for x0 in [0.1, 0.5, 0.9] {
            assert!(at(x0, 0.8) <= at(x0, 0.2) + 1e-12, "{x0}");
        }
        // Identical row sets give identical trees (no sampling).
        let again = fit_gbdt(&rows, &GbdtParams::default());
        assert_eq!(again.1, m.trees);
    }

    #[test]
    fn embedded_weights_parse() {
        let m = embedded().expect("data/pair_model.json parses");
        assert_eq!(m.weights.len(), NF);
    }

    /// The unguarded walk of trees in the fitter's layout gives the guarded walk's values, and
    /// a tree out of that layout (a hand-edited file) keeps the guarded walk.
    #[test]
    fn ordered_tree_walk_equals_the_guarded_walk() {
        let m = embedded().expect("data/pair_model.json parses");
        // The persons' model is logistic: no trees, and the linear score.
        assert!(m.trees.is_empty() && !m.trees_ordered);
        let c = m.company.as_ref().expect("company model");
        assert!(c.trees_ordered && !c.trees.is_empty());
        // Random features (0, 1, NaN, which goes right, or uniform).
        let mut state = 7u64;
        for _ in 0..2_000 {
            let mut f = [0.0; NF];
            for x in f.iter_mut() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *x = match state >> 61 {
                    0 => 0.0,
                    1 => 1.0,
                    2 => f64::NAN,
                    _ => (state >> 11) as f64 / (1u64 << 53) as f64,
                };
            }
            for t in &c.trees {
                assert_eq!(tree_value_ordered(t, &f), tree_value(t, &f));
            }
        }
        // A child before its parent (a loop) is not the fitter's layout.
        let looped = vec![
            TreeNode(0, 0.5, 1, 2, 0.0),
            TreeNode(0, 0.5, 0, 2, 0.0),
            TreeNode(LEAF, 0.0, 0, 0, 1.0),
        ];
        assert!(!trees_in_order(std::slice::from_ref(&looped)));
        let m = PairModel::from_parts(0.0, [0.0; NF], String::new()).with_trees(0.0, vec![looped]);
        assert!(!m.trees_ordered);
        assert!(m.prob(&[0.0; NF]).is_finite());
    }

    /// Screening scores a company candidate first with the family count left 0 and counts it
    /// only when that score reaches the threshold (`Matcher::score_candidates`): exact only
    /// because the shipped model never rises with the count. A refit without the sign
    /// constraint, or a hand-edited file, would make screening miss hits: this says so.
    #[test]
    fn the_shipped_models_never_rise_with_the_family_count() {
        let m = embedded().expect("data/pair_model.json parses");
        let family = FEATURE_NAMES
            .iter()
            .position(|n| *n == "shared_words_other_entries")
            .expect("the family count is a feature");
        assert_eq!(SIGNS[family], -1);
        let mut state = 11u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..5_000 {
            let mut f = [0.0; NF];
            for x in f.iter_mut() {
                *x = if next() < 0.3 { 0.0 } else { next() };
            }
            // Both models: persons (feature 6 set) and companies.
            f[6] = f64::from(u8::from(i % 2 == 0));
            f[family] = 0.0;
            let bound = m.prob(&f);
            for count in [0.25, 0.5, 0.75, 1.0] {
                f[family] = count;
                assert!(m.prob(&f) <= bound + 1e-12, "{f:?}");
            }
        }
    }
}
