//! Development pair sets from independent public data, each split by a stable hash of the
//! entity (or person) into a **dev** part (looked at, tuned and trained on) and a
//! **held-aside** part (about 30 %, never tuned on, reported separately).
//!
//! * `alias_person`, `alias_company_vessel`: the bundled watchlists' own alias lists. Two names
//!   of one entry (primary / AKA, written by analysts) are a positive pair; a name of another
//!   entry of the same list with the most similar spelling (character-trigram Jaccard, a
//!   measure neither matcher uses) is a hard negative. Negatives stay within one list family
//!   (the 2021 and 2025 OFAC SDN files count as one, keyed by entry number), because the same
//!   person may be on two lists; pairs that normalise to the same tokens are left out (a
//!   homonym no name comparison can separate).
//! * `un_typos`: name-matching-dev's UN persons, each as listed against the same row with typos
//!   and reordering (positives), and against the most similar other UN row (negatives).
//! * `wikidata_<script>`: Wikidata person names in Latin script against their Hebrew / Korean
//!   full names, and word pairs for Russian, Arabic, Chinese, Japanese (kanji and katakana);
//!   negatives pair a Latin name with the native spelling of the most similar other name.
//!
//! Data outside the repository is read from `../shared/data` (too large to ship); a set whose
//! file is missing is skipped with a note.

use ahash::{AHashMap, AHashSet};
use borderline_screening::normalize::{normalize, to_ascii_lower};
use borderline_screening::{Entry, Schema};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Share of groups held aside (by hash), never tuned on.
pub const HELD_ASIDE_PERCENT: u64 = 30;

#[derive(Debug, Clone, Serialize)]
pub struct DevPair {
    pub a: String,
    pub b: String,
    pub schema: Schema,
    pub is_match: bool,
    /// In the held-aside part (decided by the hash of the entity / person key).
    pub held_aside: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DevSet {
    pub name: String,
    pub pairs: Vec<DevPair>,
}

/// FNV-1a: a stable hash (the split must not change between runs or library versions).
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Whether a group (entity, person) belongs to the held-aside part.
pub fn is_held_aside(group_key: &str) -> bool {
    fnv1a(group_key) % 100 < HELD_ASIDE_PERCENT
}

/// Character trigrams of the lower-case ASCII letters and digits, words padded by spaces.
fn trigrams(s: &str) -> Vec<u32> {
    let ascii = to_ascii_lower(s);
    let mut padded = Vec::with_capacity(ascii.len() + 2);
    padded.push(b' ');
    let mut last_space = true;
    for b in ascii.bytes() {
        if b.is_ascii_alphanumeric() {
            padded.push(b);
            last_space = false;
        } else if !last_space {
            padded.push(b' ');
            last_space = true;
        }
    }
    if !last_space {
        padded.push(b' ');
    }
    let mut out: Vec<u32> = padded
        .windows(3)
        .map(|w| (u32::from(w[0]) << 16) | (u32::from(w[1]) << 8) | u32::from(w[2]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Nearest items by trigram Jaccard, for hard negatives. Items of the query's own group are
/// skipped, and so is any item `skip` rejects.
struct TrigramIndex {
    grams: Vec<Vec<u32>>,
    postings: AHashMap<u32, Vec<u32>>,
}

impl TrigramIndex {
    fn new(texts: &[String]) -> Self {
        let grams: Vec<Vec<u32>> = texts.iter().map(|t| trigrams(t)).collect();
        let mut postings: AHashMap<u32, Vec<u32>> = AHashMap::new();
        for (i, g) in grams.iter().enumerate() {
            for &t in g {
                postings.entry(t).or_default().push(i as u32);
            }
        }
        TrigramIndex { grams, postings }
    }

    fn nearest(&self, q: usize, skip: impl Fn(usize) -> bool) -> Option<usize> {
        let mut counts: AHashMap<u32, u16> = AHashMap::new();
        for t in &self.grams[q] {
            if let Some(p) = self.postings.get(t) {
                // Very common trigrams say little and cost much.
                if p.len() > 3000 {
                    continue;
                }
                for &i in p {
                    *counts.entry(i).or_default() += 1;
                }
            }
        }
        let nq = self.grams[q].len();
        counts
            .into_iter()
            .filter(|&(i, _)| i as usize != q && !skip(i as usize))
            .map(|(i, c)| {
                let ni = self.grams[i as usize].len();
                let j = f64::from(c) / (nq + ni - usize::from(c)).max(1) as f64;
                (i as usize, j)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
    }
}

fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let inter = a.iter().filter(|x| b.binary_search(x).is_ok()).count();
    inter as f64 / (a.len() + b.len() - inter).max(1) as f64
}

fn token_key(name: &str) -> Vec<String> {
    let mut k: Vec<String> = normalize(name)
        .tokens()
        .iter()
        .map(|t| t.text.clone())
        .collect();
    k.sort();
    k
}

/// One entity's group key: the 2021 and 2025 OFAC SDN files share entry numbers.
fn family_and_key(e: &Entry) -> (String, String) {
    let family = if e.list.starts_with("ofac_sdn") {
        "ofac_sdn".to_string()
    } else {
        e.list.clone()
    };
    let key = format!("{family}:{}", e.id);
    (family, key)
}

/// Alias pairs and hard negatives from the watchlists, one set for persons and one for
/// companies, vessels and aircraft; at most `per_set` positives per set.
pub fn alias_sets(entries: &[Entry], seed: u64, per_set: usize) -> Vec<DevSet> {
    let mut out = Vec::new();
    for (set, want_person) in [("alias_person", true), ("alias_company_vessel", false)] {
        // All names of the kind, with their entity key and family.
        let mut texts: Vec<String> = Vec::new();
        let mut owner: Vec<(String, String)> = Vec::new();
        let mut by_entity: AHashMap<String, Vec<usize>> = AHashMap::new();
        let mut seen: AHashSet<(String, String)> = AHashSet::new();
        for e in entries {
            if (e.schema == Schema::Person) != want_person || e.schema == Schema::Unknown {
                continue;
            }
            let (family, key) = family_and_key(e);
            for n in e.names() {
                let p = borderline_screening::token_set::default_process(n);
                if p.is_empty() || !seen.insert((key.clone(), p)) {
                    continue;
                }
                by_entity.entry(key.clone()).or_default().push(texts.len());
                texts.push(n.to_string());
                owner.push((family.clone(), key.clone()));
            }
        }
        let schema_of = |i: usize| -> Schema {
            if want_person {
                Schema::Person
            } else {
                let _ = i;
                Schema::Company
            }
        };
        let mut keys: Vec<&String> = by_entity.keys().collect();
        keys.sort();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        keys.shuffle(&mut rng);
        let index = TrigramIndex::new(&texts);
        let mut pairs = Vec::new();
        let mut positives = 0usize;
        for key in keys {
            if positives >= per_set {
                break;
            }
            let names = &by_entity[key];
            let held = is_held_aside(key);
            if names.len() >= 2 {
                // Up to two positives per entity: primary / an alias, and two aliases.
                let mut idx = names.clone();
                idx[1..].shuffle(&mut rng);
                for (x, y) in [(0usize, 1usize), (1, 2)] {
                    // An alias that shares no spelling with the name ("ISIL" / "Daesh") is
                    // knowledge, not a name variant: screening finds it by indexing the alias
                    // itself. Pairs with trigram Jaccard below 0.2 are left out.
                    if y < idx.len() && jaccard(&index.grams[idx[x]], &index.grams[idx[y]]) >= 0.2 {
                        pairs.push(DevPair {
                            a: texts[idx[x]].clone(),
                            b: texts[idx[y]].clone(),
                            schema: schema_of(idx[x]),
                            is_match: true,
                            held_aside: held,
                        });
                        positives += 1;
                    }
                }
            }
            // One hard negative per entity: its first name against the nearest name of another
            // entity of the same list family.
            let q = names[0];
            let qk = token_key(&texts[q]);
            let (fam, _) = &owner[q];
            if let Some(n) = index.nearest(q, |i| owner[i].1 == *key || owner[i].0 != *fam) {
                if token_key(&texts[n]) != qk {
                    pairs.push(DevPair {
                        a: texts[q].clone(),
                        b: texts[n].clone(),
                        schema: schema_of(q),
                        is_match: false,
                        // Held aside when either entity is: no held-aside name is tuned on.
                        held_aside: held || is_held_aside(&owner[n].1),
                    });
                }
            }
        }
        out.push(DevSet {
            name: set.to_string(),
            pairs,
        });
    }
    out
}

/// Finds `../shared/data/<sub>` from the working directory or the repository.
pub fn find_shared(sub: &str) -> Option<PathBuf> {
    [
        PathBuf::from("../shared/data").join(sub),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(sub),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// Pairs (latin, native, group) -> positives and nearest-latin negatives.
fn cross_script_set(name: &str, rows: Vec<(String, String)>, seed: u64, per_set: usize) -> DevSet {
    let mut rows = rows;
    rows.sort();
    rows.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rows.shuffle(&mut rng);
    // A pool larger than the sample, so the nearest other name is a close one.
    rows.truncate(per_set * 8);
    let latin: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let index = TrigramIndex::new(&latin);
    let mut pairs = Vec::new();
    for (i, (en, native)) in rows.iter().enumerate().take(per_set) {
        let held = is_held_aside(&en.to_lowercase());
        pairs.push(DevPair {
            a: en.clone(),
            b: native.clone(),
            schema: Schema::Person,
            is_match: true,
            held_aside: held,
        });
        let lower = en.to_lowercase();
        if let Some(n) = index.nearest(i, |j| latin[j].to_lowercase() == lower) {
            pairs.push(DevPair {
                a: en.clone(),
                b: rows[n].1.clone(),
                schema: Schema::Person,
                is_match: false,
                held_aside: held || is_held_aside(&latin[n].to_lowercase()),
            });
        }
    }
    DevSet {
        name: name.to_string(),
        pairs,
    }
}

/// Wikidata transliteration sets (full names for Hebrew and Korean, words for the others).
pub fn wikidata_sets(dir: &Path, seed: u64, per_set: usize) -> anyhow::Result<Vec<DevSet>> {
    let mut out = Vec::new();
    let full = dir.join("fullname_pairs_en_he_ko.csv");
    let mut by_script: AHashMap<String, Vec<(String, String)>> = AHashMap::new();
    let mut rdr =
        csv::Reader::from_path(&full).map_err(|e| anyhow::anyhow!("{}: {e}", full.display()))?;
    for (line, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| anyhow::anyhow!("{} line {}: {e}", full.display(), line + 2))?;
        if let (Some(s), Some(en), Some(nat)) = (r.get(0), r.get(1), r.get(2)) {
            by_script
                .entry(format!("wikidata_{s}_fullname"))
                .or_default()
                .push((en.to_string(), nat.to_string()));
        }
    }
    let tok = dir.join("token_pairs_en_xx.csv");
    let mut rdr =
        csv::Reader::from_path(&tok).map_err(|e| anyhow::anyhow!("{}: {e}", tok.display()))?;
    for (line, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| anyhow::anyhow!("{} line {}: {e}", tok.display(), line + 2))?;
        if let (Some(s), Some(en), Some(nat)) = (r.get(0), r.get(1), r.get(2)) {
            // Hebrew and Korean are covered by full names; words of 3+ letters only.
            if s == "hebrew" || s == "korean" || en.chars().count() < 3 {
                continue;
            }
            by_script
                .entry(format!("wikidata_{s}_word"))
                .or_default()
                .push((en.to_string(), nat.to_string()));
        }
    }
    let mut names: Vec<String> = by_script.keys().cloned().collect();
    names.sort();
    for n in names {
        let rows = by_script.remove(&n).unwrap_or_default();
        out.push(cross_script_set(&n, rows, seed, per_set));
    }
    Ok(out)
}

/// UN persons as listed against the same rows with typos (name-matching-dev).
pub fn un_typo_set(dev_dir: &Path, seed: u64) -> anyhow::Result<DevSet> {
    let plain = super::eval::read_persons(&dev_dir.join("positives_un_untreated.csv"))?;
    let typos = super::eval::read_persons(&dev_dir.join("positives_un_treated.csv"))?;
    let texts: Vec<String> = plain.iter().map(|p| p.name.clone()).collect();
    let index = TrigramIndex::new(&texts);
    let mut pairs = Vec::new();
    let _ = seed;
    for (i, (p, t)) in plain.iter().zip(&typos).enumerate() {
        let held = is_held_aside(&p.name.to_lowercase());
        if p.name != t.name {
            pairs.push(DevPair {
                a: t.name.clone(),
                b: p.name.clone(),
                schema: Schema::Person,
                is_match: true,
                held_aside: held,
            });
        }
        let k = token_key(&p.name);
        if let Some(n) = index.nearest(i, |j| token_key(&texts[j]) == k) {
            pairs.push(DevPair {
                a: t.name.clone(),
                b: texts[n].clone(),
                schema: Schema::Person,
                is_match: false,
                held_aside: held || is_held_aside(&texts[n].to_lowercase()),
            });
        }
    }
    Ok(DevSet {
        name: "un_typos".into(),
        pairs,
    })
}

/// Every development set available: the alias sets always (bundled lists), the others when
/// their data is found. Notes say what was skipped.
pub fn all_sets(
    entries: &[Entry],
    dev_dir: Option<&Path>,
    seed: u64,
) -> (Vec<DevSet>, Vec<String>) {
    let mut notes = Vec::new();
    let mut sets = alias_sets(entries, seed, 3000);
    match dev_dir {
        Some(d) => match un_typo_set(d, seed) {
            Ok(s) => sets.push(s),
            Err(e) => notes.push(format!("un_typos skipped: {e}")),
        },
        None => notes.push("un_typos skipped: name-matching-dev not found".into()),
    }
    match find_shared("names/wikidata-transliteration") {
        Some(d) => match wikidata_sets(&d, seed, 1000) {
            Ok(s) => sets.extend(s),
            Err(e) => notes.push(format!("wikidata sets skipped: {e}")),
        },
        None => notes.push(
            "wikidata sets skipped: ../shared/data/names/wikidata-transliteration not found".into(),
        ),
    }
    (sets, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stable_and_near_the_share() {
        assert_eq!(is_held_aside("un:QDi.001"), is_held_aside("un:QDi.001"));
        let n = (0..10_000)
            .filter(|i| is_held_aside(&format!("ofac_sdn:{i}")))
            .count();
        assert!((2_500..3_500).contains(&n), "{n}");
    }

    #[test]
    fn nearest_by_trigrams_skips_own_group() {
        let texts: Vec<String> = ["acme trading", "acme tradings", "zenith oil", "acme trade"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ix = TrigramIndex::new(&texts);
        assert_eq!(ix.nearest(0, |_| false), Some(1));
        assert_eq!(ix.nearest(0, |i| i == 1), Some(3));
    }
}
