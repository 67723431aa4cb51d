//! Nicknames and the given names they stand for ("Bob" / "Robert"), from the OpenSanctions
//! `rigour` person-name vocabulary (`data/person_nick.csv`, MIT, see NOTICE). Two person-name
//! tokens in one group are read as the same name (similarity 0.9, explained as a nickname).

use ahash::{AHashMap, AHashSet};
use std::sync::OnceLock;

static NICK_CSV: &str = include_str!("../data/person_nick.csv");

/// Token -> groups it belongs to.
fn groups() -> &'static AHashMap<String, AHashSet<u32>> {
    static G: OnceLock<AHashMap<String, AHashSet<u32>>> = OnceLock::new();
    G.get_or_init(|| {
        let mut keys: AHashMap<String, u32> = AHashMap::new();
        let mut out: AHashMap<String, AHashSet<u32>> = AHashMap::new();
        for line in NICK_CSV.lines().skip(1) {
            let Some((key, variant)) = line.split_once(',') else {
                continue;
            };
            let n = keys.len() as u32;
            let g = *keys.entry(key.to_string()).or_insert(n);
            for t in [key, variant] {
                let t = crate::normalize::to_ascii_lower(t.trim());
                out.entry(t).or_default().insert(g);
            }
        }
        out
    })
}

/// Whether two (normalised) given-name tokens are a nickname and its name.
pub fn same_person_name(a: &str, b: &str) -> bool {
    let g = groups();
    match (g.get(a), g.get(b)) {
        (Some(x), Some(y)) => a != b && x.iter().any(|k| y.contains(k)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nicknames_pair_with_their_names() {
        assert!(super::same_person_name("bob", "robert"));
        assert!(!super::same_person_name("bob", "ronald"));
        assert!(!super::same_person_name("bob", "bob"));
    }
}
