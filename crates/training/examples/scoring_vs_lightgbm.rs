//! Borderline's scorers beside LightGBM's own, on the same trees and rows, one thread (issue 17:
//! "at least 10x LightGBM `predict`", "exact reasons at least 100x LightGBM `pred_contrib`").
//!
//! The model's trees are written as a LightGBM text model (`Ensemble::to_lightgbm_text`) and
//! loaded by LightGBM's C library (the one `borderline train` links); the declarations'
//! features are computed once by Borderline's scorer and given to both. Prints rows per
//! second of thread CPU time and of wall time (medians over `runs`) and checks every raw score
//! and every contribution against LightGBM's.
//!
//! ```sh
//! cargo build --release -p borderline-training --example scoring_vs_lightgbm
//! OMP_NUM_THREADS=1 ./target/release/examples/scoring_vs_lightgbm MODEL.json.gz \
//!     data/declarations/kcs_test.csv.gz [runs=3] [contrib_rows=100]
//! ```
//! With `EXPORT_DIR=D` it also writes `D/model.txt` (the LightGBM text model), `D/features.f32`
//! (row-major little-endian, one row of `features.txt`'s count per declaration) and
//! `D/raw_scores.f64` (the lane walk's sums), `D/lane_walk_rate.txt` (its CPU rate in this run) for `scripts/bench_lleaves.py`.
//! `OMP_NUM_THREADS=1` keeps LightGBM's OpenMP loops on the calling thread (its `pred_contrib`
//! call takes no thread parameter), so its CPU time is measured like ours.

use borderline_bench_clock::rate;
use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Scorer, BLOCK};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: scoring_vs_lightgbm MODEL.json.gz DECLARATIONS.csv[.gz] [runs=3] [contrib_rows=100]");
        return ExitCode::from(2);
    }
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let contrib_rows: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let model = match ModelArtefact::load(&PathBuf::from(&args[0])) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
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
    let rows = declarations.len();
    if rows == 0 {
        eprintln!("no declarations in {}", args[1]);
        return ExitCode::FAILURE;
    }
    let mut xs = vec![0.0f32; rows * nf];
    for (d, x) in declarations.iter().zip(xs.chunks_mut(nf)) {
        scorer.features(d, x);
    }
    let e = &model.ensemble;
    let names: Vec<String> = model.features.iter().map(|f| f.name.clone()).collect();
    let text = match e.to_lightgbm_text(&names) {
        Ok(t) => t,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let booster = match lightgbm3::Booster::from_string(&text) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("LightGBM does not load the exported model: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "model {}: {} trees, {} features; {} declarations; one thread",
        model.model_id,
        e.trees.len(),
        nf,
        rows
    );

    // Raw scores.
    let mut ours = vec![0.0; rows];
    let lanes = rate(runs, || {
        for (x, o) in xs.chunks(BLOCK * nf).zip(ours.chunks_mut(BLOCK)) {
            o.fill(0.0);
            e.raw_scores_block(x, o);
        }
        rows
    });
    let mut reference = vec![0.0; rows];
    let block = rate(runs, || {
        for (x, o) in xs.chunks(BLOCK * nf).zip(reference.chunks_mut(BLOCK)) {
            o.fill(0.0);
            e.raw_scores_block_reference(x, o);
        }
        rows
    });
    let mut theirs = Vec::new();
    let mut failed = None;
    let lgbm = rate(runs, || {
        match booster.raw_scores_with_params(&xs, nf as i32, true, "num_threads=1") {
            Ok(r) => theirs = r,
            Err(err) => failed = Some(err.to_string()),
        }
        rows
    });
    if let Some(err) = failed {
        eprintln!("LightGBM predict failed: {err}");
        return ExitCode::FAILURE;
    }
    let identical = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| a.to_bits() == b.to_bits())
        .count();
    let largest = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("| scorer (raw scores) | declarations/s (wall; CPU) | ratio of CPU rates |");
    println!("|---|---|---|");
    println!(
        "| LightGBM `predict` (raw score, num_threads=1) | {:.0}; {:.0} | |",
        lgbm.0, lgbm.1
    );
    println!(
        "| Borderline block scorer before the lane walk | {:.0}; {:.0} | {:.2}x LightGBM |",
        block.0,
        block.1,
        block.1 / lgbm.1
    );
    println!(
        "| **Borderline lane walk** (`raw_scores_block`, the default) | {:.0}; {:.0} | **{:.2}x LightGBM**, {:.2}x the block scorer |",
        lanes.0,
        lanes.1,
        lanes.1 / lgbm.1,
        lanes.1 / block.1
    );
    println!(
        "raw scores: {identical} of {rows} bit-identical to LightGBM's, largest difference {largest:.1e}"
    );
    // For scorers outside this process (lleaves, `scripts/bench_lleaves.py`): the same trees
    // as LightGBM text, the same features and our raw scores, so they are measured on the very
    // rows and checked against the very sums.
    if let Ok(dir) = std::env::var("EXPORT_DIR") {
        if let Err(err) = export(&PathBuf::from(dir), &text, &xs, nf, &ours, lanes.1) {
            eprintln!("export: {err}");
            return ExitCode::FAILURE;
        }
    }

    // Exact contributions.
    if contrib_rows > 0 {
        let k = contrib_rows.min(rows);
        let mut their_contrib = Vec::new();
        let mut failed = None;
        let lgbm_shap = rate(runs, || {
            match booster.predict_contrib(&xs[..k * nf], nf as i32, true) {
                Ok(c) => their_contrib = c,
                Err(err) => failed = Some(err.to_string()),
            }
            k
        });
        if let Some(err) = failed {
            eprintln!("LightGBM pred_contrib failed: {err}");
            return ExitCode::FAILURE;
        }
        let mut blocks = Vec::new();
        let shap_block = rate(runs, || {
            blocks = e.shap_block(&xs);
            rows
        });
        let largest = blocks
            .iter()
            .zip(their_contrib.chunks(nf + 1))
            .flat_map(|(c, t)| {
                c.values
                    .iter()
                    .zip(t)
                    .map(|(a, b)| (a - b).abs())
                    .chain(std::iter::once((c.bias - t[nf]).abs()))
            })
            .fold(0.0, f64::max);
        println!();
        println!(
            "| exact contributions (TreeSHAP) | declarations/s (wall; CPU) | ratio of CPU rates |"
        );
        println!("|---|---|---|");
        println!(
            "| LightGBM `pred_contrib` ({k} declarations) | {:.1}; {:.1} | |",
            lgbm_shap.0, lgbm_shap.1
        );
        println!(
            "| **Borderline blocks of 128** (`Ensemble::shap_block`, all {rows}) | {:.1}; {:.1} | **{:.1}x LightGBM** |",
            shap_block.0,
            shap_block.1,
            shap_block.1 / lgbm_shap.1
        );
        println!("contributions of {k} declarations against LightGBM's: largest difference {largest:.1e}");
    }
    ExitCode::SUCCESS
}

/// Writes the model text, the feature rows and our raw scores for an outside scorer.
fn export(
    dir: &std::path::Path,
    text: &str,
    xs: &[f32],
    nf: usize,
    raw: &[f64],
    lane_walk_cpu_rate: f64,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("model.txt"), text)?;
    std::fs::write(dir.join("features.txt"), format!("{nf}\n"))?;
    let features: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(dir.join("features.f32"), features)?;
    let sums: Vec<u8> = raw.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(dir.join("raw_scores.f64"), sums)?;
    // This round's lane-walk rate, so the outside scorer's ratio compares runs of one round.
    std::fs::write(
        dir.join("lane_walk_rate.txt"),
        format!("{lane_walk_cpu_rate}\n"),
    )?;
    println!(
        "exported model, {} feature rows and raw scores to {}",
        raw.len(),
        dir.display()
    );
    Ok(())
}
