//! Targeting use cases: score one declaration, rank a batch into lanes, score a stream,
//! evaluate a model on a labelled period, and hold the active scorer for a long-running process.

use crate::declarations::{self, Source};
use crate::Result;
use borderline_core::{lane::lanes_by_rank, Declaration, Lane, Reason, Signal};
use borderline_ingest::IngestReport;
use borderline_targeting::metrics::{evaluate, EvaluationReport};
use borderline_targeting::model::ModelArtefact;
pub use borderline_targeting::score::Explain;
use borderline_targeting::score::{Scorer, BLOCK};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Lane shares in percent of the declarations decided together ([`borderline_core::lane`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capacities {
    /// Physical inspection.
    pub red_percent: f64,
    /// Documentary check, after the red lane.
    pub yellow_percent: f64,
}

impl Default for Capacities {
    fn default() -> Self {
        Capacities {
            red_percent: 5.0,
            yellow_percent: 10.0,
        }
    }
}

/// What reasons to give and for how many features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reasons {
    /// `None`: no model reasons.
    pub method: Option<Explain>,
    /// Model reasons per declaration.
    pub top: usize,
}

impl Default for Reasons {
    fn default() -> Self {
        Reasons {
            method: Some(Explain::Exact),
            top: 5,
        }
    }
}

/// One decided declaration of an inspection list.
#[derive(Debug, Clone, Serialize)]
pub struct Decided<'a> {
    /// Rank in the batch (1 = riskiest); `None` in a stream.
    pub rank: Option<usize>,
    #[serde(skip)]
    pub declaration: &'a Declaration,
    pub declaration_id: &'a str,
    pub risk_score: f64,
    pub lane: Lane,
    pub importer: &'a str,
    pub hs_code: &'a str,
    pub origin: &'a str,
    pub reasons: Vec<Reason>,
}

impl<'a> Decided<'a> {
    fn new(
        d: &'a Declaration,
        rank: Option<usize>,
        p: f64,
        lane: Lane,
        reasons: Vec<Reason>,
    ) -> Self {
        Decided {
            rank,
            declaration: d,
            declaration_id: &d.declaration_id,
            risk_score: p,
            lane,
            importer: &d.importer,
            hs_code: d.hs_code.as_str(),
            origin: &d.origin_country,
            reasons,
        }
    }
}

fn reasons_for(
    scorer: &Scorer,
    d: &Declaration,
    lane: Lane,
    r: Reasons,
    x: &mut [f32],
) -> Vec<Reason> {
    match (lane, r.method) {
        (Lane::Red | Lane::Yellow, Some(m)) => {
            scorer.features(d, x);
            scorer.explain(d, x, m, r.top)
        }
        _ => Vec::new(),
    }
}

/// What a screening reason does to a declaration's lane. A hit on a sanctions list (above the
/// matcher's threshold), a supplier network reaching a listed entity within the screening's hop
/// limit, or a party address in a forced-labour region is evidence an officer must see before
/// release, whatever the model's risk: by default such a declaration goes to at least the
/// documentary (yellow) lane, outside the rank capacities (a legal duty is not rationed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScreeningPolicy {
    /// The least lane of a declaration with a screening reason; `None` leaves lanes alone.
    pub at_least: Option<Lane>,
}

impl Default for ScreeningPolicy {
    fn default() -> Self {
        ScreeningPolicy {
            at_least: Some(Lane::Yellow),
        }
    }
}

impl ScreeningPolicy {
    /// The lane after the policy, given the declaration's screening reasons.
    pub fn apply(&self, lane: Lane, screening_reasons: &[Reason]) -> Lane {
        match self.at_least {
            // Lanes order red < yellow < blue < green: "at least yellow" is the min.
            Some(floor) if !screening_reasons.is_empty() && floor < lane => floor,
            _ => lane,
        }
    }
}

/// Scores a batch and returns it in rank order with lanes by rank under the capacity rule, and
/// reasons for red and yellow declarations. `screening`, when given, adds its reasons to every
/// declaration that has one, whatever its lane, and raises its lane by the default
/// [`ScreeningPolicy`] (see [`rank_batch_with_policy`]).
pub fn rank_batch<'a>(
    scorer: &Scorer,
    rows: &'a [Declaration],
    capacities: Capacities,
    reasons: Reasons,
    screening: Option<&dyn Signal>,
) -> Vec<Decided<'a>> {
    rank_batch_with_policy(
        scorer,
        rows,
        capacities,
        reasons,
        screening,
        ScreeningPolicy::default(),
    )
}

/// [`rank_batch`] with an explicit screening policy.
pub fn rank_batch_with_policy<'a>(
    scorer: &Scorer,
    rows: &'a [Declaration],
    capacities: Capacities,
    reasons: Reasons,
    screening: Option<&dyn Signal>,
    policy: ScreeningPolicy,
) -> Vec<Decided<'a>> {
    let mut x = vec![0.0; scorer.num_features()];
    let probs: Vec<f64> = rows
        .iter()
        .map(|d| scorer.score(d, &mut x).probability)
        .collect();
    let ids: Vec<&str> = rows.iter().map(|d| d.declaration_id.as_str()).collect();
    let (order, lanes) = lanes_by_rank(
        &probs,
        &ids,
        capacities.red_percent,
        capacities.yellow_percent,
    );
    order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let d = &rows[i];
            let hits = screening.map(|s| s.reasons(d)).unwrap_or_default();
            let lane = policy.apply(lanes[i], &hits);
            let mut why = reasons_for(scorer, d, lane, reasons, &mut x);
            why.extend(hits);
            Decided::new(d, Some(rank + 1), probs[i], lane, why)
        })
        .collect()
}

/// Scores one declaration on its own: its lane comes from the model's score thresholds (not
/// from a batch), so it does not depend on what else is being decided.
pub fn score_one<'a>(
    scorer: &Scorer,
    d: &'a Declaration,
    capacities: Capacities,
    reasons: Reasons,
) -> Decided<'a> {
    let mut x = vec![0.0; scorer.num_features()];
    let p = scorer.score(d, &mut x).probability;
    let lane = scorer.stream_lane(p, capacities.red_percent, capacities.yellow_percent);
    let why = reasons_for(scorer, d, lane, reasons, &mut x);
    Decided::new(d, None, p, lane, why)
}

/// Scores a file as a stream in bounded memory: declarations are scored in blocks and handed to
/// `emit` in input order, lanes from the model's score thresholds. Returns the accounting.
pub fn score_stream(
    scorer: &Scorer,
    source: &Source,
    capacities: Capacities,
    reasons: Reasons,
    mut emit: impl FnMut(Decided<'_>) -> Result<()>,
) -> Result<(IngestReport, Option<PathBuf>)> {
    let mut x = vec![0.0; scorer.num_features()];
    let mut block: Vec<Declaration> = Vec::with_capacity(BLOCK);
    let mut flush = |block: &mut Vec<Declaration>| -> Result<()> {
        for (d, s) in block.iter().zip(scorer.score_block(block)) {
            let lane = scorer.stream_lane(
                s.probability,
                capacities.red_percent,
                capacities.yellow_percent,
            );
            let why = reasons_for(scorer, d, lane, reasons, &mut x);
            emit(Decided::new(d, None, s.probability, lane, why))?;
        }
        block.clear();
        Ok(())
    };
    let (report, file, quarantined) = declarations::stream(source, false, |d| {
        block.push(d);
        if block.len() == BLOCK {
            flush(&mut block)?;
        }
        Ok(())
    })?;
    flush(&mut block)?;
    declarations::require_accepted(&report, file.as_deref(), &quarantined)?;
    Ok((report, file))
}

/// Scores a labelled period and measures the ranking (AUC, precision and recall at capacities).
pub fn evaluate_model(scorer: &Scorer, rows: &[Declaration]) -> EvaluationReport {
    let mut x = vec![0.0; scorer.num_features()];
    let scores: Vec<f64> = rows.iter().map(|d| scorer.score(d, &mut x).raw).collect();
    evaluate(rows, &scores)
}

/// The scorer a long-running process (service, worker) decides with. Activating a model swaps
/// it for new requests; requests in flight finish with the scorer they started with.
pub struct ActiveScorer {
    current: RwLock<Option<Arc<Scorer>>>,
}

impl Default for ActiveScorer {
    fn default() -> Self {
        ActiveScorer {
            current: RwLock::new(None),
        }
    }
}

impl ActiveScorer {
    pub fn new(model: ModelArtefact) -> Self {
        let s = ActiveScorer::default();
        s.swap(model);
        s
    }

    /// The scorer to use for one request (`None` when no model is active).
    pub fn current(&self) -> Option<Arc<Scorer>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// No model for new requests (the active one was retired); returns the previous scorer.
    pub fn clear(&self) -> Option<Arc<Scorer>> {
        match self.current.write() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Installs `model` for new requests; returns the previous scorer.
    pub fn swap(&self, model: ModelArtefact) -> Option<Arc<Scorer>> {
        let next = Some(Arc::new(Scorer::new(model)));
        match self.current.write() {
            Ok(mut g) => std::mem::replace(&mut *g, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        }
    }
}
