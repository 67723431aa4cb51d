//! Exact block explanations (`Ensemble::shap_block`) against the rows explained per call: the
//! first `limit` declarations of a file that score red or yellow at the stream thresholds
//! (5 % / 10 %), explained in calls of 8 to 128 rows, two rounds, CPU-time medians of 3 runs.
//! `score --stream` explains the red and yellow declarations of each 1,024 it holds in one
//! call: about 60 rows on generated data, 150 on the test period.
//!
//! ```text
//! cargo run --release -p borderline-targeting --example shap_chunks -- MODEL.json.gz DECLARATIONS.csv [limit=2000]
//! ```
use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Lane, Scorer};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = ModelArtefact::load(&PathBuf::from(&args[0])).unwrap();
    let limit: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let scorer = Scorer::new(model.clone());
    let nf = scorer.num_features();
    let lanes = scorer.lane_thresholds(5.0, 10.0);
    let mut xs = Vec::new();
    let mut x = vec![0.0f32; nf];
    for row in DeclarationReader::open(PathBuf::from(&args[1]), Profile::korea_customs())
        .unwrap()
        .without_duplicate_check()
    {
        if let Row::Accepted(d) = row {
            let s = scorer.score(&d, &mut x);
            if matches!(lanes.lane(s.probability), Lane::Red | Lane::Yellow) {
                xs.extend_from_slice(&x);
                if xs.len() / nf >= limit {
                    break;
                }
            }
        }
    }
    let rows = xs.len() / nf;
    let e = &model.ensemble;
    e.prepare_exact_explanations();
    for round in 0..2 {
        for c in [8usize, 32, 61, 64, 128] {
            let t = borderline_bench_clock::rate(3, || {
                let mut s = 0.0;
                for chunk in xs.chunks(c * nf) {
                    s += e.shap_block(chunk)[0].values[0];
                }
                std::hint::black_box(s);
                rows
            });
            println!(
                "round {round} chunk {c:>4}: {:.1} rows/s wall, {:.1} rows/s CPU ({rows} rows)",
                t.0, t.1
            );
        }
    }
}
