//! The hand-written product vocabulary (`data/hs/vocabulary.txt`).
//!
//! Nomenclature texts name goods the way the legal text does ("Automatic data processing
//! machines; portable, weighing not more than 10kg"); declarations and listings say "laptop".
//! The vocabulary bridges the two with trade names and synonyms written from general customs
//! knowledge (never from evaluation items). Two kinds of lines:
//!
//! ```text
//! # comment
//! 847130: laptop, notebook computer, ultrabook      <- phrases that name goods of a code
//! @polyester: synthetic fibres                      <- query expansion into nomenclature words
//! ```
//!
//! Codes may have 2, 4 or 6 digits (chapter, heading, subheading).

use crate::error::HsError;
use crate::nomenclature::Nomenclature;
use crate::text;

pub const BUNDLED: &str = include_str!("../../../data/hs/vocabulary.txt");

#[derive(Debug, Clone, PartialEq)]
pub struct VocabEntry {
    pub code: String,
    pub phrase: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    /// Stemmed tokens that trigger the expansion (contiguous in the query).
    pub trigger: Vec<String>,
    /// Stemmed tokens added to the query.
    pub adds: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub entries: Vec<VocabEntry>,
    pub expansions: Vec<Expansion>,
}

impl Vocabulary {
    pub fn bundled() -> Result<Vocabulary, HsError> {
        Self::parse(BUNDLED)
    }

    pub fn parse(src: &str) -> Result<Vocabulary, HsError> {
        let mut v = Vocabulary::default();
        for (i, line) in src.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: &str| HsError::Vocabulary {
                line: i + 1,
                message: message.to_string(),
            };
            let Some((head, body)) = line.split_once(':') else {
                return Err(err(
                    "expected `CODE: phrase, phrase` or `@phrase: expansion`",
                ));
            };
            let head = head.trim();
            if let Some(trigger) = head.strip_prefix('@') {
                let trigger = text::tokens(trigger, false);
                let adds = text::tokens(body, false);
                if trigger.is_empty() || adds.is_empty() {
                    return Err(err(
                        "expansion needs a trigger and at least one content word",
                    ));
                }
                v.expansions.push(Expansion { trigger, adds });
                continue;
            }
            let code: String = head.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
            if !matches!(code.len(), 2 | 4 | 6) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("code must have 2, 4 or 6 digits"));
            }
            for phrase in body.split(',') {
                let phrase = phrase.trim();
                if !phrase.is_empty() {
                    v.entries.push(VocabEntry {
                        code: code.clone(),
                        phrase: phrase.to_string(),
                    });
                }
            }
        }
        Ok(v)
    }

    /// Codes in the vocabulary that the nomenclature does not know (should be empty).
    pub fn unknown_codes(&self, nom: &Nomenclature) -> Vec<String> {
        let mut bad: Vec<String> = self
            .entries
            .iter()
            .filter(|e| nom.get(&e.code).is_none())
            .map(|e| e.code.clone())
            .collect();
        bad.sort();
        bad.dedup();
        bad
    }

    /// Applies expansions to stemmed query tokens: returns the tokens to add.
    pub fn expand(&self, query: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.expansions {
            if query
                .windows(e.trigger.len())
                .any(|w| w == e.trigger.as_slice())
            {
                out.extend(e.adds.iter().cloned());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_expansions() {
        let v = Vocabulary::parse(
            "# c\n8471.30: laptop, notebook computer\n@polyester: synthetic fibres\n",
        )
        .unwrap();
        assert_eq!(v.entries.len(), 2);
        assert_eq!(
            v.entries[1],
            VocabEntry {
                code: "847130".into(),
                phrase: "notebook computer".into()
            }
        );
        assert_eq!(
            v.expand(&text::tokens("red polyester dress", false)),
            vec!["synthet", "fibr"]
        );
        assert!(v.expand(&text::tokens("cotton dress", false)).is_empty());
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(matches!(
            Vocabulary::parse("laptop"),
            Err(HsError::Vocabulary { line: 1, .. })
        ));
        assert!(Vocabulary::parse("847: laptop").is_err());
        assert!(Vocabulary::parse("@: x").is_err());
    }

    #[test]
    fn bundled_vocabulary_is_large_and_uses_real_codes() {
        let v = Vocabulary::bundled().unwrap();
        assert!(v.entries.len() > 800, "only {} entries", v.entries.len());
        assert!(v.expansions.len() > 40);
        assert_eq!(
            v.unknown_codes(Nomenclature::bundled()),
            Vec::<String>::new()
        );
    }
}
