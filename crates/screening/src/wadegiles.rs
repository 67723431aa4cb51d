//! Chinese names in Wade-Giles against Hanyu Pinyin: Taiwanese, Hong Kong and older lists
//! write "HSU Chih-cheng", "TSAI Ying-wen", "CHIANG Kai-shek", mainland and newer ones "XU
//! Zhicheng", "CAI Yingwen", "JIANG Jieshi". Wade-Giles marks aspiration with an apostrophe,
//! which normalisation drops, so an apostrophe-less Wade-Giles "chang" is pinyin "zhang" or
//! "chang", "tai" is "dai" or "tai", "kuo" is "guo" or "kuo".
//!
//! [`syllable_key`] folds one Latin syllable's spellings in both systems to one key: initials
//! ch/zh/j(+i)/q, ts/tz/z/c, hs/x, k/g, p/b, t/d, and Wade-Giles j (pinyin r); finals ung/ong,
//! ieh/ie, ien/ian, ih/i, ueh/ue, uei/ui, erh/er, and the apical vowel of tzu/ssu/szu (pinyin
//! zi/si). [`is_wade_giles`] says whether a word can only be Wade-Giles (hs-, ts-, tz-, -ieh,
//! -ien, -ih, -ung ... are not pinyin), the evidence that a name is written in that system.

/// Pinyin syllable shapes (initial + final); a shape test, as in the matcher's
/// `is_pinyin_syllable`.
const PINYIN_INITIALS: &[&str] = &[
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w", "",
];
const PINYIN_FINALS: &[&str] = &[
    "a", "o", "e", "i", "u", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ue", "er", "an", "en",
    "in", "un", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua", "uai", "uan",
    "uang", "uo",
];
/// Wade-Giles initials without the aspiration apostrophe.
const WG_INITIALS: &[&str] = &[
    "ch", "hs", "ts", "tz", "ss", "sz", "sh", "p", "t", "k", "m", "f", "n", "l", "h", "j", "y",
    "w", "s", "",
];
const WG_FINALS: &[&str] = &[
    "a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ung", "ih", "u", "i", "ia",
    "ieh", "iao", "iu", "ien", "in", "iang", "ing", "iung", "ua", "uo", "uai", "ui", "uei", "uan",
    "un", "uang", "ueh", "erh", "eh",
];

fn shape(t: &str, initials: &[&str], finals: &[&str]) -> bool {
    t.len() <= 6
        && t.bytes().all(|b| b.is_ascii_lowercase())
        && initials.iter().any(|i| {
            t.strip_prefix(i).is_some_and(|rest| {
                // "er" / "erh" stand alone ("ter" is no syllable).
                finals.contains(&rest) && (i.is_empty() || !rest.starts_with("er"))
            })
        })
}

/// A pinyin syllable by shape, with pinyin's spelling constraints: zh, ch, sh, z, c, s, r
/// take no i- final but the bare "i" ("chiang" is Wade-Giles), j, q, x only i- and u- finals
/// ("xa" is nothing).
pub fn is_pinyin(t: &str) -> bool {
    t.len() <= 6
        && PINYIN_INITIALS.iter().any(|i| {
            t.strip_prefix(i).is_some_and(|f| {
                PINYIN_FINALS.contains(&f)
                    && (i.is_empty() || f != "er")
                    && match *i {
                        "zh" | "ch" | "sh" | "z" | "c" | "s" | "r" => {
                            f == "i" || !f.starts_with('i')
                        }
                        "j" | "q" | "x" => f.starts_with('i') || f.starts_with('u'),
                        _ => true,
                    }
            })
        })
}

/// A Wade-Giles syllable by shape (apostrophes and umlauts dropped).
pub fn is_wade_giles_shape(t: &str) -> bool {
    shape(t, WG_INITIALS, WG_FINALS)
}

/// A syllable that is Wade-Giles and not pinyin: "hsu", "tsai", "chih", "hsieh", "chiang",
/// "tung", "jen" ("chang", "kuo", "li" could be either, and prove nothing).
pub fn is_wade_giles(t: &str) -> bool {
    is_wade_giles_shape(t) && !is_pinyin(t)
}

/// A romanised Chinese syllable in either system.
pub fn is_chinese_syllable(t: &str) -> bool {
    is_pinyin(t) || is_wade_giles_shape(t)
}

/// A word of a Chinese name: one syllable, or two written as one ("zhicheng").
pub fn is_chinese_name_word(t: &str) -> bool {
    is_chinese_syllable(t)
        || (t.len() <= 12
            && t.is_ascii()
            && (2..t.len().saturating_sub(1))
                .any(|cut| is_chinese_syllable(&t[..cut]) && is_chinese_syllable(&t[cut..])))
}

/// The key shared by one syllable's Wade-Giles and pinyin spellings (see the module
/// documentation); `None` for a word that is not a syllable of either system.
pub fn syllable_key(t: &str) -> Option<String> {
    if !is_chinese_syllable(t) {
        return None;
    }
    // Whole syllables written differently: the apical vowel of "tzu", "ssu", "szu" (pinyin
    // zi, si; "shih", "chih", "jih" fold by their final below) and y + e ("yeh", "yen").
    let t = match t {
        "tzu" => "zi",
        "ssu" | "szu" => "si",
        "yeh" => "ye",
        "yen" => "yan",
        _ => t,
    };
    let (init, rest): (&str, &str) = if let Some(r) = t.strip_prefix("hs") {
        ("X", r)
    } else if let Some(r) = t.strip_prefix("ts").or_else(|| t.strip_prefix("tz")) {
        ("Z", r)
    } else if let Some(r) = t.strip_prefix("zh").or_else(|| t.strip_prefix("ch")) {
        ("J", r)
    } else if let Some(r) = t.strip_prefix("sh") {
        ("S", r)
    } else {
        let (c, r) = t.split_at(1.min(t.len()));
        let k = match c {
            "j" if r.starts_with('i') => "J",
            // Wade-Giles j before other vowels is pinyin r ("jen" / "ren").
            "j" | "r" => "R",
            "q" => "J",
            "x" => "X",
            "z" | "c" => "Z",
            "g" | "k" => "G",
            "b" | "p" => "B",
            "d" | "t" => "D",
            other => other,
        };
        (k, r)
    };
    Some(fold_final(rest, init))
}

/// Two syllables written apart in one name and as one word in the other, one of the
/// spellings Wade-Giles: "chih cheng" / "zhicheng", "hsiao ping" / "xiaoping" (a given name
/// hyphenated in Wade-Giles, glued in pinyin). Some cut of the word gives the two syllables'
/// keys, in order.
pub fn glued_match(a: &str, b: &str, glued: &str) -> bool {
    let (Some(ka), Some(kb)) = (syllable_key(a), syllable_key(b)) else {
        return false;
    };
    if !glued.is_ascii() {
        return false;
    }
    (1..glued.len()).any(|cut| {
        let (x, y) = glued.split_at(cut);
        (is_wade_giles(a) || is_wade_giles(b) || is_wade_giles(x) || is_wade_giles(y))
            && syllable_key(x).as_ref() == Some(&ka)
            && syllable_key(y).as_ref() == Some(&kb)
    })
}

fn fold_final(rest: &str, init: &str) -> String {
    let f = match rest {
        "ung" => "ong",
        "iung" => "iong",
        "ieh" => "ie",
        "ien" => "ian",
        "ih" => "i",
        "ueh" => "ue",
        "uei" => "ui",
        "erh" => "er",
        r => r,
    };
    format!("{init}{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wade_giles_and_pinyin_spellings_share_a_key() {
        for (wg, py) in [
            ("hsu", "xu"),
            ("tsai", "cai"),
            ("chang", "zhang"),
            ("chiang", "jiang"),
            ("hsieh", "xie"),
            ("kuo", "guo"),
            ("chou", "zhou"),
            ("chih", "zhi"),
            ("shih", "shi"),
            ("tung", "dong"),
            ("hsiung", "xiong"),
            ("jen", "ren"),
            ("tzu", "zi"),
            ("lien", "lian"),
            ("kuei", "gui"),
            ("hsueh", "xue"),
            ("pai", "bai"),
            ("yeh", "ye"),
            ("yen", "yan"),
        ] {
            assert_eq!(syllable_key(wg), syllable_key(py), "{wg} / {py}");
            assert!(syllable_key(wg).is_some(), "{wg}");
        }
        // Different finals stay different names.
        assert_ne!(syllable_key("chang"), syllable_key("chong"));
        assert_ne!(syllable_key("hsu"), syllable_key("xue"));
        assert_eq!(syllable_key("smith"), None);
        assert_eq!(syllable_key("徐"), None);
        assert!(is_wade_giles("hsu") && is_wade_giles("tsai") && is_wade_giles("chiang"));
        assert!(!is_wade_giles("chang") && !is_wade_giles("xu") && !is_wade_giles("kuo"));
        assert!(glued_match("chih", "cheng", "zhicheng"));
        assert!(is_chinese_name_word("zhicheng") && !is_chinese_name_word("smith"));
        assert!(!is_chinese_name_word("peter"));
        assert!(glued_match("hsiao", "ping", "xiaoping"));
        // Two pinyin spellings: nothing shows Wade-Giles ("jian kun" is not "jiangun").
        assert!(!glued_match("jian", "kun", "jiangun"));
        assert!(!glued_match("chih", "cheng", "zhichang"));
    }
}
