//! `borderline network ...`: supplier-network exposure of a declaration and graph export.

use crate::cli::ListOptions;
use crate::demo;
use crate::matcher::{MatchConfig, Matcher};
use crate::network::read_relationships;
use crate::signal::PartyDirectory;
use anyhow::{bail, Context};
use borderline_core::Signal;
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Shortest paths from a declaration's parties to listed entities, with screening reasons.
    Exposure(ExposureArgs),
    /// Export the supplier network as GraphML or JSON.
    Export(ExportArgs),
    /// Write the synthetic demo enrichment (parties, relationships, planted labels) as CSV.
    DemoEnrichment(DemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct NetworkInputs {
    /// Declarations (Korea Customs layout, CSV or gzip); default data/declarations/kcs_test.csv.gz.
    #[arg(long)]
    pub declarations: Option<PathBuf>,
    /// Party directory CSV `party_id,name,address,country[,schema]`. Without it the SYNTHETIC
    /// demo enrichment (seeded) names the anonymised parties.
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Relationship CSV `from,to,relation[,source]` (owner, subsidiary, affiliate ...).
    #[arg(long)]
    pub relations: Option<PathBuf>,
    /// Seed of the synthetic demo enrichment.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Maximum path length in edges.
    #[arg(long, default_value_t = 2)]
    pub hops: usize,
    #[command(flatten)]
    pub lists: ListOptions,
}

#[derive(Debug, Args)]
pub struct ExposureArgs {
    #[arg(long)]
    pub declaration: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub inputs: NetworkInputs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Graphml,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "graphml")]
    pub format: ExportFormat,
    #[arg(long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub inputs: NetworkInputs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory to write parties.csv, relationships.csv and planted.csv into.
    #[arg(long)]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub inputs: NetworkInputs,
}

fn default_declarations() -> PathBuf {
    let local = PathBuf::from("data/declarations/kcs_test.csv.gz");
    if local.is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/declarations/kcs_test.csv.gz")
}

fn load_declarations(p: &Option<PathBuf>) -> anyhow::Result<Vec<borderline_core::Declaration>> {
    let path = p.clone().unwrap_or_else(default_declarations);
    let (decls, quarantined, _) =
        borderline_ingest::read_all(&path, borderline_ingest::Profile::korea_customs())
            .with_context(|| format!("reading declarations {}", path.display()))?;
    if !quarantined.is_empty() {
        eprintln!(
            "{} declaration rows quarantined in {}",
            quarantined.len(),
            path.display()
        );
    }
    Ok(decls)
}

struct Built {
    decls: Vec<borderline_core::Declaration>,
    signal: crate::signal::ScreeningSignal,
    net: Arc<crate::network::SupplierNetwork>,
    enrichment: Option<demo::DemoEnrichment>,
}

fn build(inp: &NetworkInputs) -> anyhow::Result<Built> {
    let decls = load_declarations(&inp.declarations)?;
    let matcher = Arc::new(Matcher::build(&inp.lists.store()?, MatchConfig::default()));
    let mut rels = Vec::new();
    if let Some(r) = &inp.relations {
        let text =
            std::fs::read_to_string(r).with_context(|| format!("reading {}", r.display()))?;
        let (rs, issues) = read_relationships(&text, &r.display().to_string());
        for i in issues {
            eprintln!("warning: {i}");
        }
        rels = rs;
    }
    match &inp.parties {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let (dir, issues) = PartyDirectory::from_csv(&text, &p.display().to_string());
            for i in issues {
                eprintln!("warning: {i}");
            }
            let (signal, net, problems) =
                crate::build_signal(&decls, matcher, dir, &rels, inp.hops);
            for p in problems {
                eprintln!("warning: relationship skipped: {p}");
            }
            Ok(Built {
                decls,
                signal,
                net,
                enrichment: None,
            })
        }
        None => {
            let mut e = demo::enrich(&decls, matcher.entries(), inp.seed);
            e.relationships.extend(rels);
            let (signal, net, problems) = crate::build_signal(
                &decls,
                matcher,
                e.directory.clone(),
                &e.relationships,
                inp.hops,
            );
            for p in problems {
                eprintln!("warning: relationship skipped: {p}");
            }
            Ok(Built {
                decls,
                signal,
                net,
                enrichment: Some(e),
            })
        }
    }
}

pub fn run(a: NetworkArgs) -> anyhow::Result<()> {
    match a.command {
        NetworkCommand::Exposure(e) => {
            let b = build(&e.inputs)?;
            let Some(d) = b
                .decls
                .iter()
                .find(|d| d.declaration_id == e.declaration.as_str())
            else {
                bail!("declaration {} not found", e.declaration);
            };
            let paths = b.signal.exposure(d);
            let reasons = b.signal.reasons(d);
            if e.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "declaration": d.declaration_id,
                        "synthetic_parties": b.enrichment.is_some(),
                        "paths": paths,
                        "reasons": reasons,
                    }))?
                );
                return Ok(());
            }
            if b.enrichment.is_some() {
                println!(
                    "(party names and addresses are SYNTHETIC demo enrichment, seed {})",
                    e.inputs.seed
                );
            }
            println!(
                "declaration {}: importer {}, seller {}, declarant {}, courier {}",
                d.declaration_id,
                d.importer,
                d.seller.as_deref().unwrap_or("-"),
                d.declarant,
                d.courier.as_deref().unwrap_or("-")
            );
            if paths.is_empty() {
                println!("no listed entity within {} hops", e.inputs.hops);
            }
            for p in &paths {
                println!("  path: {}", p.describe());
            }
            for r in &reasons {
                println!("  reason [{}]: {}", r.code, r.text);
            }
            Ok(())
        }
        NetworkCommand::Export(x) => {
            let b = build(&x.inputs)?;
            let text = match x.format {
                ExportFormat::Graphml => b.net.to_graphml(),
                ExportFormat::Json => serde_json::to_string_pretty(&b.net.to_json())?,
            };
            std::fs::write(&x.output, text)
                .with_context(|| format!("writing {}", x.output.display()))?;
            println!(
                "wrote {} ({} nodes, {} edges)",
                x.output.display(),
                b.net.node_count(),
                b.net.edge_count()
            );
            Ok(())
        }
        NetworkCommand::DemoEnrichment(x) => {
            let b = build(&x.inputs)?;
            let Some(e) = b.enrichment else {
                bail!("demo-enrichment writes the synthetic enrichment; do not pass --parties");
            };
            std::fs::create_dir_all(&x.output_dir)?;
            std::fs::write(x.output_dir.join("parties.csv"), e.directory.to_csv()?)?;
            let mut w = csv::Writer::from_path(x.output_dir.join("relationships.csv"))?;
            w.write_record(["from", "to", "relation", "source"])?;
            for r in &e.relationships {
                w.write_record([&r.from, &r.to, &r.relation, &r.source])?;
            }
            w.flush()?;
            let mut w = csv::Writer::from_path(x.output_dir.join("planted.csv"))?;
            w.write_record(["party_id", "kind", "detail"])?;
            for p in &e.planted {
                w.write_record([p.party_id.as_str(), p.kind, p.detail.as_str()])?;
            }
            w.flush()?;
            // Declarations touched by planted parties, for the demo.
            let planted: ahash::AHashSet<&str> =
                e.planted.iter().map(|p| p.party_id.as_str()).collect();
            let mut shown = 0;
            for d in &b.decls {
                let parties = [Some(d.importer.as_str()), d.seller.as_deref()];
                if parties.iter().flatten().any(|p| planted.contains(p)) && shown < 5 {
                    println!(
                        "example declaration with a planted party: {}",
                        d.declaration_id
                    );
                    shown += 1;
                }
            }
            println!(
                "wrote SYNTHETIC demo enrichment ({} parties, {} relationships, {} planted) to {}",
                e.directory.len(),
                e.relationships.len(),
                e.planted.len(),
                x.output_dir.display()
            );
            Ok(())
        }
    }
}
