//! Borderline development tools. Architecture Invariant: no product crate (core, ingest,
//! targeting, training, valuation, hs, screening, governance, app) depends on this crate; only
//! front ends use it, for the demo, benchmarks and evaluations.

pub mod bench;
pub mod generate;

use borderline_app::screening::Parties;
use borderline_core::Declaration;

/// Seed of the synthetic demo parties (`borderline demo`, `--demo-parties`).
pub const DEMO_PARTY_SEED: u64 = 7;

/// **Synthetic** names, addresses and links for the bundled data's anonymised party ids, with a
/// few planted near-matches of listed entities (docs/screening.md). Nothing here is real data.
pub fn demo_parties(rows: &[Declaration], matcher: &borderline_screening::Matcher) -> Parties {
    let e = borderline_screening::demo::enrich(rows, matcher.entries(), DEMO_PARTY_SEED);
    Parties {
        directory: e.directory,
        relationships: e.relationships,
        skipped: Vec::new(),
    }
}
