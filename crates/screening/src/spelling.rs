//! Spelling variants of one name, from Wikidata (`data/spelling_groups.tsv.gz`): the Latin
//! spellings that Wikidata gives for one native-script word of a person's name ("reza" /
//! "rida" for رضا, "yahya" / "yehia" for يحيى, "usman" / "othman" for عثمان, "haniyeh" /
//! "haniya" for Ханія). Built by `cargo run --release -p borderline-devkit --example
//! build_spelling_groups` from the word pairs of the Wikidata person-name transliteration
//! pairs (Merhav & Ash, COLING 2018; CC0), dev part only: a row whose Latin key is held aside
//! by the development sets' split is never read (the way `translit.tsv.gz` is built).
//!
//! **Restricted** ([`variants`]): a group joins the forms of one native word, and some native
//! words are written alike for different names. So two words are variants here only when
//! * both are 3+ letters and neither is a romanised Chinese or Korean syllable (pinyin,
//!   Wade-Giles or Korean: "chen" / "chan" and "son" / "song" share a katakana or Arabic
//!   spelling but are different family names);
//! * neither is a name prefix or connector ("abd", "abdul", "abu", "bin", "al" ...) and
//!   neither begins the other ("abdul" / "abdullah": Wikidata aligns عبد with both, but
//!   "Abdullah" is a whole name and "Abdul" the first half of another);
//! * they are spelled partly alike: at most three fifths of the longer word's letters edited
//!   (a misaligned word pair such as "mohammed" / "shaykh" is not a spelling), and two
//!   compounds of "abd" / "abu" at most two letters ("abdelrahman" / "abdulrahman", not
//!   "abdelhamid" / "abdelkader");
//! * (at the build) the native word is not itself a prefix or connector: a group that holds
//!   "abdul", "abd" or "al" is the spellings of a particle, aligned with whole names.

use ahash::AHashMap;
use std::io::Read;
use std::sync::OnceLock;

static GROUPS_GZ: &[u8] = include_bytes!("../data/spelling_groups.tsv.gz");

/// Name prefixes and connectors of Arabic, Persian, Pashto and Urdu names: spellings of them
/// stand for half a name ("abdul" of "Abdul Rahman") as often as for a whole one.
pub const PREFIX_WORDS: &[&str] = &[
    "abd", "abed", "abdu", "abdul", "abdel", "abdal", "abdol", "abdoul", "abdil", "abu", "abou",
    "abo", "bin", "ben", "ibn", "bint", "ould", "al", "el", "ul", "ud", "ur", "ad", "ed", "allah",
    "ullah", "ollah", "din", "deen", "uddin", "eddin", "addin",
];

/// Whether a word may take part in a spelling group at all (the build keeps only these).
pub fn eligible_word(t: &str) -> bool {
    t.len() >= 3
        && t.len() <= 24
        && t.bytes().all(|b| b.is_ascii_lowercase())
        && !PREFIX_WORDS.contains(&t)
        && !crate::matcher::is_pinyin_syllable(t)
        && !crate::wadegiles::is_wade_giles_shape(t)
        && !crate::hangul::is_korean_syllable(t)
}

/// Whether two eligible words, spellings of one native word, may be read as one name (see the
/// module notes): not one the beginning of the other, and spelled partly alike.
pub fn pair_allowed(a: &str, b: &str) -> bool {
    if a == b || a.starts_with(b) || b.starts_with(a) {
        return false;
    }
    // A theophoric or kunya compound ("abdelhamid", "abdelkader", "abuhamza") is the prefix
    // and another name: two of them are one name only when spelled nearly alike.
    let compound = |t: &str| t.starts_with("abd") || t.starts_with("abu") || t.starts_with("abou");
    let n = a.len().max(b.len());
    let max = if compound(a) || compound(b) {
        2
    } else {
        n * 3 / 5
    };
    crate::matcher::bounded_osa(a.as_bytes(), b.as_bytes(), max).is_some()
}

struct Groups {
    /// Word -> ids of the groups holding it.
    of: AHashMap<Box<str>, Box<[u32]>>,
}

fn groups() -> &'static Groups {
    static G: OnceLock<Groups> = OnceLock::new();
    G.get_or_init(|| {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(GROUPS_GZ)
            .read_to_string(&mut text)
            .is_err()
        {
            text.clear();
        }
        Groups::from_text(&text)
    })
}

impl Groups {
    fn from_text(text: &str) -> Groups {
        let mut of: AHashMap<Box<str>, Vec<u32>> = AHashMap::new();
        let mut id = 0u32;
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            for w in line.split_whitespace() {
                of.entry(w.into()).or_default().push(id);
            }
            id += 1;
        }
        Groups {
            of: of.into_iter().map(|(k, v)| (k, v.into())).collect(),
        }
    }
}

/// Number of spelling groups embedded (for the record and the tests).
pub fn group_count() -> usize {
    let g = groups();
    g.of.values()
        .flat_map(|v| v.iter())
        .max()
        .map_or(0, |&m| m as usize + 1)
}

/// Whether two Latin words (normalised: ASCII lower case) are Wikidata spellings of one
/// native-script name word, within the restrictions of the module notes.
pub fn variants(a: &str, b: &str) -> bool {
    if a.len() < 3 || b.len() < 3 || a == b {
        return false;
    }
    let g = groups();
    let (Some(x), Some(y)) = (g.of.get(a), g.of.get(b)) else {
        return false;
    };
    // Both lists are sorted (ids are assigned in file order).
    let (mut i, mut j) = (0, 0);
    let mut shared = false;
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared = true;
                break;
            }
        }
    }
    shared && eligible_word(a) && eligible_word(b) && pair_allowed(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_join_only_the_words_of_one_line() {
        let g = Groups::from_text("# comment\nreza rida\nomar umar\n");
        assert_eq!(g.of.get("reza").map(|v| v.to_vec()), Some(vec![0]));
        assert_eq!(g.of.get("umar").map(|v| v.to_vec()), Some(vec![1]));
        assert!(!g.of.contains_key("comment"));
    }

    #[test]
    fn restrictions() {
        assert!(pair_allowed("reza", "rida"));
        assert!(!pair_allowed("abdul", "abdullah"), "one begins the other");
        assert!(!pair_allowed("mohammed", "shaykh"), "not spelled alike");
        assert!(
            !pair_allowed("abdelhamid", "abdelkader"),
            "two compounds of abd"
        );
        assert!(pair_allowed("abdelrahman", "abdulrahman"));
        assert!(eligible_word("yahya"));
        for w in ["chen", "chan", "song", "abdul", "abu", "al", "kyong"] {
            assert!(!eligible_word(w), "{w}");
        }
    }
}
