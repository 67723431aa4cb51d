//! `borderline network ...`: supplier-network exposure of a declaration and graph export:
//! arguments, one call to `borderline_app::screening`, printing. Without a party directory the
//! synthetic demo enrichment of `borderline-devkit` names the bundled data's parties.

use crate::screen::ListOptions;
use crate::targeting::{data_dir, load, InputArgs};
use anyhow::{bail, Context};
use borderline_app::screening::{self as app, BatchScreening, Parties};
use borderline_core::Declaration;
use borderline_devkit::DemoEnrichment;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
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
    /// Declarations (CSV or JSON Lines, optionally gzip); default the bundled
    /// data/declarations/kcs_test.csv.gz.
    #[arg(long)]
    pub declarations: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
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

struct Built {
    decls: Vec<Declaration>,
    screening: BatchScreening,
    enrichment: Option<DemoEnrichment>,
}

fn build(inp: &NetworkInputs) -> anyhow::Result<Built> {
    let path = inp
        .declarations
        .clone()
        .unwrap_or_else(|| data_dir().join("declarations/kcs_test.csv.gz"));
    let decls = load(&path, &inp.input)?;
    let matcher = Arc::new(app::matcher(&inp.lists.store()?, None)?);
    let (mut parties, enrichment) = match &inp.parties {
        Some(p) => (Parties::from_files(p, None)?, None),
        None => {
            let e = borderline_devkit::demo_enrichment(&decls, &matcher, inp.seed);
            (Parties::from(e.clone()), Some(e))
        }
    };
    if let Some(r) = &inp.relations {
        parties.add_relationships(r)?;
    }
    for s in &parties.skipped {
        eprintln!("warning: {s}");
    }
    let screening = app::screen_network(&decls, matcher, parties, inp.hops);
    for p in &screening.unused_relationships {
        eprintln!("warning: relationship skipped: {p}");
    }
    Ok(Built {
        decls,
        screening,
        enrichment,
    })
}

pub fn run(a: NetworkArgs) -> anyhow::Result<()> {
    match a.command {
        NetworkCommand::Exposure(e) => {
            let b = build(&e.inputs)?;
            let (x, d) = app::exposure(&b.decls, &b.screening, &e.declaration)?;
            if e.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "declaration": x.declaration_id,
                        "synthetic_parties": b.enrichment.is_some(),
                        "paths": x.paths,
                        "reasons": x.reasons,
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
            if x.paths.is_empty() {
                println!("no listed entity within {} hops", e.inputs.hops);
            }
            for p in &x.paths {
                println!("  path: {}", p.describe());
            }
            for r in &x.reasons {
                println!("  reason [{}]: {}", r.code, r.text);
            }
            Ok(())
        }
        NetworkCommand::Export(x) => {
            let b = build(&x.inputs)?;
            let net = &b.screening.network;
            let text = match x.format {
                ExportFormat::Graphml => net.to_graphml(),
                ExportFormat::Json => serde_json::to_string_pretty(&net.to_json())?,
            };
            let mut out = crate::output::create_file(&x.output)?;
            std::io::Write::write_all(&mut out, text.as_bytes())
                .with_context(|| format!("writing {}", x.output.display()))?;
            crate::output::commit_file(out)?;
            println!(
                "wrote {} ({} nodes, {} edges)",
                x.output.display(),
                net.node_count(),
                net.edge_count()
            );
            Ok(())
        }
        NetworkCommand::DemoEnrichment(x) => {
            let b = build(&x.inputs)?;
            let Some(e) = b.enrichment else {
                bail!("demo-enrichment writes the synthetic enrichment; do not pass --parties");
            };
            borderline_devkit::write_demo_enrichment(&e, &x.output_dir)?;
            // Declarations touched by planted parties, for the demo.
            let planted: std::collections::HashSet<&str> =
                e.planted.iter().map(|p| p.party_id.as_str()).collect();
            let touched = b.decls.iter().filter(|d| {
                [Some(d.importer.as_str()), d.seller.as_deref()]
                    .iter()
                    .flatten()
                    .any(|p| planted.contains(p))
            });
            for d in touched.take(5) {
                println!(
                    "example declaration with a planted party: {}",
                    d.declaration_id
                );
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
