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
use crate::normalize::{normalize, normalize_person, NormName, Token, TokenKind};
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
    /// Multiplier when a person query's year of birth lies outside every year of birth the
    /// list gives for the entry (one year of tolerance): a homonym, most likely. 0.8 takes an
    /// otherwise identical name (1.0) below the default threshold, which is the intent.
    pub dob_mismatch_factor: f64,
    /// Share of the remaining distance to 1 added when the years of birth agree.
    pub dob_match_bonus: f64,
    /// Persons: weight multiplier of query name tokens left unmatched. A listed person's name
    /// may omit a second surname or a patronymic, but a given name or surname of the query that
    /// the list name lacks is evidence of another person.
    pub person_unmatched_query_factor: f64,
    /// Persons: score cap when only one token of a multi-token name is matched (a shared
    /// surname or a mononym is not a person match).
    pub person_single_token_cap: f64,
    /// Score with the calibrated pair model ([`crate::pairmodel`]); false gives the rule
    /// score (used to compute training features and for comparison).
    pub use_model: bool,
}

/// The rule score's own decision point (the default threshold before the pair model): the
/// letter-level comparison runs only for names the token alignment leaves below it.
const RULE_THRESHOLD: f64 = 0.85;

/// Weight share of an unmatched token of a known kind (title, branch word, former-name
/// marker): it is explained, so it costs a quarter of an unexplained word.
const KNOWN_EXTRA_FACTOR: f64 = 0.25;

/// Multiplier of a match between a part of a name (one segment) and the other name.
const PART_FACTOR: f64 = 0.99;

/// Multiplier of two names in one native script that read alike but differ in characters.
const SAME_READING_FACTOR: f64 = 0.97;

/// Similarity of two tokens with the same consonant skeleton.
const PHONETIC_SIM: f64 = 0.85;

/// Persons: similarity of an initial and a name starting with it, counted at the initial's
/// weight (at most `initial_weight`): it explains the name word ("Jaleel I." / "Jalil
/// Ibrahim") without counting as a matched name for the two-token rule.
const INITIAL_SIM: f64 = 0.6;

fn is_initial_of(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    short.len() == 1 && long.len() >= 2 && long.as_bytes()[0] == short.as_bytes()[0]
}

/// A word is distinctive when its weight (inverse document frequency) is at least this share
/// of the largest weight (a word of one name): with ~60k indexed names, one in ~400 names or
/// rarer.
const DISTINCTIVE_SHARE: f64 = 0.55;

/// Other entries named with the shared words counted up to this many (model feature 23,
/// index 22, `shared_words_other_entries`, is the count over this).
const FAMILY_CAP: usize = 4;

/// Names scanned for [`Matcher::other_entries_sharing`]: a rarest shared word in more names
/// than this is generic.
const FAMILY_SCAN: usize = 256;

/// Arabic article written glued to the name in one romanisation and apart (and so dropped)
/// in the other: "alarifi" / "arifi", "aldabbas" / "dabas". The rest must have 4+ letters and
/// equal the other word, doubled letters aside ("alberto" / "berta" is another name).
fn article_glued(a: &str, b: &str) -> bool {
    fn strip(t: &str) -> Option<&str> {
        let rest = t.strip_prefix("al").or_else(|| t.strip_prefix("el"))?;
        (rest.len() >= 4).then_some(rest)
    }
    let near = |x: &str, y: &str| x == y || equal_without_doubles(x.as_bytes(), y.as_bytes());
    match (strip(a), strip(b)) {
        (Some(x), _) if near(x, b) => true,
        (_, Some(y)) if near(y, a) => true,
        _ => false,
    }
}

/// Consonant skeleton of a romanised name word, for transliteration variants: letters that
/// romanisations of Arabic, Persian, Cyrillic and other scripts interchange fold together
/// (q/k/g/c -> k, z/s -> s, d/t/dh/th -> t, v/w -> v, ph/f -> f, x -> ks, j/dj -> j), vowels,
/// h, y and doubled letters drop. `None` below three consonants: short skeletons say too
/// little ("ali" / "eli").
fn skeleton(t: &str) -> Option<Skel> {
    let b = t.as_bytes();
    if b.len() < 4 || b.len() > SKEL_MAX || !b.iter().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let mut out = Skel {
        b: [0; SKEL_MAX],
        len: 0,
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (k, step) = match (c, next) {
            (b'p', Some(b'h')) => (Some(b'f'), 2),
            (b'k', Some(b'h')) => (Some(b'k'), 2),
            (b'g', Some(b'h')) => (Some(b'k'), 2),
            (b'd', Some(b'h')) | (b't', Some(b'h')) => (Some(b't'), 2),
            (b's', Some(b'h')) | (b'c', Some(b'h')) => (Some(b'S'), 2),
            (b'z', Some(b'h')) => (Some(b'S'), 2),
            (b'd', Some(b'j')) => (Some(b'j'), 2),
            (b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'h' | b'w' | b'\'', _) => (None, 1),
            (b'q' | b'k' | b'g' | b'c', _) => (Some(b'k'), 1),
            (b'z' | b's', _) => (Some(b's'), 1),
            (b'd' | b't', _) => (Some(b't'), 1),
            (b'v', _) => (Some(b'v'), 1),
            (b'f', _) => (Some(b'f'), 1),
            (b'x', _) => {
                out.push(b'k');
                (Some(b's'), 1)
            }
            (c, _) => (Some(c), 1),
        };
        if let Some(k) = k {
            out.push(k);
        }
        i += step;
    }
    (out.len >= 3).then_some(out)
}

/// Longest word with a skeleton (a skeleton is never longer: "x" gives two letters, but
/// letters before it give at most one each and vowels none).
const SKEL_MAX: usize = 40;

/// A consonant skeleton on the stack: the scorer compares them for every pair of unmatched
/// words, so they must not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Skel {
    b: [u8; SKEL_MAX],
    len: u8,
}

impl Skel {
    /// Appends a letter unless it repeats the last one (doubled letters fold).
    fn push(&mut self, k: u8) {
        let n = self.len as usize;
        if (n > 0 && self.b[n - 1] == k) || n >= SKEL_MAX {
            return;
        }
        self.b[n] = k;
        self.len += 1;
    }
}

/// Consonant key for abjad scripts (Hebrew, Arabic, Persian): their romanisation writes few or
/// no vowels ("langer" is "lngr", "dobkin" "dvbqyn"), and "v", "w", "y" stand for vowels as
/// often as for consonants. Labials (b, p, f, v) fold to one class, as do k/q/g/c/kh/ch, s/z/
/// ts/tz/x, d/t/th; vowels, h, w, y and apostrophes drop, and so does "v" on the abjad side
/// (the letter vav, mostly "o" or "u"). `None` when the key would exceed [`SKEL_MAX`].
fn abjad_key(t: &str, abjad_side: bool) -> Option<Skel> {
    let b = t.as_bytes();
    if b.len() > SKEL_MAX || !b.iter().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let mut out = Skel {
        b: [0; SKEL_MAX],
        len: 0,
    };
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let (k, step) = match (b[i], next) {
            (b'k' | b'c' | b'g', Some(b'h')) => (Some(b'k'), 2),
            (b's', Some(b'h')) => (Some(b'S'), 2),
            (b't', Some(b's' | b'z')) => (Some(b's'), 2),
            (b't' | b'd', Some(b'h')) => (Some(b't'), 2),
            (b'p', Some(b'h')) => (Some(b'p'), 2),
            (b'v', _) if abjad_side => (None, 1),
            (b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'h' | b'w' | b'\'', _) => (None, 1),
            (b'b' | b'p' | b'f' | b'v', _) => (Some(b'p'), 1),
            (b'k' | b'q' | b'g' | b'c', _) => (Some(b'k'), 1),
            (b's' | b'z', _) => (Some(b's'), 1),
            (b'x', _) => {
                out.push(b'k');
                (Some(b's'), 1)
            }
            (b'd' | b't', _) => (Some(b't'), 1),
            (c, _) => (Some(c), 1),
        };
        if let Some(k) = k {
            out.push(k);
        }
        i += step;
    }
    Some(out)
}

/// A person's name word written without vowels (an abjad script's romanisation: no a, e, i,
/// o, u; 3+ letters) against a word with vowels: the same consonant key of 3+ classes, or of
/// 5+ classes within one edit, with the same first class ("lngr" / "langer", "qvzntsvbh" /
/// "kuznetsova"). Shorter keys ("msh" / "moshe" = "mS") say too little.
fn abjad_match(a: &str, b: &str) -> bool {
    let vowelless = |t: &str| t.len() >= 3 && !t.bytes().any(|c| b"aeiou".contains(&c));
    let (ab, lat) = match (vowelless(a), vowelless(b)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return false,
    };
    if lat.len() < 3 {
        return false;
    }
    let (Some(ka), Some(kl)) = (abjad_key(ab, true), abjad_key(lat, false)) else {
        return false;
    };
    let (x, y) = (&ka.b[..ka.len as usize], &kl.b[..kl.len as usize]);
    if x.len().min(y.len()) < 3 || x[0] != y[0] {
        return false;
    }
    x == y || (x.len().min(y.len()) >= 5 && bounded_osa(x, y, 1).is_some())
}

/// Vowel-pattern key of a romanised person-name word: the consonants as written (h, w, y
/// kept, q as k, dh as z), each run of vowels one mark, doubled letters one, and the
/// diphthongs "ei" / "ey" / "ai" as "ay" ("hussein" and "husayn" are h-V-s-V-y-n, "muhammad"
/// and "mohamed" m-V-h-V-m-V-d, "kazim" and "kadhim" k-V-z-V-m, "youssef" and "yusuf"
/// y-V-s-V-f). Where the vowels stand counts: "mahmoud" (m-V-h-m-V-d) is not "muhammad".
fn vowel_pattern_key(t: &str) -> Option<Skel> {
    let b = t.as_bytes();
    if b.len() < 5 || b.len() > SKEL_MAX || !b.iter().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let is_vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    let mut out = Skel {
        b: [0; SKEL_MAX],
        len: 0,
    };
    let mut i = 0;
    while i < b.len() {
        let (c, next) = (b[i], b.get(i + 1).copied());
        match (c, next) {
            (b'd', Some(b'h')) => {
                out.push(b'z');
                i += 2;
            }
            (b'e' | b'a', Some(b'i' | b'y')) => {
                out.push(b'V');
                // "ei" / "ey" / "ai" / "ay" before a consonant or at the end: a y glide.
                if b.get(i + 2).is_none_or(|&n| !is_vowel(n)) {
                    out.push(b'y');
                    i += 2;
                } else {
                    i += 1;
                }
            }
            (c, _) if is_vowel(c) => {
                out.push(b'V');
                i += 1;
            }
            (b'q', _) => {
                out.push(b'k');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Persons: two words of 5+ letters with one vowel-pattern key (see [`vowel_pattern_key`]) of
/// 5+ marks, spelled alike, not two pinyin syllables: one Arabic or Persian name in two
/// romanisations.
fn vowel_pattern_match(a: &str, b: &str) -> bool {
    // Two romanised Chinese syllables are two names ("zhong" / "zhang"), as in the edit rule.
    if a == b || a.len().abs_diff(b.len()) > 3 || (is_pinyin_syllable(a) && is_pinyin_syllable(b)) {
        return false;
    }
    match (vowel_pattern_key(a), vowel_pattern_key(b)) {
        (Some(x), Some(y)) => x.len >= 5 && x == y && spelled_alike(a, b),
        _ => false,
    }
}

/// Further conditions for a skeleton match: both words of 5+ letters, lengths within two,
/// the same kind of first letter (both vowels, or the same consonant class, "h" its own), and
/// for persons not two romanised Chinese syllables (different names, as in the edit rule).
fn skeleton_pair_ok(a: &str, b: &str, person: bool) -> bool {
    let class = |c: u8| match c {
        b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => b'V',
        b'q' | b'k' | b'g' | b'c' => b'k',
        b'z' | b's' => b's',
        b'd' | b't' => b't',
        b'v' | b'w' => b'v',
        c => c,
    };
    a.len() >= 5
        && b.len() >= 5
        && a.len().abs_diff(b.len()) <= 2
        && class(a.as_bytes()[0]) == class(b.as_bytes()[0])
        && !(person && is_pinyin_syllable(a) && is_pinyin_syllable(b))
}

/// A Latin word with a vowel letter (the Latin reading of Hebrew or Arabic script has none).
fn has_vowel(t: &str) -> bool {
    t.is_ascii()
        && t.bytes()
            .any(|c| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u'))
}

/// Two words with the same skeleton must also be spelled alike: at most half their letters
/// edited. A short skeleton of long words says little ("cicilline" / "kyagulanyi" are both
/// k-l-n, with seven letters apart).
fn spelled_alike(a: &str, b: &str) -> bool {
    bounded_osa(a.as_bytes(), b.as_bytes(), a.len().max(b.len()) / 2).is_some()
}

/// A native-script word (Hangul, Han, katakana) against a Latin one: read with the learned
/// pieces of [`crate::translit`]. `None` when the pair is not of that kind (the other rules
/// apply); `Some(None)` when it is and the Latin word does not read as the native one.
fn cross_script(a: &str, b: &str) -> Option<Option<(f64, MatchHow)>> {
    let (na, nb) = (!a.is_ascii(), !b.is_ascii());
    let (native, latin) = match (na, nb) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        // Two native-script words match only when equal: an edit distance over their bytes
        // would accept another name ("احمدی" / "محمدی"); the Latin reading of the main
        // segment judges their spelling.
        (true, true) if a != b => return Some(None),
        _ => return None,
    };
    if !crate::translit::is_native_word(native) {
        return None;
    }
    // Also with a final "s" taken off or put on (see `Table::similarity_or_final_s`). The
    // cut is the dearest step of scoring, and a query's native words meet the same list words
    // in many candidates (and names repeat across queries): remembered per thread.
    let sim = READINGS.with(|c| {
        let (cache, key) = &mut *c.borrow_mut();
        key.clear();
        key.push_str(native);
        key.push('\0');
        key.push_str(latin);
        if let Some(&sim) = cache.get(key.as_str()) {
            return sim;
        }
        let sim = crate::translit::table().similarity_or_final_s(native, latin);
        if cache.len() >= READING_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.as_str().into(), sim);
        sim
    });
    Some(sim.map(|sim| (sim, MatchHow::Phonetic)))
}

/// Similarity of one company-name word in two languages or spellings.
const SYMBOL_SIM: f64 = 0.9;

/// Similarity of an acronym and the words it abbreviates.
const ACRONYM_SIM: f64 = 0.9;

/// Organisations: an unmatched word of 3-6 letters that spells the first letters of a run of
/// unmatched words on the other side, in order ("NFC" / "NATIONAL FACTORING COMPANY", "ISIL"
/// / "ISLAMIC STATE OF IRAQ AND THE LEVANT", "N P C" / "NPC"; stop-words are already gone).
/// Explained as initials; counted like merged words.
#[allow(clippy::too_many_arguments)]
fn acronym_pass(
    short: &[IToken],
    long: &[IToken],
    short_used: &mut [bool],
    long_used: &mut [bool],
    num: &mut f64,
    den: &mut f64,
    ex: &mut Explanation,
    swapped: bool,
) {
    for j in 0..short.len() {
        let t = &short[j];
        let n = t.text.len();
        // A legal-form reading of the acronym ("NPC") is no obstacle: the run of words
        // spelling it is the better reading.
        if short_used[j]
            || t.kind == TokenKind::Number
            || !(3..=6).contains(&n)
            || !t.text.bytes().all(|b| b.is_ascii_lowercase())
            || long.len() < n
        {
            continue;
        }
        let found = (0..=long.len() - n).find(|&i| {
            let run = &long[i..i + n];
            !long_used[i..i + n].iter().any(|&u| u)
                && run.iter().any(|w| w.kind == TokenKind::Word)
                && run.iter().all(|w| w.kind != TokenKind::Number)
                && run
                    .iter()
                    .zip(t.text.bytes())
                    .all(|(w, c)| w.text.as_bytes().first() == Some(&c))
        });
        let Some(i) = found else { continue };
        let run = &long[i..i + n];
        short_used[j] = true;
        long_used[i..i + n].iter_mut().for_each(|u| *u = true);
        let w = (t.weight as f64).max(run.iter().map(|w| w.weight as f64).fold(f64::MAX, f64::min));
        *num += 2.0 * ACRONYM_SIM * w;
        *den += 2.0 * w;
        let words = run.iter().map(|w| &*w.text).collect::<Vec<_>>().join(" ");
        let (q, c) = if swapped {
            (words, t.text.to_string())
        } else {
            (t.text.to_string(), words)
        };
        ex.matched.push(TokenMatch {
            query: q,
            candidate: c,
            how: MatchHow::Initial,
            similarity: ACRONYM_SIM,
            weight: w,
        });
    }
}

/// Queries of unknown kind with at most this many words may be persons' names (see
/// [`Matcher::screen_with_threshold`]).
const MAX_PERSON_WORDS: usize = 6;

/// Patronymic connectors: "A bin B" names A, child of B; the order carries meaning.
const CONNECTORS: &[&str] = &["bin", "ibn", "bint", "binti", "ben", "ould", "walad", "bat"];

/// Connectors that are words of a known kind between two words ("ibn" is read as "bin";
/// "ben" is also a given name and stays a word).
const KNOWN_EXTRA_CONNECTORS: &[&str] = &["bin", "bint", "binti", "ould"];

/// Candidates of a query's Latin readings that its native-script words are read against.
const NATIVE_CANDIDATES: usize = 8;

/// Most list words one abjad consonant key may retrieve (see [`Matcher::lookup`]).
const MAX_ABJAD_CANDIDATES: usize = 64;

/// Score cap of two names whose words are swapped around a patronymic connector: below the
/// default threshold (two people, a father and his son).
const SWAPPED_CONNECTOR_CAP: f64 = 0.3;

/// Words that number the members of a family of companies or vessels ("ALPHA / BETA
/// SHIPPING"): the Greek letters spelled out. Matched to each other only when equal.
const SERIES_WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "sigma", "omega",
];

/// Roman numerals that number the members of a series of vessels or companies ("MARIE DE
/// LOURDES I", "RIM GROUP INVESTMENTS I CORP.").
const SERIES_NUMERALS: &[&str] = &["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"];

/// Score cap of a company or vessel name that is the other name plus only a series number
/// ("ASIA BRIDGE" / "ASIA BRIDGE 2"): below the default threshold (another member of the
/// series), above two different numbers.
const SERIES_MEMBER_CAP: f64 = 0.35;

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            threshold: DEFAULT_THRESHOLD,
            legal_form_weight: 0.3,
            initial_weight: 0.5,
            number_conflict_cap: 0.2,
            min_coverage: 0.5,
            max_candidates: 32,
            country_mismatch_factor: 0.90,
            country_match_bonus: 0.15,
            address_match_bonus: 0.2,
            dob_mismatch_factor: 0.8,
            dob_match_bonus: 0.15,
            person_unmatched_query_factor: 1.5,
            person_single_token_cap: 0.8,
            use_model: true,
        }
    }
}

/// Default threshold on the calibrated score, chosen from the threshold table in
/// `docs/screening.md` (false hits per 1,000 synthetic people against recall).
pub const DEFAULT_THRESHOLD: f64 = 0.4;

/// What the caller knows about a party.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Query {
    pub name: String,
    pub schema: Schema,
    /// ISO alpha-2.
    pub country: Option<String>,
    pub address: Option<String>,
    /// Date or year of birth of a person, in any form holding a four-digit year ("1965",
    /// "1965-04-29"): evidence for or against person entries that give years of birth.
    pub birth_date: Option<String>,
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
    pub fn birth_date(mut self, d: Option<String>) -> Self {
        self.birth_date = d;
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
    /// A nickname and the given name it stands for ("bob" / "robert").
    Nickname,
    /// Same consonant skeleton: a transliteration variant ("qadhafi" / "gaddafi").
    Phonetic,
    /// Persons: an initial and a name that starts with it ("i" / "ibrahim"); organisations:
    /// an acronym and the words it spells ("nfc" / "national factoring company").
    Initial,
    /// Organisations: one company-name word in two languages or spellings ("industria" /
    /// "industry", "upravlenie" / "management"; `rigour` symbols).
    Symbol,
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
    /// The rule score (weighted Dice with the rules) the pair model starts from.
    pub rule_score: f64,
    pub notes: Vec<String>,
    /// The pair model's inputs (see [`crate::pairmodel::FEATURE_NAMES`]).
    #[serde(skip)]
    pub features: crate::pairmodel::Features,
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
                MatchHow::Nickname => format!("{}~{} (nickname)", m.query, m.candidate),
                MatchHow::Phonetic => format!("{}~{} (transliteration)", m.query, m.candidate),
                MatchHow::Initial => format!("{}~{} (initial)", m.query, m.candidate),
                MatchHow::Symbol => format!("{}~{} (symbol)", m.query, m.candidate),
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
    geo: bool,
    /// Company-name symbol groups ([`crate::symbols::groups_of`]).
    sym: crate::symbols::Groups,
    /// A word of a known kind ([`crate::normalize::is_known_extra`]).
    extra: bool,
    /// A Korean syllable or two in Latin letters ([`crate::hangul::is_korean_word`]).
    korean: bool,
    /// A person's name written "SURNAME, Given names" (one comma): whether this word is one
    /// of the given names (`Some(true)`) or of the surname (`Some(false)`); `None` when the
    /// name does not say (no comma, an annotation segment, a company).
    given: Option<bool>,
}

#[derive(Debug, Clone)]
struct IndexedName {
    entry: u32,
    /// 0 = primary name, i = alias i-1.
    variant: u32,
    tokens: Vec<IToken>,
    /// The first indexed name with the same words (the same tokens, surname marks included):
    /// names of one shape score alike against a query, so a query scores each shape once
    /// (one entry is published in two lists, the OFAC SDN and its 2025 alias list).
    shape: u32,
    /// [`words_key`] of the tokens: which names are written with the same words.
    key: Option<u64>,
}

/// A hash of a name's words and numbers as vocabulary ids, sorted and without repeats, legal
/// forms aside; `None` when a word is not on the lists (no list name has the same words).
fn words_key(ts: &[IToken]) -> Option<u64> {
    let mut ids = [0u32; 32];
    let mut n = 0;
    for t in ts.iter().filter(|t| t.kind != TokenKind::LegalForm) {
        if t.id == u32::MAX || n == ids.len() {
            return None;
        }
        ids[n] = t.id;
        n += 1;
    }
    let ids = &mut ids[..n];
    ids.sort_unstable();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut last = None;
    for &id in ids.iter() {
        if last != Some(id) {
            for b in id.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            last = Some(id);
        }
    }
    Some(h)
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
    /// Latin list words by their abjad consonant key ([`abjad_key`]), for retrieving names
    /// from a query written in Hebrew or Arabic script, whose Latin reading has no vowels.
    abjad: AHashMap<Box<[u8]>, Vec<u32>>,
    max_weight: f32,
    /// Posting lists longer than this are not used to propose candidates.
    common_df: usize,
    /// Process-unique id, keying the per-thread look-up cache.
    id: u64,
    /// Queries screened so far ([`Matcher::queries_screened`]).
    queries: std::sync::atomic::AtomicU64,
    /// What the supplier network takes from these lists alone, built on first use
    /// ([`Matcher::list_links`]).
    links: std::sync::OnceLock<crate::network::ListLinks>,
    pub config: MatchConfig,
}

static NEXT_MATCHER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Entries kept in the per-thread look-up cache before it is cleared.
const LOOKUP_CACHE_LIMIT: usize = 50_000;

/// Entries kept in the per-thread cache of learned readings before it is cleared.
const READING_CACHE_LIMIT: usize = 20_000;

/// Longest name, in characters, that the screening use cases accept (`screen`, the service's
/// screening endpoint): the longest name in the bundled lists has under 200 characters, so a
/// longer "name" is a pasted document or an attack, and is refused with a message rather than
/// screened. The matcher itself has no such limit: its cost is linear in the name's length.
pub const MAX_NAME_CHARS: usize = 1_000;

/// Tokens longer than this (in bytes, after normalisation) are matched exactly only: no
/// one-deletion keys are built for them and no fuzzy retrieval is tried. Fuzzy retrieval
/// tries one deletion per letter, each a string of the token's length, so its cost grows with
/// the square of the token's length; the bound keeps it constant per token, and screening
/// linear in the name's length. The longest word in the bundled lists has 43 letters.
pub const MAX_FUZZY_TOKEN_BYTES: usize = 64;

thread_local! {
    static PROBES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Index probes (hash look-ups of deletion keys and shortened tokens) made by fuzzy retrieval
/// on this thread so far: the work counter that shows screening's cost is linear in a name's
/// length (tests and benchmarks compare its growth; it never wraps in practice).
pub fn fuzzy_probes() -> u64 {
    PROBES.with(|p| p.get())
}

fn count_probe() {
    PROBES.with(|p| p.set(p.get().wrapping_add(1)));
}

/// Pair scores of one query segment by (candidate name shape, person, explain, family): see
/// [`Matcher::score_shape`].
type ShapeMemo = Vec<((u32, bool, bool, bool), (f64, Explanation))>;

/// A candidate token alignment: (weighted similarity, query index, list index, similarity, how).
type AlignedPair = (f64, usize, usize, f64, MatchHow);

type LookupCache = ahash::AHashMap<(u64, Box<str>), Vec<(u32, f64)>>;

/// `native \0 latin` -> the learned reading's similarity (see [`cross_script`]).
type ReadingCache = ahash::AHashMap<Box<str>, Option<f64>>;

thread_local! {
    /// Per-thread cache of fuzzy vocabulary look-ups (matcher id, token) -> (vocab id,
    /// similarity): party names repeat their words, and the look-up is the costliest step.
    static LOOKUPS: std::cell::RefCell<LookupCache> = std::cell::RefCell::new(LookupCache::new());
    /// Per-thread cache of the learned reading of a native-script word as a Latin one
    /// (`native \0 latin` -> similarity), see [`cross_script`].
    static READINGS: std::cell::RefCell<(ReadingCache, String)> =
        std::cell::RefCell::new((ReadingCache::new(), String::new()));
    /// Per-thread scratch for the token pairs of [`Matcher::score_tokens`].
    static PAIRS: std::cell::RefCell<Vec<AlignedPair>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Per-thread dense accumulator for candidate retrieval (score per indexed name, and the
    /// names touched so it can be reset cheaply).
    static DENSE: std::cell::RefCell<(Vec<f32>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Whether a token is one romanised Chinese syllable (Hanyu Pinyin initial + final, also
/// accepting the common Wade-Giles/Cantonese spellings the lists use such as "chin", "wong").
/// A permissive shape test, not a syllable table: it decides only whether an edit between
/// two such tokens is a different name.
pub(crate) fn is_pinyin_syllable(t: &str) -> bool {
    const INITIALS: &[&str] = &[
        "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x",
        "r", "z", "c", "s", "y", "w", "",
    ];
    const FINALS: &[&str] = &[
        "a", "o", "e", "i", "u", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ue", "er", "an", "en",
        "in", "un", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua", "uai",
        "uan", "uang", "uo", "uei", "uen", "ueng", "van", "ve", "vn", "v",
    ];
    t.len() <= 6
        && INITIALS
            .iter()
            .any(|i| t.strip_prefix(i).is_some_and(|rest| FINALS.contains(&rest)))
}

/// Allowed character edits for a token of this length.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Whether two strings are equal once doubled letters are single ("abbas" / "abas").
fn equal_without_doubles(a: &[u8], b: &[u8]) -> bool {
    fn dedup(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
        s.iter()
            .enumerate()
            .filter(move |&(i, &c)| i == 0 || s[i - 1] != c)
            .map(|(_, &c)| c)
    }
    dedup(a).eq(dedup(b)) && dedup(a).nth(1).is_some()
}

/// Optimal-string-alignment distance (Damerau-Levenshtein restricted to adjacent swaps) on
/// bytes, giving up as soon as it must exceed `max`: `None` then. Tokens are ASCII after
/// normalisation, and the bound keeps screening fast.
///
/// The scorer calls this for most word pairs of every candidate, nearly always with `max` 1
/// or 2 and on words that are not alike, so two exact shortcuts keep it cheap (issue 15,
/// speed): the bag distance (letters of one word the other lacks, a lower bound of the
/// distance: an edit changes at most one letter of each word's multiset, a swap none)
/// rejects most pairs before any table is filled; and only the diagonal band of cells within
/// `max` of the diagonal is computed (Ukkonen): a cell off the band is at least `max + 1`
/// away, so a distance within `max` is found exactly and a larger one stays larger than
/// `max`.
pub fn bounded_osa(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let n = b.len();
    if n >= 64 || a.len() >= 64 {
        let d = strsim::osa_distance(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b));
        return (d <= max).then_some(d);
    }
    if max < n.max(a.len()) {
        let mut count = [0u8; 256];
        for &c in a {
            count[c as usize] += 1;
        }
        let mut common = 0usize;
        for &c in b {
            let k = &mut count[c as usize];
            if *k > 0 {
                *k -= 1;
                common += 1;
            }
        }
        if a.len().max(n) - common > max {
            return None;
        }
    }
    // Distances of these short strings are below 64: a bound of 63 or more bounds nothing, and
    // `inf` (a cell off the band) then fits a byte with room for the +1 below.
    let cap = max.min(63);
    let inf = cap as u8 + 1;
    // Three rows on the stack (previous two for the swap), cells off the band at `inf`.
    let mut rows = [[inf; 64]; 3];
    let [mut prev2, mut prev, mut cur] = {
        let [r0, r1, r2] = &mut rows;
        [r0, r1, r2]
    };
    for (j, v) in prev.iter_mut().enumerate().take(n.min(cap) + 1) {
        *v = j as u8;
    }
    for i in 1..=a.len() {
        // Columns within `cap` of the diagonal; the cell left of the band is column 0 (the
        // distance to the empty prefix) or off the band, and the one right of it off the band
        // (the row buffer may still hold a value of an earlier row there).
        let lo = i.saturating_sub(cap).max(1);
        let hi = (i + cap).min(n);
        cur[lo - 1] = if lo == 1 { (i as u8).min(inf) } else { inf };
        if hi < n {
            cur[hi + 1] = inf;
        }
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            // Kept at most `inf`, so that sums stay in a byte.
            let v = v.min(inf);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > cap as u8 {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = usize::from(prev[n]);
    (d <= cap).then_some(d)
}

/// Same length, and exactly one pair of adjacent letters swapped.
fn is_transposition(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.len() < 2 {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2
        && diff[1] == diff[0] + 1
        && a[diff[0]] == b[diff[1]]
        && a[diff[1]] == b[diff[0]]
}

/// Long vowels and "u" spelled in several ways by English and French romanisations: "oo" / "u"
/// ("mahmood" / "mahmud", "noor" / "nur", "hoon" / "hun"), "ee" / "i" ("saeed" / "said",
/// "raheem" / "rahim"), "ou" / "u" ("mourad" / "murad", "nour" / "nur"), "aa" / "a"; doubled
/// letters aside. Whether the two words are equal once these are folded (3+ letters left) and
/// at least one had such a spelling.
fn long_vowels_spelled_out(a: &[u8], b: &[u8]) -> bool {
    let ((fa, na, ca), (fb, nb, cb)) = (fold_spelling(a), fold_spelling(b));
    // Two folded letters are enough when a side spelled three ("yee" / "yi").
    (ca || cb) && na >= 2 && a.len().max(b.len()) >= 3 && fa[..na] == fb[..nb]
}

/// Whether [`fold_spelling`] can change the word (a doubled letter or "ou"): a cheap test
/// before folding.
fn has_fold(s: &[u8]) -> bool {
    s.windows(2)
        .any(|w| w[0] == w[1] || (w[0] == b'o' && w[1] == b'u'))
}

/// A word with doubled letters and long vowels folded (see [`long_vowels_spelled_out`]):
/// letters, their count, and whether anything was folded. Words of 32+ letters are not folded.
fn fold_spelling(s: &[u8]) -> ([u8; 32], usize, bool) {
    let mut out = [0u8; 32];
    let (mut n, mut i, mut changed) = (0, 0, false);
    if s.len() > 32 {
        return (out, 0, false);
    }
    while i < s.len() && n < 32 {
        let pair = (s[i], s.get(i + 1).copied());
        let (c, step) = match pair {
            (b'o', Some(b'o')) | (b'o', Some(b'u')) => (b'u', 2),
            (b'e', Some(b'e')) => (b'i', 2),
            (b'a', Some(b'a')) => (b'a', 2),
            (c, _) => (c, 1),
        };
        changed |= step == 2;
        if n > 0 && out[n - 1] == c {
            changed = true;
        } else {
            out[n] = c;
            n += 1;
        }
        i += step;
    }
    (out, n, changed)
}

/// Doubled letters or long vowels spelled out on one side, and one more letter changed:
/// "mohamed" / "mohammad", "muhammed" / "muhamad", "yusif" / "yussef". Folded words of 5+
/// letters, same first letter, one edit apart.
fn folded_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len().min(b.len()) < 5 || a[0] != b[0] {
        return false;
    }
    let ((fa, na, ca), (fb, nb, cb)) = (fold_spelling(a), fold_spelling(b));
    (ca || cb)
        && na.min(nb) >= 5
        && fa[0] == fb[0]
        && bounded_osa(&fa[..na], &fb[..nb], 1) == Some(1)
}

/// German umlauts written out against written without their dots: "jaeger" / "jager", "mueller" /
/// "muller", "schroeder" / "schroder" (ä, ö, ü are "ae", "oe", "ue" in passports and "a", "o",
/// "u" after transliteration). Some(number of such "e"s) when the longer word is the shorter
/// with an "e" added after an a, o or u (never as the last letter: "rue" is not "ru"); the
/// shorter word has 4+ letters (a three-letter word is too short to tell: "Boer" is not "Bor").
fn umlaut_spelled_out(a: &[u8], b: &[u8]) -> Option<usize> {
    let (s, l) = if a.len() < b.len() { (a, b) } else { (b, a) };
    if s.len() < 4 || l.len() - s.len() > 2 {
        return None;
    }
    let (mut i, mut k) = (0, 0);
    for (j, &c) in l.iter().enumerate() {
        if i < s.len() && s[i] == c {
            i += 1;
        } else if c == b'e' && j > 0 && j + 1 < l.len() && matches!(l[j - 1], b'a' | b'o' | b'u') {
            k += 1;
        } else {
            return None;
        }
    }
    (i == s.len() && k > 0).then_some(k)
}

/// Token similarity and how; `None` when the tokens do not match.
///
/// * equal: 1.0;
/// * equal once doubled letters are single ("abbas" / "abas"): 0.95;
/// * within the allowed edits for their length (0 up to 3 letters, 1 up to 7, else 2):
///   1 - edits / length. With one allowed edit the first letter must agree unless the edit
///   swaps the first two letters ("baid" / "abid");
/// * three-letter tokens: one adjacent swap ("sko" / "sok"), 0.8.
fn token_sim(a: &str, b: &str) -> Option<(f64, MatchHow)> {
    if a == b {
        return Some((1.0, MatchHow::Exact));
    }
    let (la, lb) = (a.len(), b.len());
    // Long tokens match exactly only (see MAX_FUZZY_TOKEN_BYTES): an edit distance between
    // them would cost the product of their lengths.
    if la.max(lb) > MAX_FUZZY_TOKEN_BYTES {
        return None;
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    if la.max(lb) >= 3
        && la != lb
        && (ab.windows(2).any(|w| w[0] == w[1]) || bb.windows(2).any(|w| w[0] == w[1]))
        && equal_without_doubles(ab, bb)
    {
        return Some((
            0.95,
            MatchHow::Fuzzy {
                edits: la.abs_diff(lb),
            },
        ));
    }
    // Spellings of one vowel differ in length ("mahmood" / "mahmud", "baer" / "bar").
    let foldable = || has_fold(ab) || has_fold(bb);
    let near_length = la != lb && la.abs_diff(lb) <= 2;
    if near_length && foldable() && long_vowels_spelled_out(ab, bb) {
        return Some((
            0.92,
            MatchHow::Fuzzy {
                edits: la.abs_diff(lb).max(1),
            },
        ));
    }
    if let Some(k) = near_length.then(|| umlaut_spelled_out(ab, bb)).flatten() {
        return Some((0.95, MatchHow::Fuzzy { edits: k }));
    }
    if la == 3 && lb == 3 && is_transposition(ab, bb) {
        return Some((0.8, MatchHow::Fuzzy { edits: 1 }));
    }
    let allowed = allowed_edits(la.min(lb));
    if allowed == 0 || la.abs_diff(lb) > allowed {
        return None;
    }
    if allowed == 1 && ab[0] != bb[0] && !(la == lb && ab[0] == bb[1] && ab[1] == bb[0]) {
        return None;
    }
    match bounded_osa(ab, bb, allowed) {
        Some(d) => Some((
            1.0 - d as f64 / la.max(lb) as f64,
            MatchHow::Fuzzy { edits: d },
        )),
        None if foldable() && folded_one_edit(ab, bb) => Some((0.85, MatchHow::Fuzzy { edits: 2 })),
        None => None,
    }
}

/// Country, region and trade-hub names. An unmatched one on either side of a pair is evidence of
/// a different legal entity ("ACME TRADING (HONG KONG) LTD" is not "ACME TRADING LLC").
const GEO: &[&str] = &[
    "afghanistan",
    "africa",
    "albania",
    "algeria",
    "america",
    "american",
    "angola",
    "argentina",
    "armenia",
    "asia",
    "asian",
    "australia",
    "austria",
    "azerbaijan",
    "bahrain",
    "baku",
    "bangkok",
    "bangladesh",
    "beijing",
    "belarus",
    "belgium",
    "bolivia",
    "brazil",
    "britain",
    "british",
    "bulgaria",
    "cairo",
    "cambodia",
    "canada",
    "chile",
    "china",
    "chinese",
    "colombia",
    "croatia",
    "cuba",
    "cyprus",
    "czech",
    "dalian",
    "denmark",
    "doha",
    "dubai",
    "ecuador",
    "egypt",
    "emirate",
    "england",
    "estonia",
    "ethiopia",
    "europe",
    "european",
    "finland",
    "france",
    "french",
    "geneva",
    "georgia",
    "german",
    "germany",
    "ghana",
    "greece",
    "guangzhou",
    "hamburg",
    "hong",
    "hongkong",
    "hungary",
    "india",
    "indonesia",
    "iran",
    "iraq",
    "ireland",
    "israel",
    "istanbul",
    "italy",
    "japan",
    "jordan",
    "karachi",
    "kazakhstan",
    "kenya",
    "kong",
    "korea",
    "kuwait",
    "kyiv",
    "kyrgyzstan",
    "lagos",
    "lao",
    "latvia",
    "lebanon",
    "libya",
    "lithuania",
    "london",
    "luxembourg",
    "macau",
    "malaysia",
    "manila",
    "mexico",
    "milan",
    "moldova",
    "mongolia",
    "morocco",
    "moscow",
    "mumbai",
    "muscat",
    "myanmar",
    "nepal",
    "netherland",
    "nigeria",
    "ningbo",
    "norway",
    "oman",
    "pakistan",
    "panama",
    "paris",
    "peru",
    "philippine",
    "poland",
    "portugal",
    "qatar",
    "qingdao",
    "riyadh",
    "romania",
    "rotterdam",
    "russia",
    "saudi",
    "seoul",
    "shanghai",
    "shenzhen",
    "singapore",
    "slovakia",
    "somalia",
    "spain",
    "sudan",
    "sweden",
    "swiss",
    "switzerland",
    "syria",
    "taiwan",
    "tajikistan",
    "tanzania",
    "tashkent",
    "tehran",
    "thailand",
    "tianjin",
    "tokyo",
    "tunisia",
    "turkey",
    "turkiye",
    "turkmenistan",
    "uae",
    "uganda",
    "ukraine",
    "usa",
    "uzbekistan",
    "venezuela",
    "vietnam",
    "xiamen",
    "yemen",
    "zimbabwe",
    "zurich",
];

/// A company word left unmatched that no vocabulary explains: not a legal form, company-name
/// symbol (rigour: co, group, intl, trading ...), word of a known kind (branch, title), place
/// name or series numeral.
fn is_added_word(t: &IToken) -> bool {
    t.kind == TokenKind::Word
        && !t.extra
        && !t.geo
        && t.sym == crate::symbols::NO_GROUPS
        && !SERIES_NUMERALS.contains(&&*t.text)
}

fn is_geo(t: &str) -> bool {
    GEO.binary_search(&t).is_ok()
}

fn deletions(t: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(t.len());
    for (i, c) in t.char_indices() {
        let mut s = String::with_capacity(t.len());
        s.push_str(&t[..i]);
        s.push_str(&t[i + c.len_utf8()..]);
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
        // Per indexed name: the number of surname words opening it ("SURNAME, Given names").
        let mut surname_len: Vec<Option<usize>> = Vec::new();
        for (ei, e) in entries.iter().enumerate() {
            let mut seen: AHashSet<Vec<Token>> = AHashSet::new();
            let person = e.schema == Schema::Person;
            let norm_of = |n: &str| {
                if person {
                    normalize_person(n)
                } else {
                    normalize(n)
                }
            };
            for (vi, name) in e.names().enumerate() {
                let norm = norm_of(name);
                let mut segs = norm.segments.clone();
                // Parenthesised parts ("BUTEMBO AIRLINES (BAL)") are also indexed without them.
                if let Some(open) = name.find('(') {
                    let stripped: String = strip_parens(name);
                    if open > 0 {
                        segs.push(norm_of(&stripped).tokens().to_vec());
                    }
                }
                for (si, seg) in segs.into_iter().enumerate() {
                    if seg.iter().all(|t| t.kind == TokenKind::LegalForm) {
                        continue;
                    }
                    let seg = if e.schema == Schema::Person {
                        person_tokens(&seg)
                    } else {
                        seg
                    };
                    if seen.insert(seg.clone()) {
                        surname_len.push(if person && si == 0 {
                            surname_words(name, &seg)
                        } else {
                            None
                        });
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
            if t.len() >= 4
                && t.len() <= MAX_FUZZY_TOKEN_BYTES
                && !t.bytes().all(|b| b.is_ascii_digit())
            {
                for d in deletions(t) {
                    deletes
                        .entry(d.into_boxed_str())
                        .or_default()
                        .push(id as u32);
                }
            }
        }
        let mut abjad: AHashMap<Box<[u8]>, Vec<u32>> = AHashMap::new();
        for (id, t) in vocab_text.iter().enumerate() {
            if t.len() >= 3 && t.bytes().any(|b| b"aeiou".contains(&b)) {
                if let Some(k) = abjad_key(t, false).filter(|k| k.len >= 3) {
                    abjad
                        .entry(k.b[..k.len as usize].into())
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
            abjad,
            max_weight,
            common_df: (raw.len() / 100).max(200),
            id: NEXT_MATCHER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            queries: std::sync::atomic::AtomicU64::new(0),
            links: std::sync::OnceLock::new(),
            config,
        };
        // A name's tokens are prepared from its words and surname length alone: equal words
        // and surname lengths give equal tokens.
        let shapes: Vec<u32> = {
            let mut first: AHashMap<(&[Token], Option<usize>), u32> = AHashMap::new();
            raw.iter()
                .zip(&surname_len)
                .enumerate()
                .map(|(ni, ((_, _, toks), sn))| *first.entry((&toks[..], *sn)).or_insert(ni as u32))
                .collect()
        };
        m.names = raw
            .into_iter()
            .zip(surname_len)
            .zip(shapes)
            .map(|(((entry, variant, toks), sn), shape)| {
                let mut tokens = m.prepare_tokens(&toks);
                mark_name_parts(&mut tokens, sn);
                IndexedName {
                    entry,
                    variant,
                    key: words_key(&tokens),
                    tokens,
                    shape,
                }
            })
            .collect();
        m
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many queries this matcher has screened ([`Matcher::screen`],
    /// [`Matcher::screen_with_threshold`]) since it was built: the work a party directory's
    /// screening costs, observable by a service (`/metrics`) and by tests.
    pub fn queries_screened(&self) -> u64 {
        self.queries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The entries' "Linked To:" relations resolved to entries, and every entry by key: what
    /// every supplier network over these lists adds, whatever its parties. Built once per
    /// matcher (it normalises every listed name), on first use.
    pub(crate) fn list_links(&self) -> &crate::network::ListLinks {
        self.links
            .get_or_init(|| crate::network::ListLinks::of(self))
    }
    /// Number of indexed name variants (primary names, aliases and their segments).
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The number of list entries of companies, vessels and aircraft (up to [`FAMILY_CAP`])
    /// with a name that holds every word or number matched between `qt` and `ct` (the list
    /// side's spelling), leaving out entries with a
    /// name of exactly the words of either side (legal forms aside): the two entities
    /// compared, and their entries on other lists. When the rarest shared word is in more
    /// than [`FAMILY_SCAN`] names, the shared words are generic and the count is the cap.
    fn other_entries_sharing(&self, qt: &[IToken], ct: &[IToken], c_used: &[bool]) -> usize {
        let mut ids = [0u32; 32];
        let mut n = 0;
        for (t, _) in ct
            .iter()
            .zip(c_used)
            .filter(|(t, &u)| u && t.kind != TokenKind::LegalForm && t.id != u32::MAX)
        {
            if n < ids.len() && !ids[..n].contains(&t.id) {
                ids[n] = t.id;
                n += 1;
            }
        }
        let ids = &ids[..n];
        let Some(&rarest) = ids
            .iter()
            .min_by_key(|&&id| self.postings[id as usize].len())
        else {
            return 0;
        };
        let posting = &self.postings[rarest as usize];
        if posting.len() > FAMILY_SCAN {
            return FAMILY_CAP;
        }
        let (kq, kc) = (words_key(qt), words_key(ct));
        // An entry named exactly as either side: one of the two entities compared.
        let a_side = |e: u32| {
            let lo = self.names.partition_point(|x| x.entry < e);
            self.names[lo..]
                .iter()
                .take_while(|x| x.entry == e)
                .any(|x| x.key.is_some() && (x.key == kq || x.key == kc))
        };
        // Entries seen (postings are in name order, so an entry's names come together).
        let (mut last, mut count) = (u32::MAX, 0usize);
        for &ni in posting {
            let name = &self.names[ni as usize];
            if name.entry == last
                || self.entries[name.entry as usize].schema == Schema::Person
                || !ids.iter().all(|&id| name.tokens.iter().any(|t| t.id == id))
            {
                continue;
            }
            last = name.entry;
            if !a_side(name.entry) {
                count += 1;
                if count >= FAMILY_CAP {
                    break;
                }
            }
        }
        count
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
            .enumerate()
            .map(|(i, t)| {
                let (id, weight) = self.token_weight(t);
                // A patronymic connector between two words ("Hassan bin Mohammed") is a word
                // of a known kind: the name is one name written with or without it. First or
                // last it may be a name ("Bin", a Chinese given name).
                let connector = i > 0
                    && i + 1 < toks.len()
                    && KNOWN_EXTRA_CONNECTORS.contains(&t.text.as_str());
                IToken {
                    text: t.text.clone().into_boxed_str(),
                    kind: t.kind,
                    id,
                    weight,
                    geo: t.kind == TokenKind::Word && is_geo(&t.text),
                    sym: if t.kind == TokenKind::Word {
                        crate::symbols::groups_of(&t.text)
                    } else {
                        crate::symbols::NO_GROUPS
                    },
                    extra: t.kind == TokenKind::Word
                        && (connector || crate::normalize::is_known_extra(&t.text)),
                    korean: t.kind == TokenKind::Word && crate::hangul::is_korean_word(&t.text),
                    given: None,
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
        let (na, nb) = if schema == Schema::Person {
            (normalize_person(a), normalize_person(b))
        } else {
            (normalize(a), normalize(b))
        };
        // The native-script segment (last, see `normalize`) is read against Latin words. When
        // both names have one, the other's Latin words are only a reading of its native
        // script, not a spelling to read against: native meets native, Latin meets Latin.
        let native_seg = |s: &str, n: &NormName| {
            (!crate::translit::native_words(s).is_empty()).then(|| n.segments.len() - 1)
        };
        let (xa, xb) = (native_seg(a, &na), native_seg(b, &nb));
        let both_native = xa.is_some() && xb.is_some();
        let mut best: Option<(f64, Explanation)> = None;
        for (ia, sa) in na.segments.iter().enumerate() {
            for (ib, sb) in nb.segments.iter().enumerate() {
                if both_native && (Some(ia) == xa) != (Some(ib) == xb) {
                    continue;
                }
                let (pa, pb) = if schema == Schema::Person {
                    let (mut pa, mut pb) = (
                        self.prepare(&person_tokens(sa)),
                        self.prepare(&person_tokens(sb)),
                    );
                    if ia == 0 {
                        mark_name_parts(&mut pa.tokens, surname_words(a, sa));
                    }
                    if ib == 0 {
                        mark_name_parts(&mut pb.tokens, surname_words(b, sb));
                    }
                    (pa, pb)
                } else {
                    (self.prepare(sa), self.prepare(sb))
                };
                let (mut s, mut ex) = self.score_prepared(&pa, &pb, schema);
                // A part of a name (an annotation, an address or a former name left out) that
                // equals the other name ranks just below the whole name equal to it.
                let part = |i: usize, x: Option<usize>| i > 0 && Some(i) != x;
                if part(ia, xa) || part(ib, xb) {
                    s *= PART_FACTOR;
                    if s >= self.config.threshold {
                        ex.notes.push("a part of the name matches".into());
                    }
                }
                if best.as_ref().is_none_or(|(bs, _)| s > *bs) {
                    best = Some((s, ex));
                }
            }
        }
        let (mut s, mut ex) = best.unwrap_or((0.0, Explanation::default()));
        // Two names in one native script that read alike but are written with other characters
        // ("张伟" / "张玮": both "zhang wei") are not identical: a homophone, or at best the same
        // name in another character set. They rank below the name as written.
        if let (Some(ia), Some(ib)) = (xa, xb) {
            if na.segments[ia] != nb.segments[ib] && na.segments[0] == nb.segments[0] {
                s *= SAME_READING_FACTOR;
                ex.notes
                    .push("same reading, written with other characters".into());
            }
        }
        (s, ex)
    }

    /// The explained pair score of two prepared names (see the module documentation).
    pub fn score_prepared(&self, q: &Prepared, c: &Prepared, schema: Schema) -> (f64, Explanation) {
        self.score_tokens(&q.tokens, &c.tokens, schema == Schema::Person, true, true)
    }

    /// With `explain` false no strings are built (the fast path of screening); the unmatched
    /// token lists are still filled, since place-name evidence needs them.
    fn score_tokens(
        &self,
        qt: &[IToken],
        ct: &[IToken],
        person: bool,
        explain: bool,
        family: bool,
    ) -> (f64, Explanation) {
        // Scratch reused across calls on this thread (scoring runs tens of times per name).
        // Korean names in two romanisations ("RI Chong Chol" / "RI Jong Chol", "PAK Chin" /
        // "PARK Jin", "KIM Jong Un" / "KIM Jeongeun"): when every word of both names is a
        // Korean syllable or two written as one, syllables with the same McCune-Reischauer /
        // Revised key match as a transliteration, a given name glued on one side meets its
        // two syllables on the other, and conventional spellings of one family name
        // (`hangul::SURNAME_SPELLINGS`: "rhee" / "lee", "roh" / "noh") are one name.
        let korean =
            person && qt.len() + ct.len() >= 3 && qt.iter().chain(ct.iter()).all(|t| t.korean);
        let mut pairs: Vec<AlignedPair> = PAIRS.with(|p| std::mem::take(&mut *p.borrow_mut()));
        pairs.clear();
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
                        // Equal words are equal, also when the lists do not hold them (a
                        // company word of a symbol group is not a 0.9 "symbol" of itself).
                        if (a.id != u32::MAX && a.id == b.id) || a.text == b.text {
                            Some((1.0, MatchHow::Exact))
                        } else if !person && crate::symbols::same(&a.sym, &b.sym) {
                            Some((SYMBOL_SIM, MatchHow::Symbol))
                        } else if person && crate::nicknames::same_person_name(&a.text, &b.text) {
                            Some((0.9, MatchHow::Nickname))
                        } else if person
                            && (crate::translit::same_korean_surname(&a.text, &b.text)
                                || (korean && crate::hangul::same_surname(&a.text, &b.text)))
                        {
                            Some((PHONETIC_SIM, MatchHow::Phonetic))
                        } else if person && is_initial_of(&a.text, &b.text) {
                            Some((INITIAL_SIM, MatchHow::Initial))
                        } else if let Some(r) = cross_script(&a.text, &b.text) {
                            r
                        } else {
                            token_sim(&a.text, &b.text).filter(|&(sim, _)| {
                                // Persons: two different romanised Chinese syllables are
                                // different names ("zhang" / "zhong", "chen" / "cheng"), not a
                                // typo of each other. Other scripts' transliterations vary in
                                // their vowels for the same name ("ahmed" / "ahmad", "omar" /
                                // "umar", "yusuf" / "yousuf") and keep the fuzzy rule; so do
                                // doubled letters (0.95) and swapped neighbours.
                                !(person
                                    && sim < 0.95
                                    && is_pinyin_syllable(&a.text)
                                    && is_pinyin_syllable(&b.text)
                                    && !is_transposition(a.text.as_bytes(), b.text.as_bytes()))
                            })
                        }
                    }
                    _ => None,
                };
                if let Some((sim, how)) = r {
                    let w = if how == MatchHow::Initial {
                        a.weight.min(b.weight) as f64
                    } else {
                        b.weight as f64
                    };
                    pairs.push((sim * w, i, j, sim, how));
                }
            }
        }
        pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
        let mut q_buf = [false; 32];
        let mut c_buf = [false; 32];
        let mut q_vec = Vec::new();
        let mut c_vec = Vec::new();
        let q_used: &mut [bool] = if qt.len() <= 32 {
            &mut q_buf[..qt.len()]
        } else {
            q_vec.resize(qt.len(), false);
            &mut q_vec
        };
        let c_used: &mut [bool] = if ct.len() <= 32 {
            &mut c_buf[..ct.len()]
        } else {
            c_vec.resize(ct.len(), false);
            &mut c_vec
        };
        let mut ex = Explanation::default();
        let mut num = 0.0f64;
        let mut den = 0.0f64;
        // Query token -> list token of the alignment (first 32 tokens), for word order.
        let mut q_match = [u8::MAX; 32];
        let mut initials = 0usize;
        // A spelling match whose first letters differ ("fanreach" / "canreach").
        let mut fuzzy_first = false;
        // A company word matched as the same word in another language or spelling.
        let mut symbol_matched = false;
        for &(_, i, j, sim, how) in &pairs {
            if q_used[i] || c_used[j] {
                continue;
            }
            q_used[i] = true;
            c_used[j] = true;
            symbol_matched |= how == MatchHow::Symbol;
            if matches!(how, MatchHow::Fuzzy { .. })
                && qt[i].text.as_bytes().first() != ct[j].text.as_bytes().first()
            {
                fuzzy_first = true;
            }
            if i < 32 && j < 255 {
                q_match[i] = j as u8;
            }
            let w = if how == MatchHow::Initial {
                initials += 1;
                qt[i].weight.min(ct[j].weight) as f64
            } else {
                ct[j].weight as f64
            };
            num += 2.0 * sim * w;
            den += 2.0 * w;
            if !explain {
                continue;
            }
            ex.matched.push(TokenMatch {
                query: qt[i].text.to_string(),
                candidate: ct[j].text.to_string(),
                how,
                similarity: sim,
                weight: w,
            });
        }
        // Merged tokens: two unmatched adjacent tokens on one side against one on the other.
        PAIRS.with(|p| *p.borrow_mut() = pairs);
        self.merge_pass(
            qt, ct, q_used, c_used, &mut num, &mut den, &mut ex, false, person, korean,
        );
        self.merge_pass(
            ct, qt, c_used, q_used, &mut num, &mut den, &mut ex, true, person, korean,
        );
        if !person {
            acronym_pass(qt, ct, q_used, c_used, &mut num, &mut den, &mut ex, false);
            acronym_pass(ct, qt, c_used, q_used, &mut num, &mut den, &mut ex, true);
        }
        // Transliteration variants the edit rule rejects ("qadhafi" / "gaddafi", "mulhem" /
        // "moulhim", "aleksandr" / "alexander"): unmatched tokens with the same consonant
        // skeleton (see [`skeleton`]) match at 0.85.
        let mut phonetic = 0.0f64;
        // Chinese names in Wade-Giles and pinyin ("HSU Chih-cheng" / "XU Chih-cheng", "TSAI
        // Ying" / "CAI Ying"): when every word of both person names is a romanised Chinese
        // syllable and a word of either can only be Wade-Giles (the evidence that the name is
        // written in that system), syllables with one Wade-Giles / pinyin key match as a
        // transliteration. Two pinyin names ("zhang wei" / "chang wei") prove nothing of the
        // kind and keep the ordinary rules.
        // (Words of two syllables written as one count as Chinese: "HSU Chih-cheng" / "XU
        // Zhicheng".) Decided on the first unmatched word pair only.
        let mut wade_giles: Option<bool> = None;
        let wade_giles_gate = || {
            person && qt.len() >= 2 && ct.len() >= 2 && {
                let words = || qt.iter().chain(ct.iter());
                words().any(|t| crate::wadegiles::is_wade_giles(&t.text))
                    && words().all(|t| {
                        t.kind == TokenKind::Word && crate::wadegiles::is_chinese_name_word(&t.text)
                    })
            }
        };
        // East Slavic names in two romanisations ("Yevgeniy" / "Evgeny", "Hennadiy" /
        // "Gennadiy", "Yelena" / "Elena"): when either person name has a word with an East
        // Slavic surname or patronymic ending, words with one `slavic::key` match as a
        // transliteration. Decided on the first unmatched word only.
        let mut slavic: Option<bool> = None;
        let slavic_gate = || {
            qt.iter()
                .chain(ct.iter())
                .any(|t| t.kind == TokenKind::Word && crate::slavic::is_slavic_name_word(&t.text))
        };
        for i in 0..qt.len() {
            if q_used[i] || qt[i].kind != TokenKind::Word {
                continue;
            }
            let slavic_key = if person && *slavic.get_or_insert_with(slavic_gate) {
                Some(crate::slavic::key(&qt[i].text))
            } else {
                None
            };
            // Belarusian against Russian spellings ("aliaksandr" / "aleksandr", "piatrowna" /
            // "petrovna"): the vowel-run key, for words with 3+ consonants spelled alike.
            let slavic_vowel_key = slavic_key
                .as_ref()
                .map(|_| crate::slavic::vowel_key(&qt[i].text))
                .filter(|(_, consonants)| *consonants >= 3);
            let wg_key = if person && *wade_giles.get_or_insert_with(wade_giles_gate) {
                crate::wadegiles::syllable_key(&qt[i].text)
            } else {
                None
            };
            // Words too short for a skeleton can still carry a glued article ("alarifi").
            let kq = skeleton(&qt[i].text);
            for j in 0..ct.len() {
                if c_used[j] || ct[j].kind != TokenKind::Word {
                    continue;
                }
                if (kq.is_some()
                    && skeleton_pair_ok(&qt[i].text, &ct[j].text, person)
                    && skeleton(&ct[j].text) == kq
                    && spelled_alike(&qt[i].text, &ct[j].text))
                    || article_glued(&qt[i].text, &ct[j].text)
                    || (person && abjad_match(&qt[i].text, &ct[j].text))
                    || (person && vowel_pattern_match(&qt[i].text, &ct[j].text))
                    || (korean && crate::hangul::same_korean_word(&qt[i].text, &ct[j].text))
                    || (wg_key.is_some() && wg_key == crate::wadegiles::syllable_key(&ct[j].text))
                    || slavic_key
                        .as_ref()
                        .is_some_and(|k| k.len() >= 3 && *k == crate::slavic::key(&ct[j].text))
                    || slavic_vowel_key.as_ref().is_some_and(|(k, _)| {
                        *k == crate::slavic::vowel_key(&ct[j].text).0
                            && spelled_alike(&qt[i].text, &ct[j].text)
                    })
                {
                    q_used[i] = true;
                    c_used[j] = true;
                    if i < 32 && j < 255 {
                        q_match[i] = j as u8;
                    }
                    let w = ct[j].weight as f64;
                    num += 2.0 * PHONETIC_SIM * w;
                    den += 2.0 * w;
                    phonetic += w;
                    if explain {
                        ex.matched.push(TokenMatch {
                            query: qt[i].text.to_string(),
                            candidate: ct[j].text.to_string(),
                            how: MatchHow::Phonetic,
                            similarity: PHONETIC_SIM,
                            weight: w,
                        });
                    }
                    break;
                }
            }
        }
        let unmatched_factor = if person {
            self.config.person_unmatched_query_factor
        } else {
            1.0
        };
        let matched_sim = if den > 0.0 { num / den } else { 0.0 };
        let mut geo_unmatched: Vec<&str> = Vec::new();
        // Weights of unmatched tokens: unexplained per side, and of known kinds.
        let (mut q_unexpl, mut c_unexpl, mut extra) = (0.0f64, 0.0f64, 0.0f64);
        // The heaviest unexplained word of each side.
        let (mut q_unexpl_max, mut c_unexpl_max) = (0.0f64, 0.0f64);
        let (mut q_heaviest, mut c_heaviest) = (0usize, 0usize);
        let distinctive = self.max_weight as f64 * DISTINCTIVE_SHARE;
        // A place name beside a branch or office word on the same side is where the branch is
        // ("ACME TRADING LTD DUBAI BRANCH"): a word of a known kind, not another legal entity.
        let branch_side = |ts: &[IToken], used: &[bool]| {
            ts.iter()
                .zip(used)
                .any(|(t, &u)| !u && crate::normalize::is_branch_word(&t.text))
        };
        let (q_branch, c_branch) = (branch_side(qt, q_used), branch_side(ct, c_used));
        // A country or place name opening a company name is part of its name ("KOREA SAENAL
        // TRADING" / "SAENAL TRADING CORPORATION"), not the place of another entity, which is
        // written after the name ("ACME TRADING (HONG KONG) LTD"). In a person's name a place
        // word is a name ("Jordan", "Oman").
        // Only when the name is added, not replaced: the other side has no unexplained word of
        // its own ("IRAN ALUMINUM COMPANY" / "SOUTH ALUMINUM COMPANY" stay two entities).
        let own_words = |ts: &[IToken], used: &[bool]| {
            ts.iter()
                .zip(used)
                .any(|(t, &u)| !u && t.kind == TokenKind::Word && !t.geo && !t.extra)
        };
        let (q_own, c_own) = (own_words(qt, q_used), own_words(ct, c_used));
        let leading =
            |ts: &[IToken], i: usize, other_own: bool| !other_own && ts[..=i].iter().all(|t| t.geo);
        for (i, t) in qt.iter().enumerate() {
            if !q_used[i] {
                let w = t.weight as f64;
                if !person && t.geo && (q_branch || leading(qt, i, c_own)) {
                    den += w * KNOWN_EXTRA_FACTOR;
                    extra += w;
                    if explain {
                        ex.unmatched_query.push(t.text.to_string());
                    }
                    continue;
                }
                if t.extra {
                    den += w * KNOWN_EXTRA_FACTOR;
                    extra += w;
                } else {
                    den += w * unmatched_factor;
                    q_unexpl += w;
                    if w > q_unexpl_max {
                        q_unexpl_max = w;
                        q_heaviest = i;
                    }
                }
                if t.geo && !person {
                    geo_unmatched.push(&t.text);
                }
                if explain {
                    ex.unmatched_query.push(t.text.to_string());
                }
            }
        }
        for (j, t) in ct.iter().enumerate() {
            if !c_used[j] {
                let w = t.weight as f64;
                if !person && t.geo && (c_branch || leading(ct, j, q_own)) {
                    den += w * KNOWN_EXTRA_FACTOR;
                    extra += w;
                    if explain {
                        ex.unmatched_candidate.push(t.text.to_string());
                    }
                    continue;
                }
                if t.extra {
                    den += w * KNOWN_EXTRA_FACTOR;
                    extra += w;
                } else {
                    den += w;
                    c_unexpl += w;
                    if w > c_unexpl_max {
                        c_unexpl_max = w;
                        c_heaviest = j;
                    }
                }
                if t.geo && !person {
                    geo_unmatched.push(&t.text);
                }
                if explain {
                    ex.unmatched_candidate.push(t.text.to_string());
                }
            }
        }
        let mut score = if den > 0.0 { num / den } else { 0.0 };
        // Persons: one shared token (a surname, a mononym list name) is not a match when
        // either name has more; both names must be accounted for by at least two tokens.
        let words = |ts: &[IToken]| ts.iter().filter(|t| t.kind != TokenKind::Number).count();
        let matched = q_used
            .iter()
            .filter(|&&u| u)
            .count()
            .max(c_used.iter().filter(|&&u| u).count())
            // An initial explains a name word but is no evidence of the same person; two or
            // more agreeing initials ("H. J." / "Hans Juergen") count as one name.
            .saturating_sub(initials)
            + usize::from(initials >= 2);
        if person && matched < 2 && words(qt).max(words(ct)) >= 2 {
            score = score.min(self.config.person_single_token_cap);
            if explain {
                ex.notes.push("person: only one name token matched".into());
            }
        }
        // Word boundaries in other places ("AREFULLAHA REF" / "AREFULLAH AREF"): compare the
        // names as letter strings, in the given order and with the list name's first token moved
        // last ("SALEK, ABDUL" / "ABDUL SALEK"). Only near-identical strings count.
        let letters = |ts: &[IToken]| -> usize {
            ts.iter()
                .filter(|t| t.kind != TokenKind::LegalForm)
                .map(|t| t.text.len())
                .sum()
        };
        let mut letters_route = false;
        if score < RULE_THRESHOLD
            && score > 0.3
            && letters(qt).min(letters(ct)) >= 10
            && letters(qt).abs_diff(letters(ct)) <= 2
        {
            let join = |ts: &[IToken]| -> String {
                ts.iter()
                    .filter(|t| t.kind != TokenKind::LegalForm)
                    .map(|t| &*t.text)
                    .collect()
            };
            let jq = join(qt);
            let content: Vec<IToken> = ct
                .iter()
                .filter(|t| t.kind != TokenKind::LegalForm)
                .cloned()
                .collect();
            let bq = boundaries(qt);
            let unmatched_syllable = |ts: &[IToken], used: &[bool]| {
                ts.iter()
                    .zip(used)
                    .any(|(t, &u)| !u && is_pinyin_syllable(&t.text))
            };
            let syllable_conflict =
                person && unmatched_syllable(qt, q_used) && unmatched_syllable(ct, c_used);
            let short_or_number = |t: &IToken| t.kind == TokenKind::Number || t.text.len() <= 2;
            let only_short_unmatched = qt
                .iter()
                .zip(q_used.iter())
                .chain(ct.iter().zip(c_used.iter()))
                .all(|(t, &u)| u || short_or_number(t));
            // Companies: a letter changed in a common word, nothing moved, is another common
            // word ("WIRE" / "FIRE", "NORTH" / "NORTE"), not a typo of the name: when every
            // unmatched word on both sides is a list word weighing less than a distinctive
            // one, the boundaries must have moved.
            let common_only = !person
                && qt
                    .iter()
                    .zip(q_used.iter())
                    .chain(ct.iter().zip(c_used.iter()))
                    .filter(|(_, &u)| !u)
                    .all(|(t, _)| {
                        t.kind == TokenKind::Word
                            && t.id != u32::MAX
                            && (t.weight as f64) < distinctive
                    });
            let mut orders = vec![(join(&content), boundaries(&content))];
            if content.len() > 1 {
                let mut rot = content[1..].to_vec();
                rot.push(content[0].clone());
                orders.push((join(&rot), boundaries(&rot)));
            }
            for (jc, bc) in orders {
                let (lq, lc) = (jq.len(), jc.len());
                // Persons whose unmatched tokens are Chinese syllables on both sides: only a
                // moved boundary counts. Positions that agree counted from the start or from
                // the end mean the same words with a letter changed ("gui ying" / "guo ying",
                // "jian ping" / "jiang ping": other given names), which the token comparison
                // has already judged. Other names keep the letter-level comparison ("omar" /
                // "umar": a first-letter vowel the token rule does not allow), and so do
                // company names ("case_punctuation", "typo" pairs).
                if syllable_conflict && (bq.0 == bc.0 || bq.1 == bc.1) {
                    continue;
                }
                // A short word or a number present on one side only ("BICENTENARIO V" /
                // "BICENTENARIO VI", "ALMACEN JUNIOR" / "ALMACEN JUNIOR NO. 2") is not a moved
                // word boundary but another vessel or branch: with the boundaries in place
                // counted from the start, the letter-level comparison does not apply.
                if only_short_unmatched && bq.0.iter().zip(&bc.0).all(|(x, y)| x == y) {
                    continue;
                }
                if common_only && bq.0 == bc.0 {
                    continue;
                }
                if lq.min(lc) >= 10 && lq.abs_diff(lc) <= 2 {
                    let max = lq.max(lc) / 10;
                    let Some(d) = bounded_osa(jq.as_bytes(), jc.as_bytes(), max) else {
                        continue;
                    };
                    let cs = 1.0 - d as f64 / lq.max(lc) as f64;
                    if cs >= 0.9 && cs > score {
                        score = cs;
                        letters_route = true;
                        if explain {
                            ex.notes.push(format!(
                                "letters agree ignoring word boundaries ({d} edit{})",
                                if d == 1 { "" } else { "s" }
                            ));
                        }
                    }
                }
            }
        }
        // Legal forms on both sides: the same, different in one jurisdiction, or forms of
        // jurisdictions that share none ("gmbh" / "ltd": two legal entities).
        fn forms(ts: &[IToken]) -> Vec<&str> {
            ts.iter()
                .filter(|t| t.kind == TokenKind::LegalForm)
                .map(|t| &*t.text)
                .collect()
        }
        let (qf, cf) = (forms(qt), forms(ct));
        let (mut legal_other, mut legal_differ) = (false, false);
        if !person && !qf.is_empty() && !cf.is_empty() && !qf.iter().any(|f| cf.contains(f)) {
            legal_other = qf.iter().all(|a| {
                cf.iter()
                    .all(|b| crate::legal::different_jurisdictions(a, b))
            });
            legal_differ = !legal_other;
            if explain {
                ex.notes.push(if legal_other {
                    format!(
                        "legal forms of different jurisdictions ({} / {})",
                        qf.join(" "),
                        cf.join(" ")
                    )
                } else {
                    format!("legal forms differ ({} / {})", qf.join(" "), cf.join(" "))
                });
            }
        }
        // Word order where it carries meaning: "A bin B" against "B bin A".
        let mut order_differs = false;
        if qt.len() <= 32 {
            for (i, t) in qt.iter().enumerate() {
                if !CONNECTORS.contains(&&*t.text) || i == 0 || i + 1 >= qt.len() {
                    continue;
                }
                let (before, after) = (q_match[i - 1], q_match[i + 1]);
                let at = q_match[i];
                if before != u8::MAX
                    && after != u8::MAX
                    && at != u8::MAX
                    && after < at
                    && before > at
                {
                    order_differs = true;
                }
            }
            if order_differs && explain {
                ex.notes
                    .push("names around a patronymic connector (bin, ibn ...) are swapped".into());
            }
        }
        let total_q: f64 = qt.iter().map(|t| t.weight as f64).sum::<f64>().max(1e-9);
        let total_c: f64 = ct.iter().map(|t| t.weight as f64).sum::<f64>().max(1e-9);
        let identical = q_used.iter().all(|&u| u)
            && c_used.iter().all(|&u| u)
            && qt.len() == ct.len()
            && matched_sim >= 1.0;
        let rule = score;
        // The letter-level comparison accounts for every word: nothing is unexplained, and
        // its edits are the fuzzy loss.
        if letters_route {
            q_unexpl = 0.0;
            c_unexpl = 0.0;
        }
        let fuzzy_loss = if letters_route {
            1.0 - rule
        } else {
            1.0 - matched_sim.min(1.0)
        };
        // The rarest word both names share (1 = a word of one list name).
        let matched_rarity = ct
            .iter()
            .zip(c_used.iter())
            .filter(|(t, &u)| u && t.kind == TokenKind::Word)
            .map(|(t, _)| t.weight as f64)
            .fold(0.0f64, f64::max)
            / (self.max_weight as f64).max(1e-9);
        // A number (or, for companies and vessels, a last one-letter Roman numeral: "MARIE DE
        // LOURDES V") on one side only: another vessel, branch or issue of the name.
        let has_number = |ts: &[IToken]| {
            ts.iter().any(|t| t.kind == TokenKind::Number)
                || (!person
                    && ts.len() >= 3
                    && ts
                        .last()
                        .is_some_and(|t| matches!(&*t.text, "i" | "v" | "x")))
        };
        let number_one_side = has_number(qt) != has_number(ct);
        let replaced = if person {
            0.0
        } else {
            (q_unexpl / total_q).min(c_unexpl / total_c)
        };
        // Persons: unmatched words on both sides that are spelled partly alike (4+ letters, at
        // most two fifths of the longer word's letters edited: "zafir" / "dafeer", "tohamy" /
        // "tuhami"), a romanisation the rules do not read rather than another name; never two
        // romanised Chinese or Korean syllables ("yong" / "song" are two names), nor the
        // vowelless readings of Hebrew or Arabic script ("mhmdy" / "hmdy": one letter there
        // is another name). Weighted share of the list name, each word similarity-weighted;
        // Wikidata spellings of one Arabic or Cyrillic name word (`spelling.rs`) count in full.
        let mut spelled_alike_w = 0.0f64;
        if person && !letters_route {
            let mut c_taken = [false; 32];
            for (i, a) in qt.iter().enumerate() {
                if q_used[i] || a.kind != TokenKind::Word {
                    continue;
                }
                // Spellings Wikidata gives for one Arabic or Cyrillic name word ("reza" /
                // "rida", "usman" / "othman"; `spelling.rs`, restricted: no romanised Chinese
                // or Korean syllable, no "abdul" / "abdullah" prefix, spelled partly alike):
                // full credit, whatever the edit distance.
                if let Some(j) = (0..ct.len().min(32)).find(|&j| {
                    !c_used[j]
                        && !c_taken[j]
                        && ct[j].kind == TokenKind::Word
                        && crate::spelling::variants(&a.text, &ct[j].text)
                }) {
                    c_taken[j] = true;
                    spelled_alike_w += ct[j].weight as f64;
                    if explain {
                        ex.notes.push(format!(
                            "spelling variants of one name in Wikidata: {} / {}",
                            a.text, ct[j].text
                        ));
                    }
                    continue;
                }
                if a.text.len() < 4 || !has_vowel(&a.text) {
                    continue;
                }
                let a_pinyin = is_pinyin_syllable(&a.text);
                let mut best: Option<(f64, usize)> = None;
                for (j, b) in ct.iter().enumerate().take(32) {
                    if c_used[j]
                        || c_taken[j]
                        || b.kind != TokenKind::Word
                        || b.text.len() < 4
                        || !has_vowel(&b.text)
                        || (a_pinyin && is_pinyin_syllable(&b.text))
                    {
                        continue;
                    }
                    let n = a.text.len().max(b.text.len());
                    if let Some(d) = bounded_osa(a.text.as_bytes(), b.text.as_bytes(), n * 2 / 5) {
                        let sim = 1.0 - d as f64 / n as f64;
                        if best.is_none_or(|(s, _)| sim > s) {
                            best = Some((sim, j));
                        }
                    }
                }
                if let Some((sim, j)) = best {
                    c_taken[j] = true;
                    spelled_alike_w += sim * ct[j].weight as f64;
                    if explain {
                        ex.notes.push(format!(
                            "unmatched words spelled partly alike: {} / {}",
                            a.text, ct[j].text
                        ));
                    }
                }
            }
        }
        // Persons written "SURNAME, Given names" on both sides, one of them accounted for in
        // full (known extra words aside): where the other's unexplained words stand among its
        // given names. After the given names both share, they continue the name ("AL-TURKI,
        // Hassan" / "AL-TURKI, Hassan Abdullah Hersi": the father's and grandfather's names of
        // a name chain, or middle names); before them, the shared names are the chain of
        // another person ("AL-TIKRITI, Saddam Hussein" / "AL-TIKRITI, Hala Saddam Hussein": in
        // a name chain "X Y Z" is X, child of Y, grandchild of Z; so only when two or more
        // shared given names follow every added word). Model features 21 and 22.
        let (mut added_after, mut added_before) = (0.0f64, false);
        if person && !letters_route {
            let has_parts = |ts: &[IToken]| ts.iter().any(|t| t.given == Some(true));
            let unexplained =
                |ts: &[IToken], used: &[bool]| ts.iter().zip(used).any(|(t, &u)| !u && !t.extra);
            let (uq, uc) = (unexplained(qt, q_used), unexplained(ct, c_used));
            if uq != uc && has_parts(qt) && has_parts(ct) {
                let (ts, used, share): (&[IToken], &[bool], f64) = if uq {
                    (qt, q_used, q_unexpl / total_q)
                } else {
                    (ct, c_used, c_unexpl / total_c)
                };
                let first_shared = ts
                    .iter()
                    .zip(used)
                    .position(|(t, &u)| u && t.given == Some(true));
                let added = || {
                    ts.iter()
                        .enumerate()
                        .zip(used)
                        .filter(|((_, t), &u)| !u && !t.extra)
                        .map(|((i, t), _)| (i, t))
                };
                if let Some(f) = first_shared {
                    if added().all(|(_, t)| t.given == Some(true)) {
                        let words = || added().map(|(_, t)| &*t.text).collect::<Vec<_>>().join(" ");
                        if added().all(|(i, _)| i > f) {
                            added_after = share;
                            if explain {
                                ex.notes.push(format!(
                                    "given names added after the shared ones ({}): the name continued (father's names, middle names)",
                                    words()
                                ));
                            }
                        } else if ts
                            .iter()
                            .enumerate()
                            .zip(used)
                            .filter(|((i, t), &u)| {
                                u && t.given == Some(true) && added().all(|(j, _)| j < *i)
                            })
                            .count()
                            >= 2
                        {
                            // A chain: two or more shared given names after every added one.
                            added_before = true;
                            if explain {
                                ex.notes.push(format!(
                                    "a given name added before the shared ones ({}): in a name chain, another person (a child)?",
                                    words()
                                ));
                            }
                        }
                    }
                }
            }
        }
        // Companies: a word of each name replaced by another that no vocabulary explains, as
        // rare as the rarer of the two sides' heaviest unexplained words ("MYANMA TIMBER
        // ENTERPRISE" / "MYANMA GEMS ENTERPRISE": two companies of one family; an unread
        // legal-form spelling against another is a common word on each side).
        // Not when a word was matched as the same company word in another language
        // ("UPRAVLENIE" / "MANAGEMENT"): the name is translated, and its other unmatched words
        // are more likely translations the vocabularies do not spell ("AKTIVAMI" / "ASSET")
        // than other words.
        let replaced_rarity = if person || letters_route || symbol_matched {
            0.0
        } else {
            q_unexpl_max.min(c_unexpl_max) / (self.max_weight as f64).max(1e-9)
        };
        // Companies: other list entries whose names hold every word the two names share
        // ("BANDAR IMAM PETROCHEMICAL" / "BANDAR IMAM KIMIYA PETROCHEMICAL": the KHARAZMI,
        // FARAVARESH and ABNIROO companies are also "BANDAR IMAM ... PETROCHEMICAL"): the
        // shared words name a family of entities, not one. Entries named exactly as either
        // name are not counted (those are the two entities compared). Model feature 23 (index 22).
        // With `family` false it is left 0, an upper bound of the score since the model is
        // monotone in it (sign held <= 0): screening scores every candidate so first, and
        // again with the count only those that bound lets reach the threshold; the hits are
        // those of the exact score, and the look-ups cost only for names that may be reported.
        let family = if person || letters_route || !family {
            0
        } else {
            self.other_entries_sharing(qt, ct, c_used)
        };
        let f: crate::pairmodel::Features = [
            rule,
            q_unexpl / total_q,
            c_unexpl / total_c,
            extra / (total_q + total_c),
            fuzzy_loss,
            f64::from(u8::from(words(qt).min(words(ct)) <= 1)),
            f64::from(u8::from(person)),
            if person { rule } else { 0.0 },
            f64::from(u8::from(legal_other)),
            f64::from(u8::from(legal_differ)),
            f64::from(u8::from(!geo_unmatched.is_empty())),
            f64::from(u8::from(order_differs)),
            f64::from(u8::from(identical)),
            phonetic / total_c,
            matched_rarity,
            f64::from(u8::from(number_one_side)),
            replaced,
            f64::from(u8::from(fuzzy_first)),
            (spelled_alike_w / total_c).min(1.0),
            replaced_rarity.min(1.0),
            added_after.min(1.0),
            f64::from(u8::from(added_before)),
            (family as f64 / FAMILY_CAP as f64).min(1.0),
        ];
        ex.features = f;
        ex.rule_score = rule;
        let model = if self.config.use_model {
            crate::pairmodel::embedded()
        } else {
            None
        };
        // Words matched that weigh less than the list name's unexplained words: only the
        // generic part of a company name is shared ("GLOBAL TRADING CO LTD" / "ALFA GLOBAL
        // TRADING CO LTD"). A stated rule: the alias pairs, where one name often drops words,
        // taught the model to forgive this.
        let matched_words: f64 = ct
            .iter()
            .zip(c_used.iter())
            .filter(|(t, &u)| u && t.kind == TokenKind::Word)
            .map(|(t, _)| t.weight as f64)
            .sum();
        // A distinctive word (weight at least DISTINCTIVE_SHARE of the largest) matched means
        // more than the generic part is shared ("VELCOM TRADE DOO" / "VELCOM TRADE PREDUZECE
        // ZA PROIZVODNJU ... DOO": many unmatched words, but the name's own word agrees).
        let distinctive_matched = ct
            .iter()
            .zip(c_used.iter())
            .any(|(t, &u)| u && t.kind == TokenKind::Word && t.weight as f64 >= distinctive);
        let generic_only = !person && c_unexpl > matched_words && !distinctive_matched;
        if let Some(m) = model {
            score = m.prob(&f);
            if generic_only {
                score *= 0.5;
                if explain {
                    ex.notes.push(
                        "only generic words shared; the list name's own words are missing".into(),
                    );
                }
            }
        } else if legal_other {
            score *= 0.9;
        }
        // Not learned (no training pair has it): a stated rule. "A bin B" against "B bin A" is
        // a father and his son, two people: below the default threshold, ranked by the rest.
        if order_differs {
            score = (score * 0.8).min(SWAPPED_CONNECTOR_CAP);
        }
        ex.name_score = score;
        if !geo_unmatched.is_empty() {
            if model.is_none() {
                score *= 0.85;
            }
            if explain {
                ex.notes.push(format!(
                    "place names on one side only ({}): another legal entity?",
                    geo_unmatched.join(" ")
                ));
            }
        }
        // Company words one name adds to the other that no vocabulary explains ("OPTIMA" /
        // "OPTIMA INVEST", "BANDAR IMAM PETROCHEMICAL" / "BANDAR IMAM KIMIYA PETROCHEMICAL"):
        // said on the explanation, for the officer to check whether the list means another
        // company of the same family. Explanation only: on the dev pairs such names are the
        // same entity more often than not (docs/screening.md, ninth round), so the score is
        // the model's.
        if explain && !person && !letters_route {
            fn added<'a>(ts: &'a [IToken], used: &[bool]) -> Vec<&'a str> {
                ts.iter()
                    .zip(used)
                    .filter(|(t, &u)| !u && is_added_word(t))
                    .map(|(t, _)| &*t.text)
                    .collect()
            }
            let (aq, ac) = (added(qt, q_used), added(ct, c_used));
            // A distinctive word on each side that the other lacks (the model's
            // `replaced_word_rarity`): the shared words may name a family of companies.
            if family > 0 {
                let shared: Vec<&str> = ct
                    .iter()
                    .zip(c_used.iter())
                    .filter(|(t, &u)| u && t.kind == TokenKind::Word)
                    .map(|(t, _)| &*t.text)
                    .collect();
                ex.notes.push(format!(
                    "{} other list {} also named with the shared words ({}): a family of entities?",
                    if family >= FAMILY_CAP {
                        format!("{FAMILY_CAP} or more")
                    } else {
                        family.to_string()
                    },
                    if family == 1 {
                        "entry is"
                    } else {
                        "entries are"
                    },
                    shared.join(" ")
                ));
            }
            if replaced_rarity >= DISTINCTIVE_SHARE {
                ex.notes.push(format!(
                    "a distinctive word differs ({} / {}): another company of the same family?",
                    qt[q_heaviest].text, ct[c_heaviest].text
                ));
            }
            if aq.is_empty() != ac.is_empty() {
                let (words, side) = if ac.is_empty() {
                    (aq, "query")
                } else {
                    (ac, "list name")
                };
                ex.notes.push(format!(
                    "the {side} adds words the other name lacks ({}): another company of the same family?",
                    words.join(" ")
                ));
            }
        }
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
        // Series words ("SCF ALPHA SHIPPING" / "SCF BETA SHIPPING") name members of a family of
        // companies or vessels as numbers do: two different ones unmatched on both sides are
        // two entities.
        if !person {
            let series = |ts: &[IToken], used: &[bool]| -> Option<String> {
                ts.iter()
                    .zip(used)
                    .find(|(t, &u)| !u && SERIES_WORDS.contains(&&*t.text))
                    .map(|(t, _)| t.text.to_string())
            };
            if let (Some(a), Some(b)) = (series(qt, q_used), series(ct, c_used)) {
                score = score.min(self.config.number_conflict_cap);
                if explain {
                    ex.notes.push(format!("series words differ: {a} vs {b}"));
                }
            }
        }
        // A company or vessel name that is the other plus only a series number (a number or a
        // Roman numeral left unmatched, every other word matched) names another member of
        // the series: "MARIE DE LOURDES" / "MARIE DE LOURDES I", "MI RIM" / "MI RIM 2".
        if !person {
            // (unmatched words, of which series numbers) of one side; no allocation.
            let left = |ts: &[IToken], used: &[bool]| -> (usize, usize) {
                ts.iter()
                    .zip(used)
                    .filter(|(t, &u)| !u && t.kind != TokenKind::LegalForm)
                    .fold((0, 0), |(n, s), (t, _)| {
                        let series =
                            t.kind == TokenKind::Number || SERIES_NUMERALS.contains(&&*t.text);
                        (n + 1, s + usize::from(series))
                    })
            };
            let ((nq, sq), (nc, sc)) = (left(qt, q_used), left(ct, c_used));
            let member = (nq == 0 && nc > 0 && sc == nc) || (nc == 0 && nq > 0 && sq == nq);
            if member && score > SERIES_MEMBER_CAP {
                score = SERIES_MEMBER_CAP;
                if explain {
                    let number: Vec<&str> = qt
                        .iter()
                        .zip(q_used.iter())
                        .chain(ct.iter().zip(c_used.iter()))
                        .filter(|(t, &u)| !u && t.kind != TokenKind::LegalForm)
                        .map(|(t, _)| &*t.text)
                        .collect();
                    ex.notes.push(format!(
                        "one name is the other with a series number ({}): another member of the series?",
                        number.join(" ")
                    ));
                }
            }
        }
        if !qn.is_empty() && !cn.is_empty() {
            let mut a = qn.clone();
            let mut b = cn.clone();
            a.sort_unstable();
            b.sort_unstable();
            if a != b {
                score = score.min(self.config.number_conflict_cap);
                if explain {
                    ex.notes.push(format!(
                        "numbers differ: {} vs {}",
                        qn.join(" "),
                        cn.join(" ")
                    ));
                }
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
        person: bool,
        korean: bool,
    ) {
        if two.len() < 2 {
            return;
        }
        // Persons' given names of two short syllables ("ju ae" / "juae") join as well.
        let min_len = if person { 4 } else { 5 };
        for j in 0..one.len() {
            if one_used[j] || one[j].kind != TokenKind::Word || one[j].text.len() < min_len {
                continue;
            }
            // Three or four words in a row written as one ("AERO SKY ONE" / "AEROSKYONE",
            // "XIN PENG HAI" / "XINPENGHAI"): in the given order, letters equal (persons) or
            // within one edit (others).
            'runs: for len in [3usize, 4] {
                for i in 0..two.len().saturating_sub(len - 1) {
                    let run = &two[i..i + len];
                    if two_used[i..i + len].iter().any(|&u| u)
                        || run.iter().any(|t| t.kind != TokenKind::Word)
                    {
                        continue;
                    }
                    let total: usize = run.iter().map(|t| t.text.len()).sum();
                    if total.abs_diff(one[j].text.len()) > 1 {
                        continue;
                    }
                    let joined: String = run.iter().map(|t| &*t.text).collect();
                    let sim = match token_sim(&joined, &one[j].text) {
                        Some((sim, MatchHow::Exact)) => sim,
                        Some((sim, MatchHow::Fuzzy { edits })) if edits <= 1 && !person => sim,
                        _ => continue,
                    };
                    two_used[i..i + len].iter_mut().for_each(|u| *u = true);
                    one_used[j] = true;
                    let w = (one[j].weight as f64)
                        .max(run.iter().map(|t| t.weight as f64).fold(f64::MAX, f64::min));
                    *num += 2.0 * sim * w;
                    *den += 2.0 * w;
                    let spaced = run.iter().map(|t| &*t.text).collect::<Vec<_>>().join(" ");
                    let (q, c) = if swapped {
                        (one[j].text.to_string(), joined)
                    } else {
                        (spaced, one[j].text.to_string())
                    };
                    ex.matched.push(TokenMatch {
                        query: q,
                        candidate: c,
                        how: MatchHow::Merged,
                        similarity: sim,
                        weight: w,
                    });
                    break 'runs;
                }
            }
            if one_used[j] {
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
                    let korean_glued = korean
                        && k == i + 1
                        && crate::hangul::glued_syllables(&two[i].text, &two[k].text, &one[j].text);
                    if !korean_glued
                        && (two[i].text.len() + two[k].text.len()).abs_diff(one[j].text.len()) > 1
                    {
                        continue;
                    }
                    let joined = format!("{}{}", two[i].text, two[k].text);
                    // At most one edit besides the moved word boundary.
                    // Persons: short parts are syllables of a given name ("jian kun"), and an
                    // edit there makes another name ("jianjun"): such joins must be exact.
                    let short_parts = two[i].text.len().min(two[k].text.len()) < 5;
                    let close = match token_sim(&joined, &one[j].text) {
                        Some((sim, MatchHow::Exact)) => Some(sim),
                        Some((sim, MatchHow::Fuzzy { edits }))
                            if edits <= 1 && !(person && short_parts) =>
                        {
                            Some(sim)
                        }
                        // Romanisations of one name split differently ("jong un" /
                        // "jeongeun"): same consonant skeleton, in the given order only.
                        _ if k == i + 1
                            && skeleton(&joined)
                                .is_some_and(|s| Some(s) == skeleton(&one[j].text)) =>
                        {
                            Some(PHONETIC_SIM)
                        }
                        // A Korean given name in two romanisations, split on one side
                        // ("jong un" / "jeongeun", "jae soo" / "jaesu").
                        _ if korean_glued => Some(PHONETIC_SIM),
                        // A Chinese given name hyphenated in Wade-Giles and glued in pinyin
                        // ("chih cheng" / "zhicheng").
                        _ if person
                            && k == i + 1
                            && crate::wadegiles::glued_match(
                                &two[i].text,
                                &two[k].text,
                                &one[j].text,
                            ) =>
                        {
                            Some(PHONETIC_SIM)
                        }
                        _ => None,
                    };
                    if let Some(sim) = close {
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

    /// Vocabulary tokens matching a query token: (vocab id, similarity), cached per thread.
    fn lookup(&self, t: &IToken, out: &mut Vec<(u32, f64)>) {
        let key = (self.id, t.text.clone());
        let hit = LOOKUPS.with(|c| {
            c.borrow().get(&key).map(|v| {
                out.clear();
                out.extend_from_slice(v);
            })
        });
        if hit.is_some() {
            return;
        }
        self.lookup_uncached(t, out);
        LOOKUPS.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= LOOKUP_CACHE_LIMIT {
                c.clear();
            }
            c.insert(key, out.clone());
        });
    }

    /// A query word without vowels is the Latin reading of a Hebrew or Arabic word ("lngr",
    /// "mhmd"): the list words with its consonant key are candidates (the score reads them
    /// with `abjad_match` and the learned pieces). Keys shared by many words say too little
    /// to retrieve by; words glued from two query words are not looked up this way. Only
    /// for queries holding Hebrew or Arabic letters (see [`Matcher::screen_with_threshold`]):
    /// a Latin query pays nothing for it.
    fn abjad_lookup(&self, t: &IToken, out: &mut Vec<(u32, f64)>) {
        if t.kind != TokenKind::Word
            || t.text.len() < 3
            || t.text.bytes().any(|b| b"aeiou".contains(&b))
        {
            return;
        }
        count_probe();
        if let Some(ids) = abjad_key(&t.text, true)
            .filter(|k| k.len >= 3)
            .and_then(|k| self.abjad.get(&k.b[..k.len as usize]))
            .filter(|ids| ids.len() <= MAX_ABJAD_CANDIDATES)
        {
            for &id in ids {
                if id != t.id && !out.iter().any(|(x, _)| *x == id) {
                    out.push((id, PHONETIC_SIM));
                }
            }
        }
    }

    fn lookup_uncached(&self, t: &IToken, out: &mut Vec<(u32, f64)>) {
        out.clear();
        if t.id != u32::MAX {
            out.push((t.id, 1.0));
        }
        if t.kind != TokenKind::Word || t.text.len() < 3 || t.text.len() > MAX_FUZZY_TOKEN_BYTES {
            return;
        }
        // A token the lists spell exactly this way very often needs no fuzzy retrieval:
        // variants of it are reached through the name's other tokens and scored in full.
        if t.id != u32::MAX && self.postings[t.id as usize].len() > self.common_df {
            return;
        }
        let text: &str = &t.text;
        let mut buf = String::with_capacity(text.len());
        let consider = |id: u32, out: &mut Vec<(u32, f64)>| {
            if id == t.id || out.iter().any(|(x, _)| *x == id) {
                return;
            }
            if let Some((sim, _)) = token_sim(text, &self.vocab_text[id as usize]) {
                out.push((id, sim));
            }
        };
        // The query token itself as a deletion key (list token one letter longer).
        count_probe();
        if let Some(ids) = self.deletes.get(text) {
            for &id in ids {
                consider(id, out);
            }
        }
        // Three letters match only by an adjacent swap (or a doubled letter, found above):
        // try the two swaps directly instead of the crowded two-letter deletion keys.
        if text.len() == 3 {
            let b = text.as_bytes();
            for (x, y) in [(0usize, 1usize), (1, 2)] {
                let mut sw = b.to_vec();
                sw.swap(x, y);
                count_probe();
                if let Ok(sw) = std::str::from_utf8(&sw) {
                    if let Some(&id) = self.vocab.get(sw) {
                        consider(id, out);
                    }
                }
            }
            return;
        }
        for (i, c) in text.char_indices() {
            buf.clear();
            buf.push_str(&text[..i]);
            buf.push_str(&text[i + c.len_utf8()..]);
            count_probe();
            // Same-length edits (both sides lose one letter).
            if let Some(ids) = self.deletes.get(buf.as_str()) {
                for &id in ids {
                    consider(id, out);
                }
            }
            // List token one letter shorter.
            if let Some(&id) = self.vocab.get(buf.as_str()) {
                consider(id, out);
                // A letter at either end may belong to the neighbouring word ("lauren tnkunda"
                // for "laurent nkunda"): propose the name; the letter-level comparison in the
                // score decides.
                if text.len() >= 5
                    && (i == 0 || i + c.len_utf8() == text.len())
                    && !out.iter().any(|(x, _)| *x == id)
                {
                    out.push((id, 0.8));
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
        self.queries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut norm = if q.schema == Schema::Person {
            normalize_person(&q.name)
        } else {
            normalize(&q.name)
        };
        // The words in Hangul, Hebrew, Arabic ... script (the last segment, see `normalize`)
        // reach no list word by look-up: they are read against the names the other segments
        // (the Latin readings) retrieve, as `compare` reads them.
        // Han characters are left out: a Chinese person's name is read in pinyin (the main
        // segment); the learned pieces are for foreign names written in Han characters, and
        // read against pinyin-retrieved names they accept other Chinese names ("鑫 徐" /
        // "XU, Bin").
        let native_words = crate::translit::native_words(&q.name);
        let native = !native_words.is_empty()
            && !native_words
                .iter()
                .any(|w| w.chars().any(crate::translit::is_han));
        // A query of unknown kind may name a person, whose list names keep a final "s"
        // ("Carlos", "Denys"): its unfolded reading is one more segment when it differs and
        // the name is as short as a person's (longer ones keep one reading: screening work
        // stays linear in the name's length).
        if q.schema == Schema::Unknown && norm.tokens().len() <= MAX_PERSON_WORDS {
            let unfolded = normalize_person(&q.name);
            // The native segment stays last: it is read against what the others retrieve.
            let own_native = if native_words.is_empty() {
                None
            } else {
                norm.segments.pop()
            };
            for seg in unfolded.segments {
                if !norm.segments.contains(&seg) && own_native.as_ref() != Some(&seg) {
                    norm.segments.push(seg);
                }
            }
            norm.segments.extend(own_native);
        }
        let native = native.then(|| norm.segments.len() - 1);
        let mut best: AHashMap<u32, (f64, u32, Explanation)> = AHashMap::new();
        // Vowelless Latin readings are looked up by consonant key only for a query in Hebrew
        // or Arabic script (see `abjad_lookup`).
        let abjad = q
            .name
            .chars()
            .any(|c| crate::translit::is_hebrew(c) || crate::translit::is_arabic(c));
        let mut retrieved: Vec<u32> = Vec::new();
        for (si, seg) in norm.segments.iter().enumerate() {
            let prepared = if q.schema == Schema::Person {
                let mut p = self.prepare(&person_tokens(seg));
                if si == 0 && q.name.contains(',') {
                    mark_name_parts(&mut p.tokens, surname_words(&q.name, seg));
                }
                p
            } else {
                self.prepare(seg)
            };
            let scored = if Some(si) == native {
                // The best-retrieved few only: the learned reading is slow (a cut per word
                // pair), and a name the Latin reading ranks low is seldom the one.
                let mut cands: Vec<u32> = Vec::with_capacity(NATIVE_CANDIDATES);
                for &ni in &retrieved {
                    if cands.len() >= NATIVE_CANDIDATES {
                        break;
                    }
                    if !cands.contains(&ni) {
                        cands.push(ni);
                    }
                }
                retrieved.clear();
                let mut out =
                    self.score_candidates(&prepared, q, threshold, &cands, &mut retrieved);
                out.extend(self.retrieve_and_score(&prepared, q, threshold, abjad, &mut retrieved));
                out
            } else {
                self.retrieve_and_score(&prepared, q, threshold, abjad, &mut retrieved)
            };
            for (ni, score, ex) in scored {
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
        // A total order: the same entry published in two lists (an OFAC entry and its alias
        // list) ties on score and id, and the candidates arrive in hash order, which differs
        // between processes; ordering by list too gives every run the same output.
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entry_id.cmp(&b.entry_id))
                .then_with(|| a.list.cmp(&b.list))
                .then_with(|| a.entry_index.cmp(&b.entry_index))
        });
        hits
    }

    /// Retrieves the candidates of a prepared query and scores them (see
    /// [`Matcher::score_candidates`]); the candidates are appended to `retrieved`.
    fn retrieve_and_score(
        &self,
        q: &Prepared,
        query: &Query,
        min_report: f64,
        abjad: bool,
        retrieved: &mut Vec<u32>,
    ) -> Vec<(u32, f64, Explanation)> {
        let mut found = Vec::new();
        let mut total = 0.0f32;
        let mut common_weight = 0.0f32;
        let mut per_token: Vec<Vec<(u32, f64)>> = Vec::with_capacity(q.tokens.len());
        // A spelling variant reached by a query token counts at most what the query token's own
        // spelling weighs: otherwise a rarer variant ("hasan" for "hassan") outranks names
        // holding the exact token, and the exact name can drop out of the candidates.
        let mut caps: Vec<f32> = Vec::with_capacity(q.tokens.len());
        for t in q.tokens.iter().filter(|t| t.kind != TokenKind::LegalForm) {
            self.lookup(t, &mut found);
            if abjad {
                self.abjad_lookup(t, &mut found);
            }
            total += if t.id != u32::MAX {
                t.weight
            } else {
                // An unknown (misspelt) token weighs what the list tokens it resembles weigh.
                found
                    .iter()
                    .map(|(id, _)| self.weights[*id as usize])
                    .reduce(f32::max)
                    .unwrap_or(t.weight * 0.6)
            };
            per_token.push(found.clone());
            caps.push(if t.id != u32::MAX { t.weight } else { f32::MAX });
        }
        if total <= 0.0 {
            return Vec::new();
        }
        // Adjacent query tokens written as one list token ("abdul hai" / "abdulhai").
        let mut merged: Vec<(u32, f64)> = Vec::new();
        let words: Vec<&IToken> = q
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .collect();
        for pair in words.windows(2) {
            if pair[0].text.len().min(pair[1].text.len()) > 4 {
                continue;
            }
            let joined = format!("{}{}", pair[0].text, pair[1].text);
            let probe = IToken {
                id: self.vocab.get(joined.as_str()).copied().unwrap_or(u32::MAX),
                text: joined.into_boxed_str(),
                kind: TokenKind::Word,
                weight: 0.0,
                geo: false,
                sym: crate::symbols::NO_GROUPS,
                extra: false,
                korean: false,
                given: None,
            };
            self.lookup(&probe, &mut found);
            merged.extend_from_slice(&found);
        }
        // Very common list tokens ("trading", "mohammad") reach thousands of names: when the
        // query has a rarer token, they count towards coverage but do not propose candidates.
        // When every token is common ("International General Ltd"), only the rarest two do.
        let is_common = |id: u32| self.postings[id as usize].len() > self.common_df;
        let skip_common = per_token
            .iter()
            .any(|f| f.iter().any(|&(id, _)| !is_common(id)));
        let mut rarest: Vec<usize> = (0..per_token.len()).collect();
        rarest.sort_by_key(|&i| {
            per_token[i]
                .iter()
                .map(|&(id, _)| self.postings[id as usize].len())
                .sum::<usize>()
        });
        let proposing: Vec<bool> = (0..per_token.len())
            .map(|i| skip_common || rarest.iter().take(2).any(|&r| r == i))
            .collect();
        let cands: Vec<(u32, f32)> = DENSE.with(|cell| {
            let mut dense = cell.borrow_mut();
            let (scores, touched) = &mut *dense;
            if scores.len() < self.names.len() {
                scores.resize(self.names.len(), 0.0);
            }
            let mut add = |id: u32, w: f32, touched: &mut Vec<u32>| {
                for &ni in &self.postings[id as usize] {
                    let slot = &mut scores[ni as usize];
                    if *slot == 0.0 {
                        touched.push(ni);
                    }
                    *slot += w;
                }
            };
            for ((f, &propose), &cap) in per_token.iter().zip(&proposing).zip(&caps) {
                for &(id, sim) in f {
                    let w = self.weights[id as usize].min(cap) * sim as f32;
                    if !propose || (skip_common && is_common(id)) {
                        common_weight += w;
                        continue;
                    }
                    add(id, w, touched);
                }
            }
            for &(id, sim) in &merged {
                if !is_common(id) {
                    add(id, self.weights[id as usize] * sim as f32, touched);
                }
            }
            // Common tokens were not accumulated: assume every candidate has them (the full
            // score below checks).
            let floor = total * self.config.min_coverage as f32 - common_weight;
            let mut out = Vec::new();
            for &ni in touched.iter() {
                let v = scores[ni as usize];
                if v >= floor {
                    out.push((ni, v));
                }
                scores[ni as usize] = 0.0;
            }
            touched.clear();
            out
        });
        // Ties (common names reach many list names with the same weight) go to names of the
        // query's length.
        // The order is total (name indexes are unique), so an unstable sort on keys computed
        // once per candidate gives the same order as comparing names' lengths in every
        // comparison (which read `names` at random: thousands of candidates for common words).
        let qlen = q.tokens.len();
        let mut keyed: Vec<(u32, usize, u32)> = cands
            .iter()
            .map(|&(ni, v)| {
                let gap = self.names[ni as usize].tokens.len().abs_diff(qlen);
                (descending_f32_key(v), gap, ni)
            })
            .collect();
        // At most two name variants per entry, so one entry's many aliases do not crowd the
        // others out of the candidates scored in full; the best `max_candidates` are kept.
        // Only the head of the order is needed: the smallest keys are selected and sorted
        // first (the same head as a full sort, the order being total), and the whole list is
        // sorted only when that head holds too few entries.
        let max = self.config.max_candidates;
        let mut head = (4 * max).max(64);
        let cands: Vec<u32> = loop {
            if head < keyed.len() {
                keyed.select_nth_unstable(head);
                keyed[..head].sort_unstable();
            } else {
                keyed.sort_unstable();
            }
            let mut per_entry: Vec<(u32, u8)> = Vec::new();
            let mut out: Vec<u32> = Vec::with_capacity(max);
            for &(_, _, ni) in keyed.iter().take(head) {
                if out.len() >= max {
                    break;
                }
                let e = self.names[ni as usize].entry;
                let seen = match per_entry.iter_mut().find(|(x, _)| *x == e) {
                    Some((_, c)) => {
                        *c += 1;
                        *c
                    }
                    None => {
                        per_entry.push((e, 1));
                        1
                    }
                };
                if seen <= 2 {
                    out.push(ni);
                }
            }
            if out.len() >= max || head >= keyed.len() {
                break out;
            }
            head = keyed.len();
        };
        self.score_candidates(q, query, min_report, &cands, retrieved)
    }

    /// Scores candidate names (indexes into `names`) against a prepared query: the pair
    /// score, the persons' rule-score gate, then country, address and year-of-birth evidence;
    /// explanations only for names that can be reported. The candidates are appended to
    /// `retrieved`.
    fn score_candidates(
        &self,
        q: &Prepared,
        query: &Query,
        min_report: f64,
        cands: &[u32],
        retrieved: &mut Vec<u32>,
    ) -> Vec<(u32, f64, Explanation)> {
        retrieved.extend_from_slice(cands);
        let qcountry = query.country.as_deref();
        let qaddr = query.address.as_deref().map(address_tokens);
        let qyear = query
            .birth_date
            .as_deref()
            .and_then(crate::model::birth_year);
        let mut memo = Vec::new();
        cands
            .iter()
            .filter_map(|&ni| {
                let name = &self.names[ni as usize];
                let entry = &self.entries[name.entry as usize];
                if !query.schema.compatible(entry.schema) {
                    return None;
                }
                let person = query.schema == Schema::Person || entry.schema == Schema::Person;
                let (s, mut ex) =
                    self.score_shape(&mut memo, &q.tokens, name, person, false, false);
                // Screening persons: the pair model is calibrated on name pairs of which half
                // match, while a screened person is almost never listed; a person hit also
                // needs the rule score's agreement (>= 0.85, its own decision point, which
                // kept false hits per 1,000 synthetic people at 0.04 on the UN list).
                if person && self.config.use_model && ex.rule_score < RULE_THRESHOLD {
                    return None;
                }
                let s = self.apply_evidence(
                    s,
                    &mut ex,
                    entry,
                    query.schema,
                    qcountry,
                    qaddr.as_ref(),
                    qyear,
                );
                // A company name the bound lets through: its exact score, with the other
                // entries that share its words counted (`shared_words_other_entries`).
                let s = if s >= min_report && !person {
                    let (s1, mut ex1) =
                        self.score_shape(&mut memo, &q.tokens, name, person, false, true);
                    self.apply_evidence(
                        s1,
                        &mut ex1,
                        entry,
                        query.schema,
                        qcountry,
                        qaddr.as_ref(),
                        qyear,
                    )
                } else {
                    s
                };
                // Explanations are built only for names that can be reported.
                if s >= min_report {
                    let (s2, mut ex) =
                        self.score_shape(&mut memo, &q.tokens, name, person, true, true);
                    let s2 = self.apply_evidence(
                        s2,
                        &mut ex,
                        entry,
                        query.schema,
                        qcountry,
                        qaddr.as_ref(),
                        qyear,
                    );
                    Some((ni, s2, ex))
                } else {
                    Some((ni, s, Explanation::default()))
                }
            })
            .collect()
    }

    /// [`Matcher::score_tokens`] of a query and a candidate name, remembered in `memo` by the
    /// name's shape: a name of a shape already scored (with the same `person`, `explain` and
    /// `family`) gets that result, which is the same, at the cost of a copy (issue 15, speed).
    /// Exact because the pair score reads only the two token lists and the index's word
    /// counts: the family count (`shared_words_other_entries`) leaves out the entries named
    /// with the candidate's words, which one shape determines.
    fn score_shape(
        &self,
        memo: &mut ShapeMemo,
        qt: &[IToken],
        name: &IndexedName,
        person: bool,
        explain: bool,
        family: bool,
    ) -> (f64, Explanation) {
        let key = (name.shape, person, explain, family);
        if let Some((_, r)) = memo.iter().find(|(k, _)| *k == key) {
            return r.clone();
        }
        let r = self.score_tokens(qt, &name.tokens, person, explain, family);
        memo.push((key, r.clone()));
        r
    }

    /// Country, address and year-of-birth evidence (see the module documentation).
    #[allow(clippy::too_many_arguments)]
    pub fn apply_evidence(
        &self,
        mut s: f64,
        ex: &mut Explanation,
        entry: &Entry,
        schema: Schema,
        country: Option<&str>,
        address: Option<&AHashSet<String>>,
        birth_year: Option<u16>,
    ) -> f64 {
        // Year of birth: only for people, only when both sides give one. One year of
        // tolerance (lists and documents disagree on the turn of the year).
        if let Some(y) = birth_year.filter(|_| schema != Schema::Company) {
            if entry.schema != Schema::Company && !entry.birth_years.is_empty() {
                let agrees = entry
                    .birth_years
                    .iter()
                    .any(|&(lo, hi)| y + 1 >= lo && y <= hi + 1);
                if agrees {
                    s += (1.0 - s) * self.config.dob_match_bonus;
                    ex.notes.push(format!("year of birth {y} agrees"));
                } else {
                    s *= self.config.dob_mismatch_factor;
                    // The intent (a homonym) holds on the calibrated scale too: below the
                    // threshold.
                    if self.config.use_model {
                        s = s.min(self.config.threshold * 0.95);
                    }
                    ex.notes.push(format!(
                        "year of birth {y} not among entry's {}",
                        entry
                            .birth_years
                            .iter()
                            .map(|&(lo, hi)| if lo == hi {
                                lo.to_string()
                            } else {
                                format!("{lo}-{hi}")
                            })
                            .collect::<Vec<_>>()
                            .join("/")
                    ));
                }
            }
        }
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

/// An integer key whose ascending order is `f32::total_cmp`'s descending order (the same bit
/// trick as `total_cmp`: negative numbers' magnitude bits flipped, then the sign bit).
fn descending_f32_key(v: f32) -> u32 {
    let bits = v.to_bits() as i32;
    let ordered = bits ^ ((((bits >> 31) as u32) >> 1) as i32);
    !((ordered as u32) ^ 0x8000_0000)
}

/// Word-boundary positions of the name's letters (legal forms left out), counted from the
/// start and from the end.
fn boundaries(ts: &[IToken]) -> (Vec<usize>, Vec<usize>) {
    let lens: Vec<usize> = ts
        .iter()
        .filter(|t| t.kind != TokenKind::LegalForm)
        .map(|t| t.text.len())
        .collect();
    let total: usize = lens.iter().sum();
    let mut from_start = Vec::new();
    let mut at = 0;
    for l in lens.iter().take(lens.len().saturating_sub(1)) {
        at += l;
        from_start.push(at);
    }
    let mut from_end: Vec<usize> = from_start.iter().map(|b| total - b).collect();
    from_end.reverse();
    (from_start, from_end)
}

/// A person's name written "SURNAME, Given names" (one comma, words on both sides): how many
/// words of its reading `whole` (the first segment of [`normalize_person`]) are the surname.
/// `None` when the name has no such comma or the surname's reading does not open `whole`.
fn surname_words(raw: &str, whole: &[Token]) -> Option<usize> {
    let (sur, given) = raw.split_once(',')?;
    if given.contains(',') || !given.chars().any(char::is_alphabetic) {
        return None;
    }
    let norm = normalize_person(sur);
    let st = norm.segments.first()?;
    let n = st.len();
    (n > 0 && n < whole.len() && st.iter().zip(whole).all(|(a, b)| a.text == b.text)).then_some(n)
}

/// Marks the first `surname` words as the surname and the rest as given names.
fn mark_name_parts(toks: &mut [IToken], surname: Option<usize>) {
    if let Some(n) = surname {
        for (i, t) in toks.iter_mut().enumerate() {
            t.given = Some(i >= n);
        }
    }
}

/// A person's name has no legal form: tokens the normaliser read as one ("Sá" -> "sa") are
/// name words again.
fn person_tokens(seg: &[Token]) -> Vec<Token> {
    seg.iter()
        .map(|t| Token {
            text: t.text.clone(),
            kind: if t.kind == TokenKind::LegalForm {
                TokenKind::Word
            } else {
                t.kind
            },
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_osa_agrees_with_strsim() {
        let words = [
            "rosneft", "rosnfet", "rosneftt", "trading", "tradng", "abc", "acb", "", "a",
            "kashgar", "kaxgar",
        ];
        for a in words {
            for b in words {
                let d = strsim::osa_distance(a, b);
                for max in 0..4 {
                    let got = bounded_osa(a.as_bytes(), b.as_bytes(), max);
                    assert_eq!(got, (d <= max).then_some(d), "{a} {b} {max}");
                }
            }
        }
    }

    #[test]
    fn descending_f32_key_orders_as_total_cmp_reversed() {
        let xs = [
            f32::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-30,
            0.4,
            0.5,
            3.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(
                    descending_f32_key(a).cmp(&descending_f32_key(b)),
                    b.total_cmp(&a),
                    "{a} {b}"
                );
            }
        }
    }

    /// The band and the bag-distance shortcut of `bounded_osa` are exact: every pair of short
    /// strings over a small alphabet (so that letters repeat and swaps occur), every bound.
    #[test]
    fn bounded_osa_is_exact_for_every_bound() {
        let mut words: Vec<Vec<u8>> = vec![Vec::new()];
        // All strings of up to 5 letters over "abc", and a few longer ones.
        let mut frontier: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for w in &frontier {
                for c in b"abc" {
                    let mut x = w.clone();
                    x.push(*c);
                    next.push(x);
                }
            }
            words.extend(next.iter().cloned());
            frontier = next;
        }
        for w in [
            "abcabcabcabca",
            "bacbacbacbac",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        ] {
            words.push(w.as_bytes().to_vec());
        }
        let mut checked = 0usize;
        for (x, a) in words.iter().enumerate() {
            // Every pair among the short words would be 130k pairs x bounds: a stride keeps the
            // test quick while still meeting every length and letter pattern.
            for b in words.iter().skip(x % 7).step_by(7) {
                let (sa, sb) = (
                    std::str::from_utf8(a).unwrap(),
                    std::str::from_utf8(b).unwrap(),
                );
                let d = strsim::osa_distance(sa, sb);
                for max in [0, 1, 2, 3, 4, 6, 12, 63, 64, 200] {
                    assert_eq!(
                        bounded_osa(a, b, max),
                        (d <= max).then_some(d),
                        "{sa} {sb} {max}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn abjad_words_match_latin_words_by_consonant_key() {
        for (a, b) in [
            ("lngr", "langer"),
            ("qvzntsvbh", "kuznetsova"),
            ("dvbqyn", "dobkin"),
            ("brhm", "ibrahim"),
        ] {
            assert!(abjad_match(a, b), "{a} {b}");
            assert!(abjad_match(b, a), "{b} {a}");
        }
        // Keys of two classes say too little; two words with vowels are not abjad words.
        assert!(!abjad_match("msh", "moshe"));
        assert!(!abjad_match("hmydy", "mohammed"));
        assert!(!abjad_match("langer", "lenger"));
        // Other consonants.
        assert!(!abjad_match("lngr", "lender"));
    }

    #[test]
    fn transliteration_skeletons() {
        for (a, b) in [
            ("qadhafi", "gaddafi"),
            ("mulhem", "moulhim"),
            ("aleksandr", "alexander"),
            ("zubaidi", "zubaydi"),
        ] {
            assert_eq!(skeleton(a), skeleton(b), "{a} {b}");
            assert!(spelled_alike(a, b), "{a} {b}");
        }
        assert_ne!(skeleton("qasir"), skeleton("qasim"));
        // The same short skeleton, spelled far apart: not a transliteration.
        assert_eq!(skeleton("cicilline"), skeleton("kyagulanyi"));
        assert!(!spelled_alike("cicilline", "kyagulanyi"));
        assert_eq!(skeleton("ali"), None, "too short to say anything");
    }

    #[test]
    fn pinyin_syllables() {
        for s in [
            "zhang", "zhong", "chen", "cheng", "chan", "chang", "wei", "xue", "qiang", "ai",
        ] {
            assert!(is_pinyin_syllable(s), "{s}");
        }
        for s in [
            "ahmed", "ahmad", "omar", "umar", "yusuf", "yousuf", "meyer", "aslan", "zhnag",
        ] {
            assert!(!is_pinyin_syllable(s), "{s}");
        }
    }

    #[test]
    fn token_similarity_rules() {
        assert_eq!(token_sim("abbas", "abas").map(|x| x.0), Some(0.95));
        assert!(token_sim("sko", "sok").is_some());
        assert!(token_sim("kim", "kin").is_none(), "3 letters: only swaps");
        assert!(
            token_sim("baid", "abid").is_some(),
            "swap of the first two letters"
        );
        assert!(token_sim("mhmdy", "hmdy").is_none(), "first letter dropped");
        assert!(token_sim("tradng", "trading").is_some());
        assert!(token_sim("trading", "treading").is_some());
        assert!(token_sim("shipping", "shopping").is_some());
        assert!(token_sim("rosneft", "gazprom").is_none());
    }
}
