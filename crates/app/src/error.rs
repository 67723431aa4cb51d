//! Errors of the application core: one type, so that each front end maps them to its own
//! presentation (an exit message, an HTTP problem response) in one place.

/// Why a use case could not complete. Row-level input problems are not errors (they are
/// quarantined rows, reported in the outcome); these are.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Ingest(#[from] borderline_ingest::IngestError),
    #[error(transparent)]
    Profile(#[from] borderline_ingest::ProfileError),
    #[error(transparent)]
    Model(#[from] borderline_targeting::model::ModelError),
    #[error(transparent)]
    Screening(#[from] borderline_screening::ScreeningError),
    #[error(transparent)]
    Valuation(#[from] borderline_valuation::ValuationError),
    #[error(transparent)]
    Hs(#[from] borderline_hs::HsError),
    #[cfg(feature = "training")]
    #[error(transparent)]
    Training(#[from] borderline_training::TrainError),
    #[error(transparent)]
    Store(#[from] borderline_governance::StoreError),
    #[error(transparent)]
    Registry(#[from] borderline_governance::registry::RegistryError),
    /// A rule file that does not parse (line and column), or a refused rule-set change.
    #[error(transparent)]
    Rules(#[from] borderline_governance::rulebook::RulebookError),
    #[error(transparent)]
    Feedback(#[from] borderline_governance::feedback::FeedbackError),
    /// An inspection case refused a transition (held by someone else, wrong state).
    #[error(transparent)]
    Case(#[from] borderline_governance::cases::CaseError),
    #[error(transparent)]
    Actor(#[from] borderline_governance::actor::ActorError),
    /// Authentication failed, or the actor may not do this.
    #[error(transparent)]
    Identity(#[from] borderline_governance::identity::IdentityError),
    #[error(transparent)]
    Policy(#[from] borderline_governance::selectivity::PolicyError),
    /// A record could not be serialised (e.g. a declaration hashed for the audit log).
    #[error("cannot serialise a record: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error(transparent)]
    AuditExport(#[from] borderline_governance::audit::ExportError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Every row of an input was quarantined.
    #[error("no row of {file} was accepted: all {read} rows were quarantined{detail}")]
    NothingAccepted {
        file: String,
        read: u64,
        detail: String,
    },
    /// One field of the input is invalid: `field` is its path (e.g. `[0].hs_code`).
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    /// A resource the use case needs is not there yet (e.g. no active model).
    #[error("{0}")]
    Unavailable(String),
    /// The request is well-formed but cannot be honoured (e.g. contradictory options).
    #[error("{0}")]
    Invalid(String),
}

impl AppError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppError {
        let what = what.into();
        move |source| AppError::Io { what, source }
    }
}
