//! Screening of streamed declarations, one batch at a time, against the supplier network kept
//! in the store.
//!
//! The batch path (`screening::screen_batch`, `score --parties`) builds its network from the
//! declarations it is given. A stream has no batch to build it from: here the network lives in
//! the store (`borderline_governance::network`), and grows as declarations are decided:
//! * each newly decided declaration with a seller records its importer -> seller `trade` link
//!   ([`trade_link`]), in the deciding transaction (so a link exists exactly when a decision
//!   that showed it committed, and a redelivery, decided as a duplicate, adds nothing);
//! * each party of the directory that a worker screens has its result stored
//!   (`party_screening`): its watchlist hits and the relationship rows that tie it to a listed
//!   entry, flagged `listed` when there is one.
//!
//! A declaration is screened with its parties' hits and region flags (as in a batch) and the
//! paths of at most [`DEFAULT_MAX_HOPS`] links from its parties to listed entities, over: the
//! stored trade links whose other end is listed (one look-up per batch,
//! `StoreTx::links_to_listed`), the batch's own links, and the relationship file. With two
//! hops every path is party -> listed entity or party -> party -> listed entity, so the stored
//! links to listed parties are all the store has to give.

use crate::screening::{Parties, DEFAULT_MAX_HOPS};
use crate::Result;
use borderline_core::{Declaration, Reason};
use borderline_governance::network::{PartyScreening, TradeLink};
use borderline_governance::{GovernanceStore, StoreTx};
use borderline_screening::{
    declaration_parties, entry_index, hit_reason, network_reason, region_reason, ExposurePath,
    Matcher, PartyScreen, Relationship, ScreenedDirectory, SupplierNetwork,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The relation of the link from a declaration's importer to its seller.
pub const TRADE: &str = "trade";

/// The stored link a decided declaration adds to the network: importer -> seller, when it has
/// a seller other than its importer.
pub fn trade_link(d: &Declaration, at: &str) -> Option<TradeLink> {
    let seller = d.seller.as_deref().filter(|s| !s.is_empty())?;
    if seller == d.importer.as_str() || d.importer.is_empty() {
        return None;
    }
    Some(TradeLink {
        from: d.importer.to_string(),
        to: seller.to_string(),
        relation: TRADE.into(),
        first_declaration: d.declaration_id.to_string(),
        first_seen: at.to_string(),
    })
}

/// A stored screening result (the `result` text of `party_screening`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredScreen {
    /// Watchlist entries the party's name matched.
    #[serde(default)]
    pub hits: Vec<StoredHit>,
    /// Relationship rows tying the party to a listed entry (`relation`, entry key).
    #[serde(default)]
    pub related: Vec<(String, String)>,
    /// The forced-labour region flag of its address, as the reason text.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredHit {
    /// `<list>:<entry id>`.
    pub listed: String,
    pub matched_name: String,
    pub score: f64,
}

/// What a worker screens streamed declarations with: the party directory screened against the
/// watchlists (once, at start, and shared: [`ScreenedDirectory`]), the relationship rows (read
/// at start), and which parties' results this worker has stored. Shared by the batches of one
/// worker (an interior lock; one batch at a time in practice).
pub struct NetworkScreening {
    screened: Arc<ScreenedDirectory>,
    /// Relationship rows by each end that names a party.
    relationships: HashMap<String, Vec<Relationship>>,
    lists_version: String,
    max_hops: usize,
    stored: Mutex<HashSet<String>>,
}

/// A batch's screening, before its commit.
pub(crate) struct BatchScreen {
    /// Screening reasons per declaration (by id).
    pub reasons: HashMap<String, Vec<Reason>>,
    /// Party screening results this worker has not stored yet.
    pub to_store: Vec<PartyScreening>,
}

/// A batch's network, the screenings of the parties involved, and the batch's parties.
type BatchNetwork<'a> = (
    SupplierNetwork,
    HashMap<String, &'a PartyScreen>,
    BTreeSet<String>,
);

fn party_end(end: &str) -> Option<&str> {
    match end.strip_prefix("party:") {
        Some(id) => Some(id),
        None if end.contains(':') => None,
        None => Some(end),
    }
}

impl NetworkScreening {
    /// Screening with `matcher`'s lists and `parties` (directory and relationship rows):
    /// screens every party of the directory ([`ScreenedDirectory::new`]).
    pub fn new(matcher: Arc<Matcher>, parties: Parties) -> NetworkScreening {
        let screened = Arc::new(ScreenedDirectory::new(matcher, parties.directory));
        NetworkScreening::over(screened, &parties.relationships)
    }

    /// Screening with a directory screened before (shared, not screened again) and
    /// `relationships`.
    pub fn over(
        screened: Arc<ScreenedDirectory>,
        relationships: &[Relationship],
    ) -> NetworkScreening {
        let matcher = screened.matcher();
        // What a stored result was screened against: every entry's key and names, and the
        // threshold.
        let mut fingerprint = format!("threshold {}\n", matcher.config.threshold);
        for e in matcher.entries() {
            fingerprint.push_str(&e.key());
            for n in e.names() {
                fingerprint.push('\t');
                fingerprint.push_str(n);
            }
            fingerprint.push('\n');
        }
        let lists_version = format!(
            "lists-{}",
            &borderline_governance::registry::sha256_hex(fingerprint.as_bytes())[..16]
        );
        let mut by_party: HashMap<String, Vec<Relationship>> = HashMap::new();
        for r in relationships {
            let ends: BTreeSet<&str> = [r.from.as_str(), r.to.as_str()]
                .into_iter()
                .filter_map(party_end)
                .collect();
            for end in ends {
                by_party.entry(end.to_string()).or_default().push(r.clone());
            }
        }
        NetworkScreening {
            screened,
            relationships: by_party,
            lists_version,
            max_hops: DEFAULT_MAX_HOPS,
            stored: Mutex::new(HashSet::new()),
        }
    }

    /// Screening with the bundled watchlists and the party directory (and relationship rows)
    /// of these files. Returns it with the rows of the files that could not be used.
    pub fn from_files(
        parties: &std::path::Path,
        relationships: Option<&std::path::Path>,
    ) -> Result<(NetworkScreening, Vec<String>)> {
        let parties = Parties::from_files(parties, relationships)?;
        let skipped = parties.skipped.clone();
        let matcher = crate::screening::bundled_matcher()?;
        Ok((NetworkScreening::new(matcher, parties), skipped))
    }

    /// The version of the lists a stored result was screened against.
    pub fn lists_version(&self) -> &str {
        &self.lists_version
    }

    /// The directory screened against the watchlists (shared).
    pub fn screened(&self) -> &Arc<ScreenedDirectory> {
        &self.screened
    }

    /// The screening of each party of `ids` that the directory knows (screened at start).
    fn screens(&self, ids: &BTreeSet<String>) -> HashMap<String, &PartyScreen> {
        ids.iter()
            .filter_map(|id| Some((id.clone(), self.screened.party_screen(id)?)))
            .collect()
    }

    /// The relationship rows of `party` whose other end is a listed entry.
    fn related_to_listed(&self, party: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for r in self.relationships.get(party).into_iter().flatten() {
            for (me, other) in [(&r.from, &r.to), (&r.to, &r.from)] {
                if party_end(me) == Some(party)
                    && entry_index(self.screened.matcher()).contains_key(other.as_str())
                {
                    out.push((r.relation.clone(), other.clone()));
                }
            }
        }
        out
    }

    fn stored_screen(&self, party: &str, s: &PartyScreen) -> StoredScreen {
        let name = self.screened.name_of(party);
        StoredScreen {
            hits: s
                .hits
                .iter()
                .map(|h| StoredHit {
                    listed: format!("{}:{}", h.list, h.entry_id),
                    matched_name: h.matched_name.clone(),
                    score: h.score,
                })
                .collect(),
            related: self.related_to_listed(party),
            region: s
                .region
                .as_ref()
                .map(|f| f.reason_text(&format!("{name:?} address"))),
        }
    }

    /// The supplier network `declarations` are screened over (their own links, the stored
    /// links from their parties to listed parties, the relationship rows), the screenings of
    /// the parties involved, and the declarations' parties.
    fn network(
        &self,
        tx: &mut dyn StoreTx,
        declarations: &[&Declaration],
    ) -> Result<BatchNetwork<'_>> {
        let m = self.screened.matcher().as_ref();
        let entries = entry_index(m);
        let mut parties: BTreeSet<String> = BTreeSet::new();
        for d in declarations {
            for (_, p) in declaration_parties(d) {
                parties.insert(p.to_string());
            }
        }
        let party_refs: Vec<&str> = parties.iter().map(String::as_str).collect();
        let stored_links = tx.links_to_listed(&party_refs)?;
        // Everyone a path of two links can run through: the batch's parties, the listed
        // parties linked to them, and the parties of their relationship rows.
        let mut involved = parties.clone();
        for (_, s) in &stored_links {
            involved.insert(s.party_id.clone());
        }
        let mut rels: Vec<Relationship> = Vec::new();
        let mut seen_rels: HashSet<(String, String, String)> = HashSet::new();
        for p in involved.clone() {
            for r in self.relationships.get(&p).into_iter().flatten() {
                if seen_rels.insert((r.from.clone(), r.to.clone(), r.relation.clone())) {
                    rels.push(r.clone());
                    for end in [&r.from, &r.to] {
                        if let Some(id) = party_end(end) {
                            involved.insert(id.to_string());
                        }
                    }
                }
            }
        }
        let screens = self.screens(&involved);

        let mut net = SupplierNetwork::new();
        for d in declarations {
            net.add_declaration(d);
        }
        for (link, _) in &stored_links {
            net.add_party_link(&link.from, &link.to, &link.relation);
        }
        for (id, s) in &screens {
            if !s.hits.is_empty() {
                let name = self
                    .screened
                    .directory()
                    .get(id)
                    .map(|p| p.name.as_str())
                    .unwrap_or("");
                net.add_screening_hits(m, id, name, &s.hits);
            }
        }
        // A listed neighbour this worker's directory does not know: its stored result.
        for (_, s) in &stored_links {
            if screens.contains_key(&s.party_id) {
                continue;
            }
            let Ok(stored) = serde_json::from_str::<StoredScreen>(&s.result) else {
                continue;
            };
            for h in &stored.hits {
                if let Some(&i) = entries.get(&h.listed) {
                    net.add_name_match(m, &s.party_id, i, h.score);
                }
            }
            let related: Vec<Relationship> = stored
                .related
                .iter()
                .map(|(relation, listed)| Relationship {
                    from: s.party_id.clone(),
                    to: listed.clone(),
                    relation: relation.clone(),
                    source: "store".into(),
                })
                .collect();
            net.add_relationships_indexed(Some(m), entries, &related);
        }
        net.add_relationships_indexed(Some(m), entries, &rels);

        Ok((net, screens, parties))
    }

    /// The paths from `d`'s parties to listed entities over the network as a worker deciding
    /// `d` now sees it: the stored trade links to listed parties (with their stored
    /// screenings), `d`'s own importer -> seller link and the relationship rows. A case page
    /// shows these beside the paths of the network the service built at start, which holds
    /// no link a worker stored since, so the evidence names every path the decision's
    /// reasons can name.
    pub fn exposure(
        &self,
        store: &dyn GovernanceStore,
        d: &Declaration,
    ) -> Result<Vec<ExposurePath>> {
        let mut tx = store.begin(false)?;
        let (net, _, _) = self.network(tx.as_mut(), &[d])?;
        Ok(net.exposure(&declaration_parties(d), self.max_hops))
    }

    /// Screens `declarations` inside the deciding transaction `tx`: reads the stored links
    /// from their parties to listed parties, and returns each declaration's screening reasons
    /// and the results to store.
    pub(crate) fn screen_batch(
        &self,
        tx: &mut dyn StoreTx,
        declarations: &[&Declaration],
        at: &str,
    ) -> Result<BatchScreen> {
        let (net, screens, parties) = self.network(tx, declarations)?;
        let mut reasons = HashMap::with_capacity(declarations.len());
        for d in declarations {
            let mut out = Vec::new();
            for (role, pid) in declaration_parties(d) {
                let Some(s) = screens.get(pid) else { continue };
                let name = self.screened.name_of(pid);
                out.extend(s.hits.iter().map(|h| hit_reason(role, name, h)));
                if let Some(f) = &s.region {
                    out.push(region_reason(role, name, f));
                }
            }
            for p in net.exposure(&declaration_parties(d), self.max_hops) {
                // A direct name match is reported above; any other path is a network reason.
                if p.hops >= 2 || p.relations.first().is_some_and(|r| r != "name_match") {
                    out.push(network_reason(&p));
                }
            }
            reasons.insert(d.declaration_id.to_string(), out);
        }

        let stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let mut to_store = Vec::new();
        for p in &parties {
            if stored.contains(p) {
                continue;
            }
            let Some(s) = screens.get(p) else { continue };
            let result = self.stored_screen(p, s);
            to_store.push(PartyScreening {
                party_id: p.clone(),
                lists_version: self.lists_version.clone(),
                listed: !result.hits.is_empty() || !result.related.is_empty(),
                result: serde_json::to_string(&result)?,
                screened_at: at.to_string(),
            });
        }
        Ok(BatchScreen { reasons, to_store })
    }

    /// Notes that `results` committed: this worker will not store them again.
    pub(crate) fn stored(&self, results: &[String]) {
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        stored.extend(results.iter().cloned());
    }
}
