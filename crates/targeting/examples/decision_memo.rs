//! How often rows share a tree's decision vector ([`Tree::decision_vector`]): the hit rate a
//! memo of exact TreeSHAP contributions keyed by it would reach. Path-dependent TreeSHAP depends
//! on a row only through which way it goes at every split of the tree, so rows with the same
//! vector share the tree's contributions exactly.
//!
//! ```text
//! cargo run --release -p borderline-targeting --example decision_memo -- \
//!     MODEL.json.gz DECLARATIONS.csv[.gz] [all_rows_limit=200000]
//! ```
//!
//! Prints, for all rows (up to the limit) and for the rows `score` explains (red and yellow at
//! the default 5 % / 10 % stream thresholds), in input order: distinct vectors per tree, the hit
//! rate of an unbounded memo, of direct-mapped memos of 64 to 4,096 slots per tree (with their
//! memory at 8 bytes a key plus 8 per feature the tree splits on), and how many rows are exact
//! duplicates of an earlier row's whole feature vector.

use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Lane, Scorer, BLOCK};
use borderline_targeting::trees::Tree;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

const SLOTS: [usize; 5] = [64, 256, 1024, 4096, 16384];

fn slot(key: u64, bits: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// Hit counts over `rows` (row-major, `nf` each) in order: unbounded, then each of [`SLOTS`].
fn simulate(trees: &[Tree], xs: &[f32], nf: usize) -> (Vec<u64>, Vec<u64>, u64) {
    let rows = xs.len() / nf.max(1);
    let mut hits = vec![0u64; 1 + SLOTS.len()];
    let mut distinct_per_tree = Vec::with_capacity(trees.len());
    let mut skipped = 0;
    let mut seen = HashSet::new();
    let mut tables: Vec<Vec<u64>> = SLOTS.iter().map(|&s| vec![u64::MAX; s]).collect();
    let mut valid: Vec<Vec<bool>> = SLOTS.iter().map(|&s| vec![false; s]).collect();
    for t in trees {
        if t.split_feature.is_empty() {
            continue;
        }
        if t.split_feature.len() > 64 {
            skipped += 1;
            continue;
        }
        seen.clear();
        for (table, v) in tables.iter_mut().zip(&mut valid) {
            table.fill(u64::MAX);
            v.fill(false);
        }
        for x in xs.chunks_exact(nf) {
            let key = t.decision_vector(x).unwrap_or(0);
            if !seen.insert(key) {
                hits[0] += 1;
            }
            for (j, &s) in SLOTS.iter().enumerate() {
                let i = slot(key, s.trailing_zeros());
                if valid[j][i] && tables[j][i] == key {
                    hits[j + 1] += 1;
                } else {
                    tables[j][i] = key;
                    valid[j][i] = true;
                }
            }
        }
        distinct_per_tree.push(seen.len() as u64);
    }
    let _ = rows;
    (hits, distinct_per_tree, skipped)
}

fn report(name: &str, trees: &[Tree], xs: &[f32], nf: usize, entry_bytes: &[usize]) {
    let rows = xs.len() / nf.max(1);
    if rows == 0 {
        println!("{name}: no rows");
        return;
    }
    let t = std::time::Instant::now();
    let (hits, mut distinct, skipped) = simulate(trees, xs, nf);
    let lookups = (distinct.len() * rows) as f64;
    distinct.sort_unstable();
    let q = |p: f64| distinct[((distinct.len() - 1) as f64 * p) as usize];
    let mut whole = HashSet::new();
    let dup = xs
        .chunks_exact(nf)
        .filter(|x| !whole.insert(x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()))
        .count();
    println!(
        "{name}: {rows} rows, {} trees keyed ({skipped} over 64 splits); {dup} rows ({:.1} %) repeat an earlier row's whole feature vector; {:.1} s",
        distinct.len(),
        100.0 * dup as f64 / rows as f64,
        t.elapsed().as_secs_f64()
    );
    println!(
        "  distinct vectors per tree: min {} p10 {} median {} p90 {} max {} (of {rows} rows; mean {:.0})",
        q(0.0),
        q(0.1),
        q(0.5),
        q(0.9),
        q(1.0),
        distinct.iter().sum::<u64>() as f64 / distinct.len() as f64
    );
    println!(
        "  hit rate, unbounded memo: {:.1} %",
        100.0 * hits[0] as f64 / lookups
    );
    for (j, &s) in SLOTS.iter().enumerate() {
        let bytes: usize = entry_bytes.iter().map(|b| b * s).sum();
        println!(
            "  hit rate, direct-mapped {s:>5} slots per tree: {:>5.1} %  (memory {:.0} MB)",
            100.0 * hits[j + 1] as f64 / lookups,
            bytes as f64 / 1e6
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: decision_memo MODEL.json.gz DECLARATIONS.csv[.gz] [all_rows_limit]");
        return ExitCode::from(2);
    }
    let limit: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200_000);
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
    let scorer = Scorer::new(model.clone());
    let nf = scorer.num_features();
    let trees = &model.ensemble.trees;
    let entry_bytes: Vec<usize> = trees
        .iter()
        .filter(|t| !t.split_feature.is_empty() && t.split_feature.len() <= 64)
        .map(|t| {
            let mut f = t.split_feature.clone();
            f.sort_unstable();
            f.dedup();
            8 + 8 * f.len()
        })
        .collect();
    let splits: Vec<usize> = trees.iter().map(|t| t.split_feature.len()).collect();
    println!(
        "model {}: {} trees, most splits in a tree {}, trees over 64 splits {}; {} features; mean features per tree {:.1}",
        model.model_id,
        trees.len(),
        splits.iter().max().unwrap_or(&0),
        splits.iter().filter(|&&s| s > 64).count(),
        nf,
        (entry_bytes.iter().sum::<usize>() as f64 / entry_bytes.len().max(1) as f64 - 8.0) / 8.0
    );
    let lanes = scorer.lane_thresholds(5.0, 10.0);
    let (mut all, mut explained) = (Vec::new(), Vec::new());
    let (mut total, mut red, mut yellow) = (0usize, 0usize, 0usize);
    let mut block = Vec::with_capacity(BLOCK);
    let mut xs = vec![0.0f32; BLOCK * nf];
    let mut flush = |block: &mut Vec<_>,
                     all: &mut Vec<f32>,
                     explained: &mut Vec<f32>,
                     total: &mut usize,
                     red: &mut usize,
                     yellow: &mut usize| {
        let scored = scorer.score_block(block);
        for (i, (d, s)) in block.iter().zip(&scored).enumerate() {
            let x = &mut xs[i * nf..(i + 1) * nf];
            scorer.features(d, x);
            if *total < limit {
                all.extend_from_slice(x);
            }
            *total += 1;
            match lanes.lane(s.probability) {
                Lane::Red => *red += 1,
                Lane::Yellow => *yellow += 1,
                _ => continue,
            }
            explained.extend_from_slice(x);
        }
        block.clear();
    };
    for row in reader.without_duplicate_check() {
        if let Row::Accepted(d) = row {
            block.push(d);
            if block.len() == BLOCK {
                flush(
                    &mut block,
                    &mut all,
                    &mut explained,
                    &mut total,
                    &mut red,
                    &mut yellow,
                );
            }
        }
    }
    flush(
        &mut block,
        &mut all,
        &mut explained,
        &mut total,
        &mut red,
        &mut yellow,
    );
    println!(
        "{total} declarations: {red} red, {yellow} yellow at the stream thresholds (5 % / 10 %)"
    );
    report(
        &format!("all rows (first {})", total.min(limit)),
        trees,
        &all,
        nf,
        &entry_bytes,
    );
    report(
        "explained rows (red + yellow)",
        trees,
        &explained,
        nf,
        &entry_bytes,
    );
    ExitCode::SUCCESS
}
