//! A small BM25 inverted index with real-valued (field-weighted) term frequencies.
//!
//! Hand-written rather than taken from a search engine crate (tantivy): the corpus is a few
//! thousand short documents built in memory at start-up, scoring must return a dense score per
//! document for hierarchical probability computation, and field weights are plain multipliers
//! on term frequency (BM25F-style). That is ~100 lines, with no on-disk index to manage.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct Bm25 {
    terms: HashMap<String, u32>,
    postings: Vec<Vec<(u32, f32)>>,
    idf: Vec<f32>,
    n_docs: usize,
}

#[derive(Debug, Default)]
pub struct Bm25Builder {
    docs: Vec<BTreeMap<String, f32>>,
}

impl Bm25Builder {
    /// Adds a document; returns its id. `terms` are (term, weight) pairs; repeated terms add up.
    pub fn add<'a>(&mut self, terms: impl IntoIterator<Item = (&'a str, f32)>) -> usize {
        let mut tf: BTreeMap<String, f32> = BTreeMap::new();
        for (t, w) in terms {
            *tf.entry(t.to_string()).or_default() += w;
        }
        self.docs.push(tf);
        self.docs.len() - 1
    }

    /// Adds terms to an existing document.
    pub fn extend<'a>(&mut self, doc: usize, terms: impl IntoIterator<Item = (&'a str, f32)>) {
        if let Some(tf) = self.docs.get_mut(doc) {
            for (t, w) in terms {
                *tf.entry(t.to_string()).or_default() += w;
            }
        }
    }

    pub fn build(self, k1: f32, b: f32) -> Bm25 {
        let n = self.docs.len();
        let lens: Vec<f32> = self.docs.iter().map(|d| d.values().sum()).collect();
        let avg = (lens.iter().sum::<f32>() / n.max(1) as f32).max(1e-6);
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, f32)>> = Vec::new();
        for (d, tf) in self.docs.into_iter().enumerate() {
            let norm = k1 * (1.0 - b + b * lens[d] / avg);
            for (t, f) in tf {
                if f <= 0.0 {
                    continue;
                }
                let id = *terms.entry(t).or_insert_with(|| {
                    postings.push(Vec::new());
                    (postings.len() - 1) as u32
                });
                // BM25 term-frequency saturation, precomputed per posting.
                postings[id as usize].push((d as u32, f * (k1 + 1.0) / (f + norm)));
            }
        }
        let idf = postings
            .iter()
            .map(|p| {
                let df = p.len() as f32;
                ((n as f32 - df + 0.5) / (df + 0.5) + 1.0).ln()
            })
            .collect();
        Bm25 {
            terms,
            postings,
            idf,
            n_docs: n,
        }
    }
}

impl Bm25 {
    pub fn n_docs(&self) -> usize {
        self.n_docs
    }

    /// Inverse document frequency of a term (0 when absent).
    pub fn idf(&self, term: &str) -> f32 {
        self.terms.get(term).map_or(0.0, |&i| self.idf[i as usize])
    }

    /// Adds each document's BM25 score for the weighted query terms into `out` (len = n_docs).
    pub fn score_into(&self, query: &[(String, f32)], out: &mut [f32]) {
        for (t, qw) in query {
            if let Some(&id) = self.terms.get(t) {
                let w = qw * self.idf[id as usize];
                for &(d, s) in &self.postings[id as usize] {
                    if let Some(o) = out.get_mut(d as usize) {
                        *o += w * s;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarer_and_repeated_terms_score_higher() {
        let mut b = Bm25Builder::default();
        b.add([("shrimp", 1.0), ("frozen", 1.0)]);
        b.add([("fish", 1.0), ("frozen", 1.0)]);
        b.add([("fish", 2.0), ("fillet", 1.0)]);
        let idx = b.build(1.2, 0.75);
        let mut s = vec![0.0; 3];
        idx.score_into(&[("shrimp".into(), 1.0), ("frozen".into(), 1.0)], &mut s);
        assert!(s[0] > s[1] && s[1] > 0.0 && s[2] == 0.0, "{s:?}");
        assert!(idx.idf("shrimp") > idx.idf("frozen"));
        assert_eq!(idx.idf("absent"), 0.0);
    }
}
