use thiserror::Error;

/// Errors of the valuation module. Bad values in a single declaration are not errors: they are
/// data-quality findings of [`crate::Check`].
#[derive(Debug, Error)]
pub enum ValuationError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("benchmark file {path}: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("CSV export: {0}")]
    Csv(#[from] csv::Error),
    #[error("ingest: {0}")]
    Ingest(#[from] borderline_ingest::IngestError),
    #[error("benchmark file {path} has format {found:?}, expected {expected:?}")]
    Format {
        path: String,
        found: String,
        expected: String,
    },
}
