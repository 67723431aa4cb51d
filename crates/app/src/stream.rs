//! The declaration stream: what a worker does with one message, whatever carries it (the NATS
//! plumbing is in `borderline-worker`).
//!
//! A message is one declaration as a JSON object in the generic layout (field names as
//! `borderline_ingest::Field::name`; [`encode_declaration`] writes it). [`decide_message`]
//! parses it, scores it with the active model and records the decision once per
//! (declaration id, model version) with its audit record and its count in the office's
//! capacity ledger, in one transaction; [`decide_batch`] does the same for a batch in one
//! transaction with one look-up of the batch's decision keys, one read of the chain head and
//! multi-row writes (`borderline_governance::audit::append_new_decisions_in`). It tells a *permanent* failure
//! (the message can never be decided: [`Outcome::Rejected`], for the dead-letter subject) from
//! a *transient* one (the store is unreachable: `Err`, retried by redelivery).

use crate::capacity::{allot, count, window_of, QuotaPolicy};
use crate::governance::select::ActiveModel;
use crate::network::{trade_link, NetworkScreening};
use crate::targeting::{OneByOne, Reasons, ScreeningPolicy};
use crate::{AppError, Result};
use borderline_core::{Declaration, Lane, Reason};
use borderline_governance::audit::{append_new_decisions_in, hashed_input, Decision};
use borderline_governance::capacity::LaneUsage;
use borderline_governance::registry::ModelState;
use borderline_governance::selectivity::Basis;
use borderline_governance::store::in_tx;
use borderline_governance::{Actor, GovernanceStore};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How a worker decides lanes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamPolicy {
    /// Lane capacities per office per day, consumed in the store's capacity ledger (see
    /// [`crate::capacity`]).
    pub quota: QuotaPolicy,
    /// Model reasons on each decision (`method: None` for none: the fastest).
    pub reasons: Reasons,
    /// What a screening reason does to the lane (with [`decide_batch_screened`]'s screening):
    /// by default at least yellow.
    pub screening: ScreeningPolicy,
}

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

/// Decides one message with `active`, as `by`, judging dates against `as_of` (also the
/// capacity window). `Err` only for failures worth retrying (the store); everything about the
/// message itself is an [`Outcome`].
pub fn decide_message(
    store: &dyn GovernanceStore,
    by: &Actor,
    active: &ActiveModel,
    policy: StreamPolicy,
    bytes: &[u8],
    as_of: NaiveDate,
) -> Result<Outcome> {
    let mut out = decide_batch(store, by, active, policy, &[bytes], as_of)?;
    out.pop()
        .ok_or_else(|| AppError::Invalid("a batch of one gave no outcome".into()))
}

/// A parsed and scored message, waiting for its lane.
struct Scored {
    d: Declaration,
    probability: f64,
    findings: Vec<Reason>,
    hash: String,
    /// The declaration as decided (JSON whose SHA-256 is `hash`), stored with a new decision
    /// so its case page can show evidence, counterfactuals and explanations of that input.
    body: String,
}

/// Decides a batch of messages in **one** write transaction: every new decision's audit record,
/// decision key, capacity count and trade link commit together or not at all, and the store's
/// write lock is taken once for the batch. Outcomes are in message order. `Err` (nothing
/// written) only for failures worth retrying; a message that can never be decided is an
/// [`Outcome::Rejected`] and does not stop the others. No party screening: see
/// [`decide_batch_screened`].
pub fn decide_batch(
    store: &dyn GovernanceStore,
    by: &Actor,
    active: &ActiveModel,
    policy: StreamPolicy,
    messages: &[&[u8]],
    as_of: NaiveDate,
) -> Result<Vec<Outcome>> {
    decide_batch_screened(store, by, active, policy, None, messages, as_of)
}

/// [`decide_batch`], screening each new declaration's parties with `screening` when given:
/// watchlist hits, region flags and paths to listed entities over the supplier network kept in
/// the store (read and extended in the same transaction; [`crate::network`]). A declaration
/// with a screening reason gets it, and its lane is raised by `policy.screening`.
pub fn decide_batch_screened(
    store: &dyn GovernanceStore,
    by: &Actor,
    active: &ActiveModel,
    policy: StreamPolicy,
    screening: Option<&NetworkScreening>,
    messages: &[&[u8]],
    as_of: NaiveDate,
) -> Result<Vec<Outcome>> {
    let mut scoring = OneByOne::new(&active.scorer, as_of);
    // Parse and score outside the transaction: the write lock is held only for the writes.
    // The parsed declarations are scored together (the block scorer: the same scores as one
    // by one, several times faster).
    let mut block = Vec::with_capacity(messages.len());
    let parsed: Vec<std::result::Result<(), Rejection>> = messages
        .iter()
        .map(|bytes| parse_message(bytes).map(|d| block.push(d)))
        .collect();
    let scores = scoring.score_all(&block);
    let mut scored_block = block.into_iter().zip(scores);
    let scored: Vec<std::result::Result<Scored, Rejection>> = parsed
        .into_iter()
        .map(|p| {
            p?;
            let Some((d, (probability, findings))) = scored_block.next() else {
                return Err(Rejection {
                    declaration_id: None,
                    reason: "the block scorer gave no score".into(),
                });
            };
            let id = d.declaration_id.to_string();
            if !probability.is_finite() {
                return Err(Rejection {
                    declaration_id: Some(id),
                    reason: "the model gave no finite score".into(),
                });
            }
            let (hash, body) = hashed_input(&d).map_err(|e| Rejection {
                declaration_id: Some(id),
                reason: format!("cannot hash the declaration: {e}"),
            })?;
            Ok(Scored {
                d,
                probability,
                findings,
                hash,
                body,
            })
        })
        .collect();
    if scored.iter().all(|s| s.is_err()) {
        return Ok(scored
            .into_iter()
            .filter_map(|s| s.err().map(Outcome::Rejected))
            .collect());
    }
    let model_version = active.entry.model.version.clone();
    let window = window_of(as_of);
    let at = borderline_governance::store::now();
    let mut stored_screenings: Vec<String> = Vec::new();
    let out = in_tx(store, true, |tx| {
        // Under the write lock from here: what is decided cannot change until the commit.
        let ids: Vec<String> = scored
            .iter()
            .filter_map(|s| s.as_ref().ok())
            .map(|s| s.d.declaration_id.to_string())
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let known = tx.decision_keys(&id_refs, &model_version)?;
        let mut offices: Vec<String> = scored
            .iter()
            .filter_map(|s| s.as_ref().ok())
            .filter(|s| !known.contains_key(s.d.declaration_id.as_str()))
            .map(|s| s.d.office.to_string())
            .collect();
        offices.sort_unstable();
        offices.dedup();
        let office_refs: Vec<&str> = offices.iter().map(String::as_str).collect();
        let mut ledger: HashMap<String, LaneUsage> = tx.lane_usages_of(&office_refs, &window)?;
        // The new declarations' parties screened against the lists and the stored network.
        let mut screened = match screening {
            Some(screening) => {
                let new: Vec<&Declaration> = scored
                    .iter()
                    .filter_map(|s| s.as_ref().ok())
                    .filter(|s| !known.contains_key(s.d.declaration_id.as_str()))
                    .map(|s| &s.d)
                    .collect();
                Some(screening.screen_batch(tx, &new, &at)?)
            }
            None => None,
        };
        let mut links = Vec::new();
        let mut inputs: Vec<(String, String)> = Vec::new();
        /// Where each message's outcome comes from.
        enum Slot {
            Rejected(Rejection),
            /// Decided before this batch, by this audit record.
            Known(String, u64),
            /// The `k`-th new decision of this batch (`first`: this message is the one that
            /// made it, not a repeat of its declaration later in the batch).
            New {
                k: usize,
                first: bool,
            },
        }
        let mut slots = Vec::with_capacity(scored.len());
        let mut decisions: Vec<Decision> = Vec::new();
        // The new decisions' declarations and data-quality findings, in decision order: their
        // model reasons are added after every lane is known, the red and yellow ones explained
        // together (one block, the same reasons as one by one).
        let mut decided: Vec<(Declaration, Vec<Reason>, Vec<Reason>)> = Vec::new();
        let mut made: HashMap<String, usize> = HashMap::new();
        for s in scored {
            let s = match s {
                Ok(s) => s,
                Err(r) => {
                    slots.push(Slot::Rejected(r));
                    continue;
                }
            };
            let id = s.d.declaration_id.to_string();
            if let Some(&seq) = known.get(&id) {
                slots.push(Slot::Known(id, seq));
                continue;
            }
            if let Some(&k) = made.get(&id) {
                // The same declaration twice in one batch: decided once, by the first.
                slots.push(Slot::New { k, first: false });
                continue;
            }
            let usage = ledger.entry(s.d.office.to_string()).or_default();
            let lane = allot(&active.scorer, s.probability, usage, &policy.quota);
            let lane = scoring.floor(lane, &s.findings);
            // Screening hits raise the lane (before the ledger counts it) and are stated after
            // the model's reasons.
            let flagged = screened
                .as_mut()
                .and_then(|b| b.reasons.remove(&id))
                .unwrap_or_default();
            let lane = policy.screening.apply(lane, &flagged);
            count(usage, lane);
            links.extend(trade_link(&s.d, &at));
            inputs.push((s.hash.clone(), s.body));
            made.insert(id.clone(), decisions.len());
            slots.push(Slot::New {
                k: decisions.len(),
                first: true,
            });
            decisions.push(Decision {
                declaration_id: id,
                input_hash: s.hash,
                model_version: model_version.clone(),
                rules_version: "none".into(),
                score: s.probability,
                lane,
                basis: Basis::Score,
                why: "stream: score threshold of the active model under the office's capacity"
                    .into(),
                reasons: Vec::new(),
                subject: Some(borderline_governance::audit::DecisionSubject::of(&s.d)),
            });
            decided.push((s.d, s.findings, flagged));
        }
        let ds: Vec<&Declaration> = decided.iter().map(|(d, _, _)| d).collect();
        let lanes: Vec<Lane> = decisions.iter().map(|d| d.lane).collect();
        let explained = scoring.reasons(&ds, &lanes, policy.reasons);
        for ((decision, (_, findings, flagged)), mut why) in
            decisions.iter_mut().zip(decided).zip(explained)
        {
            why.extend(findings);
            why.extend(flagged);
            decision.reasons = why;
        }
        // One chain-head read and a few multi-row writes for the whole batch.
        let seqs = append_new_decisions_in(tx, by, &decisions)?;
        let counts: Vec<(&str, LaneUsage)> = ledger
            .iter()
            .map(|(office, u)| (office.as_str(), *u))
            .collect();
        tx.put_lane_usages(&window, &counts)?;
        if !links.is_empty() {
            tx.add_trade_links(&links)?;
        }
        tx.put_scored_inputs(&inputs)?;
        if let Some(b) = screened.filter(|b| !b.to_store.is_empty()) {
            tx.put_party_screenings(&b.to_store)?;
            stored_screenings = b.to_store.into_iter().map(|p| p.party_id).collect();
        }
        let seq_of = |k: usize| {
            seqs.get(k).copied().ok_or_else(|| {
                AppError::Invalid("the store returned fewer records than decisions".into())
            })
        };
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            out.push(match slot {
                Slot::Rejected(r) => Outcome::Rejected(r),
                Slot::Known(id, seq) => Outcome::Duplicate(duplicate(id, &model_version, seq)),
                Slot::New { k, first: false } => {
                    let d = decisions.get(k).map(|d| d.declaration_id.clone());
                    Outcome::Duplicate(duplicate(d.unwrap_or_default(), &model_version, seq_of(k)?))
                }
                Slot::New { k, first: true } => {
                    let d = decisions.get(k).ok_or_else(|| {
                        AppError::Invalid("a new decision went missing from its batch".into())
                    })?;
                    Outcome::Decided(StreamDecision {
                        declaration_id: d.declaration_id.clone(),
                        model_version: model_version.clone(),
                        audit_seq: seq_of(k)?,
                        lane: Some(d.lane),
                        risk_score: Some(d.score),
                        reasons: d.reasons.clone(),
                    })
                }
            });
        }
        Ok::<_, AppError>(out)
    })?;
    if let Some(screening) = screening {
        screening.stored(&stored_screenings);
    }
    Ok(out)
}

/// The notice for a declaration decided earlier by `model_version` (audit record `seq`).
fn duplicate(declaration_id: String, model_version: &str, seq: u64) -> StreamDecision {
    StreamDecision {
        declaration_id,
        model_version: model_version.to_string(),
        audit_seq: seq,
        lane: None,
        risk_score: None,
        reasons: Vec::new(),
    }
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
/// [`ActiveModel::load`]) when the registry's active version changed. A loaded model's exact
/// explanation tables are built here, so the worker's first red or yellow declaration is not
/// the one that waits for them.
pub fn refresh(store: &dyn GovernanceStore, current: Option<ActiveModel>) -> Result<ActiveModel> {
    let wanted = active_version(store)?;
    match current {
        Some(c) if Some(&c.entry.model.version) == wanted.as_ref() => Ok(c),
        _ => {
            let loaded = ActiveModel::load(store)?;
            loaded.scorer.model().ensemble.prepare_exact_explanations();
            Ok(loaded)
        }
    }
}

/// The boxed future a [`DeclarationQueue`] returns (the trait stays object-safe and this
/// crate needs no async runtime).
pub type QueueFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = std::result::Result<u64, String>> + Send + 'a>,
>;

/// Where lodged declarations wait for the stream workers (NATS JetStream in
/// `borderline-worker`). One small trait so that front ends (the HTTP service) publish without
/// knowing the transport.
pub trait DeclarationQueue: Send + Sync {
    /// Puts the message bodies on the stream in order and resolves once the stream has stored
    /// every one (the count), or with why it could not.
    fn put(&self, bodies: Vec<Vec<u8>>) -> QueueFuture<'_>;
    /// Where the declarations go (the subject), for the receipt.
    fn destination(&self) -> String;
}

/// What a publication put on the stream.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Published {
    /// Declarations stored on the stream (all of the request: a publication is all or none
    /// as far as validation goes).
    pub published: u64,
    /// The subject they were published on.
    pub subject: String,
    /// Their ids, in order; each gets one decision per model version from the workers.
    pub declaration_ids: Vec<String>,
}

/// Puts `declarations` on `queue` as stream messages (the bodies [`encode_declaration`]
/// writes). Ids must differ within one publication: a repeated id would be decided once and
/// the second message reported as a duplicate, which a caller lodging two different
/// declarations under one id needs to hear now. `Err(AppError::Unavailable)` when the stream
/// does not store them (nothing can be said about a partial publication; the workers' keys
/// make a retry safe).
pub async fn publish(
    queue: &dyn DeclarationQueue,
    declarations: &[Declaration],
) -> Result<Published> {
    let mut seen = std::collections::HashSet::with_capacity(declarations.len());
    for (i, d) in declarations.iter().enumerate() {
        if !seen.insert(d.declaration_id.as_str()) {
            return Err(AppError::Field {
                field: format!("declarations[{i}].declaration_id"),
                problem: format!(
                    "{:?} appears twice in this publication",
                    borderline_ingest::bounded(&d.declaration_id)
                ),
            });
        }
    }
    let bodies = declarations
        .iter()
        .map(encode_declaration)
        .collect::<Result<Vec<_>>>()?;
    let published = queue
        .put(bodies)
        .await
        .map_err(|e| AppError::Unavailable(format!("the declaration stream: {e}")))?;
    Ok(Published {
        published,
        subject: queue.destination(),
        declaration_ids: declarations
            .iter()
            .map(|d| d.declaration_id.to_string())
            .collect(),
    })
}
