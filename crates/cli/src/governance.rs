//! Governance commands: models (registry), audit, monitor, feedback, select, simulate.
//! The workflows live in `borderline_app::governance` over the store traits; this file opens the
//! store (SQLite or PostgreSQL, chosen in `crate::store`), builds the acting `Actor` from --user /
//! BORDERLINE_USER / USER, parses arguments, loads files and prints.

use crate::output::parse_percent;
use anyhow::{anyhow, bail, Context, Result};
use borderline_app::governance::{
    audit as app_audit, feedback as app_feedback, models as app_models,
};
use borderline_core::{Declaration, Reason};
use borderline_governance::audit::{
    input_hash, AuditEvent, AuditLog, Decision, GovernanceAction, Verification,
};
use borderline_governance::feedback::{FeedbackLog, Outcome};
use borderline_governance::monitor::{self, Drift, HitRate, Psi, PSI_ALERT, PSI_BINS, PSI_WARN};
use borderline_governance::registry::ModelEntry;
use borderline_governance::rules::{DeclarationContext, RuleHit, RuleSet, DECLARATION_FIELDS};
use borderline_governance::selectivity::{
    self, score_uncertainty, Basis, Candidate, Policy, Selection,
};
use borderline_governance::{Actor, GovernanceStore, Lane};
use borderline_ingest::Profile;
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::{Explain, Scorer};
use borderline_training::{train, TrainConfig};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum Command {
    /// Model registry: list, register, approve (four-eyes), activate, retire, rollback.
    Models(ModelsArgs),
    /// Audit log: verify the hash chain, export it as JSON Lines.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Drift (PSI) of each feature and of the score, and hit rates by lane and rule.
    Monitor(MonitorArgs),
    /// Record officers' decisions and inspection outcomes.
    #[command(subcommand)]
    Feedback(FeedbackCommand),
    /// Final lanes with the active model, analyst rules, capacities, random and exploration
    /// shares; every decision is appended to the audit log.
    Select(SelectArgs),
    /// Replay the test period week by week: inspect by the policy, learn only from inspected
    /// outcomes, retrain weekly; exploitation only vs exploitation + exploration + random.
    Simulate(SimulateArgs),
}

/// Where the governance database is and who is acting.
#[derive(Args, Clone, Default)]
pub struct GovArgs {
    /// Governance database: a SQLite file or a postgres:// URL (default: $BORDERLINE_DB, else
    /// borderline.db here).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// Who is acting (default: $BORDERLINE_USER, else $USER).
    #[arg(long, global = true)]
    pub user: Option<String>,
}

impl GovArgs {
    fn open(&self) -> Result<crate::store::Store> {
        crate::store::open(self.db.as_deref(), false)
    }

    /// Opens an existing database only (commands that read).
    fn open_existing(&self) -> Result<crate::store::Store> {
        crate::store::open(self.db.as_deref(), true)
    }

    /// The acting person, from --user, BORDERLINE_USER or USER.
    fn actor(&self) -> Result<Actor> {
        Ok(Actor::new(&self.user()?)?)
    }

    fn user(&self) -> Result<String> {
        let user = self
            .user
            .clone()
            .or_else(|| std::env::var("BORDERLINE_USER").ok())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_default();
        if user.trim().is_empty() {
            bail!("who is acting? give --user NAME or set BORDERLINE_USER");
        }
        Ok(user.trim().to_string())
    }
}

#[derive(Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub action: Option<ModelsAction>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub gov: GovArgs,
}

#[derive(Subcommand)]
pub enum ModelsAction {
    /// List registered models (the default).
    List,
    /// Register a model artefact as a draft, with its model card.
    Register(RegisterArgs),
    /// Approve a draft (must be another user than the trainer; a reason is required).
    Approve {
        version: String,
        #[arg(long)]
        reason: String,
    },
    /// Make an approved model the one that scores (the previous one is retired, superseded).
    Activate { version: String },
    /// Retire a model for good.
    Retire {
        version: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Retire the active model and reactivate the one it replaced.
    Rollback {
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Args)]
pub struct RegisterArgs {
    /// Model artefact written by `borderline train`.
    pub model_file: PathBuf,
    /// Who trained it (default: the acting user). The approver must be someone else.
    #[arg(long)]
    pub trainer: Option<String>,
    /// Labelled declarations (a period after training) to measure performance by office and
    /// origin for the model card.
    #[arg(long)]
    pub eval: Option<PathBuf>,
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    #[arg(
        long,
        default_value = "Rank import declarations by risk of fraud so that officers choose which to inspect. Advice to an officer, never the sole basis of an action."
    )]
    pub intended_use: String,
    #[arg(
        long,
        default_value = "Learns only from past inspected declarations (selection bias); unseen importers, HS codes and origins fall back to averages; scores drift when trade patterns change: monitor PSI and hit rates."
    )]
    pub limits: String,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; report the first record where it breaks (exit status 1 if broken).
    Verify {
        #[command(flatten)]
        gov: GovArgs,
        #[arg(long)]
        json: bool,
    },
    /// Write every record as JSON Lines.
    Export {
        #[command(flatten)]
        gov: GovArgs,
        /// Output file (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub gov: GovArgs,
    /// Recent window of declarations.
    #[arg(long)]
    pub input: PathBuf,
    /// Reference declarations, e.g. the active model's training period.
    #[arg(long)]
    pub reference: PathBuf,
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    /// Model artefact to compute features and scores with (default: the active model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum FeedbackCommand {
    /// Record one outcome.
    Record(RecordArgs),
    /// Record outcomes from a CSV file (columns declaration_id, fraud, and optionally date,
    /// decision, critical_level, amount_recovered, note, officer); all rows or none.
    Import {
        file: PathBuf,
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Write the declarations of FILE that have outcomes decided on or after --since, with
    /// those outcomes, in the generic layout: training data for `borderline train`.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub gov: GovArgs,
    #[arg(long)]
    pub declaration: String,
    /// Fraud found: yes or no.
    #[arg(long, value_parser = parse_yes_no, action = clap::ArgAction::Set)]
    pub fraud: bool,
    /// Critical level: 0 none, 1 fraud, 2 critical fraud (default: 1 if fraud, else 0).
    #[arg(long)]
    pub critical: Option<u8>,
    /// Amount recovered.
    #[arg(long)]
    pub amount: Option<f64>,
    #[arg(long)]
    pub note: Option<String>,
    /// The officer's decision.
    #[arg(long, default_value = "inspected")]
    pub decision: String,
    /// Day of the decision, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub gov: GovArgs,
    /// Only outcomes decided on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub since: NaiveDate,
    /// Declarations to attach the outcomes to.
    #[arg(long)]
    pub declarations: PathBuf,
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    /// CSV in the generic layout (read it back with `--profile generic`).
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ReasonsArg {
    Exact,
    Fast,
    None,
}

#[derive(Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub gov: GovArgs,
    /// Declarations to assign lanes to.
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    /// Analyst rule file (see docs/governance.md).
    #[arg(long)]
    pub rules: PathBuf,
    /// Past declarations (e.g. the training period) to build valuation benchmarks from, which
    /// gives rules `unit_value_percentile` and `valuation_z` and adds valuation reasons
    /// (default: the benchmarks stored in the active model, when it has the valuation module).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Party directory CSV `party_id,name,address,country[,schema]`: screens parties against
    /// the bundled watchlists, gives rules `screening_score` and adds screening reasons.
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Relationship CSV for the supplier network (with --parties).
    #[arg(long, requires = "parties")]
    pub relationships: Option<PathBuf>,
    /// Screen with the seeded synthetic demo names instead of --parties.
    #[arg(long, conflicts_with = "parties")]
    pub demo_parties: bool,
    /// Lane capacities, shares of declarations.
    #[arg(long, default_value = "red=2%,yellow=5%,blue=1%", value_parser = parse_capacity)]
    pub capacity: Capacity,
    /// Random share (inside the red capacity), for unbiased measurement.
    #[arg(long, default_value = "0.5%", value_parser = parse_percent)]
    pub random: f64,
    /// Exploration share (inside the red capacity): declarations the model knows least.
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub explore: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lanes with reasons: .jsonl for JSON Lines, else CSV.
    #[arg(long)]
    pub output: PathBuf,
    /// Model reasons for red and yellow declarations.
    #[arg(long, value_enum, default_value = "exact")]
    pub reasons: ReasonsArg,
    #[arg(long, default_value_t = 3)]
    pub top_reasons: usize,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Bundled data folder (default: $BORDERLINE_DATA, ./data, or the source tree's data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Weeks of the test period to replay (default: all).
    #[arg(long)]
    pub weeks: Option<usize>,
    /// Use at most about ROWS declarations of each period (every k-th row), for a quick run.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Declarations inspected each week (red lane), share of the week's declarations.
    #[arg(long, default_value = "5%", value_parser = parse_percent)]
    pub capacity: f64,
    /// Random share of the exploring policy (inside the capacity).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub random: f64,
    /// Exploration share of the exploring policy (inside the capacity).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub explore: f64,
    /// Trees at most per weekly retraining (early stopping on the validation period).
    #[arg(long, default_value_t = 300)]
    pub trees: u32,
    #[arg(long, default_value_t = 0.15)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 2)]
    pub threads: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Capacity {
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
}

fn parse_capacity(s: &str) -> Result<Capacity, String> {
    let mut c = Capacity {
        red: 0.0,
        yellow: 0.0,
        blue: 0.0,
    };
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lane, share) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: expected LANE=SHARE, e.g. red=2%"))?;
        let v = parse_percent(share)?;
        match lane.trim().parse::<Lane>().map_err(|e| e.to_string())? {
            Lane::Red => c.red = v,
            Lane::Yellow => c.yellow = v,
            Lane::Blue => c.blue = v,
            Lane::Green => {
                return Err("green takes whatever is left; give red, yellow and blue".into())
            }
        }
    }
    Ok(c)
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    app_feedback::parse_yes_no(s)
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Models(a) => models(a),
        Command::Audit(a) => audit(a),
        Command::Monitor(a) => monitor_cmd(&a),
        Command::Feedback(a) => feedback(a),
        Command::Select(a) => select(&a),
        Command::Simulate(a) => simulate(&a),
    }
}

/// Reads a declaration file; prints the accounting, and any quarantined rows' reasons, to
/// standard error.
fn load(path: &Path, profile: &str) -> Result<Vec<Declaration>> {
    let source = borderline_app::declarations::Source::new(path, Profile::resolve(profile)?);
    let loaded = borderline_app::declarations::load(&source)
        .with_context(|| format!("reading {}", path.display()))?;
    let (rows, quarantined) = (loaded.declarations, loaded.quarantined);
    eprintln!("{}", loaded.report);
    for q in quarantined.iter().take(5) {
        eprintln!("  quarantined: {q}");
    }
    if quarantined.len() > 5 {
        eprintln!("  ... {} more quarantined rows", quarantined.len() - 5);
    }
    Ok(rows)
}

// ------------------------------------------------------------------------ models

fn models(a: ModelsArgs) -> Result<()> {
    let store = a.gov.open()?;
    match a.action.unwrap_or(ModelsAction::List) {
        ModelsAction::List => {
            let list = app_models::list(&store)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no models registered (borderline models register MODEL_FILE)");
            } else {
                for m in &list {
                    print_model(m);
                }
            }
        }
        ModelsAction::Register(r) => {
            let actor = a.gov.actor()?;
            let artefact = std::fs::read(&r.model_file)
                .with_context(|| format!("reading {}", r.model_file.display()))?;
            let evaluation = match &r.eval {
                Some(p) => Some((p.display().to_string(), load(p, &r.profile)?)),
                None => None,
            };
            let req = app_models::RegisterRequest {
                artefact,
                trainer: r.trainer.clone(),
                evaluation,
                intended_use: r.intended_use.clone(),
                limits: r.limits.clone(),
            };
            let e = app_models::register(&store, &actor, &req)
                .with_context(|| format!("registering {}", r.model_file.display()))?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "registered {} as draft (trainer {}); another user approves it with: borderline models approve {} --reason \"...\"",
                    e.model.version, e.model.trainer, e.model.version
                );
            }
        }
        ModelsAction::Approve { version, reason } => {
            let e = app_models::approve(&store, &a.gov.actor()?, &version, &reason)?;
            println!(
                "approved {} by {} (trained by {})",
                e.model.version,
                e.approved_by.unwrap_or_default(),
                e.model.trainer
            );
        }
        ModelsAction::Activate { version } => {
            match app_models::activate(&store, &a.gov.actor()?, &version)? {
                Some(p) => println!("{version} is now active; {p} retired (superseded)"),
                None => println!("{version} is now active"),
            }
        }
        ModelsAction::Retire { version, reason } => {
            app_models::retire(&store, &a.gov.actor()?, &version, &reason)?;
            println!("{version} retired");
        }
        ModelsAction::Rollback { reason } => {
            let (from, to) = app_models::rollback(&store, &a.gov.actor()?, &reason)?;
            println!("rolled back: {from} retired, {to} active again");
        }
    }
    Ok(())
}

fn print_model(m: &ModelEntry) {
    let metric = |k: &str| {
        m.model
            .metrics
            .get(k)
            .and_then(|v| v.as_f64())
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "{:<8} {}  trained by {}, registered by {} {}{}",
        m.state.as_str(),
        m.model.version,
        m.model.trainer,
        m.registered_by,
        m.registered_at,
        match (&m.approved_by, &m.approval_reason) {
            (Some(by), Some(why)) => format!(", approved by {by}: {why}"),
            _ => String::new(),
        }
    );
    println!(
        "         validation AUC {}; data {}; artefact sha256:{}",
        metric("auc"),
        m.model.data_fingerprint,
        m.model.artefact_sha256
    );
}

/// Loads the active model's artefact from the store, refusing bytes that changed since
/// registration.
fn load_active(store: &dyn GovernanceStore) -> Result<(ModelEntry, ModelArtefact)> {
    Ok(app_models::load_active(store)?)
}

// ------------------------------------------------------------------------ audit

fn audit(cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify { gov, json } => {
            let store = gov.open_existing()?;
            let v = app_audit::verify(&store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{v}");
            }
            if let Verification::Broken { seq, .. } = v {
                bail!(
                    "audit log {} broken at record {seq}",
                    crate::store::Location::resolve(gov.db.as_deref())
                );
            }
            Ok(())
        }
        AuditCommand::Export { gov, output } => {
            let store = gov.open_existing()?;
            let mut out: Box<dyn Write> = match &output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let n = app_audit::export(&store, &mut out)?;
            out.flush()?;
            if let Some(p) = output {
                eprintln!("{n} audit records written to {}", p.display());
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------ feedback

fn feedback(cmd: FeedbackCommand) -> Result<()> {
    match cmd {
        FeedbackCommand::Record(a) => {
            let store = a.gov.open()?;
            let actor = a.gov.actor()?;
            let outcome = Outcome {
                declaration_id: a.declaration.clone(),
                decided_on: a.date.unwrap_or_else(|| chrono::Local::now().date_naive()),
                decision: a.decision.clone(),
                fraud: a.fraud,
                critical_level: a.critical.unwrap_or(u8::from(a.fraud)),
                amount_recovered: a.amount,
                note: a.note.clone(),
                officer: actor.id.clone(),
            };
            let id = app_feedback::record(&store, &actor, &outcome)?;
            println!(
                "recorded outcome #{id} for declaration {}: fraud {}",
                a.declaration,
                if a.fraud { "found" } else { "not found" }
            );
            Ok(())
        }
        FeedbackCommand::Import { file, gov } => {
            let store = gov.open()?;
            let actor = gov.actor()?;
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let outcomes = app_feedback::read_outcomes(
                reader,
                &file.display().to_string(),
                &actor,
                chrono::Local::now().date_naive(),
            )?;
            let ids = app_feedback::record_all(&store, &actor, &outcomes)?;
            println!("recorded {} outcomes from {}", ids.len(), file.display());
            Ok(())
        }
        FeedbackCommand::Export(a) => {
            let n = export_training(&a)?;
            println!(
                "{n} declarations with outcomes decided since {} written to {} (train with --profile generic)",
                a.since,
                a.output.display()
            );
            Ok(())
        }
    }
}

const GENERIC_COLUMNS: [&str; 27] = [
    "declaration_id",
    "date",
    "office",
    "declarant",
    "importer",
    "seller",
    "courier",
    "hs_code",
    "origin_country",
    "departure_country",
    "transport_mode",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "net_mass_kg",
    "customs_value",
    "currency",
    "tax_rate",
    "tax_type",
    "origin_indicator",
    "description",
    "quantity",
    "quantity_unit",
    "fraud",
    "critical_level",
    "amount_recovered",
];

fn generic_row(d: &Declaration) -> Vec<String> {
    let o = |v: &Option<borderline_core::Text>| v.as_deref().unwrap_or("").to_string();
    let n = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let outcome = d.outcome;
    vec![
        d.declaration_id.to_string(),
        d.date.to_string(),
        d.office.to_string(),
        d.declarant.to_string(),
        d.importer.to_string(),
        o(&d.seller),
        o(&d.courier),
        d.hs_code.to_string(),
        d.origin_country.to_string(),
        o(&d.departure_country),
        d.transport_mode.to_string(),
        d.process_type.to_string(),
        d.import_type.to_string(),
        d.import_use.to_string(),
        d.payment_type.to_string(),
        n(d.net_mass_kg),
        n(d.customs_value),
        d.currency.to_string(),
        n(d.tax_rate),
        d.tax_type.to_string(),
        d.origin_indicator.to_string(),
        d.description.clone().unwrap_or_default(),
        n(d.quantity),
        o(&d.quantity_unit),
        outcome
            .map(|o| u8::from(o.fraud).to_string())
            .unwrap_or_default(),
        outcome
            .map(|o| o.critical_level.to_string())
            .unwrap_or_default(),
        n(outcome.and_then(|o| o.amount_recovered)),
    ]
}

/// `train --since DATE`: the declarations of `declarations` whose inspection outcome an officer
/// recorded on or after `since` (the latest record per declaration), with that outcome.
/// Returns them and the number of recorded outcomes that matched no declaration.
pub fn recorded_outcomes_since(
    db: Option<PathBuf>,
    since: NaiveDate,
    declarations: Vec<Declaration>,
) -> Result<(Vec<Declaration>, usize)> {
    let store = GovArgs { db, user: None }.open_existing()?;
    Ok(app_feedback::recorded_outcomes_since(
        &store,
        since,
        declarations,
    )?)
}

/// The `train --since DATE` helper: declarations with outcomes recorded since a date, as a
/// generic-layout CSV. Returns the number written.
fn export_training(a: &ExportArgs) -> Result<usize> {
    let store = a.gov.open()?;
    let (rows, unmatched) =
        app_feedback::recorded_outcomes_since(&store, a.since, load(&a.declarations, &a.profile)?)?;
    let mut w = csv::Writer::from_path(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    w.write_record(GENERIC_COLUMNS)?;
    for d in &rows {
        w.write_record(generic_row(d))?;
    }
    w.flush()?;
    if unmatched > 0 {
        eprintln!(
            "warning: {unmatched} outcomes since {} have no declaration in {}",
            a.since,
            a.declarations.display()
        );
    }
    Ok(rows.len())
}

// ------------------------------------------------------------------------ select

/// Feature indices the rule context reads from the model's own history tables.
struct ModelFields {
    unit_value_vs_norm: Option<usize>,
    importer_history: Option<usize>,
}

impl ModelFields {
    fn of(model: &ModelArtefact) -> Self {
        let find = |name: &str| model.features.iter().position(|f| f.name == name);
        ModelFields {
            unit_value_vs_norm: find("unit_value_vs_hs6_origin"),
            importer_history: find("importer_count"),
        }
    }

    /// Module values for the rule context, from the feature vector `x`.
    fn extra(&self, x: &[f32]) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        if let Some(v) = self.unit_value_vs_norm.and_then(|i| x.get(i)) {
            if v.is_finite() {
                // The feature is a log ratio; analysts read "0.3 times the usual price".
                m.insert("unit_value_vs_norm".into(), f64::from(*v).exp());
            }
        }
        if let Some(v) = self.importer_history.and_then(|i| x.get(i)) {
            if v.is_finite() {
                m.insert("importer_history".into(), f64::from(*v));
            }
        }
        m
    }

    /// Uncertainty for exploration: the score's closeness to 0.5, and full uncertainty for an
    /// importer the model has never seen inspected.
    fn uncertainty(&self, p: f64, extra: &BTreeMap<String, f64>) -> f64 {
        let unseen = self.importer_history.is_some() && extra.get("importer_history") == Some(&0.0);
        if unseen {
            1.0
        } else {
            score_uncertainty(p)
        }
    }
}

#[derive(serde::Serialize)]
struct LaneLine<'a> {
    declaration_id: &'a str,
    lane: Lane,
    basis: Basis,
    score: f64,
    score_rank: usize,
    rule_id: Option<&'a str>,
    why: &'a str,
    reasons: &'a [Reason],
}

fn select(a: &SelectArgs) -> Result<()> {
    let actor = a.gov.actor()?;
    let store = a.gov.open()?;
    let (entry, model) = load_active(&store)?;
    let rules = RuleSet::from_file(&a.rules, DECLARATION_FIELDS)?;
    let rows = load(&a.input, &a.profile)?;
    let policy = Policy {
        red: a.capacity.red,
        yellow: a.capacity.yellow,
        blue: a.capacity.blue,
        random: a.random,
        explore: a.explore,
        seed: a.seed,
    };
    policy.validate()?;

    let benchmarks = match &a.history {
        Some(h) => Some(valuation_benchmarks(&load(h, &a.profile)?, &rows)?),
        None => model.modules.signals.iter().find_map(|m| match m {
            borderline_targeting::modules::ModuleSignal::Valuation(v) => Some(v.benchmarks.clone()),
            _ => None,
        }),
    };
    let screening = crate::targeting::screening_of(
        a.parties.as_deref(),
        a.relationships.as_deref(),
        a.demo_parties,
        &rows,
    )?;
    let scorer = Scorer::new(model.clone());
    let fields = ModelFields::of(&model);
    let scores = scorer.score_block(&rows);
    let mut x = vec![0.0f32; scorer.num_features()];
    let mut hits: Vec<Vec<RuleHit>> = Vec::with_capacity(rows.len());
    let mut flags: Vec<Vec<Reason>> = Vec::with_capacity(rows.len());
    let mut uncertainty = Vec::with_capacity(rows.len());
    for (d, s) in rows.iter().zip(&scores) {
        scorer.features(d, &mut x);
        let mut extra = fields.extra(&x);
        let mut flagged = match &benchmarks {
            Some(b) => valuation_fields(b, d, &mut extra),
            None => Vec::new(),
        };
        if let Some(s) = &screening {
            flagged.extend(screening_fields(s, d, &mut extra));
        }
        flags.push(flagged);
        let ctx = DeclarationContext {
            declaration: d,
            score: Some(s.probability),
            extra: &extra,
        };
        hits.push(rules.evaluate(&ctx));
        uncertainty.push(fields.uncertainty(s.probability, &extra));
    }
    let candidates: Vec<Candidate> = rows
        .iter()
        .enumerate()
        .map(|(i, d)| Candidate {
            declaration_id: &d.declaration_id,
            score: scores[i].probability,
            uncertainty: uncertainty[i],
            rule_hits: &hits[i],
        })
        .collect();
    let selections = selectivity::select(&candidates, &policy)?;

    let explain = match a.reasons {
        ReasonsArg::Exact => Some(Explain::Exact),
        ReasonsArg::Fast => Some(Explain::Fast),
        ReasonsArg::None => None,
    };
    let mut events = Vec::with_capacity(rows.len());
    for (i, (d, sel)) in rows.iter().zip(&selections).enumerate() {
        let mut reasons: Vec<Reason> = hits[i].iter().map(|h| h.reason.clone()).collect();
        reasons.extend(flags[i].iter().cloned());
        if let (true, Some(m)) = (sel.lane.is_inspection(), explain) {
            scorer.features(d, &mut x);
            reasons.extend(scorer.reasons(d, &x, m, a.top_reasons));
        }
        events.push(AuditEvent::Decision(Decision {
            declaration_id: d.declaration_id.to_string(),
            input_hash: input_hash(d)?,
            model_version: entry.model.version.clone(),
            rules_version: rules.version().to_string(),
            score: scores[i].probability,
            lane: sel.lane,
            basis: sel.basis,
            why: sel.why.clone(),
            reasons,
        }));
    }
    let counts = lane_counts(&selections);
    events.push(AuditEvent::Governance(GovernanceAction {
        action: "lanes.select".into(),
        subject: a.input.display().to_string(),
        detail: serde_json::json!({
            "declarations": rows.len(),
            "model_version": entry.model.version,
            "rules_version": rules.version(),
            "policy": policy,
            "lanes": counts,
        }),
    }));
    let seqs = AuditLog::new(&store).append_all(&actor, &events)?;
    write_lanes(&a.output, &rows, &selections, &events)?;
    println!(
        "{} declarations with model {} and rules {} ({} rules): {} red, {} yellow, {} blue, {} green ({} at random, {} exploration, {} by rule)",
        rows.len(),
        entry.model.version,
        rules.version(),
        rules.rules().len(),
        counts.get("red").unwrap_or(&0),
        counts.get("yellow").unwrap_or(&0),
        counts.get("blue").unwrap_or(&0),
        counts.get("green").unwrap_or(&0),
        selections.iter().filter(|s| s.basis == Basis::Random).count(),
        selections.iter().filter(|s| s.basis == Basis::Exploration).count(),
        selections.iter().filter(|s| s.basis == Basis::Rule).count(),
    );
    println!(
        "lanes written to {}; decisions appended to the audit log as records {}..{}",
        a.output.display(),
        seqs.first().unwrap_or(&0),
        seqs.last().unwrap_or(&0)
    );
    Ok(())
}

/// Valuation benchmarks from `history`, as of the first day of the declarations to select.
fn valuation_benchmarks(
    history: &[Declaration],
    rows: &[Declaration],
) -> Result<borderline_valuation::Benchmarks> {
    let mut builder =
        borderline_valuation::BenchmarkBuilder::new(borderline_valuation::Config::default())?;
    for d in history {
        // Rows without a usable unit value are counted and skipped by the builder.
        let _ = builder.add(d);
    }
    let as_of = rows
        .iter()
        .map(|d| d.date)
        .min()
        .or_else(|| history.iter().map(|d| d.date).max())
        .unwrap_or_default();
    Ok(builder.finalize(as_of))
}

/// Puts the valuation check's percentile and robust z into the rule fields (when the
/// declaration could be compared with a benchmark) and returns its flags as reasons.
fn valuation_fields(
    b: &borderline_valuation::Benchmarks,
    d: &Declaration,
    extra: &mut BTreeMap<String, f64>,
) -> Vec<Reason> {
    let c = b.check(d);
    if c.outcome == borderline_valuation::CheckOutcome::Checked {
        if c.percentile.is_finite() {
            extra.insert("unit_value_percentile".into(), c.percentile);
        }
        if c.robust_z.is_finite() {
            extra.insert("valuation_z".into(), c.robust_z);
        }
    }
    if c.flagged {
        b.reasons(d, &c)
    } else {
        Vec::new()
    }
}

/// Puts the screening signal's rule fields (`screening_score`) into the rule fields and returns
/// its reasons (list hits, network paths, region flags).
fn screening_fields(
    s: &borderline_screening::ScreeningSignal,
    d: &Declaration,
    extra: &mut BTreeMap<String, f64>,
) -> Vec<Reason> {
    let mut values = Vec::new();
    borderline_core::Signal::rule_values(s, d, &mut values);
    extra.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
    borderline_core::Signal::reasons(s, d)
}

fn lane_counts(selections: &[Selection]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for l in Lane::ALL {
        m.insert(
            l.as_str(),
            selections.iter().filter(|s| s.lane == l).count(),
        );
    }
    m
}

fn write_lanes(
    path: &Path,
    rows: &[Declaration],
    selections: &[Selection],
    events: &[AuditEvent],
) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let jsonl = path.to_string_lossy().ends_with(".jsonl");
    // Inspection lanes first, then by score rank: the order an officer works in.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (selections[i].lane, selections[i].score_rank));
    let mut csv_out = (!jsonl).then(|| csv::Writer::from_writer(Vec::new()));
    if let Some(w) = csv_out.as_mut() {
        w.write_record([
            "declaration_id",
            "lane",
            "basis",
            "score",
            "score_rank",
            "rule_id",
            "why",
            "reasons",
        ])?;
    }
    for i in order {
        let (s, AuditEvent::Decision(dec)) = (&selections[i], &events[i]) else {
            continue;
        };
        let line = LaneLine {
            declaration_id: &rows[i].declaration_id,
            lane: s.lane,
            basis: s.basis,
            score: dec.score,
            score_rank: s.score_rank,
            rule_id: s.rule_id.as_deref(),
            why: &s.why,
            reasons: &dec.reasons,
        };
        match csv_out.as_mut() {
            None => {
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            Some(w) => {
                let reasons: Vec<&str> = dec.reasons.iter().map(|r| r.text.as_str()).collect();
                let basis = serde_json::to_value(s.basis)?;
                w.write_record([
                    line.declaration_id,
                    s.lane.as_str(),
                    basis.as_str().unwrap_or(""),
                    &format!("{:.6}", dec.score),
                    &s.score_rank.to_string(),
                    line.rule_id.unwrap_or(""),
                    &s.why,
                    &reasons.join("; "),
                ])?;
            }
        }
    }
    if let Some(w) = csv_out {
        out.write_all(&w.into_inner().map_err(|e| anyhow!("{e}"))?)?;
    }
    out.flush()?;
    Ok(())
}

// ------------------------------------------------------------------------ monitor

#[derive(serde::Serialize)]
struct FeaturePsi {
    name: String,
    psi: f64,
    drift: Drift,
}

fn monitor_cmd(a: &MonitorArgs) -> Result<()> {
    let store = a.gov.open_existing()?;
    let (version, model) = match &a.model {
        Some(p) => {
            let m = ModelArtefact::load(p)?;
            (m.model_id.clone(), m)
        }
        None => {
            let (e, m) = load_active(&store)?;
            (e.model.version, m)
        }
    };
    let reference = load(&a.reference, &a.profile)?;
    let recent = load(&a.input, &a.profile)?;
    let scorer = Scorer::new(model.clone());
    let nf = scorer.num_features();
    let columns = |rows: &[Declaration]| {
        let mut cols = vec![Vec::with_capacity(rows.len()); nf];
        let mut x = vec![0.0f32; nf];
        for d in rows {
            scorer.features(d, &mut x);
            for (c, v) in cols.iter_mut().zip(&x) {
                c.push(f64::from(*v));
            }
        }
        cols
    };
    let (ref_cols, new_cols) = (columns(&reference), columns(&recent));
    let probs = |rows: &[Declaration]| -> Vec<f64> {
        scorer
            .score_block(rows)
            .into_iter()
            .map(|s| s.probability)
            .collect()
    };
    let score_psi: Option<Psi> = monitor::psi(&probs(&reference), &probs(&recent), PSI_BINS);
    let mut features: Vec<FeaturePsi> = model
        .features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            monitor::psi(&ref_cols[i], &new_cols[i], PSI_BINS).map(|p| FeaturePsi {
                name: f.name.clone(),
                psi: p.value,
                drift: p.drift,
            })
        })
        .collect();
    features.sort_by(|a, b| b.psi.total_cmp(&a.psi));

    let outcomes = FeedbackLog::new(&store).latest(None)?;
    let decisions = AuditLog::new(&store).latest_decisions()?;
    let hit_rates: Vec<HitRate> = monitor::hit_rates(&monitor::inspections(&outcomes, &decisions));

    // History features of declarations the model learned from are in-sample (their own
    // outcome and presence are in the tables), so against such a reference their PSI
    // overstates drift: say so rather than let officers chase it.
    let t = &model.training;
    let learned_until = [&t.train_period.1, &t.valid_period.1]
        .into_iter()
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .max();
    let in_training = match (learned_until, reference.iter().map(|d| d.date).min()) {
        (Some(end), Some(first)) => first <= end,
        _ => false,
    };
    let mut warnings = Vec::new();
    if let Some(p) = &score_psi {
        if p.drift != Drift::Stable {
            warnings.push(format!(
                "score PSI {:.3} ({})",
                p.value,
                drift_word(p.drift)
            ));
        }
    }
    for f in features.iter().filter(|f| f.drift != Drift::Stable) {
        warnings.push(format!(
            "feature {} PSI {:.3} ({})",
            f.name,
            f.psi,
            drift_word(f.drift)
        ));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model_version": version,
                "reference": {"file": a.reference.display().to_string(), "declarations": reference.len()},
                "recent": {"file": a.input.display().to_string(), "declarations": recent.len()},
                "thresholds": {"warn": PSI_WARN, "alert": PSI_ALERT},
                "reference_in_training_period": in_training,
                "score": score_psi,
                "features": features,
                "hit_rates": hit_rates,
                "warnings": warnings,
            }))?
        );
    } else {
        println!(
            "model {version}: reference {} ({} declarations) vs recent {} ({} declarations)",
            a.reference.display(),
            reference.len(),
            a.input.display(),
            recent.len()
        );
        println!("population stability (PSI; warn >= {PSI_WARN}, alert >= {PSI_ALERT}):");
        if let Some(p) = &score_psi {
            println!(
                "  {:<40} {:>7.3}  {}",
                "score",
                p.value,
                drift_word(p.drift)
            );
        }
        for f in features.iter().take(15) {
            println!("  {:<40} {:>7.3}  {}", f.name, f.psi, drift_word(f.drift));
        }
        if features.len() > 15 {
            println!(
                "  ... {} more features (all below the ones shown)",
                features.len() - 15
            );
        }
        if hit_rates.is_empty() {
            println!("hit rates: no inspection outcomes recorded yet (borderline feedback record|import)");
        } else {
            println!("hit rates (share of inspected declarations found fraudulent):");
            let mut last = "";
            for h in &hit_rates {
                if h.group != last {
                    println!("  {}", h.group);
                    last = &h.group;
                }
                println!(
                    "    {:<9} {:>5.1}%  ({} of {})",
                    h.week,
                    h.rate * 100.0,
                    h.frauds,
                    h.inspected
                );
            }
        }
        for w in warnings.iter().take(10) {
            println!("WARNING: {w}");
        }
        if warnings.len() > 10 {
            println!(
                "WARNING: ... and {} more features beyond the thresholds (--json lists all)",
                warnings.len() - 10
            );
        }
        if in_training {
            println!(
                "note: the reference overlaps the model's training data (up to {}): history features (rates, counts, shares) are in-sample there, so their PSI overstates drift; compare raw declaration features and the score, or use a reference period scored after training",
                learned_until.map(|d| d.to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn drift_word(d: Drift) -> &'static str {
    match d {
        Drift::Stable => "stable",
        Drift::Warn => "moderate shift",
        Drift::Alert => "major shift",
    }
}

// ------------------------------------------------------------------------ simulate

fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    if let Ok(d) = std::env::var("BORDERLINE_DATA") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("data");
    if local.join("declarations").is_dir() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// Every k-th row so that at most about `max` remain (deterministic).
fn thin(rows: Vec<Declaration>, max: Option<usize>) -> Vec<Declaration> {
    match max {
        Some(m) if m > 0 && rows.len() > m => {
            let k = rows.len().div_ceil(m);
            rows.into_iter().step_by(k).collect()
        }
        _ => rows,
    }
}

#[derive(serde::Serialize, Clone, Default)]
struct WeekResult {
    week: String,
    declarations: usize,
    frauds: usize,
    inspected: usize,
    found: usize,
    precision: f64,
    recall: f64,
    /// Ranking quality of the policy's current model on all of the week's declarations (ground
    /// truth the policy does not see): how well it has learned.
    auc: f64,
}

#[derive(serde::Serialize)]
struct PolicyResult {
    name: String,
    policy: Policy,
    weeks: Vec<WeekResult>,
    overall: WeekResult,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

fn simulate(a: &SimulateArgs) -> Result<()> {
    let data = data_dir(a.data.as_deref()).join("declarations");
    let file = |split: &str| data.join(format!("kcs_{split}.csv.gz"));
    if !file("test").is_file() {
        bail!(
            "bundled data not found at {} (give --data or set BORDERLINE_DATA)",
            data.display()
        );
    }
    let train_rows = thin(load(&file("train"), "korea-customs")?, a.sample);
    let valid_rows = thin(load(&file("valid"), "korea-customs")?, a.sample);
    let test_rows = thin(load(&file("test"), "korea-customs")?, a.sample);
    let mut weeks: BTreeMap<String, Vec<Declaration>> = BTreeMap::new();
    for d in test_rows {
        weeks.entry(monitor::iso_week(d.date)).or_default().push(d);
    }
    let weeks: Vec<(String, Vec<Declaration>)> = weeks
        .into_iter()
        .take(a.weeks.unwrap_or(usize::MAX))
        .collect();
    let cfg = TrainConfig {
        learning_rate: a.learning_rate,
        num_leaves: 31,
        max_rounds: a.trees,
        early_stopping_rounds: 30,
        min_data_in_leaf: 20,
        seed: a.seed,
        threads: a.threads,
        ..TrainConfig::default()
    };
    let quiet = |_: &str| {};
    eprintln!(
        "training the initial model on {} + {} declarations",
        train_rows.len(),
        valid_rows.len()
    );
    let initial = train(&train_rows, &valid_rows, &cfg, &quiet)?;
    let policies = [
        (
            "exploitation only",
            Policy {
                red: a.capacity,
                yellow: 0.0,
                blue: 0.0,
                random: 0.0,
                explore: 0.0,
                seed: a.seed,
            },
        ),
        (
            "exploitation + exploration + random",
            Policy {
                red: a.capacity,
                yellow: 0.0,
                blue: 0.0,
                random: a.random,
                explore: a.explore,
                seed: a.seed,
            },
        ),
    ];
    let mut results = Vec::new();
    for (name, policy) in policies {
        policy.validate()?;
        eprintln!("replaying {} weeks: {name}", weeks.len());
        let mut model = initial.clone();
        let mut learned: Vec<Declaration> = train_rows.clone();
        let mut out = Vec::new();
        for (w, (week, rows)) in weeks.iter().enumerate() {
            let scorer = Scorer::new(model.clone());
            let fields = ModelFields::of(&model);
            let scores: Vec<f64> = scorer
                .score_block(rows)
                .into_iter()
                .map(|s| s.probability)
                .collect();
            let mut x = vec![0.0f32; scorer.num_features()];
            let uncertainty: Vec<f64> = rows
                .iter()
                .zip(&scores)
                .map(|(d, p)| {
                    scorer.features(d, &mut x);
                    fields.uncertainty(*p, &fields.extra(&x))
                })
                .collect();
            let candidates: Vec<Candidate> = rows
                .iter()
                .enumerate()
                .map(|(i, d)| Candidate {
                    declaration_id: &d.declaration_id,
                    score: scores[i],
                    uncertainty: uncertainty[i],
                    rule_hits: &[],
                })
                .collect();
            let sel = selectivity::select(
                &candidates,
                &Policy {
                    seed: policy.seed.wrapping_add(w as u64),
                    ..policy
                },
            )?;
            let fraud = |d: &Declaration| d.outcome.is_some_and(|o| o.fraud);
            let labels: Vec<bool> = rows.iter().map(fraud).collect();
            let inspected: Vec<&Declaration> = rows
                .iter()
                .zip(&sel)
                .filter(|(_, s)| s.lane.is_inspection())
                .map(|(d, _)| d)
                .collect();
            let found = inspected.iter().filter(|d| fraud(d)).count();
            let frauds = labels.iter().filter(|f| **f).count();
            out.push(WeekResult {
                week: week.clone(),
                declarations: rows.len(),
                frauds,
                inspected: inspected.len(),
                found,
                precision: ratio(found, inspected.len()),
                recall: ratio(found, frauds),
                auc: borderline_core::metrics::auc(&scores, &labels),
            });
            // Only what was inspected becomes known; the rest stays unlabelled.
            learned.extend(inspected.into_iter().cloned());
            if w + 1 < weeks.len() {
                model = train(&learned, &valid_rows, &cfg, &quiet)?;
            }
            let r = out.last().cloned().unwrap_or_default();
            eprintln!(
                "  {week}: inspected {} of {}, found {} of {} frauds (precision {:.3}, recall {:.3}, model AUC {:.3})",
                r.inspected, r.declarations, r.found, r.frauds, r.precision, r.recall, r.auc
            );
        }
        let sum = |f: fn(&WeekResult) -> usize| out.iter().map(f).sum::<usize>();
        let (insp, found, frauds) = (sum(|w| w.inspected), sum(|w| w.found), sum(|w| w.frauds));
        let overall = WeekResult {
            week: "all".into(),
            declarations: sum(|w| w.declarations),
            frauds,
            inspected: insp,
            found,
            precision: ratio(found, insp),
            recall: ratio(found, frauds),
            auc: out
                .iter()
                .map(|w| w.auc)
                .filter(|a| a.is_finite())
                .sum::<f64>()
                / out.iter().filter(|w| w.auc.is_finite()).count().max(1) as f64,
        };
        results.push(PolicyResult {
            name: name.into(),
            policy,
            weeks: out,
            overall,
        });
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "capacity": a.capacity,
                "sample": a.sample,
                "train_config": {"learning_rate": cfg.learning_rate, "num_leaves": cfg.num_leaves, "max_rounds": cfg.max_rounds},
                "policies": results,
            }))?
        );
    } else {
        println!(
            "replay of {} weeks at {}% inspection capacity (learning only from inspected outcomes, retrained weekly)",
            weeks.len(),
            a.capacity
        );
        println!(
            "{:<10} {:>7} {:>6} | {:>9} {:>7} {:>6} | {:>9} {:>7} {:>6}",
            "week", "decl.", "fraud", "P exploit", "R", "AUC", "P explore", "R", "AUC"
        );
        let rows = results.first().map(|r| r.weeks.len()).unwrap_or(0);
        for i in 0..=rows {
            let get = |r: &PolicyResult| {
                if i < rows {
                    r.weeks[i].clone()
                } else {
                    r.overall.clone()
                }
            };
            let (e, x) = (get(&results[0]), get(&results[1]));
            println!(
                "{:<10} {:>7} {:>6} | {:>9.3} {:>7.3} {:>6.3} | {:>9.3} {:>7.3} {:>6.3}",
                e.week,
                e.declarations,
                e.frauds,
                e.precision,
                e.recall,
                e.auc,
                x.precision,
                x.recall,
                x.auc
            );
        }
        println!("P = precision (frauds found / inspected), R = recall (frauds found / all frauds), AUC of the policy's model on all of the week's declarations ('all' row: mean).");
    }
    Ok(())
}
