//! Validation-period comparison of training choices (issue 17, "a sharper top").
//!
//! Reads ONLY the training and validation periods (never the test period): fits the history
//! tables and modules out-of-fold on the training period exactly as `train` does, then for each
//! pre-declared candidate (a set of feature columns left out and LightGBM parameters) fits the
//! early-stopped model on the training period and prints its validation metrics. The rule that
//! picks the winner is declared in BENCHMARKS.md before this was run.
//!
//! ```sh
//! cargo run --release -p borderline-training --example validation_sweep -- \
//!     data/declarations/kcs_train.csv.gz data/declarations/kcs_valid.csv.gz [CANDIDATE...]
//! ```

use borderline_core::Declaration;
use borderline_ingest::{read_all, Profile};
use borderline_targeting::features::HistoryTables;
use borderline_targeting::metrics::evaluate;
use borderline_targeting::modules::Modules;
use borderline_targeting::trees::Ensemble;
use borderline_training::train::{feature_matrix, feature_names, labels};
use borderline_training::TrainConfig;
use std::time::Instant;

struct Candidate {
    name: &'static str,
    what: &'static str,
    /// Feature names (exact, `*suffix`, or `%dimension` for every key containing it) left out
    /// of the fit.
    drop: &'static [&'static str],
    min_data_in_leaf: u32,
    lambda_l2: f64,
    /// LightGBM metric early stopping watches.
    metric: &'static str,
    /// Learning rate and leaves per tree; 0: the default's.
    learning_rate: f64,
    num_leaves: u32,
}

/// Keys of the issue-2 "stronger baseline" (single columns + six pairs).
const BASELINE_KEYS: [&str; 21] = [
    "office",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "declarant",
    "importer",
    "seller",
    "courier",
    "hs6",
    "departure",
    "origin",
    "tax_type",
    "origin_indicator",
    "importer_x_hs6",
    "seller_x_hs6",
    "declarant_x_importer",
    "importer_x_seller",
    "hs6_x_origin",
    "office_x_hs6",
];

/// The default's settings; each candidate names what it changes.
const DEFAULT: Candidate = Candidate {
    name: "",
    what: "",
    drop: &[],
    min_data_in_leaf: 20,
    lambda_l2: 0.0,
    metric: "auc",
    learning_rate: 0.0,
    num_leaves: 0,
};

const CANDIDATES: [Candidate; 15] = [
    Candidate {
        name: "C0",
        what: "default (95 features)",
        ..DEFAULT
    },
    Candidate {
        name: "C1",
        what: "without calendar features (day of week, day of month)",
        drop: &["day_of_week", "day_of_month"],
        ..DEFAULT
    },
    Candidate {
        name: "C2",
        what: "without the 28 history counts (rates only)",
        drop: &["*_count"],
        ..DEFAULT
    },
    Candidate {
        name: "C3",
        what: "without calendar features and counts",
        drop: &["day_of_week", "day_of_month", "*_count"],
        ..DEFAULT
    },
    Candidate {
        name: "C4",
        what: "default features, min_data_in_leaf 50, lambda_l2 1",
        min_data_in_leaf: 50,
        lambda_l2: 1.0,
        ..DEFAULT
    },
    Candidate {
        name: "C5",
        what: "C3 features, min_data_in_leaf 50, lambda_l2 1",
        drop: &["day_of_week", "day_of_month", "*_count"],
        min_data_in_leaf: 50,
        lambda_l2: 1.0,
        ..DEFAULT
    },
    Candidate {
        name: "C6",
        what: "issue-2 stronger-baseline keys (15 columns + 6 pairs), fraud + critical rates, unit-value deviations, numerics; no counts, calendar or valuation module",
        drop: &["@baseline"],
        ..DEFAULT
    },
    Candidate {
        name: "C7",
        what: "default, early stopping on average precision instead of AUC",
        metric: "average_precision",
        ..DEFAULT
    },
    Candidate {
        name: "C8",
        what: "C7 with learning rate 0.1 (fewer trees)",
        metric: "average_precision",
        learning_rate: 0.1,
        ..DEFAULT
    },
    Candidate {
        name: "C9",
        what: "C7 with 31 leaves per tree (smaller trees)",
        metric: "average_precision",
        num_leaves: 31,
        ..DEFAULT
    },
    Candidate {
        name: "C10",
        what: "C7 without calendar features (day of week, day of month)",
        drop: &["day_of_week", "day_of_month"],
        metric: "average_precision",
        ..DEFAULT
    },
    Candidate {
        name: "C11",
        what: "C7 without the 28 history counts (rates only)",
        drop: &["*_count"],
        metric: "average_precision",
        ..DEFAULT
    },
    Candidate {
        name: "C12",
        what: "C7 without calendar features and counts",
        drop: &["day_of_week", "day_of_month", "*_count"],
        metric: "average_precision",
        ..DEFAULT
    },
    Candidate {
        name: "C13",
        what: "C10 without the intermediaries' identifiers (office, declarant, seller, courier: every key that contains one)",
        drop: &[
            "day_of_week",
            "day_of_month",
            "%office",
            "%declarant",
            "%seller",
            "%courier",
        ],
        metric: "average_precision",
        ..DEFAULT
    },
    Candidate {
        name: "C14",
        what: "C13 also without the process codes (process, import and payment type, import use, transport mode, tax type, origin indicator)",
        drop: &[
            "day_of_week",
            "day_of_month",
            "%office",
            "%declarant",
            "%seller",
            "%courier",
            "%process_type",
            "%import_type",
            "%import_use",
            "%payment_type",
            "%transport_mode",
            "%tax_type",
            "%origin_indicator",
        ],
        metric: "average_precision",
        ..DEFAULT
    },
];

fn dropped(c: &Candidate, name: &str) -> bool {
    c.drop.iter().any(|p| {
        if *p == "@baseline" {
            if ["day_of_week", "day_of_month"].contains(&name) || name.ends_with("_count") {
                return true;
            }
            // History features are `<key>_fraud_rate` / `_count` / `_critical_rate`.
            let key = name
                .strip_suffix("_fraud_rate")
                .or_else(|| name.strip_suffix("_critical_rate"));
            return match key {
                Some(k) => !BASELINE_KEYS.contains(&k),
                // Numeric history features stay; module features go.
                None => !borderline_targeting::features::NUMERIC_FEATURES
                    .iter()
                    .any(|(n, _)| *n == name),
            };
        }
        // `%dim`: every history feature of a key (single or pair) that contains that dimension.
        if let Some(dim) = p.strip_prefix('%') {
            let key = name
                .strip_suffix("_fraud_rate")
                .or_else(|| name.strip_suffix("_critical_rate"))
                .or_else(|| name.strip_suffix("_count"));
            return key.is_some_and(|k| k.split("_x_").any(|d| d == dim));
        }
        if let Some(suffix) = p.strip_prefix('*') {
            name.ends_with(suffix)
        } else {
            name == *p
        }
    })
}

fn load(path: &str) -> Vec<Declaration> {
    let (rows, _, _) = read_all(path, Profile::korea_customs()).expect("readable declarations");
    let mut rows: Vec<Declaration> = rows.into_iter().filter(|d| d.outcome.is_some()).collect();
    rows.sort_by(|a, b| (a.date, &a.declaration_id).cmp(&(b.date, &b.declaration_id)));
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: validation_sweep TRAIN VALID [CANDIDATE...]");
        std::process::exit(2);
    }
    let only: Vec<&str> = args[3..].iter().map(String::as_str).collect();
    let cfg = TrainConfig::default();
    let (train, valid) = (load(&args[1]), load(&args[2]));
    let t0 = Instant::now();
    let (tables, mut x_train) = HistoryTables::fit_out_of_fold(&train, &cfg.features);
    let (modules, xm) =
        Modules::fit_out_of_fold(&train, cfg.modules, cfg.features.folds, cfg.features.seed)
            .expect("modules");
    for (row, m) in x_train.iter_mut().zip(xm) {
        row.extend(m);
    }
    let x_valid = feature_matrix(&tables, &modules, &valid);
    let names = feature_names(&cfg, &modules);
    let (y_train, y_valid) = (labels(&train), labels(&valid));
    eprintln!(
        "features fitted in {:.1}s: {} train, {} valid rows, {} features",
        t0.elapsed().as_secs_f64(),
        train.len(),
        valid.len(),
        names.len()
    );
    println!("| candidate | features | valid AUC | P@1% | P@2% | P@5% | P@10% | mean P@5/10 | trees | splits | fit s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for c in CANDIDATES
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
    {
        let keep: Vec<usize> = (0..names.len())
            .filter(|&i| !dropped(c, &names[i]))
            .collect();
        let pick = |rows: &[Vec<f32>]| -> Vec<f32> {
            rows.iter()
                .flat_map(|r| keep.iter().map(move |&i| r[i]))
                .collect()
        };
        let (xt, xv) = (pick(&x_train), pick(&x_valid));
        let nf = keep.len() as i32;
        let p = serde_json::json!({
            "objective": "binary", "metric": c.metric,
            "learning_rate": if c.learning_rate > 0.0 { c.learning_rate } else { cfg.learning_rate },
            "num_leaves": if c.num_leaves > 0 { c.num_leaves } else { cfg.num_leaves },
            "max_depth": cfg.max_depth, "min_data_in_leaf": c.min_data_in_leaf,
            "feature_fraction": cfg.feature_fraction, "bagging_fraction": cfg.bagging_fraction,
            "bagging_freq": cfg.bagging_freq, "lambda_l2": c.lambda_l2,
            "num_iterations": cfg.max_rounds, "seed": cfg.seed, "deterministic": true,
            "force_row_wise": true, "num_threads": cfg.threads, "verbosity": -1,
            "early_stopping_rounds": cfg.early_stopping_rounds,
        });
        let t = Instant::now();
        let dt = lightgbm3::Dataset::from_slice(&xt, &y_train, nf, true).expect("dataset");
        let dv = lightgbm3::Dataset::from_slice_with_reference(&xv, &y_valid, nf, true, Some(&dt))
            .expect("dataset");
        let booster = lightgbm3::Booster::train_with_valid(dt, Some(dv), &p).expect("fit");
        let ens =
            Ensemble::from_lightgbm_text(&booster.save_string().expect("model")).expect("trees");
        let raw: Vec<f64> = xv.chunks(keep.len()).map(|x| ens.raw_score(x)).collect();
        let r = evaluate(&valid, &raw);
        let p = |k: &str| r.precision_at.get(k).copied().unwrap_or(f64::NAN);
        println!(
            "| {} {} | {} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {:.4} | {} | {} | {:.0} |",
            c.name,
            c.what,
            keep.len(),
            r.auc,
            p("1"),
            p("2"),
            p("5"),
            p("10"),
            (p("5") + p("10")) / 2.0,
            ens.trees.len(),
            ens.trees
                .iter()
                .map(|t| t.split_feature.len())
                .sum::<usize>(),
            t.elapsed().as_secs_f64()
        );
    }
}
