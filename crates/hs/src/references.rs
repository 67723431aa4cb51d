//! HMRC reference data bundled with the crate (UK Online Trade Tariff, FPO search, MIT licence):
//! curated search terms and parcel-style goods descriptions labelled with UK commodity codes,
//! and descriptions HMRC judged too vague to classify.
//!
//! Every row is assigned to one part by a hash of its folded text, so the split is fixed and
//! does not depend on file order:
//! * [`Part::Index`] (70%): labelled rows become evidence in the subheading and heading
//!   documents; vague rows train the vagueness detector;
//! * [`Part::Dev`] (10%): used to choose weights and to fit the temperatures;
//! * [`Part::HeldAside`] (20%): never used to build, tune or fit anything; reported separately.

use crate::error::HsError;
use crate::nomenclature::gunzip_text;
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::OnceLock;

const REFERENCES_GZ: &[u8] = include_bytes!("../../../data/hs/hmrc-references.tsv.gz");
const VAGUE_GZ: &[u8] = include_bytes!("../../../data/hs/hmrc-vague.tsv.gz");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Index,
    Dev,
    HeldAside,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefSource {
    /// Curated tariff search term ("webcams").
    SearchTerm,
    /// Parcel-style free text ("4xquiltedpillows").
    ParcelDescription,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub source: RefSource,
    pub description: String,
    /// UK commodity code digits (8 or 10).
    pub code: String,
    pub part: Part,
}

impl Reference {
    pub fn hs6(&self) -> &str {
        &self.code[..6]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VagueExample {
    pub description: String,
    pub part: Part,
}

/// FNV-1a 64 of the folded, trimmed text: a fixed hash (std's hasher is randomised per process).
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The part a text belongs to (0-1 of 10 held aside, 2 dev, 3-9 index).
pub fn part_of(description: &str) -> Part {
    match fnv1a(text::fold(description).trim()) % 10 {
        0 | 1 => Part::HeldAside,
        2 => Part::Dev,
        _ => Part::Index,
    }
}

pub struct References {
    pub labelled: Vec<Reference>,
    pub vague: Vec<VagueExample>,
}

impl References {
    /// The bundled HMRC data, parsed once per process.
    pub fn bundled() -> &'static References {
        static R: OnceLock<References> = OnceLock::new();
        R.get_or_init(|| {
            References::from_gz(REFERENCES_GZ, VAGUE_GZ)
                .expect("bundled HMRC references must parse (tested)")
        })
    }

    pub fn from_gz(refs_gz: &[u8], vague_gz: &[u8]) -> Result<References, HsError> {
        Self::from_tsv(&gunzip_text(refs_gz)?, &gunzip_text(vague_gz)?)
    }

    /// Parses the TSV texts. Duplicate descriptions (after folding) keep their first row, so
    /// one text cannot sit in two parts or vote twice.
    pub fn from_tsv(refs: &str, vague: &str) -> Result<References, HsError> {
        let mut seen = HashSet::new();
        let mut labelled = Vec::new();
        for (i, row) in refs.lines().enumerate().skip(1) {
            let f: Vec<&str> = row.split('\t').collect();
            let err = |m: String| {
                HsError::Nomenclature(format!("hmrc-references.tsv line {}: {m}", i + 1))
            };
            if f.len() != 3 {
                return Err(err("expected 3 fields".into()));
            }
            let source = match f[0] {
                "search_term" => RefSource::SearchTerm,
                "parcel_description" => RefSource::ParcelDescription,
                other => return Err(err(format!("source {other:?}"))),
            };
            let mut code: String = f[2].chars().filter(char::is_ascii_digit).collect();
            // Codes read as numbers upstream lost a leading zero (7 or 9 digits).
            if code.len() % 2 == 1 {
                code.insert(0, '0');
            }
            if code.len() < 6 || f[1].trim().is_empty() {
                return Err(err(format!("code {:?} / description {:?}", f[2], f[1])));
            }
            let key = text::fold(f[1]).trim().to_string();
            if !seen.insert(key) {
                continue;
            }
            labelled.push(Reference {
                source,
                description: f[1].to_string(),
                code,
                part: part_of(f[1]),
            });
        }
        let mut vague_rows = Vec::new();
        let mut seen = HashSet::new();
        for row in vague.lines().skip(1) {
            if row.trim().is_empty() || !seen.insert(text::fold(row).trim().to_string()) {
                continue;
            }
            vague_rows.push(VagueExample {
                description: row.to_string(),
                part: part_of(row),
            });
        }
        Ok(References {
            labelled,
            vague: vague_rows,
        })
    }

    pub fn labelled_in(&self, part: Part) -> impl Iterator<Item = &Reference> + '_ {
        self.labelled.iter().filter(move |r| r.part == part)
    }

    pub fn vague_in(&self, part: Part) -> impl Iterator<Item = &VagueExample> + '_ {
        self.vague.iter().filter(move |r| r.part == part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_references_split_into_fixed_parts() {
        let r = References::bundled();
        assert!(r.labelled.len() > 6_000, "{}", r.labelled.len());
        assert!(r.vague.len() > 4_000);
        let held = r.labelled_in(Part::HeldAside).count() as f64 / r.labelled.len() as f64;
        assert!((0.15..0.25).contains(&held), "{held}");
        // The split is a function of the text only.
        assert_eq!(part_of("webcams"), part_of(" WEBCAMS "));
        assert!(r.labelled.iter().all(|x| x.code.len() >= 8));
    }
}
