//! Legal forms of 130 jurisdictions from the GLEIF ISO 20275 Entity Legal Forms list
//! (`data/legal_forms.tsv.gz`, embedded; derived by `scripts/screening_legal_forms.py`).
//!
//! Each ELF code's forms (abbreviations, local and transliterated names) read as one canonical
//! tag (the code's first abbreviation, or the hand-written tag in `normalize.rs` when that
//! abbreviation is one of them: "GmbH" -> `gmbh`, "Sp. z o.o." -> `spzoo`), and each tag knows
//! the countries whose law defines it. Two names whose legal forms belong to no common
//! jurisdiction ("GmbH" / "Ltd") are evidence of two different legal entities.
//!
//! Which forms are read where (a legal-form abbreviation is often also a word):
//! * forms of two or more words ("Perseroan Terbatas", "Sp z o o") anywhere in a name;
//! * one-word abbreviations of three or more letters ("Kft", "UAB", "Zrt") only as the first
//!   or the last word of a name with other words;
//! * one-word full names only when long compounds ("Aktiengesellschaft", "osakeyhtio");
//! * never the common words in [`NOT_FORMS`].

use ahash::AHashMap;
use std::io::Read;
use std::sync::OnceLock;

static LEGAL_FORMS_GZ: &[u8] = include_bytes!("../data/legal_forms.tsv.gz");

/// Words the ELF list gives as forms somewhere but that are ordinary name words elsewhere.
const NOT_FORMS: &[&str] = &[
    "son",
    "gen",
    "gar",
    "sam",
    "ong",
    "bee",
    "keg",
    "cer",
    "sec",
    "fin",
    "mission",
    "bank",
    "trust",
    "fund",
    "foundation",
    "association",
    "cooperative",
    "cooperation",
    "society",
    "partnership",
    "federation",
    "institution",
    "organisation",
    "organization",
    "municipality",
    "proprietorship",
    "enterprise",
    "company",
    "corporation",
    "incorporated",
    "establishment",
    "union",
    "church",
    "charity",
    "club",
    "agency",
    "authority",
    "branch",
    "office",
    "group",
    "state",
    "public",
    "private",
    "general",
    "limited",
    "the",
    "and",
    "ltd",
    "est",
    "ent",
];

/// Two-letter abbreviations read as legal forms, each only where its jurisdiction writes it:
/// the Estonian "OÜ" last, the Indonesian "PT" first. (Other two-letter forms are also
/// syllables and initials: "Ou", "Da" are Chinese names.)
pub(crate) const TWO_LETTER_FORMS: &[(&str, bool)] = &[("ou", false), ("pt", true)];

pub(crate) struct GleifForms {
    /// First token -> (tokens, tag), longest first.
    pub by_first: AHashMap<String, Vec<(Vec<String>, String)>>,
    /// Tag -> sorted countries.
    pub countries: AHashMap<String, Vec<String>>,
}

fn load() -> GleifForms {
    let mut text = String::new();
    // The file is part of the binary; a failure here is a build defect, and screening still
    // works with the hand-written forms only.
    let _ = flate2::read::GzDecoder::new(LEGAL_FORMS_GZ).read_to_string(&mut text);
    let mut by_first: AHashMap<String, Vec<(Vec<String>, String)>> = AHashMap::new();
    let mut countries: AHashMap<String, Vec<String>> = AHashMap::new();
    let toks = |s: &str| crate::normalize::raw_tokens(&crate::normalize::to_ascii_lower(s));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [form, kind, tag_src, cc, _code] = f[..] else {
            continue;
        };
        let ft = toks(form);
        let tt = toks(tag_src);
        if ft.is_empty() || tt.is_empty() {
            continue;
        }
        let tag = crate::normalize::builtin_legal_tag(&tt)
            .map(str::to_string)
            .unwrap_or_else(|| tt.concat());
        let cs = countries.entry(tag.clone()).or_default();
        if !cc.is_empty() && !cs.iter().any(|c| c == cc) {
            cs.push(cc.to_string());
        }
        // Forms the hand-written table knows keep their tag (their countries are added above
        // when the ELF code's own abbreviation maps to the same tag).
        if let Some(t) = crate::normalize::builtin_legal_tag(&ft) {
            let cs = countries.entry(t.to_string()).or_default();
            if !cc.is_empty() && !cs.iter().any(|c| c == cc) {
                cs.push(cc.to_string());
            }
            continue;
        }
        if ft.len() == 1 {
            let w = ft[0].as_str();
            let ok = w.bytes().all(|b| b.is_ascii_alphabetic())
                && !NOT_FORMS.contains(&w)
                && match kind {
                    "abbr" => w.len() >= 3 || TWO_LETTER_FORMS.iter().any(|(f, _)| *f == w),
                    _ => w.len() >= 10,
                };
            if !ok {
                continue;
            }
        } else if ft.iter().all(|t| NOT_FORMS.contains(&t.as_str())) {
            continue;
        }
        let list = by_first.entry(ft[0].clone()).or_default();
        if !list.iter().any(|(t, _)| *t == ft) {
            list.push((ft, tag));
        }
    }
    for l in by_first.values_mut() {
        l.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }
    for c in countries.values_mut() {
        c.sort();
    }
    GleifForms {
        by_first,
        countries,
    }
}

pub(crate) fn gleif() -> &'static GleifForms {
    static G: OnceLock<GleifForms> = OnceLock::new();
    G.get_or_init(load)
}

/// Countries whose law defines the legal form `tag` (empty when unknown or generic).
pub fn jurisdictions(tag: &str) -> &'static [String] {
    gleif().countries.get(tag).map(Vec::as_slice).unwrap_or(&[])
}

/// Tags read as "a company" anywhere rather than a form of one jurisdiction.
const GENERIC_TAGS: &[&str] = &[
    "co",
    "corp",
    "inc",
    "est",
    "liability",
    "joint",
    "stock",
    "partnership",
    "private",
];

/// Two different legal forms that no jurisdiction shares ("gmbh" / "ltd"): evidence of two
/// different legal entities. Unknown or generic forms give no evidence.
pub fn different_jurisdictions(a: &str, b: &str) -> bool {
    if a == b || GENERIC_TAGS.contains(&a) || GENERIC_TAGS.contains(&b) {
        return false;
    }
    let (ja, jb) = (jurisdictions(a), jurisdictions(b));
    !ja.is_empty() && !jb.is_empty() && !ja.iter().any(|c| jb.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_many_jurisdictions_load() {
        let g = gleif();
        assert!(g.countries.len() > 500, "{}", g.countries.len());
        assert!(jurisdictions("gmbh").iter().any(|c| c == "DE"));
        // Hungarian Kft. and German/Austrian GmbH: no country has both.
        assert!(different_jurisdictions("gmbh", "kft"));
        // Swiss law writes a GmbH also as "Ltd": one jurisdiction has both.
        assert!(!different_jurisdictions("gmbh", "ltd"));
        assert!(!different_jurisdictions("gmbh", "ag"), "both German/Swiss");
        assert!(!different_jurisdictions("co", "gmbh"), "generic");
    }
}
