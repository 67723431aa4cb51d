//! Governance use cases: the model registry (register with a model card, approve under
//! four-eyes, activate, retire, roll back, list), loading the active model with its integrity
//! check, analyst rule sets (validate, upload, approve under four-eyes, activate), lane
//! selection with the active approved rules and capacities, monitoring (drift and hit rates), the
//! selection-policy simulation (feature `training`), the audit log (verify, export) and
//! inspection feedback (record, import, the outcomes recorded since a date for retraining).
//!
//! Every function takes the store as a `&dyn GovernanceStore` chosen by the caller (the CLI
//! opens SQLite; a server holds one behind an `Arc`) and the acting [`Actor`]; none prints or
//! reads the environment.

pub mod audit;
pub mod feedback;
pub mod models;
pub mod monitor;
pub mod rules;
pub mod select;
#[cfg(feature = "training")]
pub mod simulate;

pub use borderline_governance::{Actor, GovernanceStore, Role};
