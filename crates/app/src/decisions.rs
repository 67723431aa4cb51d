//! Decisions of a service: score one declaration or rank a batch with the active model, and
//! record each decision in the audit log under the authenticated actor, in one transaction;
//! look a recorded decision up.

use crate::targeting::{rank_batch, score_one, Capacities, Reasons};
use crate::{AppError, Result};
use borderline_core::{Declaration, Lane, Reason};
use borderline_governance::audit::{
    append_decisions_with_inputs, input_hash, AuditEvent, AuditRecord, Decision, DecisionSubject,
};
use borderline_governance::cases::{
    basis_name, lane_rank, CaseRecord, CaseState, Cases, QueueQuery,
};
use borderline_governance::selectivity::Basis;
use borderline_governance::store::in_tx;
use borderline_governance::StoreError;
use borderline_governance::{Actor, GovernanceStore};
use borderline_targeting::score::Scorer;
use serde::Serialize;

/// One decided declaration, owned (a response body).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decided {
    pub declaration_id: String,
    /// Rank in the batch (1 = riskiest); `None` for a declaration decided on its own.
    pub rank: Option<usize>,
    pub risk_score: f64,
    pub lane: Lane,
    pub reasons: Vec<Reason>,
    pub model_version: String,
}

/// The decision record of `out` on `d`, and `d` as the JSON its `input_hash` is the SHA-256 of
/// (stored with the decision, so a case can be explained later on the very input decided).
fn decision(d: &Declaration, out: &Decided, why: &str) -> Result<(Decision, String)> {
    let input = serde_json::to_string(d)?;
    Ok((
        Decision {
            declaration_id: d.declaration_id.to_string(),
            input_hash: input_hash(d).map_err(|e| AppError::Invalid(e.to_string()))?,
            model_version: out.model_version.clone(),
            rules_version: "none".into(),
            score: out.risk_score,
            lane: out.lane,
            basis: Basis::Score,
            why: why.into(),
            reasons: out.reasons.clone(),
            subject: Some(DecisionSubject::of(d)),
        },
        input,
    ))
}

fn no_model() -> AppError {
    AppError::Unavailable("no approved model is active: a supervisor activates one".into())
}

/// Scores one declaration with `scorer` (lane from the model's thresholds) and records the
/// decision as `by`. `as_of` is the day data-quality checks judge dates against (today).
pub fn score_and_record(
    store: &dyn GovernanceStore,
    by: &Actor,
    scorer: Option<&Scorer>,
    d: &Declaration,
    capacities: Capacities,
    reasons: Reasons,
    as_of: chrono::NaiveDate,
) -> Result<Decided> {
    let scorer = scorer.ok_or_else(no_model)?;
    let one = score_one(scorer, d, capacities, reasons, as_of);
    let out = Decided {
        declaration_id: d.declaration_id.to_string(),
        rank: None,
        risk_score: one.risk_score,
        lane: one.lane,
        reasons: one.reasons,
        model_version: scorer.model().model_id.clone(),
    };
    append_decisions_with_inputs(
        store,
        by,
        &[decision(d, &out, "score threshold of the active model")?],
    )?;
    Ok(out)
}

/// Ranks a batch into lanes under `capacities` and records every decision as `by`, all in
/// one transaction.
pub fn rank_and_record(
    store: &dyn GovernanceStore,
    by: &Actor,
    scorer: Option<&Scorer>,
    rows: &[Declaration],
    capacities: Capacities,
    reasons: Reasons,
    as_of: chrono::NaiveDate,
) -> Result<Vec<Decided>> {
    let scorer = scorer.ok_or_else(no_model)?;
    let version = scorer.model().model_id.clone();
    let ranked = rank_batch(scorer, rows, capacities, reasons, None, as_of);
    let mut out = Vec::with_capacity(ranked.len());
    let mut events = Vec::with_capacity(ranked.len());
    for r in ranked {
        let o = Decided {
            declaration_id: r.declaration_id.to_string(),
            rank: r.rank,
            risk_score: r.risk_score,
            lane: r.lane,
            reasons: r.reasons,
            model_version: version.clone(),
        };
        events.push(decision(
            r.declaration,
            &o,
            "rank in the batch under capacity",
        )?);
        out.push(o);
    }
    append_decisions_with_inputs(store, by, &events)?;
    Ok(out)
}

/// The latest recorded decision on a declaration (one indexed lookup).
pub fn lookup(store: &dyn GovernanceStore, declaration_id: &str) -> Result<Option<Decision>> {
    let hit = in_tx(store, false, |tx| tx.latest_decision(declaration_id))?;
    hit.map(|h| decision_of(&h.record)).transpose()
}

fn decision_of(r: &AuditRecord) -> Result<Decision> {
    match r.event()? {
        AuditEvent::Decision(d) => Ok(d),
        AuditEvent::Governance(_) => Err(AppError::Store(StoreError::Backend(format!(
            "the decision index points at audit record {}, which is not a decision",
            r.seq
        )))),
    }
}

/// What an inspection queue shows: recorded decisions narrowed by these fields (all optional;
/// text fields match exactly, the HS code by prefix, dates are the declaration's date,
/// inclusive). A decision recorded without its subject never matches a subject filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFilter {
    pub lane: Option<Lane>,
    pub office: Option<String>,
    pub hs_code_prefix: Option<String>,
    pub importer: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Selection basis: model score, analyst rule, random, exploration, release.
    pub basis: Option<Basis>,
    /// An analyst rule id: declarations whose latest decision this rule hit (whether or not
    /// it decided the lane; one declaration can be hit by several rules).
    pub rule: Option<String>,
    /// Where the case is (pending: nobody took it).
    pub case_state: Option<CaseState>,
}

/// One queue row: the latest decision on a declaration, with when and by whom it was recorded,
/// and its case (`None`: pending).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueRow {
    pub seq: u64,
    pub recorded_at: String,
    pub recorded_by: String,
    pub decision: Decision,
    pub case: Option<CaseRecord>,
}

/// A page of the queue, riskiest first, and how many rows match in all.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

/// The inspection queue: the latest recorded decision of each declaration that passes
/// `filter`, ordered by lane severity then score (riskiest first), page `page` (from 1). One
/// indexed query on the store's decision index (a page of rows, never the whole log).
pub fn queue(
    store: &dyn GovernanceStore,
    filter: &QueueFilter,
    page: usize,
    per_page: usize,
) -> Result<QueuePage> {
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let q = QueueQuery {
        lane_rank: filter.lane.map(lane_rank),
        office: filter.office.clone(),
        hs_code_prefix: filter.hs_code_prefix.clone(),
        importer: filter.importer.clone(),
        from: filter.from.map(|d| d.format("%Y-%m-%d").to_string()),
        to: filter.to.map(|d| d.format("%Y-%m-%d").to_string()),
        basis: filter.basis.map(|b| basis_name(b).to_string()),
        rule: filter.rule.clone(),
        case_state: filter.case_state,
        offset: ((page - 1) * per_page) as u64,
        limit: per_page as u64,
    };
    let (hits, total) = Cases::new(store).queue(&q)?;
    let rows = hits
        .into_iter()
        .map(|h| {
            Ok(QueueRow {
                decision: decision_of(&h.record)?,
                seq: h.record.seq,
                recorded_at: h.record.recorded_at,
                recorded_by: h.record.user,
                case: h.case,
            })
        })
        .collect::<Result<_>>()?;
    Ok(QueuePage {
        rows,
        total: usize::try_from(total).unwrap_or(usize::MAX),
        page,
        per_page,
    })
}
