//! Analyst rule sets under governance: validate a rule file (errors with line and column),
//! upload it as a draft, approve it under four-eyes, activate it, and the active approved rule
//! set that lane selection uses. State changes are records in the audit chain
//! (`borderline_governance::rulebook`).

use crate::Result;
use borderline_governance::rulebook::{RuleSetEntry, Rulebook};
use borderline_governance::rules::{RuleSet, DECLARATION_FIELDS};
use borderline_governance::{Actor, GovernanceStore};
use serde::Serialize;

/// What a valid rule file holds.
#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    /// The version decisions would record (a content hash).
    pub version: String,
    /// Rule ids in file order.
    pub rules: Vec<String>,
}

/// Parses a rule file against the fields rules may name, storing nothing.
pub fn validate(source: &str) -> Result<Validated> {
    let set = RuleSet::parse(source, DECLARATION_FIELDS).map_err(|e| {
        crate::AppError::Rules(borderline_governance::rulebook::RulebookError::Syntax(e))
    })?;
    Ok(Validated {
        version: set.version().to_string(),
        rules: set.rules().iter().map(|r| r.id.clone()).collect(),
    })
}

/// Stores a rule file as a draft written by `by`.
pub fn upload(store: &dyn GovernanceStore, by: &Actor, source: &str) -> Result<RuleSetEntry> {
    Ok(Rulebook::new(store).upload(source, DECLARATION_FIELDS, by)?)
}

/// Approves a draft rule set (never by its author; a reason is required).
pub fn approve(
    store: &dyn GovernanceStore,
    by: &Actor,
    version: &str,
    reason: &str,
) -> Result<RuleSetEntry> {
    Ok(Rulebook::new(store).approve(version, by, reason)?)
}

/// Activates an approved rule set; returns the version it replaced.
pub fn activate(store: &dyn GovernanceStore, by: &Actor, version: &str) -> Result<Option<String>> {
    Ok(Rulebook::new(store).activate(version, by)?)
}

/// Retires a rule set.
pub fn retire(store: &dyn GovernanceStore, by: &Actor, version: &str, reason: &str) -> Result<()> {
    Ok(Rulebook::new(store).retire(version, by, reason)?)
}

/// Every rule set, in upload order.
pub fn list(store: &dyn GovernanceStore) -> Result<Vec<RuleSetEntry>> {
    Ok(Rulebook::new(store).list()?)
}

/// One rule set with its source.
pub fn get(store: &dyn GovernanceStore, version: &str) -> Result<RuleSetEntry> {
    Ok(Rulebook::new(store).get(version)?)
}

/// The active approved rule set, checked against the audit chain; no active set is no analyst
/// rules ([`RuleSet::empty`], version `rules-none`).
pub fn active(store: &dyn GovernanceStore) -> Result<RuleSet> {
    Ok(Rulebook::new(store)
        .active_rules(DECLARATION_FIELDS)?
        .map(|(_, set)| set)
        .unwrap_or_else(RuleSet::empty))
}

/// One rule of a replayed set: how many declarations it matched, and where the ones it decided
/// went (a rule decides when it is the highest-priority hit; capacities still apply).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleCount {
    pub id: String,
    /// The lane the rule asks for.
    pub lane: borderline_core::Lane,
    pub hits: usize,
    /// Final lane -> declarations this rule decided.
    pub decided: std::collections::BTreeMap<&'static str, usize>,
}

/// One rule set replayed on the period: final lanes and rule counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplayedSet {
    pub version: String,
    /// Declarations per final lane (red, yellow, blue, green).
    pub lanes: Vec<(borderline_core::Lane, usize)>,
    /// Declarations in an inspection lane whose recorded outcome is fraud.
    pub frauds_in_inspection: usize,
    pub rules: Vec<RuleCount>,
}

/// A rule set replayed on the declarations of a recent period, beside the active set.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Replay {
    pub model_version: String,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Declarations replayed (decisions of the period whose input was stored).
    pub declarations: usize,
    /// Decisions of the period without a stored input (not replayed).
    pub without_input: usize,
    /// True when the period had more than [`REPLAY_CAP`] decisions (the riskiest were replayed).
    pub capped: bool,
    /// Declarations with a recorded outcome among those replayed, and how many were fraud.
    pub with_outcome: usize,
    pub frauds: usize,
    pub candidate: ReplayedSet,
    pub active: ReplayedSet,
}

/// The most declarations a replay reads from the decision index.
pub const REPLAY_CAP: usize = 5000;

/// Replays rule set `version` and the active one on the declarations decided in `[from, to]`
/// (as scored, read back from the store), with the active model and the default lane policy:
/// nothing is recorded. Analysts (who write rules) and supervisors (who approve them).
pub fn replay(
    store: &dyn GovernanceStore,
    who: &borderline_governance::identity::Principal,
    version: &str,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<Replay> {
    use borderline_governance::identity::Permission;
    use borderline_governance::rules::DeclarationContext;
    use borderline_governance::selectivity::{self, Candidate, Policy};
    if !who.may(Permission::ApproveRules) {
        crate::identity::require(who, Permission::WriteRules)?;
    }
    let entry = get(store, version)?;
    let candidate = RuleSet::parse(&entry.source, DECLARATION_FIELDS).map_err(|e| {
        crate::AppError::Rules(borderline_governance::rulebook::RulebookError::Syntax(e))
    })?;
    let current = active(store)?;
    let model = super::select::ActiveModel::load(store)?;
    // The period's decisions from the index (riskiest first), and their stored inputs.
    let filter = crate::decisions::QueueFilter {
        from,
        to,
        ..Default::default()
    };
    const PAGE: usize = 500;
    let mut rows = Vec::new();
    let (mut without_input, mut total) = (0, 0);
    for page in 1..=REPLAY_CAP.div_ceil(PAGE) {
        let p = crate::decisions::queue(store, &filter, page, PAGE)?;
        total = p.total;
        let last = p.rows.len() < PAGE;
        for r in p.rows {
            match borderline_governance::audit::scored_input(store, &r.decision.input_hash)? {
                Some(body) => {
                    rows.push(serde_json::from_str::<borderline_core::Declaration>(&body)?)
                }
                None => without_input += 1,
            }
        }
        if last {
            break;
        }
    }
    let outcomes: std::collections::HashMap<String, bool> =
        borderline_governance::feedback::FeedbackLog::new(store)
            .latest(None)?
            .into_iter()
            .map(|r| (r.outcome.declaration_id, r.outcome.fraud))
            .collect();
    let scorer = &model.scorer;
    let benchmarks = scorer.model().modules.signals.iter().find_map(|m| match m {
        borderline_targeting::modules::ModuleSignal::Valuation(v) => Some(&v.benchmarks),
        _ => None,
    });
    let scores = scorer.score_block(&rows);
    let mut x = vec![0.0f32; scorer.num_features()];
    let mut fields = Vec::with_capacity(rows.len());
    for d in &rows {
        let mut f = super::select::model_rule_fields(scorer, d, &mut x);
        if let Some(b) = benchmarks {
            let c = b.check(d);
            if c.outcome == borderline_valuation::CheckOutcome::Checked {
                if c.percentile.is_finite() {
                    f.insert("unit_value_percentile".into(), c.percentile);
                }
                if c.robust_z.is_finite() {
                    f.insert("valuation_z".into(), c.robust_z);
                }
            }
        }
        fields.push(f);
    }
    let run = |set: &RuleSet| -> Result<ReplayedSet> {
        let hits: Vec<_> = rows
            .iter()
            .zip(&scores)
            .zip(&fields)
            .map(|((d, s), f)| {
                set.evaluate(&DeclarationContext {
                    declaration: d,
                    score: Some(s.probability),
                    extra: f,
                })
            })
            .collect();
        let candidates: Vec<Candidate> = rows
            .iter()
            .enumerate()
            .map(|(i, d)| Candidate {
                declaration_id: &d.declaration_id,
                score: scores[i].probability,
                uncertainty: super::select::uncertainty(scores[i].probability, &fields[i]),
                rule_hits: &hits[i],
            })
            .collect();
        let selections = selectivity::select(&candidates, &Policy::default())?;
        let mut rules: Vec<RuleCount> = set
            .rules()
            .iter()
            .map(|r| RuleCount {
                id: r.id.clone(),
                lane: r.lane,
                hits: hits
                    .iter()
                    .filter(|h| h.iter().any(|h| h.rule_id == r.id))
                    .count(),
                decided: Default::default(),
            })
            .collect();
        let mut lanes: std::collections::BTreeMap<borderline_core::Lane, usize> =
            Default::default();
        let mut frauds_in_inspection = 0;
        for (d, s) in rows.iter().zip(&selections) {
            *lanes.entry(s.lane).or_default() += 1;
            if s.lane.is_inspection()
                && outcomes.get(d.declaration_id.as_str()).copied() == Some(true)
            {
                frauds_in_inspection += 1;
            }
            if let Some(r) = s
                .rule_id
                .as_ref()
                .and_then(|id| rules.iter_mut().find(|r| &r.id == id))
            {
                *r.decided.entry(s.lane.as_str()).or_default() += 1;
            }
        }
        use borderline_core::Lane;
        Ok(ReplayedSet {
            version: set.version().to_string(),
            lanes: [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green]
                .into_iter()
                .map(|l| (l, lanes.get(&l).copied().unwrap_or(0)))
                .collect(),
            frauds_in_inspection,
            rules,
        })
    };
    let with: Vec<bool> = rows
        .iter()
        .filter_map(|d| outcomes.get(d.declaration_id.as_str()).copied())
        .collect();
    Ok(Replay {
        model_version: model.entry.model.version.clone(),
        from,
        to,
        declarations: rows.len(),
        without_input,
        capped: total > REPLAY_CAP,
        with_outcome: with.len(),
        frauds: with.iter().filter(|f| **f).count(),
        candidate: run(&candidate)?,
        active: run(&current)?,
    })
}
