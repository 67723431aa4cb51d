//! Typed errors of the screening crate. Malformed *lines* of a list are not errors: they are
//! collected as [`crate::model::LoadIssue`]s and the rest of the file is loaded.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid gzip stream: {source}")]
    Gzip {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: XML error near byte {position}: {message}")]
    Xml {
        path: String,
        position: u64,
        message: String,
    },
    #[error("{path}: CSV error: {source}")]
    Csv {
        path: String,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: missing required column {column:?} (header: {header})")]
    MissingColumn {
        path: String,
        column: String,
        header: String,
    },
    #[error("unknown list format {0:?} (expected one of: ofac-csv, un-xml, bis-dpl, csl-csv, simple-csv)")]
    UnknownFormat(String),
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = ScreeningError> = std::result::Result<T, E>;
