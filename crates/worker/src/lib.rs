//! The declaration stream on NATS JetStream: [`publish`] puts declarations on a stream, and
//! [`run_worker`] processes share one durable pull consumer, decide each declaration with the
//! active approved model in the store, publish the result, and acknowledge only after the
//! commit. What a message means is `borderline_app::stream`; this crate is only plumbing.
//!
//! * **Subjects** (from a [`Topology`] prefix, `borderline` by default): declarations on
//!   `PREFIX.declarations` (stream `PREFIX_DECLARATIONS`), decisions on `PREFIX.decisions`
//!   and refused messages on `PREFIX.dead_letter` (streams `PREFIX_DECISIONS` and
//!   `PREFIX_DEAD_LETTER`, so nothing published is lost when nobody listens).
//! * **Once per (declaration, model version)**: the store keeps a decision key with the audit
//!   record, in the same transaction; a redelivered or republished declaration is a
//!   `Duplicate` (acknowledged, nothing written, announced on the decisions subject with the
//!   earlier audit record). JetStream itself is at-least-once.
//! * **Order of effects**: commit, then publish the decision (awaiting the stream's ack), then
//!   acknowledge (awaiting the server's confirmation). A crash anywhere before the last step
//!   redelivers the message after `ack_wait`, and the store key stops a second decision.
//! * **Failures**: a message that can never be decided (not JSON, not a declaration, no
//!   finite score) goes to the dead-letter subject at once with its reason (retrying cannot
//!   change a deterministic refusal); a store failure is retried by redelivery with a delay, and
//!   after `max_attempts` deliveries goes to the dead-letter subject with the last error.
//! * **Model activation**: before each batch the worker asks the registry for the active
//!   version (one read transaction) and reloads the model when it changed: an activation
//!   reaches every worker within one batch, without a restart.
//! * **Blocking store**: every store call runs in `tokio::task::spawn_blocking`.

use async_nats::jetstream::{self, consumer, stream, AckKind};
use borderline_app::governance::select::ActiveModel;
use borderline_app::stream::{self as app_stream, Outcome, Rejection, StreamPolicy};
use borderline_governance::{Actor, GovernanceStore};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one fetch waits for messages; the active model is checked between fetches, so an
/// activation reaches a busy or idle worker within about this long (plus one batch).
pub const FETCH_WINDOW: Duration = Duration::from_millis(500);

/// Why the stream plumbing stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error(transparent)]
    App(#[from] borderline_app::AppError),
    #[error("a store call did not finish: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot encode a record: {0}")]
    Json(#[from] serde_json::Error),
}

fn nats(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Nats(e.to_string())
}

/// Names of the streams, subjects and the shared consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub prefix: String,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            prefix: "borderline".into(),
        }
    }
}

impl Topology {
    pub fn new(prefix: impl Into<String>) -> Self {
        Topology {
            prefix: prefix.into(),
        }
    }
    fn stream_name(&self, what: &str) -> String {
        format!(
            "{}_{}",
            self.prefix.replace(['.', '*', '>', ' '], "_"),
            what
        )
        .to_uppercase()
    }
    pub fn declarations_stream(&self) -> String {
        self.stream_name("declarations")
    }
    pub fn decisions_stream(&self) -> String {
        self.stream_name("decisions")
    }
    pub fn dead_letter_stream(&self) -> String {
        self.stream_name("dead_letter")
    }
    pub fn declarations_subject(&self) -> String {
        format!("{}.declarations", self.prefix)
    }
    pub fn decisions_subject(&self) -> String {
        format!("{}.decisions", self.prefix)
    }
    pub fn dead_letter_subject(&self) -> String {
        format!("{}.dead_letter", self.prefix)
    }
    /// The durable pull consumer every worker shares.
    pub fn consumer(&self) -> String {
        format!("{}-workers", self.prefix.replace(['.', '*', '>', ' '], "_"))
    }
}

/// A refused message as published on the dead-letter subject.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    #[serde(flatten)]
    pub rejection: Rejection,
    /// Deliveries before it was given up.
    pub deliveries: i64,
    /// The message as received, as text (lossy for bytes that are not UTF-8).
    pub payload: String,
}

/// Connects and makes sure the three streams exist (idempotent: every publisher and worker
/// calls it at start).
pub async fn connect(
    url: &str,
    topology: &Topology,
) -> Result<(async_nats::Client, jetstream::Context), WorkerError> {
    let client = async_nats::connect(url).await.map_err(nats)?;
    let js = jetstream::new(client.clone());
    for (name, subject) in [
        (
            topology.declarations_stream(),
            topology.declarations_subject(),
        ),
        (topology.decisions_stream(), topology.decisions_subject()),
        (
            topology.dead_letter_stream(),
            topology.dead_letter_subject(),
        ),
    ] {
        js.get_or_create_stream(stream::Config {
            name,
            subjects: vec![subject],
            ..Default::default()
        })
        .await
        .map_err(nats)?;
    }
    Ok((client, js))
}

/// Publishes message bodies (see `borderline_app::stream::encode_declaration`) on the
/// declarations subject and waits until the stream has stored every one; returns the count.
pub async fn publish(
    js: &jetstream::Context,
    topology: &Topology,
    bodies: impl IntoIterator<Item = Vec<u8>>,
) -> Result<u64, WorkerError> {
    let subject = topology.declarations_subject();
    // Up to this many publications in flight before waiting for their stream acks.
    const WINDOW: usize = 1024;
    let mut pending = Vec::with_capacity(WINDOW);
    let mut n = 0u64;
    for body in bodies {
        pending.push(
            js.publish(subject.clone(), body.into())
                .await
                .map_err(nats)?,
        );
        n += 1;
        if pending.len() == WINDOW {
            for ack in pending.drain(..) {
                ack.await.map_err(nats)?;
            }
        }
    }
    for ack in pending {
        ack.await.map_err(nats)?;
    }
    Ok(n)
}

/// How a worker runs.
#[derive(Clone)]
pub struct WorkerConfig {
    pub topology: Topology,
    /// The worker's identity in the audit log.
    pub actor: Actor,
    pub policy: StreamPolicy,
    /// Messages fetched per batch (the model is refreshed between batches).
    pub batch: usize,
    /// Deliveries of a message whose decision keeps failing on the store before it goes to
    /// the dead-letter subject.
    pub max_attempts: i64,
    /// How long the server waits for an acknowledgement before redelivering.
    pub ack_wait: Duration,
    /// Stop after this long without a message (`None`: run until stopped).
    pub idle_exit: Option<Duration>,
}

impl WorkerConfig {
    pub fn new(actor: Actor) -> Self {
        WorkerConfig {
            topology: Topology::default(),
            actor,
            policy: StreamPolicy::default(),
            batch: 256,
            max_attempts: 5,
            ack_wait: Duration::from_secs(30),
            idle_exit: None,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerReport {
    pub decided: u64,
    pub duplicates: u64,
    pub dead_lettered: u64,
    /// Deliveries handed back for a retry after a store failure.
    pub retried: u64,
    /// Model versions used, in order of first use.
    pub model_versions: Vec<String>,
}

/// The shared durable pull consumer (created by the first worker, joined by the others).
pub async fn shared_consumer(
    js: &jetstream::Context,
    config: &WorkerConfig,
) -> Result<consumer::Consumer<consumer::pull::Config>, WorkerError> {
    let stream = js
        .get_stream(config.topology.declarations_stream())
        .await
        .map_err(nats)?;
    let name = config.topology.consumer();
    stream
        .get_or_create_consumer(
            &name,
            consumer::pull::Config {
                durable_name: Some(name.clone()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                // The worker gives up itself after `max_attempts` (to dead-letter with the
                // reason); the server's bound is a backstop.
                max_deliver: config.max_attempts.saturating_add(1),
                ..Default::default()
            },
        )
        .await
        .map_err(nats)
}

/// Runs one worker until `stop` is set (checked between batches) or, with `idle_exit`, until
/// no message came for that long. Returns what it did.
pub async fn run_worker(
    url: &str,
    store: Arc<dyn GovernanceStore>,
    config: WorkerConfig,
    stop: Arc<AtomicBool>,
) -> Result<WorkerReport, WorkerError> {
    let (_client, js) = connect(url, &config.topology).await?;
    let consumer = shared_consumer(&js, &config).await?;
    let mut report = WorkerReport::default();
    let mut active: Option<ActiveModel> = None;
    let mut idle_since = tokio::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        // Between batches: the registry's active model (an activation reaches us here).
        let s = store.clone();
        let current = active.take();
        active = match tokio::task::spawn_blocking(move || {
            // As text: the error is only logged, and a large error type crossing threads is waste.
            app_stream::refresh(s.as_ref(), current).map_err(|e| e.to_string())
        })
        .await?
        {
            Ok(a) => Some(a),
            Err(e) => {
                // No active model (or the store is down): leave the messages on the stream.
                tracing::warn!("no model to decide with: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                if idle_done(&config, idle_since) {
                    break;
                }
                continue;
            }
        };
        let model = active.clone().ok_or_else(|| nats("no model"))?;
        let version = &model.entry.model.version;
        if !report.model_versions.contains(version) {
            report.model_versions.push(version.clone());
        }
        let mut batch = consumer
            .fetch()
            .max_messages(config.batch.max(1))
            .expires(FETCH_WINDOW)
            .messages()
            .await
            .map_err(nats)?;
        let mut got = 0usize;
        while let Some(msg) = batch.next().await {
            let msg = msg.map_err(nats)?;
            got += 1;
            handle(&js, &store, &config, &model, &msg, &mut report).await?;
        }
        if got > 0 {
            idle_since = tokio::time::Instant::now();
        } else if idle_done(&config, idle_since) {
            break;
        }
    }
    Ok(report)
}

fn idle_done(config: &WorkerConfig, since: tokio::time::Instant) -> bool {
    config.idle_exit.is_some_and(|d| since.elapsed() >= d)
}

async fn handle(
    js: &jetstream::Context,
    store: &Arc<dyn GovernanceStore>,
    config: &WorkerConfig,
    model: &ActiveModel,
    msg: &jetstream::Message,
    report: &mut WorkerReport,
) -> Result<(), WorkerError> {
    let deliveries = msg.info().map(|i| i.delivered).unwrap_or(1);
    let (s, m, by, policy) = (
        store.clone(),
        model.clone(),
        config.actor.clone(),
        config.policy,
    );
    let body = msg.payload.to_vec();
    let outcome = tokio::task::spawn_blocking(move || {
        let as_of = chrono::Utc::now().date_naive();
        app_stream::decide_message(s.as_ref(), &by, &m, policy, &body, as_of)
            .map_err(|e| e.to_string())
    })
    .await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if deliveries < config.max_attempts => {
            // Transient (the store): hand it back for a later delivery.
            tracing::warn!("deciding failed (delivery {deliveries}), retrying: {e}");
            report.retried += 1;
            let delay = Duration::from_millis(200 * deliveries.clamp(1, 25) as u64);
            msg.ack_with(AckKind::Nak(Some(delay)))
                .await
                .map_err(nats)?;
            return Ok(());
        }
        Err(e) => Outcome::Rejected(Rejection {
            declaration_id: None,
            reason: format!("gave up after {deliveries} deliveries: {e}"),
        }),
    };
    match outcome {
        Outcome::Decided(d) => {
            publish_json(js, config.topology.decisions_subject(), &d).await?;
            report.decided += 1;
        }
        Outcome::Duplicate(d) => {
            publish_json(js, config.topology.decisions_subject(), &d).await?;
            report.duplicates += 1;
        }
        Outcome::Rejected(rejection) => {
            let dead = DeadLetter {
                rejection,
                deliveries,
                payload: String::from_utf8_lossy(&msg.payload).into_owned(),
            };
            publish_json(js, config.topology.dead_letter_subject(), &dead).await?;
            report.dead_lettered += 1;
        }
    }
    // Only now, after the commit and the publication: the message is done.
    msg.double_ack().await.map_err(nats)?;
    Ok(())
}

async fn publish_json<T: serde::Serialize>(
    js: &jetstream::Context,
    subject: String,
    value: &T,
) -> Result<(), WorkerError> {
    let body = serde_json::to_vec(value)?;
    js.publish(subject, body.into())
        .await
        .map_err(nats)?
        .await
        .map_err(nats)?;
    Ok(())
}
