//! The one place errors become HTTP responses: RFC 9457 problem details
//! (`application/problem+json`), naming the field for invalid input. A server-side failure
//! (store, I/O) is logged with its cause and answered with a generic 500 body: no internals,
//! no declaration contents.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use borderline_app::AppError;
use borderline_governance::cases::CaseError;
use borderline_governance::identity::IdentityError;
use borderline_governance::registry::RegistryError;
use borderline_governance::rulebook::RulebookError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` for plain HTTP statuses).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The invalid input field (a JSON path such as `declaration.hs_code`), when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Where in a rule file the problem is (1-based), for rule files that do not parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// The request id (also in the `x-request-id` header and the server's logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub detail: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
    /// Line and column in a rule file.
    pub at: Option<(u64, u64)>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            field: None,
            retry_after: None,
            at: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into()).filter(|f: &String| !f.is_empty() && f != ".");
        self
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid API token is required: Authorization: Bearer TOKEN",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", detail).field(field)
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed on the server side");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; see its log under this request id",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::Identity(i) => match i {
                IdentityError::Unauthenticated => ApiError::unauthenticated(),
                IdentityError::Forbidden { .. } => {
                    ApiError::new(S::FORBIDDEN, "forbidden", i.to_string())
                }
                IdentityError::Invalid { field, .. } => ApiError::invalid(field, i.to_string()),
                IdentityError::Duplicate(_) | IdentityError::AlreadyBootstrapped => {
                    ApiError::new(S::CONFLICT, "conflict", i.to_string())
                }
                IdentityError::NoAccount(_) | IdentityError::NoToken(_) => {
                    ApiError::not_found(i.to_string())
                }
                other => ApiError::internal(&other),
            },
            AppError::Field { field, problem } => ApiError::invalid(&field, problem),
            AppError::Invalid(detail) => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid-input", detail)
            }
            AppError::Unavailable(detail) => {
                ApiError::new(S::SERVICE_UNAVAILABLE, "unavailable", detail)
            }
            AppError::Registry(r) => match r {
                RegistryError::UnknownModel(_) => ApiError::not_found(r.to_string()),
                RegistryError::NoActiveModel => {
                    ApiError::new(S::SERVICE_UNAVAILABLE, "no-active-model", r.to_string())
                }
                RegistryError::ReasonRequired(_) => ApiError::invalid("reason", r.to_string()),
                RegistryError::FourEyes { .. }
                | RegistryError::InvalidTransition { .. }
                | RegistryError::NothingToRollBackTo
                | RegistryError::NothingActiveToRollBack
                | RegistryError::AlreadyRegistered(_) => {
                    ApiError::new(S::CONFLICT, "conflict", r.to_string())
                }
                other => ApiError::internal(&other),
            },
            AppError::Rules(r) => match r {
                RulebookError::Syntax(e) => {
                    let mut a = ApiError::invalid("source", e.to_string());
                    a.at = Some((e.line as u64, e.column as u64));
                    a
                }
                RulebookError::UnknownRuleSet(_) => ApiError::not_found(r.to_string()),
                RulebookError::ReasonRequired(_) => ApiError::invalid("reason", r.to_string()),
                RulebookError::FourEyes { .. }
                | RulebookError::InvalidTransition { .. }
                | RulebookError::AlreadyUploaded(_) => {
                    ApiError::new(S::CONFLICT, "conflict", r.to_string())
                }
                RulebookError::NotBackedByAudit { .. } => {
                    ApiError::new(S::SERVICE_UNAVAILABLE, "rules-not-backed", r.to_string())
                }
                other => ApiError::internal(&other),
            },
            AppError::Policy(p) => {
                use borderline_governance::selectivity::PolicyError;
                let field = match &p {
                    PolicyError::OutOfRange { name, .. } => format!("{name}_percent"),
                    PolicyError::OverCommitted(_) => "blue_percent".into(),
                    PolicyError::ReservationExceedsRed { .. } => "random_percent".into(),
                };
                ApiError::invalid(&field, p.to_string())
            }
            AppError::Feedback(f) => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid-input", f.to_string())
            }
            AppError::Case(c) => match c {
                CaseError::NoDecision(_) => ApiError::not_found(c.to_string()),
                CaseError::Held { .. }
                | CaseError::WrongState { .. }
                | CaseError::NotHolder { .. } => {
                    ApiError::new(S::CONFLICT, "conflict", c.to_string())
                }
                CaseError::Invalid { field, .. } => ApiError::invalid(field, c.to_string()),
                CaseError::Feedback(_) => {
                    ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid-input", c.to_string())
                }
                CaseError::Store(_) => ApiError::internal(&c),
            },
            AppError::Actor(a) => ApiError::invalid("actor", a.to_string()),
            AppError::Model(m) => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid-input", m.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let body = Problem {
            kind: format!("https://borderline.invalid/problems/{}", self.kind),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            field: self.field,
            line: self.at.map(|a| a.0),
            column: self.at.map(|a| a.1),
            request_id: crate::ops::current_request_id(),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
