//! Borderline's HTTP API and web application (`borderline serve`; pages in [`web`]).
//!
//! Architecture Invariant: the server holds no workflow. Every handler authenticates the
//! bearer token and checks the permission matrix through `borderline_app::identity`, turns the
//! request into the application's typed input, makes one call into `borderline_app`, and
//! presents the typed output as JSON. Errors become RFC 9457 problem bodies in one place
//! ([`problem`]). The authenticated actor, never a client-supplied name, is what the
//! application records in the audit log.

// The application's error type is moved only when a request fails, as in the CLI.
#![allow(clippy::result_large_err)]

use borderline_app::governance::models;
use borderline_app::identity::Authenticator;
use borderline_app::targeting::{ActiveScorer, Capacities};
use borderline_app::{AppError, Benchmarks, Classifier, Matcher};
use borderline_governance::identity::{Permission, Principal};
use borderline_governance::registry::RegistryError;
use borderline_governance::GovernanceStore;
use std::sync::Arc;
use std::time::Duration;

mod extract;
pub mod ops;
pub mod problem;
mod routes;
pub mod web;

pub use routes::{openapi, parse_request_body, router};

/// Limits and defaults of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Largest model artefact accepted for registration.
    pub max_artefact_bytes: usize,
    /// A request still running after this is answered 503.
    pub request_timeout: Duration,
    /// Per-token rate limit: sustained requests per second and burst.
    pub rate_per_second: f64,
    pub rate_burst: f64,
    /// Lane capacities of a ranked batch when the request gives none.
    pub capacities: Capacities,
    /// Marks the web session cookie `Secure`: set when browsers reach the server over TLS
    /// (directly or through a TLS-terminating proxy).
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 1 << 20,
            max_artefact_bytes: 256 << 20,
            request_timeout: Duration::from_secs(30),
            rate_per_second: 200.0,
            rate_burst: 400.0,
            capacities: Capacities::default(),
            secure_cookies: false,
        }
    }
}

/// What every handler shares: the store, the authenticator, the active scorer (swapped when a
/// model is activated, without a restart), and the analytic modules' loaded state.
pub struct AppState {
    pub store: Arc<dyn GovernanceStore>,
    pub auth: Authenticator,
    pub scorer: ActiveScorer,
    pub classifier: Arc<Classifier>,
    pub matcher: Arc<Matcher>,
    pub benchmarks: Option<Arc<Benchmarks>>,
    pub config: ServerConfig,
    pub metrics: ops::Metrics,
    pub limiter: ops::RateLimiter,
    /// Web application sessions (in memory: see [`web::session`]).
    pub sessions: web::session::Sessions,
}

impl AppState {
    /// Opens the service state: loads the active approved model if there is one (an artefact
    /// whose stored bytes changed is refused: the server does not start), the bundled HS
    /// classifier and watchlists, and benchmarks when given.
    pub fn new(
        store: Arc<dyn GovernanceStore>,
        config: ServerConfig,
        benchmarks: Option<Benchmarks>,
    ) -> Result<AppState, AppError> {
        let scorer = ActiveScorer::default();
        match models::load_active(store.as_ref()) {
            Ok((_, model)) => {
                scorer.swap(model);
            }
            Err(AppError::Registry(RegistryError::NoActiveModel)) => {}
            Err(e) => return Err(e),
        }
        Ok(AppState {
            auth: Authenticator::new(store.clone()),
            store,
            scorer,
            classifier: Arc::new(borderline_app::hs::classifier(None)?),
            matcher: borderline_app::screening::bundled_matcher()?,
            benchmarks: benchmarks.map(Arc::new),
            limiter: ops::RateLimiter::new(config.rate_per_second, config.rate_burst),
            config,
            metrics: ops::Metrics::default(),
            sessions: web::session::Sessions::default(),
        })
    }

    /// Authenticates the request's bearer token, applies the token's rate limit, checks the
    /// permission and records the actor in the request's span.
    pub fn authorize(
        &self,
        headers: &axum::http::HeaderMap,
        permission: Permission,
    ) -> Result<Principal, problem::ApiError> {
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let who = self.auth.bearer(header, chrono::Utc::now())?;
        tracing::Span::current().record("actor", tracing::field::display(&who.actor.id));
        let key = who.token_id.clone().unwrap_or_else(|| who.actor.id.clone());
        if let Err(after) = self.limiter.take(&key) {
            let mut e = problem::ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many requests for this token; retry later",
            );
            e.retry_after = Some(after);
            return Err(e);
        }
        borderline_app::identity::require(&who, permission)?;
        Ok(who)
    }

    /// Re-reads the active model after a registry change, for new requests.
    pub(crate) fn reload_active(&self) -> Result<(), AppError> {
        match models::load_active(self.store.as_ref()) {
            Ok((_, model)) => {
                self.scorer.swap(model);
                Ok(())
            }
            Err(AppError::Registry(RegistryError::NoActiveModel)) => {
                self.scorer.clear();
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Serves until the future `shutdown` completes (e.g. Ctrl-C), finishing requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `addr` and serves on a multi-threaded runtime until Ctrl-C; `ready` is called with
/// the bound address (port 0 picks one). For front ends that are not async themselves.
pub fn run_blocking(
    addr: std::net::SocketAddr,
    state: AppState,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        serve(listener, Arc::new(state), async {
            // Without a signal handler the server runs until killed; both are fine.
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}
