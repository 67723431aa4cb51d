//! Supplier network: parties of declarations, listed entities, and the links between them.
//!
//! Nodes are declaration parties (`party:<id>`) and list entries (`<list>:<entry id>`). Edges:
//! * **trade**: importer–seller, importer–declarant, importer–courier, seller–declarant, from
//!   declarations, weighted by shipments and customs value;
//! * **relationship files** (documented CSV `from,to,relation[,source]`; relation one of owner,
//!   subsidiary, affiliate, or free text): ownership and affiliation between parties or entries;
//! * **linked_to**: OFAC "Linked To:" remarks, resolved to entries by exact normalised name;
//! * **name_match**: a party whose name screens against an entry at or above the threshold.
//!
//! Exposure of a declaration: breadth-first shortest paths (up to N hops, default 2) from each
//! of its parties to any listed node; the path is the reason. Paths do not run through
//! declarant or courier links (a broker serves many unrelated traders), and stop at the first
//! listed node. Export as GraphML or JSON (all edges).

use crate::matcher::{Hit, Matcher};
use crate::model::LoadIssue;
use crate::normalize::normalize;
use ahash::AHashMap;
use borderline_core::Declaration;
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Party,
    Listed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub key: String,
    pub label: String,
    pub kind: NodeKind,
    /// Lists and programmes, for listed nodes.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub relation: String,
    pub shipments: u32,
    pub value: f64,
    /// Screening score for `name_match` links.
    pub score: Option<f64>,
}

/// A relationship row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relationship {
    pub from: String,
    pub to: String,
    pub relation: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExposurePath {
    /// Role of the declaration party the path starts from.
    pub role: String,
    pub party: String,
    pub hops: usize,
    /// Node labels from the party to the listed entity.
    pub nodes: Vec<String>,
    /// Relation of each step.
    pub relations: Vec<String>,
    /// Key of the listed node reached.
    pub listed: String,
    pub listed_detail: String,
}

impl ExposurePath {
    /// "importer QLRUBN9 --trade--> seller 0VKY2BR --name_match--> ofac_sdn:1234 ACME (2 hops)".
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}",
            self.role,
            self.nodes.first().cloned().unwrap_or_default()
        );
        for (rel, node) in self.relations.iter().zip(self.nodes.iter().skip(1)) {
            let _ = write!(s, " --{rel}--> {node}");
        }
        let _ = write!(
            s,
            " [{}; {} hop{}]",
            self.listed_detail,
            self.hops,
            if self.hops == 1 { "" } else { "s" }
        );
        s
    }
}

#[derive(Debug, Default)]
pub struct SupplierNetwork {
    graph: UnGraph<Node, Link>,
    index: AHashMap<String, NodeIndex>,
}

pub fn party_key(id: &str) -> String {
    format!("party:{id}")
}

impl SupplierNetwork {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    fn node(&mut self, key: &str, label: &str, kind: NodeKind, detail: &str) -> NodeIndex {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.graph.add_node(Node {
            key: key.to_string(),
            label: label.to_string(),
            kind,
            detail: detail.to_string(),
        });
        self.index.insert(key.to_string(), i);
        i
    }

    fn link(&mut self, a: NodeIndex, b: NodeIndex, relation: &str, value: f64, score: Option<f64>) {
        if a == b {
            return;
        }
        let existing = self
            .graph
            .edges_connecting(a, b)
            .find(|e| e.weight().relation == relation)
            .map(|e| e.id());
        match existing {
            Some(e) => {
                if let Some(w) = self.graph.edge_weight_mut(e) {
                    w.shipments += 1;
                    w.value += value;
                    if score.is_some() {
                        w.score = score;
                    }
                }
            }
            None => {
                self.graph.add_edge(
                    a,
                    b,
                    Link {
                        relation: relation.to_string(),
                        shipments: 1,
                        value,
                        score,
                    },
                );
            }
        }
    }

    /// Trade edges of one declaration.
    pub fn add_declaration(&mut self, d: &Declaration) {
        let value = d.customs_value.filter(|v| v.is_finite()).unwrap_or(0.0);
        let imp = self.node(&party_key(&d.importer), &d.importer, NodeKind::Party, "");
        let dec = self.node(&party_key(&d.declarant), &d.declarant, NodeKind::Party, "");
        self.link(imp, dec, "declarant", value, None);
        if let Some(s) = d.seller.as_deref().filter(|s| !s.is_empty()) {
            let sel = self.node(&party_key(s), s, NodeKind::Party, "");
            self.link(imp, sel, "trade", value, None);
            self.link(sel, dec, "declarant", value, None);
        }
        if let Some(c) = d.courier.as_deref().filter(|s| !s.is_empty()) {
            let cou = self.node(&party_key(c), c, NodeKind::Party, "");
            self.link(imp, cou, "courier", value, None);
        }
    }

    /// Adds the entries of the matcher that carry OFAC "Linked To:" relations as listed nodes,
    /// and those relations (resolved by exact normalised name within the same list, then any
    /// list). Returns how many "Linked To:" names could not be resolved. The resolution is
    /// made once per matcher ([`ListLinks`]); each network only adds its nodes and links.
    pub fn add_list_entries(&mut self, m: &Matcher) -> usize {
        let links = m.list_links();
        for (i, targets) in &links.linked {
            let a = self.listed_node(m, *i);
            for &j in targets {
                let b = self.listed_node(m, j);
                self.link(a, b, "linked_to", 0.0, None);
            }
        }
        links.unresolved
    }

    fn listed_node(&mut self, m: &Matcher, i: usize) -> NodeIndex {
        let e = &m.entries()[i];
        let detail = if e.programs.is_empty() {
            e.list.clone()
        } else {
            format!("{} {}", e.list, e.programs.join(", "))
        };
        self.node(&e.key(), &e.name, NodeKind::Listed, &detail)
    }

    /// Links a party to the entries its name matched.
    pub fn add_screening_hits(
        &mut self,
        m: &Matcher,
        party_id: &str,
        party_name: &str,
        hits: &[Hit],
    ) {
        let p = self.node(&party_key(party_id), party_id, NodeKind::Party, "");
        if let Some(n) = self.graph.node_weight_mut(p) {
            if n.label == party_id && !party_name.is_empty() {
                n.label = format!("{party_id} ({party_name})");
            }
        }
        for h in hits {
            let l = self.listed_node(m, h.entry_index);
            self.link(p, l, "name_match", 0.0, Some(h.score));
        }
    }

    /// Links a party to entry `entry_index` of `m` its name matched with `score` (a stored
    /// screening result). An index outside the matcher is ignored.
    pub fn add_name_match(&mut self, m: &Matcher, party_id: &str, entry_index: usize, score: f64) {
        if entry_index >= m.entries().len() {
            return;
        }
        let p = self.node(&party_key(party_id), party_id, NodeKind::Party, "");
        let l = self.listed_node(m, entry_index);
        self.link(p, l, "name_match", 0.0, Some(score));
    }

    /// Links two parties (by id) with `relation` (e.g. a stored trade link).
    pub fn add_party_link(&mut self, from: &str, to: &str, relation: &str) {
        let a = self.node(&party_key(from), from, NodeKind::Party, "");
        let b = self.node(&party_key(to), to, NodeKind::Party, "");
        self.link(a, b, relation, 0.0, None);
    }

    /// Adds relationships; endpoints are party ids, `party:<id>`, or `<list>:<entry id>` of a
    /// loaded entry. Rows naming an unknown entry are reported, not fatal.
    pub fn add_relationships(&mut self, m: Option<&Matcher>, rels: &[Relationship]) -> Vec<String> {
        match m {
            Some(m) => self.add_relationships_indexed(Some(m), entry_index(m), rels),
            None => self.add_relationships_indexed(None, &Default::default(), rels),
        }
    }

    /// [`SupplierNetwork::add_relationships`] with `m`'s [`entry_index`] built by the caller
    /// (once, for many calls).
    pub fn add_relationships_indexed(
        &mut self,
        m: Option<&Matcher>,
        entry_index: &std::collections::HashMap<String, usize>,
        rels: &[Relationship],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for r in rels {
            let mut ends = Vec::with_capacity(2);
            for end in [&r.from, &r.to] {
                let idx = if let Some(id) = end.strip_prefix("party:") {
                    Some(self.node(end, id, NodeKind::Party, ""))
                } else if let (Some(&i), Some(m)) = (entry_index.get(end.as_str()), m) {
                    Some(self.listed_node(m, i))
                } else if end.contains(':') {
                    problems.push(format!("{} -> {}: unknown list entry {end}", r.from, r.to));
                    None
                } else {
                    Some(self.node(&party_key(end), end, NodeKind::Party, ""))
                };
                ends.push(idx);
            }
            if let (Some(Some(a)), Some(Some(b))) = (ends.first(), ends.get(1)) {
                let (a, b) = (*a, *b);
                self.link(a, b, &r.relation, 0.0, None);
            }
        }
        problems
    }

    /// Shortest paths (breadth-first, at most `max_hops` edges) from each party to the nearest
    /// listed nodes: one path per (party, listed node), shortest first.
    pub fn exposure(&self, parties: &[(&str, &str)], max_hops: usize) -> Vec<ExposurePath> {
        let mut out = Vec::new();
        for &(role, id) in parties {
            let Some(&start) = self.index.get(&party_key(id)) else {
                continue;
            };
            let mut prev: AHashMap<NodeIndex, (NodeIndex, String)> = AHashMap::new();
            let mut depth: AHashMap<NodeIndex, usize> = AHashMap::new();
            depth.insert(start, 0);
            let mut queue = VecDeque::from([start]);
            while let Some(n) = queue.pop_front() {
                let d = depth[&n];
                if self.graph[n].kind == NodeKind::Listed {
                    // Reconstruct.
                    let mut nodes = vec![n];
                    let mut rels = Vec::new();
                    let mut cur = n;
                    while let Some((p, rel)) = prev.get(&cur) {
                        rels.push(rel.clone());
                        nodes.push(*p);
                        cur = *p;
                    }
                    nodes.reverse();
                    rels.reverse();
                    out.push(ExposurePath {
                        role: role.to_string(),
                        party: id.to_string(),
                        hops: d,
                        nodes: nodes.iter().map(|&i| self.graph[i].label.clone()).collect(),
                        relations: rels,
                        listed: self.graph[n].key.clone(),
                        listed_detail: format!(
                            "listed: {} {}",
                            self.graph[n].key, self.graph[n].detail
                        ),
                    });
                    // Do not walk through a listed entity: its own links are reported from it.
                    continue;
                }
                if d >= max_hops {
                    continue;
                }
                // Deterministic order: neighbours sorted by key.
                let mut next: Vec<(NodeIndex, String)> = self
                    .graph
                    .edges(n)
                    // Brokers and couriers serve many unrelated traders: paths do not run
                    // through declarant or courier links.
                    .filter(|e| !matches!(e.weight().relation.as_str(), "declarant" | "courier"))
                    .map(|e| {
                        let other = if e.source() == n {
                            e.target()
                        } else {
                            e.source()
                        };
                        (other, e.weight().relation.clone())
                    })
                    .collect();
                next.sort_by(|a, b| self.graph[a.0].key.cmp(&self.graph[b.0].key));
                for (m, rel) in next {
                    if let std::collections::hash_map::Entry::Vacant(v) = depth.entry(m) {
                        v.insert(d + 1);
                        prev.insert(m, (n, rel));
                        queue.push_back(m);
                    }
                }
            }
        }
        out.sort_by(|a, b| a.hops.cmp(&b.hops).then(a.listed.cmp(&b.listed)));
        out
    }

    /// GraphML (nodes with key, label, kind, detail; edges with relation, shipments, value).
    pub fn to_graphml(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
             <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
             <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             <key id=\"detail\" for=\"node\" attr.name=\"detail\" attr.type=\"string\"/>\n\
             <key id=\"relation\" for=\"edge\" attr.name=\"relation\" attr.type=\"string\"/>\n\
             <key id=\"shipments\" for=\"edge\" attr.name=\"shipments\" attr.type=\"int\"/>\n\
             <key id=\"value\" for=\"edge\" attr.name=\"value\" attr.type=\"double\"/>\n\
             <graph id=\"supplier-network\" edgedefault=\"undirected\">\n",
        );
        for n in self.graph.node_weights() {
            let kind = match n.kind {
                NodeKind::Party => "party",
                NodeKind::Listed => "listed",
            };
            let _ = writeln!(
                s,
                "<node id=\"{}\"><data key=\"label\">{}</data><data key=\"kind\">{kind}</data><data key=\"detail\">{}</data></node>",
                esc(&n.key),
                esc(&n.label),
                esc(&n.detail)
            );
        }
        for e in self.graph.edge_references() {
            let (a, b) = (&self.graph[e.source()].key, &self.graph[e.target()].key);
            let w = e.weight();
            let _ = writeln!(
                s,
                "<edge source=\"{}\" target=\"{}\"><data key=\"relation\">{}</data><data key=\"shipments\">{}</data><data key=\"value\">{}</data></edge>",
                esc(a),
                esc(b),
                esc(&w.relation),
                w.shipments,
                w.value
            );
        }
        s.push_str("</graph>\n</graphml>\n");
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        let nodes: Vec<&Node> = self.graph.node_weights().collect();
        let edges: Vec<serde_json::Value> = self
            .graph
            .edge_references()
            .map(|e| {
                serde_json::json!({
                    "source": self.graph[e.source()].key,
                    "target": self.graph[e.target()].key,
                    "relation": e.weight().relation,
                    "shipments": e.weight().shipments,
                    "value": e.weight().value,
                    "score": e.weight().score,
                })
            })
            .collect();
        serde_json::json!({"nodes": nodes, "edges": edges})
    }
}

/// Each entry of `m` by its key (`<list>:<entry id>`), as its index in [`Matcher::entries`]
/// (built once per matcher).
pub fn entry_index(m: &Matcher) -> &std::collections::HashMap<String, usize> {
    &m.list_links().by_key
}

/// What every supplier network over one matcher's lists takes from the lists alone: the
/// entries with OFAC "Linked To:" names, each with the entries those names resolve to, and
/// every entry by key. Built once per matcher (`Matcher::list_links`): resolving the names
/// normalises every listed name, which a network built per request or per batch would
/// otherwise repeat.
#[derive(Debug, Default)]
pub struct ListLinks {
    /// Entries with "Linked To:" names, in list order, with the entries they resolve to
    /// (in the order of the names; an entry resolving to itself left out).
    linked: Vec<(usize, Vec<usize>)>,
    /// "Linked To:" names that resolve to no entry.
    unresolved: usize,
    by_key: std::collections::HashMap<String, usize>,
}

impl ListLinks {
    pub(crate) fn of(m: &Matcher) -> ListLinks {
        let by_key = m
            .entries()
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key(), i))
            .collect();
        let mut by_name: AHashMap<Vec<String>, Vec<usize>> = AHashMap::new();
        for (i, e) in m.entries().iter().enumerate() {
            for n in e.names() {
                by_name.entry(name_key(n)).or_default().push(i);
            }
        }
        let mut linked = Vec::new();
        let mut unresolved = 0;
        for (i, e) in m.entries().iter().enumerate() {
            if e.linked_to.is_empty() {
                continue;
            }
            let mut targets = Vec::new();
            for target in &e.linked_to {
                let cands = by_name.get(&name_key(target));
                let pick = cands.and_then(|c| {
                    c.iter()
                        .find(|&&j| m.entries()[j].list == e.list)
                        .or_else(|| c.first())
                        .copied()
                });
                match pick {
                    Some(j) if j != i => targets.push(j),
                    Some(_) => {}
                    None => unresolved += 1,
                }
            }
            linked.push((i, targets));
        }
        ListLinks {
            linked,
            unresolved,
            by_key,
        }
    }
}

fn name_key(n: &str) -> Vec<String> {
    let mut k: Vec<String> = normalize(n)
        .tokens()
        .iter()
        .map(|t| t.text.clone())
        .collect();
    k.sort();
    k
}

/// Reads a relationship CSV: header `from,to,relation` and optional `source`. Malformed rows are
/// reported with their line numbers.
pub fn read_relationships(text: &str, file: &str) -> (Vec<Relationship>, Vec<LoadIssue>) {
    let mut rels = Vec::new();
    let mut issues = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Err(e) => {
            issues.push(LoadIssue {
                file: file.into(),
                line: 1,
                message: format!("unreadable header: {e}"),
            });
            return (rels, issues);
        }
    };
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(fi), Some(ti), Some(ri)) = (col("from"), col("to"), col("relation")) else {
        issues.push(LoadIssue {
            file: file.into(),
            line: 1,
            message: "header must name from, to and relation".into(),
        });
        return (rels, issues);
    };
    let si = col("source");
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                let get = |i: usize| r.get(i).map(str::trim).unwrap_or("");
                if get(fi).is_empty() || get(ti).is_empty() || get(ri).is_empty() {
                    issues.push(LoadIssue {
                        file: file.into(),
                        line,
                        message: "from, to and relation must all be present".into(),
                    });
                    continue;
                }
                rels.push(Relationship {
                    from: get(fi).into(),
                    to: get(ti).into(),
                    relation: get(ri).to_ascii_lowercase(),
                    source: si.map(get).unwrap_or("").into(),
                });
            }
            Err(e) => issues.push(LoadIssue {
                file: file.into(),
                line: e.position().map(|p| p.line()).unwrap_or(0),
                message: format!("unreadable row: {e}"),
            }),
        }
    }
    (rels, issues)
}
