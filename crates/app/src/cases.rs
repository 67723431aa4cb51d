//! Inspection cases as use cases: look a case up, take it, escalate it, reassign it (a
//! supervisor), close it with the inspection outcome. Each checks the principal's permission,
//! then one call into `borderline_governance::cases`, where the state machine lives and where
//! each transition and its audit record (in the name of the authenticated actor) commit
//! together.

use crate::identity::require;
use crate::{AppError, Result};
use borderline_core::Declaration;
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
    let (scorer, d) = match rescoring(store, scorer, decision)? {
        Rescoring::Ready(scorer, d) => (scorer, d),
        Rescoring::OtherModel { decided_by, active } => {
            return Ok(CounterfactualView::OtherModel { decided_by, active })
        }
        Rescoring::InputNotStored => return Ok(CounterfactualView::InputNotStored),
    };
    Ok(
        match crate::targeting::counterfactual(scorer, classifier, &d, decision.lane, capacities) {
            Some(result) => CounterfactualView::Computed { result },
            None => CounterfactualView::LowestLane,
        },
    )
}

/// What rescoring a recorded decision needs: the active model when it is the one that
/// decided, and the input stored with the decision.
enum Rescoring<'s> {
    Ready(&'s borderline_targeting::score::Scorer, Box<Declaration>),
    OtherModel {
        decided_by: String,
        active: Option<String>,
    },
    InputNotStored,
}

fn rescoring<'s>(
    store: &dyn GovernanceStore,
    scorer: Option<&'s borderline_targeting::score::Scorer>,
    decision: &Decision,
) -> Result<Rescoring<'s>> {
    let active = scorer.map(|s| s.model().model_id.clone());
    let Some(scorer) = scorer.filter(|s| s.model().model_id == decision.model_version) else {
        return Ok(Rescoring::OtherModel {
            decided_by: decision.model_version.clone(),
            active,
        });
    };
    let Some(body) = borderline_governance::audit::scored_input(store, &decision.input_hash)?
    else {
        return Ok(Rescoring::InputNotStored);
    };
    Ok(Rescoring::Ready(
        scorer,
        Box::new(serde_json::from_str(&body)?),
    ))
}

/// The reasons of a recorded decision computed on demand (a green or blue lane has none
/// recorded), from its stored input and the model that decided.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OnDemandExplanation {
    /// Exact TreeSHAP contributions, strongest first, in customs words.
    Computed {
        reasons: Vec<borderline_core::Reason>,
    },
    /// The active model is not the one that decided: its reasons would not explain this
    /// decision.
    OtherModel {
        decided_by: String,
        active: Option<String>,
    },
    InputNotStored,
}

/// Explains any recorded decision, green included, by rescoring its stored input with the
/// active model when it is the model that decided (exact reasons, the `top` strongest).
/// Readers of decisions only; nothing is recorded (reading is not a decision).
pub fn explain_on_demand(
    store: &dyn GovernanceStore,
    who: &Principal,
    scorer: Option<&borderline_targeting::score::Scorer>,
    decision: &Decision,
    top: usize,
) -> Result<OnDemandExplanation> {
    require(who, Permission::ReadDecisions)?;
    let (scorer, d) = match rescoring(store, scorer, decision)? {
        Rescoring::Ready(scorer, d) => (scorer, d),
        Rescoring::OtherModel { decided_by, active } => {
            return Ok(OnDemandExplanation::OtherModel { decided_by, active })
        }
        Rescoring::InputNotStored => return Ok(OnDemandExplanation::InputNotStored),
    };
    let mut x = vec![0f32; scorer.num_features()];
    scorer.features(&d, &mut x);
    Ok(OnDemandExplanation::Computed {
        reasons: scorer.explain(&d, &x, borderline_targeting::score::Explain::Exact, top),
    })
}

/// The declared unit value on the benchmark distribution of its cell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ValuationEvidence {
    /// Checked against the benchmarks (in their currency, per kg unless a unit basis applies).
    Checked {
        check: Box<crate::valuation::Checked>,
        currency: Option<String>,
    },
    /// The server holds no benchmarks.
    NoBenchmarks,
    /// The declaration as scored was not stored with the decision.
    InputNotStored,
}

/// The declared HS code against the codes the classifier suggests for the goods description.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HsEvidence {
    Checked {
        result: Box<borderline_hs::CheckResult>,
    },
    /// The declaration carries no goods description to classify.
    NoDescription,
    /// No classifier was given to the call.
    NoClassifier,
    InputNotStored,
}

/// One recorded inspection outcome of the importer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PastOutcome {
    pub declaration_id: String,
    pub decided_on: NaiveDate,
    pub decision: String,
    pub fraud: bool,
    pub critical_level: u8,
    pub amount_recovered: Option<f64>,
}

/// The importer's history in the decision index and the feedback log.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImporterHistory {
    pub importer: String,
    /// Declarations with a recorded decision.
    pub decisions: usize,
    /// Decisions per lane (red, yellow, blue, green).
    pub by_lane: Vec<(borderline_core::Lane, usize)>,
    /// Cases per state (pending, in inspection, escalated, outcome recorded).
    pub by_case: Vec<(CaseState, usize)>,
    /// The latest outcome of each of the importer's declarations among the first
    /// `HISTORY_SCAN` of its decisions (riskiest first), most recent first.
    pub outcomes: Vec<PastOutcome>,
    /// How many of its decisions were joined with the feedback log (all, up to `HISTORY_SCAN`).
    pub scanned: usize,
    /// Its riskiest decisions (up to `HISTORY_SHOWN`), this declaration excluded.
    pub riskiest: Vec<crate::decisions::QueueRow>,
}

/// How many of an importer's decisions the case page joins with the feedback log.
pub const HISTORY_SCAN: usize = 2000;
/// How many of an importer's other decisions the case page lists.
pub const HISTORY_SHOWN: usize = 10;

/// One party of the declaration screened against the watchlists.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenedRole {
    /// importer, seller, declarant or courier.
    pub role: &'static str,
    pub party_id: String,
    /// From the party directory; `None`: the directory does not know the party, so it was
    /// not screened.
    pub name: Option<String>,
    pub country: Option<String>,
    /// Watchlist entries matched at or above the threshold, best first, each with the
    /// token-level explanation (which word matched which, and how).
    pub hits: Vec<borderline_screening::Hit>,
    /// A forced-labour region named in the party's address (UFLPA).
    pub region: Option<String>,
}

/// The declaration's parties against the watchlists, and the supplier-network paths from them
/// to listed entities.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ScreeningEvidence {
    Screened {
        parties: Vec<ScreenedRole>,
        /// Shortest paths (up to the screening's hop limit) from the parties to listed
        /// entities; each step names its relation (trade, owner, name match, ...).
        paths: Vec<borderline_screening::ExposurePath>,
    },
    /// The server holds no party directory (`serve --parties FILE`): party ids cannot be
    /// named, so they are not screened.
    NoPartyDirectory,
    InputNotStored,
}

/// What the case page shows beside the decision: the valuation position, the HS check, the
/// parties' screening and the importer's history.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvidence {
    pub valuation: ValuationEvidence,
    pub hs: HsEvidence,
    pub screening: ScreeningEvidence,
    pub history: Option<ImporterHistory>,
}

/// What evidence is computed from, each when the front end holds it.
#[derive(Clone, Copy, Default)]
pub struct EvidenceSources<'a> {
    pub benchmarks: Option<&'a borderline_valuation::Benchmarks>,
    pub classifier: Option<&'a borderline_hs::Classifier>,
    /// The party directory screened and the supplier network built from it
    /// ([`crate::screening::screen_batch`]).
    pub screening: Option<&'a crate::screening::BatchScreening>,
    /// The directory as the stream workers screen with it: adds the paths over trade links
    /// stored after `screening` was built ([`crate::network::NetworkScreening::exposure`]).
    pub network: Option<&'a crate::network::NetworkScreening>,
}

/// The evidence of a recorded decision, from its stored input (and the sources given) and the
/// store's decision index and feedback log. Readers of decisions only (never traders: it shows
/// other declarations of the importer and their outcomes).
pub fn evidence(
    store: &dyn GovernanceStore,
    who: &Principal,
    sources: EvidenceSources<'_>,
    decision: &Decision,
) -> Result<CaseEvidence> {
    require(who, Permission::ReadDecisions)?;
    let EvidenceSources {
        benchmarks,
        classifier,
        screening,
        network,
    } = sources;
    let input: Option<Declaration> =
        match borderline_governance::audit::scored_input(store, &decision.input_hash)? {
            Some(body) => Some(serde_json::from_str(&body)?),
            None => None,
        };
    let valuation = match (benchmarks, &input) {
        (None, _) => ValuationEvidence::NoBenchmarks,
        (_, None) => ValuationEvidence::InputNotStored,
        (Some(b), Some(d)) => ValuationEvidence::Checked {
            check: Box::new(crate::valuation::check_one(b, d)),
            currency: b.currency.clone(),
        },
    };
    let hs = match (classifier, &input) {
        (_, None) => HsEvidence::InputNotStored,
        (None, _) => HsEvidence::NoClassifier,
        (Some(c), Some(d)) => match d.description.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => HsEvidence::Checked {
                result: Box::new(crate::hs::check(
                    c,
                    text,
                    d.hs_code.as_str(),
                    borderline_hs::CheckPolicy::default(),
                )),
            },
            _ => HsEvidence::NoDescription,
        },
    };
    let screening = match (screening, &input) {
        (None, _) => ScreeningEvidence::NoPartyDirectory,
        (_, None) => ScreeningEvidence::InputNotStored,
        (Some(b), Some(d)) => {
            let stored = match network {
                Some(n) => n.exposure(store, d)?,
                None => Vec::new(),
            };
            screened_parties(b, d, stored)
        }
    };
    let importer = input
        .as_ref()
        .map(|d| d.importer.to_string())
        .or_else(|| decision.subject.as_ref().map(|s| s.importer.clone()));
    let history = match importer {
        Some(i) => Some(importer_history(store, &i, &decision.declaration_id)?),
        None => None,
    };
    Ok(CaseEvidence {
        valuation,
        hs,
        screening,
        history,
    })
}

/// The parties' screening from `b`, and the paths of `b`'s network together with `stored`
/// (the paths over links stored since `b` was built), each path once, shortest first.
fn screened_parties(
    b: &crate::screening::BatchScreening,
    d: &Declaration,
    stored: Vec<borderline_screening::ExposurePath>,
) -> ScreeningEvidence {
    let signal = &b.signal;
    let parties = borderline_screening::declaration_parties(d)
        .into_iter()
        .map(|(role, id)| {
            let info = signal.directory().get(id);
            let screen = signal.party_screen(id);
            ScreenedRole {
                role,
                party_id: id.to_string(),
                name: info.map(|p| p.name.clone()),
                country: info.and_then(|p| p.country.clone()),
                hits: screen.map(|s| s.hits.clone()).unwrap_or_default(),
                region: screen
                    .and_then(|s| s.region.as_ref())
                    .map(|r| r.reason_text(&format!("the {role}'s address"))),
            }
        })
        .collect();
    let mut paths = signal.exposure(d);
    for p in stored {
        let known = paths.iter().any(|q| {
            q.role == p.role
                && q.party == p.party
                && q.nodes == p.nodes
                && q.relations == p.relations
        });
        if !known {
            paths.push(p);
        }
    }
    // Stable: the start-up network's order is kept among paths of equal length.
    paths.sort_by_key(|p| p.hops);
    ScreeningEvidence::Screened { parties, paths }
}

fn importer_history(
    store: &dyn GovernanceStore,
    importer: &str,
    this: &str,
) -> Result<ImporterHistory> {
    use crate::decisions::{queue, QueueFilter};
    use borderline_core::Lane;
    let of = |f: QueueFilter| QueueFilter {
        importer: Some(importer.to_string()),
        ..f
    };
    let count = |f: QueueFilter| -> Result<usize> { Ok(queue(store, &of(f), 1, 1)?.total) };
    let mut by_lane = Vec::new();
    for lane in [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green] {
        by_lane.push((
            lane,
            count(QueueFilter {
                lane: Some(lane),
                ..QueueFilter::default()
            })?,
        ));
    }
    let mut by_case = Vec::new();
    for state in [
        CaseState::Pending,
        CaseState::InInspection,
        CaseState::Escalated,
        CaseState::OutcomeRecorded,
    ] {
        by_case.push((
            state,
            count(QueueFilter {
                case_state: Some(state),
                ..QueueFilter::default()
            })?,
        ));
    }
    // The importer's decisions, riskiest first, in pages, up to HISTORY_SCAN.
    const PAGE: usize = 500;
    let mut ids = Vec::new();
    let mut riskiest = Vec::new();
    let mut decisions = 0;
    for page in 1..=HISTORY_SCAN.div_ceil(PAGE) {
        let p = queue(store, &of(QueueFilter::default()), page, PAGE)?;
        decisions = p.total;
        let last = p.rows.len() < PAGE;
        for r in p.rows {
            ids.push(r.decision.declaration_id.clone());
            if riskiest.len() < HISTORY_SHOWN && r.decision.declaration_id != this {
                riskiest.push(r);
            }
        }
        if last {
            break;
        }
    }
    // A decision recorded between two pages can shift a row onto the next page.
    ids.sort_unstable();
    ids.dedup();
    let mut outcomes: Vec<PastOutcome> = borderline_governance::feedback::FeedbackLog::new(store)
        .latest_of(&ids)?
        .into_iter()
        .map(|r| PastOutcome {
            declaration_id: r.outcome.declaration_id,
            decided_on: r.outcome.decided_on,
            decision: r.outcome.decision,
            fraud: r.outcome.fraud,
            critical_level: r.outcome.critical_level,
            amount_recovered: r.outcome.amount_recovered,
        })
        .collect();
    outcomes.sort_by(|a, b| {
        b.decided_on
            .cmp(&a.decided_on)
            .then_with(|| a.declaration_id.cmp(&b.declaration_id))
    });
    Ok(ImporterHistory {
        importer: importer.to_string(),
        decisions,
        by_lane,
        by_case,
        outcomes,
        scanned: ids.len(),
        riskiest,
    })
}
