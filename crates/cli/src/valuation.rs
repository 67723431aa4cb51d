//! `borderline valuation build|check|evaluate`: arguments, one call to
//! `borderline_app::valuation` (or the evaluation in `borderline-devkit`), printing.

use crate::output::{commit_file, create_file};
use anyhow::Context;
use borderline_app::declarations::Source;
use borderline_app::valuation::{self as app, BenchmarkSource};
use borderline_devkit::valuation::eval::{self, EvalConfig, Period};
use borderline_ingest::Profile;
use borderline_valuation::{CheckOutcome, Config};
use chrono::NaiveDate;
use std::io::Write;
use std::path::PathBuf;

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
        /// Layout of the --history files when it differs from the checked file's (e.g. a
        /// trader's generic file against Korea Customs history); default: --profile.
        #[arg(long)]
        history_profile: Option<String>,
        /// Dated exchange rates (CSV `date,currency,base,rate`; docs/data.md) converting a
        /// declared currency into the benchmarks'. Without it, a value in another currency is
        /// reported and compared with nothing.
        #[arg(long)]
        rates: Option<PathBuf>,
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
        #[arg(long, value_enum, default_value_t = PeriodArg::Test)]
        period: PeriodArg,
        #[command(flatten)]
        bench: BenchArgs,
        #[arg(long)]
        json: bool,
    },
}

/// `--period`: which period is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    Valid,
    Test,
}

impl From<PeriodArg> for Period {
    fn from(p: PeriodArg) -> Period {
        match p {
            PeriodArg::Valid => Period::Valid,
            PeriodArg::Test => Period::Test,
        }
    }
}

/// History files as sources (rows not accepted are counted, not written).
fn sources(files: &[PathBuf], profile: &Profile) -> Vec<Source> {
    files
        .iter()
        .map(|f| Source::new(f, profile.clone()))
        .collect()
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
            let built =
                app::build_benchmarks(&sources(&history, &profile), bench.config()?, as_of)?;
            for r in &built.history {
                eprintln!("{r}");
            }
            let b = built.benchmarks;
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
                let mut f = create_file(&p)?;
                b.write_csv(&mut f)?;
                commit_file(f)?;
                eprintln!("wrote {}", p.display());
            }
            Ok(())
        }
        ValuationAction::Check {
            input,
            benchmarks,
            history,
            profile,
            history_profile,
            rates,
            bench,
            all,
            json,
        } => {
            let history_layout = Profile::resolve(history_profile.as_deref().unwrap_or(&profile))?;
            let profile = Profile::resolve(&profile)?;
            let rates = match rates {
                Some(p) => Some(borderline_valuation::ExchangeRates::load(&p)?),
                None => None,
            };
            let source = if let Some(p) = benchmarks {
                BenchmarkSource::File(p)
            } else if !history.is_empty() {
                BenchmarkSource::History {
                    files: sources(&history, &history_layout),
                    config: bench.config()?,
                }
            } else {
                anyhow::bail!("give --benchmarks FILE or --history FILE...");
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let options = app::CheckOptions {
                rates: rates.as_ref(),
            };
            let input = Source::new(&input, profile);
            let summary = app::check_file_with(&input, &source, options, |d, c| {
                if !(all || c.check.flagged || c.data_quality || c.twin_gap.is_some()) {
                    return Ok(());
                }
                let line = if json {
                    serde_json::to_string(&c).unwrap_or_default()
                } else {
                    let text: Vec<&str> = c.reasons.iter().map(|r| r.text.as_str()).collect();
                    // A declaration compared with nothing has no direction or score to show.
                    let (direction, score) = if c.check.outcome == CheckOutcome::Checked {
                        (
                            format!("{:?}", c.check.direction),
                            format!("score {:.2}", c.check.score),
                        )
                    } else if c.data_quality {
                        ("not compared".to_string(), "-".to_string())
                    } else {
                        ("no benchmark".to_string(), "-".to_string())
                    };
                    format!(
                        "{}\t{}\t{}\t{}",
                        d.declaration_id,
                        direction,
                        score,
                        if text.is_empty() {
                            "-".to_string()
                        } else {
                            text.join(" | ")
                        }
                    )
                };
                writeln!(out, "{line}")
                    .map_err(borderline_app::AppError::io("writing to standard output"))
            });
            out.flush()?;
            let summary = summary?;
            for r in &summary.history {
                eprintln!("{r}");
            }
            for q in &summary.quarantined {
                eprintln!("{q}");
            }
            eprintln!("{}", summary.input);
            eprintln!(
                "checked {}: {} flagged, {} data-quality findings",
                summary.checked, summary.flagged, summary.data_quality
            );
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
                period: period.into(),
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
