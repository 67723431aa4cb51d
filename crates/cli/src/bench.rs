//! `borderline bench`: prints the in-process benchmarks of `borderline-devkit` (scripts/bench.sh).

use crate::targeting::load_model;
use anyhow::Result;
use borderline_ingest::Profile;
use borderline_targeting::score::Scorer;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Parse and validate a file: rows per second (no output written).
    Ingest {
        input: PathBuf,
        #[arg(long, default_value = "korea-customs")]
        profile: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Score declarations held in memory: rows per second without reasons, with fast and with
    /// exact reasons.
    Score(BenchScore),
    /// The web inspection queue over a store of synthetic decisions: median and slowest
    /// response time of queue pages (filters, a deep page) beside the start page as baseline,
    /// over HTTP on loopback against the server in this process.
    Queue(BenchQueue),
    /// The audit chain under concurrent writers: records appended per second by WRITERS
    /// processes' worth of stores (each its own connection pool) at once, BATCH records per
    /// transaction, against the same with one writer.
    Audit {
        /// The store (a SQLite file or a postgres:// URL); records are appended to it.
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 4)]
        writers: usize,
        /// Records per writer.
        #[arg(long, default_value_t = 2000)]
        records: usize,
        /// Records per transaction.
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
}

#[derive(Args)]
pub struct BenchQueue {
    /// Decisions in the store.
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 21)]
    pub runs: usize,
    /// SQLite file to fill (reused when it already holds the rows); a temporary one by default.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

#[derive(Args)]
pub struct BenchScore {
    #[arg(long, default_value = "out/model.json.gz")]
    pub model: PathBuf,
    #[arg(long)]
    pub input: PathBuf,
    /// Declarations loaded for the benchmark.
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Queue(a) => crate::bench_queue::run(&a)?,
        BenchCommand::Ingest {
            input,
            profile,
            runs,
        } => {
            let b = borderline_devkit::bench::ingest(&input, &Profile::resolve(&profile)?, runs)?;
            println!(
                "ingest+validate: {} rows, median {:.0} rows/s over {} runs (one thread)",
                b.rows, b.median_rows_per_s, b.runs
            );
        }
        BenchCommand::Score(a) => {
            let scorer = Scorer::new(load_model(&a.model)?);
            let b = borderline_devkit::bench::score(&scorer, &a.input, a.rows, a.runs)?;
            println!(
                "features only:              median {:>10.0} declarations/s",
                b.features_only
            );
            println!(
                "model {}: {} trees, {} features; {} declarations in memory",
                b.model_id, b.trees, b.features, b.rows
            );
            println!(
                "score one by one, no reasons: median {:>8.0} declarations/s (one thread)",
                b.one_by_one
            );
            println!(
                "score in blocks, no reasons: median {:>9.0} declarations/s (one thread)",
                b.blocks
            );
            println!(
                "score + fast reasons (all): median {:>10.0} declarations/s",
                b.fast_reasons
            );
            println!(
                "score + exact SHAP (all):   median {:>10.0} declarations/s (300 rows)",
                b.exact_reasons
            );
            println!(
                "score + exact SHAP in blocks (all): median {:>4.0} declarations/s ({} rows)",
                b.exact_reasons_blocks,
                b.rows.min(2_000)
            );
            println!(
                "with reasons for red+yellow only (15%): fast {:.0}/s, exact {:.0}/s, exact in blocks {:.0}/s",
                b.with_reasons_for_15_percent(b.fast_reasons),
                b.with_reasons_for_15_percent(b.exact_reasons),
                b.with_reasons_for_15_percent(b.exact_reasons_blocks)
            );
        }
        BenchCommand::Audit {
            db,
            writers,
            records,
            batch,
        } => {
            let one = audit_appends(&db, 1, records, batch)?;
            let many = audit_appends(&db, writers, records, batch)?;
            println!(
                "audit chain, {batch} records per transaction: 1 writer {one:.0} records/s; {writers} writers at once {many:.0} records/s (ratio {:.2})",
                many / one.max(1e-9)
            );
            let store = crate::store::open(Some(&db), true)?;
            let verified = borderline_governance::AuditLog::new(&store).verify()?;
            println!("chain after the run: {verified}");
        }
    }
    Ok(())
}

/// Records per second appended by `writers` threads, each with a store of its own.
fn audit_appends(
    db: &std::path::Path,
    writers: usize,
    records: usize,
    batch: usize,
) -> Result<f64> {
    use borderline_governance::audit::{AuditEvent, GovernanceAction};
    let writers = writers.max(1);
    let batch = batch.max(1);
    let stores = (0..writers)
        .map(|_| crate::store::open(Some(db), false))
        .collect::<Result<Vec<_>>>()?;
    let start = std::sync::Barrier::new(writers + 1);
    let began = std::thread::scope(|s| -> Result<std::time::Instant> {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(w, store)| {
                let start = &start;
                s.spawn(move || -> Result<()> {
                    let who = borderline_governance::Actor::new(&format!("bench.{w}"))?;
                    let log = borderline_governance::AuditLog::new(store);
                    let events: Vec<AuditEvent> = (0..batch)
                        .map(|i| {
                            AuditEvent::Governance(GovernanceAction {
                                action: "bench.append".into(),
                                subject: format!("bench/{w}/{i}"),
                                detail: serde_json::json!({"lane": "green"}),
                            })
                        })
                        .collect();
                    start.wait();
                    let mut done = 0;
                    while done < records {
                        let k = batch.min(records - done);
                        log.append_all(&who, &events[..k])?;
                        done += k;
                    }
                    Ok(())
                })
            })
            .collect();
        start.wait();
        let began = std::time::Instant::now();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
        }
        Ok(began)
    })?;
    Ok((writers * records) as f64 / began.elapsed().as_secs_f64().max(1e-9))
}
