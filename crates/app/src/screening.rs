//! Screening use cases: a batch's parties against the watchlists and its supplier network, and
//! one party on demand.

use crate::{AppError, Result};
use borderline_core::Declaration;
use borderline_screening::network::{read_relationships, Relationship};
use borderline_screening::{
    build_signal, store::ListStore, MatchConfig, Matcher, PartyDirectory, ScreeningSignal,
};
use std::path::Path;
use std::sync::Arc;

/// Supplier-network hops within which a listed entity is reported.
pub const DEFAULT_MAX_HOPS: usize = 2;

/// The parties of a batch: who the declarations' party ids are, and how they are linked.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    pub directory: PartyDirectory,
    pub relationships: Vec<Relationship>,
    /// Rows of the party or relationship files that could not be used, as messages.
    pub skipped: Vec<String>,
}

impl Parties {
    /// Reads a party directory CSV (`party_id,name,address,country[,schema]`) and an optional
    /// relationship CSV.
    pub fn from_files(parties: &Path, relationships: Option<&Path>) -> Result<Parties> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(AppError::io(format!("cannot read {}", p.display())))
        };
        let (directory, issues) =
            PartyDirectory::from_csv(&read(parties)?, &parties.display().to_string());
        let mut skipped: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        let mut links = Vec::new();
        if let Some(rp) = relationships {
            let (rels, more) = read_relationships(&read(rp)?, &rp.display().to_string());
            links = rels;
            skipped.extend(more.iter().map(|i| i.to_string()));
        }
        Ok(Parties {
            directory,
            relationships: links,
            skipped,
        })
    }
}

/// The bundled watchlists' matcher with the default configuration.
pub fn bundled_matcher() -> Result<Arc<Matcher>> {
    let store = ListStore::bundled()?;
    Ok(Arc::new(Matcher::build(&store, MatchConfig::default())))
}

/// Screening of a batch: the signal (watchlist, supplier-network and forced-labour region
/// reasons per declaration) and the relationship rows that named no known entry.
pub struct BatchScreening {
    pub signal: ScreeningSignal,
    pub unused_relationships: Vec<String>,
}

/// Screens `rows`' parties against the watchlists in `matcher`, building the supplier network
/// from the batch.
pub fn screen_batch(
    rows: &[Declaration],
    matcher: Arc<Matcher>,
    parties: Parties,
) -> BatchScreening {
    let (signal, _network, problems) = build_signal(
        rows,
        matcher,
        parties.directory,
        &parties.relationships,
        DEFAULT_MAX_HOPS,
    );
    BatchScreening {
        signal,
        unused_relationships: problems,
    }
}
