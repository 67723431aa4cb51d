//! A small BM25 inverted index with real-valued (field-weighted) term frequencies.
//!
//! Hand-written rather than taken from a search engine crate (tantivy): the corpus is a few
//! thousand short documents built in memory at start-up, scoring must return a dense score per
//! document for hierarchical probability computation, and field weights are plain multipliers
//! on term frequency (BM25F-style). That is ~100 lines, with no on-disk index to manage.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (the rustc hasher): a multiply-rotate hash for the short string and id keys of the
/// query path, where SipHash's per-key setup showed in profiles. Not DoS-resistant, which is
/// fine for maps built from the bundled nomenclature or holding one query's terms.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Debug, Clone)]
pub struct Bm25 {
    /// Term ids are assigned in lexicographic order of the terms, so sorting query terms by id
    /// sorts them by text: scores are summed in the same order whichever way terms were found.
    terms: FastMap<String, u32>,
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
        let mut sorted: Vec<&String> = self
            .docs
            .iter()
            .flat_map(|d| d.iter().filter(|(_, &f)| f > 0.0).map(|(t, _)| t))
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let terms: FastMap<String, u32> = sorted
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); terms.len()];
        for (d, tf) in self.docs.iter().enumerate() {
            let norm = k1 * (1.0 - b + b * lens[d] / avg);
            for (t, &f) in tf {
                if f <= 0.0 {
                    continue;
                }
                let Some(&id) = terms.get(t.as_str()) else {
                    continue;
                };
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

    /// Number of distinct terms (ids are below it).
    pub fn n_terms(&self) -> usize {
        self.postings.len()
    }

    /// All (term, id) pairs (for explanations; not on the query path).
    pub fn terms_iter(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.terms.iter().map(|(t, &i)| (t.as_str(), i))
    }

    /// Inverse document frequency of a term (0 when absent).
    pub fn idf(&self, term: &str) -> f32 {
        self.terms.get(term).map_or(0.0, |&i| self.idf[i as usize])
    }

    /// The term's id (ids follow the terms' lexicographic order), `None` when absent.
    #[inline]
    pub fn term_id(&self, term: &str) -> Option<u32> {
        self.terms.get(term).copied()
    }

    /// BM25 contribution of one term (by id, unit query weight) to one document; 0 when the
    /// document does not contain it. Postings are in document order, so this is a binary search.
    pub fn term_doc_score(&self, id: u32, doc: u32) -> f32 {
        let (Some(p), Some(&idf)) = (self.postings.get(id as usize), self.idf.get(id as usize))
        else {
            return 0.0;
        };
        p.binary_search_by_key(&doc, |x| x.0)
            .map_or(0.0, |i| idf * p[i].1)
    }

    /// As [`Bm25::score_into`] for terms given by id (from [`Bm25::term_id`]). Terms are
    /// summed in the order given; pass them sorted by id for the same sums as `score_into`
    /// with terms sorted by text.
    pub fn score_ids_into(&self, query: &[(u32, f32)], out: &mut [f32]) {
        for &(id, qw) in query {
            let (Some(p), Some(&idf)) = (self.postings.get(id as usize), self.idf.get(id as usize))
            else {
                continue;
            };
            let w = qw * idf;
            for &(d, s) in p {
                if let Some(o) = out.get_mut(d as usize) {
                    *o += w * s;
                }
            }
        }
    }

    /// Adds each document's BM25 score for the weighted query terms into `out` (one per document).
    #[cfg(test)]
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

    #[test]
    fn ids_follow_text_order_and_score_like_strings() {
        let mut b = Bm25Builder::default();
        b.add([("zebra", 1.0), ("apple", 2.0), ("mango", 1.0)]);
        b.add([("mango", 1.0), ("kiwi", 1.0)]);
        let idx = b.build(1.2, 0.75);
        let id = |t: &str| idx.term_id(t).expect("indexed term");
        assert!(id("apple") < id("kiwi") && id("kiwi") < id("mango") && id("mango") < id("zebra"));
        assert_eq!(idx.term_id("absent"), None);
        let q = [("mango", 0.7f32), ("zebra", 1.0), ("apple", 0.3)];
        let mut by_text: Vec<(String, f32)> = q.iter().map(|(t, w)| (t.to_string(), *w)).collect();
        by_text.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_id: Vec<(u32, f32)> = q.iter().map(|(t, w)| (id(t), *w)).collect();
        by_id.sort_by_key(|x| x.0);
        let (mut a, mut c) = (vec![0f32; 2], vec![0f32; 2]);
        idx.score_into(&by_text, &mut a);
        idx.score_ids_into(&by_id, &mut c);
        assert_eq!(a, c);
        assert!(a[0] > a[1] && a[1] > 0.0);
    }
}
