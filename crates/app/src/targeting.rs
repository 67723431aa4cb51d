//! Targeting use cases: score one declaration, rank a batch into lanes, score a stream,
//! evaluate a model on a labelled period, and hold the active scorer for a long-running process.

use crate::declarations::{self, Source};
use crate::Result;
use borderline_core::{lane::lanes_by_threshold, Declaration, Lane, Reason, ReasonKind, Signal};
use borderline_ingest::IngestReport;
use borderline_quality::DataQuality;
use borderline_targeting::metrics::{evaluate, EvaluationReport};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::modules::ModuleSignal;
pub use borderline_targeting::score::Explain;
use borderline_targeting::score::{Scorer, BLOCK};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Lane shares in percent: each picks the model's absolute score threshold (the score that
/// share of validation-period declarations reached) and caps the lane in a batch decided
/// together ([`borderline_core::lane`]).
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

/// [`reasons_for`] of several declarations at once (`lanes[i]` the final lane of
/// `declarations[i]`): the red and yellow ones are explained together
/// ([`Scorer::explain_block`], exact reasons several times faster than one by one), the others
/// get none.
fn reasons_for_many(
    scorer: &Scorer,
    declarations: &[&Declaration],
    lanes: &[Lane],
    r: Reasons,
) -> Vec<Vec<Reason>> {
    let mut out = vec![Vec::new(); declarations.len()];
    let Some(method) = r.method else {
        return out;
    };
    let wanted: Vec<usize> = (0..declarations.len().min(lanes.len()))
        .filter(|&i| matches!(lanes[i], Lane::Red | Lane::Yellow))
        .collect();
    let explained = explain_selected(scorer, declarations, &wanted, method, r.top, true);
    for (i, reasons) in wanted.into_iter().zip(explained) {
        out[i] = reasons;
    }
    out
}

/// The `top` model reasons of `declarations[i]` for each `i` of `wanted` (in that order),
/// explained [`BLOCK`] declarations at a time ([`Scorer::reasons_block`]); with `modules`, the
/// modules' own flags too ([`Scorer::explain_block`]).
pub(crate) fn explain_selected(
    scorer: &Scorer,
    declarations: &[&Declaration],
    wanted: &[usize],
    method: Explain,
    top: usize,
    modules: bool,
) -> Vec<Vec<Reason>> {
    let nf = scorer.num_features();
    let mut xs = vec![0.0f32; BLOCK * nf];
    let mut out = Vec::with_capacity(wanted.len());
    for chunk in wanted.chunks(BLOCK) {
        let ds: Vec<&Declaration> = chunk
            .iter()
            .filter_map(|&i| declarations.get(i).copied())
            .collect();
        for (d, x) in ds.iter().zip(xs.chunks_exact_mut(nf)) {
            scorer.features(d, x);
        }
        let xs = &xs[..ds.len() * nf];
        out.extend(if modules {
            scorer.explain_block(&ds, xs, method, top)
        } else {
            scorer.reasons_block(&ds, xs, method, top)
        });
    }
    out
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

/// What a data-quality reason ([`borderline_quality`]) does to a declaration's lane. A finding
/// no real shipment can have ([`borderline_quality::IMPOSSIBLE`]: a mass or value beyond any
/// cargo, a date in the future or before electronic declarations) means the model scored wrong
/// data, so a low score is no evidence of low risk: by default such a declaration goes to at
/// least the documentary (yellow) lane, outside the capacities, where the declarant is asked to
/// correct it. The findings honest files also have (0 kg, zero value, an unknown HS code or
/// country; 3.8 % of the bundled test period) are reported on every declaration, whatever its
/// lane, and do not move it: raising them would exceed the documentary capacity by a third on
/// ordinary data. docs/data.md states the rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DataQualityPolicy {
    /// The least lane of a declaration with an impossible finding; `None` leaves lanes alone.
    pub at_least: Option<Lane>,
}

impl Default for DataQualityPolicy {
    fn default() -> Self {
        DataQualityPolicy {
            at_least: Some(Lane::Yellow),
        }
    }
}

impl DataQualityPolicy {
    /// The lane after the policy, given the declaration's data-quality reasons.
    pub fn apply(&self, lane: Lane, quality_reasons: &[Reason]) -> Lane {
        let impossible = quality_reasons
            .iter()
            .any(|r| borderline_quality::is_impossible(&r.code));
        match self.at_least {
            Some(floor) if impossible && floor < lane => floor,
            _ => lane,
        }
    }
}

/// The findings about the data itself that every scoring path reports on each declaration,
/// whatever its lane: the data-quality checks as of the caller's date, and a customs value in
/// another currency than the model's price benchmarks (scoring has no exchange-rate
/// conversion, so the model's valuation features of such a row are missing values: say so
/// rather than let the score look price-checked).
struct DataFindings {
    quality: DataQuality,
    model_currency: Option<String>,
}

impl DataFindings {
    fn new(scorer: &Scorer, as_of: NaiveDate) -> Self {
        // The history's currency (the model's own money features), else its valuation
        // benchmarks' (artefacts written before the history recorded one).
        let model = scorer.model();
        let model_currency = model.history.currency.clone().or_else(|| {
            model.modules.signals.iter().find_map(|m| match m {
                ModuleSignal::Valuation(v) => v.benchmarks.currency.clone(),
                _ => None,
            })
        });
        DataFindings {
            quality: DataQuality::new(as_of),
            model_currency,
        }
    }

    fn check(&self, d: &Declaration) -> Vec<Reason> {
        let mut out = self.quality.check(d);
        if let Some(c) = &self.model_currency {
            if !c.eq_ignore_ascii_case(d.currency.as_str()) {
                let declared = if d.currency.trim().is_empty() {
                    "no currency"
                } else {
                    d.currency.as_str()
                };
                out.push(Reason {
                    kind: ReasonKind::DataQuality,
                    code: "valuation_currency_mismatch".into(),
                    text: format!(
                        "value declared in {declared}; the model's price benchmarks are in {c}: price not compared (scoring converts no currency; `valuation check --rates` does)"
                    ),
                    contribution: None,
                });
            }
        }
        out
    }
}

/// Both lane floors applied after the model's lane: screening and data quality.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LanePolicy {
    pub screening: ScreeningPolicy,
    pub data_quality: DataQualityPolicy,
}

impl From<ScreeningPolicy> for LanePolicy {
    fn from(screening: ScreeningPolicy) -> Self {
        LanePolicy {
            screening,
            data_quality: DataQualityPolicy::default(),
        }
    }
}

impl LanePolicy {
    fn apply(&self, lane: Lane, screening: &[Reason], quality: &[Reason]) -> Lane {
        let lane = self.screening.apply(lane, screening);
        self.data_quality.apply(lane, quality)
    }
}

/// Scores a batch and returns it in rank order with lanes from the model's absolute score
/// thresholds, the capacities as ceilings ([`borderline_core::lane`]: the same rows get the
/// same lanes in a batch of 20 or of 20,000 unless a ceiling binds), and reasons for red and
/// yellow declarations. `screening`, when given, adds its reasons to every
/// declaration that has one, whatever its lane, and raises its lane by the default
/// [`ScreeningPolicy`] (see [`rank_batch_with_policy`]). Every declaration with a data-quality
/// reason as of `as_of` (the date the caller scores as of, "today" for live scoring; never
/// derived from the batch) gets it, and its lane is raised by the default [`DataQualityPolicy`].
pub fn rank_batch<'a>(
    scorer: &Scorer,
    rows: &'a [Declaration],
    capacities: Capacities,
    reasons: Reasons,
    screening: Option<&dyn Signal>,
    as_of: NaiveDate,
) -> Vec<Decided<'a>> {
    rank_batch_with_policy(
        scorer,
        rows,
        capacities,
        reasons,
        screening,
        LanePolicy::default(),
        as_of,
    )
}

/// [`rank_batch`] with explicit lane policies (a [`ScreeningPolicy`] alone keeps the default
/// [`DataQualityPolicy`]).
pub fn rank_batch_with_policy<'a>(
    scorer: &Scorer,
    rows: &'a [Declaration],
    capacities: Capacities,
    reasons: Reasons,
    screening: Option<&dyn Signal>,
    policy: impl Into<LanePolicy>,
    as_of: NaiveDate,
) -> Vec<Decided<'a>> {
    let policy = policy.into();
    let quality = DataFindings::new(scorer, as_of);
    // The lane walk in blocks: bit-identical to scoring one by one, several times faster.
    let probs: Vec<f64> = scorer
        .score_block(rows)
        .into_iter()
        .map(|s| s.probability)
        .collect();
    let ids: Vec<&str> = rows.iter().map(|d| d.declaration_id.as_str()).collect();
    let (order, lanes) = lanes_by_threshold(
        &probs,
        &ids,
        scorer.lane_thresholds(capacities.red_percent, capacities.yellow_percent),
        capacities.red_percent,
        capacities.yellow_percent,
    );
    // Lanes after the policies first, so the red and yellow declarations are explained
    // together.
    let decided: Vec<(usize, Lane, Vec<Reason>, Vec<Reason>)> = order
        .iter()
        .map(|&i| {
            let d = &rows[i];
            let hits = screening.map(|s| s.reasons(d)).unwrap_or_default();
            let flags = quality.check(d);
            let lane = policy.apply(lanes[i], &hits, &flags);
            (i, lane, hits, flags)
        })
        .collect();
    let ds: Vec<&Declaration> = decided.iter().map(|(i, ..)| &rows[*i]).collect();
    let final_lanes: Vec<Lane> = decided.iter().map(|(_, lane, ..)| *lane).collect();
    let explained = reasons_for_many(scorer, &ds, &final_lanes, reasons);
    decided
        .into_iter()
        .zip(explained)
        .enumerate()
        .map(|(rank, ((i, lane, hits, flags), mut why))| {
            why.extend(hits);
            why.extend(flags);
            Decided::new(&rows[i], Some(rank + 1), probs[i], lane, why)
        })
        .collect()
}

/// Scores one declaration on its own: its lane comes from the model's score thresholds (not
/// from a batch), so it does not depend on what else is being decided. Data-quality reasons as
/// of `as_of` are added and raise the lane by the default [`DataQualityPolicy`].
pub fn score_one<'a>(
    scorer: &Scorer,
    d: &'a Declaration,
    capacities: Capacities,
    reasons: Reasons,
    as_of: NaiveDate,
) -> Decided<'a> {
    let mut x = vec![0.0; scorer.num_features()];
    let p = scorer.score(d, &mut x).probability;
    let flags = DataFindings::new(scorer, as_of).check(d);
    let lane = scorer.stream_lane(p, capacities.red_percent, capacities.yellow_percent);
    let lane = DataQualityPolicy::default().apply(lane, &flags);
    let mut why = reasons_for(scorer, d, lane, reasons, &mut x);
    why.extend(flags);
    Decided::new(d, None, p, lane, why)
}

/// [`score_one`] in steps for a caller that picks the lanes itself in between (the stream
/// workers, under the capacity quotas): [`OneByOne::score_all`] gives the probabilities and the
/// data-quality findings, [`OneByOne::floor`] the final lane of a chosen lane, and
/// [`OneByOne::reasons`] the reasons of all final lanes at once.
pub(crate) struct OneByOne<'s> {
    scorer: &'s Scorer,
    findings: DataFindings,
}

impl<'s> OneByOne<'s> {
    pub(crate) fn new(scorer: &'s Scorer, as_of: NaiveDate) -> Self {
        OneByOne {
            scorer,
            findings: DataFindings::new(scorer, as_of),
        }
    }

    /// The probability of each declaration and its data-quality findings, scored as one block
    /// (the block scorer: the same probabilities as [`Scorer::score`], several times faster
    /// than one by one).
    pub(crate) fn score_all(&mut self, block: &[Declaration]) -> Vec<(f64, Vec<Reason>)> {
        self.scorer
            .score_block(block)
            .into_iter()
            .zip(block)
            .map(|(s, d)| (s.probability, self.findings.check(d)))
            .collect()
    }

    /// `lane` raised to the data-quality floor of `findings` (the default
    /// [`DataQualityPolicy`]): the final lane of a declaration.
    pub(crate) fn floor(&self, lane: Lane, findings: &[Reason]) -> Lane {
        DataQualityPolicy::default().apply(lane, findings)
    }

    /// The model reasons of each declaration for its final lane (`lanes[i]` of
    /// `declarations[i]`): the red and yellow ones explained together in blocks
    /// ([`Scorer::explain_block`], the same reasons as [`score_one`] gives one by one, several
    /// times faster), the others none.
    pub(crate) fn reasons(
        &self,
        declarations: &[&Declaration],
        lanes: &[Lane],
        reasons: Reasons,
    ) -> Vec<Vec<Reason>> {
        reasons_for_many(self.scorer, declarations, lanes, reasons)
    }
}

/// Declarations [`score_stream`] scores at once ([`Scorer::score_block`] takes them [`BLOCK`]
/// at a time).
const STREAM_BLOCK: usize = 8 * BLOCK;

/// Most declarations [`score_stream`] holds back, scored, until enough of them are red or
/// yellow to fill a block of explanations: [`Scorer::explain_block`] builds each tree's tables
/// once per call and explains eight declarations per pass, so a call for the 15 or so red and
/// yellow declarations of one scored block (1.5 % of generated declarations on the 127-leaf
/// default) paid the tables for two passes and left a quarter of the lanes idle on average
/// (BENCHMARKS.md, "Explaining in full blocks"). Bounds the memory when few are red or yellow.
const STREAM_HOLD: usize = 16 * STREAM_BLOCK;

/// Scores a file as a stream in bounded memory: declarations are scored in blocks and handed to
/// `emit` in input order, lanes from the model's score thresholds, data-quality reasons as of
/// `as_of` as in [`score_one`]. Scored declarations are held (at most [`STREAM_HOLD`]) until
/// [`BLOCK`] of them are red or yellow, which are then explained together (a declaration's
/// reasons do not depend on the others in its block). Returns the accounting.
pub fn score_stream(
    scorer: &Scorer,
    source: &Source,
    capacities: Capacities,
    reasons: Reasons,
    as_of: NaiveDate,
    mut emit: impl FnMut(Decided<'_>) -> Result<()>,
) -> Result<(IngestReport, Option<PathBuf>)> {
    let quality = DataFindings::new(scorer, as_of);
    let dq_policy = DataQualityPolicy::default();
    let mut block: Vec<Declaration> = Vec::with_capacity(STREAM_BLOCK);
    let mut held = Held::default();
    let score = |block: &mut Vec<Declaration>, held: &mut Held| {
        let scored = scorer.score_block(block);
        for (d, s) in block.drain(..).zip(scored) {
            let lane = scorer.stream_lane(
                s.probability,
                capacities.red_percent,
                capacities.yellow_percent,
            );
            let flags = quality.check(&d);
            let lane = dq_policy.apply(lane, &flags);
            held.explain += usize::from(matches!(lane, Lane::Red | Lane::Yellow));
            held.declarations.push(d);
            held.decided.push((s.probability, lane, flags));
        }
    };
    // Emits the held declarations up to the last that completes a block of explanations (all
    // of them with `all`), in input order.
    let mut release = |held: &mut Held, all: bool| -> Result<()> {
        let lanes: Vec<Lane> = held.decided.iter().map(|(_, lane, _)| *lane).collect();
        let cut = if all || reasons.method.is_none() {
            lanes.len()
        } else {
            let wanted = lanes
                .iter()
                .enumerate()
                .filter(|(_, lane)| matches!(lane, Lane::Red | Lane::Yellow))
                .map(|(i, _)| i);
            match wanted.clone().count() / BLOCK {
                0 => lanes.len(),
                full => wanted.take(full * BLOCK).last().map_or(0, |i| i + 1),
            }
        };
        let ds: Vec<&Declaration> = held.declarations[..cut].iter().collect();
        let explained = reasons_for_many(scorer, &ds, &lanes[..cut], reasons);
        for ((d, (p, lane, flags)), mut why) in held
            .declarations
            .drain(..cut)
            .zip(held.decided.drain(..cut))
            .zip(explained)
        {
            why.extend(flags);
            emit(Decided::new(&d, None, p, lane, why))?;
        }
        held.explain = held
            .decided
            .iter()
            .filter(|(_, lane, _)| matches!(lane, Lane::Red | Lane::Yellow))
            .count();
        Ok(())
    };
    let (report, file, quarantined) = declarations::stream(source, false, |d| {
        block.push(d);
        if block.len() == STREAM_BLOCK {
            score(&mut block, &mut held);
            if reasons.method.is_none()
                || held.explain >= BLOCK
                || held.declarations.len() >= STREAM_HOLD
            {
                release(&mut held, false)?;
            }
        }
        Ok(())
    })?;
    score(&mut block, &mut held);
    release(&mut held, true)?;
    declarations::require_accepted(&report, file.as_deref(), &quarantined)?;
    Ok((report, file))
}

/// Declarations [`score_stream`] has scored and not yet emitted: their probabilities, final
/// lanes and data-quality findings, and how many of them are red or yellow.
#[derive(Default)]
struct Held {
    declarations: Vec<Declaration>,
    decided: Vec<(f64, Lane, Vec<Reason>)>,
    explain: usize,
}

/// Scores a labelled period and measures the ranking (AUC, precision and recall at capacities)
/// and the calibration of its probabilities (Brier score, reliability table).
pub fn evaluate_model(scorer: &Scorer, rows: &[Declaration]) -> EvaluationReport {
    let (raw, probability): (Vec<f64>, Vec<f64>) = scorer
        .score_block(rows)
        .into_iter()
        .map(|s| (s.raw, s.probability))
        .unzip();
    let mut report = evaluate(rows, &raw);
    let (p, fraud): (Vec<f64>, Vec<bool>) = rows
        .iter()
        .zip(probability)
        .filter_map(|(d, p)| d.outcome.map(|o| (p, o.fraud)))
        .unzip();
    report.calibration = borderline_targeting::metrics::calibration(&p, &fraud);
    report
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

    /// Installs `model` for new requests; returns the previous scorer. The model's exact
    /// explanation tables are built here, before any request sees it, so activation (not the
    /// first officer asking for reasons) pays for them.
    pub fn swap(&self, model: ModelArtefact) -> Option<Arc<Scorer>> {
        let scorer = Scorer::new(model);
        scorer.model().ensemble.prepare_exact_explanations();
        let next = Some(Arc::new(scorer));
        match self.current.write() {
            Ok(mut g) => std::mem::replace(&mut *g, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        }
    }
}

/// How many HS code and origin alternatives a counterfactual tries.
const COUNTERFACTUAL_HS: usize = 5;
const COUNTERFACTUAL_ORIGINS: usize = 8;

/// "What would have changed the lane" for `d` in `lane`: the least costly change of its
/// declared value, HS code (among the classifier's suggestions for its description) and origin
/// (among origins its HS6 came from in the model's history) that brings the score under the
/// lane's threshold at `capacities`, every candidate rescored
/// ([`borderline_targeting::counterfactual::search`]). `None` for the blue and green lanes:
/// there is no lower lane to reach by score. For officers and appeals only: a front end never
/// shows it to a trader.
pub fn counterfactual(
    scorer: &Scorer,
    classifier: Option<&borderline_hs::Classifier>,
    d: &Declaration,
    lane: Lane,
    capacities: Capacities,
) -> Option<borderline_targeting::counterfactual::Counterfactual> {
    use borderline_targeting::counterfactual::{plausible_origins, search, Alternatives};
    let t = scorer.lane_thresholds(capacities.red_percent, capacities.yellow_percent);
    let threshold = match lane {
        Lane::Red => t.red,
        Lane::Yellow => t.yellow,
        Lane::Blue | Lane::Green => return None,
    };
    let hs_codes = match (classifier, d.description.as_deref()) {
        (Some(c), Some(text)) if !text.trim().is_empty() => c
            .suggest(text, COUNTERFACTUAL_HS)
            .into_iter()
            .filter_map(|s| borderline_core::HsCode::parse(&s.code).ok())
            .collect(),
        _ => Vec::new(),
    };
    let origins = plausible_origins(scorer, d, COUNTERFACTUAL_ORIGINS);
    Some(search(
        scorer,
        d,
        threshold,
        &Alternatives::new(hs_codes, origins),
    ))
}
