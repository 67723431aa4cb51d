//! Screening of a batch of declarations: the supplier network built from the batch, the
//! watchlist entries and the parties' screening hits, and the [`ScreeningSignal`] over it.

use crate::matcher::Matcher;
use crate::network::{Relationship, SupplierNetwork};
use crate::signal::{PartyDirectory, PartyInfo, ScreeningSignal};
use borderline_core::Declaration;
use std::sync::Arc;

/// Builds the network and the signal from a party directory and relationship rows. Returns the
/// relationship rows that could not be used (unknown list entry), as messages.
pub fn build_signal(
    declarations: &[Declaration],
    matcher: Arc<Matcher>,
    directory: PartyDirectory,
    relationships: &[Relationship],
    max_hops: usize,
) -> (ScreeningSignal, Arc<SupplierNetwork>, Vec<String>) {
    let signal = ScreeningSignal::new(matcher.clone(), directory);
    let mut net = SupplierNetwork::new();
    for d in declarations {
        net.add_declaration(d);
    }
    net.add_list_entries(&matcher);
    let mut ids: Vec<(&String, &PartyInfo)> = signal.directory().iter().collect();
    ids.sort_by(|a, b| a.0.cmp(b.0));
    for (id, p) in ids {
        if let Some(s) = signal.party_screen(id) {
            if !s.hits.is_empty() {
                net.add_screening_hits(&matcher, id, &p.name, &s.hits);
            }
        }
    }
    let problems = net.add_relationships(Some(&matcher), relationships);
    let net = Arc::new(net);
    (signal.with_network(net.clone(), max_hops), net, problems)
}
