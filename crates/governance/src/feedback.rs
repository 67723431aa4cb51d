//! Officers' decisions and inspection outcomes per declaration.
//!
//! Feedback is append-only like the audit log: a correction is a new record, and the latest
//! record of a declaration is the one that counts. Each record also appends a governance record
//! to the audit log in the same transaction, in the name of the acting [`Actor`] (who recorded
//! it), whatever the outcome names as the inspecting officer.

use crate::actor::Actor;
use crate::audit::{append_in, AuditEvent, GovernanceAction};
use crate::store::{in_tx, now, GovernanceStore, StoreError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What an officer found when a declaration was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub declaration_id: String,
    /// Day the decision was taken (the inspection date).
    pub decided_on: NaiveDate,
    /// The officer's decision, e.g. `inspected`, `released`, `seized`.
    pub decision: String,
    /// Irregularity found.
    pub fraud: bool,
    /// 0 = none, 1 = fraud, 2 = critical fraud (0 exactly when `fraud` is false).
    pub critical_level: u8,
    pub amount_recovered: Option<f64>,
    pub note: Option<String>,
    /// The officer who inspected, as the source reported it (e.g. a feedback file's `officer`
    /// column): data about the inspection, never an identity. The audit record's `user` is
    /// the acting, authenticated actor who recorded the outcome.
    #[serde(alias = "officer")]
    pub reported_officer: String,
}

/// A stored outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub id: i64,
    pub recorded_at: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("feedback for declaration {declaration_id:?}: {problem}")]
    Invalid {
        declaration_id: String,
        problem: String,
    },
}

impl Outcome {
    /// Checks what the database cannot: the values must make sense together.
    pub fn validate(&self) -> Result<(), FeedbackError> {
        let bad = |problem: &str| {
            Err(FeedbackError::Invalid {
                declaration_id: self.declaration_id.clone(),
                problem: problem.to_string(),
            })
        };
        if self.declaration_id.trim().is_empty() {
            return bad("declaration id is empty");
        }
        if self.reported_officer.trim().is_empty() {
            return bad("reported officer is empty");
        }
        if self.critical_level > 2 {
            return bad("critical level must be 0, 1 or 2");
        }
        // Same convention as ingest and training: level 0 exactly when no fraud was found.
        if (self.critical_level > 0) != self.fraud {
            return bad(if self.fraud {
                "fraud found needs critical level 1 (fraud) or 2 (critical fraud)"
            } else {
                "a critical level above 0 needs fraud found"
            });
        }
        if let Some(a) = self.amount_recovered {
            if !a.is_finite() || a < 0.0 {
                return bad("amount recovered must be a non-negative number");
            }
        }
        Ok(())
    }
}

pub struct FeedbackLog<'s> {
    store: &'s dyn GovernanceStore,
}

impl<'s> FeedbackLog<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        FeedbackLog { store }
    }

    /// Records outcomes by `by` in one transaction (all or none, each validated first);
    /// returns their ids.
    pub fn record_all(&self, outcomes: &[Outcome], by: &Actor) -> Result<Vec<i64>, FeedbackError> {
        for o in outcomes {
            o.validate()?;
        }
        in_tx(self.store, true, |tx| {
            let mut ids = Vec::with_capacity(outcomes.len());
            for o in outcomes {
                let id = tx.insert_feedback(&now(), o)?;
                append_in(
                    tx,
                    by,
                    &AuditEvent::Governance(GovernanceAction {
                        action: "feedback.record".into(),
                        subject: o.declaration_id.clone(),
                        detail: serde_json::json!({
                            "feedback_id": id,
                            "decided_on": o.decided_on.to_string(),
                            "decision": o.decision,
                            "fraud": o.fraud,
                            "critical_level": o.critical_level,
                            "amount_recovered": o.amount_recovered,
                            "reported_officer": o.reported_officer,
                        }),
                    }),
                )?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    pub fn record(&self, outcome: &Outcome, by: &Actor) -> Result<i64, FeedbackError> {
        let ids = self.record_all(std::slice::from_ref(outcome), by)?;
        Ok(ids.first().copied().unwrap_or_default())
    }

    /// Every record, oldest first (corrections included).
    pub fn all(&self) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        Ok(in_tx(self.store, false, |tx| tx.feedback())?)
    }

    /// The latest record of each of these declarations (the last recorded, corrections
    /// included), in the order of `declaration_ids`; declarations without feedback are absent.
    pub fn latest_of(
        &self,
        declaration_ids: &[String],
    ) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        let mut latest: HashMap<String, FeedbackRecord> = HashMap::new();
        for r in in_tx(self.store, false, |tx| tx.feedback_of(declaration_ids))? {
            // Id order: a later record supersedes an earlier one.
            latest.insert(r.outcome.declaration_id.clone(), r);
        }
        Ok(declaration_ids
            .iter()
            .filter_map(|id| latest.remove(id))
            .collect())
    }

    /// The latest record of each declaration (the last recorded, corrections included),
    /// kept when it was decided on or after `since` (all dates when `None`), ordered by
    /// decision date then declaration id: the outcomes retraining and the monitor use.
    pub fn latest(&self, since: Option<NaiveDate>) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        let mut latest: HashMap<String, FeedbackRecord> = HashMap::new();
        for r in self.all()? {
            match latest.get(&r.outcome.declaration_id) {
                Some(l) if l.id > r.id => {}
                _ => {
                    latest.insert(r.outcome.declaration_id.clone(), r);
                }
            }
        }
        let mut out: Vec<FeedbackRecord> = latest
            .into_values()
            .filter(|r| since.is_none_or(|s| r.outcome.decided_on >= s))
            .collect();
        out.sort_by(|a, b| {
            (a.outcome.decided_on, &a.outcome.declaration_id)
                .cmp(&(b.outcome.decided_on, &b.outcome.declaration_id))
        });
        Ok(out)
    }
}
