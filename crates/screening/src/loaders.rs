//! Parsers for the list formats Borderline reads. Every loader takes the file *text* (so bundled
//! gzip copies and user files go through the same code) and returns a [`WatchList`]; malformed
//! lines become [`LoadIssue`]s with 1-based line numbers and are skipped.
//!
//! | format key   | layout |
//! |--------------|--------|
//! | `ofac-csv`   | OFAC legacy CSV: primary (`sdn.csv`/`cons_prim.csv`), `alt`, `add`, `comments` |
//! | `un-xml`     | UN Security Council Consolidated List XML |
//! | `bis-dpl`    | BIS Denied Persons List, tab-separated with a header |
//! | `csl-csv`    | trade.gov Consolidated Screening List CSV |
//! | `simple-csv` | Borderline's simple CSV (`id,name,schema,aliases,country,address,programs,remarks`) |

use crate::country::to_iso2;
use crate::error::{Result, ScreeningError};
use crate::model::{Address, Entry, ListMeta, LoadIssue, Schema, WatchList};
use std::collections::HashMap;
use std::io::Read;

/// A named piece of text: file name (for messages) and its decoded contents.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    /// Decodes raw bytes: gunzips when the gzip magic is present, then UTF-8 or (failing that)
    /// Latin-1, which the older OFAC files use. Strips a BOM and the DOS end-of-file byte.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Source> {
        let raw: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::with_capacity(bytes.len() * 4);
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .map_err(|source| ScreeningError::Gzip {
                    path: name.to_string(),
                    source,
                })?;
            out
        } else {
            bytes.to_vec()
        };
        let mut text = match String::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        };
        if text.starts_with('\u{feff}') {
            text.remove(0);
        }
        let text = text.replace('\u{1a}', "");
        Ok(Source {
            name: name.to_string(),
            text,
        })
    }
    pub fn from_path(path: &std::path::Path) -> Result<Source> {
        let bytes = std::fs::read(path).map_err(|source| ScreeningError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Source::from_bytes(&path.display().to_string(), &bytes)
    }
}

/// OFAC's null marker is "-0-" (often followed by a space).
fn field(rec: &csv::StringRecord, i: usize) -> Option<&str> {
    let v = rec.get(i)?.trim();
    if v.is_empty() || v == "-0-" {
        None
    } else {
        Some(v)
    }
}

fn csv_records(
    src: &Source,
    delimiter: u8,
    has_headers: bool,
    issues: &mut Vec<LoadIssue>,
) -> (Option<csv::StringRecord>, Vec<(u64, csv::StringRecord)>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(src.text.as_bytes());
    let header = if has_headers {
        rdr.headers().ok().cloned()
    } else {
        None
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                out.push((line, r));
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                issues.push(LoadIssue {
                    file: src.name.clone(),
                    line,
                    message: format!("unreadable CSV record: {e}"),
                });
            }
        }
    }
    (header, out)
}

fn issue(src: &Source, line: u64, message: impl Into<String>) -> LoadIssue {
    LoadIssue {
        file: src.name.clone(),
        line,
        message: message.into(),
    }
}

/// Splits OFAC remarks into "Linked To:" targets (trailing period removed).
pub fn linked_to(remarks: &str) -> Vec<String> {
    remarks
        .split(';')
        .filter_map(|part| {
            let p = part.trim();
            p.strip_prefix("Linked To:")
                .map(|rest| rest.trim().trim_end_matches('.').trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Files of one OFAC legacy-CSV list. `primary` may be absent (the bundled Dec-2025 SDN has only
/// aliases and addresses): entries are then built from their aliases, the first alias standing
/// in as the name.
pub struct OfacFiles {
    pub primary: Option<Source>,
    pub alt: Option<Source>,
    pub add: Option<Source>,
    pub comments: Option<Source>,
}

/// Loads an OFAC SDN or Consolidated (non-SDN) list in the legacy CSV layout.
pub fn load_ofac(meta: ListMeta, files: OfacFiles) -> WatchList {
    let mut issues = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut by_num: HashMap<u64, usize> = HashMap::new();
    let key = meta.key.clone();
    if let Some(src) = &files.primary {
        let (_, recs) = csv_records(src, b',', false, &mut issues);
        for (line, r) in recs {
            if r.len() < 4 {
                issues.push(issue(
                    src,
                    line,
                    format!("expected 12 fields, found {}", r.len()),
                ));
                continue;
            }
            let Some(num) = field(&r, 0).and_then(|s| s.parse::<u64>().ok()) else {
                issues.push(issue(
                    src,
                    line,
                    format!("ent_num {:?} is not a number", r.get(0).unwrap_or("")),
                ));
                continue;
            };
            let Some(name) = field(&r, 1) else {
                issues.push(issue(src, line, format!("entry {num} has no name")));
                continue;
            };
            let schema = Schema::parse(r.get(2).unwrap_or("-0-"));
            let mut e = Entry::new(&key, num.to_string(), schema, name);
            if let Some(p) = field(&r, 3) {
                e.programs = p
                    .split("] [")
                    .map(|s| s.trim_matches(|c| c == '[' || c == ']').trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            if let Some(flag) = field(&r, 9) {
                e.add_country(to_iso2(flag));
            }
            if let Some(rem) = field(&r, 11) {
                e.remarks = rem.to_string();
            }
            if by_num.insert(num, entries.len()).is_some() {
                issues.push(issue(
                    src,
                    line,
                    format!("duplicate ent_num {num}; later row kept"),
                ));
            }
            entries.push(e);
        }
    }
    if let Some(src) = &files.alt {
        let (_, recs) = csv_records(src, b',', false, &mut issues);
        for (line, r) in recs {
            let Some(num) = field(&r, 0).and_then(|s| s.parse::<u64>().ok()) else {
                issues.push(issue(
                    src,
                    line,
                    format!("ent_num {:?} is not a number", r.get(0).unwrap_or("")),
                ));
                continue;
            };
            let Some(alias) = field(&r, 3) else {
                issues.push(issue(src, line, format!("alias row for {num} has no name")));
                continue;
            };
            match by_num.get(&num) {
                Some(&i) => entries[i].aliases.push(alias.to_string()),
                None if files.primary.is_none() => {
                    by_num.insert(num, entries.len());
                    entries.push(Entry::new(&key, num.to_string(), Schema::Unknown, alias));
                }
                None => issues.push(issue(src, line, format!("alias for unknown ent_num {num}"))),
            }
        }
    }
    if let Some(src) = &files.add {
        let (_, recs) = csv_records(src, b',', false, &mut issues);
        for (line, r) in recs {
            let Some(num) = field(&r, 0).and_then(|s| s.parse::<u64>().ok()) else {
                issues.push(issue(
                    src,
                    line,
                    format!("ent_num {:?} is not a number", r.get(0).unwrap_or("")),
                ));
                continue;
            };
            let Some(&i) = by_num.get(&num) else {
                // Address rows for entries without names (alias-only lists) are expected.
                if files.primary.is_some() {
                    issues.push(issue(
                        src,
                        line,
                        format!("address for unknown ent_num {num}"),
                    ));
                }
                continue;
            };
            let parts: Vec<&str> = [field(&r, 2), field(&r, 3), field(&r, 4)]
                .into_iter()
                .flatten()
                .collect();
            let country = field(&r, 4).and_then(to_iso2);
            entries[i].add_country(country.clone());
            if !parts.is_empty() {
                entries[i].addresses.push(Address {
                    text: parts.join(", "),
                    country,
                });
            }
        }
    }
    if let Some(src) = &files.comments {
        let (_, recs) = csv_records(src, b',', false, &mut issues);
        for (line, r) in recs {
            let Some(num) = field(&r, 0).and_then(|s| s.parse::<u64>().ok()) else {
                issues.push(issue(
                    src,
                    line,
                    format!("ent_num {:?} is not a number", r.get(0).unwrap_or("")),
                ));
                continue;
            };
            if let (Some(&i), Some(text)) = (by_num.get(&num), field(&r, 1)) {
                // The comments file continues remarks truncated in the primary file.
                entries[i].remarks.push_str(text);
            }
        }
    }
    for e in &mut entries {
        e.linked_to = linked_to(&e.remarks);
        for (lo, hi) in crate::model::birth_years_in_remarks(&e.remarks) {
            e.add_birth_years(lo, hi);
        }
        if e.schema == Schema::Unknown && e.remarks.contains("DOB ") {
            e.schema = Schema::Person;
        }
        // Without a type column (alias-only lists) a primary name with a legal form ("... CO
        // LTD") is an entity: people's names carry none.
        if e.schema == Schema::Unknown
            && crate::normalize::normalize(&e.name)
                .tokens()
                .iter()
                .any(|t| t.kind == crate::normalize::TokenKind::LegalForm)
        {
            e.schema = Schema::Company;
        }
    }
    WatchList {
        meta,
        entries,
        issues,
    }
}

/// Loads the UN Security Council Consolidated List XML. Returns the list with its
/// `dateGenerated` as date when `meta.date` is empty.
pub fn load_un_xml(mut meta: ListMeta, src: &Source) -> Result<WatchList> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(&src.text);
    reader.config_mut().trim_text(true);
    let mut issues = Vec::new();
    let mut entries = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut cur: Option<(Entry, [String; 4], u64)> = None;
    let mut addr = Address::default();
    let mut dob_type = String::new();
    let mut dob_from: Option<u16> = None;
    // Newline offsets, found once when the first issue needs a line number: counting from the
    // start for every issue made a file with many bad records quadratic.
    let newlines: std::cell::OnceCell<Vec<usize>> = std::cell::OnceCell::new();
    let line_of = |pos: u64| -> u64 {
        let p = (pos as usize).min(src.text.len());
        let at = newlines.get_or_init(|| {
            src.text
                .bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect()
        });
        1 + at.partition_point(|&i| i < p) as u64
    };
    loop {
        let ev = reader.read_event().map_err(|e| ScreeningError::Xml {
            path: src.name.clone(),
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match ev {
            Event::Start(s) => {
                let tag = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                if tag == "CONSOLIDATED_LIST" && meta.date.is_empty() {
                    // No duplicate-name check: it is quadratic in the attributes of a tag
                    // (RUSTSEC-2026-0194) and a repeated attribute changes nothing here.
                    for a in s.attributes().with_checks(false).flatten() {
                        if a.key.as_ref() == b"dateGenerated" {
                            let v = String::from_utf8_lossy(&a.value).into_owned();
                            meta.date = v.get(..10).unwrap_or(&v).to_string();
                        }
                    }
                }
                if tag == "INDIVIDUAL" || tag == "ENTITY" {
                    let schema = if tag == "INDIVIDUAL" {
                        Schema::Person
                    } else {
                        Schema::Company
                    };
                    let pos = reader.buffer_position();
                    cur = Some((
                        Entry::new(&meta.key, "", schema, ""),
                        Default::default(),
                        pos,
                    ));
                }
                if tag.ends_with("_ADDRESS") {
                    addr = Address::default();
                }
                if tag == "INDIVIDUAL_DATE_OF_BIRTH" {
                    dob_type.clear();
                    dob_from = None;
                }
                path.push(tag);
            }
            Event::End(_) => {
                let tag = path.pop().unwrap_or_default();
                if tag.ends_with("_ADDRESS") {
                    if let Some((e, _, _)) = cur.as_mut() {
                        e.add_country(addr.country.clone());
                        if !addr.text.is_empty() {
                            e.addresses.push(std::mem::take(&mut addr));
                        }
                    }
                }
                if tag == "INDIVIDUAL" || tag == "ENTITY" {
                    if let Some((mut e, parts, pos)) = cur.take() {
                        let full: Vec<&str> = parts
                            .iter()
                            .map(|s| s.trim())
                            .filter(|s| !s.is_empty())
                            .collect();
                        let full = full.join(" ");
                        // Entities sometimes list several names separated by ";".
                        let mut names = full.split(';').map(str::trim).filter(|s| !s.is_empty());
                        match names.next() {
                            Some(first) => {
                                e.name = first.to_string();
                                let rest: Vec<String> = names.map(String::from).collect();
                                e.aliases.splice(0..0, rest);
                                if e.id.is_empty() {
                                    issues.push(issue(
                                        src,
                                        line_of(pos),
                                        "record without REFERENCE_NUMBER or DATAID",
                                    ));
                                } else {
                                    entries.push(e);
                                }
                            }
                            None => issues.push(issue(src, line_of(pos), "record without a name")),
                        }
                    }
                }
            }
            Event::Text(t) => {
                let text = match t.unescape() {
                    Ok(s) => s.into_owned(),
                    Err(_) => String::from_utf8_lossy(&t).into_owned(),
                };
                let text = text.trim().to_string();
                if text.is_empty() {
                    continue;
                }
                let Some((e, parts, _)) = cur.as_mut() else {
                    continue;
                };
                let n = path.len();
                let tag = path.last().map(String::as_str).unwrap_or("");
                let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
                match (parent, tag) {
                    (_, "FIRST_NAME") => parts[0] = text,
                    (_, "SECOND_NAME") => parts[1] = text,
                    (_, "THIRD_NAME") => parts[2] = text,
                    (_, "FOURTH_NAME") => parts[3] = text,
                    (_, "REFERENCE_NUMBER") => e.id = text,
                    // Dates of birth: an exact year or date, or a FROM_YEAR..TO_YEAR range
                    // (TYPE_OF_DATE BETWEEN); "APPROXIMATELY" widens the year by two.
                    ("INDIVIDUAL_DATE_OF_BIRTH", "TYPE_OF_DATE") => dob_type = text,
                    ("INDIVIDUAL_DATE_OF_BIRTH", "YEAR" | "DATE" | "FROM_YEAR" | "TO_YEAR") => {
                        if let Some(y) = crate::model::birth_year(&text) {
                            let approx = u16::from(dob_type.starts_with("APPROX")) * 2;
                            match tag {
                                "FROM_YEAR" => dob_from = Some(y),
                                "TO_YEAR" => e.add_birth_years(dob_from.take().unwrap_or(y), y),
                                _ => e.add_birth_years(y.saturating_sub(approx), y + approx),
                            }
                        }
                    }
                    (_, "DATAID") if e.id.is_empty() => e.id = text,
                    (_, "UN_LIST_TYPE") => e.programs.push(format!("UN {text}")),
                    (_, "NAME_ORIGINAL_SCRIPT") => e.aliases.push(text),
                    (_, "ALIAS_NAME") => e.aliases.push(text),
                    ("NATIONALITY", "VALUE") => e.add_country(to_iso2(&text)),
                    (_, "COMMENTS1") => e.remarks = text,
                    (p, "COUNTRY") if p.ends_with("_ADDRESS") => {
                        addr.country = to_iso2(&text);
                        push_part(&mut addr.text, &text);
                    }
                    (p, "STREET" | "CITY" | "STATE_PROVINCE" | "ZIP_CODE")
                        if p.ends_with("_ADDRESS") =>
                    {
                        push_part(&mut addr.text, &text)
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(WatchList {
        meta,
        entries,
        issues,
    })
}

fn push_part(buf: &mut String, part: &str) {
    if !buf.is_empty() {
        buf.push_str(", ");
    }
    buf.push_str(part);
}

fn header_index(header: &csv::StringRecord) -> HashMap<String, usize> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().trim_matches('"').to_ascii_lowercase(), i))
        .collect()
}

fn require(
    idx: &HashMap<String, usize>,
    src: &Source,
    col: &str,
    header: &csv::StringRecord,
) -> Result<usize> {
    idx.get(col)
        .copied()
        .ok_or_else(|| ScreeningError::MissingColumn {
            path: src.name.clone(),
            column: col.to_string(),
            header: header.iter().collect::<Vec<_>>().join(","),
        })
}

fn get(r: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    let v = r.get(i?)?.trim();
    (!v.is_empty() && v != "-0-").then_some(v)
}

/// Loads the BIS Denied Persons List (tab-separated, quoted, with a header row).
pub fn load_bis_dpl(meta: ListMeta, src: &Source) -> Result<WatchList> {
    let mut issues = Vec::new();
    let (header, recs) = csv_records(src, b'\t', true, &mut issues);
    let header = header.unwrap_or_default();
    let idx = header_index(&header);
    let name_i = require(&idx, src, "name", &header)?;
    let mut entries = Vec::new();
    for (line, r) in recs {
        if r.len() != header.len() {
            issues.push(issue(
                src,
                line,
                format!("expected {} fields, found {}", header.len(), r.len()),
            ));
            continue;
        }
        let Some(name) = get(&r, Some(name_i)) else {
            issues.push(issue(src, line, "row without a name"));
            continue;
        };
        let mut e = Entry::new(&meta.key, format!("row{line}"), Schema::Unknown, name);
        let parts: Vec<&str> = ["street_address", "city", "state", "postal_code", "country"]
            .iter()
            .filter_map(|c| get(&r, idx.get(*c).copied()))
            .collect();
        let country = get(&r, idx.get("country").copied()).and_then(to_iso2);
        e.add_country(country.clone());
        if !parts.is_empty() {
            e.addresses.push(Address {
                text: parts.join(", "),
                country,
            });
        }
        e.programs.push("BIS Denied Persons".to_string());
        if let Some(fr) = get(&r, idx.get("fr_citation").copied()) {
            e.remarks = fr.to_string();
        }
        entries.push(e);
    }
    Ok(WatchList {
        meta,
        entries,
        issues,
    })
}

/// Loads the trade.gov Consolidated Screening List CSV layout.
pub fn load_csl(meta: ListMeta, src: &Source) -> Result<WatchList> {
    let mut issues = Vec::new();
    let (header, recs) = csv_records(src, b',', true, &mut issues);
    let header = header.unwrap_or_default();
    let idx = header_index(&header);
    let name_i = require(&idx, src, "name", &header)?;
    let g = |c: &str| idx.get(c).copied();
    let mut entries = Vec::new();
    for (line, r) in recs {
        if r.len() != header.len() {
            issues.push(issue(
                src,
                line,
                format!("expected {} fields, found {}", header.len(), r.len()),
            ));
            continue;
        }
        let Some(name) = get(&r, Some(name_i)) else {
            issues.push(issue(src, line, "row without a name"));
            continue;
        };
        let schema = get(&r, g("type"))
            .map(Schema::parse)
            .unwrap_or(Schema::Unknown);
        let id = get(&r, g("entity_number"))
            .map(String::from)
            .unwrap_or_else(|| format!("row{line}"));
        let mut e = Entry::new(&meta.key, id, schema, name);
        if let Some(a) = get(&r, g("alt_names")) {
            e.aliases = a
                .split(';')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(s) = get(&r, g("source")) {
            e.programs.push(s.to_string());
        }
        if let Some(p) = get(&r, g("programs")) {
            e.programs.extend(
                p.split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        if let Some(a) = get(&r, g("addresses")) {
            for part in a.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let country = part.rsplit(',').next().and_then(to_iso2);
                e.add_country(country.clone());
                e.addresses.push(Address {
                    text: part.to_string(),
                    country,
                });
            }
        }
        for c in ["citizenships", "nationalities", "vessel_flag"] {
            if let Some(v) = get(&r, g(c)) {
                for p in v.split(';') {
                    e.add_country(to_iso2(p));
                }
            }
        }
        if let Some(rem) = get(&r, g("remarks")) {
            e.remarks = rem.to_string();
        }
        entries.push(e);
    }
    Ok(WatchList {
        meta,
        entries,
        issues,
    })
}

/// Loads Borderline's simple CSV: header row with at least `name`; optional `id`, `schema`
/// (company/person/vessel/aircraft), `aliases` (separated by `;`), `country` (name or ISO code,
/// `;`-separated), `address`, `programs` (`;`-separated), `remarks`, `linked_to` (`;`-separated).
/// This is the format for lists published only as web pages, such as the UFLPA Entity List.
pub fn load_simple_csv(meta: ListMeta, src: &Source) -> Result<WatchList> {
    let mut issues = Vec::new();
    let (header, recs) = csv_records(src, b',', true, &mut issues);
    let header = header.unwrap_or_default();
    let idx = header_index(&header);
    let name_i = require(&idx, src, "name", &header)?;
    let g = |c: &str| idx.get(c).copied();
    let split = |s: Option<&str>| -> Vec<String> {
        s.map(|s| {
            s.split(';')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
    };
    let mut entries = Vec::new();
    for (line, r) in recs {
        if r.len() != header.len() {
            issues.push(issue(
                src,
                line,
                format!("expected {} fields, found {}", header.len(), r.len()),
            ));
            continue;
        }
        let Some(name) = get(&r, Some(name_i)) else {
            issues.push(issue(src, line, "row without a name"));
            continue;
        };
        let schema = match get(&r, g("schema")) {
            None => Schema::Company,
            Some(s) => match s.parse::<Schema>() {
                Ok(s) => s,
                Err(msg) => {
                    issues.push(issue(src, line, msg));
                    continue;
                }
            },
        };
        let id = get(&r, g("id"))
            .map(String::from)
            .unwrap_or_else(|| format!("row{line}"));
        let mut e = Entry::new(&meta.key, id, schema, name);
        e.aliases = split(get(&r, g("aliases")));
        e.programs = split(get(&r, g("programs")));
        e.linked_to = split(get(&r, g("linked_to")));
        let countries = split(get(&r, g("country")));
        for c in &countries {
            match to_iso2(c) {
                Some(cc) => e.add_country(Some(cc)),
                None => issues.push(issue(
                    src,
                    line,
                    format!("unrecognised country {c:?} ignored"),
                )),
            }
        }
        if let Some(a) = get(&r, g("address")) {
            e.addresses.push(Address {
                text: a.to_string(),
                country: e.countries.first().cloned(),
            });
        }
        if let Some(rem) = get(&r, g("remarks")) {
            e.remarks = rem.to_string();
        }
        entries.push(e);
    }
    Ok(WatchList {
        meta,
        entries,
        issues,
    })
}
