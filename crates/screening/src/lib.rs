//! Borderline screening: sanctions and forced-labour screening of declaration parties.
//!
//! * [`loaders`] and [`ListStore`]: watchlists (OFAC SDN and non-SDN legacy CSV, UN XML,
//!   BIS DPL, trade.gov CSL, simple CSV, the bundled lists) into one [`Entry`] model.
//! * [`normalize`]: Unicode, transliteration, legal forms, annotations, stop-words.
//! * [`Matcher`]: the token index (exact and one-deletion keys), candidate retrieval and the
//!   explained pair score.
//! * [`network`]: the supplier network and exposure paths to listed entities;
//!   [`build_signal`] assembles it for a batch, and [`ScreeningSignal`] gives reasons.
//!   A [`ScreenedDirectory`] is a party directory screened once against one matcher's lists,
//!   shared by every batch's signal ([`build_screened_signal`]) and network.
//! * [`xinjiang_flag`]: forced-labour region flags of addresses.
//!
//! Front ends call the use cases of `borderline-app`; evaluation harnesses and the synthetic
//! demo parties live in `borderline-devkit`.

mod assemble;
pub mod bundled;
mod country;
mod error;
pub mod hangul;
mod kana;
pub mod legal;
pub mod loaders;
mod matcher;
mod model;
pub mod network;
pub mod nicknames;
pub mod normalize;
pub mod pairmodel;
mod signal;
pub mod slavic;
pub mod spelling;
mod store;
pub mod symbols;
pub mod token_set;
pub mod translit;
pub mod wadegiles;
mod xinjiang;

pub use assemble::{build_screened_signal, build_signal};
pub use country::to_iso2;
pub use error::{Result, ScreeningError};
pub use matcher::{
    fuzzy_probes, Explanation, Hit, MatchConfig, MatchHow, Matcher, Query, SharedMatcher,
    MAX_FUZZY_TOKEN_BYTES, MAX_NAME_CHARS,
};
pub use model::{birth_year, Address, Entry, ListMeta, LoadIssue, Schema, WatchList};
pub use network::{entry_index, read_relationships, ExposurePath, Relationship, SupplierNetwork};
pub use signal::{
    declaration_parties, hit_reason, network_reason, region_reason, screen_party_info,
    PartyDirectory, PartyInfo, PartyScreen, ScreenedDirectory, ScreeningSignal, FEATURE_FLOOR,
};
pub use store::{ListFormat, ListStore, ListSummary};
pub use xinjiang::{xinjiang_flag, RegionFlag};
