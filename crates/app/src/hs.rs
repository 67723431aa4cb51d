//! HS classification use cases: suggest codes for goods descriptions (one or a file), check a
//! declared code against its description, validate a code, and extend the classifier with
//! labelled history.

use crate::{AppError, Result};
use borderline_hs::calibrate::Fit;
/// What a declared-code check finds (front ends present it).
pub use borderline_hs::CheckResult;
use borderline_hs::Suggestion;
use borderline_hs::{io, CheckPolicy, Classifier, CodeStatus, Labelled, Nomenclature};
use serde::Serialize;
use std::path::Path;

/// The classifier of a model file written by [`train`], or the bundled one.
pub fn classifier(model: Option<&Path>) -> Result<Classifier> {
    Ok(match model {
        Some(p) => Classifier::load(p)?,
        None => Classifier::bundled()?,
    })
}

fn at_least_one(k: usize) -> Result<()> {
    if k == 0 {
        return Err(AppError::Invalid(
            "the number of suggested codes must be at least 1".into(),
        ));
    }
    Ok(())
}

/// The `k` most likely HS6 codes for a goods description.
pub fn suggest(classifier: &Classifier, description: &str, k: usize) -> Result<Vec<Suggestion>> {
    at_least_one(k)?;
    Ok(classifier.suggest(description, k))
}

/// Suggests `k` codes for every row of a CSV or JSON Lines file with a `description` column
/// (optional `category` and `attributes` columns are used too, with weights 1.0 and 0.7, as the
/// evaluation uses a listing's category path and attributes) and writes them to `output`
/// (`.csv` or `.jsonl`). Returns the number of descriptions.
pub fn suggest_file(
    classifier: &Classifier,
    input: &Path,
    output: &Path,
    k: usize,
) -> Result<usize> {
    at_least_one(k)?;
    let rows = io::read_columns_opt(input, &["description"], &["category", "attributes"])?;
    let results: Vec<(String, Vec<Suggestion>)> = rows
        .into_iter()
        .map(|r| {
            let get = |i: usize| r.get(i).map(String::as_str).unwrap_or_default();
            let ranking = classifier.rank_fields(&[(get(0), 1.0), (get(1), 1.0), (get(2), 0.7)]);
            (get(0).to_string(), classifier.suggestions(&ranking, k))
        })
        .collect();
    io::write_batch(output, &results, classifier.nomenclature())?;
    Ok(results.len())
}

/// Whether a declared code is plausible for a description, with reasons and likelier codes.
pub fn check(
    classifier: &Classifier,
    description: &str,
    declared: &str,
    policy: CheckPolicy,
) -> CheckResult {
    classifier.check(
        description,
        declared,
        CheckPolicy {
            k: policy.k.max(1),
            ..policy
        },
    )
}

/// A declared code against HS 2022.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub status: CodeStatus,
    /// Section to subheading, for a valid code.
    pub path: Option<String>,
}

pub fn validate(code: &str) -> Validation {
    let nomenclature = Nomenclature::bundled();
    let status = nomenclature.validate(code);
    let path = match &status {
        CodeStatus::Valid { hs6, .. } => Some(nomenclature.path_string(hs6)),
        _ => None,
    };
    Validation { status, path }
}

/// A classifier extended with labelled history.
pub struct Trained {
    pub classifier: Classifier,
    /// Labelled rows read from the file.
    pub read: usize,
    /// Rows not used, with why.
    pub skipped: Vec<(Labelled, String)>,
    /// Set when the confidence temperatures were re-fitted on the labelled history.
    pub calibration: Option<Fit>,
    /// Re-fitting was asked for but there were too few labelled rows.
    pub too_few_to_calibrate: bool,
}

/// Labelled rows needed to re-fit the confidence temperatures (5-fold).
pub const MIN_CALIBRATION_ROWS: usize = 30;

/// Adds the labelled history of a CSV or JSON Lines file (`description`, `hs_code`) to `base`;
/// with `calibrate`, also re-fits the confidence temperatures on it.
pub fn train(base: Classifier, labelled: &Path, calibrate: bool) -> Result<Trained> {
    let examples = io::read_labelled(labelled)?;
    let read = examples.len();
    let (mut classifier, skipped) = base.train(examples)?;
    let mut calibration = None;
    let mut too_few_to_calibrate = false;
    if calibrate {
        match classifier.recalibrated(MIN_CALIBRATION_ROWS)? {
            Some((m, fit)) => {
                classifier = m;
                calibration = Some(fit);
            }
            None => too_few_to_calibrate = true,
        }
    }
    Ok(Trained {
        classifier,
        read,
        skipped,
        calibration,
        too_few_to_calibrate,
    })
}
