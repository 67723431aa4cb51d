//! Borderline's application core: the use cases every front end calls.
//!
//! The CLI, the HTTP service and the stream workers are thin callers: they turn their input
//! (flags, requests, messages) into the typed inputs here, call one function, and present the
//! typed output. Architecture Invariants:
//! * this crate does not print, read the environment, or know a flag name;
//! * without its `training` feature it links neither LightGBM nor SQLite nor clap: storage comes
//!   in through the governance store traits, chosen by the caller.

pub mod capacity;
pub mod cases;
pub mod decisions;
pub mod declarations;
pub mod demo;
pub mod error;
pub mod governance;
pub mod hs;
pub mod identity;
pub mod network;
pub mod oidc;
pub mod screening;
pub mod selfcheck;
pub mod stream;
pub mod targeting;
#[cfg(feature = "training")]
pub mod training;
pub mod valuation;
pub mod yente;

pub use error::AppError;
pub type Result<T, E = AppError> = std::result::Result<T, E>;

// Types a front end names when it holds the analytic modules' state (a server's lists,
// classifier, benchmarks), so that it needs no direct dependency on those crates.
pub use borderline_hs::{CheckPolicy, Classifier};
pub use borderline_screening::Matcher;
pub use borderline_valuation::Benchmarks;
