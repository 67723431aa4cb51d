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
use borderline_app::screening::{Parties, ServedParties};
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
    /// The party directory and relationships (`serve --parties`), held once and screened
    /// once, at the start, against `matcher`'s lists; that one screening is shared by the
    /// recorded declarations' supplier network (case pages), the directory as the stream
    /// workers screen with it (case pages add the paths over trade links stored later), and
    /// each request's batch (network exposure, selection), which screens no party again
    /// (`/metrics`: `borderline_watchlist_queries_total`). `None`: exposure answers 503 and
    /// case pages say the parties are not screened.
    pub parties: Option<Arc<ServedParties>>,
    /// The witness file of signed checkpoints and its public key (`serve --witness`), which
    /// every audit verification (page and API) checks; `None`: checkpoints are not checked.
    pub witness: Option<borderline_app::governance::audit::Witness>,
    /// The declaration stream the scoring workers read (`serve --nats`), for
    /// `POST /v1/declarations/publish`; `None`: that endpoint answers 503.
    pub queue: Option<Arc<dyn borderline_app::stream::DeclarationQueue>>,
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
            parties: None,
            witness: None,
            queue: None,
            limiter: ops::RateLimiter::new(config.rate_per_second, config.rate_burst),
            config,
            metrics: ops::Metrics::default(),
            sessions: web::session::Sessions::default(),
        })
    }

    /// Adds the party directory and relationships for network exposure and selection, and
    /// screens them for the case pages: every party against the watchlists, and the supplier
    /// network with the trade links of the declarations recorded so far (built here, once).
    pub fn with_parties(mut self, parties: Parties) -> Result<Self, AppError> {
        let (served, declarations) = ServedParties::new(
            self.store.as_ref(),
            self.matcher.clone(),
            parties,
            borderline_app::screening::RECORDED_FOR_NETWORK,
        )?;
        tracing::info!(
            parties = served.screened().directory().len(),
            declarations,
            nodes = served.recorded().network.node_count(),
            "party directory screened; supplier network built"
        );
        self.parties = Some(Arc::new(served));
        Ok(self)
    }

    /// Checks the signed checkpoints of `witness` in every audit verification. The file is
    /// read at each verification, so checkpoints appended later count.
    pub fn with_witness(mut self, witness: borderline_app::governance::audit::Witness) -> Self {
        self.witness = Some(witness);
        self
    }

    /// Publishes lodged declarations on this stream (`POST /v1/declarations/publish`).
    pub fn with_declaration_queue(
        mut self,
        queue: Arc<dyn borderline_app::stream::DeclarationQueue>,
    ) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Also accepts bearer JWTs of an OpenID Connect provider, verified against its keys.
    pub fn with_oidc(mut self, verifier: borderline_app::oidc::OidcVerifier) -> Self {
        self.auth = self.auth.with_oidc(verifier);
        self
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

/// TLS settings of a server: a certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Reads a PEM certificate chain and private key into a rustls server configuration (TLS 1.2
/// and 1.3, ring provider, HTTP/1.1 by ALPN). Errors name the file.
pub fn tls_config(files: &TlsFiles) -> std::io::Result<Arc<tokio_rustls::rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |path: &std::path::Path, what: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, "no PEM certificate in the file".into()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, e.to_string()))?;
    // ring: pure Rust and assembly, no C toolchain (aws-lc-rs, which rustls now prefers for its
    // post-quantum key exchange, needs CMake). Classical X25519/P-256 key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&files.cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(&files.key, e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// As [`serve`], over TLS: each accepted connection is handshaken (at most 10 s) and then
/// served by the same router. A failed handshake drops that connection only.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = router(state);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tasks.spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut app = app.clone();
                    async move {
                        tower_service::Service::call(&mut app, req.map(axum::body::Body::new)).await
                    }
                });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
        while tasks.try_join_next().is_some() {}
    }
    // Finish requests in flight.
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Binds `addr` and serves (over TLS when `tls` is given) on a multi-threaded runtime until
/// Ctrl-C; `ready` is called with the bound address (port 0 picks one). For front ends that are not async themselves.
pub fn run_blocking(
    addr: std::net::SocketAddr,
    state: AppState,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        let stop = async {
            // Without a signal handler the server runs until killed; both are fine.
            let _ = tokio::signal::ctrl_c().await;
        };
        match tls {
            Some(t) => serve_tls(listener, Arc::new(state), t, stop).await,
            None => serve(listener, Arc::new(state), stop).await,
        }
    })
}
