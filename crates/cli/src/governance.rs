//! Governance commands: models (registry), rules (analyst rule sets), audit, monitor, feedback,
//! select, simulate.
//! The workflows live in `borderline_app::governance` over the store traits; this file opens the
//! store (SQLite or PostgreSQL, chosen in `crate::store`), builds the acting `Actor` from --user /
//! BORDERLINE_USER / USER, parses arguments, loads files and prints.

use crate::output::{commit_file, create_file, parse_percent};
use crate::targeting::ReasonsArg;
use anyhow::{anyhow, bail, Context, Result};
use borderline_app::declarations::Source;
use borderline_app::governance::select::ActiveModel;
use borderline_app::governance::{
    audit as app_audit, feedback as app_feedback, models as app_models, monitor as app_monitor,
    rules as app_rules, select as app_select, simulate as app_simulate,
};
use borderline_core::{Declaration, Reason};
use borderline_governance::audit::Verification;
use borderline_governance::feedback::Outcome;
use borderline_governance::monitor::{Drift, PSI_ALERT, PSI_WARN};
use borderline_governance::registry::ModelEntry;
use borderline_governance::rulebook::RuleSetEntry;
use borderline_governance::rules::{RuleSet, DECLARATION_FIELDS};
use borderline_governance::selectivity::{Basis, Policy};
use borderline_governance::{Actor, Lane};
use borderline_ingest::Profile;
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::Scorer;
use borderline_training::TrainConfig;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum Command {
    /// Model registry: list, register, approve (four-eyes), activate, retire, rollback.
    Models(ModelsArgs),
    /// Analyst rule sets: validate, upload (draft), approve (four-eyes), activate, retire, list.
    Rules(RulesArgs),
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
    /// Retire a model for good (the reason is recorded in the audit log).
    Retire {
        version: String,
        #[arg(long)]
        reason: String,
    },
    /// Retire the active model and reactivate the one it replaced (the reason is recorded).
    Rollback {
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: Option<RulesAction>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub gov: GovArgs,
}

#[derive(Subcommand)]
pub enum RulesAction {
    /// List stored rule sets (the default).
    List,
    /// Print one rule set's source and state.
    Show { version: String },
    /// Check a rule file (errors name the line and column); stores nothing.
    Validate { file: PathBuf },
    /// Store a rule file as a draft written by the acting user.
    Upload { file: PathBuf },
    /// Approve a draft (another user than its author; a reason is required).
    Approve {
        version: String,
        #[arg(long)]
        reason: String,
    },
    /// Make an approved rule set the one lane selection uses (the previous one is retired).
    Activate { version: String },
    /// Retire a rule set (an active one leaves no analyst rules active; the reason is recorded).
    Retire {
        version: String,
        #[arg(long)]
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
    /// Walk the hash chain, compare the model registry with the state the chain records, and
    /// check signed checkpoints from a witness file (exit status 1 on any finding).
    Verify {
        #[command(flatten)]
        gov: GovArgs,
        #[arg(long)]
        json: bool,
        /// Witness file of signed checkpoints (from `audit checkpoint`).
        #[arg(long, requires = "public_key")]
        witness: Option<PathBuf>,
        /// Public key the checkpoints must verify with (KEY.pub from `audit keygen`).
        #[arg(long, requires = "witness")]
        public_key: Option<PathBuf>,
    },
    /// Create a checkpoint signing key (Ed25519) in FILE and its public key in FILE.pub.
    /// Keep FILE away from the database: whoever holds it can vouch for a rewritten log.
    Keygen {
        #[arg(long)]
        key: PathBuf,
    },
    /// Sign the audit chain's head (length, hash, time) and append it to a witness file kept
    /// outside the database; refused when the log does not verify.
    Checkpoint {
        #[command(flatten)]
        gov: GovArgs,
        /// Signing key from `audit keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Witness file (JSON Lines) to append to.
        #[arg(long)]
        witness: PathBuf,
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

#[derive(Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub gov: GovArgs,
    /// Declarations to assign lanes to.
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, default_value = "korea-customs")]
    pub profile: String,
    /// Analyst rule file (see docs/governance.md). Default: the store's active approved rule
    /// set (`borderline rules upload/approve/activate` or the API; none active: no analyst rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
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
        Command::Rules(a) => rules(a),
        Command::Audit(a) => audit(a),
        Command::Monitor(a) => monitor_cmd(&a),
        Command::Feedback(a) => feedback(a),
        Command::Select(a) => select(&a),
        Command::Simulate(a) => simulate(&a),
    }
}

/// Reads a declaration file, printing its accounting to standard error.
fn load(path: &Path, profile: &str) -> Result<Vec<Declaration>> {
    crate::targeting::load_source(&Source::new(path, Profile::resolve(profile)?))
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

// ------------------------------------------------------------------------ rules

fn read_rule_file(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn rules(a: RulesArgs) -> Result<()> {
    let action = a.action.unwrap_or(RulesAction::List);
    if let RulesAction::Validate { file } = &action {
        // Validation stores nothing, so it needs no database.
        let v = app_rules::validate(&read_rule_file(file)?)
            .with_context(|| format!("{}", file.display()))?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            println!(
                "{}: valid, {} rules ({}), version {}",
                file.display(),
                v.rules.len(),
                v.rules.join(", "),
                v.version
            );
        }
        return Ok(());
    }
    let store = a.gov.open()?;
    let print = |e: &RuleSetEntry| -> Result<()> {
        if a.json {
            println!("{}", serde_json::to_string_pretty(e)?);
        } else {
            print_rule_set(e);
        }
        Ok(())
    };
    match action {
        RulesAction::Validate { .. } => {}
        RulesAction::List => {
            let list = app_rules::list(&store)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no rule sets stored (borderline rules upload FILE)");
            } else {
                list.iter().for_each(print_rule_set);
            }
        }
        RulesAction::Show { version } => {
            let e = app_rules::get(&store, &version)?;
            print(&e)?;
            if !a.json {
                print!("{}", e.source);
            }
        }
        RulesAction::Upload { file } => {
            let e = app_rules::upload(&store, &a.gov.actor()?, &read_rule_file(&file)?)
                .with_context(|| format!("{}", file.display()))?;
            print(&e)?;
            if !a.json {
                println!(
                    "another user approves it with: borderline rules approve {} --reason \"...\"",
                    e.version
                );
            }
        }
        RulesAction::Approve { version, reason } => {
            print(&app_rules::approve(
                &store,
                &a.gov.actor()?,
                &version,
                &reason,
            )?)?;
        }
        RulesAction::Activate { version } => {
            match app_rules::activate(&store, &a.gov.actor()?, &version)? {
                Some(p) => println!("{version} is now active; {p} retired"),
                None => println!("{version} is now active"),
            }
        }
        RulesAction::Retire { version, reason } => {
            app_rules::retire(&store, &a.gov.actor()?, &version, &reason)?;
            println!("{version} retired");
        }
    }
    Ok(())
}

fn print_rule_set(e: &RuleSetEntry) {
    println!(
        "{:<8} {}  {} rules, uploaded by {} {}{}",
        e.state.as_str(),
        e.version,
        e.rules,
        e.uploaded_by,
        e.uploaded_at,
        e.approved_by
            .as_deref()
            .map(|b| format!(", approved by {b}"))
            .unwrap_or_default()
    );
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

// ------------------------------------------------------------------------ audit

fn audit(cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify {
            gov,
            json,
            witness,
            public_key,
        } => {
            let store = gov.open_existing()?;
            let witness = witness
                .zip(public_key)
                .map(|(file, public_key)| app_audit::Witness { file, public_key });
            let report = app_audit::verify_with(&store, witness.as_ref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            if let Verification::Broken { seq, .. } = report.chain {
                bail!(
                    "audit log {} broken at record {seq}",
                    crate::store::Location::resolve(gov.db.as_deref())
                );
            }
            if !report.holds() {
                bail!(
                    "audit log {}: the registry or the checkpoints disagree with it",
                    crate::store::Location::resolve(gov.db.as_deref())
                );
            }
            Ok(())
        }
        AuditCommand::Keygen { key } => {
            let files = app_audit::keygen(&key)?;
            println!(
                "checkpoint key written to {} (keep it off the database host); public key {} (fingerprint {})",
                files.key.display(),
                files.public_key.display(),
                files.fingerprint
            );
            Ok(())
        }
        AuditCommand::Checkpoint { gov, key, witness } => {
            let store = gov.open_existing()?;
            let cp = app_audit::checkpoint(&store, &key, &witness)?;
            println!(
                "checkpoint of {} records (head {}) appended to {}",
                cp.length,
                cp.head,
                witness.display()
            );
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
            let today = chrono::Utc::now().date_naive();
            let outcome = Outcome {
                declaration_id: a.declaration.clone(),
                decided_on: a.date.unwrap_or(today),
                decision: a.decision.clone(),
                fraud: a.fraud,
                critical_level: a.critical.unwrap_or(u8::from(a.fraud)),
                amount_recovered: a.amount,
                note: a.note.clone(),
                reported_officer: actor.id.clone(),
            };
            let id = app_feedback::record(&store, &actor, &outcome, today)?;
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
            let ids = app_feedback::import(
                &store,
                &actor,
                reader,
                &file.display().to_string(),
                chrono::Utc::now().date_naive(),
            )?;
            println!(
                "recorded {} outcomes from {} by {} (an officer column is kept as reported_officer)",
                ids.len(),
                file.display(),
                actor.id
            );
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

/// One line of the lanes file.
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
    let active = ActiveModel::load(&store)?;
    let given = a
        .rules
        .as_deref()
        .map(|p| RuleSet::from_file(p, DECLARATION_FIELDS))
        .transpose()?;
    let rows = load(&a.input, &a.profile)?;
    let policy = Policy {
        red: a.capacity.red,
        yellow: a.capacity.yellow,
        blue: a.capacity.blue,
        random: a.random,
        explore: a.explore,
        seed: a.seed,
    };
    let benchmarks = match &a.history {
        // As of the first day of the declarations to select.
        Some(h) => {
            let built = borderline_app::valuation::build_benchmarks(
                &[Source::new(h, Profile::resolve(&a.profile)?)],
                borderline_valuation::Config::default(),
                rows.iter().map(|d| d.date).min(),
            )?;
            for r in &built.history {
                eprintln!("{r}");
            }
            Some(built.benchmarks)
        }
        None => None,
    };
    let screening = crate::targeting::screening_of(
        a.parties.as_deref(),
        a.relationships.as_deref(),
        a.demo_parties,
        &rows,
    )?;
    let subject = a.input.display().to_string();
    let outcome = app_select::select(
        &store,
        &actor,
        &active,
        &app_select::SelectRequest {
            declarations: &rows,
            subject: &subject,
            rules: match &given {
                Some(r) => app_select::Rules::Given(r),
                None => app_select::Rules::Active,
            },
            policy,
            valuation: benchmarks.as_ref(),
            screening: screening
                .as_ref()
                .map(|s| s as &dyn borderline_core::Signal),
            reasons: a.reasons.reasons(a.top_reasons),
            as_of: crate::targeting::today(),
        },
    )?;
    write_lanes(&a.output, &outcome)?;
    let lane = |l: &str| outcome.lanes.get(l).copied().unwrap_or(0);
    println!(
        "{} declarations with model {} and rules {} ({} rules): {} red, {} yellow, {} blue, {} green ({} at random, {} exploration, {} by rule)",
        rows.len(),
        outcome.model_version,
        outcome.rules_version,
        outcome.rules,
        lane("red"),
        lane("yellow"),
        lane("blue"),
        lane("green"),
        outcome.count(Basis::Random),
        outcome.count(Basis::Exploration),
        outcome.count(Basis::Rule),
    );
    println!(
        "lanes written to {}; decisions appended to the audit log as records {}..{}",
        a.output.display(),
        outcome.audit_records.first().unwrap_or(&0),
        outcome.audit_records.last().unwrap_or(&0)
    );
    Ok(())
}

/// Writes the lanes in working order (inspection lanes first, then by score rank): JSON Lines
/// for a `.jsonl` path, else CSV with the reasons in one cell.
fn write_lanes(path: &Path, outcome: &app_select::SelectOutcome) -> Result<()> {
    let mut out = create_file(path)?;
    let jsonl = path.to_string_lossy().ends_with(".jsonl");
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
    for i in outcome.working_order() {
        let d = &outcome.decisions[i];
        match csv_out.as_mut() {
            None => {
                let line = LaneLine {
                    declaration_id: &d.declaration_id,
                    lane: d.lane,
                    basis: d.basis,
                    score: d.score,
                    score_rank: d.score_rank,
                    rule_id: d.rule_id.as_deref(),
                    why: &d.why,
                    reasons: &d.reasons,
                };
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            Some(w) => {
                let reasons: Vec<&str> = d.reasons.iter().map(|r| r.text.as_str()).collect();
                let basis = serde_json::to_value(d.basis)?;
                w.write_record([
                    d.declaration_id.as_str(),
                    d.lane.as_str(),
                    basis.as_str().unwrap_or(""),
                    &format!("{:.6}", d.score),
                    &d.score_rank.to_string(),
                    d.rule_id.as_deref().unwrap_or(""),
                    &d.why,
                    &reasons.join("; "),
                ])?;
            }
        }
    }
    if let Some(w) = csv_out {
        out.write_all(&w.into_inner().map_err(|e| anyhow!("{e}"))?)?;
    }
    commit_file(out)
}

// ------------------------------------------------------------------------ monitor

fn monitor_cmd(a: &MonitorArgs) -> Result<()> {
    let store = a.gov.open_existing()?;
    let given = match &a.model {
        Some(p) => Some(Scorer::new(ModelArtefact::load(p)?)),
        None => None,
    };
    let reference = load(&a.reference, &a.profile)?;
    let recent = load(&a.input, &a.profile)?;
    let monitored = match &given {
        Some(s) => app_monitor::Monitored::Scorer(s),
        None => app_monitor::Monitored::Active,
    };
    let r = app_monitor::monitor(&store, monitored, &reference, &recent)?;
    let version = &r.model_version;
    let warnings: Vec<String> = r
        .drifting()
        .map(|(name, psi, drift)| {
            let what = if name == "score" {
                "score".to_string()
            } else {
                format!("feature {name}")
            };
            format!("{what} PSI {psi:.3} ({})", drift_word(drift))
        })
        .collect();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model_version": version,
                "reference": {"file": a.reference.display().to_string(), "declarations": r.reference_declarations},
                "recent": {"file": a.input.display().to_string(), "declarations": r.recent_declarations},
                "thresholds": {"warn": PSI_WARN, "alert": PSI_ALERT},
                "reference_in_training_period": r.reference_in_training_until.is_some(),
                "score": r.score,
                "features": r.features,
                "hit_rates": r.hit_rates,
                "warnings": warnings,
            }))?
        );
        return Ok(());
    }
    println!(
        "model {version}: reference {} ({} declarations) vs recent {} ({} declarations)",
        a.reference.display(),
        r.reference_declarations,
        a.input.display(),
        r.recent_declarations
    );
    println!("population stability (PSI; warn >= {PSI_WARN}, alert >= {PSI_ALERT}):");
    if let Some(p) = &r.score {
        println!(
            "  {:<40} {:>7.3}  {}",
            "score",
            p.value,
            drift_word(p.drift)
        );
    }
    for f in r.features.iter().take(15) {
        println!("  {:<40} {:>7.3}  {}", f.name, f.psi, drift_word(f.drift));
    }
    if r.features.len() > 15 {
        println!(
            "  ... {} more features (all below the ones shown)",
            r.features.len() - 15
        );
    }
    if r.hit_rates.is_empty() {
        println!(
            "hit rates: no inspection outcomes recorded yet (borderline feedback record|import)"
        );
    } else {
        println!("hit rates (share of inspected declarations found fraudulent):");
        let mut last = "";
        for h in &r.hit_rates {
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
    if let Some(until) = r.reference_in_training_until {
        println!(
            "note: the reference overlaps the model's training data (up to {until}): history features (rates, counts, shares) are in-sample there, so their PSI overstates drift; compare raw declaration features and the score, or use a reference period scored after training"
        );
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

fn simulate(a: &SimulateArgs) -> Result<()> {
    let data = data_dir(a.data.as_deref()).join("declarations");
    let file = |split: &str| data.join(format!("kcs_{split}.csv.gz"));
    if !file("test").is_file() {
        bail!(
            "bundled data not found at {} (give --data or set BORDERLINE_DATA)",
            data.display()
        );
    }
    let config = TrainConfig {
        learning_rate: a.learning_rate,
        num_leaves: 31,
        max_rounds: a.trees,
        early_stopping_rounds: 30,
        min_data_in_leaf: 20,
        seed: a.seed,
        threads: a.threads,
        ..TrainConfig::default()
    };
    let req = app_simulate::SimulateRequest {
        train: load(&file("train"), "korea-customs")?,
        valid: load(&file("valid"), "korea-customs")?,
        replay: load(&file("test"), "korea-customs")?,
        weeks: a.weeks,
        sample: a.sample,
        capacity: a.capacity,
        random: a.random,
        explore: a.explore,
        seed: a.seed,
        config: config.clone(),
    };
    let results = app_simulate::simulate(req, &|p| {
        match p {
        app_simulate::Progress::Training { train, valid } => {
            eprintln!("training the initial model on {train} + {valid} declarations")
        }
        app_simulate::Progress::Policy { name, weeks } => {
            eprintln!("replaying {weeks} weeks: {name}")
        }
        app_simulate::Progress::Week(r) => eprintln!(
            "  {}: inspected {} of {}, found {} of {} frauds (precision {:.3}, recall {:.3}, model AUC {:.3})",
            r.week, r.inspected, r.declarations, r.found, r.frauds, r.precision, r.recall, r.auc
        ),
    }
    })?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "capacity": a.capacity,
                "sample": a.sample,
                "train_config": {"learning_rate": config.learning_rate, "num_leaves": config.num_leaves, "max_rounds": config.max_rounds},
                "policies": results,
            }))?
        );
        return Ok(());
    }
    let weeks = results.first().map(|r| r.weeks.len()).unwrap_or(0);
    println!(
        "replay of {weeks} weeks at {}% inspection capacity (learning only from inspected outcomes, retrained weekly)",
        a.capacity
    );
    println!(
        "{:<10} {:>7} {:>6} | {:>9} {:>7} {:>6} | {:>9} {:>7} {:>6}",
        "week", "decl.", "fraud", "P exploit", "R", "AUC", "P explore", "R", "AUC"
    );
    let (Some(exploit), Some(explore)) = (results.first(), results.get(1)) else {
        return Ok(());
    };
    let rows = exploit.weeks.iter().chain([&exploit.overall]);
    for (e, x) in rows.zip(explore.weeks.iter().chain([&explore.overall])) {
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
    Ok(())
}
