//! HS classification support for Borderline.
//!
//! * [`Nomenclature`]: the bundled HS 2022 nomenclature and declared-code validation;
//! * [`Classifier`]: top-k HS6 suggestions with calibrated confidence from a goods description,
//!   declared-code checks, training on labelled history, model files;
//! * [`HsDivergence`]: a [`borderline_core::Signal`] measuring how unusual a declared code is
//!   for its importer, seller and pair, and whether it looks like tariff engineering;
//!   [`HsDescriptionSignal`] checks the declared code against the goods description;
//! * [`io`]: batch and labelled files (CSV or JSON Lines);
//! * [`calibrate`]: the confidence temperatures and the bundled calibration set.
//!
//! Front ends call the use cases of `borderline-app`; the HSCodeComp evaluation with its TF-IDF
//! baseline lives in `borderline-devkit`.

pub mod calibrate;
pub mod chemname;
pub mod classify;
mod divergence;
mod error;
pub mod index;
pub mod io;
pub mod linear;
mod model;
pub mod national;
mod nomenclature;
pub mod quantity;
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
pub use vocab::Vocabulary;
