//! Borderline screening: sanctions and forced-labour screening of declaration parties.
//!
//! * [`loaders`] / [`bundled`] / [`store`]: watchlists (OFAC SDN and non-SDN legacy CSV, UN XML,
//!   BIS DPL, trade.gov CSL, simple CSV) into one [`model::Entry`] model.
//! * [`normalize`]: Unicode, transliteration, legal forms, annotations, stop-words.
//! * [`matcher`]: the token index (exact and one-deletion keys), candidate retrieval and the
//!   explained pair score.

pub mod assemble;
pub mod baseline;
pub mod bundled;
pub mod cli;
pub mod country;
pub mod demo;
pub mod deveval;
pub mod devsets;
pub mod error;
pub mod eval;
pub mod hangul;
pub mod legal;
pub mod loaders;
pub mod matcher;
pub mod model;
pub mod network;
pub mod network_cli;
pub mod nicknames;
pub mod normalize;
pub mod pairmodel;
pub mod pairs;
pub mod pairtrain;
pub mod signal;
pub mod store;
pub mod token_set;
pub mod xinjiang;

pub use assemble::build_signal;
pub use error::{Result, ScreeningError};
pub use matcher::{Hit, MatchConfig, Matcher, Query};
pub use model::{Entry, ListMeta, LoadIssue, Schema, WatchList};
pub use network::SupplierNetwork;
pub use signal::{PartyDirectory, PartyInfo, ScreeningSignal};
pub use store::ListStore;
