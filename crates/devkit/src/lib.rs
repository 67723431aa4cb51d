//! Borderline development tools. Architecture Invariant: no product crate (core, ingest,
//! targeting, training, valuation, hs, screening, governance, app) depends on this crate; only
//! front ends use it, for the demo, benchmarks and evaluations.
//!
//! * [`demo_parties`] / [`demo_enrichment`]: **synthetic** names and links for the bundled
//!   data's anonymised party ids ([`screening::demo`]);
//! * [`screening::eval`], [`hs::eval`], [`valuation::eval`]: evaluation harnesses, each printing
//!   Borderline beside a named baseline run in the same process;
//! * [`generate`] and [`bench`]: the scale-benchmark data generator and throughput benchmarks.

pub mod bench;
pub mod generate;

/// Screening development tools: name-matching evaluation and speed benchmark, the synthetic
/// labelled name pairs they use, the token-sorted Jaro-Winkler baseline, demo enrichment.
pub mod screening {
    pub mod baseline;
    pub mod demo;
    pub mod deveval;
    pub mod devsets;
    pub mod eval;
    pub mod pairs;
    pub mod pairtrain;
}

/// HS classification evaluation on HSCodeComp listings against a TF-IDF baseline.
pub mod hs {
    pub mod benchmark;
    pub mod eval;
}

/// Valuation evaluation: injected mis-valuation under price noise, against the IQR filter.
pub mod valuation {
    pub mod eval;
}

use borderline_app::screening::Parties;
use borderline_core::Declaration;
use borderline_screening::Matcher;
pub use screening::demo::DemoEnrichment;
use std::path::Path;

/// Seed of the synthetic demo parties (`borderline demo`, `--demo-parties`).
pub const DEMO_PARTY_SEED: u64 = 7;

/// **Synthetic** names, addresses and links for the bundled data's anonymised party ids, with a
/// few planted near-matches of listed entities (docs/screening.md), and the planted cases.
/// Nothing here is real data.
pub fn demo_enrichment(rows: &[Declaration], matcher: &Matcher, seed: u64) -> DemoEnrichment {
    screening::demo::enrich(rows, matcher.entries(), seed)
}

/// The demo enrichment (seed [`DEMO_PARTY_SEED`]) as the parties of a batch.
pub fn demo_parties(rows: &[Declaration], matcher: &Matcher) -> Parties {
    demo_enrichment(rows, matcher, DEMO_PARTY_SEED).into()
}

impl From<DemoEnrichment> for Parties {
    fn from(e: DemoEnrichment) -> Parties {
        Parties {
            directory: e.directory,
            relationships: e.relationships,
            skipped: Vec::new(),
        }
    }
}

/// Writes the enrichment as `parties.csv`, `relationships.csv` and `planted.csv` in `dir`.
pub fn write_demo_enrichment(e: &DemoEnrichment, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("parties.csv"), e.directory.to_csv()?)?;
    let mut w = csv::Writer::from_path(dir.join("relationships.csv"))?;
    w.write_record(["from", "to", "relation", "source"])?;
    for r in &e.relationships {
        w.write_record([&r.from, &r.to, &r.relation, &r.source])?;
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("planted.csv"))?;
    w.write_record(["party_id", "kind", "detail"])?;
    for p in &e.planted {
        w.write_record([p.party_id.as_str(), p.kind, p.detail.as_str()])?;
    }
    w.flush()?;
    Ok(())
}
