//! Decisions of a service: score one declaration or rank a batch with the active model, and
//! record each decision in the audit log under the authenticated actor, in one transaction;
//! look a recorded decision up.

use crate::targeting::{rank_batch, score_one, Capacities, Reasons};
use crate::{AppError, Result};
use borderline_core::{Declaration, Lane, Reason};
use borderline_governance::audit::{input_hash, AuditEvent, AuditLog, Decision, DecisionSubject};
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
        subject: Some(DecisionSubject::of(d)),
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

/// What an inspection queue shows: recorded decisions narrowed by these fields (all optional;
/// text fields match exactly, dates are the declaration's date, inclusive).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFilter {
    pub lane: Option<Lane>,
    pub office: Option<String>,
    pub hs_code_prefix: Option<String>,
    pub importer: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// One queue row: the latest decision on a declaration, with when and by whom it was recorded.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueRow {
    pub seq: u64,
    pub recorded_at: String,
    pub recorded_by: String,
    pub decision: Decision,
}

/// A page of the queue, riskiest first, and how many rows match in all.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

impl QueueFilter {
    fn admits(&self, d: &Decision) -> bool {
        if self.lane.is_some_and(|l| l != d.lane) {
            return false;
        }
        let wants_subject = self.office.is_some()
            || self.hs_code_prefix.is_some()
            || self.importer.is_some()
            || self.from.is_some()
            || self.to.is_some();
        let Some(s) = &d.subject else {
            // A record without its subject cannot be shown to match a subject filter.
            return !wants_subject;
        };
        let date = chrono::NaiveDate::parse_from_str(&s.date, "%Y-%m-%d").ok();
        self.office.as_deref().is_none_or(|o| o == s.office)
            && self
                .hs_code_prefix
                .as_deref()
                .is_none_or(|p| s.hs_code.starts_with(p))
            && self.importer.as_deref().is_none_or(|i| i == s.importer)
            && self.from.is_none_or(|f| date.is_some_and(|d| d >= f))
            && self.to.is_none_or(|t| date.is_some_and(|d| d <= t))
    }
}

/// The inspection queue: the latest recorded decision of each declaration that passes
/// `filter`, ordered by lane severity then score (riskiest first), page `page` (from 1).
pub fn queue(
    store: &dyn GovernanceStore,
    filter: &QueueFilter,
    page: usize,
    per_page: usize,
) -> Result<QueuePage> {
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let mut latest: std::collections::HashMap<String, QueueRow> = Default::default();
    AuditLog::new(store).for_each(|r| {
        if r.kind == "decision" {
            let d: Decision = serde_json::from_str(&r.body)?;
            latest.insert(
                d.declaration_id.clone(),
                QueueRow {
                    seq: r.seq,
                    recorded_at: r.recorded_at.clone(),
                    recorded_by: r.user.clone(),
                    decision: d,
                },
            );
        }
        Ok(())
    })?;
    let mut rows: Vec<QueueRow> = latest
        .into_values()
        .filter(|r| filter.admits(&r.decision))
        .collect();
    rows.sort_by(|a, b| {
        lane_order(a.decision.lane)
            .cmp(&lane_order(b.decision.lane))
            .then(b.decision.score.total_cmp(&a.decision.score))
            .then(a.decision.declaration_id.cmp(&b.decision.declaration_id))
    });
    let total = rows.len();
    let rows = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Ok(QueuePage {
        rows,
        total,
        page,
        per_page,
    })
}

fn lane_order(l: Lane) -> u8 {
    match l {
        Lane::Red => 0,
        Lane::Yellow => 1,
        Lane::Blue => 2,
        Lane::Green => 3,
    }
}
