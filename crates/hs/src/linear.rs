//! A discriminative heading model: multinomial logistic regression over the stemmed words and
//! bigrams of all the tariff text the classifier indexes (HS 2022 heading and subheading
//! texts, every US HTSUS and EU CN line with its path below the heading, the vocabulary
//! phrases and the HMRC index-part references), one training example per text, labelled with
//! its heading.
//!
//! Where BM25 asks "how well does this heading's document match the words?", the linear model
//! learns which words *separate* a heading from the headings it is confused with: a word
//! shared by many national lines of one heading but also by its neighbours gets a small or
//! negative weight for the wrong ones. Weights are kept only for (word, heading) pairs that
//! occur in the training text or that a training example's scoring touched (a sparse softmax:
//! headings with no weight for any of the words score 0), so the model holds a few hundred
//! thousand weights and a query costs one pass over its words' weight lists.
//!
//! Training is stochastic gradient descent on the cross-entropy, examples in a fixed
//! pseudo-random order (deterministic), learning rate decaying per epoch; features are the
//! example's distinct term ids scaled to unit length, as are the query's weighted terms.

/// Per term id, the (class, weight) pairs with a weight, sorted by class: what both linear
/// models store and score with.
#[derive(Debug, Clone, Default)]
struct TermWeights {
    postings: Vec<Vec<(u16, f32)>>,
    classes: usize,
}

impl TermWeights {
    /// Adds the class scores of the query terms `keep` accepts (weighted term ids, the query
    /// scaled to unit length as a whole) to `out` (one entry per class) times `scale`.
    fn score_part_into(
        &self,
        query: &[(u32, f32)],
        keep: impl Fn(usize) -> bool,
        scale: f32,
        out: &mut [f32],
    ) {
        let norm: f32 = query.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm <= 0.0 || out.len() < self.classes {
            return;
        }
        for (i, &(t, w)) in query.iter().enumerate() {
            if !keep(i) {
                continue;
            }
            let Some(list) = self.postings.get(t as usize) else {
                continue;
            };
            let x = scale * w / norm;
            for &(c, wc) in list {
                out[c as usize] += x * wc;
            }
        }
    }

    fn weight(&self, term: u32, class: u16) -> f32 {
        self.postings
            .get(term as usize)
            .and_then(|l| {
                l.binary_search_by_key(&class, |(c, _)| *c)
                    .ok()
                    .map(|i| l[i].1)
            })
            .unwrap_or(0.0)
    }

    fn weights(&self) -> usize {
        self.postings.iter().map(Vec::len).sum()
    }
}

/// The indexes `0..n` in a fixed pseudo-random order (Fisher-Yates with xorshift64 from
/// `seed`): the training order of both linear models, the same on every run.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The heading model: per term id, the (heading, weight) pairs with a weight.
#[derive(Debug, Clone, Default)]
pub struct LinearHeadings(TermWeights);

/// One training example: its distinct term ids and its heading index.
pub struct Example {
    pub terms: Vec<u32>,
    pub class: u16,
}

impl LinearHeadings {
    /// Trains on `examples` (term ids below `n_terms`, classes below `n_classes`).
    pub fn train(
        examples: &[Example],
        n_terms: usize,
        n_classes: usize,
        epochs: usize,
        lr: f32,
    ) -> LinearHeadings {
        let mut postings: Vec<Vec<(u16, f32)>> = vec![Vec::new(); n_terms];
        let n = examples.len();
        let order = shuffled(n, 0x9e37_79b9_7f4a_7c15);
        // Dense scores of the classes an example touches (listed in `touched`).
        let mut scores = vec![0f32; n_classes];
        let mut seen = vec![false; n_classes];
        let mut touched: Vec<u16> = Vec::new();
        for epoch in 0..epochs {
            let rate = lr / (1.0 + epoch as f32);
            for &i in &order {
                let ex = &examples[i];
                if ex.terms.is_empty() || ex.class as usize >= n_classes {
                    continue;
                }
                let x = 1.0 / (ex.terms.len() as f32).sqrt();
                for &c in &touched {
                    scores[c as usize] = 0.0;
                    seen[c as usize] = false;
                }
                touched.clear();
                for &t in &ex.terms {
                    for &(c, w) in &postings[t as usize] {
                        if !seen[c as usize] {
                            seen[c as usize] = true;
                            touched.push(c);
                        }
                        scores[c as usize] += w * x;
                    }
                }
                let m = touched
                    .iter()
                    .map(|&c| scores[c as usize])
                    .fold(0f32, f32::max);
                let untouched = n_classes - touched.len();
                let z: f32 = touched
                    .iter()
                    .map(|&c| (scores[c as usize] - m).exp())
                    .sum::<f32>()
                    + untouched as f32 * (-m).exp();
                // Probabilities of the touched classes (scores are not needed afterwards).
                for &c in &touched {
                    scores[c as usize] = (scores[c as usize] - m).exp() / z;
                }
                let gold = ex.class as usize;
                let p_gold = if seen[gold] {
                    scores[gold]
                } else {
                    (-m).exp() / z
                };
                for &t in &ex.terms {
                    let list = &mut postings[t as usize];
                    let mut has_gold = false;
                    for (c, w) in list.iter_mut() {
                        let y = if *c == ex.class {
                            has_gold = true;
                            1.0
                        } else {
                            0.0
                        };
                        *w -= rate * x * (scores[*c as usize] - y);
                    }
                    if !has_gold {
                        list.push((ex.class, rate * x * (1.0 - p_gold)));
                    }
                }
            }
        }
        // Drop negligible weights; sort each list by class for a cache-friendly query pass.
        for list in &mut postings {
            list.retain(|(_, w)| w.abs() > 1e-3);
            list.sort_unstable_by_key(|(c, _)| *c);
            list.shrink_to_fit();
        }
        LinearHeadings(TermWeights {
            postings,
            classes: n_classes,
        })
    }

    /// Adds the heading scores of a query (weighted term ids, scaled here to unit length) to
    /// `out` (one entry per heading) times `scale`.
    pub fn score_into(&self, query: &[(u32, f32)], scale: f32, out: &mut [f32]) {
        self.score_part_into(query, |_| true, scale, out);
    }

    /// [`Self::score_into`] restricted to the query terms `keep` accepts, with the query still
    /// scaled by the length of the whole query: the parts' scores add up to the whole's.
    pub fn score_part_into(
        &self,
        query: &[(u32, f32)],
        keep: impl Fn(usize) -> bool,
        scale: f32,
        out: &mut [f32],
    ) {
        self.0.score_part_into(query, keep, scale, out);
    }

    /// The weight of one term for one heading (0 when none is stored).
    pub fn weight(&self, term: u32, class: u16) -> f32 {
        self.0.weight(term, class)
    }

    /// Number of stored weights.
    pub fn weights(&self) -> usize {
        self.0.weights()
    }
}

/// A discriminative model of the subheading *within its heading*: a conditional logistic
/// regression, P(subheading | heading, words), trained on the same tariff texts labelled with
/// their subheading, each example's softmax taken over the subheadings of its own heading
/// only. The six-digit texts are terse ("Other"); what separates siblings is in the national
/// lines below them ("Of cotton", "Battery powered", "Men's or boys'"), and the model learns
/// which words move an example from one sibling to another, against the siblings it competes
/// with, not against all 5,612 subheadings. The gradient is exact over the siblings (a term
/// gets a weight for every sibling of every example that holds it), so a sibling with no
/// weight for any query word scores 0, like the siblings it was never trained against.
#[derive(Debug, Clone, Default)]
pub struct LinearWithin(TermWeights);

impl LinearWithin {
    /// Trains on `examples` (term ids below `n_terms`; `class` indexes `groups`' members,
    /// `group_of[class]` is the class's group, `groups[g]` the classes of group g).
    pub fn train(
        examples: &[Example],
        n_terms: usize,
        group_of: &[u32],
        groups: &[Vec<u32>],
        epochs: usize,
        lr: f32,
    ) -> LinearWithin {
        let n_classes = group_of.len();
        // Per (term, group), a block of the group's sibling weights in one arena: one hash
        // look-up per term and example, not one per sibling.
        let mut block: crate::index::FastMap<(u32, u32), u32> = crate::index::FastMap::default();
        let mut arena: Vec<f32> = Vec::new();
        let n = examples.len();
        let order = shuffled(n, 0x2545_f491_4f6c_dd1d);
        let mut p: Vec<f32> = Vec::new();
        let mut offsets: Vec<usize> = Vec::new();
        for epoch in 0..epochs {
            let rate = lr / (1.0 + epoch as f32);
            for &i in &order {
                let ex = &examples[i];
                let gold = ex.class as usize;
                let Some(&g) = group_of.get(gold) else {
                    continue;
                };
                let sibs = &groups[g as usize];
                let k = sibs.len();
                if ex.terms.is_empty() || k < 2 {
                    continue;
                }
                let x = 1.0 / (ex.terms.len() as f32).sqrt();
                offsets.clear();
                for &t in &ex.terms {
                    let o = *block.entry((t, g)).or_insert_with(|| {
                        arena.extend(std::iter::repeat_n(0.0, k));
                        (arena.len() - k) as u32
                    });
                    offsets.push(o as usize);
                }
                p.clear();
                p.resize(k, 0.0);
                for &o in &offsets {
                    for (pk, w) in p.iter_mut().zip(&arena[o..o + k]) {
                        *pk += w * x;
                    }
                }
                let m = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut z = 0f32;
                for v in p.iter_mut() {
                    *v = (*v - m).exp();
                    z += *v;
                }
                for (j, v) in p.iter_mut().enumerate() {
                    let y = if sibs[j] as usize == gold { 1.0 } else { 0.0 };
                    *v = rate * x * (*v / z - y);
                }
                for &o in &offsets {
                    for (w, step) in arena[o..o + k].iter_mut().zip(&p) {
                        *w -= step;
                    }
                }
            }
        }
        let mut postings: Vec<Vec<(u16, f32)>> = vec![Vec::new(); n_terms];
        let mut blocks: Vec<((u32, u32), u32)> = block.into_iter().collect();
        blocks.sort_unstable_by_key(|(key, _)| *key);
        for ((t, g), o) in blocks {
            let sibs = &groups[g as usize];
            let o = o as usize;
            if (t as usize) >= n_terms {
                continue;
            }
            for (j, &c) in sibs.iter().enumerate() {
                let v = arena[o + j];
                if v.abs() > 1e-3 {
                    postings[t as usize].push((c as u16, v));
                }
            }
        }
        for list in &mut postings {
            list.sort_unstable_by_key(|(c, _)| *c);
            list.shrink_to_fit();
        }
        LinearWithin(TermWeights {
            postings,
            classes: n_classes,
        })
    }

    /// Adds the subheading scores of a query (weighted term ids, scaled here to unit length)
    /// to `out` (one entry per subheading) times `scale`. Only differences between siblings
    /// carry meaning.
    pub fn score_into(&self, query: &[(u32, f32)], scale: f32, out: &mut [f32]) {
        self.0.score_part_into(query, |_| true, scale, out);
    }

    /// The weight of one term for one class (0 when none is stored).
    pub fn weight(&self, term: u32, class: u16) -> f32 {
        self.0.weight(term, class)
    }

    /// Number of stored weights.
    pub fn weights(&self) -> usize {
        self.0.weights()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_to_separate_classes_that_share_words() {
        // Terms: 0 "drill", 1 "battery", 2 "powered", 3 "lithium", 4 "cell".
        // Class 0 (drills) and class 1 (batteries) share "battery".
        let ex = |terms: Vec<u32>, class: u16| Example { terms, class };
        let examples = vec![
            ex(vec![0, 1, 2], 0),
            ex(vec![0], 0),
            ex(vec![1, 3, 4], 1),
            ex(vec![1, 4], 1),
            ex(vec![3, 1], 1),
        ];
        let m = LinearHeadings::train(&examples, 5, 3, 20, 0.5);
        let score = |q: &[(u32, f32)]| {
            let mut out = vec![0f32; 3];
            m.score_into(q, 1.0, &mut out);
            out
        };
        let drill = score(&[(0, 1.0), (1, 0.5)]);
        assert!(drill[0] > drill[1], "{drill:?}");
        let cell = score(&[(1, 1.0), (4, 1.0)]);
        assert!(cell[1] > cell[0], "{cell:?}");
        // A class never seen scores nothing.
        assert_eq!(cell[2], 0.0);
        assert!(m.weight(0, 0) > 0.0 && m.weight(0, 0) > m.weight(0, 1));
        assert_eq!(m.weight(0, 2), 0.0);
        assert!(m.weights() > 0);
    }

    #[test]
    fn within_a_group_learns_what_separates_siblings_only() {
        // Terms: 0 "drill", 1 "battery", 2 "mains", 3 "cell".
        // Group 0 = classes {0: battery-powered drills, 1: other drills}; group 1 = {2}.
        let ex = |terms: Vec<u32>, class: u16| Example { terms, class };
        let examples = vec![
            ex(vec![0, 1], 0),
            ex(vec![0, 2], 1),
            ex(vec![0], 1),
            ex(vec![1, 3], 2),
        ];
        let group_of = [0, 0, 1];
        let groups = vec![vec![0, 1], vec![2]];
        let m = LinearWithin::train(&examples, 4, &group_of, &groups, 20, 0.5);
        let score = |q: &[(u32, f32)]| {
            let mut out = vec![0f32; 3];
            m.score_into(q, 1.0, &mut out);
            out
        };
        let s = score(&[(0, 1.0), (1, 1.0)]);
        assert!(s[0] > s[1], "battery separates the drill siblings: {s:?}");
        let s = score(&[(0, 1.0), (2, 1.0)]);
        assert!(s[1] > s[0], "{s:?}");
        // A single-member group learns nothing (there is nothing to separate).
        assert_eq!(m.weight(3, 2), 0.0);
        assert_eq!(m.weight(1, 2), 0.0);
        assert!(m.weights() > 0);
    }
}
