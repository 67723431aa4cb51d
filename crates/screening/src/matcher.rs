//! Candidate retrieval and explained scoring.
//!
//! **Index.** Every list name (primary and alias, and each annotation segment of it) is
//! normalised once. Its word and number tokens go into an inverted index (token -> names). For
//! typo tolerance every vocabulary token of 4+ characters is also filed under each of its
//! one-character deletions (a SymSpell-style key index): a query token and a list token within
//! one edit (insertion, deletion, substitution, adjacent transposition) share a key, so fuzzy
//! candidates come from hash look-ups, never from a scan of the lists.
//!
//! **Retrieval.** Each query token looks up its exact and deletion keys; the names it reaches
//! gain the token's weight times its similarity. Names whose accumulated weight covers at least
//! [`MatchConfig::min_coverage`] of the query's weight are scored in full (at most
//! [`MatchConfig::max_candidates`], best first).
//!
//! **Score.** Tokens of the two names are aligned one-to-one, greedily by weighted similarity:
//! exact (1.0), fuzzy (1 - edits / length, allowed edits growing with length), merged ("abdul
//! hai" = "abdulhai"), legal forms (equal canonical tags 1.0, different tags 0.5). Weights are
//! inverse document frequencies over all list names, so "trading" counts less than "rosneft";
//! legal forms weigh [`MatchConfig::legal_form_weight`]. The score is the weighted Dice
//! coefficient of the alignment in [0, 1]. Numbers on both sides that do not agree cap the score
//! at [`MatchConfig::number_conflict_cap`]. Country and address, when the query has them, are
//! evidence: agreement moves the score up towards 1, disagreement scales it down.

use crate::model::{Entry, Schema};
use crate::normalize::{normalize, NormName, Token, TokenKind};
use crate::store::ListStore;
use ahash::{AHashMap, AHashSet};
use serde::Serialize;
use std::sync::Arc;

/// Tunable parameters. The defaults are documented in `docs/screening.md`; they were chosen
/// from first principles (one typo in a long token, legal forms nearly neutral) and checked on
/// the generator, not fitted to the evaluation sets.
#[derive(Debug, Clone, Serialize)]
pub struct MatchConfig {
    /// Hits below this score are not reported.
    pub threshold: f64,
    pub legal_form_weight: f64,
    /// Weight of a one-letter token (an initial).
    pub initial_weight: f64,
    pub number_conflict_cap: f64,
    /// A candidate must reach this share of the query's token weight in retrieval.
    pub min_coverage: f64,
    pub max_candidates: usize,
    /// Multiplier when the query's country is known and the entry's countries exclude it
    /// (companies and vessels; people get the square root of it).
    pub country_mismatch_factor: f64,
    /// Share of the remaining distance to 1 added when the countries agree.
    pub country_match_bonus: f64,
    /// Share of the remaining distance to 1 added when the addresses agree.
    pub address_match_bonus: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            threshold: 0.85,
            legal_form_weight: 0.3,
            initial_weight: 0.5,
            number_conflict_cap: 0.5,
            min_coverage: 0.5,
            max_candidates: 48,
            country_mismatch_factor: 0.90,
            country_match_bonus: 0.15,
            address_match_bonus: 0.2,
        }
    }
}

/// What the caller knows about a party.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Query {
    pub name: String,
    pub schema: Schema,
    /// ISO alpha-2.
    pub country: Option<String>,
    pub address: Option<String>,
}

impl Query {
    pub fn name(name: impl Into<String>) -> Self {
        Query {
            name: name.into(),
            ..Default::default()
        }
    }
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }
    pub fn country(mut self, cc: Option<String>) -> Self {
        self.country = cc;
        self
    }
    pub fn address(mut self, a: Option<String>) -> Self {
        self.address = a;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchHow {
    Exact,
    /// Within `edits` character edits.
    Fuzzy {
        edits: usize,
    },
    /// Two query tokens written as one list token, or the reverse.
    Merged,
    /// Both legal forms (equal or not).
    LegalForm,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenMatch {
    pub query: String,
    pub candidate: String,
    pub how: MatchHow,
    pub similarity: f64,
    pub weight: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Explanation {
    pub matched: Vec<TokenMatch>,
    pub unmatched_query: Vec<String>,
    pub unmatched_candidate: Vec<String>,
    /// Score from names alone, before number, country and address evidence.
    pub name_score: f64,
    pub notes: Vec<String>,
}

impl Explanation {
    /// One line: "rosneft=rosneft, tradng~trading (1 edit), ltd~sa (legal form); unmatched
    /// query: hong, kong; country HK not among entry's CH".
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .matched
            .iter()
            .map(|m| match m.how {
                MatchHow::Exact => format!("{}={}", m.query, m.candidate),
                MatchHow::Fuzzy { edits } => format!(
                    "{}~{} ({} edit{})",
                    m.query,
                    m.candidate,
                    edits,
                    if edits == 1 { "" } else { "s" }
                ),
                MatchHow::Merged => format!("{}~{} (merged)", m.query, m.candidate),
                MatchHow::LegalForm => format!("{}~{} (legal form)", m.query, m.candidate),
            })
            .collect();
        let mut s = parts.join(", ");
        if !self.unmatched_query.is_empty() {
            s.push_str(&format!(
                "; unmatched query: {}",
                self.unmatched_query.join(" ")
            ));
        }
        if !self.unmatched_candidate.is_empty() {
            s.push_str(&format!(
                "; unmatched list: {}",
                self.unmatched_candidate.join(" ")
            ));
        }
        parts.clear();
        for n in &self.notes {
            s.push_str("; ");
            s.push_str(n);
        }
        s
    }
}

/// One list entry matched by a query.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub score: f64,
    pub list: String,
    pub entry_id: String,
    pub entry_name: String,
    /// The list name (primary or alias) that matched best.
    pub matched_name: String,
    pub schema: Schema,
    pub programs: Vec<String>,
    pub countries: Vec<String>,
    pub explanation: Explanation,
    /// Index of the entry in [`Matcher::entries`].
    #[serde(skip)]
    pub entry_index: usize,
}

#[derive(Debug, Clone)]
struct IToken {
    text: Box<str>,
    kind: TokenKind,
    /// Vocabulary id (`u32::MAX` for legal forms, which are not indexed).
    id: u32,
    weight: f32,
}

#[derive(Debug, Clone)]
struct IndexedName {
    entry: u32,
    /// 0 = primary name, i = alias i-1.
    variant: u32,
    tokens: Vec<IToken>,
}

/// The screening index over all loaded lists.
pub struct Matcher {
    entries: Vec<Entry>,
    names: Vec<IndexedName>,
    vocab: AHashMap<Box<str>, u32>,
    vocab_text: Vec<Box<str>>,
    weights: Vec<f32>,
    postings: Vec<Vec<u32>>,
    deletes: AHashMap<Box<str>, Vec<u32>>,
    max_weight: f32,
    pub config: MatchConfig,
}

/// Allowed character edits for a token of this length.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Token similarity and how; `None` when the tokens do not match.
fn token_sim(a: &str, b: &str) -> Option<(f64, MatchHow)> {
    if a == b {
        return Some((1.0, MatchHow::Exact));
    }
    let (la, lb) = (a.len(), b.len());
    let allowed = allowed_edits(la.min(lb));
    if allowed == 0 || la.abs_diff(lb) > allowed {
        return None;
    }
    // Require the first letter to agree when only one edit is allowed: short-token typos that
    // change the initial produce too many coincidences.
    if allowed == 1 && a.as_bytes()[0] != b.as_bytes()[0] {
        return None;
    }
    let d = strsim::osa_distance(a, b);
    if d > allowed {
        return None;
    }
    Some((
        1.0 - d as f64 / la.max(lb) as f64,
        MatchHow::Fuzzy { edits: d },
    ))
}

fn deletions(t: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(t.len());
    for (i, _) in t.char_indices() {
        let mut s = String::with_capacity(t.len());
        s.push_str(&t[..i]);
        s.push_str(&t[i + 1..]);
        out.push(s);
    }
    out
}

/// A normalised name prepared for scoring (weights attached).
#[derive(Debug, Clone)]
pub struct Prepared {
    tokens: Vec<IToken>,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl Matcher {
    /// Builds the index over every entry of every list in `store`.
    pub fn build(store: &ListStore, config: MatchConfig) -> Matcher {
        let entries: Vec<Entry> = store
            .lists()
            .flat_map(|l| l.entries.iter().cloned())
            .collect();
        Self::from_entries(entries, config)
    }

    pub fn from_entries(entries: Vec<Entry>, config: MatchConfig) -> Matcher {
        let mut vocab: AHashMap<Box<str>, u32> = AHashMap::new();
        let mut vocab_text: Vec<Box<str>> = Vec::new();
        let mut postings: Vec<Vec<u32>> = Vec::new();
        let mut raw: Vec<(u32, u32, Vec<Token>)> = Vec::new();
        for (ei, e) in entries.iter().enumerate() {
            let mut seen: AHashSet<Vec<Token>> = AHashSet::new();
            for (vi, name) in e.names().enumerate() {
                let norm = normalize(name);
                let mut segs = norm.segments.clone();
                // Parenthesised parts ("BUTEMBO AIRLINES (BAL)") are also indexed without them.
                if let Some(open) = name.find('(') {
                    let stripped: String = strip_parens(name);
                    if open > 0 {
                        segs.push(normalize(&stripped).tokens().to_vec());
                    }
                }
                for seg in segs {
                    if seg.iter().all(|t| t.kind == TokenKind::LegalForm) {
                        continue;
                    }
                    if seen.insert(seg.clone()) {
                        raw.push((ei as u32, vi as u32, seg));
                    }
                }
            }
        }
        for (ni, (_, _, toks)) in raw.iter().enumerate() {
            let mut local: AHashSet<u32> = AHashSet::new();
            for t in toks.iter().filter(|t| t.kind != TokenKind::LegalForm) {
                let id = match vocab.get(t.text.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = vocab_text.len() as u32;
                        vocab.insert(t.text.clone().into_boxed_str(), id);
                        vocab_text.push(t.text.clone().into_boxed_str());
                        postings.push(Vec::new());
                        id
                    }
                };
                if local.insert(id) {
                    postings[id as usize].push(ni as u32);
                }
            }
        }
        let n = raw.len().max(1) as f32;
        let weights: Vec<f32> = postings
            .iter()
            .map(|p| (1.0 + n / p.len().max(1) as f32).ln())
            .collect();
        let max_weight = (1.0 + n).ln();
        let mut deletes: AHashMap<Box<str>, Vec<u32>> = AHashMap::new();
        for (id, t) in vocab_text.iter().enumerate() {
            if t.len() >= 4 && !t.bytes().all(|b| b.is_ascii_digit()) {
                for d in deletions(t) {
                    deletes
                        .entry(d.into_boxed_str())
                        .or_default()
                        .push(id as u32);
                }
            }
        }
        let mut m = Matcher {
            entries,
            names: Vec::new(),
            vocab,
            vocab_text,
            weights,
            postings,
            deletes,
            max_weight,
            config,
        };
        m.names = raw
            .into_iter()
            .map(|(entry, variant, toks)| IndexedName {
                entry,
                variant,
                tokens: m.prepare_tokens(&toks),
            })
            .collect();
        m
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Number of indexed name variants (primary names, aliases and their segments).
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    fn token_weight(&self, t: &Token) -> (u32, f32) {
        match t.kind {
            TokenKind::LegalForm => (u32::MAX, self.config.legal_form_weight as f32),
            _ => {
                let (id, w) = match self.vocab.get(t.text.as_str()) {
                    Some(&id) => (id, self.weights[id as usize]),
                    None => (u32::MAX, self.max_weight),
                };
                if t.text.len() == 1 && t.kind == TokenKind::Word {
                    (id, w.min(self.config.initial_weight as f32))
                } else {
                    (id, w)
                }
            }
        }
    }

    fn prepare_tokens(&self, toks: &[Token]) -> Vec<IToken> {
        toks.iter()
            .map(|t| {
                let (id, weight) = self.token_weight(t);
                IToken {
                    text: t.text.clone().into_boxed_str(),
                    kind: t.kind,
                    id,
                    weight,
                }
            })
            .collect()
    }

    /// Prepares a token list (from [`normalize`]) for [`Matcher::score_prepared`].
    pub fn prepare(&self, tokens: &[Token]) -> Prepared {
        Prepared {
            tokens: self.prepare_tokens(tokens),
        }
    }

    /// Scores two names against each other (the `screen compare` operation), with token weights
    /// from the loaded lists. Returns the best over annotation segments.
    pub fn compare(&self, a: &str, b: &str, schema: Schema) -> (f64, Explanation) {
        let (na, nb) = (normalize(a), normalize(b));
        let mut best: Option<(f64, Explanation)> = None;
        for sa in &na.segments {
            for sb in &nb.segments {
                let (pa, pb) = (self.prepare(sa), self.prepare(sb));
                let (s, ex) = self.score_prepared(&pa, &pb, schema);
                if best.as_ref().is_none_or(|(bs, _)| s > *bs) {
                    best = Some((s, ex));
                }
            }
        }
        best.unwrap_or((0.0, Explanation::default()))
    }

    /// The explained pair score of two prepared names (see the module documentation).
    pub fn score_prepared(&self, q: &Prepared, c: &Prepared, schema: Schema) -> (f64, Explanation) {
        self.score_tokens(&q.tokens, &c.tokens, schema)
    }

    fn score_tokens(&self, qt: &[IToken], ct: &[IToken], _schema: Schema) -> (f64, Explanation) {
        let mut pairs: Vec<(f64, usize, usize, f64, MatchHow)> = Vec::new();
        for (i, a) in qt.iter().enumerate() {
            for (j, b) in ct.iter().enumerate() {
                let r = match (a.kind, b.kind) {
                    (TokenKind::LegalForm, TokenKind::LegalForm) => Some((
                        if a.text == b.text { 1.0 } else { 0.5 },
                        MatchHow::LegalForm,
                    )),
                    (TokenKind::Number, TokenKind::Number) => {
                        (a.text == b.text).then_some((1.0, MatchHow::Exact))
                    }
                    (TokenKind::Word, TokenKind::Word) => {
                        if a.id != u32::MAX && a.id == b.id {
                            Some((1.0, MatchHow::Exact))
                        } else {
                            token_sim(&a.text, &b.text)
                        }
                    }
                    _ => None,
                };
                if let Some((sim, how)) = r {
                    let w = b.weight as f64;
                    pairs.push((sim * w, i, j, sim, how));
                }
            }
        }
        pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
        let mut q_used = vec![false; qt.len()];
        let mut c_used = vec![false; ct.len()];
        let mut ex = Explanation::default();
        let mut num = 0.0f64;
        let mut den = 0.0f64;
        for (_, i, j, sim, how) in pairs {
            if q_used[i] || c_used[j] {
                continue;
            }
            q_used[i] = true;
            c_used[j] = true;
            let w = ct[j].weight as f64;
            num += 2.0 * sim * w;
            den += 2.0 * w;
            ex.matched.push(TokenMatch {
                query: qt[i].text.to_string(),
                candidate: ct[j].text.to_string(),
                how,
                similarity: sim,
                weight: w,
            });
        }
        // Merged tokens: two unmatched adjacent tokens on one side against one on the other.
        self.merge_pass(
            qt,
            ct,
            &mut q_used,
            &mut c_used,
            &mut num,
            &mut den,
            &mut ex,
            false,
        );
        self.merge_pass(
            ct,
            qt,
            &mut c_used,
            &mut q_used,
            &mut num,
            &mut den,
            &mut ex,
            true,
        );
        for (i, t) in qt.iter().enumerate() {
            if !q_used[i] {
                den += t.weight as f64;
                ex.unmatched_query.push(t.text.to_string());
            }
        }
        for (j, t) in ct.iter().enumerate() {
            if !c_used[j] {
                den += t.weight as f64;
                ex.unmatched_candidate.push(t.text.to_string());
            }
        }
        let mut score = if den > 0.0 { num / den } else { 0.0 };
        ex.name_score = score;
        let qn: Vec<&str> = qt
            .iter()
            .filter(|t| t.kind == TokenKind::Number)
            .map(|t| &*t.text)
            .collect();
        let cn: Vec<&str> = ct
            .iter()
            .filter(|t| t.kind == TokenKind::Number)
            .map(|t| &*t.text)
            .collect();
        if !qn.is_empty() && !cn.is_empty() {
            let mut a = qn.clone();
            let mut b = cn.clone();
            a.sort_unstable();
            b.sort_unstable();
            if a != b {
                score = score.min(self.config.number_conflict_cap);
                ex.notes.push(format!(
                    "numbers differ: {} vs {}",
                    qn.join(" "),
                    cn.join(" ")
                ));
            }
        }
        (score.clamp(0.0, 1.0), ex)
    }

    #[allow(clippy::too_many_arguments)]
    fn merge_pass(
        &self,
        two: &[IToken],
        one: &[IToken],
        two_used: &mut [bool],
        one_used: &mut [bool],
        num: &mut f64,
        den: &mut f64,
        ex: &mut Explanation,
        swapped: bool,
    ) {
        if two.len() < 2 {
            return;
        }
        for j in 0..one.len() {
            if one_used[j] || one[j].kind != TokenKind::Word || one[j].text.len() < 5 {
                continue;
            }
            'pairs: for i in 0..two.len() {
                for k in 0..two.len() {
                    if i == k || two_used[i] || two_used[k] {
                        continue;
                    }
                    if two[i].kind != TokenKind::Word || two[k].kind != TokenKind::Word {
                        continue;
                    }
                    let joined = format!("{}{}", two[i].text, two[k].text);
                    if let Some((sim, _)) = token_sim(&joined, &one[j].text) {
                        two_used[i] = true;
                        two_used[k] = true;
                        one_used[j] = true;
                        let w = one[j].weight.max(two[i].weight.min(two[k].weight)) as f64;
                        *num += 2.0 * sim * w;
                        *den += 2.0 * w;
                        let (q, c) = if swapped {
                            (one[j].text.to_string(), joined)
                        } else {
                            (
                                format!("{} {}", two[i].text, two[k].text),
                                one[j].text.to_string(),
                            )
                        };
                        ex.matched.push(TokenMatch {
                            query: q,
                            candidate: c,
                            how: MatchHow::Merged,
                            similarity: sim,
                            weight: w,
                        });
                        break 'pairs;
                    }
                }
            }
        }
    }

    /// Vocabulary tokens matching a query token: (vocab id, similarity).
    fn lookup(&self, t: &IToken, out: &mut Vec<(u32, f64)>) {
        out.clear();
        if t.id != u32::MAX {
            out.push((t.id, 1.0));
        }
        if t.kind != TokenKind::Word || t.text.len() < 4 {
            return;
        }
        let mut keys: Vec<String> = deletions(&t.text);
        keys.push(t.text.to_string());
        for k in keys {
            if let Some(ids) = self.deletes.get(k.as_str()) {
                for &id in ids {
                    if id == t.id || out.iter().any(|(x, _)| *x == id) {
                        continue;
                    }
                    if let Some((sim, _)) = token_sim(&t.text, &self.vocab_text[id as usize]) {
                        out.push((id, sim));
                    }
                }
            }
        }
        // Keys that are themselves vocabulary words (a deletion on the query side only).
        for k in deletions(&t.text) {
            if let Some(&id) = self.vocab.get(k.as_str()) {
                if !out.iter().any(|(x, _)| *x == id) {
                    if let Some((sim, _)) = token_sim(&t.text, &k) {
                        out.push((id, sim));
                    }
                }
            }
        }
    }

    /// Screens one party against every loaded list: hits at or above the threshold, best first,
    /// one per entry.
    pub fn screen(&self, q: &Query) -> Vec<Hit> {
        self.screen_with_threshold(q, self.config.threshold)
    }

    /// As [`Matcher::screen`] with an explicit threshold (0 returns every scored candidate).
    pub fn screen_with_threshold(&self, q: &Query, threshold: f64) -> Vec<Hit> {
        let norm = normalize(&q.name);
        let mut best: AHashMap<u32, (f64, u32, Explanation)> = AHashMap::new();
        for seg in &norm.segments {
            let prepared = self.prepare(seg);
            for (ni, score, ex) in self.retrieve_and_score(&prepared, q) {
                let e = self.names[ni as usize].entry;
                if best.get(&e).is_none_or(|b| score > b.0) {
                    best.insert(e, (score, ni, ex));
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .filter(|(_, (s, _, _))| *s >= threshold)
            .map(|(e, (score, ni, explanation))| {
                let entry = &self.entries[e as usize];
                let v = self.names[ni as usize].variant as usize;
                let matched_name = if v == 0 {
                    entry.name.clone()
                } else {
                    entry.aliases.get(v - 1).cloned().unwrap_or_default()
                };
                Hit {
                    score,
                    list: entry.list.clone(),
                    entry_id: entry.id.clone(),
                    entry_name: entry.name.clone(),
                    matched_name,
                    schema: entry.schema,
                    programs: entry.programs.clone(),
                    countries: entry.countries.clone(),
                    explanation,
                    entry_index: e as usize,
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        hits
    }

    fn retrieve_and_score(&self, q: &Prepared, query: &Query) -> Vec<(u32, f64, Explanation)> {
        let mut acc: AHashMap<u32, f32> = AHashMap::new();
        let mut found = Vec::new();
        let mut total = 0.0f32;
        for t in q.tokens.iter().filter(|t| t.kind != TokenKind::LegalForm) {
            self.lookup(t, &mut found);
            let tw = if t.id != u32::MAX {
                t.weight
            } else {
                // An unknown (misspelt) token weighs what the list tokens it resembles weigh.
                found
                    .iter()
                    .map(|(id, _)| self.weights[*id as usize])
                    .reduce(f32::max)
                    .unwrap_or(t.weight)
            };
            total += tw;
            for &(id, sim) in &found {
                let w = self.weights[id as usize] * sim as f32;
                for &ni in &self.postings[id as usize] {
                    *acc.entry(ni).or_insert(0.0) += w;
                }
            }
        }
        // Adjacent query tokens written as one list token ("abdul hai" / "abdulhai").
        let words: Vec<&IToken> = q
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .collect();
        for pair in words.windows(2) {
            let joined = format!("{}{}", pair[0].text, pair[1].text);
            let probe = IToken {
                id: self.vocab.get(joined.as_str()).copied().unwrap_or(u32::MAX),
                text: joined.into_boxed_str(),
                kind: TokenKind::Word,
                weight: 0.0,
            };
            self.lookup(&probe, &mut found);
            for &(id, sim) in &found {
                let w = self.weights[id as usize] * sim as f32;
                for &ni in &self.postings[id as usize] {
                    *acc.entry(ni).or_insert(0.0) += w;
                }
            }
        }
        if total <= 0.0 {
            return Vec::new();
        }
        let floor = total * self.config.min_coverage as f32;
        let mut cands: Vec<(u32, f32)> = acc.into_iter().filter(|(_, a)| *a >= floor).collect();
        cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        cands.truncate(self.config.max_candidates);
        let qcountry = query.country.as_deref();
        let qaddr = query.address.as_deref().map(address_tokens);
        cands
            .into_iter()
            .filter_map(|(ni, _)| {
                let name = &self.names[ni as usize];
                let entry = &self.entries[name.entry as usize];
                if !query.schema.compatible(entry.schema) {
                    return None;
                }
                let (mut s, mut ex) = self.score_tokens(&q.tokens, &name.tokens, query.schema);
                s = self.apply_evidence(s, &mut ex, entry, query.schema, qcountry, qaddr.as_ref());
                Some((ni, s, ex))
            })
            .collect()
    }

    /// Country and address evidence (see the module documentation).
    pub fn apply_evidence(
        &self,
        mut s: f64,
        ex: &mut Explanation,
        entry: &Entry,
        schema: Schema,
        country: Option<&str>,
        address: Option<&AHashSet<String>>,
    ) -> f64 {
        if let Some(cc) = country {
            if !entry.countries.is_empty() {
                if entry.countries.iter().any(|c| c.eq_ignore_ascii_case(cc)) {
                    s += (1.0 - s) * self.config.country_match_bonus;
                    ex.notes.push(format!("country {cc} agrees"));
                } else {
                    let f = if schema == Schema::Person || entry.schema == Schema::Person {
                        self.config.country_mismatch_factor.sqrt()
                    } else {
                        self.config.country_mismatch_factor
                    };
                    s *= f;
                    ex.notes.push(format!(
                        "country {cc} not among entry's {}",
                        entry.countries.join("/")
                    ));
                }
            }
        }
        if let Some(qa) = address {
            if !qa.is_empty() {
                let best = entry
                    .addresses
                    .iter()
                    .map(|a| {
                        let at = address_tokens(&a.text);
                        let inter = qa.intersection(&at).count() as f64;
                        inter / qa.len().min(at.len()).max(1) as f64
                    })
                    .fold(0.0, f64::max);
                if best >= 0.6 {
                    s += (1.0 - s) * self.config.address_match_bonus * best;
                    ex.notes
                        .push(format!("address agrees ({:.0}% of tokens)", best * 100.0));
                }
            }
        }
        s.clamp(0.0, 1.0)
    }
}

fn strip_parens(s: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Address tokens for evidence: normalised words of 3+ characters and all numbers.
pub fn address_tokens(a: &str) -> AHashSet<String> {
    let n: NormName = normalize(a);
    n.tokens()
        .iter()
        .filter(|t| t.kind == TokenKind::Number || t.text.len() >= 3)
        .map(|t| t.text.clone())
        .collect()
}

/// A matcher shared between threads whose lists can be swapped while screening goes on: readers
/// take a snapshot (`Arc`) and a reload builds a whole new index before it replaces the old.
#[derive(Clone)]
pub struct SharedMatcher(Arc<std::sync::RwLock<Arc<Matcher>>>);

impl SharedMatcher {
    pub fn new(m: Matcher) -> Self {
        SharedMatcher(Arc::new(std::sync::RwLock::new(Arc::new(m))))
    }
    pub fn snapshot(&self) -> Arc<Matcher> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
    pub fn swap(&self, m: Matcher) {
        let new = Arc::new(m);
        match self.0.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
    }
}
