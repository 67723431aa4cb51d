//! Training protocol: history features out-of-fold on the training period, LightGBM with early
//! stopping on the validation period, then (by default) a refit on training + validation with
//! the early-stopped number of trees scaled up, so that scoring uses all history before the
//! scored period. No row of a later period ever enters a fitted statistic.
//!
//! With `config.bag = K > 1` (issue 17) every fit is made K times with seeds `seed .. seed+K-1`
//! and the K ensembles are merged into one whose raw score is their mean ([`merge_bag`]):
//! averaging fits that differ only in their bagging and feature-fraction draws lowers the
//! variance of the ranking, most at the top of the list. Validation metrics, calibration and
//! lane thresholds come from the merged early-stopped bag.

use borderline_core::Declaration;
use borderline_targeting::features::HistoryTables;
use borderline_targeting::metrics::evaluate;
pub use borderline_targeting::model::TrainConfig;
use borderline_targeting::model::{
    BagMember, Calibration, ModelArtefact, ScoreQuantiles, TrainingInfo, FORMAT, FORMAT_VERSION,
};
use borderline_targeting::modules::{ModuleError, Modules};
use borderline_targeting::trees::Ensemble;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0} has no declarations with an inspection outcome")]
    NoLabels(&'static str),
    #[error("{0} has only one outcome class (all fraud or none): nothing to learn")]
    OneClass(&'static str),
    #[error("LightGBM: {0}")]
    Gbdt(String),
    #[error("imported trees disagree with LightGBM: raw score {ours} vs {theirs}")]
    Mismatch { ours: f64, theirs: f64 },
    #[error("cannot read back the trained trees: {0}")]
    Trees(#[from] borderline_targeting::trees::ParseError),
    #[error("fitting analytic modules: {0}")]
    Modules(#[from] ModuleError),
    #[error("cannot exclude feature {0:?}: the model has no feature of that name")]
    UnknownFeature(String),
}

/// Progress callback: `(step, detail)`.
pub type Progress<'a> = &'a dyn Fn(&str);

fn labelled(rows: &[Declaration], what: &'static str) -> Result<Vec<Declaration>, TrainError> {
    let out: Vec<Declaration> = rows
        .iter()
        .filter(|d| d.outcome.is_some())
        .cloned()
        .collect();
    if out.is_empty() {
        return Err(TrainError::NoLabels(what));
    }
    let frauds = out
        .iter()
        .filter(|d| d.outcome.is_some_and(|o| o.fraud))
        .count();
    if frauds == 0 || frauds == out.len() {
        return Err(TrainError::OneClass(what));
    }
    Ok(out)
}

/// Each row's label for learning: 1 for an inspected fraud, 0 otherwise.
pub fn labels(rows: &[Declaration]) -> Vec<f32> {
    rows.iter()
        .map(|d| f32::from(u8::from(d.outcome.is_some_and(|o| o.fraud))))
        .collect()
}

/// LightGBM parameters of one fit. `deterministic` with `force_row_wise` makes a fit at a given
/// thread count reproducible run after run (LightGBM's histogram sums are reduced in a fixed
/// order); `seed` derives LightGBM's bagging, feature-fraction and data seeds.
fn params(cfg: &TrainConfig, seed: u64, rounds: u32, early_stopping: bool) -> serde_json::Value {
    let mut p = serde_json::json!({
        "objective": "binary",
        "metric": cfg.early_stopping_metric,
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "max_depth": cfg.max_depth,
        "min_data_in_leaf": cfg.min_data_in_leaf,
        "feature_fraction": cfg.feature_fraction,
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": cfg.bagging_freq,
        "lambda_l2": cfg.lambda_l2,
        "num_iterations": rounds,
        "seed": seed,
        "deterministic": true,
        "force_row_wise": true,
        "num_threads": cfg.threads.max(1),
        "verbosity": -1,
    });
    if early_stopping {
        p["early_stopping_rounds"] = serde_json::json!(cfg.early_stopping_rounds);
    }
    p
}

fn flatten(rows: &[Vec<f32>]) -> Vec<f32> {
    rows.iter().flat_map(|r| r.iter().copied()).collect()
}

fn gbdt<E: std::fmt::Display>(e: E) -> TrainError {
    TrainError::Gbdt(e.to_string())
}

/// Feature matrix of `rows` from fitted `tables` and `modules` (history features first).
pub fn feature_matrix(
    tables: &HistoryTables,
    modules: &Modules,
    rows: &[Declaration],
) -> Vec<Vec<f32>> {
    let nh = tables.spec.num_features();
    let nf = nh + modules.num_features();
    rows.iter()
        .map(|d| {
            let mut x = vec![0.0; nf];
            tables.features(d, &mut x[..nh]);
            modules.features(d, &mut x[nh..]);
            x
        })
        .collect()
}

/// The names of the feature matrix's columns, in order: `cfg.features`' history features, then
/// those of the fitted `modules` (the order [`feature_matrix`] writes them in).
pub fn feature_names(cfg: &TrainConfig, modules: &Modules) -> Vec<String> {
    cfg.features
        .feature_defs()
        .into_iter()
        .chain(modules.feature_defs())
        .map(|f| f.name)
        .collect()
}

/// Positions of `cfg.exclude` among the features of `modules` and `cfg.features`.
fn excluded_columns(cfg: &TrainConfig, modules: &Modules) -> Result<Vec<usize>, TrainError> {
    let names = feature_names(cfg, modules);
    cfg.exclude
        .iter()
        .map(|e| {
            names
                .iter()
                .position(|n| n == e)
                .ok_or_else(|| TrainError::UnknownFeature(e.clone()))
        })
        .collect()
}

/// The learning copy of a feature matrix: the excluded columns missing on every row, which
/// LightGBM drops as unusable (one bin), so no split can test them.
fn without_excluded(rows: &[Vec<f32>], columns: &[usize]) -> Vec<Vec<f32>> {
    rows.iter()
        .map(|r| {
            let mut r = r.clone();
            for &c in columns {
                r[c] = f32::NAN;
            }
            r
        })
        .collect()
}

/// History tables and modules fitted on `history`, with every row's out-of-fold features.
fn fit_all_out_of_fold(
    history: &[Declaration],
    cfg: &TrainConfig,
) -> Result<(HistoryTables, Modules, Vec<Vec<f32>>), TrainError> {
    let spec = &cfg.features;
    let (tables, mut x) = HistoryTables::fit_out_of_fold(history, spec);
    let (modules, xm) = Modules::fit_out_of_fold(history, cfg.modules, spec.folds, spec.seed)?;
    for (row, m) in x.iter_mut().zip(xm) {
        row.extend(m);
    }
    Ok((tables, modules, x))
}

fn fingerprint(parts: &[&[Declaration]]) -> String {
    let mut h = Sha256::new();
    for rows in parts {
        for d in *rows {
            h.update(d.declaration_id.as_bytes());
            h.update(d.date.to_string().as_bytes());
            let o = d.outcome.map(|o| o.critical_level + 1).unwrap_or(0);
            h.update([o, b'\n']);
        }
        h.update(b"--\n");
    }
    format!("sha256:{:x}", h.finalize())
}

fn period(rows: &[Declaration]) -> (String, String) {
    let min = rows.iter().map(|d| d.date).min();
    let max = rows.iter().map(|d| d.date).max();
    (
        min.map(|d| d.to_string()).unwrap_or_default(),
        max.map(|d| d.to_string()).unwrap_or_default(),
    )
}

fn train_booster(
    x: &[Vec<f32>],
    y: &[f32],
    valid: Option<(&[Vec<f32>], &[f32])>,
    nf: usize,
    p: &serde_json::Value,
) -> Result<lightgbm3::Booster, TrainError> {
    let train = lightgbm3::Dataset::from_slice(&flatten(x), y, nf as i32, true).map_err(gbdt)?;
    let valid = match valid {
        Some((vx, vy)) => Some(
            lightgbm3::Dataset::from_slice_with_reference(
                &flatten(vx),
                vy,
                nf as i32,
                true,
                Some(&train),
            )
            .map_err(gbdt)?,
        ),
        None => None,
    };
    lightgbm3::Booster::train_with_valid(train, valid, p).map_err(gbdt)
}

/// Reads the booster's trees into our evaluator and checks that both give the same raw scores
/// on (up to 2,000 of) `rows`: scoring must reproduce what LightGBM learned exactly.
fn import_trees(
    booster: &lightgbm3::Booster,
    rows: &[Vec<f32>],
    nf: usize,
) -> Result<Ensemble, TrainError> {
    let ensemble = Ensemble::from_lightgbm_text(&booster.save_string().map_err(gbdt)?)?;
    let sample = &rows[..rows.len().min(2000)];
    let theirs = booster
        .raw_scores(&flatten(sample), nf as i32, true)
        .map_err(gbdt)?;
    for (x, t) in sample.iter().zip(&theirs) {
        let ours = ensemble.raw_score(x);
        if (ours - t).abs() > 1e-6 * (1.0 + t.abs()) {
            return Err(TrainError::Mismatch { ours, theirs: *t });
        }
    }
    Ok(ensemble)
}

/// Seeds of the bag's fits: `seed, seed + 1, ...` (`config.bag` of them, at least one), so a
/// bag of one is the single fit of earlier versions.
pub fn bag_seeds(cfg: &TrainConfig) -> Vec<u64> {
    (0..u64::from(cfg.bag.max(1)))
        .map(|k| cfg.seed.wrapping_add(k))
        .collect()
}

/// Merges the fits of a seed bag into one ensemble whose raw score is the mean of theirs: the
/// members' trees in order, every leaf value (and internal node's expected value) divided by
/// the number of members. A sum of trees stays a sum of trees, so every scorer and exact
/// TreeSHAP work unchanged, and SHAP values of the bag are the mean of the members' values.
/// One member is returned as it is.
pub fn merge_bag(mut members: Vec<Ensemble>) -> Ensemble {
    if members.len() == 1 {
        if let Some(only) = members.pop() {
            return only;
        }
    }
    let k = members.len() as f64;
    let num_features = members.iter().map(|m| m.num_features).max().unwrap_or(0);
    let trees = members
        .into_iter()
        .flat_map(|m| m.trees)
        .map(|mut t| {
            for v in t.leaf_value.iter_mut().chain(t.internal_value.iter_mut()) {
                *v /= k;
            }
            t
        })
        .collect();
    Ensemble::new(num_features, trees)
}

/// Trains a risk model on `train` (earlier period) with early stopping on `valid` (the period
/// right after it).
pub fn train(
    train: &[Declaration],
    valid: &[Declaration],
    cfg: &TrainConfig,
    progress: Progress,
) -> Result<ModelArtefact, TrainError> {
    let mut train = labelled(train, "the training period")?;
    let mut valid = labelled(valid, "the validation period")?;
    // Chronological order keeps the fingerprint independent of file order within a day.
    train.sort_by(|a, b| (a.date, &a.declaration_id).cmp(&(b.date, &b.declaration_id)));
    valid.sort_by(|a, b| (a.date, &a.declaration_id).cmp(&(b.date, &b.declaration_id)));
    progress("fitting history tables and modules on the training period (out-of-fold)");
    let (tables, modules, x_train) = fit_all_out_of_fold(&train, cfg)?;
    let nf = tables.spec.num_features() + modules.num_features();
    let excluded = excluded_columns(cfg, &modules)?;
    let x_train = without_excluded(&x_train, &excluded);
    let x_valid = without_excluded(&feature_matrix(&tables, &modules, &valid), &excluded);
    let (y_train, y_valid) = (labels(&train), labels(&valid));

    let seeds = bag_seeds(cfg);
    let mut early_members = Vec::with_capacity(seeds.len());
    let mut best_iterations = Vec::with_capacity(seeds.len());
    for (k, &seed) in seeds.iter().enumerate() {
        progress(&format!(
            "training gradient-boosted trees with early stopping on the validation period (fit {} of {}, seed {seed})",
            k + 1,
            seeds.len()
        ));
        let booster = train_booster(
            &x_train,
            &y_train,
            Some((&x_valid, &y_valid)),
            nf,
            &params(cfg, seed, cfg.max_rounds, true),
        )?;
        best_iterations.push(booster.num_iterations().max(1) as usize);
        early_members.push(import_trees(&booster, &x_valid, nf)?);
    }
    // Validation metrics of the bag of the first k members, k = 1..=K: the mean of their raw
    // scores, which is what the merged ensemble of k members computes.
    let mut validation_by_bag_size = Vec::with_capacity(seeds.len());
    let mut sums = vec![0.0; x_valid.len()];
    for (k, member) in early_members.iter().enumerate() {
        for (s, x) in sums.iter_mut().zip(&x_valid) {
            *s += member.raw_score(x);
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / (k + 1) as f64).collect();
        validation_by_bag_size.push(evaluate(&valid, &mean));
    }
    let early = merge_bag(early_members);
    let best_iteration: usize = best_iterations.iter().sum();
    let valid_raw: Vec<f64> = x_valid.iter().map(|x| early.raw_score(x)).collect();
    let validation = evaluate(&valid, &valid_raw);
    let valid_labels: Vec<bool> = y_valid.iter().map(|y| *y > 0.5).collect();
    let calibration = Calibration::fit(&valid_raw, &valid_labels);
    // Lane thresholds from the early-stopped model's validation-period scores: out of sample
    // (the model never trained on these rows), taken before the refit, which learns from them
    // and would score them lower-variance and overconfident (issue 13: a 5% threshold from the
    // refit model's own training rows gave 2.0% red on the next period).
    let lane_quantiles = ScoreQuantiles::from_scores(
        &valid_raw
            .iter()
            .map(|&r| calibration.probability(r))
            .collect::<Vec<f64>>(),
    );
    progress(&format!(
        "early stopping chose {best_iteration} trees; validation AUC {:.4}",
        validation.auc
    ));

    let (history, modules, ensemble, final_by_member) = if cfg.refit {
        let all: Vec<Declaration> = train.iter().chain(valid.iter()).cloned().collect();
        let (tables_all, modules_all, x_all) = fit_all_out_of_fold(&all, cfg)?;
        let x_all = without_excluded(&x_all, &excluded_columns(cfg, &modules_all)?);
        let y_all = labels(&all);
        let mut members = Vec::with_capacity(seeds.len());
        let mut rounds_by_member = Vec::with_capacity(seeds.len());
        for (k, (&seed, &best)) in seeds.iter().zip(&best_iterations).enumerate() {
            progress(&format!(
                "refitting on training + validation periods (fit {} of {}, seed {seed})",
                k + 1,
                seeds.len()
            ));
            let rounds = ((best as f64) * cfg.refit_scale).round().max(1.0) as u32;
            let booster =
                train_booster(&x_all, &y_all, None, nf, &params(cfg, seed, rounds, false))?;
            members.push(import_trees(&booster, &x_all, nf)?);
            rounds_by_member.push(rounds as usize);
        }
        (
            tables_all,
            modules_all,
            merge_bag(members),
            rounds_by_member,
        )
    } else {
        (tables, modules, early, best_iterations.clone())
    };
    let final_iterations = final_by_member.iter().sum();
    let members = seeds
        .iter()
        .zip(&best_iterations)
        .zip(&final_by_member)
        .map(|((&seed, &best_iteration), &final_iterations)| BagMember {
            seed,
            best_iteration,
            final_iterations,
        })
        .collect();

    let mut artefact = ModelArtefact {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        model_id: String::new(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        borderline_version: env!("CARGO_PKG_VERSION").to_string(),
        features: cfg
            .features
            .feature_defs()
            .into_iter()
            .chain(modules.feature_defs())
            .collect(),
        history,
        modules,
        ensemble,
        calibration,
        lane_quantiles,
        training: TrainingInfo {
            data_fingerprint: fingerprint(&[&train, &valid]),
            train_rows: train.len(),
            valid_rows: valid.len(),
            train_period: period(&train),
            valid_period: period(&valid),
            config: cfg.clone(),
            best_iteration,
            final_iterations,
            library: "LightGBM 4.x (lightgbm3 1.0 bindings, built from source with OpenMP)"
                .to_string(),
            members,
            validation_by_bag_size,
        },
        validation,
    };
    artefact.model_id = content_id(&artefact);
    Ok(artefact)
}

/// Hash of what determines scores and lanes, so two trainings with the same data and seed share
/// an id, and two models that decide lanes differently never do.
pub fn content_id(a: &ModelArtefact) -> String {
    let mut h = Sha256::new();
    // Modules go through `serde_json::Value`, whose maps are sorted, because their hash maps
    // serialise in arbitrary order.
    let parts = [
        serde_json::to_vec(&a.ensemble),
        serde_json::to_vec(&a.history),
        serde_json::to_vec(&a.calibration),
        serde_json::to_vec(&a.lane_quantiles),
        serde_json::to_value(&a.modules).and_then(|v| serde_json::to_vec(&v)),
    ];
    for p in parts.into_iter().flatten() {
        h.update(&p);
    }
    let hex = format!("{:x}", h.finalize());
    format!("risk-{}", &hex[..16])
}
