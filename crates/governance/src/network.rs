//! The supplier network kept in the store: trade links between declaration parties and the
//! screening result of each party, both written by the transaction that decides a declaration
//! (so the network grows with the decisions, incrementally, and never holds a link whose
//! decision did not commit).
//!
//! The store keeps records; what a link or a screening result means (watchlist hits, paths to
//! listed entities, the lane floor they cause) is the screening module's and the application's.

use serde::{Deserialize, Serialize};

/// A link between two parties seen on a decided declaration (e.g. importer -> seller,
/// relation `trade`). Kept once per `(from, to, relation)`: the first declaration that showed
/// it is recorded, later ones (and redeliveries) add nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeLink {
    pub from: String,
    pub to: String,
    pub relation: String,
    /// The declaration whose decision first recorded the link.
    pub first_declaration: String,
    /// When (RFC 3339, as every stored time).
    pub first_seen: String,
}

/// What screening found for one party, as last recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyScreening {
    pub party_id: String,
    /// What the party was screened against (the lists and matcher configuration, as a
    /// version string the screening module chooses): a result under other lists is stale.
    pub lists_version: String,
    /// The party matched at least one listed entity: the network's paths run through it.
    pub listed: bool,
    /// The result as the screening module wrote it (JSON text).
    pub result: String,
    pub screened_at: String,
}
