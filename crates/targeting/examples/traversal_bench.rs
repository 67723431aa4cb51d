//! Scoring and explanation speed of a trained model artefact, old paths beside new, one thread.
//! Trains nothing: run the demo once (`cargo run --release -p borderline-cli -- demo --out
//! out/demo`), then
//!
//! ```text
//! cargo run --release -p borderline-targeting --example traversal_bench -- \
//!     out/demo/model.json.gz data/declarations/kcs_test.csv.gz [runs] [shap_rows]
//! ```
//!
//! Prints declarations/s for the pointer walk (row by row), the block scorer before the lane
//! walk, the lane walk (blocks of 128, as `Scorer::score_block`) and the bitvector
//! (QuickScorer) traversal in the same blocks, then exact TreeSHAP rows/s
//! for the reference algorithm, the linear-time one row by row and the block explanation
//! (`Ensemble::shap_block`, all declarations); medians over `runs`, with the bit-identity of all
//! raw scores and the largest SHAP difference checked on every row (block against linear-time
//! on all rows, both against the reference on the first `shap_rows`; `shap_rows` 0 skips
//! the explanations).

use borderline_bench_clock::rate;
use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Scorer, BLOCK};
use borderline_targeting::trees::Ensemble;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Most unique features on any root-to-leaf path of `t` (the quadrature needs half as many
/// points), and the tree's depth.
fn unique_and_depth(t: &borderline_targeting::trees::Tree) -> (usize, usize) {
    fn walk(
        t: &borderline_targeting::trees::Tree,
        node: i32,
        path: &mut Vec<u32>,
    ) -> (usize, usize) {
        if node < 0 {
            let mut f = path.clone();
            f.sort_unstable();
            f.dedup();
            return (f.len(), path.len());
        }
        let n = node as usize;
        path.push(t.split_feature[n]);
        let (a, b) = walk(t, t.left_child[n], path);
        let (c, d) = walk(t, t.right_child[n], path);
        path.pop();
        (a.max(c), b.max(d))
    }
    if t.split_feature.is_empty() {
        (0, 0)
    } else {
        walk(t, 0, &mut Vec::new())
    }
}

/// Which block scorer [`blocks`] runs.
#[derive(Clone, Copy)]
enum Path {
    /// `raw_scores_block_reference`: tree by tree over the block.
    Reference,
    /// `raw_scores_block`: the lane walk.
    Lanes,
    /// `raw_scores_block_bitvector`: QuickScorer.
    Bitvector,
}

fn blocks(e: &Ensemble, xs: &[f32], nf: usize, out: &mut [f64], path: Path) {
    for (x, o) in xs.chunks(BLOCK * nf).zip(out.chunks_mut(BLOCK)) {
        o.fill(0.0);
        match path {
            Path::Reference => e.raw_scores_block_reference(x, o),
            Path::Lanes => e.raw_scores_block(x, o),
            Path::Bitvector => e.raw_scores_block_bitvector(x, o),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: traversal_bench MODEL.json.gz DECLARATIONS.csv[.gz] [runs=5] [shap_rows=100]"
        );
        return ExitCode::from(2);
    }
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let shap_rows: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let t = Instant::now();
    let model = match ModelArtefact::load(&PathBuf::from(&args[0])) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let load_s = t.elapsed().as_secs_f64();
    let reader = match DeclarationReader::open(PathBuf::from(&args[1]), Profile::korea_customs()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", args[1]);
            return ExitCode::FAILURE;
        }
    };
    let declarations: Vec<_> = reader
        .without_duplicate_check()
        .filter_map(|r| match r {
            Row::Accepted(d) => Some(d),
            _ => None,
        })
        .collect();
    let scorer = Scorer::new(model.clone());
    let nf = scorer.num_features();
    let mut xs = vec![0.0f32; declarations.len() * nf];
    for (d, x) in declarations.iter().zip(xs.chunks_mut(nf)) {
        scorer.features(d, x);
    }
    let rows = declarations.len();
    if rows == 0 {
        eprintln!("no declarations in {}", args[1]);
        return ExitCode::FAILURE;
    }
    let e = &model.ensemble;
    let nodes: usize = e.trees.iter().map(|t| t.split_feature.len()).sum();
    println!(
        "model {}: {} trees, {} internal nodes, {} features; loaded in {:.2} s; {} declarations",
        model.model_id,
        e.trees.len(),
        nodes,
        nf,
        load_s,
        rows
    );

    let shapes: Vec<(usize, usize)> = e.trees.iter().map(unique_and_depth).collect();
    let mut depths: Vec<usize> = shapes.iter().map(|s| s.1).collect();
    depths.sort_unstable();
    println!(
        "tree depth median {} max {}; most unique features on a path: mean {:.1}, max {}",
        depths[depths.len() / 2],
        depths[depths.len() - 1],
        shapes.iter().map(|s| s.0 as f64).sum::<f64>() / shapes.len().max(1) as f64,
        shapes.iter().map(|s| s.0).max().unwrap_or(0)
    );

    // Raw scores: three paths, checked bit for bit.
    let mut walk = vec![0.0; rows];
    let pointer = rate(runs, || {
        for (x, o) in xs.chunks(nf).zip(walk.iter_mut()) {
            *o = e.raw_score(x);
        }
        rows
    });
    let mut old = vec![0.0; rows];
    let block = rate(runs, || {
        blocks(e, &xs, nf, &mut old, Path::Reference);
        rows
    });
    let mut new = vec![0.0; rows];
    let lanes = rate(runs, || {
        blocks(e, &xs, nf, &mut new, Path::Lanes);
        rows
    });
    // Built on first use: once outside the timed runs.
    let mut bits = vec![0.0; rows];
    let t = Instant::now();
    blocks(e, &xs[..nf], nf, &mut bits[..1], Path::Bitvector);
    let build_s = t.elapsed().as_secs_f64();
    let bitvector = rate(runs, || {
        blocks(e, &xs, nf, &mut bits, Path::Bitvector);
        rows
    });
    let identical = walk
        .iter()
        .zip(&old)
        .zip(&new)
        .zip(&bits)
        .filter(|(((a, b), c), d)| {
            a.to_bits() == b.to_bits() && b.to_bits() == c.to_bits() && c.to_bits() == d.to_bits()
        })
        .count();
    println!(
        "scoring, one thread, median of {runs} runs over {rows} declarations (wall clock; thread CPU time):"
    );
    println!(
        "  pointer walk, row by row     {:>9.0} /s; {:>9.0} /s",
        pointer.0, pointer.1
    );
    println!(
        "  block scorer (before)        {:>9.0} /s; {:>9.0} /s  ({:.2}x / {:.2}x pointer walk)",
        block.0,
        block.1,
        block.0 / pointer.0,
        block.1 / pointer.1
    );
    println!(
        "  lane walk (new)              {:>9.0} /s; {:>9.0} /s  ({:.2}x / {:.2}x block scorer)",
        lanes.0,
        lanes.1,
        lanes.0 / block.0,
        lanes.1 / block.1
    );
    println!(
        "  bitvector (QuickScorer)      {:>9.0} /s; {:>9.0} /s  ({:.2}x / {:.2}x block scorer, {:.2}x / {:.2}x lane walk; built in {build_s:.2} s)",
        bitvector.0,
        bitvector.1,
        bitvector.0 / block.0,
        bitvector.1 / block.1,
        bitvector.0 / lanes.0,
        bitvector.1 / lanes.1
    );
    println!("  bit-identical raw scores (all four paths): {identical} of {rows}");
    if shap_rows == 0 {
        if identical != rows {
            eprintln!("MISMATCH");
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }

    // Exact TreeSHAP: reference vs linear-time, on the first `shap_rows` declarations (the
    // reference runs about 30 rows/s on the default model).
    let n = shap_rows.min(rows);
    let sample = &xs[..n * nf];
    let mut sink = 0.0;
    let reference = rate(runs, || {
        for x in sample.chunks(nf) {
            sink += e.shap_reference(x).values[0];
        }
        n
    });
    let all = &xs[..rows.min(20 * n) * nf];
    let linear = rate(runs, || {
        for x in all.chunks(nf) {
            sink += e.shap(x).values[0];
        }
        all.len() / nf
    });
    // One declaration alone (the HTTP API's `score_one`): a block of one row.
    let single_block = rate(runs, || {
        for x in all.chunks(nf) {
            sink += e.shap_block(x)[0].values[0];
        }
        all.len() / nf
    });
    let mut blocked = Vec::new();
    let block_rate = rate(runs, || {
        blocked = e.shap_block(&xs);
        rows
    });
    std::hint::black_box(sink);
    // Every row's block explanation against the row-by-row linear one.
    let mut block_diff: f64 = 0.0;
    let mut block_sum_gap: f64 = 0.0;
    for (x, b) in xs.chunks(nf).zip(&blocked) {
        let a = e.shap(x);
        for (u, v) in a.values.iter().zip(&b.values) {
            block_diff = block_diff.max((u - v).abs());
        }
        let total = b.bias + b.values.iter().sum::<f64>();
        block_sum_gap = block_sum_gap.max((total - e.raw_score(x)).abs());
    }
    let mut max_diff: f64 = 0.0;
    let mut max_sum_gap: f64 = 0.0;
    for (x, c) in sample.chunks(nf).zip(&blocked) {
        let (a, b) = (e.shap(x), e.shap_reference(x));
        for ((u, v), w) in a.values.iter().zip(&b.values).zip(&c.values) {
            max_diff = max_diff.max((u - v).abs()).max((w - v).abs());
        }
        let total = a.bias + a.values.iter().sum::<f64>();
        max_sum_gap = max_sum_gap.max((total - e.raw_score(x)).abs());
    }
    println!("exact TreeSHAP, one thread, median of {runs} runs (wall clock; thread CPU time):");
    println!(
        "  reference (Lundberg)         {:>9.1} /s; {:>9.1} /s  ({n} rows)",
        reference.0, reference.1
    );
    println!(
        "  linear-time (new)            {:>9.1} /s; {:>9.1} /s  ({} rows, {:.1}x / {:.1}x reference)",
        linear.0,
        linear.1,
        all.len() / nf,
        linear.0 / reference.0,
        linear.1 / reference.1
    );
    println!(
        "  block of one row, row by row {:>9.1} /s; {:>9.1} /s  ({} rows, {:.2}x / {:.2}x linear-time)",
        single_block.0,
        single_block.1,
        all.len() / nf,
        single_block.0 / linear.0,
        single_block.1 / linear.1
    );
    println!(
        "  block ({} rows at a time)     {:>9.1} /s; {:>9.1} /s  ({rows} rows, {:.1}x / {:.1}x reference, {:.1}x / {:.1}x linear-time)",
        borderline_targeting::trees::SHAP_BLOCK,
        block_rate.0,
        block_rate.1,
        block_rate.0 / reference.0,
        block_rate.1 / reference.1,
        block_rate.0 / linear.0,
        block_rate.1 / linear.1
    );
    println!(
        "  largest |difference| against the reference over {n} rows x {nf} features (linear-time and block): {max_diff:.2e}; largest |sum - raw score|: {max_sum_gap:.2e}"
    );
    println!(
        "  block against linear-time over all {rows} rows x {nf} features: {block_diff:.2e}; largest |sum - raw score|: {block_sum_gap:.2e}"
    );
    if identical != rows || max_diff > 1e-9 || block_diff > 1e-9 || block_sum_gap > 1e-9 {
        eprintln!("MISMATCH");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
