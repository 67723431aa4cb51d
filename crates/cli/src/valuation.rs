//! `borderline valuation build|check|evaluate`.

use crate::benchmark::{BenchmarkBuilder, Benchmarks, Config};
use crate::check::CheckOutcome;
use crate::eval::{self, EvalConfig, Period};
use anyhow::Context;
use borderline_ingest::{DeclarationReader, Profile, Row};
use chrono::NaiveDate;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Valuation analysis: unit-value benchmarks, under/over-valuation checks, evaluation.
    Valuation(ValuationCommand),
}

#[derive(clap::Args, Debug)]
pub struct ValuationCommand {
    #[command(subcommand)]
    pub action: ValuationAction,
}

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Trailing window in months before the as-of date.
    #[arg(long, default_value_t = 12)]
    pub window_months: u32,
    /// Minimum declarations for a cell to be used (else fall back HS6 x origin -> HS6 -> HS4 -> HS2).
    #[arg(long, default_value_t = 5)]
    pub min_sample: u32,
    /// Weight declarations by quantity (net mass) instead of counting them equally.
    #[arg(long)]
    pub weighted: bool,
    /// |score| at or above which a declaration is flagged.
    #[arg(long, default_value_t = 3.5)]
    pub z: f64,
    /// Floor of the robust scale in log units.
    #[arg(long, default_value_t = 0.05)]
    pub min_scale: f64,
    /// Benchmark currency (default: the first declaration's).
    #[arg(long)]
    pub currency: Option<String>,
    /// Combined-score parameters as JSON, e.g. '{"merge_t":6,"prior_mix":0.1}' (defaults
    /// were chosen on the validation period).
    #[arg(long)]
    pub tuning: Option<String>,
}

impl BenchArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let tuning = match &self.tuning {
            Some(j) => serde_json::from_str(j).context("--tuning")?,
            None => Default::default(),
        };
        Ok(Config {
            tuning,
            window_months: self.window_months,
            min_sample: self.min_sample,
            weighted: self.weighted,
            min_scale: self.min_scale,
            z_threshold: self.z,
            currency: self.currency.clone(),
        })
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum ValuationAction {
    /// Build benchmarks from historical declarations (streamed); write them and/or a CSV table.
    Build {
        /// Historical declaration files (CSV / JSON Lines, optionally gzip).
        #[arg(long = "history", required = true, num_args = 1..)]
        history: Vec<PathBuf>,
        /// Column profile: korea-customs, generic, or a JSON profile file.
        #[arg(long, default_value = "korea-customs")]
        profile: String,
        /// Benchmarks cover [as_of - window, as_of); default: the day after the last declaration.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[command(flatten)]
        bench: BenchArgs,
        /// Benchmark file to write (gzip JSON).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Analysts' CSV table of every cell and level.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Check declarations against benchmarks (trader self-check: which look abnormal, and why).
    Check {
        /// Declarations to check.
        input: PathBuf,
        /// Benchmarks written by `valuation build` ...
        #[arg(long, conflicts_with = "history")]
        benchmarks: Option<PathBuf>,
        /// ... or historical files to build them from on the fly (as of the first checked date).
        #[arg(long, num_args = 1..)]
        history: Vec<PathBuf>,
        #[arg(long, default_value = "korea-customs")]
        profile: String,
        #[command(flatten)]
        bench: BenchArgs,
        /// Print every declaration, not only flagged ones and data-quality findings.
        #[arg(long)]
        all: bool,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
    /// Seeded evaluation: noise, injected mis-valuation in three bands, Borderline vs the IQR filter.
    Evaluate {
        /// Directory with kcs_{train,valid,test}.csv.gz.
        #[arg(long, default_value = "data/declarations")]
        data_dir: PathBuf,
        /// Sigma of the log-normal noise on every unit value (0 = raw data).
        #[arg(long, default_value_t = 0.35)]
        noise: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of scored declarations mis-valued per band.
        #[arg(long, default_value_t = 0.02)]
        rate: f64,
        /// Scored period: test (history train+valid) or valid (history train; for tuning).
        #[arg(long, value_enum, default_value_t = Period::Test)]
        period: Period,
        #[command(flatten)]
        bench: BenchArgs,
        #[arg(long)]
        json: bool,
    },
}

fn stream_into(
    builder: &mut BenchmarkBuilder,
    path: &Path,
    profile: &Profile,
) -> anyhow::Result<(u64, NaiveDate)> {
    let mut reader = DeclarationReader::open(path, profile.clone())
        .with_context(|| format!("opening {}", path.display()))?;
    let mut last = NaiveDate::MIN;
    for row in reader.by_ref() {
        if let Row::Accepted(d) = row {
            last = last.max(d.date);
            builder.add(&d);
        }
    }
    if let Some(e) = reader.take_error() {
        return Err(e.into());
    }
    eprintln!("{}", reader.report());
    Ok((reader.report().accepted, last))
}

fn build_from(
    files: &[PathBuf],
    profile: &Profile,
    config: Config,
    as_of: Option<NaiveDate>,
) -> anyhow::Result<Benchmarks> {
    let mut builder = BenchmarkBuilder::new(config)?;
    let mut last = NaiveDate::MIN;
    for f in files {
        let (_, l) = stream_into(&mut builder, f, profile)?;
        last = last.max(l);
    }
    let as_of = match as_of {
        Some(d) => d,
        None => last.succ_opt().context("no declarations in history")?,
    };
    Ok(builder.finalize(as_of))
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    let Command::Valuation(ValuationCommand { action }) = cmd;
    match action {
        ValuationAction::Build {
            history,
            profile,
            as_of,
            bench,
            out,
            csv,
        } => {
            let profile = Profile::resolve(&profile)?;
            let b = build_from(&history, &profile, bench.config()?, as_of)?;
            eprintln!(
                "benchmarks as of {} (window from {}): {} cells, {} own-history groups, currency {}, skipped {:?}",
                b.as_of,
                b.window_start,
                b.cells.len(),
                b.parties.len(),
                b.currency.as_deref().unwrap_or("-"),
                b.counts.skipped
            );
            if let Some(p) = out {
                b.save(&p)?;
                eprintln!("wrote {}", p.display());
            }
            if let Some(p) = csv {
                let f = std::fs::File::create(&p)
                    .with_context(|| format!("creating {}", p.display()))?;
                b.write_csv(std::io::BufWriter::new(f))?;
                eprintln!("wrote {}", p.display());
            }
            Ok(())
        }
        ValuationAction::Check {
            input,
            benchmarks,
            history,
            profile,
            bench,
            all,
            json,
        } => {
            let profile = Profile::resolve(&profile)?;
            let b = if let Some(p) = benchmarks {
                Benchmarks::load(&p)?
            } else if !history.is_empty() {
                // as of the first checked declaration's date
                let mut first: Option<NaiveDate> = None;
                let mut r = DeclarationReader::open(&input, profile.clone())?;
                for row in r.by_ref() {
                    if let Row::Accepted(d) = row {
                        first = Some(first.map_or(d.date, |f: NaiveDate| f.min(d.date)));
                    }
                }
                build_from(&history, &profile, bench.config()?, first)?
            } else {
                anyhow::bail!("give --benchmarks FILE or --history FILE...");
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut reader = DeclarationReader::open(&input, profile)?;
            let (mut n, mut flagged, mut dq) = (0u64, 0u64, 0u64);
            for row in reader.by_ref() {
                let d = match row {
                    Row::Accepted(d) => d,
                    Row::Quarantined(q) => {
                        eprintln!("{q}");
                        continue;
                    }
                };
                n += 1;
                let c = b.check(&d);
                let reasons = b.reasons(&d, &c);
                let is_dq = matches!(c.outcome, CheckOutcome::DataQuality { .. });
                flagged += c.flagged as u64;
                dq += is_dq as u64;
                if !(all || c.flagged || is_dq) {
                    continue;
                }
                if json {
                    let line = serde_json::json!({
                        "declaration_id": d.declaration_id.as_str(),
                        "check": c,
                        "reasons": reasons,
                    });
                    writeln!(out, "{line}")?;
                } else {
                    let text: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
                    writeln!(
                        out,
                        "{}\t{:?}\tscore {:.2}\t{}",
                        d.declaration_id,
                        c.direction,
                        c.score,
                        if text.is_empty() {
                            "-".to_string()
                        } else {
                            text.join(" | ")
                        }
                    )?;
                }
            }
            if let Some(e) = reader.take_error() {
                return Err(e.into());
            }
            out.flush()?;
            eprintln!("{}", reader.report());
            eprintln!("checked {n}: {flagged} flagged, {dq} data-quality findings");
            Ok(())
        }
        ValuationAction::Evaluate {
            data_dir,
            noise,
            seed,
            rate,
            period,
            bench,
            json,
        } => {
            if !(noise.is_finite() && noise >= 0.0) {
                anyhow::bail!("--noise must be >= 0");
            }
            if !(rate > 0.0 && rate < 0.5) {
                anyhow::bail!("--rate must be in (0, 0.5)");
            }
            let cfg = EvalConfig {
                data_dir,
                noise,
                seed,
                rate,
                period,
                benchmarks: bench.config()?,
            };
            let t = std::time::Instant::now();
            let r = eval::run(&cfg)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", r.to_text());
                eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
            }
            Ok(())
        }
    }
}
