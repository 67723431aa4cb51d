//! The `borderline hs ...` command group: arguments, one call to `borderline_app::hs` (or the
//! evaluation in `borderline-devkit`), printing.

use anyhow::bail;
use borderline_app::hs as app;
use borderline_devkit::hs::eval;
use borderline_hs::CheckPolicy;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// HS classification: validate codes, suggest codes for goods descriptions, check declared codes.
    Hs(HsCommand),
}

#[derive(clap::Args, Debug)]
pub struct HsCommand {
    #[command(subcommand)]
    pub action: HsAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum HsAction {
    /// Suggest the top-k HS6 codes for a goods description (or a batch file).
    Suggest {
        /// Goods description (omit with --input).
        description: Option<String>,
        /// Number of codes to return.
        #[arg(short = 'k', long, default_value_t = 5)]
        k: usize,
        /// Batch input: CSV or JSON Lines with a `description` column (optional `category` and
        /// `attributes` columns are used too).
        #[arg(long, requires = "output")]
        input: Option<PathBuf>,
        /// Batch output: `.csv` or `.jsonl`.
        #[arg(long, requires = "input")]
        output: Option<PathBuf>,
        /// Model file from `hs train` (default: bundled model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check whether a declared code is plausible for a description.
    Check {
        #[arg(long)]
        description: String,
        #[arg(long)]
        code: String,
        /// Plausible when the declared code is within the top k...
        #[arg(short = 'k', long, default_value_t = 5)]
        k: usize,
        /// ...or its heading has at least this probability.
        #[arg(long, default_value_t = 0.2)]
        min_heading_confidence: f64,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Add labelled history (CSV/JSONL with `description` and `hs_code`) and save a model file.
    Train {
        #[arg(long)]
        labelled: PathBuf,
        /// Model file to extend (default: bundled model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Where to write the model file.
        #[arg(long, default_value = "hs-model.json.gz")]
        output: PathBuf,
        /// Also re-fit the confidence temperatures on the labelled history (5-fold, needs >= 30 rows).
        #[arg(long)]
        calibrate: bool,
    },
    /// Evaluate on a labelled listing file (HSCodeComp JSONL layout) against a TF-IDF baseline.
    Evaluate {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Validate a declared HS code against HS 2022.
    Validate {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    let Command::Hs(HsCommand { action }) = cmd;
    match action {
        HsAction::Suggest {
            description,
            k,
            input,
            output,
            model,
            json,
        } => {
            let m = app::classifier(model.as_deref())?;
            match (description, input, output) {
                (_, Some(input), Some(output)) => {
                    let n = app::suggest_file(&m, &input, &output, k)?;
                    eprintln!(
                        "wrote suggestions for {n} descriptions to {}",
                        output.display()
                    );
                }
                (Some(d), None, None) => {
                    let s = app::suggest(&m, &d, k)?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&s)?);
                    } else {
                        for (i, sug) in s.iter().enumerate() {
                            println!(
                                "{}. {}  {:>5.1}%  (heading {} {:.1}%)",
                                i + 1,
                                sug.code,
                                sug.confidence * 100.0,
                                sug.code.get(..4).unwrap_or(&sug.code),
                                sug.heading_confidence * 100.0
                            );
                            println!("   {}", m.nomenclature().path_string(&sug.code));
                        }
                    }
                }
                _ => bail!("give a description, or --input FILE --output FILE"),
            }
        }
        HsAction::Check {
            description,
            code,
            k,
            min_heading_confidence,
            model,
            json,
        } => {
            let m = app::classifier(model.as_deref())?;
            let policy = CheckPolicy {
                k,
                min_heading_confidence,
            };
            let r = app::check(&m, &description, &code, policy);
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!("declared {}: {}", r.declared, r.validation);
                println!(
                    "{}: P(code) {:.1}%, P(heading) {:.1}%{}",
                    if r.plausible {
                        "PLAUSIBLE"
                    } else {
                        "IMPLAUSIBLE"
                    },
                    r.declared_confidence * 100.0,
                    r.declared_heading_confidence * 100.0,
                    r.declared_rank
                        .map(|x| format!(", rank {x}"))
                        .unwrap_or_default()
                );
                for reason in &r.reasons {
                    println!("reason [{}]: {}", reason.code, reason.text);
                }
                println!("more likely codes:");
                for s in &r.suggestions {
                    println!(
                        "  {}  {:>5.1}%  {}",
                        s.code,
                        s.confidence * 100.0,
                        s.description
                    );
                }
            }
        }
        HsAction::Train {
            labelled,
            model,
            output,
            calibrate,
        } => {
            let t = app::train(app::classifier(model.as_deref())?, &labelled, calibrate)?;
            if let Some(fit) = &t.calibration {
                println!(
                    "re-fitted temperatures on {} labelled rows (5-fold): t_heading {:.3} (NLL {:.3}), t_subheading {:.3} (NLL {:.3})",
                    fit.items, fit.t_heading, fit.nll_heading, fit.t_subheading, fit.nll_subheading
                );
            }
            if t.too_few_to_calibrate {
                println!(
                    "too few labelled rows to re-fit temperatures (need {}); kept the shipped ones",
                    app::MIN_CALIBRATION_ROWS
                );
            }
            t.classifier.save(&output)?;
            println!(
                "model {}: {} labelled examples ({} new, {} skipped)",
                output.display(),
                t.classifier.labelled().len(),
                t.read - t.skipped.len(),
                t.skipped.len()
            );
            for (ex, why) in t.skipped.iter().take(10) {
                println!("  skipped {:?} {:?}: {why}", ex.hs_code, ex.description);
            }
        }
        HsAction::Evaluate { file, json, model } => {
            let m = app::classifier(model.as_deref())?;
            let (items, skipped) = eval::load(&file)?;
            let r = eval::evaluate(&m, &items, skipped);
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_report(&r);
            }
        }
        HsAction::Validate { code, json } => {
            let v = app::validate(&code);
            if json {
                println!("{}", serde_json::to_string_pretty(&v.status)?);
            } else {
                println!("{}", v.status);
                if let Some(path) = &v.path {
                    println!("{path}");
                }
            }
            if !v.status.is_valid() {
                std::process::exit(2);
            }
        }
    }
    Ok(())
}

fn print_report(r: &eval::Report) {
    let pct = |x: f64| format!("{:5.1}%", x * 100.0);
    println!("{} items ({} skipped)", r.items, r.skipped);
    println!(
        "{:<34} {:>7} {:>7} {:>7}   {:>7} {:>7} {:>7}",
        "", "top1 2", "top1 4", "top1 6", "top5 2", "top5 4", "top5 6"
    );
    let line = |name: &str, a: &eval::Levels, b: &eval::Levels| {
        println!(
            "{:<34} {:>7} {:>7} {:>7}   {:>7} {:>7} {:>7}",
            name,
            pct(a.hs2),
            pct(a.hs4),
            pct(a.hs6),
            pct(b.hs2),
            pct(b.hs4),
            pct(b.hs6)
        )
    };
    line("borderline (all fields)", &r.top1, &r.top5);
    line(
        "borderline (title only)",
        &r.title_only.top1,
        &r.title_only.top5,
    );
    line(
        "baseline TF-IDF (all fields)",
        &r.baseline.top1,
        &r.baseline.top5,
    );
    line(
        "baseline TF-IDF (title only)",
        &r.baseline.title_only.top1,
        &r.baseline.title_only.top5,
    );
    let c = &r.calibration;
    println!(
        "calibration (all fields): top-1 HS6 mean confidence {} vs accuracy {} (ECE {:.3}); top-1 HS4 {} vs {} (ECE {:.3})",
        pct(c.hs6_mean_confidence),
        pct(c.hs6_accuracy),
        c.hs6_ece,
        pct(c.hs4_mean_confidence),
        pct(c.hs4_accuracy),
        c.hs4_ece
    );
    println!(
        "ms/query (all fields, 1 thread): p50 {:.3}  p99 {:.3}   baseline p50 {:.3}",
        r.ms_per_query_p50, r.ms_per_query_p99, r.baseline.ms_per_query_p50
    );
}
