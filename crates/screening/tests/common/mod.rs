//! Fixtures shared by the screening specifications.

use borderline_screening::{Entry, Schema};

/// Company entries (list `f`) that make each of `words` common on the list, `per_word` names
/// each, so that the names under test keep their own words rare, as on real lists.
pub fn common_company_words(words: &[&str], per_word: usize) -> Vec<Entry> {
    let mut es = Vec::with_capacity(words.len() * per_word);
    for (i, w) in words.iter().enumerate() {
        for j in 0..per_word {
            es.push(Entry::new(
                "f",
                format!("{i}-{j}"),
                Schema::Company,
                format!("{w} FILLER{i}X{j}"),
            ));
        }
    }
    es
}
