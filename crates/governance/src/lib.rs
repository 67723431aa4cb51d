//! Governance and oversight of Borderline's targeting.
//!
//! * [`rules`]: analysts' rules in a small readable language (`when ... then lane ... reason ...`);
//! * [`selectivity`]: the final lane of each declaration from score, rules, a random share and
//!   an exploration share, under a capacity per lane;
//! * [`audit`]: the append-only, hash-chained log of every decision and governance action;
//! * [`registry`]: models with their cards, draft -> approved -> active -> retired, four-eyes
//!   approval, one active model, rollback;
//! * [`monitor`]: population stability (PSI) and hit rates by lane, basis and rule per week;
//! * [`feedback`]: officers' decisions and inspection outcomes.
//!
//! State lives in one SQLite file ([`Store`]). Nothing here depends on how models are trained:
//! the caller passes scores, uncertainties, metrics and model cards in.

pub mod audit;
pub mod feedback;
pub use borderline_core::lane;
pub mod monitor;
pub mod registry;
pub mod rules;
pub mod selectivity;
mod store;

pub use borderline_core::Lane;
pub use store::{Store, StoreError};
