//! Governance and oversight of Borderline's targeting.
//!
//! * [`rules`]: analysts' rules in a small readable language (`when ... then lane ... reason ...`);
//! * [`selectivity`]: the final lane of each declaration from score, rules, a random share and
//!   an exploration share, under a capacity per lane;
//! * [`audit`]: the append-only, hash-chained log of every decision and governance action;
//! * [`registry`]: models with their cards, draft -> approved -> active -> retired, four-eyes
//!   approval, one active model, rollback;
//! * [`monitor`]: population stability (PSI) and hit rates by lane, basis and rule per week;
//! * [`feedback`]: officers' decisions and inspection outcomes;
//! * [`cases`]: the decision index behind inspection queues, and cases taken, escalated and
//!   closed with an outcome by one officer at a time;
//! * [`rulebook`]: rule sets stored with their source, four-eyes approval, one active set, every
//!   state change in the audit chain;
//! * [`network`]: the supplier network kept in the store (trade links and party screening
//!   results, written with each decision);
//! * [`identity`]: local accounts, API tokens and the authorization matrix (`Permission`).
//!
//! State lives behind the store traits of [`store`] ([`GovernanceStore`]): the rules are written
//! here once, and a store (SQLite in `borderline-store-sqlite`) only keeps records. Who acts is an
//! [`Actor`]. Nothing here depends on how models are trained: the caller passes scores,
//! uncertainties, metrics and model cards in.

pub mod actor;
pub mod audit;
pub mod capacity;
pub mod cases;
pub mod checkpoint;
#[cfg(feature = "contract")]
pub mod contract;
pub mod feedback;
pub mod identity;
pub mod integrity;
pub use borderline_core::lane;
pub mod monitor;
pub mod network;
pub mod registry;
pub mod replay;
pub mod rulebook;
pub mod rules;
pub mod selectivity;
pub mod store;

pub use actor::{Actor, Role};
pub use audit::AuditLog;
pub use borderline_core::Lane;
pub use feedback::FeedbackLog;
pub use registry::Registry;
pub use store::{GovernanceStore, StoreError, StoreTx};
