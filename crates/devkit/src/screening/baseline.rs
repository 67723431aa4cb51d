//! The plain baseline every evaluation prints alongside Borderline's matcher: token-sorted
//! Jaro-Winkler against every list name (no index), as OFAC's own search tool scores. Names are
//! lower-cased, transliterated to ASCII, punctuation becomes space, tokens are sorted and joined.

use borderline_screening::normalize::to_ascii_lower;
use borderline_screening::Entry;

/// Token-sorted form used by the baseline.
pub fn sorted_key(name: &str) -> String {
    let ascii = to_ascii_lower(name);
    let cleaned: String = ascii
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let mut toks: Vec<&str> = cleaned.split_whitespace().collect();
    toks.sort_unstable();
    toks.join(" ")
}

/// Baseline pair score.
pub fn pair_score(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(&sorted_key(a), &sorted_key(b))
}

/// Brute-force baseline over every name of every entry.
pub struct Baseline {
    keys: Vec<(String, usize)>,
}

impl Baseline {
    pub fn new(entries: &[Entry]) -> Baseline {
        let keys = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.names().map(move |n| (sorted_key(n), i)))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Baseline { keys }
    }
    /// Entries scoring at least `threshold`, best score per entry, best first.
    pub fn screen(&self, name: &str, threshold: f64) -> Vec<(usize, f64)> {
        let q = sorted_key(name);
        let mut best: Vec<(usize, f64)> = Vec::new();
        for (k, e) in &self.keys {
            let s = strsim::jaro_winkler(&q, k);
            if s >= threshold {
                match best.iter_mut().find(|(x, _)| x == e) {
                    Some(b) => b.1 = b.1.max(s),
                    None => best.push((*e, s)),
                }
            }
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1));
        best
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
