//! `borderline serve`: the HTTP API on the governance database (see borderline-server).

use crate::accounts::StoreArgs;
use anyhow::{bail, Context, Result};
use borderline_app::identity;
use borderline_server::{AppState, ServerConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; put a TLS terminator or --tls-* in front of
    /// anything wider).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Unit-value benchmarks file (`valuation build`) for /v1/valuation/check.
    #[arg(long)]
    pub benchmarks: Option<PathBuf>,
    /// Party directory CSV `party_id,name,address,country[,schema]` naming the declarations'
    /// party ids, for /v1/network/exposure and the screening of /v1/lanes/select.
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Relationship CSV `from,to,relation[,source]` (owner, subsidiary, ...) for the supplier
    /// network (with --parties).
    #[arg(long, requires = "parties")]
    pub relations: Option<PathBuf>,
    /// Largest request body in KiB.
    #[arg(long, default_value_t = 1024)]
    pub max_body_kib: usize,
    /// Per-token sustained requests per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); session cookies are then
    /// marked `Secure`.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also accept bearer JWTs of an OpenID Connect provider, verified against the signing
    /// keys in this JWKS file (the provider's `jwks_uri` document, saved; nothing is fetched).
    /// The token's account claim names a local account, whose roles apply.
    #[arg(long, requires_all = ["oidc_issuer", "oidc_audience"])]
    pub oidc_jwks: Option<PathBuf>,
    /// The provider's issuer (`iss`), exactly.
    #[arg(long, requires = "oidc_jwks")]
    pub oidc_issuer: Option<String>,
    /// This service's client id at the provider (`aud`).
    #[arg(long, requires = "oidc_jwks")]
    pub oidc_audience: Option<String>,
    /// The claim naming the local account.
    #[arg(long, default_value = "sub")]
    pub oidc_account_claim: String,
    /// Mark the web application's session cookie `Secure` (set it when browsers reach the
    /// service over HTTPS, e.g. behind a TLS terminator).
    #[arg(long)]
    pub secure_cookies: bool,
    /// NATS server with JetStream whose declaration stream `POST /v1/declarations/publish`
    /// feeds (the stream `borderline worker` processes read); without it that endpoint answers
    /// 503. Connected on first use.
    #[arg(long)]
    pub nats: Option<String>,
    /// Prefix of the stream's subjects (as `publish --prefix` and `worker --prefix`).
    #[arg(long, default_value = "borderline", requires = "nats")]
    pub stream_prefix: String,
    /// Witness file of signed audit checkpoints (`audit checkpoint`): the audit page and
    /// `GET /v1/audit/verify` then say up to which record a signed checkpoint vouches for the
    /// chain, and report any checkpoint that no longer holds.
    #[arg(long, requires = "public_key")]
    pub witness: Option<PathBuf>,
    /// The public key the witness file's checkpoints must verify with.
    #[arg(long, requires = "witness")]
    pub public_key: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BORDERLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let location = args.store.location();
    // A SQLite file must exist (no empty database at a mistyped path); PostgreSQL is migrated.
    let store = args.store.open(true).with_context(|| {
        format!("create it with `borderline accounts bootstrap ADMIN --db {location}`")
    })?;
    if identity::no_accounts(&store)? {
        bail!(
            "{location} has no account: create the first administrator with `borderline accounts bootstrap ADMIN --db {location}`"
        );
    }
    let benchmarks = args
        .benchmarks
        .as_deref()
        .map(borderline_app::valuation::load_benchmarks)
        .transpose()?;
    let config = ServerConfig {
        max_body_bytes: args.max_body_kib.max(1) * 1024,
        rate_per_second: args.rate,
        rate_burst: (args.rate * 2.0).max(1.0),
        secure_cookies: args.secure_cookies || args.tls_cert.is_some(),
        ..ServerConfig::default()
    };
    let mut state = AppState::new(Arc::new(store), config, benchmarks)?;
    if let (Some(jwks), Some(issuer), Some(audience)) =
        (&args.oidc_jwks, &args.oidc_issuer, &args.oidc_audience)
    {
        let verifier = borderline_app::oidc::OidcVerifier::from_file(
            jwks,
            borderline_app::oidc::OidcConfig {
                issuer: issuer.clone(),
                audience: audience.clone(),
                account_claim: args.oidc_account_claim.clone(),
            },
        )?;
        state = state.with_oidc(verifier);
    }
    if let Some(p) = &args.parties {
        let parties = borderline_app::screening::Parties::from_files(p, args.relations.as_deref())?;
        for s in &parties.skipped {
            eprintln!("warning: {s}");
        }
        state = state.with_parties(parties)?;
    }
    if let (Some(file), Some(public_key)) = (&args.witness, &args.public_key) {
        // Read once here so a wrong path or key fails at start, not on the first audit page.
        borderline_app::governance::audit::read_public_key(public_key)?;
        borderline_app::governance::audit::read_witness(file)?;
        state = state.with_witness(borderline_app::governance::audit::Witness {
            file: file.clone(),
            public_key: public_key.clone(),
        });
    }
    if let Some(url) = &args.nats {
        state = state.with_declaration_queue(Arc::new(borderline_worker::JetStreamQueue::new(
            url.clone(),
            borderline_worker::Topology::new(args.stream_prefix.clone()),
        )));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(borderline_server::tls_config(
            &borderline_server::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            },
        )?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    borderline_server::run_blocking(args.listen, state, tls, |addr| {
        eprintln!(
            "borderline serving on {scheme}://{addr} (API description at /openapi.json, /docs)"
        );
    })
    .with_context(|| format!("serving on {}", args.listen))
}

/// `borderline demo --serve`: a fresh SQLite store in `out` seeded by
/// `borderline_app::demo::seed` (accounts for every role with new random passwords, printed
/// here; the demo model approved and active; `batch` ranked), then the server.
/// What the demo's case pages read beside the decisions.
pub struct DemoEvidence {
    pub benchmarks: borderline_app::Benchmarks,
    pub parties: borderline_app::screening::Parties,
}

pub fn demo(
    out: &std::path::Path,
    model: &std::path::Path,
    batch: &[borderline_core::Declaration],
    evidence: DemoEvidence,
    listen: SocketAddr,
) -> Result<()> {
    use rand::Rng;
    let db = out.join("web.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let store = borderline_store_sqlite::SqliteStore::open(&db)?;
    let mut rng = rand::rng();
    let passwords: Vec<String> = borderline_app::demo::DEMO_ACCOUNTS
        .iter()
        .map(|_| {
            (0..4)
                .map(|_| format!("{:04x}", rng.random::<u16>()))
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let artefact = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    println!("\n== Web application demo: seeding {}", db.display());
    let (accounts, decided) = borderline_app::demo::seed(
        &store,
        &passwords,
        artefact,
        batch,
        crate::targeting::today(),
    )?;
    println!("{decided} declarations ranked and recorded by demo.officer; sign in with:");
    for a in &accounts {
        let roles: Vec<String> = a
            .roles
            .iter()
            .map(|r| format!("{r:?}").to_lowercase())
            .collect();
        println!(
            "  {:<16} {:<11} password {}",
            a.id,
            roles.join(","),
            a.password
        );
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BORDERLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let state = AppState::new(
        Arc::new(store),
        ServerConfig::default(),
        Some(evidence.benchmarks),
    )?
    .with_parties(evidence.parties)?;
    borderline_server::run_blocking(listen, state, None, |addr| {
        println!(
            "web application on http://{addr}/ (Ctrl-C stops it; the store stays in {})",
            db.display()
        );
    })
    .with_context(|| format!("serving on {listen}"))
}
