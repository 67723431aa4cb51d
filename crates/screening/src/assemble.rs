//! Screening of a batch of declarations: the supplier network built from the batch, the
//! watchlist entries and the parties' screening hits, and the [`ScreeningSignal`] over it.

use crate::matcher::Matcher;
use crate::network::{Relationship, SupplierNetwork};
use crate::signal::{PartyDirectory, ScreenedDirectory, ScreeningSignal};
use borderline_core::Declaration;
use std::sync::Arc;

/// Builds the network and the signal from a party directory and relationship rows, screening
/// the directory first ([`ScreenedDirectory::new`]). Returns the relationship rows that could
/// not be used (unknown list entry), as messages.
pub fn build_signal(
    declarations: &[Declaration],
    matcher: Arc<Matcher>,
    directory: PartyDirectory,
    relationships: &[Relationship],
    max_hops: usize,
) -> (ScreeningSignal, Arc<SupplierNetwork>, Vec<String>) {
    let screened = Arc::new(ScreenedDirectory::new(matcher, directory));
    build_screened_signal(declarations, screened, relationships, max_hops)
}

/// As [`build_signal`] over a directory screened before: the batch's network (its
/// declarations' trade links, the lists' "Linked To:" links, the screened parties' name
/// matches, the relationship rows) and the signal over it. Screens nothing.
pub fn build_screened_signal(
    declarations: &[Declaration],
    screened: Arc<ScreenedDirectory>,
    relationships: &[Relationship],
    max_hops: usize,
) -> (ScreeningSignal, Arc<SupplierNetwork>, Vec<String>) {
    let matcher = screened.matcher().as_ref();
    let mut net = SupplierNetwork::new();
    for d in declarations {
        net.add_declaration(d);
    }
    net.add_list_entries(matcher);
    for (id, p, s) in screened.with_hits() {
        net.add_screening_hits(matcher, id, &p.name, &s.hits);
    }
    let problems = net.add_relationships(Some(matcher), relationships);
    let net = Arc::new(net);
    (
        ScreeningSignal::over(screened).with_network(net.clone(), max_hops),
        net,
        problems,
    )
}
