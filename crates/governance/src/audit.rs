//! The audit log: every scoring decision and governance action, appended to a hash chain.
//!
//! Record `k` stores `hash_k = SHA-256(prev_hash, seq, kind, recorded_at, user, body)` over the
//! length-prefixed fields (so no bytes can move from one field to the next unnoticed) and
//! `prev_hash = hash_{k-1}` (64 zeros for the first record). Changing any byte of a record
//! breaks its own hash; deleting a record leaves a gap in `seq` (or, if the rest were
//! renumbered, broken hashes); reordering breaks the `prev_hash` links. [`AuditLog::verify`]
//! reports the first sequence number where the chain breaks. Deleting records from the end
//! leaves a valid shorter chain: compare the head hash [`Verification::Intact`] reports with
//! one kept elsewhere (a printed report, a ticket) to detect that.
//!
//! The API only appends and reads; a store refuses UPDATE and DELETE of audit records too
//! (the contract suite checks it).

use crate::actor::Actor;
use crate::lane::Lane;
use crate::selectivity::Basis;
use crate::store::{in_tx, now, GovernanceStore, StoreError, StoreTx};
use borderline_core::Reason;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A scoring decision on one declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub declaration_id: String,
    /// Hash of the declaration as scored, so the input can be proven later.
    pub input_hash: String,
    pub model_version: String,
    pub rules_version: String,
    pub score: f64,
    pub lane: Lane,
    pub basis: Basis,
    /// Why this lane (random draw, rule, exploration, score rank), in one sentence.
    pub why: String,
    pub reasons: Vec<Reason>,
    /// What the declaration is about (importer, HS code, office, date), so a queue can be
    /// filtered without the declarations themselves; absent in records written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<DecisionSubject>,
}

/// The declaration fields an inspection queue filters on, copied into its decision record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionSubject {
    pub importer: String,
    pub hs_code: String,
    pub office: String,
    /// `YYYY-MM-DD`, the declaration's date.
    pub date: String,
}

impl DecisionSubject {
    pub fn of(d: &borderline_core::Declaration) -> Self {
        DecisionSubject {
            importer: d.importer.to_string(),
            hs_code: d.hs_code.to_string(),
            office: d.office.to_string(),
            date: d.date.to_string(),
        }
    }
}

/// A governance action (model registered, approved, activated, feedback recorded, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernanceAction {
    /// e.g. `model.approve`.
    pub action: String,
    /// What it acted on, e.g. a model version or a declaration id.
    pub subject: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    Decision(Decision),
    Governance(GovernanceAction),
}

impl AuditEvent {
    fn kind(&self) -> &'static str {
        match self {
            AuditEvent::Decision(_) => "decision",
            AuditEvent::Governance(_) => "governance",
        }
    }

    fn body(&self) -> Result<String, serde_json::Error> {
        match self {
            AuditEvent::Decision(d) => serde_json::to_string(d),
            AuditEvent::Governance(g) => serde_json::to_string(g),
        }
    }
}

/// One stored record. `body` is the exact JSON text that was hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub recorded_at: String,
    pub user: String,
    pub kind: String,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The event, parsed from `body`.
    pub fn event(&self) -> Result<AuditEvent, StoreError> {
        Ok(match self.kind.as_str() {
            "decision" => AuditEvent::Decision(serde_json::from_str(&self.body)?),
            _ => AuditEvent::Governance(serde_json::from_str(&self.body)?),
        })
    }

    /// The hash this record's fields give (equal to `hash` unless the record was changed).
    pub fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.kind,
            &self.recorded_at,
            &self.user,
            &self.body,
        )
    }
}

fn chain_hash(prev: &str, seq: u64, kind: &str, at: &str, user: &str, body: &str) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for field in [prev, &seq, kind, at, user, body] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// How the chain breaks at a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// The record's fields do not give its stored hash: its content was changed.
    Altered,
    /// The record does not point at the hash of the record before it: a record before it was
    /// removed or inserted, or records were reordered.
    Unlinked,
    /// The sequence number expected here is absent: the record was deleted.
    Missing,
}

/// Result of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    Intact {
        records: u64,
        /// Hash of the last record (GENESIS for an empty log): keep it elsewhere to detect
        /// later truncation.
        head: String,
    },
    Broken {
        /// First sequence number where the chain breaks.
        seq: u64,
        problem: Break,
        /// Records before `seq` that verified.
        verified: u64,
    },
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        matches!(self, Verification::Intact { .. })
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Intact { records, head } => {
                write!(f, "audit log intact: {records} records, head {head}")
            }
            Verification::Broken { seq, problem, .. } => {
                let what = match problem {
                    Break::Altered => "its content was changed (hash mismatch)",
                    Break::Unlinked => {
                        "it does not follow the record before it (records removed, inserted or reordered)"
                    }
                    Break::Missing => "it is missing (deleted)",
                };
                write!(f, "audit log broken at record {seq}: {what}")
            }
        }
    }
}

/// Append and read access to the audit log of a store.
pub struct AuditLog<'s> {
    store: &'s dyn GovernanceStore,
}

impl<'s> AuditLog<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        AuditLog { store }
    }

    /// Appends one event by `actor`; returns its sequence number.
    pub fn append(&self, actor: &Actor, event: &AuditEvent) -> Result<u64, StoreError> {
        in_tx(self.store, true, |tx| append_in(tx, actor, event))
    }

    /// Appends events in one transaction (all or none); returns their sequence numbers.
    pub fn append_all(&self, actor: &Actor, events: &[AuditEvent]) -> Result<Vec<u64>, StoreError> {
        in_tx(self.store, true, |tx| append_all_in(tx, actor, events))
    }

    /// Number of records.
    pub fn len(&self) -> Result<u64, StoreError> {
        in_tx(self.store, false, |tx| tx.audit_len())
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Visits every record in sequence order.
    pub fn for_each(
        &self,
        mut f: impl FnMut(AuditRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        in_tx(self.store, false, |tx| tx.audit_scan(None, &mut f))
    }

    /// All records in sequence order.
    pub fn records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out = Vec::new();
        self.for_each(|r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// The latest decision logged for each declaration (by declaration id).
    pub fn latest_decisions(&self) -> Result<HashMap<String, Decision>, StoreError> {
        let mut out = HashMap::new();
        in_tx(self.store, false, |tx| {
            tx.audit_scan(Some("decision"), &mut |r| {
                let d: Decision = serde_json::from_str(&r.body)?;
                out.insert(d.declaration_id.clone(), d);
                Ok(())
            })
        })?;
        Ok(out)
    }

    /// Walks the whole chain and reports the first break, if any.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        let mut v = Verifier::default();
        self.for_each(|r| {
            v.push(&r);
            Ok(())
        })?;
        Ok(v.finish())
    }

    /// Writes every record as one JSON object per line (fields of [`AuditRecord`]; `body` is
    /// the exact hashed JSON text, so the export can be verified independently).
    pub fn export_jsonl(&self, out: &mut dyn Write) -> Result<u64, ExportError> {
        let mut n = 0u64;
        let mut failure: Option<ExportError> = None;
        self.for_each(|r| {
            if failure.is_none() {
                let written = serde_json::to_writer(&mut *out, &r)
                    .map_err(ExportError::from)
                    .and_then(|_| out.write_all(b"\n").map_err(ExportError::from));
                match written {
                    Ok(()) => n += 1,
                    Err(e) => failure = Some(e),
                }
            }
            Ok(())
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }
}

/// Chain verification over records in sequence order, one at a time (so a store of any size
/// verifies in constant memory, and an export can be verified without a store).
#[derive(Debug, Clone)]
pub struct Verifier {
    expected_seq: u64,
    prev: String,
    broken: Option<Verification>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev: GENESIS.to_string(),
            broken: None,
        }
    }
}

impl Verifier {
    /// Checks the next record; after the first break the rest is ignored.
    pub fn push(&mut self, r: &AuditRecord) {
        if self.broken.is_some() {
            return;
        }
        let verified = self.expected_seq - 1;
        let problem = if r.seq != self.expected_seq {
            Some((self.expected_seq, Break::Missing))
        } else if r.prev_hash != self.prev {
            Some((r.seq, Break::Unlinked))
        } else if r.computed_hash() != r.hash {
            Some((r.seq, Break::Altered))
        } else {
            None
        };
        match problem {
            Some((seq, problem)) => {
                self.broken = Some(Verification::Broken {
                    seq,
                    problem,
                    verified,
                })
            }
            None => {
                self.prev = r.hash.clone();
                self.expected_seq += 1;
            }
        }
    }

    pub fn finish(self) -> Verification {
        self.broken.unwrap_or(Verification::Intact {
            records: self.expected_seq - 1,
            head: self.prev,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Json(#[from] serde_json::Error),
}

/// Appends inside an open write transaction (used by the registry and feedback so that an
/// action and its audit record commit together). The record's `user` is the actor's id.
pub(crate) fn append_in(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    event: &AuditEvent,
) -> Result<u64, StoreError> {
    let seqs = append_all_in(tx, actor, std::slice::from_ref(event))?;
    seqs.first()
        .copied()
        .ok_or_else(|| StoreError::Backend("an append of one event gave no record".into()))
}

/// Appends `events` in order inside an open write transaction: the chain head is read once,
/// the records are hashed one after the other here, and the store writes them together
/// ([`StoreTx::audit_append_all`]), with the queue index rows of the decisions among them. The
/// write transaction holds the store's write lock, so no other writer appends in between.
pub fn append_all_in(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    events: &[AuditEvent],
) -> Result<Vec<u64>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let (mut seq, mut prev_hash) = match tx.audit_head()? {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let at = now();
    let mut records = Vec::with_capacity(events.len());
    let mut index = Vec::new();
    for event in events {
        let mut record = AuditRecord {
            seq,
            recorded_at: at.clone(),
            user: actor.id.clone(),
            kind: event.kind().to_string(),
            body: event.body()?,
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        if let AuditEvent::Decision(d) = event {
            // The queue's index, in the same transaction as the record it points at.
            index.push(crate::cases::IndexedDecision::of(seq, d));
        }
        prev_hash = record.hash.clone();
        records.push(record);
        seq += 1;
    }
    tx.audit_append_all(&records)?;
    if !index.is_empty() {
        tx.index_decisions(&index)?;
    }
    Ok(records.iter().map(|r| r.seq).collect())
}

/// Appends decisions by `actor` with the declarations they scored, in one transaction: each
/// `(decision, input)` stores `input` (the declaration's JSON as hashed) under the decision's
/// `input_hash`, so a case page can later explain the very input that was decided (a counter-
/// factual by rescoring). An input whose SHA-256 is not the decision's `input_hash` is refused.
pub fn append_decisions_with_inputs(
    store: &dyn GovernanceStore,
    actor: &Actor,
    decisions: &[(Decision, String)],
) -> Result<Vec<u64>, StoreError> {
    for (d, input) in decisions {
        let h = format!("{:x}", Sha256::digest(input.as_bytes()));
        if h != d.input_hash {
            return Err(StoreError::Backend(format!(
                "the input stored with the decision on {} does not hash to its input_hash",
                d.declaration_id
            )));
        }
    }
    in_tx(store, true, |tx| {
        let mut out = Vec::with_capacity(decisions.len());
        for (d, input) in decisions {
            tx.put_scored_input(&d.input_hash, input)?;
            out.push(append_in(tx, actor, &AuditEvent::Decision(d.clone()))?);
        }
        Ok(out)
    })
}

/// The declaration a decision scored, as stored with it (JSON whose SHA-256 is `input_hash`);
/// `None` when it was not stored (a decision recorded before inputs were kept with it).
pub fn scored_input(
    store: &dyn GovernanceStore,
    input_hash: &str,
) -> Result<Option<String>, StoreError> {
    let body = in_tx(store, false, |tx| tx.scored_input(input_hash))?;
    // What comes back must be what was hashed: a changed row is not an input.
    Ok(body.filter(|b| format!("{:x}", Sha256::digest(b.as_bytes())) == input_hash))
}

/// What [`record_decision_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The decision was appended as this audit record.
    New(u64),
    /// This (declaration, model version) was already decided, by this audit record; nothing
    /// was written.
    Already(u64),
}

impl Recorded {
    /// The audit record of the decision, new or earlier.
    pub fn seq(self) -> u64 {
        match self {
            Recorded::New(s) | Recorded::Already(s) => s,
        }
    }
}

/// Appends `decision` by `actor` unless its (declaration id, model version) was already
/// decided: the check, the audit record and the decision key are one write transaction, so a
/// redelivered declaration is decided once whatever the number of workers.
pub fn record_decision_once(
    store: &dyn GovernanceStore,
    actor: &Actor,
    decision: &Decision,
) -> Result<Recorded, StoreError> {
    in_tx(store, true, |tx| {
        record_decision_once_in(tx, actor, decision)
    })
}

/// [`record_decision_once`] inside a write transaction the caller holds.
pub fn record_decision_once_in(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    decision: &Decision,
) -> Result<Recorded, StoreError> {
    if let Some(seq) = tx.decision_key(&decision.declaration_id, &decision.model_version)? {
        return Ok(Recorded::Already(seq));
    }
    let seqs = append_new_decisions_in(tx, actor, std::slice::from_ref(decision))?;
    seqs.first()
        .map(|&s| Recorded::New(s))
        .ok_or_else(|| StoreError::Backend("an append of one decision gave no record".into()))
}

/// Appends decisions none of which is decided yet (the caller looked their keys up with
/// [`StoreTx::decision_keys`] in this same write transaction, which holds the store's write
/// lock, so nobody decided them since), each with its decision key: one chain-head read and a
/// few multi-row writes for a whole batch (a stream worker's). A pair that is decided after all,
/// or twice in `decisions`, is refused by its key and the transaction fails: a decision is
/// never recorded twice. Returns the audit sequence numbers in order.
pub fn append_new_decisions_in(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    decisions: &[Decision],
) -> Result<Vec<u64>, StoreError> {
    let events: Vec<AuditEvent> = decisions
        .iter()
        .cloned()
        .map(AuditEvent::Decision)
        .collect();
    let seqs = append_all_in(tx, actor, &events)?;
    // Keys per model version (a batch normally has one).
    let mut by_version: Vec<(&str, Vec<(&str, u64)>)> = Vec::new();
    for (d, &seq) in decisions.iter().zip(&seqs) {
        let key = (d.declaration_id.as_str(), seq);
        match by_version
            .iter_mut()
            .find(|(v, _)| *v == d.model_version.as_str())
        {
            Some((_, keys)) => keys.push(key),
            None => by_version.push((d.model_version.as_str(), vec![key])),
        }
    }
    for (version, keys) in &by_version {
        tx.insert_decision_keys(version, keys)?;
    }
    Ok(seqs)
}

/// SHA-256 of any serialisable input, as hex: the `input_hash` of a decision.
pub fn input_hash<T: Serialize>(input: &T) -> Result<String, serde_json::Error> {
    Ok(hashed_input(input)?.0)
}

/// [`input_hash`] of `input` and the JSON it hashes (what [`scored_input`] gives back when
/// it is stored with the decision).
pub fn hashed_input<T: Serialize>(input: &T) -> Result<(String, String), serde_json::Error> {
    let body = serde_json::to_string(input)?;
    Ok((format!("{:x}", Sha256::digest(body.as_bytes())), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_hash_changes_with_the_input() {
        let a = input_hash(&("D1", 100.0)).expect("hash");
        assert_eq!(a, input_hash(&("D1", 100.0)).expect("hash"));
        assert_ne!(a, input_hash(&("D1", 100.5)).expect("hash"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn a_changed_field_breaks_its_own_hash() {
        let mut r = AuditRecord {
            seq: 1,
            recorded_at: "2021-04-01T00:00:00.000Z".into(),
            user: "ana".into(),
            kind: "governance".into(),
            body: "{}".into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        r.hash = r.computed_hash();
        let mut v = Verifier::default();
        v.push(&r);
        assert!(matches!(
            v.finish(),
            Verification::Intact { records: 1, .. }
        ));
        // Moving a byte from one field to the next is not the same record.
        r.user = "an".into();
        r.body = "a{}".into();
        let mut v = Verifier::default();
        v.push(&r);
        assert!(matches!(
            v.finish(),
            Verification::Broken {
                seq: 1,
                problem: Break::Altered,
                ..
            }
        ));
    }
}
