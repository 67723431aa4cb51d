//! Training use cases (feature `training`, the only part of the application core that links
//! LightGBM): train a model on two periods, optionally joined with the inspection outcomes that
//! officers recorded since a date.

use crate::Result;
use borderline_core::Declaration;
use borderline_targeting::model::ModelArtefact;
pub use borderline_training::TrainConfig;
use std::collections::HashSet;

/// What to learn from.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// Training period, with outcomes.
    pub train: Vec<Declaration>,
    /// A later validation period, with outcomes (early stopping, calibration, lane thresholds).
    pub valid: Vec<Declaration>,
    /// Declarations carrying outcomes officers recorded since a date: they join the validation
    /// period, replacing any row with the same declaration id.
    pub recorded: Vec<Declaration>,
    pub config: TrainConfig,
}

/// What training did besides producing the model, for the caller to show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainNotes {
    /// Recorded outcomes that joined the validation period.
    pub recorded_joined: usize,
    /// Set when the validation period does not start after the training period ends.
    pub overlapping_periods: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

/// Trains a model. `progress` receives the name of each step.
pub fn train_model(
    req: TrainRequest,
    progress: &dyn Fn(&str),
) -> Result<(ModelArtefact, TrainNotes)> {
    let TrainRequest {
        train,
        mut valid,
        recorded,
        config,
    } = req;
    let mut notes = TrainNotes::default();
    if !recorded.is_empty() {
        let ids: HashSet<&str> = recorded.iter().map(|d| d.declaration_id.as_str()).collect();
        valid.retain(|d| !ids.contains(d.declaration_id.as_str()));
        notes.recorded_joined = recorded.len();
        valid.extend(recorded);
    }
    if let (Some(t), Some(v)) = (
        train.iter().map(|d| d.date).max(),
        valid.iter().map(|d| d.date).min(),
    ) {
        if v <= t {
            notes.overlapping_periods = Some((v, t));
        }
    }
    let model = borderline_training::train(&train, &valid, &config, progress)?;
    Ok((model, notes))
}
