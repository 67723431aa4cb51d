//! The second named baseline: RapidFuzz's `token_set_ratio` with its `default_process`
//! (lower case, every non-alphanumeric character a space, trimmed), as a plain Python screening
//! script would call it. The Indel-based `ratio` comes from the `rapidfuzz` crate; the crate
//! has no token functions, so the set logic (a dozen lines, following RapidFuzz's definition)
//! is here. Scores are in [0, 1] (RapidFuzz prints 0-100).

use crate::model::Entry;

/// RapidFuzz `utils.default_process`: lower case, non-alphanumerics to spaces, trimmed.
pub fn default_process(s: &str) -> String {
    let lowered: String = s
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    lowered.trim().to_string()
}

fn ratio(a: &str, b: &str) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    rapidfuzz::fuzz::ratio(a.chars(), b.chars())
}

/// `token_set_ratio(a, b)` on already processed strings.
pub fn token_set_ratio_processed(a: &str, b: &str) -> f64 {
    let mut ta: Vec<&str> = a.split_whitespace().collect();
    let mut tb: Vec<&str> = b.split_whitespace().collect();
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    ta.sort_unstable();
    ta.dedup();
    tb.sort_unstable();
    tb.dedup();
    let sect: Vec<&str> = ta.iter().copied().filter(|t| tb.contains(t)).collect();
    let diff_ab: Vec<&str> = ta.iter().copied().filter(|t| !tb.contains(t)).collect();
    let diff_ba: Vec<&str> = tb.iter().copied().filter(|t| !ta.contains(t)).collect();
    // One set contained in the other: RapidFuzz returns 100.
    if !sect.is_empty() && (diff_ab.is_empty() || diff_ba.is_empty()) {
        return 1.0;
    }
    let sect = sect.join(" ");
    let ab = diff_ab.join(" ");
    let ba = diff_ba.join(" ");
    let join = |x: &str, y: &str| {
        if x.is_empty() {
            y.to_string()
        } else {
            format!("{x} {y}")
        }
    };
    let (sect_ab, sect_ba) = (join(&sect, &ab), join(&sect, &ba));
    let mut best = ratio(&sect_ab, &sect_ba);
    if !sect.is_empty() {
        best = best.max(ratio(&sect, &sect_ab)).max(ratio(&sect, &sect_ba));
    }
    best
}

/// `token_set_ratio(a, b, processor=default_process)` in [0, 1].
pub fn token_set_ratio(a: &str, b: &str) -> f64 {
    token_set_ratio_processed(&default_process(a), &default_process(b))
}

/// Brute force over every list name (no index), as the baseline script would run.
pub struct TokenSetBaseline {
    keys: Vec<(String, usize)>,
}

impl TokenSetBaseline {
    pub fn new(entries: &[Entry]) -> TokenSetBaseline {
        let keys = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.names().map(move |n| (default_process(n), i)))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        TokenSetBaseline { keys }
    }
    /// The best score over all list names and its entry index.
    pub fn best(&self, name: &str) -> Option<(usize, f64)> {
        let q = default_process(name);
        self.keys
            .iter()
            .map(|(k, i)| (*i, token_set_ratio_processed(&q, k)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rapidfuzz_definition() {
        // Subset: 100 in RapidFuzz.
        assert_eq!(
            token_set_ratio("fuzzy was a bear", "fuzzy fuzzy was a bear"),
            1.0
        );
        assert_eq!(token_set_ratio("ACME Ltd.", "acme ltd"), 1.0);
        // Disjoint tokens: plain ratio of the sorted strings.
        let r = token_set_ratio("abcd", "abce");
        assert!((r - 0.75).abs() < 1e-9, "{r}");
        assert_eq!(token_set_ratio("", "x"), 0.0);
        // RapidFuzz documents 100 for this pair (word order and duplicates do not matter).
        assert_eq!(
            token_set_ratio("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear"),
            1.0
        );
        // Shared "acme", differing rest: between 0 and 1.
        let r = token_set_ratio("acme trading", "acme shipping");
        assert!(r > 0.5 && r < 1.0, "{r}");
    }
}
