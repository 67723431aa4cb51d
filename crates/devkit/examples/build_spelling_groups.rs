//! Builds `crates/screening/data/spelling_groups.tsv.gz` (read by
//! `borderline_screening::spelling`): the Latin spellings Wikidata gives for one native-script
//! word of a person's name, from the Wikidata transliteration pairs in
//! `../shared/data/names/wikidata-transliteration` (CC0), **dev part only**: a row whose Latin
//! key is held aside by [`devsets::is_held_aside`] (the key the development sets use) is never
//! read, as in `train_translit`.
//!
//! * Arabic and Russian: the word pairs (`token_pairs_en_xx.csv`), keyed by the Latin word;
//!   one group per (script, native word): the romanisations of one Arabic or Cyrillic name
//!   word ("reza" / "rida", "haniyeh" / "haniya").
//! * Not the Chinese, Japanese, katakana and Hebrew spellings: there one native word is the
//!   spelling of a Western name and of its equivalents in other languages ("michael" /
//!   "miguel", "james" / "jaime", "william" / "wilhelm"), which are different people's names
//!   far more often than one person's (the synthetic people screened against the lists held
//!   four more candidates with them; thirteenth round in docs/screening.md).
//!
//! Latin words are folded as the matcher folds them (ASCII lower case, letters only). A group
//! holding a name prefix or connector ([`spelling::PREFIX_WORDS`]: "abd", "abdul", "al") is
//! the spellings of a particle and is dropped. A group keeps only the words [`spelling::eligible_word`] accepts that have at least one partner in
//! the group [`spelling::pair_allowed`] accepts (so the file holds no pinyin syllable, name
//! prefix or unrelated misaligned word); groups with fewer than two such words are dropped,
//! and identical groups are written once.
//!
//! `cargo run --release -p borderline-devkit --example build_spelling_groups [-- OUT.tsv.gz]`

use ahash::{AHashMap, AHashSet};
use borderline_devkit::screening::devsets::{find_shared, is_held_aside};
use borderline_screening::normalize::to_ascii_lower;
use borderline_screening::spelling::{eligible_word, pair_allowed, PREFIX_WORDS};
use std::collections::BTreeSet;
use std::io::Write;

fn fold(s: &str) -> String {
    to_ascii_lower(s)
        .chars()
        .filter(|c| c.is_ascii_lowercase())
        .collect()
}

fn main() -> anyhow::Result<()> {
    let out_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "crates/screening/data/spelling_groups.tsv.gz".into());
    let dir = find_shared("names/wikidata-transliteration").ok_or_else(|| {
        anyhow::anyhow!("../shared/data/names/wikidata-transliteration not found")
    })?;
    // (script, native word) -> Latin spellings.
    let mut groups: AHashMap<(String, String), AHashSet<String>> = AHashMap::new();
    let (mut held, mut read) = (0usize, 0usize);
    let mut rdr = csv::Reader::from_path(dir.join("token_pairs_en_xx.csv"))?;
    for r in rdr.records() {
        let r = r?;
        let (Some(script), Some(en), Some(nat)) = (r.get(0), r.get(1), r.get(2)) else {
            continue;
        };
        if !matches!(script, "arabic" | "russian") {
            continue;
        }
        if is_held_aside(&en.to_lowercase()) {
            held += 1;
            continue;
        }
        read += 1;
        groups
            .entry((script.to_string(), nat.to_lowercase()))
            .or_default()
            .insert(fold(en));
    }
    let mut lines: BTreeSet<String> = BTreeSet::new();
    let mut particles = 0usize;
    for words in groups.values() {
        // The spellings of a particle ("abd", "abdul", "al"), which Wikidata also aligns
        // with the whole names they open ("abdelkader", "abdelhamid").
        if words.iter().any(|w| PREFIX_WORDS.contains(&w.as_str())) {
            particles += 1;
            continue;
        }
        let words: Vec<&String> = words.iter().filter(|w| eligible_word(w)).collect();
        if words.len() < 2 {
            continue;
        }
        let mut kept: Vec<&String> = words
            .iter()
            .copied()
            .filter(|a| words.iter().any(|b| pair_allowed(a, b)))
            .collect();
        if kept.len() < 2 {
            continue;
        }
        kept.sort();
        lines.insert(
            kept.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let words: AHashSet<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
    eprintln!(
        "{read} dev rows read, {held} held-aside rows skipped, {particles} particle groups dropped; {} groups of {} words",
        lines.len(),
        words.len()
    );
    let mut text = String::from(
        "# Latin spellings of one native-script name word (one group a line), built by\n\
         # crates/devkit/examples/build_spelling_groups.rs from the dev part of the Wikidata\n\
         # person-name transliteration pairs (Merhav & Ash, COLING 2018; CC0 1.0).\n",
    );
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let f = std::fs::File::create(&out_path)?;
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
    gz.write_all(text.as_bytes())?;
    gz.finish()?;
    eprintln!("wrote {out_path}");
    Ok(())
}
