//! `borderline publish FILE` and `borderline worker`: the declaration stream on NATS JetStream
//! (see borderline-worker). Parsing, one call, printing.

use crate::accounts::StoreArgs;
use anyhow::{Context, Result};
use borderline_app::capacity::QuotaPolicy;
use borderline_app::declarations::{self, Source};
use borderline_app::stream::{encode_declaration, StreamPolicy};
use borderline_app::targeting::{Capacities, Reasons};
use borderline_governance::{Actor, GovernanceStore};
use borderline_ingest::Profile;
use borderline_worker::{Topology, WorkerConfig};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone)]
pub struct NatsArgs {
    /// NATS server with JetStream (default: $BORDERLINE_NATS, else nats://127.0.0.1:4222).
    #[arg(long)]
    pub nats: Option<String>,
    /// Prefix of the subjects, streams and consumer (`PREFIX.declarations`, ...).
    #[arg(long, default_value = "borderline")]
    pub prefix: String,
}

impl NatsArgs {
    fn url(&self) -> String {
        self.nats
            .clone()
            .or_else(|| std::env::var("BORDERLINE_NATS").ok())
            .unwrap_or_else(|| "nats://127.0.0.1:4222".into())
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Put the declarations of FILE on the declaration stream (one message each).
    Publish {
        file: PathBuf,
        /// Column layout: korea-customs, generic, or a JSON profile file.
        #[arg(long, default_value = "korea-customs")]
        profile: String,
        /// Publish at this many declarations per second (default: as fast as the stream takes them).
        #[arg(long)]
        rate: Option<f64>,
        /// Wait for each declaration's decision on the decisions subject and print the time
        /// from publication to decision (p50, p99, max) as JSON.
        #[arg(long)]
        latency: bool,
        /// With --latency: give up waiting for decisions after this many seconds.
        #[arg(long, default_value_t = 120)]
        wait: u64,
        #[command(flatten)]
        nats: NatsArgs,
    },
    /// Lane shares achieved per office and day against the capacities, with drift alarms.
    Capacity {
        /// First day (UTC, YYYY-MM-DD; default: today).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day (default: --from).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Red capacity in percent.
        #[arg(long, default_value_t = 5.0)]
        red: f64,
        /// Yellow capacity in percent.
        #[arg(long, default_value_t = 10.0)]
        yellow: f64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Decide declarations from the stream with the active approved model, once each per model
    /// version; run several (on several machines) against one store.
    Worker(WorkerArgs),
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The worker's name in the audit log.
    #[arg(long, default_value = "worker")]
    pub id: String,
    /// Red capacity in percent of each office's declarations per day (the lane from the
    /// model's out-of-sample thresholds, under a quota shared by every worker).
    #[arg(long, default_value_t = 5.0)]
    pub red: f64,
    /// Yellow capacity in percent.
    #[arg(long, default_value_t = 10.0)]
    pub yellow: f64,
    /// Model reasons per red/yellow decision (0: none, the fastest).
    #[arg(long, default_value_t = 0)]
    pub reasons: usize,
    /// Messages per batch (the active model is checked between batches).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Deliveries of a message failing on the store before it is dead-lettered.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: i64,
    /// Stop after this many seconds without a message (default: run until Ctrl-C).
    #[arg(long)]
    pub idle_exit: Option<u64>,
    /// Party directory CSV `party_id,name,address,country[,schema]` naming the declarations'
    /// party ids: screen each declaration's parties against the bundled watchlists and the
    /// supplier network kept in the store (a hit raises the lane to at least yellow).
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Relationship CSV `from,to,relation[,source]` (owner, subsidiary, ...) for the supplier
    /// network (with --parties).
    #[arg(long, requires = "parties")]
    pub relations: Option<PathBuf>,
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Publish {
            file,
            profile,
            rate,
            latency,
            wait,
            nats,
        } => {
            let profile = Profile::resolve(&profile)?;
            let loaded = declarations::load(&Source::new(&file, profile))?;
            let bodies = loaded
                .declarations
                .iter()
                .map(encode_declaration)
                .collect::<borderline_app::Result<Vec<_>>>()?;
            let url = nats.url();
            let topology = Topology::new(nats.prefix);
            if latency {
                let ids: Vec<String> = loaded
                    .declarations
                    .iter()
                    .map(|d| d.declaration_id.to_string())
                    .collect();
                let report = runtime()?.block_on(async {
                    let (client, js) = borderline_worker::connect(&url, &topology).await?;
                    borderline_worker::publish_timed(
                        &client,
                        &js,
                        &topology,
                        ids.into_iter().zip(bodies).collect(),
                        rate,
                        Duration::from_secs(wait),
                    )
                    .await
                })?;
                println!("{}", serde_json::to_string(&report)?);
                return Ok(());
            }
            let started = std::time::Instant::now();
            let n = runtime()?.block_on(async {
                let (_client, js) = borderline_worker::connect(&url, &topology).await?;
                match rate {
                    Some(r) => borderline_worker::publish_paced(&js, &topology, bodies, r).await,
                    None => borderline_worker::publish(&js, &topology, bodies).await,
                }
            })?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "published {n} declarations on {} in {secs:.1} s ({:.0}/s; {} rows not accepted)",
                topology.declarations_subject(),
                n as f64 / secs.max(1e-9),
                loaded.report.quarantined
            );
        }
        Command::Capacity {
            from,
            to,
            red,
            yellow,
            store,
        } => {
            let store = store.open(true)?;
            let from = from.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let policy = QuotaPolicy::new(Capacities {
                red_percent: red,
                yellow_percent: yellow,
            });
            let report =
                borderline_app::capacity::report(&store, from, to.unwrap_or(from), &policy)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.alarms > 0 {
                eprintln!(
                    "capacity drift: {} office-days off their capacities by more than {} pp",
                    report.alarms, report.tolerance_pp
                );
            }
        }
        Command::Worker(a) => worker(a)?,
    }
    Ok(())
}

fn worker(a: WorkerArgs) -> Result<()> {
    // Logs on standard error: standard output carries the closing report (JSON).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BORDERLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let url = a.nats.url();
    let store: Arc<dyn GovernanceStore> = Arc::new(a.store.open(true)?);
    let mut config = WorkerConfig::new(Actor::new(&a.id)?);
    config.topology = Topology::new(a.nats.prefix);
    config.policy = StreamPolicy {
        quota: QuotaPolicy::new(Capacities {
            red_percent: a.red,
            yellow_percent: a.yellow,
        }),
        reasons: Reasons {
            method: (a.reasons > 0)
                .then_some(Reasons::default().method)
                .flatten(),
            top: a.reasons,
        },
        ..StreamPolicy::default()
    };
    if let Some(p) = &a.parties {
        let (screening, skipped) =
            borderline_app::network::NetworkScreening::from_files(p, a.relations.as_deref())?;
        for s in &skipped {
            eprintln!("warning: {s}");
        }
        config.screening = Some(Arc::new(screening));
    }
    config.batch = a.batch;
    config.max_attempts = a.max_attempts.max(1);
    config.idle_exit = a.idle_exit.map(Duration::from_secs);
    let stop = Arc::new(AtomicBool::new(false));
    let rt = runtime()?;
    let report = rt.block_on(async {
        let flag = stop.clone();
        tokio::spawn(async move {
            // Ctrl-C: finish the batch in hand (commit, publish, ack), then stop.
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::Relaxed);
            }
        });
        borderline_worker::run_worker(&url, store, config, stop).await
    })?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
