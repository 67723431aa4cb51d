//! The screening [`Signal`]: list hits, Xinjiang region flags and supplier-network exposure of a
//! declaration's parties, as model features and officer-readable reasons.
//!
//! Declarations carry party *ids*; names and addresses come from a [`PartyDirectory`] (a CSV
//! `party_id,name,address,country[,schema]`, or the synthetic demo enrichment of
//! [`crate::demo`]). Every party of the directory is screened once, when its
//! [`ScreenedDirectory`] is built; the signal of each batch reads that screening through an
//! `Arc`, so building a signal screens nothing and scoring a declaration is a few hash look-ups.

use crate::matcher::{Hit, Matcher, Query};
use crate::model::{LoadIssue, Schema};
use crate::network::{ExposurePath, SupplierNetwork};
use crate::xinjiang::{xinjiang_flag, RegionFlag};
use ahash::AHashMap;
use borderline_core::{Declaration, FeatureDef, Reason, ReasonKind, Signal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PartyInfo {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// ISO alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub schema: Schema,
}

/// Party id -> name, address, country.
#[derive(Debug, Clone, Default)]
pub struct PartyDirectory {
    parties: AHashMap<String, PartyInfo>,
}

impl PartyDirectory {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&mut self, id: impl Into<String>, info: PartyInfo) {
        self.parties.insert(id.into(), info);
    }
    pub fn get(&self, id: &str) -> Option<&PartyInfo> {
        self.parties.get(id)
    }
    pub fn parties_mut(&mut self) -> &mut AHashMap<String, PartyInfo> {
        &mut self.parties
    }
    pub fn len(&self) -> usize {
        self.parties.len()
    }
    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &PartyInfo)> {
        self.parties.iter()
    }

    /// Reads `party_id,name,address,country[,schema]` (header required). Rows without id or
    /// name, or with an unknown country or schema, are reported with line numbers and skipped.
    pub fn from_csv(text: &str, file: &str) -> (PartyDirectory, Vec<LoadIssue>) {
        let mut dir = PartyDirectory::new();
        let mut issues = Vec::new();
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map(|h| h.iter().map(|s| s.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default();
        let col = |n: &str| header.iter().position(|h| h == n);
        let (Some(ii), Some(ni)) = (col("party_id"), col("name")) else {
            issues.push(LoadIssue {
                file: file.into(),
                line: 1,
                message: "header must name party_id and name".into(),
            });
            return (dir, issues);
        };
        let (ai, ci, si) = (col("address"), col("country"), col("schema"));
        for rec in rdr.records() {
            let r = match rec {
                Ok(r) => r,
                Err(e) => {
                    issues.push(LoadIssue {
                        file: file.into(),
                        line: e.position().map(|p| p.line()).unwrap_or(0),
                        message: format!("unreadable row: {e}"),
                    });
                    continue;
                }
            };
            let line = r.position().map(|p| p.line()).unwrap_or(0);
            let get = |i: Option<usize>| {
                i.and_then(|i| r.get(i))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let (Some(id), Some(name)) = (get(Some(ii)), get(Some(ni))) else {
                issues.push(LoadIssue {
                    file: file.into(),
                    line,
                    message: "party_id and name are required".into(),
                });
                continue;
            };
            let country = match get(ci) {
                None => None,
                Some(c) => match crate::country::to_iso2(c) {
                    Some(cc) => Some(cc),
                    None => {
                        issues.push(LoadIssue {
                            file: file.into(),
                            line,
                            message: format!("unrecognised country {c:?}; row kept without it"),
                        });
                        None
                    }
                },
            };
            let schema = match get(si) {
                None => Schema::Company,
                Some(s) => s.parse().unwrap_or_else(|e: String| {
                    issues.push(LoadIssue {
                        file: file.into(),
                        line,
                        message: e,
                    });
                    Schema::Unknown
                }),
            };
            dir.insert(
                id,
                PartyInfo {
                    name: name.into(),
                    address: get(ai).map(String::from),
                    country,
                    schema,
                },
            );
        }
        (dir, issues)
    }

    /// Writes the directory as CSV (sorted by id).
    pub fn to_csv(&self) -> crate::Result<String> {
        let csv_error = |source| crate::ScreeningError::Csv {
            path: "party directory".into(),
            source,
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["party_id", "name", "address", "country", "schema"])
            .map_err(csv_error)?;
        let mut ids: Vec<&String> = self.parties.keys().collect();
        ids.sort();
        for id in ids {
            let p = &self.parties[id];
            w.write_record([
                id.as_str(),
                &p.name,
                p.address.as_deref().unwrap_or(""),
                p.country.as_deref().unwrap_or(""),
                p.schema.as_str(),
            ])
            .map_err(csv_error)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| csv_error(csv::Error::from(e.into_error())))?;
        // Every field written is a `&str`, so the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// What screening found for one party.
#[derive(Debug, Clone, Default)]
pub struct PartyScreen {
    /// Hits at or above the matcher threshold, best first.
    pub hits: Vec<Hit>,
    /// Best score at or above [`FEATURE_FLOOR`] (a feature even below the threshold).
    pub best_score: f64,
    pub region: Option<RegionFlag>,
}

/// Screens one party of a directory: its watchlist hits at or above `matcher`'s threshold,
/// its best score at or above [`FEATURE_FLOOR`], and its address's region flag.
pub fn screen_party_info(matcher: &Matcher, p: &PartyInfo) -> PartyScreen {
    let q = Query::name(p.name.clone())
        .schema(p.schema)
        .country(p.country.clone())
        .address(p.address.clone());
    let all = matcher.screen_with_threshold(&q, FEATURE_FLOOR);
    let best_score = all.first().map(|h| h.score).unwrap_or(0.0);
    let hits: Vec<Hit> = all
        .into_iter()
        .filter(|h| h.score >= matcher.config.threshold)
        .collect();
    let region = p
        .address
        .as_deref()
        .and_then(|a| xinjiang_flag(a, p.country.as_deref()));
    PartyScreen {
        hits,
        best_score,
        region,
    }
}

/// The reason for a party's watchlist hit (`role` and `name` of the declaration's party).
pub fn hit_reason(role: &str, name: &str, h: &Hit) -> Reason {
    Reason {
        kind: ReasonKind::Screening,
        code: format!("screening:{}:{}", h.list, h.entry_id),
        text: format!(
            "{role} {name:?} matches {} entry {} {:?}{} (score {:.2}; {})",
            h.list,
            h.entry_id,
            h.matched_name,
            if h.programs.is_empty() {
                String::new()
            } else {
                format!(", programmes {}", h.programs.join(", "))
            },
            h.score,
            h.explanation.summary()
        ),
        contribution: None,
    }
}

/// The reason for a party's address in the forced-labour region.
pub fn region_reason(role: &str, name: &str, f: &RegionFlag) -> Reason {
    Reason {
        kind: ReasonKind::Screening,
        code: "screening:uflpa_region".into(),
        text: f.reason_text(&format!("{role} {name:?} address")),
        contribution: None,
    }
}

/// The reason for a supplier-network path to a listed entity.
pub fn network_reason(p: &ExposurePath) -> Reason {
    Reason {
        kind: ReasonKind::Screening,
        code: format!("network:{}", p.listed),
        text: format!("supplier network: {}", p.describe()),
        contribution: None,
    }
}

/// Scores below this are written as 0 in the features (no resemblance worth a split).
pub const FEATURE_FLOOR: f64 = 0.6;

const ROLES: [&str; 4] = ["importer", "seller", "declarant", "courier"];

/// The parties of a declaration by role (importer, seller, declarant, courier), those given.
pub fn declaration_parties(d: &Declaration) -> Vec<(&'static str, &str)> {
    ROLES
        .iter()
        .filter_map(|r| party_of(d, r).map(|p| (*r, p)))
        .collect()
}

fn party_of<'a>(d: &'a Declaration, role: &str) -> Option<&'a str> {
    match role {
        "importer" => Some(d.importer.as_str()),
        "seller" => d.seller.as_deref(),
        "declarant" => Some(d.declarant.as_str()),
        "courier" => d.courier.as_deref(),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// A party directory screened against one matcher's watchlists: every party's hits, best
/// score and region flag, computed once, when it is built. Every batch's [`ScreeningSignal`]
/// and every supplier network over the directory share it (`Arc`) and screen no party again,
/// so a directory is screened once per watchlist version (a [`Matcher`] is one version of the
/// lists: other lists are another matcher and another screening).
pub struct ScreenedDirectory {
    matcher: Arc<Matcher>,
    directory: PartyDirectory,
    screens: AHashMap<String, PartyScreen>,
    /// The ids of the parties with at least one hit, sorted (the order networks link them).
    with_hits: Vec<String>,
}

impl ScreenedDirectory {
    /// Screens every party of `directory` against `matcher`'s lists.
    pub fn new(matcher: Arc<Matcher>, directory: PartyDirectory) -> Self {
        let mut screens = AHashMap::with_capacity(directory.len());
        for (id, p) in directory.iter() {
            screens.insert(id.clone(), screen_party_info(&matcher, p));
        }
        let mut with_hits: Vec<String> = screens
            .iter()
            .filter(|(_, s)| !s.hits.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        with_hits.sort();
        ScreenedDirectory {
            matcher,
            directory,
            screens,
            with_hits,
        }
    }

    /// The matcher the directory was screened with.
    pub fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }
    pub fn directory(&self) -> &PartyDirectory {
        &self.directory
    }
    /// The screening of directory party `id` (`None`: not in the directory).
    pub fn party_screen(&self, id: &str) -> Option<&PartyScreen> {
        self.screens.get(id)
    }
    /// The parties with at least one hit, by id: id, directory entry, screening.
    pub fn with_hits(&self) -> impl Iterator<Item = (&str, &PartyInfo, &PartyScreen)> {
        self.with_hits
            .iter()
            .filter_map(|id| Some((id.as_str(), self.directory.get(id)?, self.screens.get(id)?)))
    }
    /// A party's name in the directory (its id when it is not there).
    pub fn name_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.directory
            .get(id)
            .map(|p| p.name.as_str())
            .unwrap_or(id)
    }
}

pub struct ScreeningSignal {
    screened: Arc<ScreenedDirectory>,
    network: Option<Arc<SupplierNetwork>>,
    max_hops: usize,
}

impl ScreeningSignal {
    /// Screens every party of `directory` against `matcher`'s lists (a signal over
    /// [`ScreenedDirectory::new`]).
    pub fn new(matcher: Arc<Matcher>, directory: PartyDirectory) -> Self {
        Self::over(Arc::new(ScreenedDirectory::new(matcher, directory)))
    }

    /// The signal of a directory screened before: nothing is screened here.
    pub fn over(screened: Arc<ScreenedDirectory>) -> Self {
        ScreeningSignal {
            screened,
            network: None,
            max_hops: 2,
        }
    }

    /// Adds supplier-network exposure (paths of up to `max_hops` edges to a listed entity).
    pub fn with_network(mut self, network: Arc<SupplierNetwork>, max_hops: usize) -> Self {
        self.network = Some(network);
        self.max_hops = max_hops;
        self
    }

    /// The screened directory this signal reads.
    pub fn screened(&self) -> &Arc<ScreenedDirectory> {
        &self.screened
    }
    pub fn matcher(&self) -> &Arc<Matcher> {
        self.screened.matcher()
    }
    pub fn directory(&self) -> &PartyDirectory {
        self.screened.directory()
    }
    pub fn party_screen(&self, id: &str) -> Option<&PartyScreen> {
        self.screened.party_screen(id)
    }

    /// Network paths of a declaration (empty without a network).
    pub fn exposure(&self, d: &Declaration) -> Vec<ExposurePath> {
        let Some(net) = &self.network else {
            return Vec::new();
        };
        net.exposure(&declaration_parties(d), self.max_hops)
    }
}

impl Signal for ScreeningSignal {
    fn name(&self) -> &str {
        "screening"
    }

    fn feature_defs(&self) -> Vec<FeatureDef> {
        let mut defs: Vec<FeatureDef> = ROLES
            .iter()
            .map(|r| FeatureDef {
                name: format!("screening_{r}_best_score"),
                definition: format!(
                    "best watchlist name-match score of the {r} (0 below {FEATURE_FLOOR}; missing when the party is not in the party directory)"
                ),
            })
            .collect();
        defs.push(FeatureDef {
            name: "screening_hit_count".into(),
            definition: "number of list entries matched at or above the screening threshold, over all parties".into(),
        });
        defs.push(FeatureDef {
            name: "screening_xinjiang_region".into(),
            definition: "1 when a party address names a place in the Xinjiang Uyghur Autonomous Region (UFLPA), else 0".into(),
        });
        defs.push(FeatureDef {
            name: "network_min_hops_to_listed".into(),
            definition: "fewest supplier-network edges from any party to a listed entity (missing when none within the hop limit or no network)".into(),
        });
        defs
    }

    fn features(&self, d: &Declaration, out: &mut [f32]) {
        for (i, r) in ROLES.iter().enumerate() {
            if let Some(slot) = out.get_mut(i) {
                *slot = match party_of(d, r).and_then(|p| self.party_screen(p)) {
                    Some(s) => s.best_score as f32,
                    None => f32::NAN,
                };
            }
        }
        let mut hits = 0usize;
        let mut region = false;
        let mut known = false;
        for r in ROLES {
            if let Some(s) = party_of(d, r).and_then(|p| self.party_screen(p)) {
                known = true;
                hits += s.hits.len();
                region |= s.region.is_some();
            }
        }
        let n = ROLES.len();
        if let Some(slot) = out.get_mut(n) {
            *slot = if known { hits as f32 } else { f32::NAN };
        }
        if let Some(slot) = out.get_mut(n + 1) {
            *slot = if known {
                f32::from(u8::from(region))
            } else {
                f32::NAN
            };
        }
        if let Some(slot) = out.get_mut(n + 2) {
            *slot = self
                .exposure(d)
                .first()
                .map(|p| p.hops as f32)
                .unwrap_or(f32::NAN);
        }
    }

    fn rule_fields(&self) -> Vec<borderline_core::RuleFieldDef> {
        vec![borderline_core::RuleFieldDef {
            name: "screening_score",
            definition: "best watchlist match score, 0-1, of the declaration's screened parties (screening module)",
        }]
    }

    fn rule_values(&self, d: &Declaration, out: &mut Vec<(&'static str, f64)>) {
        let parties = [
            Some(d.importer.as_str()),
            d.seller.as_deref(),
            Some(d.declarant.as_str()),
            d.courier.as_deref(),
        ];
        let best = parties
            .into_iter()
            .flatten()
            .filter_map(|p| self.party_screen(p))
            .map(|p| p.best_score)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        if let Some(b) = best {
            out.push(("screening_score", b));
        }
    }

    fn reasons(&self, d: &Declaration) -> Vec<Reason> {
        let mut out = Vec::new();
        for r in ROLES {
            let Some(pid) = party_of(d, r) else { continue };
            let Some(s) = self.party_screen(pid) else {
                continue;
            };
            let pname = self.screened.name_of(pid);
            for h in &s.hits {
                out.push(hit_reason(r, pname, h));
            }
            if let Some(f) = &s.region {
                out.push(region_reason(r, pname, f));
            }
        }
        // Network paths that are not just a direct name match already reported above.
        // A path of one link other than a name match (a relationship row to a listed entry) is
        // reported too.
        for p in self
            .exposure(d)
            .into_iter()
            .filter(|p| p.hops >= 2 || p.relations.first().is_some_and(|r| r != "name_match"))
        {
            out.push(network_reason(&p));
        }
        out
    }
}
