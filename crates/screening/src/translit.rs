//! Names written in Hangul, Han characters, katakana, Hebrew, Arabic or Cyrillic against their Latin
//! spelling ("조지 워싱턴" / "George Washington", "安德斯" / "Anders", "シュヴァイガー" /
//! "Schweiger", "משה" / "Moshe").
//!
//! Such transcriptions follow the sound, not the letters, so reading them syllable by syllable
//! (pinyin "an de si", Revised Romanization "jo ji wo sing teon") misses the Latin name. Instead
//! each character has the Latin pieces it stands for in foreign names, with counts, learned
//! from the dev part of the Wikidata transliteration pairs (`data/translit.tsv.gz`, CC0 data;
//! `crates/devkit/examples/train_translit.rs`). A Latin word matches a native word when it can
//! be cut into one piece per character with a mean cost (-ln P(piece | character)) of at most
//! [`MAX_MEAN_COST`]. Pieces the table does not list get a small probability from their edit
//! distance to `deunicode`'s reading of the character, so an unusual spelling costs more but
//! is not impossible.
//!
//! The matcher uses this only between a native word and a Latin word (the native words of a
//! name form an extra segment, [`native_words`]); Chinese and Korean names of Chinese and
//! Korean people keep their pinyin / Hangul readings in the main segment.

use ahash::AHashMap;
use std::io::Read;
use std::sync::OnceLock;

static TABLE_GZ: &[u8] = include_bytes!("../data/translit.tsv.gz");

/// Longest Latin piece one character stands for.
pub const MAX_PIECE: usize = 6;

/// Mean cost per character (nats) up to which a Latin word is read as the native word:
/// chosen by the training example from the dev pairs (true pairs against shifted ones).
pub const MAX_MEAN_COST: f64 = 2.5;

/// Weight of the edit-distance prior against the counts (pseudo-count).
const PRIOR_MASS: f64 = 1.0;

pub fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}
pub fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}
pub fn is_katakana(c: char) -> bool {
    ('\u{30A1}'..='\u{30FC}').contains(&c)
}
/// Katakana that may stand for no letter of their own (long-vowel and doubling marks, small
/// kana merged into the syllable before).
pub fn may_be_silent(c: char) -> bool {
    matches!(
        c,
        'ー' | 'ッ' | 'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ'
    )
}
/// Hebrew letters that often stand for a vowel or for nothing in a transcription (aleph,
/// ayin, he: "איוואן" is "Ivan", "שלמה" "Shlomo"): at match time they may read as no Latin
/// letter, at this cost (nats; a typical learned piece costs 0.5-2).
fn is_hebrew_vowel_letter(c: char) -> bool {
    matches!(c, 'א' | 'ע' | 'ה')
}
const HEBREW_SILENT_COST: f64 = 1.5;

/// Hebrew spelling doubles yod and vav for a consonant ("דייוויד" is "David", "וו" a "v"):
/// one letter for the transcription.
fn collapse_hebrew_doubles(native: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(native.len());
    for c in native.chars() {
        if matches!(c, 'י' | 'ו') && out.last() == Some(&c) {
            continue;
        }
        out.push(c);
    }
    out
}

/// Hebrew letters (final forms included), and the letters with a geresh (see [`GERESH`]).
pub fn is_hebrew(c: char) -> bool {
    ('\u{05D0}'..='\u{05EA}').contains(&c) || GERESH.iter().any(|g| g.1 == c)
}

/// A Hebrew letter followed by a geresh writes a sound Hebrew has no letter for: "ג'" is "j"
/// ("ג'ון" John), "ז'" "zh" ("ז'אנה" Zhanna, French "j"), "צ'" "ch" ("צ'רלי" Charlie), "ת'"
/// "th", "ח'" Arabic "kh", "ד'" "dh". Such a pair is read as one character of its own (a
/// private-use code point, written by [`native_words`]) with these hand-written pieces
/// (pseudo-counts in the units of the learned table, where a common letter has hundreds: so
/// a piece not listed costs as much as one a learned letter never showed; the learned table
/// has no entries for them, since the training example dropped the geresh). Letter, its pair
/// character, pieces.
#[allow(clippy::type_complexity)]
const GERESH: &[(char, char, &[(&str, f64)])] = &[
    (
        'ג',
        '\u{E000}',
        &[
            ("j", 200.0),
            ("g", 50.0),
            ("dj", 25.0),
            ("dzh", 25.0),
            ("gi", 25.0),
            ("zh", 25.0),
        ],
    ),
    (
        'ז',
        '\u{E001}',
        &[
            ("zh", 150.0),
            ("j", 100.0),
            ("g", 25.0),
            ("s", 12.5),
            ("z", 12.5),
        ],
    ),
    (
        'צ',
        '\u{E002}',
        &[
            ("ch", 200.0),
            ("tch", 25.0),
            ("tsch", 25.0),
            ("c", 50.0),
            ("cz", 25.0),
            ("cs", 25.0),
            ("cc", 12.5),
            ("tsh", 12.5),
        ],
    ),
    ('ץ', '\u{E002}', &[]),
    ('ת', '\u{E003}', &[("th", 200.0), ("t", 25.0)]),
    (
        'ח',
        '\u{E004}',
        &[("kh", 150.0), ("h", 50.0), ("ch", 50.0), ("x", 25.0)],
    ),
    ('ד', '\u{E005}', &[("dh", 100.0), ("th", 50.0), ("d", 25.0)]),
];

/// Geresh marks: the Hebrew geresh, and the apostrophes written for it.
fn is_geresh(c: char) -> bool {
    matches!(c, '\u{05F3}' | '\'' | '\u{2019}')
}
/// Arabic letters (Persian and Urdu letters included; vowel marks are not letters).
pub fn is_arabic(c: char) -> bool {
    ('\u{0621}'..='\u{064A}').contains(&c)
        || matches!(
            c,
            '\u{067E}' | '\u{0686}' | '\u{0698}' | '\u{06A9}' | '\u{06AF}' | '\u{06CC}'
        )
}
/// Marks written inside a word that stand for no letter: Arabic and Hebrew vowel points,
/// tatweel, Hebrew geresh.
fn is_mark(c: char) -> bool {
    ('\u{064B}'..='\u{0652}').contains(&c)
        || ('\u{0591}'..='\u{05C7}').contains(&c)
        || matches!(c, '\u{0640}' | '\u{05F3}' | '\u{05F4}' | '\'')
}
/// The character standing for a Hebrew letter with a geresh.
fn geresh_pair(c: char) -> Option<char> {
    GERESH.iter().find(|g| g.0 == c).map(|g| g.1)
}
/// Cyrillic letters.
pub fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}
fn is_native(c: char) -> bool {
    is_hangul(c) || is_han(c) || is_katakana(c) || is_hebrew(c) || is_arabic(c) || is_cyrillic(c)
}

/// Learned pieces of one character.
#[derive(Debug, Default)]
struct CharPieces {
    /// Piece -> count (a map: the reader looks pieces up for every cut it tries).
    pieces: AHashMap<Box<[u8]>, f64>,
    total: f64,
    /// `deunicode`'s reading, for the prior.
    reading: Box<[u8]>,
}

pub struct Table {
    chars: AHashMap<char, CharPieces>,
}

fn reading(c: char) -> Box<[u8]> {
    deunicode::deunicode_char(c)
        .unwrap_or("")
        .bytes()
        .filter(|b| b.is_ascii_alphabetic())
        .map(|b| b.to_ascii_lowercase())
        .collect()
}

/// Edit-distance prior of a piece for a character: e^(-1.5 d), and e^-2 less for no letters.
pub fn prior(piece: &[u8], reading: &[u8]) -> f64 {
    let d = crate::matcher::bounded_osa(piece, reading, 12).unwrap_or(12) as f64;
    (-(d * 1.5) - if piece.is_empty() { 2.0 } else { 0.0 }).exp()
}

impl Table {
    /// Parses the table's text: `char \t piece:count,piece:count ...`; `#` lines are comments.
    /// Malformed lines are skipped (the file is generated).
    pub fn from_text(text: &str) -> Table {
        let mut chars = AHashMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            let (Some(c), Some(ps)) = (cols.next(), cols.next()) else {
                continue;
            };
            let Some(c) = c.chars().next() else { continue };
            let mut cp = CharPieces {
                reading: reading(c),
                ..Default::default()
            };
            for p in ps.split(',') {
                if let Some((piece, n)) = p.rsplit_once(':') {
                    if let Ok(n) = n.parse::<f64>() {
                        cp.total += n;
                        cp.pieces.entry(piece.as_bytes().into()).or_insert(n);
                    }
                }
            }
            chars.insert(c, cp);
        }
        for &(_, pair, pieces) in GERESH {
            if pieces.is_empty() {
                continue;
            }
            let mut cp = CharPieces {
                reading: pieces[0].0.as_bytes().into(),
                ..Default::default()
            };
            for &(p, n) in pieces {
                cp.total += n;
                cp.pieces.entry(p.as_bytes().into()).or_insert(n);
            }
            chars.insert(pair, cp);
        }
        Table { chars }
    }

    /// -ln P(piece | c).
    fn cost(
        &self,
        c: char,
        learned: Option<&CharPieces>,
        piece: &[u8],
        fallback_reading: &mut Option<Box<[u8]>>,
    ) -> f64 {
        if piece.is_empty() && !may_be_silent(c) {
            return if is_hebrew_vowel_letter(c) {
                HEBREW_SILENT_COST
            } else {
                f64::INFINITY
            };
        }
        match learned {
            Some(cp) => {
                let n = cp.pieces.get(piece).copied().unwrap_or(0.0);
                let p = (n + PRIOR_MASS * prior(piece, &cp.reading)) / (cp.total + PRIOR_MASS);
                -p.ln()
            }
            None => {
                let r = fallback_reading.get_or_insert_with(|| reading(c));
                -prior(piece, r).ln()
            }
        }
    }

    /// The best cut of `latin` (lower-case ASCII letters) into one piece per character of
    /// `native`: total cost and the length of each piece; `None` when no cut exists.
    pub fn cut(&self, native: &[char], latin: &[u8]) -> Option<(f64, Vec<usize>)> {
        let (n, l) = (native.len(), latin.len());
        if n == 0 || l == 0 || l > n * MAX_PIECE || n > 24 {
            return None;
        }
        // dp[i][j]: best cost of the first i characters reading the first j letters.
        let mut dp = vec![f64::INFINITY; (n + 1) * (l + 1)];
        let mut back = vec![0u8; (n + 1) * (l + 1)];
        dp[0] = 0.0;
        for (i, &c) in native.iter().enumerate() {
            let mut fallback = None;
            let learned = self.chars.get(&c);
            for j in 0..=l {
                let here = dp[i * (l + 1) + j];
                if here.is_infinite() {
                    continue;
                }
                for k in 0..=MAX_PIECE.min(l - j) {
                    let v = here + self.cost(c, learned, &latin[j..j + k], &mut fallback);
                    let at = (i + 1) * (l + 1) + j + k;
                    if v < dp[at] {
                        dp[at] = v;
                        back[at] = k as u8;
                    }
                }
            }
        }
        let total = dp[n * (l + 1) + l];
        if !total.is_finite() {
            return None;
        }
        let mut lens = vec![0usize; n];
        let mut j = l;
        for i in (1..=n).rev() {
            let k = usize::from(back[i * (l + 1) + j]);
            lens[i - 1] = k;
            j -= k;
        }
        Some((total, lens))
    }

    /// Mean cost per character of the best cut (see [`Table::cut`]).
    pub fn mean_cost(&self, native: &[char], latin: &[u8]) -> Option<f64> {
        self.cut(native, latin)
            .map(|(c, _)| c / native.len() as f64)
    }

    /// How well a Latin word reads as a native word: `1 - mean cost / 10` when the mean cost
    /// is at most [`MAX_MEAN_COST`] (0.95 for the most likely pieces, 0.75 at the limit),
    /// else `None`.
    pub fn similarity(&self, native: &str, latin: &str) -> Option<f64> {
        let nc: Vec<char> = collapse_hebrew_doubles(native);
        let lb = latin.as_bytes();
        if !lb.iter().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let c = self.mean_cost(&nc, lb)?;
        (c <= MAX_MEAN_COST).then(|| (1.0 - c / 10.0).min(0.95))
    }
}

/// The embedded table (an empty one if the file does not decompress).
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut s = String::new();
        let ok = flate2::read::GzDecoder::new(TABLE_GZ)
            .read_to_string(&mut s)
            .is_ok();
        if ok {
            Table::from_text(&s)
        } else {
            Table {
                chars: AHashMap::new(),
            }
        }
    })
}

static SURNAMES_CSV: &str = include_str!("../data/korean_surnames.csv");

/// Whether two Latin words are spellings of one Korean surname ("park" / "pak", "lee" / "yi",
/// "jung" / "jeong" / "chung"), from `data/korean_surnames.csv` (learned by the same example
/// from the dev part of the Wikidata Korean full names). The hand-written
/// [`crate::hangul::SURNAME_SPELLINGS`] add to it for names written wholly in Korean syllables.
pub fn same_korean_surname(a: &str, b: &str) -> bool {
    static G: OnceLock<AHashMap<String, Vec<char>>> = OnceLock::new();
    let g = G.get_or_init(|| {
        let mut m: AHashMap<String, Vec<char>> = AHashMap::new();
        for line in SURNAMES_CSV.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split(',');
            if let (Some(h), Some(l)) = (cols.next().and_then(|h| h.chars().next()), cols.next()) {
                m.entry(l.to_string()).or_default().push(h);
            }
        }
        m
    });
    a != b
        && match (g.get(a), g.get(b)) {
            (Some(x), Some(y)) => x.iter().any(|h| y.contains(h)),
            _ => false,
        }
}

/// Whether a token is a native-script word (Hangul, Han, katakana, Hebrew, Arabic).
pub fn is_native_word(t: &str) -> bool {
    t.chars().next().is_some_and(is_native)
}

/// The words of a name written in Hangul, Han characters or katakana (other characters
/// separate them), when the name has at least one; else empty. Text with hiragana or kana
/// beside Han characters is Japanese: its kanji are not transcriptions of a foreign sound,
/// so only the katakana words are kept.
pub fn native_words(name: &str) -> Vec<String> {
    if !name.chars().any(is_native) {
        return Vec::new();
    }
    let japanese = name
        .chars()
        .any(|c| is_katakana(c) || ('\u{3041}'..='\u{3096}').contains(&c));
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in name.chars() {
        if is_native(c) && !(japanese && is_han(c)) {
            // The table is learned on lower-case Cyrillic.
            cur.extend(c.to_lowercase());
        } else if is_geresh(c) && cur.chars().last().is_some_and(|l| geresh_pair(l).is_some()) {
            if let Some(pair) = cur.pop().and_then(geresh_pair) {
                cur.push(pair);
            }
        } else if is_mark(c) && !cur.is_empty() {
            continue;
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_words_split_on_other_characters() {
        assert_eq!(native_words("조지 워싱턴"), ["조지", "워싱턴"]);
        assert_eq!(native_words("約翰·甘迺迪"), ["約翰", "甘迺迪"]);
        assert!(native_words("John Smith").is_empty());
        assert_eq!(native_words("ИВАНОВ Пётр"), ["иванов", "пётр"]);
        // Japanese: kanji beside kana are not read as transcriptions.
        assert_eq!(native_words("山田 タロウ"), ["タロウ"]);
    }

    #[test]
    fn korean_surname_spellings_pair() {
        assert!(same_korean_surname("park", "pak"));
        assert!(same_korean_surname("jeong", "jung"));
        assert!(!same_korean_surname("park", "kim"));
        assert!(!same_korean_surname("park", "park"));
    }

    #[test]
    fn learned_pieces_read_foreign_names() {
        let t = table();
        assert!(t.similarity("워싱턴", "washington").is_some());
        assert!(t.similarity("卡洛斯", "carlos").is_some());
        assert!(t.similarity("워싱턴", "jefferson").is_none());
    }
}
