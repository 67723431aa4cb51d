//! Borderline training: the only crate that links LightGBM.
//!
//! [`train::train`] turns declarations with inspection outcomes into a
//! [`borderline_targeting::model::ModelArtefact`]; everything needed to load, score and explain
//! that artefact lives in `borderline-targeting`, which never links LightGBM (Architecture
//! Invariant: a process that only scores builds no C++).

pub mod train;

pub use train::{bag_seeds, merge_bag, train, TrainConfig, TrainError};
