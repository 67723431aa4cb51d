//! Targeting commands: ingest, train, evaluate, score, demo, generate.

use crate::output::{commit_file, create_file, parse_percent};
use anyhow::{bail, Context, Result};
use borderline_app::declarations::{self, Loaded, Source};
use borderline_app::governance::models::{self as app_models, ModelStatus};
use borderline_app::governance::GovernanceStore;
use borderline_app::screening::{bundled_matcher, screen_batch, Parties};
use borderline_app::targeting::{self as app, Capacities, Decided, Reasons};
use borderline_app::training::{train_model, TrainConfig, TrainRequest};
use borderline_core::{Lane, Signal};
use borderline_ingest::Profile;
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Explain, Scorer};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum Command {
    /// Validate declaration files: print the accounting (read = accepted + quarantined) and
    /// write quarantined rows with file, line, field and reason.
    Ingest(IngestArgs),
    /// Train a risk model from past inspection outcomes (early stopping on a later period).
    Train(TrainArgs),
    /// Evaluate a model on a held-back labelled period.
    Evaluate(EvaluateArgs),
    /// Score declarations: ranked inspection list with risk, lane and reasons.
    Score(ScoreArgs),
    /// Train, evaluate and score the bundled data; print the top of the inspection list.
    Demo(DemoArgs),
    /// Generate N realistic declarations by resampling and perturbing the bundled data.
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Column layout: korea-customs, generic, or a JSON profile file.
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    /// Folder for quarantine files (rows not accepted).
    #[arg(long, default_value = "out/quarantine")]
    pub quarantine_dir: PathBuf,
}

#[derive(Args)]
pub struct IngestArgs {
    /// CSV or JSON Lines files (optionally .gz).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Also write accepted declarations as JSON Lines in the generic layout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Print the accounting as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Training period declarations with outcomes.
    #[arg(long)]
    pub train: PathBuf,
    /// Validation period (after the training period) for early stopping.
    #[arg(long)]
    pub valid: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the model artefact.
    #[arg(long, default_value = "out/model.json.gz")]
    pub model: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the early-stopped model instead of refitting on train + valid.
    #[arg(long)]
    pub no_refit: bool,
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Leaves per tree (default 127: chosen on the validation period, BENCHMARKS.md). Fewer
    /// leaves score and explain faster.
    #[arg(long)]
    pub num_leaves: Option<u32>,
    /// Depth limit of each tree (-1: none). Shallower trees score and explain faster.
    #[arg(long)]
    pub max_depth: Option<i32>,
    /// Also learn from inspection outcomes officers recorded (`borderline feedback`) on or after
    /// this day (YYYY-MM-DD): the declarations in --feedback-declarations with such an outcome
    /// join the most recent period (validation and refit), the recorded outcome replacing any
    /// in the file.
    #[arg(long, requires = "feedback_declarations")]
    pub since: Option<chrono::NaiveDate>,
    /// Declarations the recorded outcomes refer to (e.g. the period scored by `select`).
    #[arg(long, requires = "since")]
    pub feedback_declarations: Option<PathBuf>,
    /// Governance database holding the feedback (default: $BORDERLINE_DB, else borderline.db).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Upper bound on boosting rounds (trees) before early stopping; fewer trees score faster.
    #[arg(long)]
    pub max_trees: Option<u32>,
    /// Leave the valuation module's features out of the model.
    #[arg(long)]
    pub no_valuation: bool,
    /// Add the HS-divergence module's features to the model (off by default: it did not help
    /// on the validation period; BENCHMARKS.md).
    #[arg(long)]
    pub hs_divergence: bool,
    /// Threads LightGBM trains with; the model is deterministic for a seed (BENCHMARKS.md
    /// says whether the thread count changes it).
    #[arg(long, default_value_t = 2)]
    pub threads: u32,
    /// Seed-bagged fits merged into one ensemble (mean of their raw scores): K fits with seeds
    /// seed .. seed+K-1; K times the training time and trees.
    #[arg(long, default_value_t = TrainConfig::default().bag, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub bag: u32,
    /// Fewest training declarations per leaf (larger: smaller, smoother trees).
    #[arg(long)]
    pub min_data_in_leaf: Option<u32>,
    /// Leave a feature out of learning (repeatable; names as in the model's feature list):
    /// it is still computed, but no tree splits on it. Added to the default exclusions (the
    /// calendar, and the history keys of the office, declarant, seller, courier and process
    /// codes).
    #[arg(long = "exclude-feature", value_name = "NAME")]
    pub exclude_feature: Vec<String>,
    /// Learn from what the default leaves out (repeatable): a feature name (day_of_week,
    /// day_of_month, declarant_fraud_rate, ...) or a dimension, meaning every history key that
    /// contains it (office, declarant, seller, courier, process_type, import_type, import_use,
    /// payment_type, transport_mode, tax_type, origin_indicator).
    #[arg(long = "include-feature", value_name = "NAME")]
    pub include_feature: Vec<String>,
    /// Validation metric early stopping watches (default: average precision, which weighs
    /// the top of the list; `auc` was the default before).
    #[arg(long, value_parser = ["average_precision", "auc", "binary_logloss"])]
    pub early_stopping_metric: Option<String>,
}

#[derive(Args)]
pub struct EvaluateArgs {
    #[arg(long, default_value = "out/model.json.gz")]
    pub model: PathBuf,
    /// Labelled declarations of the held-back period.
    #[arg(long)]
    pub test: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ReasonsArg {
    Exact,
    Fast,
    None,
}

#[derive(Args)]
pub struct ScoreArgs {
    #[arg(long, default_value = "out/model.json.gz")]
    pub model: PathBuf,
    /// Governance database to check the model against (default: $BORDERLINE_DB if set).
    /// Output from a model that is not its registered, approved, active model is marked
    /// `model_status` = `unregistered` or `registered-not-active`.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Declarations to score.
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub in_args: InputArgs,
    /// Output file (default: standard output).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Output format (default: from the output extension, else CSV).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Share for physical inspection (red lane), e.g. 5%: picks the model's absolute score
    /// threshold (what 5% of the validation period reached) and caps the batch at floor(n x 5%).
    #[arg(long, default_value = "5%", value_parser = parse_percent)]
    pub capacity: f64,
    /// Share for documentary checks (yellow lane), after the red lane (threshold and ceiling).
    #[arg(long, default_value = "10%", value_parser = parse_percent)]
    pub yellow: f64,
    /// Reasons for red and yellow declarations: exact TreeSHAP, fast path contributions, none.
    #[arg(long, value_enum, default_value = "exact")]
    pub reasons: ReasonsArg,
    /// Reasons per declaration.
    #[arg(long, default_value_t = 5)]
    pub top_reasons: usize,
    /// Stream: keep input order and set lanes by the model's validation-period score
    /// thresholds instead of ranking the whole batch (bounded memory for any input size).
    #[arg(long)]
    pub stream: bool,
    /// Screen the declarations' parties against the bundled watchlists: a party directory CSV
    /// `party_id,name,address,country[,schema]` (declarations carry party ids). Watchlist,
    /// supplier-network and forced-labour region reasons are added to every declaration that
    /// has one, whatever its lane.
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Relationship CSV (owner/subsidiary/affiliate links) for the supplier network.
    #[arg(long, requires = "parties")]
    pub relationships: Option<PathBuf>,
    /// Give the bundled data's anonymised parties seeded synthetic names, with a few planted
    /// near-matches of listed entities (docs/screening.md), instead of --parties.
    #[arg(long, conflicts_with = "parties")]
    pub demo_parties: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the model, scores and quarantine files.
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Declarations shown from the top of the inspection list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Then serve the web application on a fresh demo store (`OUT/web.db`): one account per
    /// role with passwords printed at start, the model approved and active, 2021-Q2 ranked.
    #[arg(long)]
    pub serve: bool,
    /// Address the demo serves on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of declarations.
    #[arg(long)]
    pub rows: u64,
    #[arg(long)]
    pub output: PathBuf,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Bundled data folder: `$BORDERLINE_DATA`, `./data`, or the source tree's `data`.
pub fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("BORDERLINE_DATA") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("data");
    if local.join("declarations").is_dir() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

impl InputArgs {
    pub fn source(&self, path: &Path) -> Result<Source> {
        Ok(Source::new(path, Profile::resolve(&self.profile)?).quarantine_to(&self.quarantine_dir))
    }
}

/// Reads a declaration file completely, printing its accounting to stderr.
pub fn load(path: &Path, input: &InputArgs) -> Result<Vec<Declaration>> {
    load_source(&input.source(path)?)
}

/// Reads a declaration source completely, printing its accounting to stderr: where the
/// quarantined rows were written, or the first few of them when they were not written.
pub fn load_source(source: &Source) -> Result<Vec<Declaration>> {
    let loaded = declarations::load(source)?;
    print_loaded(&loaded);
    Ok(loaded.declarations)
}

fn print_loaded(l: &Loaded) {
    eprintln!("{}", l.report);
    if let Some(p) = &l.quarantine_file {
        eprintln!("  quarantined rows written to {}", p.display());
        return;
    }
    for q in l.quarantined.iter().take(5) {
        eprintln!("  quarantined: {q}");
    }
    if l.quarantined.len() > 5 {
        eprintln!("  ... {} more quarantined rows", l.quarantined.len() - 5);
    }
}

use borderline_core::Declaration;

fn spinner(msg: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb.set_message(msg.to_string());
    pb
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Ingest(a) => ingest(a),
        Command::Train(a) => {
            let model = train_cmd(&a)?;
            print_training(&model, &a.model);
            Ok(())
        }
        Command::Evaluate(a) => {
            let model = load_model(&a.model)?;
            let id = model.model_id.clone();
            let report = app::evaluate_model(&Scorer::new(model), &load(&a.test, &a.input)?);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("model {id} on {}", a.test.display());
                print!("{report}");
            }
            Ok(())
        }
        Command::Score(a) => score(&a),
        Command::Demo(a) => demo(&a),
        Command::Generate(a) => {
            let n = borderline_devkit::generate::generate(&data_dir(), a.rows, a.seed, &a.output)?;
            eprintln!("wrote {n} declarations to {}", a.output.display());
            Ok(())
        }
    }
}

fn ingest(a: IngestArgs) -> Result<()> {
    let profile = Profile::resolve(&a.input.profile)?;
    let mut out = match &a.output {
        Some(p) => Some(create_file(p)?),
        None => None,
    };
    let reports =
        declarations::ingest_files(&a.files, &profile, Some(&a.input.quarantine_dir), |d| {
            if let Some(o) = out.as_mut() {
                serde_json::to_writer(&mut *o, &d)
                    .map_err(std::io::Error::from)
                    .and_then(|_| o.write_all(b"\n"))
                    .map_err(borderline_app::AppError::io("writing accepted rows"))?;
            }
            Ok(())
        })?;
    if let Some(o) = out {
        commit_file(o)?;
    }
    if a.json {
        let r: Vec<_> = reports.iter().map(|(r, _)| r).collect();
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        for (r, q) in &reports {
            if let Some(p) = q {
                println!("  quarantined rows written to {}", p.display());
            }
            println!("{r}");
        }
    }
    // Validation reports every file first; a file with no accepted row then fails the command.
    for (r, q) in &reports {
        declarations::require_accepted(r, q.as_deref(), &[])?;
    }
    Ok(())
}

/// The training configuration the flags describe.
fn train_config(a: &TrainArgs) -> Result<TrainConfig> {
    let mut cfg = TrainConfig {
        seed: a.seed,
        refit: !a.no_refit,
        threads: a.threads,
        bag: a.bag,
        ..TrainConfig::default()
    };
    if let Some(m) = a.min_data_in_leaf {
        cfg.min_data_in_leaf = m;
    }
    if let Some(lr) = a.learning_rate {
        cfg.learning_rate = lr;
    }
    if let Some(nl) = a.num_leaves {
        cfg.num_leaves = nl;
    }
    if let Some(d) = a.max_depth {
        cfg.max_depth = d;
    }
    if let Some(n) = a.max_trees {
        cfg.max_rounds = n.max(1);
    }
    if let Some(m) = &a.early_stopping_metric {
        cfg.early_stopping_metric = m.clone();
    }
    for name in &a.include_feature {
        cfg.include(name)
            .map_err(|e| anyhow::anyhow!("--include-feature {e}"))?;
    }
    for name in &a.exclude_feature {
        if !cfg.exclude.contains(name) {
            cfg.exclude.push(name.clone());
        }
    }
    cfg.modules.valuation = !a.no_valuation;
    cfg.modules.hs_divergence = a.hs_divergence;
    Ok(cfg)
}

fn train_cmd(a: &TrainArgs) -> Result<ModelArtefact> {
    // Flags first: a wrong --include-feature should not cost reading the data.
    let config = train_config(a)?;
    let train = load(&a.train, &a.input)?;
    let valid = load(&a.valid, &a.input)?;
    let recorded = match (a.since, &a.feedback_declarations) {
        (Some(since), Some(path)) => {
            let (recorded, unmatched) = crate::governance::recorded_outcomes_since(
                a.db.clone(),
                since,
                load(path, &a.input)?,
            )?;
            if unmatched > 0 {
                eprintln!(
                    "warning: {unmatched} outcomes recorded since {since} have no declaration in {}",
                    path.display()
                );
            }
            recorded
        }
        _ => Vec::new(),
    };
    let pb = spinner("training");
    let (model, notes) = train_model(
        TrainRequest {
            train,
            valid,
            recorded,
            config,
        },
        &|step| pb.set_message(step.to_string()),
    )?;
    pb.finish_and_clear();
    if let Some(since) = a.since {
        eprintln!(
            "feedback: {} declarations with outcomes recorded since {since} join the validation period",
            notes.recorded_joined
        );
    }
    if let Some((v, t)) = notes.overlapping_periods {
        eprintln!("warning: validation period starts {v}, not after the training period's end {t}");
    }
    if let Some(dir) = a.model.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    model.save(&a.model)?;
    Ok(model)
}

fn print_training(model: &ModelArtefact, path: &Path) {
    let t = &model.training;
    println!(
        "model {} written to {}\n  {} trees (early stopping chose {}), {} features, trained on {} + {} declarations ({} .. {})\n  validation: AUC {:.4}, P@5% {:.3}, P@10% {:.3}",
        model.model_id,
        path.display(),
        t.final_iterations,
        t.best_iteration,
        model.features.len(),
        t.train_rows,
        t.valid_rows,
        t.train_period.0,
        t.valid_period.1,
        model.validation.auc,
        model.validation.precision_at.get("5").copied().unwrap_or(f64::NAN),
        model.validation.precision_at.get("10").copied().unwrap_or(f64::NAN),
    );
    if t.members.len() > 1 {
        let seeds: Vec<String> = t.members.iter().map(|m| m.seed.to_string()).collect();
        println!(
            "  bag of {} fits (seeds {}), {} threads; validation by bag size:",
            t.members.len(),
            seeds.join(", "),
            t.config.threads
        );
        for (k, v) in t.validation_by_bag_size.iter().enumerate() {
            let p = |c: &str| v.precision_at.get(c).copied().unwrap_or(f64::NAN);
            println!(
                "    {}: AUC {:.4}, P@1% {:.3}, P@2% {:.3}, P@5% {:.3}, P@10% {:.3}",
                k + 1,
                v.auc,
                p("1"),
                p("2"),
                p("5"),
                p("10")
            );
        }
    }
}

pub fn load_model(path: &Path) -> Result<ModelArtefact> {
    Ok(ModelArtefact::load(path)?)
}

/// Writes inspection-list lines as CSV or JSON Lines, to a file (replaced only when complete)
/// or standard output.
pub struct ListWriter {
    out: crate::output::Output,
    format: OutputFormat,
    header_done: bool,
    /// The model's registry status, printed with every line (`ModelStatus::label`).
    model_status: &'static str,
}

/// A JSON Lines line: the decision and the model's registry status.
#[derive(serde::Serialize)]
struct Line<'a, 'b> {
    #[serde(flatten)]
    decided: &'b Decided<'a>,
    model_status: &'static str,
}

impl ListWriter {
    pub fn new(
        path: Option<&Path>,
        format: Option<OutputFormat>,
        model_status: &ModelStatus,
    ) -> Result<Self> {
        let format = format.unwrap_or_else(|| match path {
            Some(p) if p.to_string_lossy().ends_with(".jsonl") => OutputFormat::Jsonl,
            _ => OutputFormat::Csv,
        });
        Ok(ListWriter {
            out: crate::output::Output::to(path)?,
            format,
            header_done: false,
            model_status: model_status.label(),
        })
    }

    pub fn write(&mut self, e: &Decided) -> Result<()> {
        match self.format {
            OutputFormat::Jsonl => {
                let line = Line {
                    decided: e,
                    model_status: self.model_status,
                };
                serde_json::to_writer(&mut self.out, &line)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Csv => {
                if !self.header_done {
                    self.out.write_all(
                        b"rank,declaration_id,risk_score,lane,importer,hs_code,origin,reasons,model_status\n",
                    )?;
                    self.header_done = true;
                }
                let reasons: Vec<&str> = e.reasons.iter().map(|r| r.text.as_str()).collect();
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new());
                w.write_record([
                    e.rank.map(|r| r.to_string()).unwrap_or_default().as_str(),
                    e.declaration_id,
                    &format!("{:.6}", e.risk_score),
                    &e.lane.to_string(),
                    e.importer,
                    e.hs_code,
                    e.origin,
                    &reasons.join("; "),
                    self.model_status,
                ])?;
                self.out
                    .write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            }
        }
        Ok(())
    }

    /// Completes the output: a file appears at its path only now.
    pub fn finish(self) -> Result<()> {
        self.out.finish()
    }
}

impl ReasonsArg {
    pub fn reasons(self, top: usize) -> Reasons {
        Reasons {
            method: match self {
                ReasonsArg::Exact => Some(Explain::Exact),
                ReasonsArg::Fast => Some(Explain::Fast),
                ReasonsArg::None => None,
            },
            top,
        }
    }
}

/// The parties `--parties/--relationships` or `--demo-parties` describe, if any.
pub fn parties_of(
    parties: Option<&Path>,
    relationships: Option<&Path>,
    demo_parties: bool,
    rows: &[Declaration],
    matcher: &borderline_screening::Matcher,
) -> Result<Option<Parties>> {
    if let Some(p) = parties {
        let parties = Parties::from_files(p, relationships)?;
        for s in &parties.skipped {
            eprintln!("skipped {s}");
        }
        return Ok(Some(parties));
    }
    if demo_parties {
        return Ok(Some(borderline_devkit::demo_parties(rows, matcher)));
    }
    Ok(None)
}

/// Screening of `rows`' parties as the flags ask, or `None`.
pub fn screening_of(
    parties: Option<&Path>,
    relationships: Option<&Path>,
    demo_parties: bool,
    rows: &[Declaration],
) -> Result<Option<borderline_screening::ScreeningSignal>> {
    if parties.is_none() && !demo_parties {
        return Ok(None);
    }
    let matcher = bundled_matcher()?;
    let Some(p) = parties_of(parties, relationships, demo_parties, rows, &matcher)? else {
        return Ok(None);
    };
    let s = screen_batch(rows, matcher, p);
    for p in &s.unused_relationships {
        eprintln!("relationship not used: {p}");
    }
    Ok(Some(s.signal))
}

fn score(a: &ScoreArgs) -> Result<()> {
    anyhow::ensure!(
        !(a.stream && (a.parties.is_some() || a.demo_parties)),
        "--parties/--demo-parties screen a batch (the supplier network is built from it); drop --stream, or decide the stream with `borderline worker --parties FILE` (each declaration screened against the supplier network kept in the store)"
    );
    // A registry is consulted only when one is named (--db or BORDERLINE_DB). Only then is the
    // artefact read whole, so that its digest is that of the bytes the model came from, and the
    // bytes are dropped once the status is known; otherwise the model streams from the file
    // (12 MB less at the peak for the default model).
    let named = a.db.is_some() || std::env::var_os("BORDERLINE_DB").is_some();
    let (model, status) = match named {
        true => {
            let bytes = std::fs::read(&a.model)
                .with_context(|| format!("reading the model {}", a.model.display()))?;
            let model = ModelArtefact::from_bytes(&bytes, &a.model.display().to_string())?;
            let store = crate::store::open(a.db.as_deref(), true)?;
            let status = app_models::artefact_status(Some(&store as &dyn GovernanceStore), &bytes)?;
            (model, status)
        }
        false => (
            load_model(&a.model)?,
            app_models::artefact_status(None, &[])?,
        ),
    };
    let scorer = Scorer::new(model);
    if !status.is_active() {
        eprintln!("warning: {status}");
    }
    let mut writer = ListWriter::new(a.output.as_deref(), a.format, &status)?;
    let caps = Capacities {
        red_percent: a.capacity,
        yellow_percent: a.yellow,
    };
    let reasons = a.reasons.reasons(a.top_reasons);
    if a.stream {
        let (report, _) = app::score_stream(
            &scorer,
            &a.in_args.source(&a.input)?,
            caps,
            reasons,
            today(),
            |e| {
                writer.write(&e).map_err(|e| {
                    borderline_app::AppError::Invalid(format!("writing the list: {e}"))
                })
            },
        )?;
        eprintln!("{report}");
    } else {
        let rows = load(&a.input, &a.in_args)?;
        let screening = screening_of(
            a.parties.as_deref(),
            a.relationships.as_deref(),
            a.demo_parties,
            &rows,
        )?;
        let list = app::rank_batch(
            &scorer,
            &rows,
            caps,
            reasons,
            screening.as_ref().map(|s| s as &dyn Signal),
            today(),
        );
        for e in &list {
            writer.write(e)?;
        }
    }
    writer.finish()
}

/// The date scoring runs as of, for data-quality reasons (a declaration dated after it is in the
/// future). The CLI is the one place that reads the clock; the application never does.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn demo(a: &DemoArgs) -> Result<()> {
    let data = data_dir().join("declarations");
    let file = |split: &str| data.join(format!("kcs_{split}.csv.gz"));
    if !file("train").is_file() {
        bail!(
            "bundled data not found at {} (set BORDERLINE_DATA to the repository's data folder)",
            data.display()
        );
    }
    std::fs::create_dir_all(&a.out)?;
    let input = InputArgs {
        profile: "korea-customs".into(),
        quarantine_dir: a.out.join("quarantine"),
    };
    println!(
        "== 1/3 Train on 2020 (Korea Customs synthetic declarations), early stopping on 2021-Q1"
    );
    let model_path = a.out.join("model.json.gz");
    let model = train_cmd(&TrainArgs {
        train: file("train"),
        valid: file("valid"),
        input: InputArgs {
            profile: input.profile.clone(),
            quarantine_dir: input.quarantine_dir.clone(),
        },
        model: model_path.clone(),
        seed: a.seed,
        no_refit: false,
        learning_rate: None,
        num_leaves: None,
        max_depth: None,
        max_trees: None,
        since: None,
        feedback_declarations: None,
        db: None,
        no_valuation: false,
        hs_divergence: false,
        threads: 2,
        bag: TrainConfig::default().bag,
        min_data_in_leaf: None,
        exclude_feature: Vec::new(),
        include_feature: Vec::new(),
        early_stopping_metric: None,
    })?;
    print_training(&model, &model_path);
    let scorer = Scorer::new(model);

    println!("\n== 2/3 Evaluate on the held-back period 2021-Q2");
    let test = load(&file("test"), &input)?;
    print!("{}", app::evaluate_model(&scorer, &test));

    println!("\n== 3/3 Score 2021-Q2: inspection list at 5% red / 10% yellow capacity");
    let ranked = app::rank_batch(
        &scorer,
        &test,
        Capacities::default(),
        Reasons {
            method: Some(Explain::Exact),
            top: 3,
        },
        None,
        today(),
    );
    let list_path = a.out.join("inspection-list.csv");
    let mut writer = ListWriter::new(
        Some(&list_path),
        Some(OutputFormat::Csv),
        &ModelStatus::Unregistered,
    )?;
    for e in &ranked {
        writer.write(e)?;
    }
    writer.finish()?;
    let count = |l: Lane| ranked.iter().filter(|r| r.lane == l).count();
    println!(
        "{} declarations: {} red, {} yellow, {} green; full list in {}",
        ranked.len(),
        count(Lane::Red),
        count(Lane::Yellow),
        count(Lane::Green),
        list_path.display()
    );
    for e in ranked.iter().take(a.top) {
        let d = e.declaration;
        println!(
            "\n#{} {} [{}] risk {:.1}%  importer {}  HS {}  origin {}",
            e.rank.unwrap_or_default(),
            d.declaration_id,
            e.lane,
            e.risk_score * 100.0,
            d.importer,
            d.hs_code,
            d.origin_country
        );
        for r in &e.reasons {
            println!("    - {}", r.text);
        }
    }
    println!("\n== Screening parties against the bundled watchlists (synthetic demo names and links; docs/screening.md)");
    let Some(signal) = screening_of(None, None, true, &test)? else {
        bail!("demo parties gave no screening");
    };
    let flagged: Vec<(&Declaration, Vec<borderline_core::Reason>)> = test
        .iter()
        .map(|d| (d, signal.reasons(d)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    println!(
        "{} of {} declarations have a watchlist, network or forced-labour region reason",
        flagged.len(),
        test.len()
    );
    for (d, reasons) in flagged.iter().take(3) {
        println!(
            "  {} importer {} HS {}",
            d.declaration_id, d.importer, d.hs_code
        );
        for r in reasons.iter().take(3) {
            println!("    - {}", r.text);
        }
    }
    println!("\nScores are advice to an officer, never the sole basis of an action.");
    if a.serve {
        // The case pages' evidence: benchmarks from 2020 and 2021-Q1 (as of the first
        // 2021-Q2 date) and the synthetic demo parties.
        let profile = Profile::resolve(&input.profile)?;
        let built = borderline_app::valuation::build_benchmarks(
            &[
                Source::new(file("train"), profile.clone()),
                Source::new(file("valid"), profile),
            ],
            borderline_valuation::Config::default(),
            test.iter().map(|d| d.date).min(),
        )?;
        let parties = borderline_devkit::demo_parties(&test, bundled_matcher()?.as_ref());
        crate::serve::demo(
            &a.out,
            &model_path,
            &test,
            crate::serve::DemoEvidence {
                benchmarks: built.benchmarks,
                parties,
            },
            a.listen,
        )?;
    }
    Ok(())
}
