//! Decisions of a service: score one declaration or rank a batch with the active model, and
//! record each decision in the audit log under the authenticated actor, in one transaction;
//! look a recorded decision up.

use crate::targeting::{rank_batch, score_one, Capacities, Reasons};
use crate::{AppError, Result};
use borderline_core::{Declaration, Lane, Reason};
use borderline_governance::audit::{input_hash, AuditEvent, AuditLog, Decision};
use borderline_governance::selectivity::Basis;
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

fn decision(d: &Declaration, out: &Decided, why: &str) -> Result<AuditEvent> {
    Ok(AuditEvent::Decision(Decision {
        declaration_id: d.declaration_id.to_string(),
        input_hash: input_hash(d).map_err(|e| AppError::Invalid(e.to_string()))?,
        model_version: out.model_version.clone(),
        rules_version: "none".into(),
        score: out.risk_score,
        lane: out.lane,
        basis: Basis::Score,
        why: why.into(),
        reasons: out.reasons.clone(),
    }))
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
    AuditLog::new(store).append(
        by,
        &decision(d, &out, "score threshold of the active model")?,
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
    AuditLog::new(store).append_all(by, &events)?;
    Ok(out)
}

/// The latest recorded decision on a declaration.
pub fn lookup(store: &dyn GovernanceStore, declaration_id: &str) -> Result<Option<Decision>> {
    let mut found = None;
    AuditLog::new(store).for_each(|r| {
        if r.kind == "decision" {
            let d: Decision = serde_json::from_str(&r.body)?;
            if d.declaration_id == declaration_id {
                found = Some(d);
            }
        }
        Ok(())
    })?;
    Ok(found)
}
