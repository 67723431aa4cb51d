//! In-process throughput measurements on one core (medians of repeated runs), used by
//! `borderline bench` and scripts/bench.sh. Rates are printed against each other so that
//! noisy-machine comparisons stay meaningful: quote ratios and medians.

use borderline_core::Declaration;
use borderline_ingest::{DeclarationReader, IngestError, Profile, Row};
use borderline_targeting::score::{Explain, Scorer};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Parse-and-validate rate of a file.
#[derive(Debug, Clone, Serialize)]
pub struct IngestBench {
    pub rows: u64,
    pub runs: usize,
    pub median_rows_per_s: f64,
}

pub fn ingest(input: &Path, profile: &Profile, runs: usize) -> Result<IngestBench, IngestError> {
    let mut rates = Vec::new();
    let mut read = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let mut reader = DeclarationReader::open(input, profile.clone())?;
        for row in reader.by_ref() {
            std::hint::black_box(row);
        }
        if let Some(e) = reader.take_error() {
            return Err(e);
        }
        read = reader.report().read;
        rates.push(read as f64 / t.elapsed().as_secs_f64());
    }
    Ok(IngestBench {
        rows: read,
        runs: runs.max(1),
        median_rows_per_s: median(rates),
    })
}

/// Scoring rates of one model on declarations held in memory (declarations/s, one thread).
#[derive(Debug, Clone, Serialize)]
pub struct ScoreBench {
    pub model_id: String,
    pub trees: usize,
    pub features: usize,
    pub rows: usize,
    pub features_only: f64,
    pub one_by_one: f64,
    pub blocks: f64,
    pub fast_reasons: f64,
    /// Measured on 300 declarations.
    pub exact_reasons: f64,
    /// Scored in blocks and explained in blocks ([`Scorer::reasons_block`]), all
    /// declarations explained; measured on up to 2,000 declarations.
    pub exact_reasons_blocks: f64,
}

impl ScoreBench {
    /// Rate with reasons for red + yellow only (15% of declarations).
    pub fn with_reasons_for_15_percent(&self, reasons_rate: f64) -> f64 {
        1.0 / (1.0 / self.blocks + 0.15 * (1.0 / reasons_rate - 1.0 / self.blocks))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("no declarations in {0}")]
    Empty(String),
}

pub fn score(
    scorer: &Scorer,
    input: &Path,
    max_rows: usize,
    runs: usize,
) -> Result<ScoreBench, BenchError> {
    let model = scorer.model();
    let mut rows: Vec<Declaration> = Vec::with_capacity(max_rows);
    let mut reader =
        DeclarationReader::open(input, Profile::korea_customs())?.without_duplicate_check();
    for row in reader.by_ref() {
        if let Row::Accepted(d) = row {
            rows.push(d);
            if rows.len() >= max_rows {
                break;
            }
        }
    }
    if rows.is_empty() {
        return Err(BenchError::Empty(input.display().to_string()));
    }
    let runs = runs.max(1);
    let mut feats = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut f = vec![0.0; scorer.num_features()];
        for d in &rows {
            scorer.features(d, &mut f);
        }
        std::hint::black_box(&f);
        feats.push(rows.len() as f64 / t.elapsed().as_secs_f64());
    }
    let mut x = vec![0.0; scorer.num_features()];
    let mut measure = |mode: Option<Explain>, n: usize| {
        let mut rates = Vec::new();
        let mut sink = 0.0;
        for _ in 0..runs {
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
    let one_by_one = measure(None, rows.len().min(20_000));
    let fast = measure(Some(Explain::Fast), rows.len().min(20_000));
    let exact = measure(Some(Explain::Exact), rows.len().min(300));
    let explained: Vec<&Declaration> = rows.iter().take(2_000).collect();
    let mut exact_blocks = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut xs = vec![0.0f32; explained.len() * scorer.num_features()];
        for (d, x) in explained
            .iter()
            .zip(xs.chunks_exact_mut(scorer.num_features()))
        {
            scorer.features(d, x);
        }
        let scored = scorer.score_block(&rows[..explained.len()]);
        let reasons = scorer.reasons_block(&explained, &xs, Explain::Exact, 5);
        std::hint::black_box((scored, reasons));
        exact_blocks.push(explained.len() as f64 / t.elapsed().as_secs_f64());
    }
    let mut blocks = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(scorer.score_block(&rows));
        blocks.push(rows.len() as f64 / t.elapsed().as_secs_f64());
    }
    Ok(ScoreBench {
        model_id: model.model_id.clone(),
        trees: model.ensemble.trees.len(),
        features: model.features.len(),
        rows: rows.len(),
        features_only: median(feats),
        one_by_one,
        blocks: median(blocks),
        fast_reasons: fast,
        exact_reasons: exact,
        exact_reasons_blocks: median(exact_blocks),
    })
}
