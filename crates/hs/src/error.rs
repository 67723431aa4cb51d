//! Typed errors of the HS module.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HsError {
    #[error("HS nomenclature table is invalid: {0}")]
    Nomenclature(String),
    #[error("vocabulary line {line}: {message}")]
    Vocabulary { line: usize, message: String },
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("model file {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("invalid argument: {0}")]
    Argument(String),
}
