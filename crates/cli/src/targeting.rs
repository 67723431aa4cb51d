//! Targeting commands: ingest, train, evaluate, score, demo, generate.

use anyhow::{bail, Context, Result};
use borderline_core::Declaration;
use borderline_ingest::{DeclarationReader, Profile, QuarantineWriter, Row};
use borderline_targeting::metrics::{evaluate, EvaluationReport};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{assign_lanes, Explain, Lane, Scorer};
use borderline_targeting::train::{train, TrainConfig};
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

#[derive(Args)]
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
    #[arg(long, default_value_t = 2)]
    pub threads: u32,
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
    /// Share of declarations for physical inspection (red lane), e.g. 5%.
    #[arg(long, default_value = "5%", value_parser = parse_percent)]
    pub capacity: f64,
    /// Share for documentary checks (yellow lane), after the red lane.
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

pub fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage such as 5%"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("{s:?} must be between 0% and 100%"));
    }
    Ok(v)
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

/// Reads a declaration file completely, printing its accounting to stderr and writing any
/// quarantined rows to `quarantine_dir`.
pub fn load(path: &Path, input: &InputArgs) -> Result<Vec<Declaration>> {
    let profile = Profile::resolve(&input.profile)?;
    let mut reader = DeclarationReader::open(path, profile)?;
    let mut accepted = Vec::new();
    let mut quarantine: Option<QuarantineWriter> = None;
    for row in reader.by_ref() {
        match row {
            Row::Accepted(d) => accepted.push(*d),
            Row::Quarantined(q) => {
                write_quarantined(&mut quarantine, path, &input.quarantine_dir, &q)?;
            }
        }
    }
    if let Some(e) = reader.take_error() {
        return Err(e.into());
    }
    eprintln!("{}", reader.report());
    if let Some(mut w) = quarantine {
        w.flush()?;
        if let Some(p) = &w.path {
            eprintln!("  quarantined rows written to {}", p.display());
        }
    }
    Ok(accepted)
}

/// Writes a quarantined row, creating the quarantine file on the first one (clean inputs leave
/// no empty files behind).
fn write_quarantined(
    slot: &mut Option<QuarantineWriter>,
    source: &Path,
    dir: &Path,
    q: &borderline_ingest::Quarantined,
) -> Result<()> {
    if slot.is_none() {
        *slot = Some(open_quarantine(source, dir)?);
    }
    if let Some(w) = slot.as_mut() {
        w.write(q)?;
    }
    Ok(())
}

fn open_quarantine(source: &Path, dir: &Path) -> Result<QuarantineWriter> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".into());
    let path = dir.join(format!("{name}.quarantine.csv"));
    QuarantineWriter::create(&path).with_context(|| format!("creating {}", path.display()))
}

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
            let model = train_model(&a)?;
            print_training(&model, &a.model);
            Ok(())
        }
        Command::Evaluate(a) => {
            let model = load_model(&a.model)?;
            let report = evaluate_model(&model, &load(&a.test, &a.input)?);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("model {} on {}", model.model_id, a.test.display());
                print!("{report}");
            }
            Ok(())
        }
        Command::Score(a) => score(&a),
        Command::Demo(a) => demo(&a),
        Command::Generate(a) => crate::generate::generate(&a),
    }
}

fn ingest(a: IngestArgs) -> Result<()> {
    let profile = Profile::resolve(&a.input.profile)?;
    let mut out = match &a.output {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let mut reports = Vec::new();
    for file in &a.files {
        let mut reader = DeclarationReader::open(file, profile.clone())?;
        let mut quarantine: Option<QuarantineWriter> = None;
        for row in reader.by_ref() {
            match row {
                Row::Accepted(d) => {
                    if let Some(o) = out.as_mut() {
                        serde_json::to_writer(&mut *o, &d)?;
                        o.write_all(b"\n")?;
                    }
                }
                Row::Quarantined(q) => {
                    write_quarantined(&mut quarantine, file, &a.input.quarantine_dir, &q)?;
                }
            }
        }
        if let Some(e) = reader.take_error() {
            return Err(e.into());
        }
        if let Some(mut w) = quarantine {
            w.flush()?;
            if !a.json {
                if let Some(p) = &w.path {
                    println!("  quarantined rows written to {}", p.display());
                }
            }
        }
        if !a.json {
            println!("{}", reader.report());
        }
        reports.push(reader.report().clone());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    if let Some(mut o) = out {
        o.flush()?;
    }
    Ok(())
}

fn train_model(a: &TrainArgs) -> Result<ModelArtefact> {
    let train_rows = load(&a.train, &a.input)?;
    let mut valid_rows = load(&a.valid, &a.input)?;
    if let (Some(since), Some(path)) = (a.since, &a.feedback_declarations) {
        let (recorded, unmatched) =
            crate::governance::recorded_outcomes_since(a.db.clone(), since, load(path, &a.input)?)?;
        if unmatched > 0 {
            eprintln!(
                "warning: {unmatched} outcomes recorded since {since} have no declaration in {}",
                path.display()
            );
        }
        let ids: std::collections::HashSet<&str> =
            recorded.iter().map(|d| d.declaration_id.as_str()).collect();
        valid_rows.retain(|d| !ids.contains(d.declaration_id.as_str()));
        eprintln!(
            "feedback: {} declarations with outcomes recorded since {since} join the validation period",
            recorded.len()
        );
        valid_rows.extend(recorded);
    }
    if let (Some(t), Some(v)) = (
        train_rows.iter().map(|d| d.date).max(),
        valid_rows.iter().map(|d| d.date).min(),
    ) {
        if v <= t {
            eprintln!(
                "warning: validation period starts {v}, not after the training period's end {t}"
            );
        }
    }
    let mut cfg = TrainConfig {
        seed: a.seed,
        refit: !a.no_refit,
        threads: a.threads,
        ..TrainConfig::default()
    };
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
    cfg.modules.valuation = !a.no_valuation;
    cfg.modules.hs_divergence = a.hs_divergence;
    let pb = spinner("training");
    let model = train(&train_rows, &valid_rows, &cfg, &|step| {
        pb.set_message(step.to_string())
    })?;
    pb.finish_and_clear();
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
        model.validation.precision_at["5"],
        model.validation.precision_at["10"],
    );
}

pub fn load_model(path: &Path) -> Result<ModelArtefact> {
    Ok(ModelArtefact::load(path)?)
}

pub fn evaluate_model(model: &ModelArtefact, rows: &[Declaration]) -> EvaluationReport {
    let scorer = Scorer::new(model);
    let mut x = vec![0.0; scorer.num_features()];
    let scores: Vec<f64> = rows.iter().map(|d| scorer.score(d, &mut x).raw).collect();
    evaluate(rows, &scores)
}

/// One line of the inspection list.
#[derive(serde::Serialize)]
pub struct ListEntry<'a> {
    pub rank: Option<usize>,
    pub declaration_id: &'a str,
    pub risk_score: f64,
    pub lane: Lane,
    pub importer: &'a str,
    pub hs_code: &'a str,
    pub origin: &'a str,
    pub reasons: Vec<borderline_core::Reason>,
}

struct ListWriter {
    out: Box<dyn Write>,
    format: OutputFormat,
    header_done: bool,
}

impl ListWriter {
    fn new(path: Option<&Path>, format: Option<OutputFormat>) -> Result<Self> {
        let format = format.unwrap_or_else(|| match path {
            Some(p) if p.to_string_lossy().ends_with(".jsonl") => OutputFormat::Jsonl,
            _ => OutputFormat::Csv,
        });
        let out: Box<dyn Write> = match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ))
            }
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(ListWriter {
            out,
            format,
            header_done: false,
        })
    }

    fn write(&mut self, e: &ListEntry) -> Result<()> {
        match self.format {
            OutputFormat::Jsonl => {
                serde_json::to_writer(&mut self.out, e)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Csv => {
                if !self.header_done {
                    self.out.write_all(
                        b"rank,declaration_id,risk_score,lane,importer,hs_code,origin,reasons\n",
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
                ])?;
                self.out
                    .write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            }
        }
        Ok(())
    }
}

fn explain_of(r: ReasonsArg) -> Option<Explain> {
    match r {
        ReasonsArg::Exact => Some(Explain::Exact),
        ReasonsArg::Fast => Some(Explain::Fast),
        ReasonsArg::None => None,
    }
}

/// The screening signal `score` was asked for, over the scored batch's supplier network.
fn screening_signal(
    a: &ScoreArgs,
    rows: &[Declaration],
) -> Result<Option<borderline_screening::ScreeningSignal>> {
    build_screening(
        a.parties.as_deref(),
        a.relationships.as_deref(),
        a.demo_parties,
        rows,
    )
}

/// Screening of `rows`' parties against the bundled watchlists: from a party directory CSV
/// (plus optional relationships), or the seeded synthetic demo names; `None` when neither.
pub fn build_screening(
    parties: Option<&Path>,
    relationships: Option<&Path>,
    demo_parties: bool,
    rows: &[Declaration],
) -> Result<Option<borderline_screening::ScreeningSignal>> {
    if parties.is_none() && !demo_parties {
        return Ok(None);
    }
    let store = borderline_screening::store::ListStore::bundled()?;
    let matcher = std::sync::Arc::new(borderline_screening::Matcher::build(
        &store,
        borderline_screening::MatchConfig::default(),
    ));
    let Some(path) = parties else {
        let (signal, _, _) = borderline_screening::demo::build_demo_signal(rows, matcher, 7, 2);
        return Ok(Some(signal));
    };
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (directory, mut issues) =
        borderline_screening::PartyDirectory::from_csv(&read(path)?, &path.display().to_string());
    let mut links = Vec::new();
    if let Some(rp) = relationships {
        let (rels, more) = borderline_screening::network::read_relationships(
            &read(rp)?,
            &rp.display().to_string(),
        );
        links = rels;
        issues.extend(more);
    }
    for i in &issues {
        eprintln!("skipped {i}");
    }
    let (signal, _, problems) =
        borderline_screening::demo::build_signal(rows, matcher, directory, &links, 2);
    for p in problems {
        eprintln!("relationship not used: {p}");
    }
    Ok(Some(signal))
}

fn score(a: &ScoreArgs) -> Result<()> {
    anyhow::ensure!(
        !(a.stream && (a.parties.is_some() || a.demo_parties)),
        "--parties/--demo-parties screen a batch (the supplier network is built from it); drop --stream"
    );
    let model = load_model(&a.model)?;
    let scorer = Scorer::new(&model);
    let mut writer = ListWriter::new(a.output.as_deref(), a.format)?;
    let explain = explain_of(a.reasons);
    let mut x = vec![0.0; scorer.num_features()];
    if a.stream {
        let profile = Profile::resolve(&a.in_args.profile)?;
        let mut reader = DeclarationReader::open(&a.input, profile)?.without_duplicate_check();
        let mut quarantine: Option<QuarantineWriter> = None;
        // Declarations are scored in blocks (cache-friendly), written in input order.
        let mut block: Vec<Declaration> = Vec::with_capacity(borderline_targeting::score::BLOCK);
        let mut flush = |block: &mut Vec<Declaration>, writer: &mut ListWriter| -> Result<()> {
            for (d, s) in block.iter().zip(scorer.score_block(block)) {
                let lane = scorer.stream_lane(s.probability, a.capacity, a.yellow);
                let reasons = match (lane, explain) {
                    (Lane::Red | Lane::Yellow, Some(m)) => {
                        scorer.features(d, &mut x);
                        scorer.explain(d, &x, m, a.top_reasons)
                    }
                    _ => Vec::new(),
                };
                writer.write(&entry(d, None, s.probability, lane, reasons))?;
            }
            block.clear();
            Ok(())
        };
        for row in reader.by_ref() {
            match row {
                Row::Accepted(d) => {
                    block.push(*d);
                    if block.len() == borderline_targeting::score::BLOCK {
                        flush(&mut block, &mut writer)?;
                    }
                }
                Row::Quarantined(q) => {
                    write_quarantined(&mut quarantine, &a.input, &a.in_args.quarantine_dir, &q)?;
                }
            }
        }
        flush(&mut block, &mut writer)?;
        if let Some(e) = reader.take_error() {
            return Err(e.into());
        }
        if let Some(mut w) = quarantine {
            w.flush()?;
        }
        eprintln!("{}", reader.report());
    } else {
        let rows = load(&a.input, &a.in_args)?;
        let screening = screening_signal(a, &rows)?;
        for (rank, d, p, lane, mut reasons) in
            rank_batch(&scorer, &rows, a.capacity, a.yellow, explain, a.top_reasons)
        {
            if let Some(s) = &screening {
                reasons.extend(borderline_core::Signal::reasons(s, d));
            }
            writer.write(&entry(d, Some(rank), p, lane, reasons))?;
        }
    }
    writer.out.flush()?;
    Ok(())
}

fn entry<'a>(
    d: &'a Declaration,
    rank: Option<usize>,
    p: f64,
    lane: Lane,
    reasons: Vec<borderline_core::Reason>,
) -> ListEntry<'a> {
    ListEntry {
        rank,
        declaration_id: &d.declaration_id,
        risk_score: p,
        lane,
        importer: &d.importer,
        hs_code: d.hs_code.as_str(),
        origin: &d.origin_country,
        reasons,
    }
}

type Ranked<'a> = (
    usize,
    &'a Declaration,
    f64,
    Lane,
    Vec<borderline_core::Reason>,
);

/// Scores a batch and returns it in rank order with lanes and reasons.
pub fn rank_batch<'a>(
    scorer: &Scorer,
    rows: &'a [Declaration],
    red: f64,
    yellow: f64,
    explain: Option<Explain>,
    top_reasons: usize,
) -> Vec<Ranked<'a>> {
    let mut x = vec![0.0; scorer.num_features()];
    let probs: Vec<f64> = rows
        .iter()
        .map(|d| scorer.score(d, &mut x).probability)
        .collect();
    let ids: Vec<&str> = rows.iter().map(|d| d.declaration_id.as_str()).collect();
    let (order, lanes) = assign_lanes(&probs, &ids, red, yellow);
    order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let d = &rows[i];
            let reasons = match (lanes[i], explain) {
                (Lane::Red | Lane::Yellow, Some(m)) => {
                    scorer.features(d, &mut x);
                    scorer.explain(d, &x, m, top_reasons)
                }
                _ => Vec::new(),
            };
            (rank + 1, d, probs[i], lanes[i], reasons)
        })
        .collect()
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
    let model = train_model(&TrainArgs {
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
    })?;
    print_training(&model, &model_path);

    println!("\n== 2/3 Evaluate on the held-back period 2021-Q2");
    let test = load(&file("test"), &input)?;
    let report = evaluate_model(&model, &test);
    print!("{report}");

    println!("\n== 3/3 Score 2021-Q2: inspection list at 5% red / 10% yellow capacity");
    let scorer = Scorer::new(&model);
    let ranked = rank_batch(&scorer, &test, 5.0, 10.0, Some(Explain::Exact), 3);
    let list_path = a.out.join("inspection-list.csv");
    let mut writer = ListWriter::new(Some(&list_path), Some(OutputFormat::Csv))?;
    for (rank, d, p, lane, reasons) in &ranked {
        writer.write(&entry(d, Some(*rank), *p, *lane, reasons.clone()))?;
    }
    writer.out.flush()?;
    let count = |l: Lane| ranked.iter().filter(|r| r.3 == l).count();
    println!(
        "{} declarations: {} red, {} yellow, {} green; full list in {}",
        ranked.len(),
        count(Lane::Red),
        count(Lane::Yellow),
        count(Lane::Green),
        list_path.display()
    );
    for (rank, d, p, lane, reasons) in ranked.iter().take(a.top) {
        println!(
            "\n#{rank} {} [{lane}] risk {:.1}%  importer {}  HS {}  origin {}",
            d.declaration_id,
            p * 100.0,
            d.importer,
            d.hs_code,
            d.origin_country
        );
        for r in reasons {
            println!("    - {}", r.text);
        }
    }
    println!("\n== Screening parties against the bundled watchlists (synthetic demo names and links; docs/screening.md)");
    let store = borderline_screening::store::ListStore::bundled()?;
    let matcher = std::sync::Arc::new(borderline_screening::Matcher::build(
        &store,
        borderline_screening::MatchConfig::default(),
    ));
    let (signal, _network, _enrichment) =
        borderline_screening::demo::build_demo_signal(&test, matcher, 7, 2);
    let flagged: Vec<(&Declaration, Vec<borderline_core::Reason>)> = test
        .iter()
        .map(|d| (d, borderline_core::Signal::reasons(&signal, d)))
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
    Ok(())
}
