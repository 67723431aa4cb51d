//! Inspection cases and the decision index.
//!
//! **Decision index.** Every decision appended to the audit log is also indexed by the store
//! (declaration id, its latest decision's audit record, lane rank, score, basis, subject and the
//! analyst rules that hit it, one row per rule), in the same transaction, so that an inspection
//! queue is one indexed query with a page of rows instead of a walk over the whole chain. The
//! index is derived data: the chain stays the record, and a store rebuilds the index from it
//! when it is created by a migration.
//!
//! **Cases.** A declaration with a recorded decision is a case, *pending* until an officer takes
//! it. Taking it puts it *in inspection* held by that officer; a second officer's take is refused
//! and names the holder, so two officers never work one case unknowingly. The holder may
//! *escalate* it (still held, with a note for a supervisor), and closes it by recording the
//! outcome (*outcome recorded*): the feedback record, its audit record and the case's change
//! commit together. A supervisor may reassign a case to another officer. Every transition is an
//! audit record (`case.take`, `case.escalate`, `case.reassign`, `case.close`) in the name of the
//! acting actor, in the same transaction as the change.

use crate::actor::{same_person, Actor};
use crate::audit::{append_in, AuditEvent, AuditRecord, Decision, GovernanceAction};
use crate::feedback::{FeedbackError, Outcome};
use crate::lane::Lane;
use crate::selectivity::Basis;
use crate::store::{in_tx, now, GovernanceStore, StoreError, StoreTx};
use serde::{Deserialize, Serialize};

/// Queue order of a lane: red first.
pub fn lane_rank(l: Lane) -> u8 {
    match l {
        Lane::Red => 0,
        Lane::Yellow => 1,
        Lane::Blue => 2,
        Lane::Green => 3,
    }
}

/// `basis` as stored and filtered on (`score`, `rule`, `random`, `exploration`, `release`).
pub fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Random => "random",
        Basis::Rule => "rule",
        Basis::Exploration => "exploration",
        Basis::Score => "score",
        Basis::Release => "release",
    }
}

/// What the store indexes of one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedDecision {
    pub declaration_id: String,
    pub audit_seq: u64,
    pub lane_rank: u8,
    pub score: f64,
    pub basis: &'static str,
    pub importer: Option<String>,
    pub hs_code: Option<String>,
    pub office: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The analyst rules that hit the declaration (the codes of its reasons of kind rule),
    /// sorted, each once. One declaration can be hit by several rules.
    pub rules: Vec<String>,
}

impl IndexedDecision {
    pub fn of(audit_seq: u64, d: &Decision) -> Self {
        let s = d.subject.as_ref();
        IndexedDecision {
            declaration_id: d.declaration_id.clone(),
            audit_seq,
            lane_rank: lane_rank(d.lane),
            score: d.score,
            basis: basis_name(d.basis),
            importer: s.map(|s| s.importer.clone()),
            hs_code: s.map(|s| s.hs_code.clone()),
            office: s.map(|s| s.office.clone()),
            date: s.map(|s| s.date.clone()),
            rules: rule_ids(d),
        }
    }
}

/// The ids of the analyst rules that hit a decision: the codes of its reasons of kind rule,
/// sorted, each once.
pub fn rule_ids(d: &Decision) -> Vec<String> {
    let mut ids: Vec<String> = d
        .reasons
        .iter()
        .filter(|r| r.kind == borderline_core::ReasonKind::Rule)
        .map(|r| r.code.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Where a case is. A declaration without a case record is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Pending,
    InInspection,
    Escalated,
    OutcomeRecorded,
}

impl CaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Pending => "pending",
            CaseState::InInspection => "in_inspection",
            CaseState::Escalated => "escalated",
            CaseState::OutcomeRecorded => "outcome_recorded",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        Some(match s {
            "pending" => CaseState::Pending,
            "in_inspection" => CaseState::InInspection,
            "escalated" => CaseState::Escalated,
            "outcome_recorded" => CaseState::OutcomeRecorded,
            _ => return None,
        })
    }

    /// In customs words.
    pub fn words(self) -> &'static str {
        match self {
            CaseState::Pending => "pending",
            CaseState::InInspection => "in inspection",
            CaseState::Escalated => "escalated to a supervisor",
            CaseState::OutcomeRecorded => "outcome recorded",
        }
    }
}

/// A case as stored (one row per declaration that left *pending*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub declaration_id: String,
    pub state: CaseState,
    /// The officer working the case (kept after it is closed: who closed it).
    pub holder: Option<String>,
    /// The escalation note, while escalated.
    pub note: Option<String>,
    /// The feedback record of the outcome, once recorded.
    pub feedback_id: Option<i64>,
    pub updated_at: String,
    pub updated_by: String,
}

/// What a queue asks of the decision index (all filters optional; text matches exactly, the HS
/// code by prefix, dates inclusive `YYYY-MM-DD`). Rows come riskiest first: lane rank, then
/// score descending, then declaration id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueQuery {
    pub lane_rank: Option<u8>,
    pub office: Option<String>,
    pub hs_code_prefix: Option<String>,
    pub importer: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `score`, `rule`, `random`, `exploration`, `release`.
    pub basis: Option<String>,
    /// Declarations whose latest decision this analyst rule hit (a rule id, exact), whatever
    /// rule decided the lane.
    pub rule: Option<String>,
    /// Cases in this state (pending: no case record).
    pub case_state: Option<CaseState>,
    pub offset: u64,
    pub limit: u64,
}

/// The least string greater than every string that starts with `prefix` (the prefix with its
/// last character incremented), so that a prefix filter is an index range
/// `prefix <= x < upper`; `None` when there is no such bound (empty prefix, or a last character
/// that cannot be incremented), and the range is then open above.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = char::from_u32(u32::from(last) + 1)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// One indexed declaration: the audit record of its latest decision and its case, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueHit {
    pub record: AuditRecord,
    pub case: Option<CaseRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Feedback(#[from] FeedbackError),
    #[error("no decision is recorded for declaration {0}: there is no case to work")]
    NoDecision(String),
    #[error(
        "case {declaration_id} is already held by {holder} ({state}); a supervisor can reassign it"
    )]
    Held {
        declaration_id: String,
        holder: String,
        state: &'static str,
    },
    #[error("case {declaration_id} is {state}: {action} needs {needs}")]
    WrongState {
        declaration_id: String,
        state: &'static str,
        action: &'static str,
        needs: &'static str,
    },
    #[error(
        "case {declaration_id} is held by {holder}, not by {actor}: only the holder can {action}"
    )]
    NotHolder {
        declaration_id: String,
        holder: String,
        actor: String,
        action: &'static str,
    },
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

/// Cases of a store.
pub struct Cases<'s> {
    store: &'s dyn GovernanceStore,
}

fn audit(
    tx: &mut dyn StoreTx,
    by: &Actor,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<u64, StoreError> {
    append_in(
        tx,
        by,
        &AuditEvent::Governance(GovernanceAction {
            action: action.into(),
            subject: id.into(),
            detail,
        }),
    )
}

fn current(tx: &mut dyn StoreTx, id: &str) -> Result<Option<CaseRecord>, CaseError> {
    if tx.latest_decision(id)?.is_none() {
        return Err(CaseError::NoDecision(id.to_string()));
    }
    Ok(tx.case(id)?)
}

fn state_of(c: &Option<CaseRecord>) -> CaseState {
    c.as_ref().map_or(CaseState::Pending, |c| c.state)
}

fn held_by_actor(
    id: &str,
    c: &Option<CaseRecord>,
    by: &Actor,
    action: &'static str,
) -> Result<CaseRecord, CaseError> {
    let state = state_of(c);
    match c {
        Some(c) if matches!(c.state, CaseState::InInspection | CaseState::Escalated) => {
            let holder = c.holder.clone().unwrap_or_default();
            if same_person(&holder, &by.id) {
                Ok(c.clone())
            } else {
                Err(CaseError::NotHolder {
                    declaration_id: id.into(),
                    holder,
                    actor: by.id.clone(),
                    action,
                })
            }
        }
        _ => Err(CaseError::WrongState {
            declaration_id: id.into(),
            state: state.words(),
            action,
            needs: "a case in inspection held by you (take it first)",
        }),
    }
}

impl<'s> Cases<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        Cases { store }
    }

    /// The case of a declaration: `None` when no decision is recorded for it; a pending case
    /// has no record.
    pub fn get(&self, id: &str) -> Result<Option<(QueueHit, CaseState)>, CaseError> {
        Ok(in_tx(self.store, false, |tx| {
            let hit = tx.latest_decision(id)?;
            Ok::<_, StoreError>(hit.map(|h| {
                let s = state_of(&h.case);
                (h, s)
            }))
        })?)
    }

    /// A page of the decision index and how many rows match in all.
    pub fn queue(&self, q: &QueueQuery) -> Result<(Vec<QueueHit>, u64), CaseError> {
        Ok(in_tx(self.store, false, |tx| tx.queue_page(q))?)
    }

    /// `by` takes a pending case. Taking a case one already holds changes nothing; a case held
    /// by someone else is refused with the holder's name.
    pub fn take(&self, by: &Actor, id: &str) -> Result<CaseRecord, CaseError> {
        in_tx(self.store, true, |tx| {
            let c = current(tx, id)?;
            match &c {
                None => {}
                Some(c) if c.state == CaseState::OutcomeRecorded => {
                    return Err(CaseError::WrongState {
                        declaration_id: id.into(),
                        state: c.state.words(),
                        action: "taking it",
                        needs: "a pending case",
                    })
                }
                Some(c) => {
                    let holder = c.holder.clone().unwrap_or_default();
                    if same_person(&holder, &by.id) {
                        return Ok(c.clone());
                    }
                    return Err(CaseError::Held {
                        declaration_id: id.into(),
                        holder,
                        state: c.state.words(),
                    });
                }
            }
            let rec = CaseRecord {
                declaration_id: id.into(),
                state: CaseState::InInspection,
                holder: Some(by.id.clone()),
                note: None,
                feedback_id: None,
                updated_at: now(),
                updated_by: by.id.clone(),
            };
            tx.put_case(&rec)?;
            audit(
                tx,
                by,
                "case.take",
                id,
                serde_json::json!({ "holder": by.id }),
            )?;
            Ok(rec)
        })
    }

    /// The holder escalates the case to a supervisor with a note; it stays held.
    pub fn escalate(&self, by: &Actor, id: &str, note: &str) -> Result<CaseRecord, CaseError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(CaseError::Invalid {
                field: "note",
                problem: "an escalation says why (the note is empty)".into(),
            });
        }
        in_tx(self.store, true, |tx| {
            let c = current(tx, id)?;
            let mut rec = held_by_actor(id, &c, by, "escalate it")?;
            if rec.state == CaseState::Escalated {
                return Err(CaseError::WrongState {
                    declaration_id: id.into(),
                    state: rec.state.words(),
                    action: "escalating it",
                    needs: "a case in inspection",
                });
            }
            rec.state = CaseState::Escalated;
            rec.note = Some(note.to_string());
            rec.updated_at = now();
            rec.updated_by = by.id.clone();
            tx.put_case(&rec)?;
            audit(
                tx,
                by,
                "case.escalate",
                id,
                serde_json::json!({ "holder": rec.holder, "note": note }),
            )?;
            Ok(rec)
        })
    }

    /// A supervisor (the caller checks the permission) gives a case that is not closed to
    /// officer `to`; it is in inspection again, held by `to`.
    pub fn reassign(&self, by: &Actor, id: &str, to: &str) -> Result<CaseRecord, CaseError> {
        let to = to.trim();
        if to.is_empty() {
            return Err(CaseError::Invalid {
                field: "to",
                problem: "name the officer who takes the case over".into(),
            });
        }
        in_tx(self.store, true, |tx| {
            let c = current(tx, id)?;
            let state = state_of(&c);
            if state == CaseState::OutcomeRecorded {
                return Err(CaseError::WrongState {
                    declaration_id: id.into(),
                    state: state.words(),
                    action: "reassigning it",
                    needs: "a case without a recorded outcome",
                });
            }
            let from = c.as_ref().and_then(|c| c.holder.clone());
            let rec = CaseRecord {
                declaration_id: id.into(),
                state: CaseState::InInspection,
                holder: Some(to.to_string()),
                note: None,
                feedback_id: None,
                updated_at: now(),
                updated_by: by.id.clone(),
            };
            tx.put_case(&rec)?;
            audit(
                tx,
                by,
                "case.reassign",
                id,
                serde_json::json!({ "from": from, "to": to, "was": state.as_str() }),
            )?;
            Ok(rec)
        })
    }

    /// The holder closes the case with its outcome: the feedback record, its audit record, the
    /// case's change and the `case.close` audit record commit together.
    pub fn close(&self, by: &Actor, outcome: &Outcome) -> Result<CaseRecord, CaseError> {
        outcome.validate()?;
        let id = outcome.declaration_id.as_str();
        in_tx(self.store, true, |tx| {
            let c = current(tx, id)?;
            let mut rec = held_by_actor(id, &c, by, "record its outcome")?;
            let feedback_id = tx.insert_feedback(&now(), outcome)?;
            audit(
                tx,
                by,
                "feedback.record",
                id,
                serde_json::json!({
                    "feedback_id": feedback_id,
                    "decided_on": outcome.decided_on.to_string(),
                    "decision": outcome.decision,
                    "fraud": outcome.fraud,
                    "critical_level": outcome.critical_level,
                    "amount_recovered": outcome.amount_recovered,
                    "reported_officer": outcome.reported_officer,
                }),
            )?;
            rec.state = CaseState::OutcomeRecorded;
            rec.note = None;
            rec.feedback_id = Some(feedback_id);
            rec.updated_at = now();
            rec.updated_by = by.id.clone();
            tx.put_case(&rec)?;
            audit(
                tx,
                by,
                "case.close",
                id,
                serde_json::json!({ "feedback_id": feedback_id, "decision": outcome.decision }),
            )?;
            Ok(rec)
        })
    }
}
