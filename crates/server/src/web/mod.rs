//! The web application: server-rendered pages (maud templates, inline SVG charts, our own
//! stylesheet) served beside the API by `borderline serve`.
//!
//! Architecture Invariant: pages hold no workflow. Each handler finds the session's principal,
//! checks the permission matrix through `borderline_app::identity::require`, makes one call into
//! `borderline_app` (on the blocking pool) and renders its typed output. The session's actor is
//! the one the application records in the audit log. Every state-changing form carries the
//! session's synchronizer CSRF token. No page loads anything from outside this server.

mod oversight;
mod pages;
pub mod session;
mod svg;

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use borderline_app::AppError;
use borderline_governance::identity::{Permission, Principal};
use maud::{html, Markup, DOCTYPE};
use session::Session;
use std::sync::Arc;

/// The pages and their static assets (merged into the server's router).
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/static/style.css", get(stylesheet))
        .route("/sign-in", get(pages::sign_in_form).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/app", get(pages::home))
        .route("/app/queue", get(pages::queue))
        .route("/app/cases/{id}", get(pages::case))
        .route("/app/cases/{id}/take", post(pages::take))
        .route("/app/cases/{id}/escalate", post(pages::escalate))
        .route("/app/cases/{id}/reassign", post(pages::reassign))
        .route("/app/cases/{id}/close", post(pages::close))
        .route("/app/models", get(pages::models))
        .route("/app/models/rollback", post(pages::rollback))
        .route("/app/models/{version}/approve", post(pages::approve))
        .route("/app/models/{version}/activate", post(pages::activate))
        .route("/app/audit", get(pages::audit))
        .route("/app/audit/export.csv", get(pages::audit_csv))
        .route(
            "/app/rules",
            get(oversight::rules).post(oversight::rules_upload),
        )
        .route("/app/rules/validate", post(oversight::rules_validate))
        .route(
            "/app/rules/{version}/approve",
            post(oversight::rules_approve),
        )
        .route(
            "/app/rules/{version}/activate",
            post(oversight::rules_activate),
        )
        .route("/app/rules/{version}/replay", get(oversight::rules_replay))
        .route(
            "/app/monitoring",
            get(oversight::monitoring).post(oversight::monitoring_run),
        )
        .route(
            "/app/self-check",
            get(pages::self_check_form).post(pages::self_check),
        )
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("style.css"),
    )
        .into_response()
}

/// A page's failure, shown as a page (or a redirect to sign in).
#[derive(Debug)]
pub enum WebError {
    /// No live signed-in session: go to the sign-in page.
    SignIn,
    /// A state-changing form without the session's CSRF token.
    Csrf,
    /// What the application refused or failed, with its HTTP status and plain words.
    Refused(ApiError),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::Refused(ApiError::from(e))
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError::Refused(e)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match self {
            WebError::SignIn => return Redirect::to("/sign-in").into_response(),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form refused",
                "this form did not carry this session's security token; reload the page and try again"
                    .to_string(),
            ),
            WebError::Refused(e) => {
                let title = match e.status {
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::CONFLICT => "Refused",
                    s if s.is_server_error() => "Server error",
                    _ => "Cannot do that",
                };
                (e.status, title, e.detail)
            }
        };
        let body = bare_page(
            title,
            html! {
                h1 { (title) }
                p.refusal role="alert" { (detail) }
                p { a href="/app" { "Back to the start page" } }
            },
        );
        (status, body).into_response()
    }
}

/// The signed-in session of a page request.
pub struct SignedIn {
    pub id: String,
    pub session: Session,
    pub who: Principal,
}

impl SignedIn {
    /// Refuses unless the principal's roles allow `p` (the same matrix as the API).
    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        Ok(borderline_app::identity::require(&self.who, p)?)
    }

    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        if session::same_token(&self.session.csrf, token) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, WebError> {
        let id = session::cookie_id(&parts.headers).ok_or(WebError::SignIn)?;
        let session = st.sessions.get(&id).ok_or(WebError::SignIn)?;
        let signed = session.principal.clone().ok_or(WebError::SignIn)?;
        // The account as it is now: a disabled account's sessions stop at the next page.
        let store = st.store.clone();
        let account = signed.actor.id.clone();
        let who = match crate::routes::blocking(move || {
            borderline_app::identity::reauthenticate(store.as_ref(), &account)
        })
        .await
        {
            Ok(w) => w,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                st.sessions.end(&id);
                return Err(WebError::SignIn);
            }
            Err(e) => return Err(e.into()),
        };
        tracing::Span::current().record("actor", tracing::field::display(&who.actor.id));
        Ok(SignedIn { id, session, who })
    }
}

/// The navigation entries a principal's roles allow (the permission matrix decides).
fn nav(who: &Principal) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for (p, href, label) in [
        (Permission::ReadDecisions, "/app/queue", "Inspection queue"),
        (Permission::ReadModelCards, "/app/models", "Models"),
        (Permission::ReadModelCards, "/app/rules", "Rules"),
        (Permission::ReadMonitoring, "/app/monitoring", "Monitoring"),
        (Permission::ReadAudit, "/app/audit", "Audit"),
        (Permission::TraderSelfCheck, "/app/self-check", "Self-check"),
    ] {
        if who.may(p) {
            out.push((href, label));
        }
    }
    out
}

/// The `<head>` of every page: its title, the viewport and our own stylesheet (nothing from
/// elsewhere).
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Borderline" }
            link rel="stylesheet" href="/static/style.css";
        }
    }
}

/// A page of the signed-in application: navigation by role, sign-out form with CSRF.
pub fn page(s: &SignedIn, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header {
                    a href="/app" { strong { "Borderline" } }
                    nav aria-label="Main" {
                        @for (href, label) in nav(&s.who) {
                            a href=(href) { (label) }
                        }
                    }
                    span { (s.who.actor.id) " (" (roles(&s.who)) ")" }
                    form method="post" action="/sign-out" {
                        input type="hidden" name="csrf" value=(s.session.csrf);
                        button type="submit" { "Sign out" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page outside a session (sign-in, errors).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header { a href="/app" { strong { "Borderline" } } }
                main { (body) }
            }
        }
    }
}

fn roles(who: &Principal) -> String {
    who.actor
        .roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}
