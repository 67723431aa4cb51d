//! The fast scoring and explanation paths against their references, on random LightGBM-shaped
//! trees: the lane walk and the bitvector traversal must give bit-identical raw scores to the
//! pointer walk, the linear-time
//! TreeSHAP the reference TreeSHAP's values to 1e-9.

use borderline_targeting::trees::{Ensemble, Tree};
use proptest::prelude::*;

const DEFAULT_LEFT: u8 = 2;
const MISSING_ZERO: u8 = 1 << 2;
const MISSING_NAN: u8 = 2 << 2;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A tree grown leaf-wise (a random leaf split each time, as LightGBM does) over `nf`
/// features, with thresholds f32 cannot represent, every missing-value rule (`zero_missing`
/// adds zero-as-missing splits), and consistent covers (a parent's count is its children's sum).
fn random_tree(rng: &mut Rng, splits: usize, nf: u32, zero_missing: bool) -> Tree {
    let mut t = Tree::single_leaf((rng.below(1000) as f64) / 997.0 - 0.5, 1.0);
    let mut parent: Vec<Option<(usize, bool)>> = vec![None];
    for _ in 0..splits {
        let leaf = rng.below(t.leaf_value.len() as u64) as usize;
        let node = t.split_feature.len();
        let new_leaf = t.leaf_value.len();
        t.split_feature.push(rng.below(u64::from(nf)) as u32);
        // Few distinct thresholds per feature, as LightGBM's binning gives: features repeat
        // on a path with nested and equal thresholds.
        t.threshold
            .push((rng.below(9) as f64) / 4.0 - 1.0 + 1e-9 * (rng.below(3) as f64 - 1.0));
        let dt = match rng.below(if zero_missing { 4 } else { 3 }) {
            0 => MISSING_NAN | DEFAULT_LEFT,
            1 => MISSING_NAN,
            2 => 0,
            _ => MISSING_ZERO | if rng.below(2) == 0 { DEFAULT_LEFT } else { 0 },
        };
        t.decision_type.push(dt);
        t.left_child.push(!(leaf as i32));
        t.right_child.push(!(new_leaf as i32));
        t.internal_value.push(0.0);
        t.internal_count.push(0.0);
        if let Some((p, is_left)) = parent[leaf] {
            if is_left {
                t.left_child[p] = node as i32;
            } else {
                t.right_child[p] = node as i32;
            }
        }
        parent[leaf] = Some((node, true));
        parent.push(Some((node, false)));
        t.leaf_value.push((rng.below(1000) as f64) / 997.0 - 0.5);
        t.leaf_count.push(1.0);
    }
    for c in t.leaf_count.iter_mut() {
        *c = (1 + rng.below(50)) as f64;
    }
    fn fill(t: &mut Tree, child: i32) -> f64 {
        if child < 0 {
            return t.leaf_count[!child as usize];
        }
        let n = child as usize;
        let c = fill(t, t.left_child[n]) + fill(t, t.right_child[n]);
        t.internal_count[n] = c;
        c
    }
    if splits > 0 {
        fill(&mut t, 0);
    }
    t
}

fn random_rows(rng: &mut Rng, rows: usize, nf: usize) -> Vec<f32> {
    (0..rows * nf)
        .map(|_| match rng.below(12) {
            0 => f32::NAN,
            1 => 0.0,
            2 => -0.0,
            3 => 1e-36,
            4 => f32::INFINITY,
            5 => f32::NEG_INFINITY,
            // On and beside the thresholds' grid.
            6 | 7 => (rng.below(9) as f32) / 4.0 - 1.0,
            _ => (rng.below(4000) as f32) / 1000.0 - 2.0,
        })
        .collect()
}

fn ensemble(seed: u64, trees: usize, splits: usize, nf: u32, zero_missing: bool) -> Ensemble {
    let mut rng = Rng(seed | 1);
    let trees = (0..trees)
        .map(|_| {
            let s = rng.below(splits as u64 + 1) as usize;
            random_tree(&mut rng, s, nf, zero_missing)
        })
        .collect();
    Ensemble::new(nf as usize, trees)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lane_walk_is_bit_identical_to_the_pointer_walk(
        seed in any::<u64>(),
        trees in 1usize..40,
        splits in 0usize..70,
        nf in 1u32..8,
        zero_missing in any::<bool>(),
        rows in 1usize..300,
    ) {
        let e = ensemble(seed, trees, splits, nf, zero_missing);
        let xs = random_rows(&mut Rng(seed ^ 0xABCD), rows, nf as usize);
        // Start from non-zero sums, as a caller adding into existing scores would.
        let start: Vec<f64> = (0..rows).map(|r| r as f64 * 0.25 - 3.0).collect();
        let mut fast = start.clone();
        e.raw_scores_block(&xs, &mut fast);
        let mut reference = start.clone();
        e.raw_scores_block_reference(&xs, &mut reference);
        for r in 0..rows {
            let x = &xs[r * nf as usize..(r + 1) * nf as usize];
            let walked = start[r] + e.raw_score(x);
            prop_assert_eq!(fast[r].to_bits(), reference[r].to_bits(), "row {} {:?}", r, x);
            // raw_score sums from 0; with a non-zero start the order differs, so compare
            // from zero separately below.
            prop_assert!((fast[r] - walked).abs() < 1e-9);
        }
        let mut zero = vec![0.0; rows];
        e.raw_scores_block(&xs, &mut zero);
        for r in 0..rows {
            let x = &xs[r * nf as usize..(r + 1) * nf as usize];
            prop_assert_eq!(zero[r].to_bits(), e.raw_score(x).to_bits(), "row {} {:?}", r, x);
        }
    }

    /// Thresholds at the ends of the number line: the lane walk reads missing values as -inf or
    /// +inf unless some threshold is +inf (then it tests them at every step); both must stay
    /// bit-identical to the pointer walk, with every missing-value rule. (NaN thresholds, which
    /// LightGBM does not write, are left out: the walks compare them as f32, the pointer walk
    /// as f64 `v <= t`.)
    #[test]
    fn lane_walk_is_bit_identical_with_infinite_thresholds(
        seed in any::<u64>(),
        trees in 1usize..20,
        splits in 0usize..40,
        nf in 1u32..6,
        zero_missing in any::<bool>(),
        odd in 0usize..6,
        rows in 1usize..100,
    ) {
        let mut rng = Rng(seed | 1);
        let mut trees: Vec<Tree> = (0..trees)
            .map(|_| {
                let s = rng.below(splits as u64 + 1) as usize;
                random_tree(&mut rng, s, nf, zero_missing)
            })
            .collect();
        // Which extremes the model's thresholds take: only finite and -inf ones (the row
        // copies) or also +inf (the walk that tests missing values).
        let extremes: &[f64] = match odd {
            0 => &[f64::NEG_INFINITY, -1e300, 1e300, f64::from(f32::MAX)],
            1 => &[f64::NEG_INFINITY, f64::INFINITY],
            2 => &[f64::INFINITY, 0.0],
            3 => &[-1e-40, 1e-40, -0.0],
            4 => &[f64::from(f32::MAX) * 1.5, f64::from(f32::MIN)],
            _ => &[f64::INFINITY, f64::NEG_INFINITY, 1e-36],
        };
        for t in &mut trees {
            for th in &mut t.threshold {
                if rng.below(3) == 0 {
                    *th = extremes[rng.below(extremes.len() as u64) as usize];
                }
            }
        }
        let e = Ensemble::new(nf as usize, trees);
        let xs = random_rows(&mut Rng(seed ^ 0x1F1F), rows, nf as usize);
        let mut fast = vec![0.0; rows];
        e.raw_scores_block(&xs, &mut fast);
        for r in 0..rows {
            let x = &xs[r * nf as usize..(r + 1) * nf as usize];
            prop_assert_eq!(fast[r].to_bits(), e.raw_score(x).to_bits(), "row {} {:?}", r, x);
        }
    }

    /// Trees of up to 100 splits (those beyond 64 leaves are walked node by node at their place
    /// in the order), several groups of 64 trees, blocks that do not fill the last 8 rows.
    #[test]
    fn bitvector_traversal_is_bit_identical_to_the_pointer_walk(
        seed in any::<u64>(),
        trees in 1usize..150,
        splits in 0usize..100,
        nf in 1u32..8,
        zero_missing in any::<bool>(),
        rows in 1usize..40,
    ) {
        let e = ensemble(seed, trees, splits, nf, zero_missing);
        let xs = random_rows(&mut Rng(seed ^ 0x5EED), rows, nf as usize);
        let mut zero = vec![0.0; rows];
        e.raw_scores_block_bitvector(&xs, &mut zero);
        for r in 0..rows {
            let x = &xs[r * nf as usize..(r + 1) * nf as usize];
            prop_assert_eq!(zero[r].to_bits(), e.raw_score(x).to_bits(), "row {} {:?}", r, x);
        }
        // Adding into existing sums, as the lane walk does.
        let start: Vec<f64> = (0..rows).map(|r| r as f64 * 0.25 - 3.0).collect();
        let (mut bits, mut lanes) = (start.clone(), start);
        e.raw_scores_block_bitvector(&xs, &mut bits);
        e.raw_scores_block(&xs, &mut lanes);
        for r in 0..rows {
            prop_assert_eq!(bits[r].to_bits(), lanes[r].to_bits(), "row {}", r);
        }
    }

    #[test]
    fn linear_treeshap_equals_the_reference_treeshap(
        seed in any::<u64>(),
        trees in 1usize..6,
        splits in 0usize..70,
        nf in 1u32..10,
        zero_missing in any::<bool>(),
    ) {
        let e = ensemble(seed, trees, splits, nf, zero_missing);
        let xs = random_rows(&mut Rng(seed ^ 0x1234), 20, nf as usize);
        for x in xs.chunks(nf as usize) {
            let fast = e.shap(x);
            let reference = e.shap_reference(x);
            prop_assert_eq!(fast.bias.to_bits(), reference.bias.to_bits());
            for (f, (a, b)) in fast.values.iter().zip(&reference.values).enumerate() {
                prop_assert!((a - b).abs() <= 1e-9, "feature {}: {} vs {} for {:?}", f, a, b, x);
            }
            let total = fast.bias + fast.values.iter().sum::<f64>();
            prop_assert!((total - e.raw_score(x)).abs() <= 1e-9);
        }
    }
}

/// Path-dependent TreeSHAP straight from its definition, leaf by leaf: for each leaf and each
/// unique feature `i` on its path, `v (o_i - p_i) integral prod_{j != i} (p_j + t (o_j - p_j)) dt`
/// by 40-point Gauss-Legendre quadrature (exact to degree 79). Slow, but shares no recursion
/// with either algorithm. Valid for trees whose splits are all NaN-missing, default left.
fn shap_by_definition(t: &Tree, x: &[f32], nf: usize) -> Vec<f64> {
    let n = 40;
    let mut points = Vec::new();
    for i in 0..n {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut d = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, 0.0);
            for j in 0..n {
                let p2 = p1;
                p1 = p0;
                p0 = ((2 * j + 1) as f64 * z * p1 - j as f64 * p2) / (j + 1) as f64;
            }
            d = n as f64 * (z * p0 - p1) / (z * z - 1.0);
            let step = p0 / d;
            z -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        points.push(((1.0 - z) / 2.0, 1.0 / ((1.0 - z * z) * d * d)));
    }
    type Path = Vec<(usize, f64, bool)>;
    fn leaves(t: &Tree, node: i32, x: &[f32], path: &mut Path, out: &mut Vec<(f64, Path)>) {
        if node < 0 {
            out.push((t.leaf_value[!node as usize], path.clone()));
            return;
        }
        let n = node as usize;
        let v = x[t.split_feature[n] as usize];
        let hot = if v.is_nan() || f64::from(v) <= t.threshold[n] {
            t.left_child[n]
        } else {
            t.right_child[n]
        };
        for c in [t.left_child[n], t.right_child[n]] {
            let cover = if c >= 0 {
                t.internal_count[c as usize]
            } else {
                t.leaf_count[!c as usize]
            };
            path.push((
                t.split_feature[n] as usize,
                cover / t.internal_count[n],
                c == hot,
            ));
            leaves(t, c, x, path, out);
            path.pop();
        }
    }
    let mut all = Vec::new();
    leaves(t, 0, x, &mut Vec::new(), &mut all);
    let mut phi = vec![0.0; nf];
    for (v, path) in all {
        let mut unique: std::collections::BTreeMap<usize, (f64, bool)> = Default::default();
        for (j, p, o) in path {
            let e = unique.entry(j).or_insert((1.0, true));
            e.0 *= p;
            e.1 &= o;
        }
        let one = |o: bool| f64::from(u8::from(o));
        for (&i, &(pi, oi)) in &unique {
            let mut integral = 0.0;
            for &(t, w) in &points {
                let mut product = 1.0;
                for (&j, &(pj, oj)) in &unique {
                    if j != i {
                        product *= pj + t * (one(oj) - pj);
                    }
                }
                integral += w * product;
            }
            phi[i] += v * (one(oi) - pi) * integral;
        }
    }
    phi
}

/// A chain of `depth` splits: node `n` splits feature `n % 40` (features repeat beyond 40
/// deep) at `n / 100`, missing values to the left; its right child is leaf `n` with value
/// `leaf(n)`, its left the next node (the last node's left is the final leaf, 0.9).
fn chain(depth: usize, leaf: impl Fn(usize) -> f64) -> Tree {
    let mut t = Tree {
        split_feature: vec![],
        threshold: vec![],
        decision_type: vec![],
        left_child: vec![],
        right_child: vec![],
        internal_value: vec![],
        internal_count: vec![],
        leaf_value: vec![],
        leaf_count: vec![],
    };
    for n in 0..depth {
        t.split_feature.push((n % 40) as u32);
        t.threshold.push(n as f64 * 0.01);
        t.decision_type.push(MISSING_NAN | DEFAULT_LEFT);
        t.left_child.push(if n + 1 < depth {
            (n + 1) as i32
        } else {
            !(depth as i32)
        });
        t.right_child.push(!(n as i32));
        t.internal_value.push(0.0);
        t.internal_count.push((depth - n + 1) as f64 * 3.0);
        t.leaf_value.push(leaf(n));
        t.leaf_count.push(3.0);
    }
    t.leaf_value.push(0.9);
    t.leaf_count.push(3.0);
    t
}

/// Deep, narrow trees (features repeating down a long path) need many quadrature points.
/// Beyond 40 levels with repeated features the reference algorithm itself drifts (1e-5 at
/// depth 45: its unwinding divides by small fractions), so those are checked against the
/// definition.
#[test]
fn linear_treeshap_on_deep_chains() {
    for depth in [1usize, 5, 15, 30, 45, 62] {
        let t = chain(depth, |n| (n as f64 * 0.37).sin());
        let e = Ensemble::new(40, vec![t.clone()]);
        for x in [
            (0..40).map(|i| i as f32 * 0.006).collect::<Vec<_>>(),
            vec![0.0; 40],
            vec![1.0; 40],
        ] {
            let fast = e.shap(&x);
            let block = e.shap_block(&x);
            let oracle = if depth <= 30 {
                e.shap_reference(&x).values
            } else {
                shap_by_definition(&t, &x, 40)
            };
            for ((a, c), b) in fast.values.iter().zip(&block[0].values).zip(&oracle) {
                assert!((a - b).abs() <= 1e-9, "depth {depth}: {a} vs {b}");
                assert!((c - b).abs() <= 1e-9, "depth {depth}, block: {c} vs {b}");
            }
        }
    }
}

/// The definition itself agrees with the reference algorithm where that is stable.
#[test]
fn definition_matches_the_reference_on_random_trees() {
    for seed in 1..30u64 {
        let mut rng = Rng(seed * 7919);
        let mut t = random_tree(&mut rng, 30, 6, false);
        // The definition above follows NaN-missing, default-left splits only.
        t.decision_type
            .iter_mut()
            .for_each(|d| *d = MISSING_NAN | DEFAULT_LEFT);
        if t.split_feature.is_empty() {
            continue;
        }
        let e = Ensemble::new(6, vec![t.clone()]);
        for x in random_rows(&mut rng, 10, 6).chunks(6) {
            let reference = e.shap_reference(x).values;
            for (a, b) in shap_by_definition(&t, x, 6).iter().zip(&reference) {
                assert!((a - b).abs() <= 1e-9, "{a} vs {b}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Blocks of any length (partial lane groups, several blocks) give every row the reference
    /// values, including trees with more features on a path than the lanes' quadrature tables
    /// were first sized for.
    #[test]
    fn block_treeshap_equals_the_reference_treeshap(
        seed in any::<u64>(),
        trees in 1usize..8,
        splits in 0usize..70,
        nf in 1u32..12,
        zero_missing in any::<bool>(),
        rows in 1usize..300,
    ) {
        let e = ensemble(seed, trees, splits, nf, zero_missing);
        let xs = random_rows(&mut Rng(seed ^ 0x5678), rows, nf as usize);
        let block = e.shap_block(&xs);
        prop_assert_eq!(block.len(), rows);
        for (r, (x, fast)) in xs.chunks(nf as usize).zip(&block).enumerate() {
            let reference = e.shap_reference(x);
            prop_assert_eq!(fast.bias.to_bits(), reference.bias.to_bits());
            for (f, (a, b)) in fast.values.iter().zip(&reference.values).enumerate() {
                prop_assert!((a - b).abs() <= 1e-9, "row {} feature {}: {} vs {} for {:?}", r, f, a, b, x);
            }
        }
    }
}

/// A trained model (the worker tests' artefact: LightGBM trees on the bundled training
/// period) on real declarations' features: the block explanations equal the reference
/// TreeSHAP's and the row-by-row linear ones, and sum to the raw score.
#[test]
fn block_treeshap_on_a_trained_model() {
    use borderline_ingest::{DeclarationReader, Profile, Row};
    use borderline_targeting::model::ModelArtefact;
    use borderline_targeting::score::Scorer;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = ModelArtefact::load(&root.join("crates/worker/tests/data/model_lr0.1.json.gz"))
        .expect("the worker tests' model loads");
    let scorer = Scorer::new(model);
    let nf = scorer.num_features();
    let reader = DeclarationReader::open(
        root.join("data/declarations/kcs_test.csv.gz"),
        Profile::korea_customs(),
    )
    .expect("bundled test period");
    let mut xs = Vec::new();
    for row in reader.without_duplicate_check().take(150) {
        if let Row::Accepted(d) = row {
            let mut x = vec![0.0f32; nf];
            scorer.features(&d, &mut x);
            xs.extend(x);
        }
    }
    let rows = xs.len() / nf;
    assert!(rows > 100, "{rows} rows");
    let e = &scorer.model().ensemble;
    let block = e.shap_block(&xs);
    assert_eq!(block.len(), rows);
    for (x, fast) in xs.chunks(nf).zip(&block).step_by(7) {
        let reference = e.shap_reference(x);
        let linear = e.shap(x);
        for ((a, b), c) in fast
            .values
            .iter()
            .zip(&reference.values)
            .zip(&linear.values)
        {
            assert!((a - b).abs() <= 1e-9, "{a} vs reference {b}");
            assert!((a - c).abs() <= 1e-12, "{a} vs linear {c}");
        }
        let total = fast.bias + fast.values.iter().sum::<f64>();
        assert!((total - e.raw_score(x)).abs() <= 1e-9);
    }
}

/// The cost measures of the model sweeps count what the walk and the explanation do: on a
/// chain of `depth` splits (feature `n` at node `n`, threshold `n / 100`, the right child a
/// leaf), a row of zeros goes left to the bottom (`depth` splits) and a row of ones stops at
/// the root (1 split); the linear TreeSHAP pass costs the splits times `ceil(unique / 2)`
/// quadrature points, rounded up to a compiled point count.
#[test]
fn sweep_cost_measures_count_splits_visited_and_explanation_work() {
    use borderline_targeting::linear_shap::LinearShap;
    // (depth, quadrature points): 5 unique features need 3, 20 need 10, 40 (features
    // repeat beyond 40) need 20, compiled as 24.
    for (depth, points) in [(1usize, 1usize), (5, 3), (20, 10), (45, 24)] {
        let t = chain(depth, |_| 0.1);
        assert_eq!(t.splits_visited(&[0.0; 40]), depth);
        assert_eq!(t.splits_visited(&[1.0; 40]), 1);
        // Missing goes left (default left) all the way down.
        assert_eq!(t.splits_visited(&[f32::NAN; 40]), depth);
        let stump = Tree::single_leaf(0.5, 3.0);
        assert_eq!(stump.splits_visited(&[0.0; 40]), 0);
        let shap = LinearShap::build(&[t.clone(), stump, t]);
        assert_eq!(shap.work(), 2 * depth * points, "depth {depth}");
    }
}
