//! Inspection cases as use cases: look a case up, take it, escalate it, reassign it (a
//! supervisor), close it with the inspection outcome. Each checks the principal's permission,
//! then one call into `borderline_governance::cases`, where the state machine lives and where
//! each transition and its audit record (in the name of the authenticated actor) commit
//! together.

use crate::identity::require;
use crate::{AppError, Result};
use borderline_governance::audit::{AuditEvent, Decision};
use borderline_governance::cases::{CaseRecord, CaseState, Cases};
use borderline_governance::feedback::Outcome;
use borderline_governance::identity::{IdentityError, Permission, Principal};
use borderline_governance::GovernanceStore;
use chrono::NaiveDate;
use serde::Serialize;

/// What a counterfactual search finds (from the model crate), for front ends to present.
pub use borderline_targeting::counterfactual::{Candidate, Change, Counterfactual};

/// A case as a page or a response shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseView {
    pub decision: Decision,
    pub recorded_at: String,
    pub recorded_by: String,
    pub state: CaseState,
    pub case: Option<CaseRecord>,
}

/// The case of a declaration (`None`: no decision is recorded for it).
pub fn view(store: &dyn GovernanceStore, who: &Principal, id: &str) -> Result<Option<CaseView>> {
    require(who, Permission::ReadDecisions)?;
    let Some((hit, state)) = Cases::new(store).get(id)? else {
        return Ok(None);
    };
    let decision = match hit.record.event()? {
        AuditEvent::Decision(d) => d,
        AuditEvent::Governance(_) => {
            return Err(AppError::Invalid(format!(
                "the decision index of {id} points at a record that is not a decision"
            )))
        }
    };
    Ok(Some(CaseView {
        decision,
        recorded_at: hit.record.recorded_at,
        recorded_by: hit.record.user,
        state,
        case: hit.case,
    }))
}

/// The officer takes the case (refused, naming the holder, when someone else holds it).
pub fn take(store: &dyn GovernanceStore, who: &Principal, id: &str) -> Result<CaseRecord> {
    require(who, Permission::RecordOutcomes)?;
    Ok(Cases::new(store).take(&who.actor, id)?)
}

/// The holder escalates the case to a supervisor with a note.
pub fn escalate(
    store: &dyn GovernanceStore,
    who: &Principal,
    id: &str,
    note: &str,
) -> Result<CaseRecord> {
    require(who, Permission::RecordOutcomes)?;
    Ok(Cases::new(store).escalate(&who.actor, id, note)?)
}

/// A supervisor gives the case to officer `to`, who must be an active account allowed to
/// record outcomes.
pub fn reassign(
    store: &dyn GovernanceStore,
    who: &Principal,
    id: &str,
    to: &str,
) -> Result<CaseRecord> {
    require(who, Permission::AssignCases)?;
    let target = match crate::identity::reauthenticate(store, to) {
        Ok(t) => t,
        Err(AppError::Identity(IdentityError::Unauthenticated)) => {
            return Err(AppError::Field {
                field: "to".into(),
                problem: format!("{to:?} is not an active account"),
            })
        }
        Err(e) => return Err(e),
    };
    if !target.may(Permission::RecordOutcomes) {
        return Err(AppError::Field {
            field: "to".into(),
            problem: format!(
                "{} is not an officer: only officers work cases",
                target.actor.id
            ),
        });
    }
    Ok(Cases::new(store).reassign(&who.actor, id, &target.actor.id)?)
}

/// The officer's decision on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Inspected (the outcome says what was found).
    Inspect,
    /// Released without inspection (nothing found, by definition).
    Release,
}

/// What the decision form records.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    pub disposition: Disposition,
    pub fraud: bool,
    /// 0 none, 1 fraud, 2 critical fraud.
    pub critical_level: u8,
    pub amount_recovered: Option<f64>,
    pub note: Option<String>,
    pub decided_on: NaiveDate,
}

/// The holder closes the case: the outcome becomes a feedback record, and the case, the
/// feedback and their audit records commit together.
pub fn close(
    store: &dyn GovernanceStore,
    who: &Principal,
    id: &str,
    c: &Closing,
) -> Result<CaseRecord> {
    require(who, Permission::RecordOutcomes)?;
    if c.disposition == Disposition::Release && (c.fraud || c.amount_recovered.is_some()) {
        return Err(AppError::Field {
            field: "decision".into(),
            problem: "a released declaration was not inspected: it has no fraud finding or amount recovered".into(),
        });
    }
    let outcome = Outcome {
        declaration_id: id.to_string(),
        decided_on: c.decided_on,
        decision: match c.disposition {
            Disposition::Inspect => "inspected",
            Disposition::Release => "released",
        }
        .into(),
        fraud: c.fraud,
        critical_level: c.critical_level,
        amount_recovered: c.amount_recovered,
        note: c.note.clone().filter(|n| !n.trim().is_empty()),
        reported_officer: who.actor.id.clone(),
    };
    Ok(Cases::new(store).close(&who.actor, &outcome)?)
}

/// What the case page can say about "what would have changed the lane".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CounterfactualView {
    /// Computed on the stored input with the model that decided it.
    Computed { result: Counterfactual },
    /// Blue and green: no lower lane to reach by score.
    LowestLane,
    /// The declaration as scored was not stored with the decision (a stream decision, an older
    /// record).
    InputNotStored,
    /// The model that decided is not the active one: rescoring with another model would not
    /// explain this decision.
    OtherModel {
        decided_by: String,
        active: Option<String>,
    },
}

/// "What would have changed the lane" of a recorded decision, by rescoring the stored input
/// with the active model when it is the model that decided. Officers, supervisors, auditors
/// (who read decisions); never traders.
pub fn counterfactual(
    store: &dyn GovernanceStore,
    who: &Principal,
    scorer: Option<&borderline_targeting::score::Scorer>,
    classifier: Option<&borderline_hs::Classifier>,
    decision: &Decision,
    capacities: crate::targeting::Capacities,
) -> Result<CounterfactualView> {
    require(who, Permission::ReadDecisions)?;
    if matches!(
        decision.lane,
        borderline_core::Lane::Blue | borderline_core::Lane::Green
    ) {
        return Ok(CounterfactualView::LowestLane);
    }
    let active = scorer.map(|s| s.model().model_id.clone());
    let Some(scorer) = scorer.filter(|s| s.model().model_id == decision.model_version) else {
        return Ok(CounterfactualView::OtherModel {
            decided_by: decision.model_version.clone(),
            active,
        });
    };
    let Some(body) = borderline_governance::audit::scored_input(store, &decision.input_hash)?
    else {
        return Ok(CounterfactualView::InputNotStored);
    };
    let d: borderline_core::Declaration = serde_json::from_str(&body)?;
    Ok(
        match crate::targeting::counterfactual(scorer, classifier, &d, decision.lane, capacities) {
            Some(result) => CounterfactualView::Computed { result },
            None => CounterfactualView::LowestLane,
        },
    )
}
