//! Borderline targeting model: everything needed to load, score and explain a risk model, in pure
//! Rust. Architecture Invariant: this crate never links LightGBM, SQLite, clap or anyhow, so a
//! server or stream worker that only scores builds no C++ and holds the scorer behind an atomic
//! swap ([`score::Scorer`] is owned, `Send + Sync`).

pub mod counterfactual;
pub mod features;
pub mod lane_walk;
pub mod linear_shap;
pub mod metrics;
pub mod model;
pub mod modules;
pub mod quick_scorer;
pub mod score;
pub mod trees;
