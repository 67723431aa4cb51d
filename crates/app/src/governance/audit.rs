//! The audit log as use cases.

use crate::Result;
use borderline_governance::audit::{AuditLog, Verification};
use borderline_governance::GovernanceStore;
use std::io::Write;

/// Walks the hash chain; reports the first break.
pub fn verify(store: &dyn GovernanceStore) -> Result<Verification> {
    Ok(AuditLog::new(store).verify()?)
}

/// Writes every record as JSON Lines; returns how many.
pub fn export(store: &dyn GovernanceStore, out: &mut dyn Write) -> Result<u64> {
    Ok(AuditLog::new(store).export_jsonl(out)?)
}
