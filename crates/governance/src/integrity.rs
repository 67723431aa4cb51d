//! Everything `audit verify` checks, in one pass over the store: the hash chain
//! ([`crate::audit::Verifier`]), the registry tables against the registry state replayed from
//! the chain ([`crate::replay`]), the analyst rule-set tables against the rule sets replayed
//! from the chain ([`crate::rulebook`]), and, when a witness file is given, the signed checkpoints
//! ([`crate::checkpoint`]).

use crate::audit::{Verification, Verifier};
use crate::checkpoint::{Checkpoint, CheckpointReport, PublicKey, WitnessCheck};
use crate::replay::{compare, RecordedRegistry, RegistryFinding};
use crate::rulebook::{compare_rule_sets, RecordedRules, RuleSetFinding};
use crate::store::{in_tx, GovernanceStore, StoreError};
use serde::Serialize;

/// The outcome of verifying a governance store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// The hash chain itself (flattened in JSON: `status`, `records`, `head` or `seq`, ...).
    #[serde(flatten)]
    pub chain: Verification,
    /// Disagreements between the registry tables and the chain (empty when they agree).
    pub registry: Vec<RegistryFinding>,
    /// Disagreements between the analyst rule-set tables and the chain (empty when they agree).
    pub rule_sets: Vec<RuleSetFinding>,
    /// The witness file's checkpoints, when one was given.
    pub checkpoints: Option<CheckpointReport>,
}

impl AuditReport {
    /// True when the chain is intact, the registry agrees with it, and every checkpoint holds.
    pub fn holds(&self) -> bool {
        matches!(self.chain, Verification::Intact { .. })
            && self.registry.is_empty()
            && self.rule_sets.is_empty()
            && self
                .checkpoints
                .as_ref()
                .is_none_or(|c| c.findings.is_empty())
    }
}

impl std::fmt::Display for AuditReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.chain)?;
        if self.registry.is_empty() {
            write!(f, "\nmodel registry agrees with the audit log")?;
        } else {
            write!(
                f,
                "\nmodel registry disagrees with the audit log ({} findings):",
                self.registry.len()
            )?;
            for finding in &self.registry {
                write!(f, "\n  {finding}")?;
            }
        }
        if self.rule_sets.is_empty() {
            write!(f, "\nanalyst rule sets agree with the audit log")?;
        } else {
            write!(
                f,
                "\nanalyst rule sets disagree with the audit log ({} findings):",
                self.rule_sets.len()
            )?;
            for finding in &self.rule_sets {
                write!(f, "\n  {finding}")?;
            }
        }
        match &self.checkpoints {
            None => write!(
                f,
                "\nno witness file given: truncation or a full rewrite cannot be ruled out (audit verify --witness FILE --public-key FILE)"
            )?,
            Some(c) if c.findings.is_empty() => write!(
                f,
                "\n{} signed checkpoints hold (first {} records vouched for)",
                c.checked, c.covered
            )?,
            Some(c) => {
                write!(
                    f,
                    "\n{} of {} signed checkpoints fail:",
                    c.findings.len(),
                    c.checked
                )?;
                for finding in &c.findings {
                    write!(f, "\n  {finding}")?;
                }
            }
        }
        Ok(())
    }
}

/// Verifies the chain, replays the registry from it and compares, and checks `witness`
/// checkpoints against the chain when given; all in one read transaction.
pub fn verify_store(
    store: &dyn GovernanceStore,
    witness: Option<(&[Checkpoint], &PublicKey)>,
) -> Result<AuditReport, StoreError> {
    in_tx(store, false, |tx| {
        let mut chain = Verifier::default();
        let mut registry = RecordedRegistry::default();
        let mut rules = RecordedRules::default();
        let mut checkpoints = witness.map(|(c, k)| WitnessCheck::new(c, k));
        tx.audit_scan(None, &mut |r| {
            chain.push(&r);
            if let Some(w) = checkpoints.as_mut() {
                w.push(&r);
            }
            registry.apply(&r);
            rules.apply(&r);
            Ok(())
        })?;
        let stored = tx.models()?;
        Ok(AuditReport {
            chain: chain.finish(),
            registry: compare(&registry, &stored),
            rule_sets: compare_rule_sets(&rules, &tx.rule_sets()?),
            checkpoints: checkpoints.map(WitnessCheck::finish),
        })
    })
}
