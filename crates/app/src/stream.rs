//! The declaration stream: what a worker does with one message, whatever carries it (the NATS
//! plumbing is in `borderline-worker`).
//!
//! A message is one declaration as a JSON object in the generic layout (field names as
//! `borderline_ingest::Field::name`; [`encode_declaration`] writes it). [`decide_message`]
//! parses it, scores it with the active model and records the decision once per
//! (declaration id, model version) with its audit record, in one transaction
//! (`borderline_governance::audit::record_decision_once`). It tells a *permanent* failure
//! (the message can never be decided: [`Outcome::Rejected`], for the dead-letter subject) from
//! a *transient* one (the store is unreachable: `Err`, retried by redelivery).

use crate::governance::select::ActiveModel;
use crate::targeting::{score_one, Capacities, Reasons};
use crate::{AppError, Result};
use borderline_core::{Declaration, Lane, Reason};
use borderline_governance::audit::{input_hash, record_decision_once, Decision, Recorded};
use borderline_governance::registry::ModelState;
use borderline_governance::selectivity::Basis;
use borderline_governance::store::in_tx;
use borderline_governance::{Actor, GovernanceStore};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How a worker decides lanes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamPolicy {
    /// Lane shares; the lane comes from the model's thresholds for these shares.
    pub capacities: Capacities,
    /// Model reasons on each decision (`method: None` for none: the fastest).
    pub reasons: Reasons,
}

/// A decision as published on the results subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamDecision {
    pub declaration_id: String,
    pub model_version: String,
    /// The audit record of the decision.
    pub audit_seq: u64,
    /// `None` when the declaration was decided earlier by this model version (a redelivery):
    /// that decision stands and is not repeated.
    pub lane: Option<Lane>,
    pub risk_score: Option<f64>,
    #[serde(default)]
    pub reasons: Vec<Reason>,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Decided now: one new audit record and decision key.
    Decided(StreamDecision),
    /// Already decided by this model version (redelivery or a duplicate publication): nothing
    /// written.
    Duplicate(StreamDecision),
    /// The message can never be decided (not a declaration, or a declaration that cannot be
    /// scored): goes to the dead-letter subject with this reason.
    Rejected(Rejection),
}

/// Why a message was refused, as published on the dead-letter subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The declaration id when the message had one.
    pub declaration_id: Option<String>,
    pub reason: String,
}

fn reject(declaration_id: Option<String>, reason: impl Into<String>) -> Outcome {
    Outcome::Rejected(Rejection {
        declaration_id,
        reason: reason.into(),
    })
}

/// Parses one message into one declaration (generic layout, validated like any input).
pub fn parse_message(bytes: &[u8]) -> std::result::Result<Declaration, Rejection> {
    let fail = |id: Option<String>, reason: String| Rejection {
        declaration_id: id,
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| fail(None, format!("not JSON: {e}")))?;
    let id = value
        .get("declaration_id")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let mut rows = crate::declarations::from_json_objects(std::slice::from_ref(&value))
        .map_err(|e| fail(id.clone(), format!("not a declaration: {e}")))?;
    match (rows.pop(), rows.is_empty()) {
        (Some(d), true) => Ok(d),
        _ => Err(fail(id, "a message carries exactly one declaration".into())),
    }
}

/// The message body for `d`: the generic layout, without the inspection outcome (a
/// declaration on the stream is being lodged, not a historical one).
pub fn encode_declaration(d: &Declaration) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(d).map_err(|e| AppError::Invalid(e.to_string()))?;
    if let Some(o) = value.as_object_mut() {
        o.remove("outcome");
        o.retain(|_, v| !v.is_null());
    }
    serde_json::to_vec(&value).map_err(|e| AppError::Invalid(e.to_string()))
}

/// Decides one message with `active`, as `by`, judging dates against `as_of`.
/// `Err` only for failures worth retrying (the store); everything about the message itself is
/// an [`Outcome`].
pub fn decide_message(
    store: &dyn GovernanceStore,
    by: &Actor,
    active: &ActiveModel,
    policy: StreamPolicy,
    bytes: &[u8],
    as_of: NaiveDate,
) -> Result<Outcome> {
    let d = match parse_message(bytes) {
        Ok(d) => d,
        Err(r) => return Ok(Outcome::Rejected(r)),
    };
    let id = d.declaration_id.to_string();
    let one = score_one(&active.scorer, &d, policy.capacities, policy.reasons, as_of);
    if !one.risk_score.is_finite() {
        return Ok(reject(Some(id), "the model gave no finite score"));
    }
    let model_version = active.entry.model.version.clone();
    let hash = match input_hash(&d) {
        Ok(h) => h,
        Err(e) => {
            return Ok(reject(
                Some(id),
                format!("cannot hash the declaration: {e}"),
            ))
        }
    };
    let decision = Decision {
        declaration_id: id.clone(),
        input_hash: hash,
        model_version: model_version.clone(),
        rules_version: "none".into(),
        score: one.risk_score,
        lane: one.lane,
        basis: Basis::Score,
        why: "stream: score threshold of the active model".into(),
        reasons: one.reasons.clone(),
        subject: Some(borderline_governance::audit::DecisionSubject::of(&d)),
    };
    Ok(match record_decision_once(store, by, &decision)? {
        Recorded::New(seq) => Outcome::Decided(StreamDecision {
            declaration_id: id,
            model_version,
            audit_seq: seq,
            lane: Some(one.lane),
            risk_score: Some(one.risk_score),
            reasons: one.reasons,
        }),
        Recorded::Already(seq) => Outcome::Duplicate(StreamDecision {
            declaration_id: id,
            model_version,
            audit_seq: seq,
            lane: None,
            risk_score: None,
            reasons: Vec::new(),
        }),
    })
}

/// The version of the active model in the registry, if any: cheap enough to ask between
/// batches, so an activation reaches running workers without a restart.
pub fn active_version(store: &dyn GovernanceStore) -> Result<Option<String>> {
    let models = in_tx(store, false, |tx| tx.models())?;
    Ok(models
        .into_iter()
        .find(|m| m.state == ModelState::Active)
        .map(|m| m.model.version))
}

/// Keeps the worker's model current: reloads (with the integrity checks of
/// [`ActiveModel::load`]) when the registry's active version changed.
pub fn refresh(store: &dyn GovernanceStore, current: Option<ActiveModel>) -> Result<ActiveModel> {
    let wanted = active_version(store)?;
    match current {
        Some(c) if Some(&c.entry.model.version) == wanted.as_ref() => Ok(c),
        _ => ActiveModel::load(store),
    }
}
