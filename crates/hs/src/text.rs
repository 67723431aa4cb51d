//! Text normalisation shared by the nomenclature index, the vocabulary and queries: Unicode
//! folding, tokenisation, stop words, negated spans ("other than cotton"), Porter2 stemming,
//! word bigrams and character n-grams.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// English function words, nomenclature boilerplate and marketplace filler that carry no
/// information about the goods.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "from",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "that",
    "the",
    "their",
    "this",
    "to",
    "with",
    "without",
    "whether",
    "which",
    "such",
    "other",
    "others",
    "than",
    "kind",
    "kinds",
    "used",
    "use",
    "type",
    "types",
    "thereof",
    "heading",
    "headings",
    "item",
    "items",
    "no",
    "nec",
    "n",
    "e",
    "c",
    "incl",
    "including",
    "excl",
    "similar",
    "like",
    "etc",
    "all",
    "any",
    "each",
    "per",
    "not",
    "only",
    "also",
    "more",
    "less",
    "new",
    "hot",
    "sale",
    "free",
    "shipping",
    "quality",
    "high",
    "best",
    "top",
    "style",
    "fashion",
    "brand",
    "original",
    "genuine",
    "pcs",
    "pc",
    "piece",
    "pieces",
    "lot",
    "lots",
    "wholesale",
    "gift",
    "gifts",
    "cheap",
    "product",
    "products",
    "article",
    "articles",
    "x",
    "cm",
    "mm",
    "inch",
    "inches",
    "g",
    "kg",
    "ml",
    "l",
    "w",
    "v",
    "yes",
    "none",
    "unisex",
    "mainland",
    "china",
    "cn",
    "origin",
    "size",
    "color",
    "colour",
    "s",
    "m",
    "xl",
    "xxl",
    "2pcs",
    "3pcs",
    "1pc",
    "2023",
    "2024",
    "2025",
    "2022",
    "you",
    "your",
    "my",
    "we",
];

/// Words that open a negated span in nomenclature texts ("of textile materials (other than
/// cotton)", "excluding cold-water varieties", "not knitted or crocheted").
const NEGATORS: &[&str] = &["other than", "excluding", "except", "not"];

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Is this folded word a stop word of the tokenizer?
pub fn is_stop_word(w: &str) -> bool {
    is_stop(w)
}

fn is_stop(w: &str) -> bool {
    static SET: OnceLock<crate::index::FastMap<&'static str, ()>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().map(|&w| (w, ())).collect())
        .contains_key(w)
}

/// Lower-cases and folds accents ("Crêpe" → "crepe").
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Raw words of folded text, with a flag telling whether a clause break (",", ";", "(", ")",
/// ":", ".") precedes the word. Apostrophe suffixes are dropped ("men's" → "men"); hyphenated
/// words yield their parts plus the joined form ("t-shirt" → "t", "shirt", "tshirt").
fn raw_words(text: &str) -> Vec<(String, bool)> {
    let folded = fold(text);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut parts: Vec<String> = Vec::new();
    let mut brk = true;
    let mut skip_suffix = false;
    let flush = |word: &mut String,
                 parts: &mut Vec<String>,
                 out: &mut Vec<(String, bool)>,
                 brk: &mut bool| {
        if !word.is_empty() {
            parts.push(std::mem::take(word));
        }
        if parts.is_empty() {
            return;
        }
        let joined: String = parts.concat();
        let n = parts.len();
        for p in parts.drain(..) {
            out.push((p, *brk));
            *brk = false;
        }
        if n > 1 {
            out.push((joined, false));
        }
    };
    for c in folded.chars() {
        if c.is_alphanumeric() {
            if !skip_suffix {
                word.push(c);
            }
        } else if c == '\'' || c == '\u{2019}' {
            // "men's": keep "men", drop the "s"
            skip_suffix = true;
            continue;
        } else if c == '-' && !word.is_empty() {
            parts.push(std::mem::take(&mut word));
        } else {
            flush(&mut word, &mut parts, &mut out, &mut brk);
            if matches!(c, ',' | ';' | '(' | ')' | ':' | '.' | '[' | ']' | '/' | '|') {
                brk = true;
            }
        }
        if !c.is_alphanumeric() {
            skip_suffix = false;
        }
    }
    flush(&mut word, &mut parts, &mut out, &mut brk);
    out
}

/// Stemmed content tokens of `text`, in order. With `drop_negated`, words inside a negated
/// span (from a negator up to the next clause break) are removed: nomenclature texts use
/// "other than cotton" to exclude, and matching "cotton" there would invert the meaning.
pub fn tokens(text: &str, drop_negated: bool) -> Vec<String> {
    let words = raw_words(text);
    let mut out = Vec::with_capacity(words.len());
    let mut negated = false;
    let mut i = 0;
    while i < words.len() {
        let (w, brk) = (&words[i].0, words[i].1);
        if brk {
            negated = false;
        }
        if drop_negated {
            let two = words.get(i + 1).map(|(n, _)| format!("{w} {n}"));
            let prev_or = i > 0 && words[i - 1].0 == "or";
            if NEGATORS.contains(&w.as_str()) && !(w == "not" && prev_or) {
                negated = true;
            } else if two.as_deref().is_some_and(|t| NEGATORS.contains(&t)) {
                negated = true;
                i += 2;
                continue;
            }
        }
        if !(negated || is_stop(w) || w.len() < 2 && !w.chars().all(|c| c.is_ascii_digit())) {
            out.push(stem(w));
            for m in crate::reading::chem_morphemes(w) {
                out.push(stem(m));
            }
        }
        i += 1;
    }
    out
}

/// Words that open a modifier segment in a goods description ("candle *in glass jar*",
/// "case *for iPhone*", "speaker *with microphone*"): the goods themselves are usually named
/// before them.
const MODIFIER_OPENERS: &[&str] = &[
    "with",
    "in",
    "for",
    "without",
    "on",
    "from",
    "including",
    "incl",
    "inside",
    "fits",
    "compatible",
    // Ruling-style clauses that attach components, power sources and features to the goods
    // ("drill *powered by a lithium-ion battery*", "units *which connect computers*").
    "by",
    "containing",
    "featuring",
    "having",
    "using",
    "which",
    "consisting",
    "comprising",
    "incorporating",
];

/// Participles that attach components, materials, fillings and mountings when a preposition
/// follows them ("table *supported by a steel frame*", "pillow *filled with fibres*", "chair
/// *made of oak*"); before a noun they are ordinary words ("covered button", "lined paper").
const ATTACHING_PARTICIPLES: &[&str] = &[
    "powered",
    "made",
    "coated",
    "covered",
    "filled",
    "mounted",
    "supported",
    "attached",
    "lined",
    "equipped",
    "fitted",
    "composed",
    "fuelled",
    "fueled",
    "operated",
    "driven",
];

const ATTACHING_PREPOSITIONS: &[&str] = &["by", "of", "from", "with", "on", "to", "in"];

/// Query segmentation: stemmed content tokens split at clause breaks and modifier openers.
/// Each segment is returned with `true` when it is a modifier segment (opened by a word of
/// [`MODIFIER_OPENERS`]).
pub fn query_segments(text: &str) -> Vec<(Vec<String>, bool)> {
    segments_of(&raw_words(text))
}

/// [`query_segments`] and [`char_ngrams`] of one text, splitting it into words once (the query
/// path needs both). Grams are passed to `gram` instead of being collected.
pub fn query_segments_and_grams(text: &str, gram: impl FnMut(&str)) -> Vec<(Vec<String>, bool)> {
    let words = raw_words(text);
    grams_of(&words, gram);
    segments_of(&words)
}

fn segments_of(words: &[(String, bool)]) -> Vec<(Vec<String>, bool)> {
    let mut out: Vec<(Vec<String>, bool)> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut modifier = false;
    for (i, (w, brk)) in words.iter().map(|(w, b)| (w, *b)).enumerate() {
        // "powered by a battery" attaches a power source; "battery powered drill" names it
        // before the good.
        let opener = MODIFIER_OPENERS.contains(&w.as_str())
            || ATTACHING_PARTICIPLES.contains(&w.as_str())
                && words
                    .get(i + 1)
                    .is_some_and(|(n, _)| ATTACHING_PREPOSITIONS.contains(&n.as_str()));
        if brk || opener {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), modifier));
            }
            modifier = opener || (modifier && !brk);
        }
        if opener
            || is_stop(w)
            || crate::reading::is_ruling_stop(w)
            || w.len() < 2 && !w.chars().all(|c| c.is_ascii_digit())
        {
            continue;
        }
        cur.push(stem(w));
        for m in crate::reading::chem_morphemes(w) {
            cur.push(stem(m));
        }
    }
    if !cur.is_empty() {
        out.push((cur, modifier));
    }
    out
}

/// Textile and other materials whose share decides a subheading ("of cotton", "of synthetic
/// fibres"): HS classifies a mixture by the material that predominates by weight.
const MATERIALS: &[&str] = &[
    "cotton",
    "polyester",
    "nylon",
    "polyamide",
    "wool",
    "silk",
    "linen",
    "flax",
    "viscose",
    "rayon",
    "acrylic",
    "spandex",
    "elastane",
    "lycra",
    "modal",
    "cashmere",
    "leather",
    "bamboo",
    "hemp",
    "jute",
];

/// Stems of the materials that a composition ("60% cotton 40% polyester", "cotton 60%") names
/// with a share below the largest one. Empty unless at least two materials carry a percentage.
pub fn minor_materials(tokens: &[String]) -> Vec<String> {
    static STEMS: OnceLock<Vec<String>> = OnceLock::new();
    let stems = STEMS.get_or_init(|| MATERIALS.iter().map(|m| stem(m)).collect());
    let pct = |t: &str| t.parse::<f64>().ok().filter(|p| *p > 0.0 && *p <= 100.0);
    // "60% cotton" or "cotton 60%": use the convention that explains more of the text.
    let collect = |before: bool| {
        let mut shares: Vec<(String, f64)> = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            if !stems.contains(t) {
                continue;
            }
            let p = if before {
                i.checked_sub(1).and_then(|j| pct(&tokens[j]))
            } else {
                tokens.get(i + 1).and_then(|n| pct(n))
            };
            if let Some(p) = p {
                match shares.iter_mut().find(|(m, _)| m == t) {
                    Some(e) => e.1 = e.1.max(p),
                    None => shares.push((t.clone(), p)),
                }
            }
        }
        shares
    };
    let (b, a) = (collect(true), collect(false));
    let shares = if a.len() > b.len() { a } else { b };
    if shares.len() < 2 {
        return Vec::new();
    }
    let max = shares.iter().map(|s| s.1).fold(0.0, f64::max);
    shares
        .into_iter()
        .filter(|s| s.1 < max)
        .map(|s| s.0)
        .collect()
}

/// Porter2 stem of one folded word. Stems are memoised per thread (the nomenclature and
/// vocabulary repeat a small set of words many times); the cache is cleared when it grows past
/// 100,000 words so arbitrary user text cannot grow it without bound.
pub fn stem(w: &str) -> String {
    thread_local! {
        static CACHE: std::cell::RefCell<crate::index::FastMap<String, String>> =
            std::cell::RefCell::new(crate::index::FastMap::default());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(s) = c.get(w) {
            return s.clone();
        }
        if c.len() > 100_000 {
            c.clear();
        }
        let s = stemmer().stem(w).into_owned();
        c.insert(w.to_string(), s.clone());
        s
    })
}

/// Unigrams plus adjacent-word bigrams ("solar_cell").
pub fn with_bigrams(tokens: &[String]) -> Vec<String> {
    let mut out = tokens.to_vec();
    for w in tokens.windows(2) {
        if w[0] != w[1] {
            out.push(format!("{}_{}", w[0], w[1]));
        }
    }
    out
}

/// Word-bounded character 4-grams of the folded, unstemmed content words of `text`
/// ("#shirt#" → "#shi", "shir", "hirt", "irt#"); they tolerate typos, plurals and fused
/// compounds ("tshirt", "smartwatch") that word tokens miss.
pub fn char_ngrams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    grams_of(&raw_words(text), |g| out.push(g.to_string()));
    out
}

/// The character 4-grams of [`char_ngrams`] for already split words, one `&str` at a time
/// from a reused buffer (no allocation per gram).
fn grams_of(words: &[(String, bool)], mut gram: impl FnMut(&str)) {
    let mut padded = String::new();
    let mut bounds: Vec<usize> = Vec::new();
    for (w, _) in words {
        if w.len() < 3 || is_stop(w) || w.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        padded.clear();
        padded.push('#');
        padded.push_str(w);
        padded.push('#');
        // Character (not byte) windows: folded text may keep non-ASCII letters.
        bounds.clear();
        bounds.extend(padded.char_indices().map(|(i, _)| i));
        bounds.push(padded.len());
        for k in 0..bounds.len().saturating_sub(4) {
            gram(&padded[bounds[k]..bounds[k + 4]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_stems() {
        assert_eq!(tokens("Crêpe Shirts", false), vec!["crepe", "shirt"]);
        assert_eq!(
            tokens("Men's T-Shirts", false),
            vec!["men", "shirt", "tshirt"]
        );
    }

    #[test]
    fn negated_spans_are_dropped_only_when_asked() {
        let t = "T-shirts; of textile materials (other than cotton), knitted or crocheted";
        let kept = tokens(t, true);
        assert!(!kept.contains(&"cotton".to_string()), "{kept:?}");
        assert!(kept.contains(&"knit".to_string()), "{kept:?}");
        assert!(tokens(t, false).contains(&"cotton".to_string()));
        let t = "Apparel; not knitted or crocheted";
        assert!(!tokens(t, true).contains(&"knit".to_string()));
        // "whether or not" does not negate
        assert!(tokens("whether or not chilled", true).contains(&"chill".to_string()));
    }

    #[test]
    fn query_segments_mark_modifiers() {
        let s = query_segments("Scented candle in glass jar, gift");
        assert_eq!(
            s[0],
            (vec!["scent".to_string(), "candl".to_string()], false)
        );
        assert_eq!(s[1], (vec!["glass".to_string(), "jar".to_string()], true));
        assert_eq!(s.len(), 2, "{s:?}"); // "gift" is a stop word
        let s = query_segments("case for phone; red");
        assert_eq!(
            s.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![false, true, false]
        );
    }

    #[test]
    fn composition_finds_minor_materials() {
        let t = tokens("knitted, 60% cotton 40% polyester", false);
        assert_eq!(minor_materials(&t), vec![stem("polyester")]);
        let t = tokens("polyester 70%, cotton 30%", false);
        assert_eq!(minor_materials(&t), vec![stem("cotton")]);
        assert!(minor_materials(&tokens("cotton and polyester", false)).is_empty());
        assert!(minor_materials(&tokens("100% cotton", false)).is_empty());
    }

    #[test]
    fn combined_split_equals_the_separate_functions() {
        for t in [
            "Men's T-Shirts, 60% cotton; with pocket",
            "Crêpe Süßigkeiten für Kinder (gift box)",
            "Home & Garden > Décor > Figurines",
            "",
        ] {
            let mut grams = Vec::new();
            let segs = query_segments_and_grams(t, |g| grams.push(g.to_string()));
            assert_eq!(segs, query_segments(t), "{t}");
            assert_eq!(grams, char_ngrams(t), "{t}");
        }
        assert_eq!(char_ngrams("süß"), vec!["#suß", "suß#"]);
    }

    #[test]
    fn bigrams_and_char_ngrams() {
        let b = with_bigrams(&tokens("solar cells", false));
        assert!(b.contains(&"solar_cell".to_string()));
        let g = char_ngrams("shirt");
        assert_eq!(g, vec!["#shi", "shir", "hirt", "irt#"]);
    }
}
