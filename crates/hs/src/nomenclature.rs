//! The HS 2022 nomenclature (sections, chapters, headings, subheadings) and declared-code
//! validation.
//!
//! The nomenclature ships inside the binary: `data/hs/*.csv.gz` are byte-for-byte gzip copies of
//! the public-domain Frictionless "harmonized-system" dataset (see `data/hs/README.md`).

use crate::error::HsError;
use borderline_core::{Reason, ReasonKind};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

const HS_CSV_GZ: &[u8] = include_bytes!("../../../data/hs/harmonized-system.csv.gz");
const SECTIONS_CSV_GZ: &[u8] = include_bytes!("../../../data/hs/sections.csv.gz");
const OTHER_EDITIONS: &str = include_str!("../../../data/hs/other-editions.txt");

/// The edition of the bundled nomenclature.
pub const EDITION: &str = "HS 2022";

/// Level of a node in the HS hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Section,
    Chapter,
    Heading,
    Subheading,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Section => "section",
            Level::Chapter => "chapter",
            Level::Heading => "heading",
            Level::Subheading => "subheading",
        }
    }
}

/// One HS code with its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// "03", "0306" or "030617".
    pub code: String,
    pub description: String,
    pub level: Level,
    /// Roman numeral of the section ("I".."XXI").
    pub section: String,
}

/// One step of a nomenclature path (section > chapter > heading > subheading).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    pub level: Level,
    pub code: String,
    pub text: String,
}

/// The HS nomenclature: 21 sections, 96 chapters, 1,228 headings, 5,612 subheadings
/// (the Comtrade pseudo-codes 99/9999/999999 are left out).
#[derive(Debug, Clone)]
pub struct Nomenclature {
    sections: Vec<(String, String)>,
    nodes: Vec<Node>,
    by_code: HashMap<String, usize>,
    /// Indices into `nodes` of all subheadings, in code order.
    subheadings: Vec<usize>,
    /// Indices into `nodes` of all headings, in code order.
    headings: Vec<usize>,
    /// Old-edition HS6 → (edition, HS 2022 successors).
    other_editions: HashMap<String, (String, Vec<String>)>,
}

#[derive(Deserialize)]
struct HsRow {
    section: String,
    hscode: String,
    description: String,
    #[allow(dead_code)]
    parent: String,
    level: String,
}

impl Nomenclature {
    /// The bundled HS 2022 nomenclature, decompressed and parsed once per process.
    pub fn bundled() -> &'static Nomenclature {
        static NOM: OnceLock<Nomenclature> = OnceLock::new();
        NOM.get_or_init(|| {
            // The bundled files are part of the binary and covered by tests: failing to parse
            // them is a build defect, not a user-data error.
            Nomenclature::from_gz(HS_CSV_GZ, SECTIONS_CSV_GZ, OTHER_EDITIONS)
                .expect("bundled HS nomenclature must parse (covered by tests)")
        })
    }

    /// Parses gzip-compressed `harmonized-system.csv` and `sections.csv` plus an
    /// other-editions table (see `data/hs/other-editions.txt` for the format).
    pub fn from_gz(
        hs_gz: &[u8],
        sections_gz: &[u8],
        other_editions: &str,
    ) -> Result<Self, HsError> {
        let hs = gunzip(hs_gz)?;
        let sections = gunzip(sections_gz)?;
        Self::from_csv(&hs, &sections, other_editions)
    }

    /// Parses the plain CSV texts.
    pub fn from_csv(
        hs_csv: &str,
        sections_csv: &str,
        other_editions: &str,
    ) -> Result<Self, HsError> {
        let sections_csv = sections_csv.trim_start_matches('\u{feff}');
        let mut sections = Vec::new();
        let mut rdr = csv::Reader::from_reader(sections_csv.as_bytes());
        for rec in rdr.records() {
            let rec = rec?;
            let id = rec.get(0).unwrap_or_default().trim().to_string();
            let name = rec.get(1).unwrap_or_default().trim().to_string();
            if id.is_empty() {
                return Err(HsError::Nomenclature("empty section id".into()));
            }
            sections.push((id, name));
        }
        let mut nodes = Vec::new();
        let mut rdr = csv::Reader::from_reader(hs_csv.as_bytes());
        for row in rdr.deserialize::<HsRow>() {
            let row = row?;
            let level = match row.level.trim() {
                "2" => Level::Chapter,
                "4" => Level::Heading,
                "6" => Level::Subheading,
                _ => continue, // the TOTAL pseudo-row
            };
            if row.section == "TOTAL" || row.hscode.starts_with("99") {
                continue; // Comtrade pseudo-codes, not HS
            }
            let want = match level {
                Level::Chapter => 2,
                Level::Heading => 4,
                _ => 6,
            };
            if row.hscode.len() != want || !row.hscode.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HsError::Nomenclature(format!(
                    "code {:?} does not match its level {}",
                    row.hscode, row.level
                )));
            }
            nodes.push(Node {
                code: row.hscode,
                description: row.description.trim().to_string(),
                level,
                section: row.section,
            });
        }
        nodes.sort_by(|a, b| a.code.cmp(&b.code));
        let mut by_code = HashMap::with_capacity(nodes.len());
        let mut subheadings = Vec::new();
        let mut headings = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            if by_code.insert(n.code.clone(), i).is_some() {
                return Err(HsError::Nomenclature(format!("duplicate code {}", n.code)));
            }
            match n.level {
                Level::Subheading => subheadings.push(i),
                Level::Heading => headings.push(i),
                _ => {}
            }
        }
        // Every subheading and heading must have its parents.
        for n in &nodes {
            if n.level == Level::Subheading && !by_code.contains_key(&n.code[..4]) {
                return Err(HsError::Nomenclature(format!("{} has no heading", n.code)));
            }
            if n.level != Level::Chapter && !by_code.contains_key(&n.code[..2]) {
                return Err(HsError::Nomenclature(format!("{} has no chapter", n.code)));
            }
        }
        let mut other = HashMap::new();
        for (lineno, line) in other_editions.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(old), Some(edition)) = (parts.next(), parts.next()) else {
                return Err(HsError::Nomenclature(format!(
                    "other-editions line {}: expected CODE EDITION SUCCESSOR...",
                    lineno + 1
                )));
            };
            let successors: Vec<String> = parts.map(str::to_string).collect();
            for s in &successors {
                if !by_code.contains_key(s) {
                    return Err(HsError::Nomenclature(format!(
                        "other-editions line {}: successor {s} is not an HS 2022 code",
                        lineno + 1
                    )));
                }
            }
            other.insert(old.to_string(), (edition.to_string(), successors));
        }
        Ok(Nomenclature {
            sections,
            nodes,
            by_code,
            subheadings,
            headings,
            other_editions: other,
        })
    }

    pub fn get(&self, code: &str) -> Option<&Node> {
        self.by_code.get(code).map(|&i| &self.nodes[i])
    }

    /// All subheadings (HS6), in code order.
    pub fn subheadings(&self) -> impl Iterator<Item = &Node> + '_ {
        self.subheadings.iter().map(|&i| &self.nodes[i])
    }

    /// All headings (HS4), in code order.
    pub fn headings(&self) -> impl Iterator<Item = &Node> + '_ {
        self.headings.iter().map(|&i| &self.nodes[i])
    }

    /// All chapters (HS2), in code order.
    pub fn chapters(&self) -> impl Iterator<Item = &Node> + '_ {
        self.nodes.iter().filter(|n| n.level == Level::Chapter)
    }

    pub fn section_name(&self, roman: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(id, _)| id == roman)
            .map(|(_, n)| n.as_str())
    }

    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// Path from the section down to `code` (any of chapter, heading or subheading).
    /// Empty when the code is unknown.
    pub fn path(&self, code: &str) -> Vec<PathStep> {
        let Some(node) = self.get(code) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(4);
        if let Some(name) = self.section_name(&node.section) {
            out.push(PathStep {
                level: Level::Section,
                code: node.section.clone(),
                text: name.to_string(),
            });
        }
        for len in [2usize, 4, 6] {
            if len > code.len() {
                break;
            }
            if let Some(n) = self.get(&code[..len]) {
                out.push(PathStep {
                    level: n.level,
                    code: n.code.clone(),
                    text: n.description.clone(),
                });
            }
        }
        out
    }

    /// Path rendered as one line: "XI Textiles ... > 61 Apparel ... > 6109 T-shirts ... > 610910 ...".
    pub fn path_string(&self, code: &str) -> String {
        self.path(code)
            .iter()
            .map(|s| format!("{} {}", s.code, s.text))
            .collect::<Vec<_>>()
            .join(" > ")
    }

    /// Validates a declared code (2 to 10 digits; dots and spaces ignored) against HS 2022.
    pub fn validate(&self, raw: &str) -> CodeStatus {
        let mut digits = String::with_capacity(raw.len());
        for c in raw.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                '.' | ' ' | '-' => {}
                _ => {
                    return CodeStatus::Malformed {
                        raw: raw.to_string(),
                        why: format!("contains {c:?}; HS codes are digits only"),
                    }
                }
            }
        }
        match digits.len() {
            0 => CodeStatus::Malformed { raw: raw.to_string(), why: "empty code".into() },
            2 | 4 => {
                if self.get(&digits).is_some() {
                    let level = if digits.len() == 2 { Level::Chapter } else { Level::Heading };
                    CodeStatus::Incomplete { code: digits, level }
                } else {
                    CodeStatus::Unknown { why: self.unknown_why(&digits), code: digits }
                }
            }
            6..=10 => {
                let hs6 = &digits[..6];
                if self.get(hs6).is_some() {
                    let national = (digits.len() > 6).then(|| digits[6..].to_string());
                    CodeStatus::Valid { hs6: hs6.to_string(), national_suffix: national }
                } else if let Some((edition, successors)) = self.other_editions.get(hs6) {
                    CodeStatus::OtherEdition {
                        code: hs6.to_string(),
                        edition: edition.clone(),
                        successors: successors.clone(),
                    }
                } else {
                    CodeStatus::Unknown { why: self.unknown_why(hs6), code: digits }
                }
            }
            n => CodeStatus::Malformed {
                raw: raw.to_string(),
                why: format!("{n} digits; HS codes have 2, 4 or 6 digits (up to 10 with national subdivisions)"),
            },
        }
    }

    fn unknown_why(&self, code: &str) -> String {
        if self.get(&code[..2]).is_none() {
            format!("chapter {} does not exist in {EDITION}", &code[..2])
        } else if code.len() >= 4 && self.get(&code[..4]).is_none() {
            format!("heading {} does not exist in {EDITION}", &code[..4])
        } else {
            format!(
                "subheading {} does not exist in {EDITION}",
                &code[..code.len().min(6)]
            )
        }
    }
}

/// Result of validating a declared HS code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CodeStatus {
    /// The HS6 exists in HS 2022; digits past six are a national subdivision we cannot check.
    Valid {
        hs6: String,
        national_suffix: Option<String>,
    },
    /// A chapter- or heading-only code: it exists but is not specific enough to declare.
    Incomplete { code: String, level: Level },
    /// The code belongs to another HS edition; `successors` are the HS 2022 codes that took over.
    OtherEdition {
        code: String,
        edition: String,
        successors: Vec<String>,
    },
    /// No such code in HS 2022.
    Unknown { code: String, why: String },
    /// Not an HS code at all (letters, wrong length).
    Malformed { raw: String, why: String },
}

impl CodeStatus {
    pub fn is_valid(&self) -> bool {
        matches!(self, CodeStatus::Valid { .. })
    }

    /// The data-quality reason for an invalid code; `None` for a valid one.
    pub fn reason(&self) -> Option<Reason> {
        let (code, text) = match self {
            CodeStatus::Valid { .. } => return None,
            CodeStatus::Incomplete { code, level } => (
                "hs.incomplete_code",
                format!(
                    "declared HS code {code} is a {}-only code, not a 6-digit subheading",
                    level.name()
                ),
            ),
            CodeStatus::OtherEdition {
                code,
                edition,
                successors,
            } => (
                "hs.other_edition",
                format!(
                    "declared HS code {code} is from {edition}, not {EDITION}; it is now {}",
                    successors.join(" / ")
                ),
            ),
            CodeStatus::Unknown { code, why } => (
                "hs.unknown_code",
                format!("declared HS code {code} is unknown: {why}"),
            ),
            CodeStatus::Malformed { raw, why } => (
                "hs.malformed_code",
                format!("declared HS code {raw:?} is malformed: {why}"),
            ),
        };
        Some(Reason {
            kind: ReasonKind::DataQuality,
            code: code.to_string(),
            text,
            contribution: None,
        })
    }
}

impl std::fmt::Display for CodeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeStatus::Valid {
                hs6,
                national_suffix: None,
            } => write!(f, "valid {EDITION} subheading {hs6}"),
            CodeStatus::Valid {
                hs6,
                national_suffix: Some(s),
            } => write!(
                f,
                "valid {EDITION} subheading {hs6} (national subdivision {s} not checked)"
            ),
            other => match other.reason() {
                Some(r) => f.write_str(&r.text),
                None => Ok(()),
            },
        }
    }
}

fn gunzip(bytes: &[u8]) -> Result<String, HsError> {
    let mut s = String::new();
    GzDecoder::new(bytes).read_to_string(&mut s)?;
    Ok(s)
}

/// Decompresses gzip bytes into text (used for model files too).
pub(crate) fn gunzip_text(bytes: &[u8]) -> Result<String, HsError> {
    gunzip(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_counts_match_source() {
        let n = Nomenclature::bundled();
        assert_eq!(n.subheadings().count(), 5612);
        assert_eq!(n.headings().count(), 1228);
        assert_eq!(n.chapters().count(), 96);
        assert_eq!(n.section_count(), 21);
        assert!(n.get("77").is_none(), "chapter 77 is reserved");
        assert!(n.get("999999").is_none(), "pseudo-codes are excluded");
    }

    #[test]
    fn path_goes_section_to_subheading() {
        let n = Nomenclature::bundled();
        let p = n.path("610910");
        let codes: Vec<&str> = p.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["XI", "61", "6109", "610910"]);
        assert!(p[3].text.to_lowercase().contains("cotton"));
        assert!(n.path("123456").is_empty());
    }

    #[test]
    fn validation_distinguishes_cases() {
        let n = Nomenclature::bundled();
        assert_eq!(
            n.validate("0306.17"),
            CodeStatus::Valid {
                hs6: "030617".into(),
                national_suffix: None
            }
        );
        assert!(matches!(
            n.validate("8471.30.0100"),
            CodeStatus::Valid { ref hs6, national_suffix: Some(ref s) } if hs6 == "847130" && s == "0100"
        ));
        assert!(matches!(
            n.validate("61"),
            CodeStatus::Incomplete {
                level: Level::Chapter,
                ..
            }
        ));
        assert!(matches!(
            n.validate("6109"),
            CodeStatus::Incomplete {
                level: Level::Heading,
                ..
            }
        ));
        match n.validate("851712") {
            CodeStatus::OtherEdition {
                successors,
                edition,
                ..
            } => {
                assert_eq!(edition, "HS2017");
                assert!(successors.contains(&"851713".to_string()));
            }
            other => panic!("expected other edition, got {other:?}"),
        }
        assert!(
            matches!(n.validate("770100"), CodeStatus::Unknown { ref why, .. } if why.contains("chapter 77"))
        );
        assert!(
            matches!(n.validate("610950"), CodeStatus::Unknown { ref why, .. } if why.contains("subheading"))
        );
        assert!(matches!(n.validate("0199"), CodeStatus::Unknown { .. }));
        assert!(matches!(n.validate("84A1"), CodeStatus::Malformed { .. }));
        assert!(matches!(n.validate("123"), CodeStatus::Malformed { .. }));
        assert!(matches!(n.validate(""), CodeStatus::Malformed { .. }));
    }

    #[test]
    fn invalid_codes_give_data_quality_reasons() {
        let n = Nomenclature::bundled();
        assert!(n.validate("030617").reason().is_none());
        for (code, reason_code) in [
            ("6109", "hs.incomplete_code"),
            ("940540", "hs.other_edition"),
            ("999999", "hs.unknown_code"),
            ("x", "hs.malformed_code"),
        ] {
            let r = n
                .validate(code)
                .reason()
                .expect("invalid code must give a reason");
            assert_eq!(r.kind, ReasonKind::DataQuality);
            assert_eq!(r.code, reason_code, "{code}");
        }
    }

    #[test]
    fn bad_tables_are_errors_not_panics() {
        assert!(Nomenclature::from_gz(b"not gzip", b"", "").is_err());
        let hs = "section,hscode,description,parent,level\nI,0101,Horses,01,4\n";
        assert!(
            Nomenclature::from_csv(hs, "section,name\nI,Animals\n", "").is_err(),
            "heading without chapter"
        );
        let hs = "section,hscode,description,parent,level\nI,01,Animals,TOTAL,2\n";
        assert!(
            Nomenclature::from_csv(hs, "section,name\nI,Animals\n", "010100 HS2017 999999")
                .is_err()
        );
    }
}
