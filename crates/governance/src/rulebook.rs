//! Analyst rule sets under governance: uploaded (a draft) -> approved by someone other than the
//! author -> active -> retired.
//!
//! * A rule set is stored with its source text, keyed by its content version
//!   ([`RuleSet::version`]); the upload is checked against the caller's fields first, so a
//!   stored rule set always parses.
//! * Approval must come from someone other than the author (four-eyes, compared by
//!   [`crate::actor::canonical_id`] through [`Actor::is`]) and carry a reason.
//! * One rule set is active; activating one retires the previous one.
//! * Every state change appends a governance record (`rules.upload`, `rules.approve`,
//!   `rules.activate`, `rules.retire`) in the same transaction. [`Rulebook::active_rules`]
//!   replays those records and refuses an active rule set the chain does not back (its state
//!   set in the database directly, or its source changed after upload): a row changed with SQL
//!   never decides a lane.

use crate::actor::Actor;
use crate::audit::{append_in, AuditEvent, AuditRecord, GovernanceAction};
use crate::registry::sha256_hex;
use crate::rules::{FieldSpec, RuleSet, SyntaxError};
use crate::store::{in_tx, now, GovernanceStore, StoreError, StoreTx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSetState {
    Draft,
    Approved,
    Active,
    Retired,
}

impl RuleSetState {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSetState::Draft => "draft",
            RuleSetState::Approved => "approved",
            RuleSetState::Active => "active",
            RuleSetState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<RuleSetState> {
        Some(match s {
            "draft" => RuleSetState::Draft,
            "approved" => RuleSetState::Approved,
            "active" => RuleSetState::Active,
            "retired" => RuleSetState::Retired,
            _ => return None,
        })
    }
}

impl std::fmt::Display for RuleSetState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSetEntry {
    /// `rules-` + 16 hex digits of the source's SHA-256 (what decisions record).
    pub version: String,
    /// The rule file's text as uploaded.
    pub source: String,
    /// SHA-256 (hex) of `source`.
    pub sha256: String,
    /// Number of rules.
    pub rules: usize,
    pub state: RuleSetState,
    /// Who uploaded it (the author for four-eyes).
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub approved_by: Option<String>,
    pub approval_reason: Option<String>,
    pub approved_at: Option<String>,
    pub activated_at: Option<String>,
    pub retired_at: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulebookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The rule file does not parse or names an unknown field: line and column say where.
    #[error("rule file, {0}")]
    Syntax(#[from] SyntaxError),
    #[error("rule set {0} is already uploaded")]
    AlreadyUploaded(String),
    #[error("no rule set {0}")]
    UnknownRuleSet(String),
    #[error("four-eyes rule: {user} wrote rule set {version} and cannot also approve it; another person must approve")]
    FourEyes { version: String, user: String },
    #[error(
        "rule set {0}: the action needs a reason (approvals and retirements are recorded with one)"
    )]
    ReasonRequired(String),
    #[error("rule set {version} is {from}; it cannot become {to}{hint}")]
    InvalidTransition {
        version: String,
        from: RuleSetState,
        to: RuleSetState,
        hint: &'static str,
    },
    /// The tables say the rule set is active but the audit chain does not back it.
    #[error("rule set {version} is marked active but the audit log does not back it ({problem}); refusing to decide lanes with it (run `borderline audit verify`)")]
    NotBackedByAudit { version: String, problem: String },
}

/// The rule sets of a store.
pub struct Rulebook<'s> {
    store: &'s dyn GovernanceStore,
}

fn require(tx: &mut dyn StoreTx, version: &str) -> Result<RuleSetEntry, RulebookError> {
    tx.rule_set(version)?
        .ok_or_else(|| RulebookError::UnknownRuleSet(version.into()))
}

fn active_in(tx: &mut dyn StoreTx) -> Result<Option<RuleSetEntry>, RulebookError> {
    Ok(tx
        .rule_sets()?
        .into_iter()
        .find(|r| r.state == RuleSetState::Active))
}

fn audit(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    action: &str,
    version: &str,
    detail: serde_json::Value,
) -> Result<(), RulebookError> {
    append_in(
        tx,
        actor,
        &AuditEvent::Governance(GovernanceAction {
            action: action.into(),
            subject: version.into(),
            detail,
        }),
    )?;
    Ok(())
}

impl<'s> Rulebook<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        Rulebook { store }
    }

    /// Every rule set in upload order.
    pub fn list(&self) -> Result<Vec<RuleSetEntry>, RulebookError> {
        Ok(in_tx(self.store, false, |tx| tx.rule_sets())?)
    }

    pub fn get(&self, version: &str) -> Result<RuleSetEntry, RulebookError> {
        in_tx(self.store, false, |tx| require(tx, version))
    }

    /// Parses `source` against `fields` and stores it as a draft written by `by`.
    pub fn upload(
        &self,
        source: &str,
        fields: &'static [FieldSpec],
        by: &Actor,
    ) -> Result<RuleSetEntry, RulebookError> {
        let parsed = RuleSet::parse(source, fields)?;
        let version = parsed.version().to_string();
        let sha256 = sha256_hex(source.as_bytes());
        in_tx(self.store, true, |tx| {
            if tx.rule_set(&version)?.is_some() {
                return Err(RulebookError::AlreadyUploaded(version.clone()));
            }
            let entry = RuleSetEntry {
                version: version.clone(),
                source: source.to_string(),
                sha256: sha256.clone(),
                rules: parsed.rules().len(),
                state: RuleSetState::Draft,
                uploaded_by: by.id.clone(),
                uploaded_at: now(),
                approved_by: None,
                approval_reason: None,
                approved_at: None,
                activated_at: None,
                retired_at: None,
            };
            tx.insert_rule_set(&entry)?;
            audit(
                tx,
                by,
                "rules.upload",
                &version,
                serde_json::json!({"sha256": sha256, "rules": entry.rules}),
            )?;
            Ok(entry)
        })
    }

    /// Approves a draft; refused when `approver` uploaded it or `reason` is empty.
    pub fn approve(
        &self,
        version: &str,
        approver: &Actor,
        reason: &str,
    ) -> Result<RuleSetEntry, RulebookError> {
        in_tx(self.store, true, |tx| {
            let mut r = require(tx, version)?;
            if r.state != RuleSetState::Draft {
                return Err(RulebookError::InvalidTransition {
                    version: version.into(),
                    from: r.state,
                    to: RuleSetState::Approved,
                    hint: " (only drafts are approved)",
                });
            }
            if approver.is(&r.uploaded_by) {
                return Err(RulebookError::FourEyes {
                    version: version.into(),
                    user: approver.id.clone(),
                });
            }
            if reason.trim().is_empty() {
                return Err(RulebookError::ReasonRequired(version.into()));
            }
            r.state = RuleSetState::Approved;
            r.approved_by = Some(approver.id.clone());
            r.approval_reason = Some(reason.to_string());
            r.approved_at = Some(now());
            tx.update_rule_set(&r)?;
            audit(
                tx,
                approver,
                "rules.approve",
                version,
                serde_json::json!({"reason": reason, "uploaded_by": r.uploaded_by}),
            )?;
            Ok(r)
        })
    }

    /// Makes an approved rule set the active one, retiring the previous one. Returns the
    /// version it replaced.
    pub fn activate(&self, version: &str, by: &Actor) -> Result<Option<String>, RulebookError> {
        in_tx(self.store, true, |tx| {
            let mut r = require(tx, version)?;
            if r.state != RuleSetState::Approved {
                return Err(RulebookError::InvalidTransition {
                    version: version.into(),
                    from: r.state,
                    to: RuleSetState::Active,
                    hint: match r.state {
                        RuleSetState::Draft => " before another person approves it",
                        RuleSetState::Retired => " again: upload it anew",
                        _ => "",
                    },
                });
            }
            let at = now();
            let previous = match active_in(tx)? {
                Some(mut p) => {
                    p.state = RuleSetState::Retired;
                    p.retired_at = Some(at.clone());
                    tx.update_rule_set(&p)?;
                    Some(p.version)
                }
                None => None,
            };
            r.state = RuleSetState::Active;
            r.activated_at = Some(at);
            tx.update_rule_set(&r)?;
            audit(
                tx,
                by,
                "rules.activate",
                version,
                serde_json::json!({"replaces": previous}),
            )?;
            Ok(previous)
        })
    }

    /// Retires a rule set (an active one leaves no rule set active).
    pub fn retire(&self, version: &str, by: &Actor, reason: &str) -> Result<(), RulebookError> {
        in_tx(self.store, true, |tx| {
            let mut r = require(tx, version)?;
            if reason.trim().is_empty() {
                return Err(RulebookError::ReasonRequired(version.into()));
            }
            if r.state == RuleSetState::Retired {
                return Err(RulebookError::InvalidTransition {
                    version: version.into(),
                    from: r.state,
                    to: RuleSetState::Retired,
                    hint: "",
                });
            }
            let from = r.state;
            r.state = RuleSetState::Retired;
            r.retired_at = Some(now());
            tx.update_rule_set(&r)?;
            audit(
                tx,
                by,
                "rules.retire",
                version,
                serde_json::json!({"from": from, "reason": reason}),
            )
        })
    }

    /// The active rule set, parsed against `fields`, after checking that the audit chain backs
    /// it (uploaded with this source, approved by someone other than its author, activated and
    /// not since replaced or retired). `None` when no rule set is active, by the tables and by
    /// the chain.
    pub fn active_rules(
        &self,
        fields: &'static [FieldSpec],
    ) -> Result<Option<(RuleSetEntry, RuleSet)>, RulebookError> {
        in_tx(self.store, false, |tx| {
            let recorded = replay_in(tx)?;
            let Some(entry) = active_in(tx)? else {
                return match recorded.active {
                    Some(v) => Err(RulebookError::NotBackedByAudit {
                        version: v,
                        problem: "the audit log gives it as active but the tables hold no active rule set".into(),
                    }),
                    None => Ok(None),
                };
            };
            let refuse = |problem: String| {
                Err(RulebookError::NotBackedByAudit {
                    version: entry.version.clone(),
                    problem,
                })
            };
            if recorded.active.as_deref() != Some(entry.version.as_str()) {
                return refuse(format!(
                    "the audit log gives {} as the active rule set",
                    recorded.active.as_deref().unwrap_or("none")
                ));
            }
            let Some(r) = recorded.sets.get(&entry.version) else {
                return refuse("no audit record uploaded it".into());
            };
            if r.approved_by.is_none() || r.approved_by != entry.approved_by {
                return refuse(format!(
                    "the audit log gives approver {}, the tables {}",
                    r.approved_by.as_deref().unwrap_or("none"),
                    entry.approved_by.as_deref().unwrap_or("none")
                ));
            }
            let sha = sha256_hex(entry.source.as_bytes());
            if sha != r.sha256 {
                return refuse(format!(
                    "its source has SHA-256 {sha}, the audit log recorded {}",
                    r.sha256
                ));
            }
            let parsed = RuleSet::parse(&entry.source, fields)?;
            Ok(Some((entry, parsed)))
        })
    }
}

/// What the audit chain says about one rule set.
#[derive(Debug, Clone)]
struct RecordedRuleSet {
    sha256: String,
    uploaded_by: String,
    approved_by: Option<String>,
    state: RuleSetState,
}

/// The rule sets as the audit chain's `rules.*` records give them: each set's source hash,
/// author, approver and state, and which one is active. A record the rules would not have
/// written (approval by the author, activation of an unapproved set) is not applied.
#[derive(Debug, Default)]
pub struct RecordedRules {
    sets: BTreeMap<String, RecordedRuleSet>,
    active: Option<String>,
}

impl RecordedRules {
    /// Applies one audit record (records other than `rules.*` governance actions are ignored),
    /// in chain order.
    pub fn apply(&mut self, record: &AuditRecord) {
        if record.kind != "governance" {
            return;
        }
        let Ok(g) = serde_json::from_str::<GovernanceAction>(&record.body) else {
            return;
        };
        let v = g.subject;
        match g.action.as_str() {
            "rules.upload" => {
                if let Some(sha) = g.detail.get("sha256").and_then(|s| s.as_str()) {
                    self.sets.entry(v).or_insert(RecordedRuleSet {
                        sha256: sha.to_string(),
                        uploaded_by: record.user.clone(),
                        approved_by: None,
                        state: RuleSetState::Draft,
                    });
                }
            }
            "rules.approve" => {
                if let Some(s) = self.sets.get_mut(&v) {
                    if s.state == RuleSetState::Draft
                        && !crate::actor::same_person(&s.uploaded_by, &record.user)
                    {
                        s.approved_by = Some(record.user.clone());
                        s.state = RuleSetState::Approved;
                    }
                }
            }
            "rules.activate"
                if self
                    .sets
                    .get(&v)
                    .is_some_and(|s| s.state == RuleSetState::Approved) =>
            {
                if let Some(previous) = self.active.take() {
                    if let Some(p) = self.sets.get_mut(&previous) {
                        p.state = RuleSetState::Retired;
                    }
                }
                if let Some(s) = self.sets.get_mut(&v) {
                    s.state = RuleSetState::Active;
                }
                self.active = Some(v);
            }
            "rules.retire" => {
                if let Some(s) = self.sets.get_mut(&v) {
                    s.state = RuleSetState::Retired;
                }
                if self.active.as_deref() == Some(v.as_str()) {
                    self.active = None;
                }
            }
            _ => {}
        }
    }
}

fn replay_in(tx: &mut dyn StoreTx) -> Result<RecordedRules, StoreError> {
    let mut out = RecordedRules::default();
    tx.audit_scan(Some("governance"), &mut |record| {
        out.apply(&record);
        Ok(())
    })?;
    Ok(out)
}

/// A disagreement between the rule-set tables and the rule sets the audit chain gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum RuleSetFinding {
    /// The tables hold a rule set that no `rules.upload` record uploaded.
    Unrecorded {
        version: String,
        state: RuleSetState,
    },
    /// The chain uploaded a rule set the tables no longer hold.
    Missing { version: String },
    /// A field differs between the tables and the chain (`state`, `sha256` of the stored
    /// source, `uploaded_by`, `approved_by`).
    Mismatch {
        version: String,
        field: &'static str,
        recorded: String,
        stored: String,
    },
}

impl std::fmt::Display for RuleSetFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &str| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.to_string()
            }
        };
        match self {
            RuleSetFinding::Unrecorded { version, state } => write!(
                f,
                "rule set {version} is in the tables ({state}) but no audit record uploaded it"
            ),
            RuleSetFinding::Missing { version } => write!(
                f,
                "rule set {version} was uploaded in the audit log but is missing from the tables"
            ),
            RuleSetFinding::Mismatch {
                version,
                field,
                recorded,
                stored,
            } => write!(
                f,
                "rule set {version}: tables' {field} is {} but the audit log gives {}",
                shown(stored),
                shown(recorded)
            ),
        }
    }
}

/// Every disagreement between the stored rule sets and the replayed chain, in upload order
/// of the tables, then the sets only the chain holds. The stored source is hashed, so a rule
/// edited with SQL after its upload is found.
pub fn compare_rule_sets(recorded: &RecordedRules, stored: &[RuleSetEntry]) -> Vec<RuleSetFinding> {
    let mut out = Vec::new();
    for e in stored {
        let Some(r) = recorded.sets.get(&e.version) else {
            out.push(RuleSetFinding::Unrecorded {
                version: e.version.clone(),
                state: e.state,
            });
            continue;
        };
        let fields: [(&'static str, String, String); 4] = [
            ("state", r.state.to_string(), e.state.to_string()),
            ("sha256", r.sha256.clone(), sha256_hex(e.source.as_bytes())),
            ("uploaded_by", r.uploaded_by.clone(), e.uploaded_by.clone()),
            (
                "approved_by",
                r.approved_by.clone().unwrap_or_default(),
                e.approved_by.clone().unwrap_or_default(),
            ),
        ];
        for (field, recorded, stored) in fields {
            if recorded != stored {
                out.push(RuleSetFinding::Mismatch {
                    version: e.version.clone(),
                    field,
                    recorded,
                    stored,
                });
            }
        }
    }
    for v in recorded.sets.keys() {
        if !stored.iter().any(|e| &e.version == v) {
            out.push(RuleSetFinding::Missing { version: v.clone() });
        }
    }
    out
}

/// Replays the chain and compares it with the rule-set tables, in one read transaction.
pub fn rule_set_findings(tx: &mut dyn StoreTx) -> Result<Vec<RuleSetFinding>, StoreError> {
    let recorded = replay_in(tx)?;
    let stored = tx.rule_sets()?;
    Ok(compare_rule_sets(&recorded, &stored))
}
