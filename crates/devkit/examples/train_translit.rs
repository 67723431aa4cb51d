//! Learns the per-character Latin pieces of Hangul, Han, katakana, Hebrew, Arabic and Cyrillic letters as
//! used to write names, foreign names above all (`crates/screening/data/translit.tsv.gz`, read by
//! `borderline_screening::translit`), from the Wikidata transliteration pairs in
//! `../shared/data/names/wikidata-transliteration` (CC0), **dev part only**: a pair whose
//! Latin name is held aside by [`devsets::is_held_aside`] (the same key the development sets
//! use) is never read.
//!
//! * Chinese, katakana, Arabic and Cyrillic: the word pairs (`token_pairs_en_xx.csv`,
//!   scripts `chinese`, `katakana`, the all-katakana words of `japanese`, `arabic`,
//!   `russian`), keyed by the Latin word.
//! * Korean and Hebrew: the full-name pairs (`fullname_pairs_en_he_ko.csv`), keyed by the
//!   Latin full name; names with as many Latin as native words give word pairs. (Their
//!   word-pair files are not used: they cannot tell which held-aside name a word came from.)
//!
//! Alignment is hard EM: each Latin word is cut into one piece per native character (0-6
//! letters; no letters only for katakana marks) by dynamic programming with the matcher's own
//! cost ([`Table::cut`]); the first round knows only the prior (edit distance to `deunicode`'s
//! reading: pinyin, Revised Romanization, kana), later rounds the counts of the round before.
//! The table keeps, for each character seen at least 3 times, its pieces seen at least twice.
//!
//! `cargo run --release -p borderline-devkit --example train_translit [-- OUT.tsv.gz]`

use ahash::AHashMap;
use borderline_devkit::screening::devsets::{find_shared, is_held_aside};
use borderline_screening::normalize::to_ascii_lower;
use borderline_screening::translit::{
    is_arabic, is_cyrillic, is_han, is_hangul, is_hebrew, is_katakana, Table,
};
use std::io::Write;

const ROUNDS: usize = 4;
/// Titles that Wikidata writes where a surname stands ("Queen Seondeok").
const TITLES: &[&str] = &[
    "queen", "king", "empress", "emperor", "prince", "princess", "lady",
];
/// Pieces seen fewer times are left to the prior.
const MIN_PIECE_COUNT: f64 = 2.0;

fn latin_letters(s: &str) -> Vec<u8> {
    to_ascii_lower(s)
        .bytes()
        .filter(|b| b.is_ascii_lowercase())
        .collect()
}

/// The table text of a round's counts.
fn table_text(counts: &AHashMap<char, AHashMap<Vec<u8>, f64>>, min_total: f64) -> String {
    let mut keys: Vec<&char> = counts.keys().collect();
    keys.sort();
    let mut text = String::new();
    for c in keys {
        let ps = &counts[c];
        let total: f64 = ps.values().sum();
        if total < min_total {
            continue;
        }
        let mut v: Vec<(&Vec<u8>, &f64)> =
            ps.iter().filter(|(_, &n)| n >= MIN_PIECE_COUNT).collect();
        v.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        if v.is_empty() {
            continue;
        }
        let cols: Vec<String> = v
            .iter()
            .map(|(p, n)| format!("{}:{}", String::from_utf8_lossy(p), n.round() as u64))
            .collect();
        text.push_str(&format!("{c}\t{}\n", cols.join(",")));
    }
    text
}

fn main() -> anyhow::Result<()> {
    let out_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "crates/screening/data/translit.tsv.gz".into());
    let dir = find_shared("names/wikidata-transliteration").ok_or_else(|| {
        anyhow::anyhow!("../shared/data/names/wikidata-transliteration not found")
    })?;
    // (native chars, latin letters, weight)
    let mut pairs: Vec<(Vec<char>, Vec<u8>, f64)> = Vec::new();
    let (mut held, mut used_zh, mut used_ko) = (0usize, 0usize, 0usize);
    let tok = dir.join("token_pairs_en_xx.csv");
    let mut rdr = csv::Reader::from_path(&tok)?;
    for r in rdr.records() {
        let r = r?;
        let (Some(script), Some(en), Some(nat), count) = (r.get(0), r.get(1), r.get(2), r.get(3))
        else {
            continue;
        };
        let script_char: fn(char) -> bool = match script {
            "chinese" => is_han,
            "katakana" | "japanese" => is_katakana,
            "arabic" => is_arabic,
            "russian" => is_cyrillic,
            _ => continue,
        };
        if is_held_aside(&en.to_lowercase()) {
            held += 1;
            continue;
        }
        let native: Vec<char> = nat.to_lowercase().chars().collect();
        if native.is_empty() || !native.iter().all(|&c| script_char(c)) {
            continue;
        }
        let lat = latin_letters(en);
        if lat.is_empty() {
            continue;
        }
        let w = count
            .and_then(|c| c.parse::<f64>().ok())
            .unwrap_or(1.0)
            .clamp(1.0, 10.0);
        pairs.push((native, lat, w));
        used_zh += 1;
    }
    let mut surnames: AHashMap<char, AHashMap<String, u32>> = AHashMap::new();
    let full = dir.join("fullname_pairs_en_he_ko.csv");
    let mut rdr = csv::Reader::from_path(&full)?;
    for r in rdr.records() {
        let r = r?;
        let (Some(script @ ("korean" | "hebrew")), Some(en), Some(nat)) =
            (r.get(0), r.get(1), r.get(2))
        else {
            continue;
        };
        let script_char: fn(char) -> bool = if script == "korean" {
            is_hangul
        } else {
            is_hebrew
        };
        if is_held_aside(&en.to_lowercase()) {
            held += 1;
            continue;
        }
        let lw: Vec<&str> = en.split_whitespace().collect();
        let nw: Vec<&str> = nat.split_whitespace().collect();
        // A Korean person's name: one Hangul run of 2-4 syllables, surname first, against
        // "Park Won-soon" (a hyphenated given name: Chinese people's names, also written in
        // Hangul, are romanised in pinyin without one): the surname syllable and its spelling.
        if script == "korean" && nw.len() == 1 && lw.len() == 2 && lw[1].contains('-') {
            let run: Vec<char> = nw[0].chars().collect();
            if (2..=4).contains(&run.len()) && run.iter().all(|&c| is_hangul(c)) {
                let sur = latin_letters(lw[0]);
                if sur.len() >= 2 {
                    *surnames
                        .entry(run[0])
                        .or_default()
                        .entry(String::from_utf8_lossy(&sur).into_owned())
                        .or_default() += 1;
                }
            }
        }
        if lw.len() != nw.len() {
            continue;
        }
        for (l, n) in lw.iter().zip(&nw) {
            let native: Vec<char> = n.chars().filter(|&c| script_char(c)).collect();
            if native.is_empty() || native.len() != n.chars().count() {
                continue;
            }
            let lat = latin_letters(l);
            if lat.is_empty() {
                continue;
            }
            pairs.push((native, lat, 1.0));
        }
        used_ko += 1;
    }
    eprintln!(
        "pairs: {} word pairs ({used_zh} Chinese, katakana, Arabic and Cyrillic words, {used_ko} Korean and Hebrew names); {held} held-aside rows skipped",
        pairs.len()
    );
    let mut table = Table::from_text("");
    let mut text = String::new();
    for round in 0..ROUNDS {
        let mut counts: AHashMap<char, AHashMap<Vec<u8>, f64>> = AHashMap::new();
        let mut aligned = 0usize;
        for (native, lat, w) in &pairs {
            if let Some((_, lens)) = table.cut(native, lat) {
                aligned += 1;
                let mut j = 0;
                for (c, k) in native.iter().zip(lens) {
                    *counts
                        .entry(*c)
                        .or_default()
                        .entry(lat[j..j + k].to_vec())
                        .or_default() += w;
                    j += k;
                }
            }
        }
        eprintln!("round {round}: {aligned} aligned");
        text = table_text(&counts, 3.0);
        table = Table::from_text(&text);
    }
    // Mean cost of true pairs against shifted ones (each native word with the next pair's
    // Latin word), to choose MAX_MEAN_COST.
    let mut pos: Vec<f64> = Vec::new();
    let mut neg: Vec<f64> = Vec::new();
    for (i, (native, lat, _)) in pairs.iter().enumerate().step_by(7) {
        pos.push(table.mean_cost(native, lat).unwrap_or(f64::INFINITY));
        let other = &pairs[(i + 1) % pairs.len()].1;
        if other != lat {
            neg.push(table.mean_cost(native, other).unwrap_or(f64::INFINITY));
        }
    }
    pos.sort_by(f64::total_cmp);
    neg.sort_by(f64::total_cmp);
    for t in [1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5] {
        let r = pos.iter().filter(|&&c| c <= t).count() as f64 / pos.len().max(1) as f64;
        let f = neg.iter().filter(|&&c| c <= t).count() as f64 / neg.len().max(1) as f64;
        eprintln!("mean cost <= {t}: true pairs {r:.3}, shifted pairs {f:.4}");
    }
    let text = format!(
        "# Latin pieces of Hangul, Han and katakana characters in foreign names, learned by\n\
         # crates/devkit/examples/train_translit.rs from the dev part of the Wikidata\n\
         # transliteration pairs (Merhav & Ash 2018, CC0). Columns: character, piece:count,...\n{text}"
    );
    // Korean surnames: Latin spellings of one Hangul surname ("park", "pak", "bak"), each
    // seen at least 4 times and in at least 3 % of the surname's names.
    let sur_path = std::path::Path::new(&out_path).with_file_name("korean_surnames.csv");
    let mut keys: Vec<&char> = surnames.keys().collect();
    keys.sort();
    let mut sur_text = String::from(
        "# Latin spellings of Korean surnames, learned by crates/devkit/examples/train_translit.rs\n\
         # from the dev part of the Wikidata Korean full names (CC0). hangul,latin,count\n",
    );
    let mut groups = 0;
    for c in keys {
        let total: u32 = surnames[c].values().sum();
        let mut v: Vec<(&String, &u32)> = surnames[c]
            .iter()
            .filter(|(l, &n)| {
                n >= 4 && f64::from(n) >= 0.03 * f64::from(total) && !TITLES.contains(&l.as_str())
            })
            .collect();
        if v.len() < 2 {
            continue;
        }
        groups += 1;
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (l, n) in v {
            sur_text.push_str(&format!("{c},{l},{n}\n"));
        }
    }
    std::fs::write(&sur_path, sur_text)?;
    eprintln!(
        "{groups} Korean surnames with variants written to {}",
        sur_path.display()
    );
    let f = std::fs::File::create(&out_path)?;
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
    gz.write_all(text.as_bytes())?;
    gz.finish()?;
    eprintln!(
        "{} characters written to {out_path}",
        text.lines().filter(|l| !l.starts_with('#')).count()
    );
    Ok(())
}
