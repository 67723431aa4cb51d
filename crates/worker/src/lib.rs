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
//! * **A batch per transaction**: a worker decides the messages of one fetch in one write
//!   transaction (`borderline_app::stream::decide_batch`: decision keys, audit records and the
//!   capacity ledger), so the store's write lock is taken once per batch, not per message.
//! * **Order of effects**: commit, then publish every result (awaiting the stream's acks), then
//!   acknowledge (awaiting the server's confirmations). A crash anywhere before the last step
//!   redelivers the messages after `ack_wait`, and the store keys stop a second decision.
//! * **Pipelined**: a committed batch is published and acknowledged on its own task while the
//!   next batch is fetched and decided (at most two batches unacknowledged per worker); the
//!   order of effects above holds for each message.
//! * **Failures**: a message that can never be decided (not JSON, not a declaration, no
//!   finite score) goes to the dead-letter subject at once with its reason (retrying cannot
//!   change a deterministic refusal). When a batch fails on the store, the worker asks the store
//!   whether it answers: if not (an outage) every message goes back and the worker backs off;
//!   if it does, the batch is decided one message at a time, and a message that keeps failing
//!   is dead-lettered with the last error after `max_attempts` deliveries. The consumer has no
//!   server-side delivery bound, so an outage never drops a message.
//! * **Outages**: NATS or store unreachable -> back off (100 ms doubling to 5 s) and resume;
//!   the NATS client reconnects by itself and the store's pool reconnects at checkout. Every
//!   wait on NATS is bounded, so a server that vanishes mid-fetch cannot hang a worker.
//! * **Model activation**: before a batch, at most every [`MODEL_CHECK`], the worker asks the
//!   registry for the active version (one read transaction) and reloads the model when it
//!   changed: an activation reaches every worker within that and one batch, without a restart.
//! * **Blocking store**: every store call runs in `tokio::task::spawn_blocking`.

use async_nats::jetstream::{self, consumer, stream, AckKind};
use borderline_app::governance::select::ActiveModel;
use borderline_app::network::NetworkScreening;
use borderline_app::stream::{self as app_stream, Outcome, Rejection, StreamPolicy};
use borderline_governance::{Actor, GovernanceStore};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Messages handed out and not yet acknowledged, across every worker of the consumer, at
/// most (set when the consumer is created).
pub const MAX_ACK_PENDING: i64 = 20_000;

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
    #[error("the store is unreachable: {0}")]
    Store(String),
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

/// The declaration stream as a [`app_stream::DeclarationQueue`] for front ends that publish
/// (the HTTP service's `POST /v1/declarations/publish`). It connects on first use, inside the
/// caller's runtime (a NATS client lives on the runtime that made it), and keeps that
/// connection; the client reconnects by itself, and a publication that cannot reach the
/// server fails after [`PUBLISH_TIMEOUT`] instead of hanging the request.
pub struct JetStreamQueue {
    url: String,
    topology: Topology,
    context: tokio::sync::OnceCell<jetstream::Context>,
}

/// How long one publication may wait for the stream to store its messages.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

impl JetStreamQueue {
    pub fn new(url: impl Into<String>, topology: Topology) -> Self {
        JetStreamQueue {
            url: url.into(),
            topology,
            context: tokio::sync::OnceCell::new(),
        }
    }

    async fn put_bodies(&self, bodies: Vec<Vec<u8>>) -> Result<u64, WorkerError> {
        let js = self
            .context
            .get_or_try_init(|| async {
                connect(&self.url, &self.topology)
                    .await
                    .map(|(_client, js)| js)
            })
            .await?;
        publish(js, &self.topology, bodies).await
    }
}

impl app_stream::DeclarationQueue for JetStreamQueue {
    fn put(&self, bodies: Vec<Vec<u8>>) -> app_stream::QueueFuture<'_> {
        Box::pin(async move {
            match tokio::time::timeout(PUBLISH_TIMEOUT, self.put_bodies(bodies)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!(
                    "{} did not store the declarations within {} s",
                    self.url,
                    PUBLISH_TIMEOUT.as_secs()
                )),
            }
        })
    }

    fn destination(&self) -> String {
        self.topology.declarations_subject()
    }
}

/// [`publish`] at a steady `per_second` (each publication waits for its slot; stream
/// acknowledgements are awaited in windows as in [`publish`]).
pub async fn publish_paced(
    js: &jetstream::Context,
    topology: &Topology,
    bodies: impl IntoIterator<Item = Vec<u8>>,
    per_second: f64,
) -> Result<u64, WorkerError> {
    let subject = topology.declarations_subject();
    let interval = Duration::from_secs_f64(1.0 / per_second.max(1e-3));
    let start = tokio::time::Instant::now();
    let mut pending = std::collections::VecDeque::new();
    let mut n = 0u64;
    for body in bodies {
        tokio::time::sleep_until(start + interval.mul_f64(n as f64)).await;
        pending.push_back(
            js.publish(subject.clone(), body.into())
                .await
                .map_err(nats)?,
        );
        n += 1;
        if pending.len() >= 1024 {
            if let Some(ack) = pending.pop_front() {
                ack.await.map_err(nats)?;
            }
        }
    }
    for ack in pending {
        ack.await.map_err(nats)?;
    }
    Ok(n)
}

/// Time from publication to decision, as measured by [`publish_timed`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyReport {
    pub published: u64,
    /// Declarations whose decision (or duplicate notice) arrived in time.
    pub decided: u64,
    /// Publication rate achieved, per second.
    pub publish_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Publishes `(declaration id, body)` pairs (at `per_second` when given) while listening on
/// the decisions subject, and measures for each declaration the time from just before its
/// publication to the arrival of its decision (published by a worker after its commit). Waits
/// at most `wait` after the last publication.
pub async fn publish_timed(
    client: &async_nats::Client,
    js: &jetstream::Context,
    topology: &Topology,
    messages: Vec<(String, Vec<u8>)>,
    per_second: Option<f64>,
    wait: Duration,
) -> Result<LatencyReport, WorkerError> {
    use std::collections::HashMap;
    use std::time::Instant;
    let mut decisions = client
        .subscribe(topology.decisions_subject())
        .await
        .map_err(nats)?;
    let total = messages.len();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    // Arrivals are stamped as they come, on their own task.
    let listener = tokio::spawn(async move {
        let mut arrived: HashMap<String, Instant> = HashMap::with_capacity(total);
        while arrived.len() < total {
            let Some(m) = decisions.next().await else {
                break;
            };
            let at = Instant::now();
            if let Ok(d) = serde_json::from_slice::<app_stream::StreamDecision>(&m.payload) {
                arrived.entry(d.declaration_id).or_insert(at);
            }
        }
        arrived
    });
    let subject = topology.declarations_subject();
    let interval = per_second.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-3)));
    let start = tokio::time::Instant::now();
    let mut pending = std::collections::VecDeque::new();
    for (i, (id, body)) in messages.into_iter().enumerate() {
        if let Some(step) = interval {
            tokio::time::sleep_until(start + step.mul_f64(i as f64)).await;
        }
        let _ = tx.send((id, Instant::now()));
        pending.push_back(
            js.publish(subject.clone(), body.into())
                .await
                .map_err(nats)?,
        );
        if pending.len() >= 1024 {
            if let Some(ack) = pending.pop_front() {
                ack.await.map_err(nats)?;
            }
        }
    }
    for ack in pending {
        ack.await.map_err(nats)?;
    }
    let publish_secs = start.elapsed().as_secs_f64();
    drop(tx);
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(total);
    while let Some((id, at)) = rx.recv().await {
        sent.insert(id, at);
    }
    let arrived = match tokio::time::timeout(wait, listener).await {
        Ok(joined) => joined?,
        Err(_) => return Err(nats(format!("not every decision arrived within {wait:?}"))),
    };
    let mut ms: Vec<f64> = arrived
        .iter()
        .filter_map(|(id, at)| {
            sent.get(id)
                .map(|s| at.saturating_duration_since(*s).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| {
        if ms.is_empty() {
            f64::NAN
        } else {
            ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]
        }
    };
    Ok(LatencyReport {
        published: total as u64,
        decided: ms.len() as u64,
        publish_rate: total as f64 / publish_secs.max(1e-9),
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
    })
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
    /// Screen each declaration's parties against the watchlists and the supplier network kept
    /// in the store (`None`: no party screening; trade links are recorded either way).
    pub screening: Option<Arc<NetworkScreening>>,
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
            screening: None,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerReport {
    /// Decisions this worker knows it committed. A commit whose answer was lost (the store
    /// died mid-COMMIT) is not among them: its retry finds the decision and counts a duplicate.
    pub decided: u64,
    pub duplicates: u64,
    pub dead_lettered: u64,
    /// Deliveries handed back for a retry after a store failure.
    pub retried: u64,
    /// Pauses after the store or NATS failed.
    pub backoffs: u64,
    /// Model versions used, in order of first use.
    pub model_versions: Vec<String>,
    /// When the first message arrived and the last batch was acknowledged (Unix ms), for
    /// throughput across workers.
    pub first_message_ms: Option<i64>,
    pub last_ack_ms: Option<i64>,
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
                // No server-side bound: the worker dead-letters a message itself after
                // `max_attempts` failures on a store that answers (with the reason), and an
                // outage must never make the server drop a message.
                max_deliver: -1,
                // A worker holds up to two batches unacknowledged (one deciding, one being
                // acknowledged): room for several workers with large batches (the server's
                // default is 1,000 for all of them together).
                max_ack_pending: MAX_ACK_PENDING,
                ..Default::default()
            },
        )
        .await
        .map_err(nats)
}

/// Runs one worker until `stop` is set (checked between batches) or, with `idle_exit`, until
/// no message came for that long. Returns what it did.
///
/// It outlives its services: when the store or the NATS server is unreachable it backs off
/// (100 ms doubling to 5 s), leaves the messages in hand to be redelivered, and resumes when
/// they are back (the NATS client reconnects by itself; the store's pool reconnects on the next
/// checkout). Only a failure to connect at start is returned.
pub async fn run_worker(
    url: &str,
    store: Arc<dyn GovernanceStore>,
    config: WorkerConfig,
    stop: Arc<AtomicBool>,
) -> Result<WorkerReport, WorkerError> {
    let result = work(url, store.clone(), config, stop).await;
    // The caller's store may hold synchronous PostgreSQL connections, whose drop blocks on a
    // runtime of their own: the last reference must not be dropped on this runtime's thread
    // (it panicked at a worker's exit).
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    result
}

async fn work(
    url: &str,
    store: Arc<dyn GovernanceStore>,
    config: WorkerConfig,
    stop: Arc<AtomicBool>,
) -> Result<WorkerReport, WorkerError> {
    let (_client, js) = connect(url, &config.topology).await?;
    let consumer = shared_consumer(&js, &config).await?;
    let mut report = WorkerReport::default();
    let mut active: Option<ActiveModel> = None;
    let mut checked: Option<tokio::time::Instant> = None;
    let mut idle_since = tokio::time::Instant::now();
    let mut backoff = Backoff::default();
    // The previous batch's publications and acknowledgements (its decisions are committed),
    // running while the next batch is fetched and decided.
    let mut finishing: Option<Finishing> = None;
    while !stop.load(Ordering::Relaxed) {
        // The registry's active model, at most every MODEL_CHECK (an activation reaches us
        // here).
        if active.is_none() || checked.is_none_or(|t| t.elapsed() >= MODEL_CHECK) {
            let s = store.clone();
            let current = active.take();
            active = match tokio::task::spawn_blocking(move || {
                // As text: the error is only logged, and a large error type crossing threads is
                // waste.
                app_stream::refresh(s.as_ref(), current).map_err(|e| e.to_string())
            })
            .await?
            {
                Ok(a) => Some(a),
                Err(e) => {
                    // No active model, or the store is down: leave the messages on the stream.
                    tracing::warn!("no model to decide with: {e}");
                    settle(&mut finishing, &mut report, &mut backoff).await;
                    report.backoffs += 1;
                    tokio::time::sleep(backoff.next()).await;
                    if idle_done(&config, idle_since) {
                        break;
                    }
                    continue;
                }
            };
            checked = Some(tokio::time::Instant::now());
        }
        let Some(model) = active.clone() else {
            continue;
        };
        let version = &model.entry.model.version;
        if !report.model_versions.contains(version) {
            report.model_versions.push(version.clone());
        }
        let messages = match fetch(&consumer, config.batch.max(1)).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("fetching from the stream failed, backing off: {e}");
                settle(&mut finishing, &mut report, &mut backoff).await;
                report.backoffs += 1;
                tokio::time::sleep(backoff.next()).await;
                continue;
            }
        };
        if messages.is_empty() {
            settle(&mut finishing, &mut report, &mut backoff).await;
            if idle_done(&config, idle_since) {
                break;
            }
            continue;
        }
        idle_since = tokio::time::Instant::now();
        report
            .first_message_ms
            .get_or_insert_with(|| chrono::Utc::now().timestamp_millis());
        let steps = decide_steps(&store, &config, &model, &messages, &mut report).await;
        // The batch before is finished before this one starts finishing: at most two batches
        // are unacknowledged.
        settle(&mut finishing, &mut report, &mut backoff).await;
        match steps {
            Ok(steps) => {
                let (js, config) = (js.clone(), config.clone());
                finishing = Some(tokio::spawn(async move {
                    finish(&js, &config, messages, steps).await
                }));
            }
            Err(e) => {
                // The store went away mid-batch: what was not acknowledged is redelivered, and
                // the decision keys stop a second decision.
                tracing::warn!("batch interrupted, backing off: {e}");
                report.backoffs += 1;
                tokio::time::sleep(backoff.next()).await;
            }
        }
    }
    settle(&mut finishing, &mut report, &mut backoff).await;
    Ok(report)
}

/// How often a busy worker asks the registry for the active model.
pub const MODEL_CHECK: Duration = Duration::from_millis(250);

/// What one batch's publications and acknowledgements counted.
#[derive(Default)]
struct Tally {
    decided: u64,
    duplicates: u64,
    dead_lettered: u64,
    retried: u64,
}

/// A batch being finished: what it counted so far, and why it stopped early, if it did.
type Finishing = tokio::task::JoinHandle<(Tally, Result<(), WorkerError>)>;

/// Waits for the batch being finished, if any, and counts it; a failure (NATS went away
/// before every message was acknowledged: those are redelivered) backs off.
async fn settle(
    finishing: &mut Option<Finishing>,
    report: &mut WorkerReport,
    backoff: &mut Backoff,
) {
    let Some(task) = finishing.take() else {
        return;
    };
    let failure = match task.await {
        Ok((t, result)) => {
            // Counted as far as it went (a decision committed counts even if its
            // acknowledgement failed: the redelivery is then a duplicate).
            report.decided += t.decided;
            report.duplicates += t.duplicates;
            report.dead_lettered += t.dead_lettered;
            report.retried += t.retried;
            match result {
                Ok(()) => {
                    report.last_ack_ms = Some(chrono::Utc::now().timestamp_millis());
                    backoff.reset();
                    return;
                }
                Err(e) => e.to_string(),
            }
        }
        Err(e) => e.to_string(),
    };
    tracing::warn!("publishing or acknowledging a batch failed, backing off: {failure}");
    report.backoffs += 1;
    tokio::time::sleep(backoff.next()).await;
}

fn idle_done(config: &WorkerConfig, since: tokio::time::Instant) -> bool {
    config.idle_exit.is_some_and(|d| since.elapsed() >= d)
}

/// Exponential back-off: 100 ms doubling to 5 s, reset by a batch that went through.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let d = Duration::from_millis(100u64 << self.failures.min(6)).min(Duration::from_secs(5));
        self.failures = self.failures.saturating_add(1);
        d
    }
    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Up to `n` messages: those available now, else the first to arrive within [`FETCH_WINDOW`].
/// Bounded in time even if the server vanishes mid-fetch.
async fn fetch(
    consumer: &consumer::Consumer<consumer::pull::Config>,
    n: usize,
) -> Result<Vec<jetstream::Message>, WorkerError> {
    let guard = FETCH_WINDOW + Duration::from_secs(2);
    let mut batch = tokio::time::timeout(
        guard,
        consumer
            .fetch()
            .max_messages(n)
            .expires(FETCH_WINDOW)
            .messages(),
    )
    .await
    .map_err(|_| nats("no answer to a fetch"))?
    .map_err(nats)?;
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(guard, batch.next()).await {
            Ok(Some(Ok(m))) => out.push(m),
            Ok(Some(Err(e))) if out.is_empty() => return Err(nats(e)),
            // What came before the error is ours to process; the rest is redelivered.
            Ok(Some(Err(_))) | Ok(None) | Err(_) => break,
        }
    }
    Ok(out)
}

/// What to do with one message of a batch.
enum Step {
    Done(Outcome),
    /// A store failure on this message alone: hand it back for a later delivery.
    Retry(String),
}

/// Decides `bodies` in one transaction, off the async runtime.
async fn decide(
    store: &Arc<dyn GovernanceStore>,
    config: &WorkerConfig,
    model: &ActiveModel,
    bodies: Vec<Vec<u8>>,
) -> Result<Result<Vec<Outcome>, String>, WorkerError> {
    let (s, m, by, policy, screening) = (
        store.clone(),
        model.clone(),
        config.actor.clone(),
        config.policy,
        config.screening.clone(),
    );
    Ok(tokio::task::spawn_blocking(move || {
        let as_of = chrono::Utc::now().date_naive();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        app_stream::decide_batch_screened(
            s.as_ref(),
            &by,
            &m,
            policy,
            screening.as_deref(),
            &refs,
            as_of,
        )
        .map_err(|e| e.to_string())
    })
    .await?)
}

/// Whether the store answers (one read transaction).
async fn store_answers(store: &Arc<dyn GovernanceStore>) -> bool {
    let s = store.clone();
    matches!(
        tokio::task::spawn_blocking(move || app_stream::active_version(s.as_ref()).is_ok()).await,
        Ok(true)
    )
}

/// One batch decided (one transaction), or every message handed back when the store is down
/// (`Err`: the caller backs off).
async fn decide_steps(
    store: &Arc<dyn GovernanceStore>,
    config: &WorkerConfig,
    model: &ActiveModel,
    messages: &[jetstream::Message],
    report: &mut WorkerReport,
) -> Result<Vec<Step>, WorkerError> {
    let bodies: Vec<Vec<u8>> = messages.iter().map(|m| m.payload.to_vec()).collect();
    Ok(match decide(store, config, model, bodies.clone()).await? {
        Ok(outcomes) => outcomes.into_iter().map(Step::Done).collect(),
        Err(e) if !store_answers(store).await => {
            // The store is down: every message goes back (after a delay), and nothing
            // counts toward a message's attempts beyond its delivery count.
            for m in messages {
                let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            }
            report.retried += messages.len() as u64;
            return Err(WorkerError::Store(e));
        }
        Err(e) => {
            // The store answers but the batch failed: one by one, so that one message the
            // store refuses does not hold back the others.
            tracing::warn!(
                "a batch of {} failed, deciding one by one: {e}",
                messages.len()
            );
            let mut steps = Vec::with_capacity(bodies.len());
            for body in bodies {
                steps.push(match decide(store, config, model, vec![body]).await? {
                    Ok(mut o) => match o.pop() {
                        Some(o) => Step::Done(o),
                        None => Step::Retry("no outcome".into()),
                    },
                    Err(e) => Step::Retry(e),
                });
            }
            steps
        }
    })
}

/// A decided batch: publish every result, then acknowledge (the commit came first). Returns
/// what it counted, with `Err` when NATS failed: what was not acknowledged is redelivered.
async fn finish(
    js: &jetstream::Context,
    config: &WorkerConfig,
    messages: Vec<jetstream::Message>,
    steps: Vec<Step>,
) -> (Tally, Result<(), WorkerError>) {
    // The batch's decisions are committed: they count whatever happens next.
    let mut tally = Tally::default();
    for step in &steps {
        match step {
            Step::Done(Outcome::Decided(_)) => tally.decided += 1,
            Step::Done(Outcome::Duplicate(_)) => tally.duplicates += 1,
            _ => {}
        }
    }
    let result = publish_and_ack(js, config, &messages, steps, &mut tally).await;
    (tally, result)
}

async fn publish_and_ack(
    js: &jetstream::Context,
    config: &WorkerConfig,
    messages: &[jetstream::Message],
    steps: Vec<Step>,
    tally: &mut Tally,
) -> Result<(), WorkerError> {
    // Publish every result, then wait for the stream's acknowledgements together.
    let mut pending = Vec::with_capacity(steps.len());
    let mut done = Vec::with_capacity(steps.len());
    for (msg, step) in messages.iter().zip(steps) {
        let deliveries = msg.info().map(|i| i.delivered).unwrap_or(1);
        let outcome = match step {
            Step::Done(o) => o,
            Step::Retry(e) if deliveries < config.max_attempts => {
                tracing::warn!("deciding failed (delivery {deliveries}), retrying: {e}");
                tally.retried += 1;
                let delay = Duration::from_millis(200 * deliveries.clamp(1, 25) as u64);
                msg.ack_with(AckKind::Nak(Some(delay)))
                    .await
                    .map_err(nats)?;
                continue;
            }
            Step::Retry(e) => Outcome::Rejected(Rejection {
                declaration_id: None,
                reason: format!("gave up after {deliveries} deliveries: {e}"),
            }),
        };
        let (subject, body) = match outcome {
            Outcome::Decided(d) | Outcome::Duplicate(d) => {
                (config.topology.decisions_subject(), serde_json::to_vec(&d)?)
            }
            Outcome::Rejected(rejection) => {
                tally.dead_lettered += 1;
                let dead = DeadLetter {
                    rejection,
                    deliveries,
                    payload: String::from_utf8_lossy(&msg.payload).into_owned(),
                };
                (
                    config.topology.dead_letter_subject(),
                    serde_json::to_vec(&dead)?,
                )
            }
        };
        pending.push(js.publish(subject, body.into()).await.map_err(nats)?);
        done.push(msg);
    }
    for ack in pending {
        ack.await.map_err(nats)?;
    }
    // Only now, after the commit and the publications: the messages are done.
    futures_util::future::try_join_all(done.iter().map(|m| m.double_ack()))
        .await
        .map_err(nats)?;
    Ok(())
}
