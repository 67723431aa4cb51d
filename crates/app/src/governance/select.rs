//! Lane selection: the final lanes of a batch with the active model, analyst rules, lane
//! capacities and the random and exploration shares, every decision appended to the audit log.
//!
//! Rule fields come from the model ([`Scorer::rule_values`]: its own history features and every
//! module's fields), from the valuation benchmarks given by the caller, and from the screening
//! signal ([`Signal::rule_values`]); nothing here names a feature.

use crate::targeting::Reasons;
use crate::Result;
use borderline_core::{Declaration, Reason, Signal};
use borderline_governance::audit::{
    input_hash, AuditEvent, AuditLog, Decision, DecisionSubject, GovernanceAction,
};
use borderline_governance::registry::ModelEntry;
use borderline_governance::rules::{DeclarationContext, RuleHit, RuleSet};
use borderline_governance::selectivity::{self, score_uncertainty, Basis, Candidate, Policy};
use borderline_governance::{Actor, GovernanceStore, Lane};
use borderline_quality::DataQuality;
use borderline_targeting::modules::ModuleSignal;
use borderline_targeting::score::Scorer;
use borderline_valuation::{Benchmarks, CheckOutcome};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The active model as loaded (and integrity-checked) from the store, ready to score.
#[derive(Clone)]
pub struct ActiveModel {
    pub entry: ModelEntry,
    pub scorer: Arc<Scorer>,
}

impl ActiveModel {
    /// Loads the active model with [`super::models::load_active`].
    pub fn load(store: &dyn GovernanceStore) -> Result<ActiveModel> {
        let (entry, model) = super::models::load_active(store)?;
        Ok(ActiveModel {
            entry,
            scorer: Arc::new(Scorer::new(model)),
        })
    }
}

/// Which analyst rules decide.
#[derive(Clone, Copy)]
pub enum Rules<'a> {
    /// The store's active approved rule set, checked against the audit chain (none active: no
    /// analyst rules).
    Active,
    Given(&'a RuleSet),
}

/// A batch to decide.
pub struct SelectRequest<'a> {
    pub declarations: &'a [Declaration],
    /// What was decided (a file name, a batch id), recorded with the selection in the audit log.
    pub subject: &'a str,
    /// The analyst rules: the store's active approved rule set, or a given one (offline runs,
    /// simulations).
    pub rules: Rules<'a>,
    pub policy: Policy,
    /// Valuation benchmarks for the rule fields and valuation reasons; `None` uses the
    /// benchmarks stored in the model's valuation module, when it has one.
    pub valuation: Option<&'a Benchmarks>,
    /// Watchlist, supplier-network and forced-labour screening of the batch's parties.
    pub screening: Option<&'a dyn Signal>,
    /// Model reasons for declarations in an inspection lane.
    pub reasons: Reasons,
    /// The date the batch is decided as of ("today"; never the batch's own latest date), for
    /// the data-quality reasons every declaration that has one gets, whatever its lane. They do
    /// not move lanes here: lanes of a selection come from the policy and the analysts' rules.
    pub as_of: NaiveDate,
}

/// One declaration's lane and the decision recorded for it.
#[derive(Debug, Clone, Serialize)]
pub struct LaneDecision {
    pub declaration_id: String,
    pub lane: Lane,
    pub basis: Basis,
    pub score: f64,
    /// 1-based rank by score in the batch.
    pub score_rank: usize,
    pub rule_id: Option<String>,
    pub why: String,
    pub reasons: Vec<Reason>,
}

/// [`select`] with the store's active model (loaded and integrity-checked for this batch).
pub fn select_active(
    store: &dyn GovernanceStore,
    by: &Actor,
    req: &SelectRequest<'_>,
) -> Result<SelectOutcome> {
    select(store, by, &ActiveModel::load(store)?, req)
}

/// The outcome of a selection.
#[derive(Debug, Clone, Serialize)]
pub struct SelectOutcome {
    pub model_version: String,
    pub rules_version: String,
    pub rules: usize,
    /// In input order.
    pub decisions: Vec<LaneDecision>,
    /// Declarations per lane.
    pub lanes: BTreeMap<&'static str, usize>,
    /// Audit sequence numbers of the decisions and of the closing selection record.
    pub audit_records: Vec<u64>,
}

impl SelectOutcome {
    /// Declarations whose lane was decided on `basis`.
    pub fn count(&self, basis: Basis) -> usize {
        self.decisions.iter().filter(|d| d.basis == basis).count()
    }

    /// Indices of [`SelectOutcome::decisions`] in working order: inspection lanes first, then
    /// by score rank.
    pub fn working_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.decisions.len()).collect();
        order.sort_by_key(|&i| (self.decisions[i].lane, self.decisions[i].score_rank));
        order
    }
}

/// How little the model knows about a declaration, for exploration: full uncertainty for an
/// importer the model has never seen inspected, else the score's closeness to 0.5.
pub fn uncertainty(probability: f64, rule_fields: &BTreeMap<String, f64>) -> f64 {
    if rule_fields.get("importer_history") == Some(&0.0) {
        1.0
    } else {
        score_uncertainty(probability)
    }
}

/// The rule fields the model fills for `d` (`x` is scratch of the scorer's feature width).
pub fn model_rule_fields(scorer: &Scorer, d: &Declaration, x: &mut [f32]) -> BTreeMap<String, f64> {
    scorer.features(d, x);
    let mut values = Vec::new();
    scorer.rule_values(d, x, &mut values);
    values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Decides the lanes of a batch with `active` and appends one decision record per declaration
/// and a closing selection record to the audit log, in one transaction, as `by`.
pub fn select(
    store: &dyn GovernanceStore,
    by: &Actor,
    active: &ActiveModel,
    req: &SelectRequest<'_>,
) -> Result<SelectOutcome> {
    req.policy.validate()?;
    let stored;
    let rules = match req.rules {
        Rules::Given(r) => r,
        Rules::Active => {
            stored = super::rules::active(store)?;
            &stored
        }
    };
    let scorer = &active.scorer;
    let rows = req.declarations;
    let own_benchmarks = scorer.model().modules.signals.iter().find_map(|m| match m {
        ModuleSignal::Valuation(v) => Some(&v.benchmarks),
        _ => None,
    });
    let benchmarks = req.valuation.or(own_benchmarks);

    let quality = DataQuality::new(req.as_of);
    let scores = scorer.score_block(rows);
    let mut x = vec![0.0f32; scorer.num_features()];
    let mut hits: Vec<Vec<RuleHit>> = Vec::with_capacity(rows.len());
    let mut flags: Vec<Vec<Reason>> = Vec::with_capacity(rows.len());
    let mut unknown = Vec::with_capacity(rows.len());
    for (d, s) in rows.iter().zip(&scores) {
        let mut fields = model_rule_fields(scorer, d, &mut x);
        let mut flagged = Vec::new();
        if let Some(b) = benchmarks {
            // The caller's benchmarks override the model's for the rule fields.
            let c = b.check(d);
            if c.outcome == CheckOutcome::Checked {
                if c.percentile.is_finite() {
                    fields.insert("unit_value_percentile".into(), c.percentile);
                }
                if c.robust_z.is_finite() {
                    fields.insert("valuation_z".into(), c.robust_z);
                }
            }
            if c.flagged {
                flagged = b.reasons(d, &c);
            }
        }
        if let Some(s) = req.screening {
            let mut values = Vec::new();
            s.rule_values(d, &mut values);
            fields.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
            flagged.extend(s.reasons(d));
        }
        flagged.extend(quality.check(d));
        flags.push(flagged);
        let ctx = DeclarationContext {
            declaration: d,
            score: Some(s.probability),
            extra: &fields,
        };
        hits.push(rules.evaluate(&ctx));
        unknown.push(uncertainty(s.probability, &fields));
    }
    let candidates: Vec<Candidate> = rows
        .iter()
        .enumerate()
        .map(|(i, d)| Candidate {
            declaration_id: &d.declaration_id,
            score: scores[i].probability,
            uncertainty: unknown[i],
            rule_hits: &hits[i],
        })
        .collect();
    let selections = selectivity::select(&candidates, &req.policy)?;

    let model_version = active.entry.model.version.clone();
    let rules_version = rules.version().to_string();
    let mut decisions = Vec::with_capacity(rows.len());
    let mut events = Vec::with_capacity(rows.len() + 1);
    // The model reasons of the declarations selected for inspection, explained together.
    let mut explained: Vec<Vec<Reason>> = vec![Vec::new(); rows.len()];
    if let Some(m) = req.reasons.method {
        let wanted: Vec<usize> = (0..rows.len())
            .filter(|&i| selections.get(i).is_some_and(|s| s.lane.is_inspection()))
            .collect();
        let ds: Vec<&Declaration> = rows.iter().collect();
        let model_reasons =
            crate::targeting::explain_selected(scorer, &ds, &wanted, m, req.reasons.top, false);
        for (i, r) in wanted.into_iter().zip(model_reasons) {
            explained[i] = r;
        }
    }
    for (i, (d, sel)) in rows.iter().zip(&selections).enumerate() {
        let mut reasons: Vec<Reason> = hits[i].iter().map(|h| h.reason.clone()).collect();
        reasons.extend(flags[i].iter().cloned());
        reasons.append(&mut explained[i]);
        events.push(AuditEvent::Decision(Decision {
            declaration_id: d.declaration_id.to_string(),
            input_hash: input_hash(d)?,
            model_version: model_version.clone(),
            rules_version: rules_version.clone(),
            score: scores[i].probability,
            lane: sel.lane,
            basis: sel.basis,
            why: sel.why.clone(),
            reasons: reasons.clone(),
            subject: Some(DecisionSubject::of(d)),
        }));
        decisions.push(LaneDecision {
            declaration_id: d.declaration_id.to_string(),
            lane: sel.lane,
            basis: sel.basis,
            score: scores[i].probability,
            score_rank: sel.score_rank,
            rule_id: sel.rule_id.clone(),
            why: sel.why.clone(),
            reasons,
        });
    }
    let mut lanes = BTreeMap::new();
    for l in Lane::ALL {
        lanes.insert(
            l.as_str(),
            selections.iter().filter(|s| s.lane == l).count(),
        );
    }
    events.push(AuditEvent::Governance(GovernanceAction {
        action: "lanes.select".into(),
        subject: req.subject.to_string(),
        detail: serde_json::json!({
            "declarations": rows.len(),
            "model_version": model_version,
            "rules_version": rules_version,
            "policy": req.policy,
            "lanes": lanes,
        }),
    }));
    let audit_records = AuditLog::new(store).append_all(by, &events)?;
    Ok(SelectOutcome {
        model_version,
        rules_version,
        rules: rules.rules().len(),
        decisions,
        lanes,
        audit_records,
    })
}
