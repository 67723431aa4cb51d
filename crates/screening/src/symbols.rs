//! Company-name words that are one word in different languages or spellings ("industry" /
//! "industria" / "sanayi" / "промышленности", "management" / "upravlenie" / "gestion",
//! "fund" / "fond" / "fonds"), from the OpenSanctions `rigour` organisation symbols
//! (`data/org_symbols.csv`, MIT, see NOTICE): 76 groups of company-name words and
//! abbreviations. Two words of one group are read as the same word (similarity 0.9, explained
//! as "(symbol)") in names of organisations, vessels and aircraft; persons' names are not read
//! this way. Variants of several words ("city of", "named after") are left out: a token is
//! one word.

use ahash::AHashMap;
use std::sync::OnceLock;

static SYMBOLS_CSV: &str = include_str!("../data/org_symbols.csv");

/// No group.
pub const NONE: u16 = u16::MAX;

/// The (at most two) groups of a word; "fond" is a fund and a foundation.
pub type Groups = [u16; 2];

/// A word of no group.
pub const NO_GROUPS: Groups = [NONE, NONE];

fn groups() -> &'static AHashMap<String, Groups> {
    static G: OnceLock<AHashMap<String, Groups>> = OnceLock::new();
    G.get_or_init(|| {
        let mut keys: AHashMap<String, u16> = AHashMap::new();
        let mut out: AHashMap<String, Groups> = AHashMap::new();
        for line in SYMBOLS_CSV.lines().skip(1) {
            let Some((key, variant)) = line.split_once(',') else {
                continue;
            };
            let n = keys.len() as u16;
            let g = *keys.entry(key.to_string()).or_insert(n);
            for t in [key, variant] {
                // The variant as the normaliser reads it: one word, Latin, plurals folded.
                let words = crate::normalize::normalize(t.trim());
                let [tok] = words.tokens() else { continue };
                if tok.kind != crate::normalize::TokenKind::Word || tok.text.len() < 3 {
                    continue;
                }
                let e = out.entry(tok.text.clone()).or_insert(NO_GROUPS);
                if !e.contains(&g) {
                    if let Some(free) = e.iter_mut().find(|x| **x == NONE) {
                        *free = g;
                    }
                }
            }
        }
        out
    })
}

/// The symbol groups of a normalised word ([`NO_GROUPS`] when it has none).
pub fn groups_of(t: &str) -> Groups {
    groups().get(t).copied().unwrap_or(NO_GROUPS)
}

/// Whether two words' groups share one.
pub fn same(a: &Groups, b: &Groups) -> bool {
    a.iter().any(|&g| g != NONE && b.contains(&g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_company_word_in_several_languages() {
        for (a, b) in [
            ("industry", "sanayi"),
            ("management", "upravlenie"),
            ("fund", "fond"),
            ("trading", "trade"),
        ] {
            assert!(same(&groups_of(a), &groups_of(b)), "{a} / {b}");
        }
        assert!(!same(&groups_of("fund"), &groups_of("management")));
        assert!(!same(&groups_of("rosneft"), &groups_of("rosneft")));
    }
}
