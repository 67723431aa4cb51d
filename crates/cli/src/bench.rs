//! `borderline bench`: in-process throughput measurements on one core (medians of repeated runs),
//! used by scripts/bench.sh. Printing rates against each other keeps noisy-machine comparisons
//! meaningful: quote ratios and medians.

use crate::targeting::load_model;
use anyhow::Result;
use borderline_core::Declaration;
use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::score::{Explain, Scorer};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Parse and validate a file: rows per second (no output written).
    Ingest {
        input: PathBuf,
        #[arg(long, default_value = "korea-customs")]
        profile: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Score declarations held in memory: rows per second without reasons, with fast and with
    /// exact reasons.
    Score(BenchScore),
}

#[derive(Args)]
pub struct BenchScore {
    #[arg(long, default_value = "out/model.json.gz")]
    pub model: PathBuf,
    #[arg(long)]
    pub input: PathBuf,
    /// Declarations loaded for the benchmark.
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Ingest {
            input,
            profile,
            runs,
        } => {
            let profile = Profile::resolve(&profile)?;
            let mut rates = Vec::new();
            let mut read = 0;
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                let mut reader = DeclarationReader::open(&input, profile.clone())?;
                for row in reader.by_ref() {
                    std::hint::black_box(row);
                }
                if let Some(e) = reader.take_error() {
                    return Err(e.into());
                }
                read = reader.report().read;
                rates.push(read as f64 / t.elapsed().as_secs_f64());
            }
            println!(
                "ingest+validate: {read} rows, median {:.0} rows/s over {} runs (one thread)",
                median(rates),
                runs.max(1)
            );
        }
        BenchCommand::Score(a) => {
            let model = load_model(&a.model)?;
            let scorer = Scorer::new(&model);
            let mut rows: Vec<Declaration> = Vec::with_capacity(a.rows);
            let mut reader = DeclarationReader::open(&a.input, Profile::korea_customs())?
                .without_duplicate_check();
            for row in reader.by_ref() {
                if let Row::Accepted(d) = row {
                    rows.push(*d);
                    if rows.len() >= a.rows {
                        break;
                    }
                }
            }
            anyhow::ensure!(!rows.is_empty(), "no declarations in {}", a.input.display());
            let mut feats = Vec::new();
            for _ in 0..a.runs.max(1) {
                let t = Instant::now();
                let mut f = vec![0.0; scorer.num_features()];
                for d in &rows {
                    scorer.features(d, &mut f);
                }
                std::hint::black_box(&f);
                feats.push(rows.len() as f64 / t.elapsed().as_secs_f64());
            }
            println!(
                "features only:              median {:>10.0} declarations/s",
                median(feats)
            );
            let mut x = vec![0.0; scorer.num_features()];
            let mut measure = |mode: Option<Explain>, n: usize| {
                let mut rates = Vec::new();
                let mut sink = 0.0;
                for _ in 0..a.runs.max(1) {
                    let t = Instant::now();
                    for d in rows.iter().take(n) {
                        let s = scorer.score(d, &mut x);
                        sink += s.probability;
                        if let Some(m) = mode {
                            sink += scorer.reasons(d, &x, m, 5).len() as f64;
                        }
                    }
                    rates.push(n.min(rows.len()) as f64 / t.elapsed().as_secs_f64());
                }
                std::hint::black_box(sink);
                median(rates)
            };
            println!(
                "model {}: {} trees, {} features; {} declarations in memory",
                model.model_id,
                model.ensemble.trees.len(),
                model.features.len(),
                rows.len()
            );
            let one_by_one = measure(None, rows.len().min(20_000));
            println!("score one by one, no reasons: median {one_by_one:>8.0} declarations/s (one thread)");
            let mut blocks = Vec::new();
            for _ in 0..a.runs.max(1) {
                let t = Instant::now();
                std::hint::black_box(scorer.score_block(&rows));
                blocks.push(rows.len() as f64 / t.elapsed().as_secs_f64());
            }
            let plain = median(blocks);
            println!(
                "score in blocks, no reasons: median {plain:>9.0} declarations/s (one thread)"
            );
            let fast = measure(Some(Explain::Fast), rows.len().min(20_000));
            println!("score + fast reasons (all): median {fast:>10.0} declarations/s");
            let exact = measure(Some(Explain::Exact), rows.len().min(300));
            println!("score + exact SHAP (all):   median {exact:>10.0} declarations/s (300 rows)");
            println!(
                "with reasons for red+yellow only (15%): fast {:.0}/s, exact {:.0}/s",
                1.0 / (1.0 / plain + 0.15 * (1.0 / fast - 1.0 / plain)),
                1.0 / (1.0 / plain + 0.15 * (1.0 / exact - 1.0 / plain))
            );
        }
    }
    Ok(())
}
