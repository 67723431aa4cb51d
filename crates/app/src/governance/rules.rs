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
