//! Screening use cases: which watchlists to load, one party or a file of parties screened, two
//! names compared, a batch's parties against the watchlists and its supplier network, and one
//! declaration's network exposure.

use crate::{AppError, Result};
use borderline_core::{Declaration, Reason, Signal};
use borderline_screening::{
    build_screened_signal, read_relationships, to_iso2, Explanation, ExposurePath, Hit, ListFormat,
    ListStore, LoadIssue, MatchConfig, Matcher, PartyDirectory, Query, Relationship, Schema,
    ScreenedDirectory, ScreeningSignal, SupplierNetwork, MAX_NAME_CHARS,
};
use serde::{Deserialize, Serialize};

/// The matcher's explanation types, for front ends that present hits word by word.
pub use borderline_screening::{Explanation as HitExplanation, MatchHow};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
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
        let (directory, issues) =
            PartyDirectory::from_csv(&read_text(parties)?, &parties.display().to_string());
        let mut p = Parties {
            directory,
            relationships: Vec::new(),
            skipped: issues.iter().map(|i| i.to_string()).collect(),
        };
        if let Some(rp) = relationships {
            p.add_relationships(rp)?;
        }
        Ok(p)
    }

    /// Adds the links of a relationship CSV (`from,to,relation[,source]`).
    pub fn add_relationships(&mut self, path: &Path) -> Result<()> {
        let (rels, issues) = read_relationships(&read_text(path)?, &path.display().to_string());
        self.relationships.extend(rels);
        self.skipped.extend(issues.iter().map(|i| i.to_string()));
        Ok(())
    }
}

fn read_text(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).map_err(AppError::io(format!("cannot read {}", p.display())))
}

/// Every ISO 3166 alpha-2 code a party's country may be given as (names such as "Russia" are
/// accepted too), for API documents.
pub fn country_codes() -> Vec<String> {
    let mut out = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8(vec![a, b]).unwrap_or_default();
            if to_iso2(&code).as_deref() == Some(code.as_str()) {
                out.push(code);
            }
        }
    }
    out
}

/// The bundled watchlists' matcher with the default configuration.
pub fn bundled_matcher() -> Result<Arc<Matcher>> {
    let store = ListStore::bundled()?;
    Ok(Arc::new(Matcher::build(&store, MatchConfig::default())))
}

/// Screening of a batch: the signal (watchlist, supplier-network and forced-labour region
/// reasons per declaration), the supplier network and the relationship rows that named no
/// known entry.
pub struct BatchScreening {
    pub signal: ScreeningSignal,
    pub network: Arc<SupplierNetwork>,
    pub unused_relationships: Vec<String>,
}

/// Screens `rows`' parties against the watchlists in `matcher`, building the supplier network
/// from the batch ([`DEFAULT_MAX_HOPS`]).
pub fn screen_batch(
    rows: &[Declaration],
    matcher: Arc<Matcher>,
    parties: Parties,
) -> BatchScreening {
    screen_network(rows, matcher, parties, DEFAULT_MAX_HOPS)
}

/// As [`screen_batch`], reporting listed entities within `max_hops` links.
pub fn screen_network(
    rows: &[Declaration],
    matcher: Arc<Matcher>,
    parties: Parties,
    max_hops: usize,
) -> BatchScreening {
    let screened = Arc::new(ScreenedDirectory::new(matcher, parties.directory));
    screen_screened(rows, screened, &parties.relationships, max_hops)
}

/// As [`screen_network`] with a directory screened before ([`ScreenedDirectory`], shared):
/// builds the batch's supplier network and the signal over it, and screens no party.
pub fn screen_screened(
    rows: &[Declaration],
    screened: Arc<ScreenedDirectory>,
    relationships: &[Relationship],
    max_hops: usize,
) -> BatchScreening {
    let (signal, network, problems) =
        build_screened_signal(rows, screened, relationships, max_hops);
    BatchScreening {
        signal,
        network,
        unused_relationships: problems,
    }
}

/// How many recorded declarations [`screen_recorded`] reads by default (the riskiest first).
pub const RECORDED_FOR_NETWORK: usize = 200_000;

/// The screening a server's case pages read: the `screened` directory, and the supplier
/// network built with the trade links of the store's recorded declarations (the inputs stored
/// with their latest decisions, riskiest first, at most `limit`) and `relationships`. Returns
/// the screening and how many declarations gave trade links. Built once (at start): a
/// declaration recorded later is screened by its parties but adds no trade link until it is
/// rebuilt.
pub fn screen_recorded(
    store: &dyn borderline_governance::GovernanceStore,
    screened: Arc<ScreenedDirectory>,
    relationships: &[Relationship],
    limit: usize,
) -> Result<(BatchScreening, usize)> {
    use crate::decisions::{queue, QueueFilter};
    const PAGE: usize = 500;
    let mut rows: Vec<Declaration> = Vec::new();
    let mut page = 1;
    while rows.len() < limit {
        let p = queue(store, &QueueFilter::default(), page, PAGE)?;
        let last = p.rows.len() < PAGE;
        for r in p.rows {
            if rows.len() >= limit {
                break;
            }
            if let Some(body) =
                borderline_governance::audit::scored_input(store, &r.decision.input_hash)?
            {
                rows.push(serde_json::from_str(&body)?);
            }
        }
        if last {
            break;
        }
        page += 1;
    }
    let n = rows.len();
    Ok((
        screen_screened(&rows, screened, relationships, DEFAULT_MAX_HOPS),
        n,
    ))
}

/// The party directory of a long-running service (`serve --parties`), read once and held as
/// one value, which the service shares between its handlers. The directory is screened once,
/// here, against the watchlists ([`ScreenedDirectory`]), and that one screening is shared
/// (`Arc`) by everything that reads the directory: the screening of the recorded
/// declarations' supplier network ([`screen_recorded`], built here, once: the case pages), the
/// directory as the stream workers screen with it ([`crate::network::NetworkScreening`]: paths
/// over trade links stored after the start), and each request's batch ([`Self::screen_batch`]:
/// network exposure, selection), which builds only its own supplier network.
pub struct ServedParties {
    screened: Arc<ScreenedDirectory>,
    relationships: Vec<Relationship>,
    recorded: BatchScreening,
    network: crate::network::NetworkScreening,
}

impl ServedParties {
    /// Screens `parties` against `matcher`'s lists, and builds the supplier network with the
    /// trade links of at most `limit` recorded declarations (riskiest first). Returns it and
    /// how many declarations gave trade links.
    pub fn new(
        store: &dyn borderline_governance::GovernanceStore,
        matcher: Arc<Matcher>,
        parties: Parties,
        limit: usize,
    ) -> Result<(ServedParties, usize)> {
        let screened = Arc::new(ScreenedDirectory::new(matcher, parties.directory));
        let (recorded, declarations) =
            screen_recorded(store, screened.clone(), &parties.relationships, limit)?;
        let network =
            crate::network::NetworkScreening::over(screened.clone(), &parties.relationships);
        Ok((
            ServedParties {
                screened,
                relationships: parties.relationships,
                recorded,
                network,
            },
            declarations,
        ))
    }

    /// The directory screened against the watchlists, once.
    pub fn screened(&self) -> &Arc<ScreenedDirectory> {
        &self.screened
    }

    /// The relationship rows as read.
    pub fn relationships(&self) -> &[Relationship] {
        &self.relationships
    }

    /// The directory screened, with the supplier network built at the start.
    pub fn recorded(&self) -> &BatchScreening {
        &self.recorded
    }

    /// The directory as the stream workers screen with it.
    pub fn network(&self) -> &crate::network::NetworkScreening {
        &self.network
    }

    /// `rows` (a request's batch) screened with this directory and its watchlists, the
    /// supplier network built from the batch ([`screen_batch`]): the parties' screening is the
    /// one made at the start, shared, so nothing is screened again.
    pub fn screen_batch(&self, rows: &[Declaration]) -> BatchScreening {
        screen_screened(
            rows,
            self.screened.clone(),
            &self.relationships,
            DEFAULT_MAX_HOPS,
        )
    }
}

/// One declaration's exposure: shortest paths from its parties to listed entities, and its
/// screening reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    pub declaration_id: String,
    pub paths: Vec<ExposurePath>,
    pub reasons: Vec<Reason>,
}

/// The exposure of declaration `declaration_id` of a screened batch.
pub fn exposure<'a>(
    rows: &'a [Declaration],
    screening: &BatchScreening,
    declaration_id: &str,
) -> Result<(Exposure, &'a Declaration)> {
    let d = rows
        .iter()
        .find(|d| d.declaration_id == declaration_id)
        .ok_or_else(|| AppError::Invalid(format!("declaration {declaration_id} not found")))?;
    Ok((
        Exposure {
            declaration_id: d.declaration_id.to_string(),
            paths: screening.signal.exposure(d),
            reasons: screening.signal.reasons(d),
        },
        d,
    ))
}

/// A user list file to load: the list `key` (a bundled key replaces that list) in `format`.
#[derive(Debug, Clone)]
pub struct ListFile {
    pub key: String,
    pub format: ListFormat,
    pub path: PathBuf,
}

/// Which watchlists to screen against.
#[derive(Debug, Clone, Default)]
pub struct ListChoice {
    /// Leave out the lists bundled with Borderline.
    pub no_bundled: bool,
    pub files: Vec<ListFile>,
}

/// Loaded watchlists, with the malformed lines of each user file (the rest of a file loads).
pub struct Lists {
    pub store: ListStore,
    pub issues: Vec<(ListFile, Vec<LoadIssue>)>,
}

/// Loads the chosen watchlists.
pub fn load_lists(choice: &ListChoice) -> Result<Lists> {
    let mut store = if choice.no_bundled {
        ListStore::new()
    } else {
        ListStore::bundled()?
    };
    let mut issues = Vec::new();
    for f in &choice.files {
        let list = store.load_file(&f.key, f.format, &f.path, None)?;
        issues.push((f.clone(), list.issues.clone()));
    }
    Ok(Lists { store, issues })
}

/// A matcher over `store`; `threshold` (0..=1) replaces the default reporting threshold.
pub fn matcher(store: &ListStore, threshold: Option<f64>) -> Result<Matcher> {
    let mut cfg = MatchConfig::default();
    if let Some(t) = threshold {
        if !(0.0..=1.0).contains(&t) {
            return Err(AppError::Invalid(format!(
                "the match threshold must be within [0, 1], got {t}"
            )));
        }
        cfg.threshold = t;
    }
    Ok(Matcher::build(store, cfg))
}

/// A party to screen: a name and the evidence given with it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Party {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// `company`, `person`, `vessel`, `aircraft`; empty: any.
    #[serde(default)]
    pub schema: Option<String>,
    /// ISO code or name.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Date or year of birth of a person ("1965", "1965-04-29").
    #[serde(default)]
    pub birth_date: Option<String>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

impl Party {
    /// The matcher query, with this party's evidence where given and `defaults`' elsewhere.
    /// A country must be recognised and a date of birth must hold a year, else they would
    /// silently be no evidence.
    pub fn query(&self, defaults: &Party) -> Result<Query, String> {
        // A name longer than any listed name is refused, not cut: screening part of it could
        // miss a listed name in the rest.
        if let Some(e) = name_too_long(&self.name) {
            return Err(e);
        }
        let schema = match given(&self.schema).or(given(&defaults.schema)) {
            Some(s) => s.parse::<Schema>()?,
            None => Schema::default(),
        };
        let country = match given(&self.country).or(given(&defaults.country)) {
            Some(c) => Some(to_iso2(c).ok_or_else(|| format!("unrecognised country {c:?}"))?),
            None => None,
        };
        let birth = given(&self.birth_date).or(given(&defaults.birth_date));
        if let Some(b) = birth {
            if borderline_screening::birth_year(b).is_none() {
                return Err(format!("date of birth {b:?} holds no year (1900-2099)"));
            }
        }
        Ok(Query::name(self.name.clone())
            .schema(schema)
            .country(country)
            .address(
                given(&self.address)
                    .or(given(&defaults.address))
                    .map(String::from),
            )
            .birth_date(birth.map(String::from)))
    }
}

/// The forced-labour region flag of a party's address (with its country as context): what
/// `screen` reports beside the watchlist hits, as `score --parties` does for declarations.
pub fn region_flag(party: &Party) -> Option<borderline_screening::RegionFlag> {
    let address = given(&party.address)?;
    let country = given(&party.country).and_then(to_iso2);
    borderline_screening::xinjiang_flag(address, country.as_deref())
}

/// Screens one party: hits at or above the matcher's threshold, best first, at most `limit`.
pub fn screen_party(matcher: &Matcher, party: &Party, limit: usize) -> Result<Vec<Hit>> {
    let q = party.query(&Party::default()).map_err(AppError::Invalid)?;
    let mut hits = matcher.screen(&q);
    hits.truncate(limit);
    Ok(hits)
}

/// What a file screening did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileScreening {
    pub screened: usize,
    /// Rows that could not be read ("file:line: why"); the rest are screened.
    pub skipped: Vec<String>,
}

#[derive(Serialize)]
struct BestHit<'a> {
    id: Option<&'a str>,
    name: &'a str,
    hits: usize,
    best_score: Option<f64>,
    best_list: Option<&'a str>,
    best_entry_id: Option<&'a str>,
    best_name: Option<&'a str>,
    best_programs: String,
    explanation: String,
}

#[derive(Serialize)]
struct AllHits<'a> {
    id: Option<&'a str>,
    name: &'a str,
    hits: &'a [Hit],
    error: Option<String>,
}

fn is_json_lines(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson" | "json")
    )
}

/// Screens every party of a CSV (column `name`, optional `schema`, `country`, `address`,
/// `birth_date`, `id`) or JSON Lines file (same keys) into `out`, in the input's format: a
/// CSV line with the best hit per party, or a JSON line with up to `limit` hits. `defaults`
/// fill the evidence a row leaves empty. A row whose evidence is invalid is written with the
/// error; an unreadable row is skipped and reported.
pub fn screen_file(
    matcher: &Matcher,
    input: &Path,
    defaults: &Party,
    limit: usize,
    out: &mut dyn Write,
) -> Result<FileScreening> {
    let open = AppError::io(format!("cannot read {}", input.display()));
    let write = || AppError::io("writing screening results");
    let mut done = FileScreening::default();
    if is_json_lines(input) {
        let f = std::fs::File::open(input).map_err(open)?;
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(AppError::io(format!("reading {}", input.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let row: Party = match serde_json::from_str(&line) {
                Ok(r) => r,
                Err(e) => {
                    done.skipped
                        .push(format!("{}:{}: {e}", input.display(), i + 1));
                    continue;
                }
            };
            let (hits, error) = match row.query(defaults) {
                Ok(q) => {
                    let mut h = matcher.screen(&q);
                    h.truncate(limit);
                    (h, None)
                }
                Err(e) => (Vec::new(), Some(e)),
            };
            let rec = AllHits {
                id: row.id.as_deref(),
                name: &row.name,
                hits: &hits,
                error,
            };
            serde_json::to_writer(&mut *out, &rec)
                .map_err(std::io::Error::from)
                .and_then(|_| out.write_all(b"\n"))
                .map_err(write())?;
            done.screened += 1;
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(input)
            .map_err(|e| AppError::Invalid(format!("{}: {e}", input.display())))?;
        let mut w = csv::Writer::from_writer(&mut *out);
        for rec in rdr.deserialize::<Party>() {
            let row = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    done.skipped
                        .push(format!("{}:{line}: {e}", input.display()));
                    continue;
                }
            };
            let (hits, expl) = match row.query(defaults) {
                Ok(q) => (matcher.screen(&q), String::new()),
                Err(e) => (Vec::new(), format!("error: {e}")),
            };
            let best = hits.first();
            w.serialize(BestHit {
                id: row.id.as_deref(),
                name: &row.name,
                hits: hits.len(),
                best_score: best.map(|h| (h.score * 1000.0).round() / 1000.0),
                best_list: best.map(|h| h.list.as_str()),
                best_entry_id: best.map(|h| h.entry_id.as_str()),
                best_name: best.map(|h| h.matched_name.as_str()),
                best_programs: best.map(|h| h.programs.join("; ")).unwrap_or_default(),
                explanation: best.map(|h| h.explanation.summary()).unwrap_or(expl),
            })
            .map_err(|e| AppError::Invalid(format!("writing screening results: {e}")))?;
            done.screened += 1;
        }
        w.flush().map_err(write())?;
    }
    Ok(done)
}

/// Two names scored against each other, with the explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub score: f64,
    pub explanation: Explanation,
    /// At or above the matcher's threshold.
    pub is_match: bool,
}

/// Why a name cannot be screened or compared: longer than [`MAX_NAME_CHARS`].
pub fn name_too_long(name: &str) -> Option<String> {
    let chars = name.chars().count();
    (chars > MAX_NAME_CHARS).then(|| {
        format!(
            "name has {chars} characters; names of at most {MAX_NAME_CHARS} characters are \
             screened (the longest listed name has under 200)"
        )
    })
}

/// Scores two names against each other. Refused for a name longer than [`MAX_NAME_CHARS`]
/// (comparing two names costs the product of their token counts).
pub fn compare(matcher: &Matcher, a: &str, b: &str, schema: Schema) -> Result<Comparison> {
    if let Some(e) = name_too_long(a).or_else(|| name_too_long(b)) {
        return Err(AppError::Invalid(e));
    }
    let (score, explanation) = matcher.compare(a, b, schema);
    Ok(Comparison {
        score,
        explanation,
        is_match: score >= matcher.config.threshold,
    })
}

/// Scores a CSV of pairs `name1,name2[,schema]` (header optional) into `out`: the rows with a
/// `score` column appended. A row without two names is skipped and reported; a row with an
/// unknown schema is scored as `schema` and reported.
pub fn compare_file(
    matcher: &Matcher,
    input: &Path,
    schema: Schema,
    out: &mut dyn Write,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(input)
        .map_err(|e| AppError::Invalid(format!("{}: {e}", input.display())))?;
    let mut w = csv::Writer::from_writer(out);
    let werr = |e: csv::Error| AppError::Invalid(format!("writing scores: {e}"));
    for (i, rec) in rdr.records().enumerate() {
        let at = format!("{}: row {}", input.display(), i + 1);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                notes.push(format!("{at}: skipped: {e}"));
                continue;
            }
        };
        let (a, b) = (rec.get(0).unwrap_or(""), rec.get(1).unwrap_or(""));
        let mut row: Vec<String> = rec.iter().map(String::from).collect();
        if i == 0 && a.eq_ignore_ascii_case("name1") && b.eq_ignore_ascii_case("name2") {
            row.push("score".into());
            w.write_record(&row).map_err(werr)?;
            continue;
        }
        if rec.len() < 2 {
            notes.push(format!("{at}: skipped: expected name1,name2[,schema]"));
            continue;
        }
        let s = match rec.get(2).filter(|s| !s.trim().is_empty()) {
            Some(s) => s.parse::<Schema>().unwrap_or_else(|e| {
                notes.push(format!("{at}: {e}; scored as {}", schema.as_str()));
                schema
            }),
            None => schema,
        };
        if let Some(e) = name_too_long(a).or_else(|| name_too_long(b)) {
            notes.push(format!("{at}: skipped: {e}"));
            continue;
        }
        let (score, _) = matcher.compare(a, b, s);
        row.push(format!("{score:.4}"));
        w.write_record(&row).map_err(werr)?;
    }
    w.flush().map_err(AppError::io("writing scores"))?;
    Ok(notes)
}
