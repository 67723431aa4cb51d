//! Borderline's shared vocabulary: the customs [`Declaration`], its [`InspectionOutcome`],
//! and the [`Signal`] interface through which every analytic module (history-based risk,
//! valuation, HS classification, screening, analyst rules) contributes model features and
//! officer-readable [`Reason`]s.
//!
//! This crate has no I/O and few dependencies so that every other crate can depend on it.

mod declaration;
pub mod lane;
pub mod metrics;
mod signal;

pub use declaration::{
    amount_shown, currency_shown, Declaration, HsCode, HsCodeError, InspectionOutcome, Text,
};
pub use lane::Lane;
pub use signal::{FeatureDef, Reason, ReasonKind, RuleFieldDef, Signal};
