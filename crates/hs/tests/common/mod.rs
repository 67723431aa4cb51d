//! Classifiers the HS specifications rank with, each built once per test binary.
// Each test binary uses its own subset of these.
#![allow(dead_code)]

use borderline_hs::vocab::Vocabulary;
use borderline_hs::{Classifier, Params};
use std::sync::OnceLock;

/// The bundled vocabulary and nomenclature with `p`, no labelled history.
pub fn build(p: Params) -> Classifier {
    Classifier::build(
        Vocabulary::bundled().expect("bundled vocabulary"),
        Vec::new(),
        p,
    )
    .expect("model builds")
}

/// The shipped classifier (`Classifier::bundled`: the default parameters).
pub fn shipped() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| build(Params::default()))
}
