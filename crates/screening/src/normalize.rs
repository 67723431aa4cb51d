//! Name normalisation: the one place that decides what a "token" is.
//!
//! Pipeline (same for list names and queries, so both sides meet in one form):
//! 1. Unicode NFKC, then transliteration to Latin ASCII (`deunicode`: Cyrillic, Greek, Arabic,
//!    CJK, accents), then lower case.
//! 2. Annotations ("c/o", "SHIPPER:", "f/k/a", "a.k.a.", "d/b/a", "attn:" ...) split the text into
//!    *segments*: "ACME LTD C/O XYZ LOGISTICS" is screened as the whole and as each part.
//! 3. Punctuation folding: dots and apostrophes vanish ("S.A." -> "sa", "O'Neil" -> "oneil"), other
//!    punctuation separates tokens, letter/digit runs split ("no.5" -> "no" "5").
//! 4. Abbreviations expand ("intl" -> "international"), simple plural folding ("industries" ->
//!    "industry"), stop-words drop ("the", "of", "and", "al" ...).
//! 5. Legal forms ("Co., Ltd.", "LLC", "Limited Liability Company", "OOO", "GmbH", "JSC", "PLC",
//!    "youxian gongsi" ...) collapse to a canonical tag and are marked [`TokenKind::LegalForm`]:
//!    they carry little weight and never make or break a match on their own.

use ahash::{AHashMap, AHashSet};
use serde::Serialize;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Word,
    /// Digits: must agree exactly ("Trading 11" is not "Trading 12").
    Number,
    /// Canonical legal form ("ltd", "llc", "jsc" ...).
    LegalForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Token {
    pub text: String,
    pub kind: TokenKind,
}

/// Annotation markers (already lower-cased, transliterated). Each splits the name into segments.
const ANNOTATIONS: &[&str] = &[
    "c/o",
    "c/-",
    "care of",
    "in care of",
    "shipper:",
    "consignee:",
    "consignor:",
    "notify party:",
    "notify:",
    "seller:",
    "buyer:",
    "importer:",
    "exporter:",
    "manufacturer:",
    "mfr:",
    "attn:",
    "attention:",
    "f/k/a",
    "n/k/a",
    "d/b/a",
    "a/k/a",
    "t/a",
    "o/b/o",
    "f.k.a.",
    "n.k.a.",
    "d.b.a.",
    "a.k.a.",
    "a.k.a",
    "f.k.a",
    "formerly known as",
    "also known as",
    "doing business as",
    "trading as",
    "on behalf of",
    "for account of",
    "previously known as",
    "formerly",
    "ex-",
    // vessel prefixes
    "m/v",
    "m/t",
    "m.v.",
    "m.t.",
    "s/s",
];

/// Single-token annotation words (matched as whole tokens after punctuation folding).
const ANNOTATION_WORDS: &[&str] = &["aka", "fka", "nka", "dba", "attn"];

const STOP_WORDS: &[&str] = &[
    "the", "of", "and", "for", "de", "del", "della", "di", "da", "do", "dos", "das", "la", "le",
    "les", "des", "du", "y", "e", "et", "und", "der", "die", "van", "von", "al", "el", "ul", "no",
    "nr", "a", "an", "m/v", "mv", "mt", "ss",
];

/// Multi-token legal forms, longest first; each maps to a canonical tag.
const LEGAL_FORMS: &[(&[&str], &str)] = &[
    (
        &["obshchestvo", "s", "ogranichennoi", "otvetstvennostiu"],
        "llc",
    ),
    (
        &["obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"],
        "llc",
    ),
    (&["public", "joint", "stock", "company"], "pjsc"),
    (&["open", "joint", "stock", "company"], "ojsc"),
    (&["closed", "joint", "stock", "company"], "cjsc"),
    (&["limited", "liability", "company"], "llc"),
    (&["limited", "liability", "partnership"], "llp"),
    (&["public", "limited", "company"], "plc"),
    (&["you", "xian", "gong", "si"], "ltd"),
    (&["you", "xian", "ze", "ren", "gong", "si"], "ltd"),
    (&["joint", "stock", "company"], "jsc"),
    (&["private", "limited"], "ltd"),
    (&["pvt", "ltd"], "ltd"),
    (&["pte", "ltd"], "ltd"),
    (&["pty", "ltd"], "ltd"),
    (&["sdn", "bhd"], "ltd"),
    (&["co", "ltd"], "ltd"),
    (&["company", "limited"], "ltd"),
    (&["co", "limited"], "ltd"),
    (&["sa", "de", "cv"], "sa"),
    (&["s", "de", "rl"], "srl"),
    (&["gmbh", "co", "kg"], "kg"),
    (&["co", "kg"], "kg"),
    (&["gong", "si"], "co"),
    (&["s", "a"], "sa"),
    (&["limited"], "ltd"),
    (&["ltd"], "ltd"),
    (&["ltda"], "ltd"),
    (&["llc"], "llc"),
    (&["ooo"], "llc"),
    (&["tov"], "llc"),
    (&["too"], "llc"),
    (&["gmbh"], "gmbh"),
    (&["ag"], "ag"),
    (&["sa"], "sa"),
    (&["sarl"], "sarl"),
    (&["sas"], "sas"),
    (&["srl"], "srl"),
    (&["spa"], "spa"),
    (&["bv"], "bv"),
    (&["nv"], "nv"),
    (&["oy"], "oy"),
    (&["ab"], "ab"),
    (&["as"], "as"),
    (&["asa"], "as"),
    (&["plc"], "plc"),
    (&["jsc"], "jsc"),
    (&["ao"], "jsc"),
    (&["zao"], "cjsc"),
    (&["cjsc"], "cjsc"),
    (&["oao"], "ojsc"),
    (&["ojsc"], "ojsc"),
    (&["pao"], "pjsc"),
    (&["pjsc"], "pjsc"),
    (&["inc"], "inc"),
    (&["incorporated"], "inc"),
    (&["corp"], "corp"),
    (&["corporation"], "corp"),
    (&["co"], "co"),
    (&["company"], "co"),
    (&["cia"], "co"),
    (&["kg"], "kg"),
    (&["llp"], "llp"),
    (&["lp"], "lp"),
    (&["fze"], "fze"),
    (&["fzco"], "fze"),
    (&["fzc"], "fze"),
    (&["fzllc"], "fze"),
    (&["pte"], "ltd"),
    (&["pvt"], "ltd"),
    (&["pty"], "ltd"),
    (&["bhd"], "ltd"),
    (&["tbk"], "tbk"),
    (&["kk"], "kk"),
    (&["est"], "est"),
    (&["establishment"], "est"),
];

/// Abbreviations written out, so "Intl Trdg" meets "International Trading".
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("intl", "international"),
    ("int", "international"),
    ("internat", "international"),
    ("natl", "national"),
    ("mfg", "manufacturing"),
    ("mfr", "manufacturer"),
    ("mfrs", "manufacturer"),
    ("trdg", "trading"),
    ("shpg", "shipping"),
    ("hldg", "holding"),
    ("hldgs", "holding"),
    ("grp", "group"),
    ("ind", "industry"),
    ("inds", "industry"),
    ("indus", "industry"),
    ("bros", "brother"),
    ("tech", "technology"),
    ("techn", "technology"),
    ("mgmt", "management"),
    ("svc", "service"),
    ("svcs", "service"),
    ("assn", "association"),
    ("assoc", "association"),
    ("chem", "chemical"),
    ("elec", "electric"),
    ("eng", "engineering"),
    ("engg", "engineering"),
    ("equip", "equipment"),
    ("dev", "development"),
    ("devt", "development"),
    ("ent", "enterprise"),
    ("entp", "enterprise"),
    ("invest", "investment"),
    ("inv", "investment"),
    ("petrol", "petroleum"),
    ("pharm", "pharmaceutical"),
    ("pharma", "pharmaceutical"),
    ("sci", "science"),
    ("univ", "university"),
    ("st", "saint"),
    ("mohd", "mohammed"),
    ("muhd", "muhammad"),
];

/// Look-up tables built once from the constant lists above.
struct Tables {
    /// First word -> indices into LEGAL_FORMS (in list order, longest phrases first).
    legal_by_first: AHashMap<&'static str, Vec<usize>>,
    abbreviations: AHashMap<&'static str, &'static str>,
    stop: AHashSet<&'static str>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut legal_by_first: AHashMap<&'static str, Vec<usize>> = AHashMap::new();
        for (i, (form, _)) in LEGAL_FORMS.iter().enumerate() {
            legal_by_first.entry(form[0]).or_default().push(i);
        }
        Tables {
            legal_by_first,
            abbreviations: ABBREVIATIONS.iter().copied().collect(),
            stop: STOP_WORDS.iter().chain(ANNOTATION_WORDS).copied().collect(),
        }
    })
}

/// Plural folding applied to word tokens of length > 4 ("industries" -> "industry").
fn fold_plural(t: &str) -> String {
    if t.len() > 4 {
        if let Some(stem) = t.strip_suffix("ies") {
            return format!("{stem}y");
        }
        // "-as" is a name far more often than a plural ("atlas", "andreas", "texas").
        if t.ends_with('s')
            && !t.ends_with("ss")
            && !t.ends_with("us")
            && !t.ends_with("is")
            && !t.ends_with("as")
        {
            return t[..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

/// Unicode -> lower-case Latin ASCII.
pub fn to_ascii_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let nfkc: String = s.nfkc().collect();
    deunicode::deunicode(&nfkc).to_lowercase()
}

fn is_boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Fields of payment messages copied into a name (SWIFT MT / ISO 20022 habits): field tags
/// (":59:", ":50K:"), codes between slashes at the start of a word ("/BNF/", "/ACC/"), account
/// numbers and IBANs after a slash ("/DE89370400440532013000", "/12345678") and the line
/// numbers of structured name-and-address fields ("1/ZELTRONIX TRADING", "2/12 HARBOUR
/// ROAD") are segment separators: they are not words of the name.
fn mark_payment_fields(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.bytes().any(|b| b == b'/' || b == b':') {
        return std::borrow::Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    let mut changed = false;
    let at_word_start = |i: usize| i == 0 || !b[i - 1].is_ascii_alphanumeric();
    while i < b.len() {
        // ":59:", ":50k:", ":59f:"
        if b[i] == b':' && i + 3 < b.len() && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit()
        {
            let end = if b[i + 3] == b':' {
                Some(i + 4)
            } else if b[i + 3].is_ascii_alphabetic() && b.get(i + 4) == Some(&b':') {
                Some(i + 5)
            } else {
                None
            };
            if let Some(end) = end {
                out.push_str(" | ");
                i = end;
                changed = true;
                continue;
            }
        }
        if b[i] == b'/' && at_word_start(i) {
            let run = b[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            let word = &b[i + 1..i + 1 + run];
            let digits = word.iter().filter(|c| c.is_ascii_digit()).count();
            // "/bnf/", "/acc/": a code of 2-4 letters closed by a slash.
            if (2..=4).contains(&run) && digits == 0 && b.get(i + 1 + run) == Some(&b'/') {
                out.push_str(" | ");
                i += run + 2;
                changed = true;
                continue;
            }
            // An account number or IBAN.
            if run >= 6 && digits >= 4 {
                out.push_str(" | ");
                i += run + 1;
                changed = true;
                continue;
            }
        }
        // "1/", "2/" ... opening a line of a structured field.
        if b[i].is_ascii_digit()
            && (b'1'..=b'8').contains(&b[i])
            && at_word_start(i)
            && b.get(i + 1) == Some(&b'/')
            && b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic())
        {
            out.push_str(" | ");
            i += 2;
            changed = true;
            continue;
        }
        let ch = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + ch]);
        i += ch;
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Replaces annotation markers with '|' (segment separator).
fn mark_annotations(s: &str) -> String {
    let s = &*mark_payment_fields(s);
    // Several names in one field, separated by semicolons ("Javad Rahigi; Jawad Rahiqi"): each
    // is a segment of its own.
    let mut out = if s.contains(';') {
        s.replace(';', " | ")
    } else {
        s.to_string()
    };
    // Cheap pre-checks: most names have no annotation, and searching for every marker in
    // every name would dominate screening time.
    let has_punct = s.bytes().any(|b| matches!(b, b'/' | b':' | b'.' | b'-'));
    let has_word = s.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        matches!(
            w,
            "care" | "formerly" | "known" | "business" | "as" | "behalf" | "account" | "previously"
        )
    });
    if !has_punct && !has_word {
        return out;
    }
    for pat in ANNOTATIONS {
        let punct_pattern = pat.bytes().any(|b| !b.is_ascii_alphanumeric() && b != b' ');
        if (punct_pattern && !has_punct) || (!punct_pattern && !has_word) {
            continue;
        }
        // One pass per marker into a new string (replacing in place would move the rest of
        // the name at every occurrence: quadratic in a name made of markers).
        let mut next = String::with_capacity(out.len() + 8);
        let (mut from, mut copied) = (0, 0);
        while let Some(pos) = out[from..].find(pat) {
            let start = from + pos;
            let end = start + pat.len();
            // Right after a replaced marker the text reads " | ".
            let before = if start == copied && copied > 0 {
                Some(' ')
            } else {
                out[..start].chars().next_back()
            };
            let first_alnum = pat
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            let last_alnum = pat
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            let ok_before = !first_alnum || is_boundary(before);
            let ok_after = !last_alnum || is_boundary(out[end..].chars().next());
            if ok_before && ok_after {
                next.push_str(&out[copied..start]);
                next.push_str(" | ");
                copied = end;
                from = end;
            } else {
                from = start + out[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if copied > 0 {
            next.push_str(&out[copied..]);
            out = next;
        }
    }
    out
}

/// Digits typed for letters inside a word ("m0hammed", "nasra11ah", "petr0vski"): every digit
/// stands between letters, is one of 0 1 3 4 5 7 8 (o, i/l, e, a, s, t, b; "11" is "ll"), at
/// most two of them, and the word has 3+ letters. Codes such as "G4S", "C4I", "MIG29", "B2B",
/// "COVID19" keep their digits.
fn digits_for_letters(w: &str) -> Option<String> {
    let b = w.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 2 || b.len() - digits < 3 {
        return None;
    }
    let mut out = String::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if !c.is_ascii_digit() {
            out.push(c as char);
            continue;
        }
        // Letters on both sides of the digit run.
        if !b[..i].iter().any(u8::is_ascii_alphabetic)
            || !b[i + 1..].iter().any(u8::is_ascii_alphabetic)
        {
            return None;
        }
        let next_is_one = b.get(i + 1) == Some(&b'1') || (i > 0 && b[i - 1] == b'1');
        out.push(match c {
            b'0' => 'o',
            b'1' if next_is_one => 'l',
            b'1' => 'i',
            b'3' => 'e',
            b'4' => 'a',
            b'5' => 's',
            b'7' => 't',
            b'8' => 'b',
            _ => return None,
        });
    }
    Some(out)
}

/// Raw tokens of one segment: punctuation folded, letter/digit runs split.
pub(crate) fn raw_tokens(seg: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(seg.len());
    for c in seg.chars() {
        match c {
            '.' | '\'' | '`' => {}
            '&' | '+' => cleaned.push_str(" and "),
            c if c.is_ascii_alphanumeric() => cleaned.push(c),
            _ => cleaned.push(' '),
        }
    }
    let mut out = Vec::new();
    for w in cleaned.split_whitespace() {
        if let Some(letters) = digits_for_letters(w) {
            out.push(letters);
            continue;
        }
        // split letter/digit runs
        let mut cur = String::new();
        let mut cur_digit = None;
        let mut pieces: Vec<String> = Vec::new();
        for c in w.chars() {
            let d = c.is_ascii_digit();
            if cur_digit.is_some_and(|cd| cd != d) {
                pieces.push(std::mem::take(&mut cur));
            }
            cur.push(c);
            cur_digit = Some(d);
        }
        if !cur.is_empty() {
            pieces.push(cur);
        }
        // Ordinal suffixes belong to their number ("21st" is 21, not "21 saint").
        for (k, p) in pieces.iter().enumerate() {
            let after_digits = k > 0 && pieces[k - 1].bytes().all(|b| b.is_ascii_digit());
            if after_digits && matches!(p.as_str(), "st" | "nd" | "rd" | "th") {
                continue;
            }
            out.push(p.clone());
        }
    }
    out
}

/// English ordinal words of 2-20 read as numbers ("FOURTH DIVISION" / "FIRST DIVISION" are two
/// units; "4th" is already 4). "first" stays a word: it is a common brand word ("FIRST
/// CAPITAL BANK") that an alias may drop.
fn ordinal_value(t: &str) -> Option<u32> {
    const O: &[&str] = &[
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
    ];
    O.iter().position(|o| *o == t).map(|i| i as u32 + 2)
}

/// Roman numerals of 2-25 read as numbers ("Louis XIV" = "Louis 14"). "vi", "xi" and single
/// letters are left alone: they are also names and initials.
fn roman_value(t: &str) -> Option<u32> {
    const R: &[(&str, u32)] = &[
        ("ii", 2),
        ("iii", 3),
        ("iv", 4),
        ("vii", 7),
        ("viii", 8),
        ("ix", 9),
        ("xii", 12),
        ("xiii", 13),
        ("xiv", 14),
        ("xv", 15),
        ("xvi", 16),
        ("xvii", 17),
        ("xviii", 18),
        ("xix", 19),
        ("xx", 20),
        ("xxi", 21),
        ("xxii", 22),
        ("xxiii", 23),
        ("xxiv", 24),
        ("xxv", 25),
    ];
    R.iter().find(|(r, _)| *r == t).map(|(_, v)| *v)
}

/// Splits a legal form glued to the last word ("AcmeGmbH", "ACMELTD") before case is folded:
/// a camel-case boundary for any common form, or one of the forms no word ends with.
fn split_glued_forms(name: &str) -> std::borrow::Cow<'_, str> {
    const CAMEL: &[&str] = &[
        "GmbH", "Ltd", "LLC", "Inc", "Corp", "AG", "SA", "SRL", "BV", "NV", "PLC", "JSC", "LLP",
        "KG", "Kft", "SpA", "Co",
    ];
    const ANY_CASE: &[&str] = &["gmbh", "ltd", "llc", "plc", "jsc", "llp", "ltda"];
    if !name.is_ascii() {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 4);
    let mut changed = false;
    for (k, w) in name.split(' ').enumerate() {
        if k > 0 {
            out.push(' ');
        }
        let lower = w.to_ascii_lowercase();
        let mut split_at = None;
        for f in CAMEL {
            if let Some(stem) = w.strip_suffix(f) {
                if stem.len() >= 3 && stem.as_bytes()[stem.len() - 1].is_ascii_lowercase() {
                    split_at = Some(stem.len());
                    break;
                }
            }
        }
        if split_at.is_none() {
            for f in ANY_CASE {
                if let Some(stem) = lower.strip_suffix(f) {
                    if stem.len() >= 3 && stem.bytes().all(|b| b.is_ascii_alphabetic()) {
                        split_at = Some(stem.len());
                        break;
                    }
                }
            }
        }
        match split_at {
            Some(i) => {
                out.push_str(&w[..i]);
                out.push(' ');
                out.push_str(&w[i..]);
                changed = true;
            }
            None => out.push_str(w),
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Splits a company name written in camel case into its words before case is folded
/// ("ZeltronixTrading" -> "Zeltronix Trading"): at a lower-case letter followed by a capital
/// and a lower-case letter, when the part before has 3+ letters and is not a surname prefix
/// ("MacArthur", "VanDyke"; "McDonald", "DeVries" have 2 letters). All-capital and all-lower
/// words have no boundary to split on and stay as written.
fn split_camel_case(name: &str) -> std::borrow::Cow<'_, str> {
    const PREFIXES: &[&str] = &[
        "mac", "van", "von", "der", "den", "del", "della", "dos", "das",
    ];
    // Most names (lists write capitals) have no lower-case letter before a capital: no work.
    let mut prev_lower = false;
    if !name.chars().any(|c| {
        let hit = prev_lower && c.is_uppercase();
        prev_lower = c.is_lowercase();
        hit
    }) {
        return std::borrow::Cow::Borrowed(name);
    }
    let chars: Vec<char> = name.chars().collect();
    let mut cuts = Vec::new();
    let mut start = 0usize;
    for i in 1..chars.len() {
        let c = chars[i];
        if !c.is_alphabetic() {
            start = i + 1;
            continue;
        }
        if c.is_uppercase()
            && chars[i - 1].is_lowercase()
            && chars.get(i + 1).is_some_and(|n| n.is_lowercase())
            && i - start >= 3
        {
            let part: String = chars[start..i].iter().collect::<String>().to_lowercase();
            if part.chars().all(char::is_alphabetic) && !PREFIXES.contains(&part.as_str()) {
                cuts.push(i);
                start = i;
            }
        }
    }
    if cuts.is_empty() {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + cuts.len());
    for (i, c) in chars.iter().enumerate() {
        if cuts.contains(&i) {
            out.push(' ');
        }
        out.push(*c);
    }
    std::borrow::Cow::Owned(out)
}

/// Street, building and post-box words of addresses in many languages (raw tokens: lower case,
/// dots gone).
const STREET_WORDS: &[&str] = &[
    "allee",
    "apartado",
    "av",
    "ave",
    "avenida",
    "avenue",
    "bldg",
    "blk",
    "block",
    "blvd",
    "boulevard",
    "building",
    "cad",
    "caddesi",
    "calle",
    "carrera",
    "casilla",
    "chemin",
    "drive",
    "flat",
    "floor",
    "gatve",
    "highway",
    "hwy",
    "iela",
    "jalan",
    "jl",
    "lane",
    "ln",
    "mah",
    "mahallesi",
    "pereulok",
    "piazza",
    "plaza",
    "postfach",
    "prospekt",
    "prosp",
    "rd",
    "road",
    "room",
    "rm",
    "rua",
    "rue",
    "shosse",
    "sokak",
    "sq",
    "square",
    "st",
    "str",
    "strada",
    "street",
    "suite",
    "ul",
    "ulica",
    "ulitsa",
    "utca",
    "via",
    "viale",
];

/// Endings of street names written as one word ("hauptstrasse", "kalverstraat", "drottninggatan").
const STREET_ENDINGS: &[&str] = &["strasse", "strase", "gasse", "straat", "gatan", "veien"];

fn is_street_word(t: &str) -> bool {
    STREET_WORDS.contains(&t)
        || STREET_ENDINGS
            .iter()
            .any(|e| t.len() >= e.len() + 3 && t.ends_with(e))
}

/// Where an address glued to a name starts (raw tokens), if one does: a post box ("po box",
/// "postfach"), or a house number beside a street word ("12 harbour road", "hauptstrasse 5",
/// "ul lenina 5"). The name before it must keep two or more tokens.
fn address_start(raw: &[String]) -> Option<usize> {
    let is_number = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    // Most names have neither a number nor a post box: a quick "no".
    if !raw
        .iter()
        .skip(2)
        .any(|t| is_number(t) || t == "po" || t == "pobox")
    {
        return None;
    }
    for n in 2..raw.len() {
        let t = raw[n].as_str();
        if (t == "po" && raw.get(n + 1).is_some_and(|x| x == "box")) || t == "pobox" {
            return Some(n);
        }
        // A street word up to three words before the number starts the address.
        if let Some(k) = (n.saturating_sub(3).max(2)..=n).find(|&k| {
            is_street_word(&raw[k])
                && raw[k + 1..(k + 4).min(raw.len())]
                    .iter()
                    .any(|x| is_number(x))
        }) {
            return Some(k);
        }
        if is_number(t)
            && raw[n + 1..(n + 4).min(raw.len())]
                .iter()
                .any(|x| is_street_word(x))
        {
            return Some(n);
        }
    }
    None
}

/// The hand-written canonical tag of a legal form written exactly as these tokens.
pub(crate) fn builtin_legal_tag(tokens: &[String]) -> Option<&'static str> {
    let first = tokens.first()?;
    tables()
        .legal_by_first
        .get(first.as_str())?
        .iter()
        .map(|&k| &LEGAL_FORMS[k])
        .find(|(form, _)| {
            form.len() == tokens.len() && form.iter().zip(tokens).all(|(a, b)| a == b)
        })
        .map(|(_, canon)| *canon)
}

/// Words that may stand beside a name without changing whom it names: titles and honorifics,
/// branch and office words, former-name markers. Unmatched, they weigh little in the score
/// (see `matcher.rs`); other unmatched words weigh fully.
pub fn is_known_extra(t: &str) -> bool {
    const EXTRA: &[&str] = &[
        // titles and honorifics
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "lord",
        "sheikh",
        "shaikh",
        "shaykh",
        "haji",
        "hajji",
        "hajj",
        "mullah",
        "mulla",
        "maulvi",
        "maulavi",
        "maulawi",
        "moulvi",
        "maulana",
        "mawlawi",
        "mufti",
        "qari",
        "imam",
        "general",
        "colonel",
        "col",
        "major",
        "maj",
        "capt",
        "captain",
        "lt",
        "lieutenant",
        "admiral",
        "brigadier",
        "commander",
        "engineer",
        "eng",
        "doctor",
        "sayyid",
        "sayyed",
        "seyyed",
        "seyed",
        "sayed",
        "syed",
        "hafiz",
        "emir",
        "amir",
        "jr",
        "junior",
        "sr",
        "senior",
        // branch, office and representation words
        "branch",
        "division",
        "office",
        "representative",
        "rep",
        "representation",
        "filial",
        "filiale",
        "sucursal",
        "subsidiary",
        "department",
        "dept",
        "unit",
        "headquarter",
        "hq",
        "agency",
        "plant",
        "liaison",
        "succursale",
        "zweigniederlassung",
        // flags and ports of registry of vessels
        "flag",
        "flagged",
        "registry",
        "port",
        // former-name markers
        "ex",
        "former",
        "formerly",
        "previously",
        "new",
        "old",
    ];
    static SET: OnceLock<AHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| EXTRA.iter().copied().collect())
        .contains(t)
}

/// Branch, office and registry words: a place name beside one names where the branch is, or
/// a vessel's flag or port of registry.
pub fn is_branch_word(t: &str) -> bool {
    matches!(
        t,
        "flag"
            | "flagged"
            | "registry"
            | "branch"
            | "office"
            | "representative"
            | "representation"
            | "rep"
            | "filial"
            | "filiale"
            | "sucursal"
            | "succursale"
            | "zweigniederlassung"
            | "liaison"
            | "division"
            | "headquarter"
            | "hq"
    )
}

/// Words of legal-form phrases. A word within one edit of one of these (same first letter,
/// 4+ letters) is read as that word, so "Limited Lipbility Compayn" still collapses to "llc".
const LEGAL_WORDS: &[&str] = &[
    "limited",
    "liability",
    "company",
    "joint",
    "stock",
    "corporation",
    "incorporated",
    "public",
    "private",
    "partnership",
    "closed",
];

/// Legal-form words that, outside a recognised phrase, still mark a legal form (reordered or
/// partial phrases such as "Liability Company Gazprom Limited").
const LONE_LEGAL_WORDS: &[&str] = &["liability", "joint", "stock", "partnership", "private"];

fn repair_legal_word(t: &str) -> Option<&'static str> {
    if t.len() < 4 || LEGAL_WORDS.contains(&t) {
        return None;
    }
    LEGAL_WORDS.iter().copied().find(|w| {
        w.as_bytes()[0] == t.as_bytes()[0]
            && w.len().abs_diff(t.len()) <= 1
            && crate::matcher::bounded_osa(w.as_bytes(), t.as_bytes(), 1) == Some(1)
    })
}

/// `person`: a person's name, which has no legal form and no plurals (see [`normalize_person`]).
fn tokens_of(raw: &[String], person: bool) -> Vec<Token> {
    let fold_plurals = !person;
    let repaired: Vec<String> = raw
        .iter()
        .map(|t| {
            (!person)
                .then(|| repair_legal_word(t))
                .flatten()
                .map(String::from)
                .unwrap_or_else(|| t.clone())
        })
        .collect();
    let raw = &repaired[..];
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    'outer: while i < raw.len() {
        let first = raw[i].as_str();
        // In a name written in pinyin, a syllable after another syllable is a name word, not a
        // stop-word or a legal form ("ZHONG DA" is not "ZHONG DE", "HUA AO" not "HUA" + JSC).
        // (Cheap tests first: the syllable shape test runs only for stop-words and forms.)
        let syllable = !person
            && i > 0
            && first.len() <= 3
            && (tables().stop.contains(first) || builtin_legal_tag(&raw[i..=i]).is_some())
            && !tables().stop.contains(raw[i - 1].as_str())
            && crate::matcher::is_pinyin_syllable(first)
            && crate::matcher::is_pinyin_syllable(&raw[i - 1]);
        if syllable {
            out.push(Token {
                text: first.to_string(),
                kind: TokenKind::Word,
            });
            i += 1;
            continue;
        }
        // A person's name has no legal form: "I. S." is two initials, not the Danish "I/S",
        // and "S. A." is not a société anonyme.
        let forms = if person {
            &[][..]
        } else {
            tables()
                .legal_by_first
                .get(first)
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        for (form, canon) in forms.iter().map(|&k| &LEGAL_FORMS[k]) {
            if i + form.len() <= raw.len() && form.iter().zip(&raw[i..]).all(|(a, b)| *a == b) {
                // A lone "co"/"sa"/"as"/"ab"/"ao" as the *first* token is more likely a name.
                if !(i == 0
                    && form.len() == 1
                    && raw.len() > 1
                    && ["co", "sa", "as", "ab", "ao", "est", "kk"].contains(&form[0]))
                {
                    out.push(Token {
                        text: canon.to_string(),
                        kind: TokenKind::LegalForm,
                    });
                    i += form.len();
                    continue 'outer;
                }
            }
        }
        // Forms of the GLEIF list (see `legal.rs` for where each kind is read).
        if let Some(forms) = (!person)
            .then(|| crate::legal::gleif().by_first.get(first))
            .flatten()
        {
            for (form, tag) in forms {
                let fits =
                    i + form.len() <= raw.len() && form.iter().zip(&raw[i..]).all(|(a, b)| a == b);
                let first_only = crate::legal::TWO_LETTER_FORMS
                    .iter()
                    .find(|(f, _)| form.len() == 1 && form[0] == *f)
                    .map(|&(_, first)| first);
                let placed = form.len() > 1
                    || (raw.len() > 1
                        && match first_only {
                            Some(true) => i == 0,
                            Some(false) => i + 1 == raw.len(),
                            None => i == 0 || i + 1 == raw.len(),
                        });
                if fits && placed {
                    out.push(Token {
                        text: tag.clone(),
                        kind: TokenKind::LegalForm,
                    });
                    i += form.len();
                    continue 'outer;
                }
            }
        }
        let t = raw[i].as_str();
        i += 1;
        if let Some(v) = roman_value(t)
            .or_else(|| ordinal_value(t))
            .filter(|_| raw.len() > 1)
        {
            out.push(Token {
                text: v.to_string(),
                kind: TokenKind::Number,
            });
            continue;
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            let trimmed = t.trim_start_matches('0');
            out.push(Token {
                text: if trimmed.is_empty() {
                    "0".into()
                } else {
                    trimmed.into()
                },
                kind: TokenKind::Number,
            });
            continue;
        }
        // "An" in a person's name is a family name (Korean 안, Chinese 安), not an article.
        if tables().stop.contains(t) && !(person && t == "an") {
            continue;
        }
        if !person && LONE_LEGAL_WORDS.contains(&t) {
            out.push(Token {
                text: t.to_string(),
                kind: TokenKind::LegalForm,
            });
            continue;
        }
        let expanded = tables()
            .abbreviations
            .get(t)
            .map(|full| full.to_string())
            .unwrap_or_else(|| t.to_string());
        out.push(Token {
            text: if fold_plurals {
                fold_plural(&expanded)
            } else {
                person_particle(&expanded)
                    .map(String::from)
                    .unwrap_or(expanded)
            },
            kind: TokenKind::Word,
        });
    }
    split_abd(out)
}

/// Arabic names of the form "servant of X" are one name written many ways: "Abd al-Rahman",
/// "Abdul Rahman", "Abdel Rahman", "Abdulrahman", "Abdurrahman", "Abd-al-Rahman". The article
/// forms of the first word read as "abdul" ("abd", "abdel", "abdal", "abdol", "abdoul") and a
/// glued X is split off ("abdulrahman" -> "abdul rahman", "abdurrahman" -> "abdur rahman"), so
/// the spellings align word by word. Words stay close to their written form, so a typo in
/// them is still a typo ("ADBUL" / "ABDUL"); "Abdullah" and "Abdallah" (X = Allah) stay whole.
/// Names of the form "X al-Din" likewise: "Nasiruddin", "Safieddine" -> "nasir din", "safi
/// din", and "deen" reads "din".
fn split_abd(tokens: Vec<Token>) -> Vec<Token> {
    const ARTICLE_FORMS: &[&str] = &["abdoul", "abdul", "abdel", "abdal", "abdol", "abd"];
    let word = |text: String| Token {
        text,
        kind: TokenKind::Word,
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len() + 1);
    for t in tokens {
        if t.kind == TokenKind::Word && (t.text == "deen" || t.text == "dine") {
            out.push(word("din".into()));
            continue;
        }
        // "X al-Din" glued: "Nasiruddin", "Safieddine", "Tajeddin", "Alaaddin" -> "X din".
        if t.kind == TokenKind::Word {
            if let Some(x) = [
                "uddin", "uddeen", "eddine", "eddin", "addin", "iddin", "oddin",
            ]
            .iter()
            .find_map(|suf| t.text.strip_suffix(suf))
            .filter(|x| x.len() >= 3)
            {
                out.push(word(x.to_string()));
                out.push(word("din".into()));
                continue;
            }
        }
        if t.kind != TokenKind::Word || !t.text.starts_with("abd") {
            out.push(t);
            continue;
        }
        if ARTICLE_FORMS.contains(&t.text.as_str()) {
            out.push(word("abdul".into()));
            continue;
        }
        if let Some(rest) = ARTICLE_FORMS[..5]
            .iter()
            .find_map(|f| t.text.strip_prefix(f))
            .filter(|r| r.len() >= 4)
        {
            out.push(word("abdul".into()));
            out.push(word(rest.to_string()));
            continue;
        }
        // Sun letters: the article's "l" written as the next consonant ("abdurrahman",
        // "abdurahman", "abdessalam", "abdunnur").
        let b = t.text.as_bytes();
        if b.len() >= 9
            && matches!(b[3], b'u' | b'e' | b'a' | b'o')
            && matches!(b[4], b'r' | b's' | b'd' | b'n' | b't' | b'z')
        {
            let rest = if b[5] == b[4] {
                &t.text[5..]
            } else {
                &t.text[4..]
            };
            out.push(word(t.text[..5].to_string()));
            out.push(word(rest.to_string()));
            continue;
        }
        out.push(t);
    }
    out
}

/// A normalised name: its segments (the whole name first, then each annotation-separated part
/// when there are several), each a token list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormName {
    pub segments: Vec<Vec<Token>>,
}

impl NormName {
    /// The whole-name token list.
    pub fn tokens(&self) -> &[Token] {
        self.segments.first().map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn is_empty(&self) -> bool {
        self.tokens().is_empty()
    }
}

/// Normalises a name (see the module documentation).
pub fn normalize(name: &str) -> NormName {
    normalize_with(name, false)
}

/// Persons' name particles and abbreviations written several ways, read as one: "Abou" /
/// "Abo" are "abu" (father of), "Ibn" / "Ebn" / "Ebni" are "bin" (son of; "Ben" is also a
/// given name and stays), and the Burmese "Mg" is "maung".
fn person_particle(t: &str) -> Option<&'static str> {
    match t {
        "abou" | "abo" => Some("abu"),
        "ibn" | "ebn" | "ebni" => Some("bin"),
        "mg" => Some("maung"),
        _ => None,
    }
}

/// Normalises a person's name: as [`normalize`], but a final "s" is never read as a plural,
/// no word is read as a legal form ("I. S." is two initials, not the Danish "I/S"; "Sá" is a
/// name), and name particles are read as one ([`person_particle`]).
/// Person names are not plurals: "Denys" is not "Deny", "Santos" not "Santo", "Abbas" not
/// "Abba", and "Fares" / "Faris" are one letter apart only as written.
pub fn normalize_person(name: &str) -> NormName {
    normalize_with(name, true)
}

fn normalize_with(name: &str, person: bool) -> NormName {
    let glued = split_glued_forms(name);
    // Persons' names keep their capitals' places ("FitzGerald", "DeShawn"): the matcher's
    // merged-word rule reads them.
    let camel;
    let split: &str = if person {
        &glued
    } else {
        camel = split_camel_case(&glued);
        &camel
    };
    let ascii = to_ascii_lower(&crate::kana::romanize_kana(&crate::hangul::romanize_names(
        split,
    )));
    let mut marked = mark_annotations(&ascii);
    // In a person's name a dot ends an initial or an abbreviation: "S.M." is two initials, not
    // the word "sm" (company names keep "S.A." as one legal form).
    if person && marked.contains('.') {
        marked = marked.replace('.', " ");
    }
    let mut parts: Vec<Vec<Token>> = Vec::new();
    // Names with an address glued on ("ACME LTD, 12 HARBOUR ROAD, LIMASSOL"): the name alone.
    let mut without_address: Vec<Vec<Token>> = Vec::new();
    for p in marked.split('|') {
        let raw = raw_tokens(p);
        let toks = tokens_of(&raw, person);
        if !toks.iter().any(|t| t.kind != TokenKind::LegalForm) {
            continue;
        }
        if let Some(k) = address_start(&raw) {
            let name = tokens_of(&raw[..k], person);
            if name.iter().any(|t| t.kind == TokenKind::Word) {
                without_address.push(name);
            }
        }
        parts.push(toks);
    }
    let whole: Vec<Token> = parts.iter().flatten().cloned().collect();
    let mut segments = vec![whole];
    if parts.len() > 1 {
        segments.extend(parts);
    }
    for seg in without_address {
        if !segments.contains(&seg) {
            segments.push(seg);
        }
    }
    // Words in Hangul, Han characters or katakana also stay as they are written, in a segment
    // of their own: the matcher reads them against Latin words with the learned pieces of
    // `translit.rs` (foreign names transcribed by sound), besides the syllable-by-syllable
    // reading above.
    let native = crate::translit::native_words(name);
    if !native.is_empty() {
        segments.push(
            native
                .into_iter()
                .map(|text| Token {
                    text,
                    kind: TokenKind::Word,
                })
                .collect(),
        );
    }
    NormName { segments }
}

/// Plain display form of a token list ("acme trading ltd").
pub fn display(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        normalize(s)
            .tokens()
            .iter()
            .map(|t| t.text.clone())
            .collect()
    }

    #[test]
    fn abd_names_read_word_by_word_however_written() {
        for s in [
            "Abd al-Rahman",
            "ABD-AL-RAHMAN",
            "Abdul Rahman",
            "Abdel Rahman",
            "Abdulrahman",
            "Abdoulrahman",
        ] {
            assert_eq!(toks(s), ["abdul", "rahman"], "{s}");
        }
        assert_eq!(toks("Abdurrahman"), ["abdur", "rahman"]);
        assert_eq!(toks("Abdurahman"), ["abdur", "rahman"]);
        assert_eq!(toks("Abdelaziz Saleh"), ["abdul", "aziz", "saleh"]);
        // X = Allah stays whole; written forms of the sun-letter article stay as written.
        assert_eq!(toks("Abdullah Jan"), ["abdullah", "jan"]);
        assert_eq!(toks("Abdallah"), ["abdallah"]);
        assert_eq!(toks("Abdur Rehman"), ["abdur", "rehman"]);
        assert_eq!(toks("Nasiruddin"), ["nasir", "din"]);
        assert_eq!(toks("Safi al-Din"), ["safi", "din"]);
        assert_eq!(toks("Safieddine"), ["safi", "din"]);
        assert_eq!(toks("Imad al-Deen"), ["imad", "din"]);
    }

    #[test]
    fn ordinal_words_are_numbers() {
        assert_eq!(toks("Fourth Division"), ["4", "division"]);
        assert_eq!(toks("First Division"), ["first", "division"]);
    }

    #[test]
    fn legal_forms_collapse_to_one_tag() {
        assert_eq!(toks("Acme Trading Co., Ltd."), ["acme", "trading", "ltd"]);
        assert_eq!(toks("ACME TRADING LIMITED"), ["acme", "trading", "ltd"]);
        assert_eq!(
            toks("Acme Trading Limited Liability Company"),
            ["acme", "trading", "llc"]
        );
        assert_eq!(toks("OOO Acme Trading"), ["llc", "acme", "trading"]);
        assert_eq!(toks("Acme Handels GmbH"), ["acme", "handel", "gmbh"]);
        assert_eq!(toks("Acme JSC"), ["acme", "jsc"]);
        assert_eq!(toks("Acme Joint Stock Company"), ["acme", "jsc"]);
        assert_eq!(toks("Acme PLC"), ["acme", "plc"]);
        assert_eq!(toks("Acme S.A. de C.V."), ["acme", "sa"]);
        let n = normalize("Acme Co Ltd");
        assert!(n.tokens().iter().any(|t| t.kind == TokenKind::LegalForm));
    }

    #[test]
    fn scripts_transliterate_to_latin() {
        // Cyrillic
        assert_eq!(toks("ООО Ромашка"), ["llc", "romashka"]);
        // Accents and case
        assert_eq!(toks("Société Générale"), ["societe", "generale"]);
        // Greek
        assert_eq!(toks("Αθήνα"), ["athena"]);
        // Chinese: pinyin syllables; "有限公司" is a legal form
        assert_eq!(toks("新疆有限公司"), ["xin", "jiang", "ltd"]);
        // Arabic gives a consonantal skeleton, but something Latin
        assert!(!toks("حسين").is_empty());
        // Fullwidth forms fold through NFKC
        assert_eq!(toks("ＡＣＭＥ"), ["acme"]);
    }

    #[test]
    fn annotations_split_segments() {
        let n = normalize("SHIPPER: Acme Trading Ltd c/o Blue Sea Logistics");
        assert_eq!(n.segments.len(), 3);
        assert_eq!(display(&n.segments[1]), "acme trading ltd");
        assert_eq!(display(&n.segments[2]), "blue sea logistic");
        let n = normalize("Foo Bar a.k.a. Baz Holdings");
        assert_eq!(display(&n.segments[2]), "baz holding");
        // "c/o" must not fire inside a word, "aka" must not fire inside "alaska"
        assert_eq!(normalize("Alaska Cocoa").segments.len(), 1);
    }

    #[test]
    fn numbers_and_punctuation() {
        assert_eq!(toks("Trading No.11"), ["trading", "11"]);
        assert_eq!(toks("Trading 011"), ["trading", "11"]);
        assert_eq!(toks("O'Neil & Brothers"), ["oneil", "brother"]);
        assert_eq!(toks("AL-QAIDA"), ["qaida"]);
        let n = normalize("Star 7");
        assert_eq!(n.tokens()[1].kind, TokenKind::Number);
    }

    #[test]
    fn legal_words_survive_typos_and_reordering() {
        assert_eq!(
            toks("Nevskiy News Limited Lipbility Compayn"),
            ["nevskiy", "news", "llc"]
        );
        let n = normalize("Liability Company Gazprom Bureniye Limited");
        let words: Vec<&str> = n
            .tokens()
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(words, ["gazprom", "bureniye"]);
    }

    #[test]
    fn abbreviations_and_plurals() {
        assert_eq!(toks("Acme Intl Trdg"), toks("ACME INTERNATIONAL TRADING"));
        assert_eq!(toks("Global Industries"), toks("Global Industry"));
    }
}
