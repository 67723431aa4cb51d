//! National tariff schedules bundled with the crate: the US HTSUS 2026 (rev. 4; 8- and 10-digit
//! lines with their full ancestor path, unit of quantity and column-1 general duty rate) and the
//! EU Combined Nomenclature 2026 (8-digit codes with their path and supplementary unit).
//!
//! Two uses: (1) the national lines' texts are evidence for their HS6 subheading (the six-digit
//! Comtrade titles are terse; a subheading's national lines name the goods it covers), and (2)
//! national code suggestions and validation: which 10-digit US or 8-digit EU lines under a
//! suggested HS6 fit the description, with the duty rate and unit printed in the schedule.
//!
//! Sources and derivation: `data/hs/README.md` and `data/hs/derive_tariffs.py`.

use crate::error::HsError;
use crate::index::FastMap;
use crate::nomenclature::gunzip_text;
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const US_GZ: &[u8] = include_bytes!("../../../data/hs/us-htsus-2026.tsv.gz");
const EU_GZ: &[u8] = include_bytes!("../../../data/hs/eu-cn-2026.tsv.gz");

/// Which national schedule a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// US Harmonized Tariff Schedule 2026 rev. 4 (10-digit statistical reporting numbers).
    UsHtsus,
    /// EU Combined Nomenclature 2026 (8-digit).
    EuCn,
}

impl Schedule {
    pub fn name(self) -> &'static str {
        match self {
            Schedule::UsHtsus => "US HTSUS 2026",
            Schedule::EuCn => "EU CN 2026",
        }
    }
    /// Digits of a complete (leaf) code in this schedule.
    pub fn leaf_digits(self) -> usize {
        match self {
            Schedule::UsHtsus => 10,
            Schedule::EuCn => 8,
        }
    }
}

/// One numbered line of a national schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalLine {
    pub schedule: Schedule,
    /// Digits only ("0101210010", "01012100").
    pub code: String,
    /// Full text path, ancestors joined with " > " (heading first).
    pub path: String,
    /// Unit of quantity (US) or supplementary unit (EU); empty when none is printed.
    pub unit: String,
    /// US column-1 general rate as printed ("Free", "6.8%", "93¢ each + 4.8% ..."); `None` for
    /// EU lines (the bundled CN source carries no duty rates) and for US lines without a rate.
    pub duty_rate: Option<String>,
    /// True when no longer line of the same schedule starts with this code (a complete code).
    pub leaf: bool,
}

impl NationalLine {
    pub fn hs6(&self) -> &str {
        &self.code[..6]
    }
    /// The line's own text (last path step).
    pub fn own_text(&self) -> &str {
        self.path.rsplit(" > ").next().unwrap_or(&self.path)
    }
}

/// Validation status of a national code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NationalStatus {
    /// A complete code of the schedule.
    Valid { code: String },
    /// A numbered line of the schedule that has sub-lines (declare one of them).
    NotLeaf { code: String, children: usize },
    /// Not in the schedule.
    Unknown { code: String },
    /// Not a string of the schedule's digit count (after removing dots and spaces).
    Malformed { raw: String },
}

/// The bundled US and EU schedules.
#[derive(Debug, Clone)]
pub struct Schedules {
    lines: Vec<NationalLine>,
    by_code: FastMap<(Schedule, String), usize>,
    /// HS6 → indices of its lines (both schedules), in code order.
    by_hs6: BTreeMap<String, Vec<u32>>,
    /// Stemmed tokens of each line's path below the heading (for ranking within an HS6).
    tokens: Vec<Vec<String>>,
    /// IDF of those tokens over all leaf lines.
    idf: FastMap<String, f32>,
}

fn parse_err(file: &str, line: usize, message: impl Into<String>) -> HsError {
    HsError::Nomenclature(format!("{file} line {line}: {}", message.into()))
}

impl Schedules {
    /// The bundled schedules, parsed once per process.
    pub fn bundled() -> &'static Schedules {
        static S: OnceLock<Schedules> = OnceLock::new();
        S.get_or_init(|| {
            // Bundled files are part of the binary and covered by tests.
            Schedules::from_gz(US_GZ, EU_GZ).expect("bundled tariff schedules must parse (tested)")
        })
    }

    /// Parses the gzip-compressed TSV files written by `data/hs/derive_tariffs.py`.
    pub fn from_gz(us_gz: &[u8], eu_gz: &[u8]) -> Result<Schedules, HsError> {
        let us = gunzip_text(us_gz)?;
        let eu = gunzip_text(eu_gz)?;
        Self::from_tsv(&us, &eu)
    }

    /// Parses the plain TSV texts (header line first).
    pub fn from_tsv(us: &str, eu: &str) -> Result<Schedules, HsError> {
        let mut lines = Vec::new();
        for (i, row) in us.lines().enumerate().skip(1) {
            let f: Vec<&str> = row.split('\t').collect();
            if f.len() != 5 {
                return Err(parse_err("us-htsus-2026.tsv", i + 1, "expected 5 fields"));
            }
            let code: String = f[0].chars().filter(char::is_ascii_digit).collect();
            if !matches!(code.len(), 8 | 10) {
                // 4- and 6-digit rows repeat the HS text; national lines start at 8 digits.
                if !matches!(code.len(), 4 | 6) {
                    return Err(parse_err(
                        "us-htsus-2026.tsv",
                        i + 1,
                        format!("hts_code {:?}", f[0]),
                    ));
                }
                continue;
            }
            lines.push(NationalLine {
                schedule: Schedule::UsHtsus,
                code,
                path: f[2].to_string(),
                unit: f[3].to_string(),
                duty_rate: Some(f[4].to_string()).filter(|r| !r.is_empty()),
                leaf: false,
            });
        }
        for (i, row) in eu.lines().enumerate().skip(1) {
            let f: Vec<&str> = row.split('\t').collect();
            if f.len() != 3 {
                return Err(parse_err("eu-cn-2026.tsv", i + 1, "expected 3 fields"));
            }
            if f[0].len() != 8 || !f[0].chars().all(|c| c.is_ascii_digit()) {
                return Err(parse_err(
                    "eu-cn-2026.tsv",
                    i + 1,
                    format!("cn8 {:?}", f[0]),
                ));
            }
            lines.push(NationalLine {
                schedule: Schedule::EuCn,
                code: f[0].to_string(),
                path: f[1].to_string(),
                unit: f[2].to_string(),
                duty_rate: None,
                leaf: true,
            });
        }
        lines.sort_by(|a, b| (a.schedule, &a.code).cmp(&(b.schedule, &b.code)));
        // A US line is a leaf when the next line (code order) does not extend it.
        for i in 0..lines.len() {
            if lines[i].schedule != Schedule::UsHtsus {
                continue;
            }
            let extended = lines.get(i + 1).is_some_and(|n| {
                n.schedule == Schedule::UsHtsus
                    && n.code.len() > lines[i].code.len()
                    && n.code.starts_with(&lines[i].code)
            });
            lines[i].leaf = !extended;
        }
        let mut by_code = FastMap::default();
        let mut by_hs6: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut tokens = Vec::with_capacity(lines.len());
        let mut df: FastMap<String, f32> = FastMap::default();
        let mut n_leaves = 0f32;
        for (i, l) in lines.iter().enumerate() {
            by_code.insert((l.schedule, l.code.clone()), i);
            by_hs6
                .entry(l.hs6().to_string())
                .or_default()
                .push(i as u32);
            let below_heading = l.path.split_once(" > ").map_or("", |x| x.1);
            let mut t = text::tokens(below_heading, true);
            t.sort_unstable();
            t.dedup();
            if l.leaf {
                n_leaves += 1.0;
                for w in &t {
                    *df.entry(w.clone()).or_default() += 1.0;
                }
            }
            tokens.push(t);
        }
        let idf = df
            .into_iter()
            .map(|(t, d)| (t, ((n_leaves - d + 0.5) / (d + 0.5) + 1.0).ln()))
            .collect();
        Ok(Schedules {
            lines,
            by_code,
            by_hs6,
            tokens,
            idf,
        })
    }

    pub fn lines(&self) -> &[NationalLine] {
        &self.lines
    }

    /// All lines (both schedules, leaves and their parents) under an HS6 subheading.
    pub fn lines_for_hs6<'a>(&'a self, hs6: &str) -> impl Iterator<Item = &'a NationalLine> + 'a {
        self.by_hs6
            .get(hs6)
            .into_iter()
            .flatten()
            .map(|&i| &self.lines[i as usize])
    }

    /// HS6 codes that have national lines, in code order.
    pub fn hs6_codes(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_hs6.keys().map(String::as_str)
    }

    /// Distinct path steps below the heading of all national lines of an HS6 (each once): the
    /// national schedules' wording of what the subheading covers.
    pub fn evidence(&self, hs6: &str) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for l in self.lines_for_hs6(hs6) {
            for step in l.path.split(" > ").skip(1) {
                if !seen.contains(&step) {
                    seen.push(step);
                }
            }
        }
        seen
    }

    /// A line by schedule and code (digits; dots and spaces are ignored).
    pub fn get(&self, schedule: Schedule, code: &str) -> Option<&NationalLine> {
        let digits: String = code.chars().filter(char::is_ascii_digit).collect();
        self.by_code
            .get(&(schedule, digits))
            .map(|&i| &self.lines[i])
    }

    /// Is `raw` a complete code of `schedule`?
    pub fn validate(&self, schedule: Schedule, raw: &str) -> NationalStatus {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let clean = raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ' '));
        if !clean || digits.len() != schedule.leaf_digits() && digits.len() != 8 {
            return NationalStatus::Malformed {
                raw: raw.to_string(),
            };
        }
        if self.get(schedule, &digits).is_some_and(|l| l.leaf) {
            return NationalStatus::Valid { code: digits };
        }
        // An 8-digit US tariff line with statistical suffixes (the export prints the 8-digit
        // row only when it has several): not complete, but not unknown either.
        let children = self
            .lines_for_hs6(&digits[..6])
            .filter(|c| {
                c.schedule == schedule
                    && c.leaf
                    && c.code.len() > digits.len()
                    && c.code.starts_with(digits.as_str())
            })
            .count();
        if children > 0 {
            NationalStatus::NotLeaf {
                code: digits,
                children,
            }
        } else {
            NationalStatus::Unknown { code: digits }
        }
    }

    /// Ranks the complete lines of `schedule` under `hs6` for a description: each line scores
    /// the summed IDF of the description's words found in its path below the heading, plus a
    /// small prior for residual "Other" lines (a description naming nothing specific belongs
    /// there); P(line | HS6) is a softmax of those scores. Empty when the HS6 has no lines.
    pub fn rank_within(
        &self,
        schedule: Schedule,
        hs6: &str,
        query_tokens: &[String],
    ) -> Vec<(&NationalLine, f64)> {
        let Some(ix) = self.by_hs6.get(hs6) else {
            return Vec::new();
        };
        let mut q: Vec<&String> = query_tokens.iter().collect();
        q.sort_unstable();
        q.dedup();
        let mut scored: Vec<(&NationalLine, f64)> = ix
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.lines[i].schedule == schedule && self.lines[i].leaf)
            .map(|i| {
                let l = &self.lines[i];
                let toks = &self.tokens[i];
                let s: f32 = q
                    .iter()
                    .filter(|t| toks.binary_search(t).is_ok())
                    .map(|t| self.idf.get(t.as_str()).copied().unwrap_or(0.0))
                    .sum();
                let residual = l.own_text().trim().eq_ignore_ascii_case("other");
                (l, f64::from(s) + if residual { 0.5 } else { 0.0 })
            })
            .collect();
        if scored.is_empty() {
            return scored;
        }
        // Temperature 1.5 (IDF units): one rare matching word (~idf 6) makes a line ~50x
        // likelier than a sibling without it.
        let max = scored.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scored.iter().map(|x| ((x.1 - max) / 1.5).exp()).sum();
        for x in &mut scored {
            x.1 = ((x.1 - max) / 1.5).exp() / z;
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.code.cmp(&b.0.code)));
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schedules_parse_with_leaves_rates_and_units() {
        let s = Schedules::bundled();
        let us_leaves = s
            .lines()
            .iter()
            .filter(|l| l.schedule == Schedule::UsHtsus && l.leaf)
            .count();
        let eu = s
            .lines()
            .iter()
            .filter(|l| l.schedule == Schedule::EuCn)
            .count();
        assert!(us_leaves > 15_000, "{us_leaves}");
        assert_eq!(eu, 9_791);
        let asses = s
            .get(Schedule::UsHtsus, "0101.30.00.00")
            .expect("asses line");
        assert_eq!(asses.duty_rate.as_deref(), Some("6.8%"));
        assert_eq!(asses.unit, "No.");
        assert!(asses.leaf);
        assert!(
            !s.get(Schedule::UsHtsus, "0101.21.00")
                .expect("8-digit")
                .leaf
        );
        assert!(
            s.get(Schedule::UsHtsus, "0101.21.00.10")
                .expect("10-digit")
                .leaf
        );
    }

    #[test]
    fn validates_national_codes() {
        let s = Schedules::bundled();
        assert!(matches!(
            s.validate(Schedule::UsHtsus, "0101.30.00.00"),
            NationalStatus::Valid { .. }
        ));
        assert!(matches!(
            s.validate(Schedule::UsHtsus, "0101.30.00"),
            NationalStatus::NotLeaf { children: 1, .. }
        ));
        assert!(matches!(
            s.validate(Schedule::UsHtsus, "0102.21.00"),
            NationalStatus::NotLeaf { children: 4, .. }
        ));
        assert!(matches!(
            s.validate(Schedule::UsHtsus, "0101.30.99.99"),
            NationalStatus::Unknown { .. }
        ));
        assert!(matches!(
            s.validate(Schedule::EuCn, "0101 30 00"),
            NationalStatus::Valid { .. }
        ));
        assert!(matches!(
            s.validate(Schedule::EuCn, "01x3"),
            NationalStatus::Malformed { .. }
        ));
    }

    #[test]
    fn ranks_the_line_naming_the_goods_first() {
        let s = Schedules::bundled();
        let q = text::tokens("women's trousers of synthetic fibres, knitted", false);
        let r = s.rank_within(Schedule::UsHtsus, "610463", &q);
        assert!(!r.is_empty());
        let total: f64 = r.iter().map(|x| x.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(
            r[0].0.path.to_lowercase().contains("trousers"),
            "{:?}",
            r[0].0
        );
    }
}
