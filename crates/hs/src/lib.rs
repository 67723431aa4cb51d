//! HS classification support for Borderline.
//!
//! * [`Nomenclature`]: the bundled HS 2022 nomenclature and declared-code validation;
//! * [`Classifier`]: top-k HS6 suggestions with calibrated confidence from a goods description,
//!   declared-code checks, training on labelled history, model files;
//! * [`divergence::HsDivergence`]: a [`borderline_core::Signal`] measuring how unusual a declared
//!   code is for its importer, seller and pair, and whether it looks like tariff engineering;
//! * [`eval`]: the HSCodeComp evaluation with a plain TF-IDF baseline;
//! * [`cli`]: the `borderline hs ...` command group.

pub mod benchmark;
pub mod calibrate;
pub mod classify;
pub mod cli;
pub mod divergence;

pub mod error;
pub mod eval;
pub mod index;
pub mod io;
pub mod model;
pub mod national;
pub mod nomenclature;
pub mod reading;
pub mod references;
pub mod text;
pub mod vague;
pub mod vocab;

pub use classify::{Classification, NationalSuggestion, Outcome};
pub use divergence::{DivergenceConfig, HsDescriptionSignal, HsDivergence};
pub use error::HsError;
pub use model::{CheckPolicy, CheckResult, Classifier, Labelled, Params, Ranking, Suggestion};
pub use nomenclature::{CodeStatus, Level, Nomenclature, PathStep};
