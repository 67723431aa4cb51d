//! Validation-period comparison of training choices (issue 17, "a sharper top").
//!
//! Reads ONLY the training and validation periods (never the test period): fits the history
//! tables and modules out-of-fold on the training period exactly as `train` does, then for each
//! pre-declared candidate (a set of feature columns left out and LightGBM parameters) fits the
//! early-stopped model on the training period and prints its validation metrics and its
//! load-independent costs: splits visited per validation declaration (the walk's steps) and
//! the exact explanation's work (splits x quadrature points). The rule that picks the winner
//! is declared in BENCHMARKS.md before this was run.
//!
//! ```sh
//! cargo run --release -p borderline-training --example validation_sweep -- \
//!     data/declarations/kcs_train.csv.gz data/declarations/kcs_valid.csv.gz [CANDIDATE...]
//! ```

use borderline_core::Declaration;
use borderline_ingest::{read_all, Profile};
use borderline_targeting::features::HistoryTables;
use borderline_targeting::linear_shap::LinearShap;
use borderline_targeting::metrics::evaluate;
use borderline_targeting::modules::Modules;
use borderline_targeting::trees::{Ensemble, Tree};
use borderline_training::train::{feature_matrix, feature_names, labels};
use borderline_training::TrainConfig;
use chrono::{Datelike, NaiveDate};
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
    /// Share of the features each tree may use; 0: the default's.
    feature_fraction: f64,
    /// Deepest leaf LightGBM may grow; 0: the default's (none).
    max_depth: i32,
    /// Least gain a split must bring (LightGBM `min_gain_to_split`; 0 is LightGBM's default).
    min_gain_to_split: f64,
    /// Seed-bagged fits (seeds `seed .. seed+bag-1`) whose raw scores are averaged, as
    /// `borderline train --bag` does; 1: a single fit.
    bag: u32,
    /// Refit question (issue 17, training time): judged on a split nested inside the training
    /// period, since the validation figures of the early-stopped fit cannot judge a refit that
    /// learns from the validation period. `Some(true)`: early stopping on the training
    /// period's last three months, then the refit on the whole training period with the
    /// scaled tree count, as `train` does one period later; `Some(false)`: the early-stopped
    /// fit as it is. Both are scored on the validation period.
    nested_refit: Option<bool>,
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
    feature_fraction: 0.0,
    max_depth: 0,
    min_gain_to_split: 0.0,
    bag: 1,
    nested_refit: None,
};

/// What C14 (the default since then) leaves out of learning.
const C14_DROP: &[&str] = &[
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
];

/// C14's settings, the base of C15 onwards.
const C14: Candidate = Candidate {
    name: "C14",
    what: "C13 also without the process codes (process, import and payment type, import use, transport mode, tax type, origin indicator)",
    drop: C14_DROP,
    metric: "average_precision",
    ..DEFAULT
};

/// C17's settings (the default since then), the base of C23 onwards.
const C17: Candidate = Candidate {
    name: "C17",
    what: "C14 with 127 leaves per tree",
    num_leaves: 127,
    ..C14
};

const CANDIDATES: [Candidate; 35] = [
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
    C14,
    Candidate {
        name: "C15",
        what: "C14 with learning rate 0.1 (fewer trees)",
        learning_rate: 0.1,
        ..C14
    },
    Candidate {
        name: "C16",
        what: "C14 with 31 leaves per tree",
        num_leaves: 31,
        ..C14
    },
    C17,
    Candidate {
        name: "C18",
        what: "C14 with at least 50 declarations per leaf",
        min_data_in_leaf: 50,
        ..C14
    },
    Candidate {
        name: "C19",
        what: "C14 with feature fraction 0.5",
        feature_fraction: 0.5,
        ..C14
    },
    Candidate {
        name: "C20",
        what: "C14, bag of 2 seeds",
        bag: 2,
        ..C14
    },
    Candidate {
        name: "C21",
        what: "C14, bag of 3 seeds",
        bag: 3,
        ..C14
    },
    Candidate {
        name: "C22",
        what: "C15 (learning rate 0.1), bag of 2 seeds",
        learning_rate: 0.1,
        bag: 2,
        ..C14
    },
    Candidate {
        name: "R0",
        what: "C14 nested: early stopping on 2020's last three months, then refit on all of 2020",
        nested_refit: Some(true),
        ..C14
    },
    Candidate {
        name: "R1",
        what: "C14 nested: early stopping on 2020's last three months, no refit",
        nested_refit: Some(false),
        ..C14
    },
    Candidate {
        name: "C23",
        what: "C17 with depth at most 10",
        max_depth: 10,
        ..C17
    },
    Candidate {
        name: "C24",
        what: "C17 with depth at most 12",
        max_depth: 12,
        ..C17
    },
    Candidate {
        name: "C25",
        what: "C17 with depth at most 14",
        max_depth: 14,
        ..C17
    },
    Candidate {
        name: "C26",
        what: "C17 with learning rate 0.1",
        learning_rate: 0.1,
        ..C17
    },
    Candidate {
        name: "C27",
        what: "C17 with learning rate 0.1 and depth at most 12",
        learning_rate: 0.1,
        max_depth: 12,
        ..C17
    },
    Candidate {
        name: "C28",
        what: "C17 with at least 40 declarations per leaf",
        min_data_in_leaf: 40,
        ..C17
    },
    Candidate {
        name: "C29",
        what: "C17 with a least split gain of 1",
        min_gain_to_split: 1.0,
        ..C17
    },
    Candidate {
        name: "C30",
        what: "C17 with a least split gain of 0.03",
        min_gain_to_split: 0.03,
        ..C17
    },
    Candidate {
        name: "C31",
        what: "C17 with a least split gain of 0.1",
        min_gain_to_split: 0.1,
        ..C17
    },
    Candidate {
        name: "C32",
        what: "C17 with a least split gain of 0.3",
        min_gain_to_split: 0.3,
        ..C17
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

/// A feature matrix, one row per declaration.
type Rows = Vec<Vec<f32>>;

/// Out-of-fold history and module features of `history`, the features of each of `later` from
/// the tables fitted on `history`, and the columns' names.
fn features(
    cfg: &TrainConfig,
    history: &[Declaration],
    later: &[&[Declaration]],
) -> (Rows, Vec<Rows>, Vec<String>) {
    let (tables, mut x) = HistoryTables::fit_out_of_fold(history, &cfg.features);
    let (modules, xm) =
        Modules::fit_out_of_fold(history, cfg.modules, cfg.features.folds, cfg.features.seed)
            .expect("modules");
    for (row, m) in x.iter_mut().zip(xm) {
        row.extend(m);
    }
    let xl = later
        .iter()
        .map(|rows| feature_matrix(&tables, &modules, rows))
        .collect();
    (x, xl, feature_names(cfg, &modules))
}

/// One LightGBM fit of candidate `c` with `seed`: early-stopped on `valid` when given, else
/// `rounds` trees.
fn fit(
    cfg: &TrainConfig,
    c: &Candidate,
    nf: usize,
    (xt, yt): (&[f32], &[f32]),
    valid: Option<(&[f32], &[f32])>,
    seed: u64,
    rounds: u32,
) -> Ensemble {
    let mut p = serde_json::json!({
        "objective": "binary", "metric": c.metric,
        "learning_rate": if c.learning_rate > 0.0 { c.learning_rate } else { cfg.learning_rate },
        "num_leaves": if c.num_leaves > 0 { c.num_leaves } else { cfg.num_leaves },
        "max_depth": if c.max_depth != 0 { c.max_depth } else { cfg.max_depth },
        "min_data_in_leaf": c.min_data_in_leaf, "min_gain_to_split": c.min_gain_to_split,
        "feature_fraction": if c.feature_fraction > 0.0 { c.feature_fraction } else { cfg.feature_fraction },
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": cfg.bagging_freq, "lambda_l2": c.lambda_l2,
        "num_iterations": rounds, "seed": seed, "deterministic": true,
        "force_row_wise": true, "num_threads": cfg.threads, "verbosity": -1,
    });
    if valid.is_some() {
        p["early_stopping_rounds"] = serde_json::json!(cfg.early_stopping_rounds);
    }
    let dt = lightgbm3::Dataset::from_slice(xt, yt, nf as i32, true).expect("dataset");
    let dv = valid.map(|(xv, yv)| {
        lightgbm3::Dataset::from_slice_with_reference(xv, yv, nf as i32, true, Some(&dt))
            .expect("dataset")
    });
    let booster = lightgbm3::Booster::train_with_valid(dt, dv, &p).expect("fit");
    Ensemble::from_lightgbm_text(&booster.save_string().expect("model")).expect("trees")
}

/// The columns of `names` that candidate `c` learns from.
fn kept(c: &Candidate, names: &[String]) -> Vec<usize> {
    (0..names.len())
        .filter(|&i| !dropped(c, &names[i]))
        .collect()
}

/// `rows` cut to the columns `keep`, flattened row after row as LightGBM reads them.
fn pick(rows: &[Vec<f32>], keep: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|r| keep.iter().map(move |&i| r[i]))
        .collect()
}

/// Raw scores of `members` averaged over `rows` (flattened, `nf` columns): a bag's score.
fn bag_scores(members: &[Ensemble], rows: &[f32], nf: usize) -> Vec<f64> {
    rows.chunks(nf)
        .map(|x| members.iter().map(|m| m.raw_score(x)).sum::<f64>() / members.len() as f64)
        .collect()
}

/// The first day of the training period's last three calendar months: where the nested split
/// of the refit question puts its own validation period.
fn last_quarter_start(train: &[Declaration]) -> NaiveDate {
    let last = train.iter().map(|d| d.date).max().expect("training rows");
    let months = last.year() * 12 + last.month0() as i32 - 2;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .expect("a calendar month")
}

/// Load-independent costs of a fitted candidate (all members of a bag together), the measure
/// of the C23 onwards rule in BENCHMARKS.md.
#[derive(Clone, Copy)]
struct Cost {
    trees: usize,
    splits: usize,
    /// Median over trees of the deepest leaf's depth.
    median_depth: usize,
    /// Splits the walk passes per validation declaration, summed over the trees: the steps
    /// every scorer (lane walk, LightGBM's predict) takes.
    visited: f64,
    /// One declaration's exact explanation: splits x quadrature points of every tree
    /// (`LinearShap::work`).
    shap_work: usize,
}

impl Cost {
    fn of(members: &[Ensemble], xv: &[f32], nf: usize) -> Cost {
        let trees: Vec<&Tree> = members.iter().flat_map(|m| &m.trees).collect();
        let rows = xv.len() / nf.max(1);
        let steps: usize = xv
            .chunks(nf)
            .map(|x| trees.iter().map(|t| t.splits_visited(x)).sum::<usize>())
            .sum();
        let mut depths: Vec<usize> = trees.iter().map(|t| depth(t)).collect();
        depths.sort_unstable();
        Cost {
            trees: trees.len(),
            splits: trees.iter().map(|t| t.split_feature.len()).sum(),
            median_depth: depths.get(depths.len() / 2).copied().unwrap_or(0),
            visited: steps as f64 / rows.max(1) as f64,
            shap_work: members
                .iter()
                .map(|m| LinearShap::build(&m.trees).work())
                .sum(),
        }
    }
}

/// Depth of `t`'s deepest leaf (0 for a stump).
fn depth(t: &Tree) -> usize {
    if t.split_feature.is_empty() {
        return 0;
    }
    let (mut deepest, mut stack) = (0, vec![(0i32, 1usize)]);
    while let Some((node, d)) = stack.pop() {
        deepest = deepest.max(d);
        for c in [t.left_child[node as usize], t.right_child[node as usize]] {
            if c >= 0 {
                stack.push((c, d + 1));
            }
        }
    }
    deepest
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
    let (x_train, xl, names) = features(&cfg, &train, &[&valid]);
    let x_valid = &xl[0];
    let (y_train, y_valid) = (labels(&train), labels(&valid));
    eprintln!(
        "features fitted in {:.1}s: {} train, {} valid rows, {} features",
        t0.elapsed().as_secs_f64(),
        train.len(),
        valid.len(),
        names.len()
    );
    // The nested split of the refit question, built once if asked for.
    let nested = CANDIDATES
        .iter()
        .any(|c| c.nested_refit.is_some() && (only.is_empty() || only.contains(&c.name)))
        .then(|| {
            let cut = last_quarter_start(&train);
            let (inner, inner_valid): (Vec<Declaration>, Vec<Declaration>) =
                train.iter().cloned().partition(|d| d.date < cut);
            let t = Instant::now();
            let (x_inner, xl, _) = features(&cfg, &inner, &[&inner_valid, &valid]);
            eprintln!(
                "nested split at {cut}: {} + {} rows, features in {:.1}s",
                inner.len(),
                inner_valid.len(),
                t.elapsed().as_secs_f64()
            );
            (inner, inner_valid, x_inner, xl)
        });
    println!("| candidate | features | valid AUC | P@1% | P@2% | P@5% | P@10% | mean P@5/10 | trees | splits | median depth | splits visited per valid declaration (x C17) | per tree | TreeSHAP work, split-points (x C17) | fit s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    // C17's costs once it is fitted (it comes before C23 onwards): the ratios the rule reads.
    let mut reference: Option<Cost> = None;
    for c in CANDIDATES
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
    {
        let keep = kept(c, &names);
        let nf = keep.len();
        let t = Instant::now();
        let (members, raw, xv) = match (c.nested_refit, &nested) {
            (Some(refit), Some((inner, inner_valid, x_inner, xl))) => {
                let xi = pick(x_inner, &keep);
                let xiv = pick(&xl[0], &keep);
                let early = fit(
                    &cfg,
                    c,
                    nf,
                    (&xi, &labels(inner)),
                    Some((&xiv, &labels(inner_valid))),
                    cfg.seed,
                    cfg.max_rounds,
                );
                if refit {
                    // As `train`: the refit's history is the whole earlier period, its trees
                    // the early-stopped count scaled up.
                    let rounds = ((early.trees.len() as f64) * cfg.refit_scale).round() as u32;
                    let xt = pick(&x_train, &keep);
                    let refitted = fit(&cfg, c, nf, (&xt, &y_train), None, cfg.seed, rounds);
                    let xv = pick(x_valid, &keep);
                    let raw = bag_scores(std::slice::from_ref(&refitted), &xv, nf);
                    (vec![refitted], raw, xv)
                } else {
                    let xv = pick(&xl[1], &keep);
                    let raw = bag_scores(std::slice::from_ref(&early), &xv, nf);
                    (vec![early], raw, xv)
                }
            }
            _ => {
                let (xt, xv) = (pick(&x_train, &keep), pick(x_valid, &keep));
                let members: Vec<Ensemble> = (0..u64::from(c.bag.max(1)))
                    .map(|k| {
                        fit(
                            &cfg,
                            c,
                            nf,
                            (&xt, &y_train),
                            Some((&xv, &y_valid)),
                            cfg.seed + k,
                            cfg.max_rounds,
                        )
                    })
                    .collect();
                let raw = bag_scores(&members, &xv, nf);
                (members, raw, xv)
            }
        };
        let fit_s = t.elapsed().as_secs_f64();
        let cost = Cost::of(&members, &xv, nf);
        if c.name == "C17" {
            reference = Some(cost);
        }
        let times = |a: f64, b: Option<f64>| match b {
            Some(b) if b > 0.0 => format!(" ({:.2}x)", a / b),
            _ => String::new(),
        };
        let r = evaluate(&valid, &raw);
        let p = |k: &str| r.precision_at.get(k).copied().unwrap_or(f64::NAN);
        println!(
            "| {} {} | {} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {:.4} | {} | {} | {} | {:.1}{} | {:.2} | {}{} | {:.0} |",
            c.name,
            c.what,
            nf,
            r.auc,
            p("1"),
            p("2"),
            p("5"),
            p("10"),
            (p("5") + p("10")) / 2.0,
            cost.trees,
            cost.splits,
            cost.median_depth,
            cost.visited,
            times(cost.visited, reference.map(|r| r.visited)),
            cost.visited / cost.trees.max(1) as f64,
            cost.shap_work,
            times(
                cost.shap_work as f64,
                reference.map(|r| r.shap_work as f64)
            ),
            fit_s
        );
    }
}
