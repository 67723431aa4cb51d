//! Korean names in Hangul to Latin: syllables romanised algorithmically (Revised
//! Romanization, through `deunicode`), a run of two to four syllables read as a person's name,
//! surname first: the first syllable is the family name in its usual Latin spelling ("김" ->
//! "kim", "이" -> "lee", "박" -> "park"), the rest one given name ("김정은" -> "kim jeongeun").
//! Given-name spellings differ between romanisations ("jeongeun" / "jong un"); the matcher's
//! transliteration skeletons and merged-token rule compare them.

/// Family names covering most Koreans, with their usual Latin spelling (the one passports
/// and the watchlists use, rather than strict Revised Romanization's "gim", "i", "bak").
const SURNAMES: &[(char, &str)] = &[
    ('김', "kim"),
    ('이', "lee"),
    ('리', "ri"),
    ('박', "park"),
    ('최', "choi"),
    ('정', "jung"),
    ('강', "kang"),
    ('조', "cho"),
    ('윤', "yoon"),
    ('장', "jang"),
    ('임', "lim"),
    ('림', "rim"),
    ('한', "han"),
    ('오', "oh"),
    ('서', "seo"),
    ('신', "shin"),
    ('권', "kwon"),
    ('황', "hwang"),
    ('안', "ahn"),
    ('송', "song"),
    ('전', "jeon"),
    ('홍', "hong"),
    ('유', "yoo"),
    ('류', "ryu"),
    ('고', "ko"),
    ('문', "moon"),
    ('양', "yang"),
    ('손', "son"),
    ('배', "bae"),
    ('백', "baek"),
    ('허', "heo"),
    ('남', "nam"),
    ('노', "noh"),
    ('로', "ro"),
    ('하', "ha"),
    ('곽', "kwak"),
    ('성', "sung"),
    ('차', "cha"),
    ('주', "joo"),
    ('우', "woo"),
    ('구', "koo"),
    ('민', "min"),
    ('진', "jin"),
    ('나', "na"),
    ('채', "chae"),
    ('원', "won"),
    ('천', "chun"),
    ('방', "bang"),
    ('공', "kong"),
    ('현', "hyun"),
    ('함', "ham"),
    ('변', "byun"),
    ('염', "yeom"),
    ('여', "yeo"),
    ('추', "choo"),
    ('도', "do"),
    ('석', "seok"),
    ('설', "seol"),
    ('마', "ma"),
    ('길', "gil"),
    ('연', "yeon"),
    ('표', "pyo"),
    ('명', "myung"),
    ('기', "ki"),
    ('왕', "wang"),
    ('금', "keum"),
    ('옥', "ok"),
    ('육', "yuk"),
    ('탁', "tak"),
    ('국', "kook"),
];

/// Conventional Latin spellings of common Korean family names, beside Revised Romanization's:
/// written from general knowledge of Korean naming practice (passport spellings such as "Lee",
/// "Park", "Choi", "Jung" predate the 2000 Revised Romanization; "Rhee", "Pak", "Chung", "Roh",
/// "Ahn" are older or McCune-Reischauer-based forms; the DPRK writes "Ri", "Rim", "Ryu"). Two
/// spellings listed for one Hangul surname are one surname. Single-letter spellings ("O",
/// "U", "I") are left out: they read as initials.
pub const SURNAME_SPELLINGS: &[(char, &[&str])] = &[
    ('김', &["kim", "gim"]),
    ('이', &["lee", "yi", "rhee", "ri", "li", "rhie", "yee"]),
    ('리', &["ri", "lee", "li", "rhee"]),
    ('박', &["park", "pak", "bak", "pag"]),
    ('최', &["choi", "choe", "chey", "choy"]),
    (
        '정',
        &["jung", "jeong", "chung", "cheong", "chong", "joung"],
    ),
    ('강', &["kang", "gang"]),
    ('조', &["cho", "jo", "joe", "chough"]),
    ('윤', &["yoon", "yun", "youn"]),
    ('장', &["jang", "chang"]),
    ('임', &["lim", "im", "yim", "rim"]),
    ('림', &["rim", "lim"]),
    ('한', &["han", "hahn"]),
    ('오', &["oh", "oe"]),
    ('서', &["seo", "suh", "so", "soh"]),
    ('신', &["shin", "sin", "shinn"]),
    ('권', &["kwon", "gwon", "kweon"]),
    ('황', &["hwang", "whang"]),
    ('안', &["ahn", "an"]),
    ('송', &["song", "soung"]),
    ('전', &["jeon", "chun", "jun", "chon", "jon"]),
    ('홍', &["hong"]),
    ('유', &["yoo", "yu", "you"]),
    ('류', &["ryu", "yoo", "yu", "lyu", "rhyu"]),
    ('고', &["ko", "go", "koh"]),
    ('문', &["moon", "mun"]),
    ('양', &["yang", "ryang"]),
    ('손', &["son", "sohn"]),
    ('배', &["bae", "pae", "bai"]),
    ('백', &["baek", "paek", "baik", "paik", "back"]),
    ('허', &["heo", "huh", "hur", "hoh"]),
    ('남', &["nam"]),
    ('노', &["noh", "roh", "no", "rho"]),
    ('하', &["ha", "hah"]),
    ('곽', &["kwak", "gwak", "kwag"]),
    ('성', &["sung", "seong"]),
    ('차', &["cha"]),
    ('주', &["joo", "ju", "chu", "choo"]),
    ('우', &["woo", "wu"]),
    ('구', &["ku", "koo", "gu", "goo"]),
    ('민', &["min"]),
    ('진', &["jin", "chin"]),
    ('나', &["na", "ra"]),
    ('라', &["ra", "la", "rah"]),
    ('엄', &["um", "eom", "uhm", "om"]),
    ('채', &["chae", "chai", "chea"]),
    ('원', &["won", "weon"]),
    ('천', &["chun", "cheon"]),
    ('방', &["bang", "pang"]),
    ('공', &["kong", "gong"]),
    ('현', &["hyun", "hyeon", "hyon"]),
    ('함', &["ham", "hahm"]),
    ('변', &["byun", "byeon", "pyon", "pyun"]),
    ('염', &["yeom", "yum", "yom"]),
    ('여', &["yeo", "yo", "yuh"]),
    ('추', &["choo", "chu"]),
    ('도', &["do", "doh", "to"]),
    ('석', &["seok", "suk", "sok"]),
    ('설', &["seol", "sul", "sol"]),
    ('길', &["gil", "kil"]),
    ('연', &["yeon", "yon"]),
    ('표', &["pyo", "pyoh"]),
    ('명', &["myung", "myeong", "myong"]),
    ('기', &["ki", "gi"]),
    ('금', &["keum", "geum", "kum"]),
    ('육', &["yuk", "yook"]),
    ('탁', &["tak", "tark"]),
    ('국', &["kook", "guk", "kuk"]),
    ('지', &["ji", "chi"]),
    ('용', &["yong", "ryong"]),
    ('경', &["kyung", "gyeong", "kyong"]),
    ('심', &["shim", "sim"]),
    ('위', &["wi", "wee"]),
    ('봉', &["bong", "pong"]),
    ('왕', &["wang"]),
];

/// Whether two Latin words are conventional spellings of one Korean family name
/// ([`SURNAME_SPELLINGS`]: "lee" / "yi" / "rhee", "park" / "pak", "noh" / "roh").
pub fn same_surname(a: &str, b: &str) -> bool {
    a != b
        && SURNAME_SPELLINGS
            .iter()
            .any(|(_, ls)| ls.contains(&a) && ls.contains(&b))
}

/// Two Latin spellings of one Korean syllable: the same [`romanization_key`], or one written
/// with Revised Romanization's "eo" (ㅓ) and the other with the "u" of conventional spellings
/// ("geon" / "gun", "hyeon" / "hyun", "seob" / "sup", "yeong" / "young", "deok" / "duk").
pub fn same_syllable(a: &str, b: &str) -> bool {
    let (ka, kb) = (romanization_key(a), romanization_key(b));
    ka == kb
        || (a.contains("eo") && ka == kb.replace('u', "o"))
        || (b.contains("eo") && kb == ka.replace('u', "o"))
}

/// A Korean given name of two syllables written as one word on one side and as two (or
/// hyphenated) on the other: "jeongeun" / "jong un", "jaesu" / "jae soo", "weonil" / "won il".
/// Some cut of `glued` gives two Korean syllables with the keys of `a` and `b`.
pub fn glued_syllables(a: &str, b: &str, glued: &str) -> bool {
    (1..glued.len()).any(|p| {
        glued.is_char_boundary(p)
            && same_syllable(&glued[..p], a)
            && same_syllable(&glued[p..], b)
            && is_korean_syllable(&glued[..p])
            && is_korean_syllable(&glued[p..])
    })
}

/// Whether a Latin word is one Korean syllable or two written as one ("jeongeun").
pub fn is_korean_word(t: &str) -> bool {
    // No Korean syllable is written with these letters (a quick "no" for most other words).
    if t.len() > 12
        || t.bytes()
            .any(|c| matches!(c, b'f' | b'q' | b'v' | b'x' | b'z'))
    {
        return false;
    }
    // Every word of every screened name asks this: remembered per thread (bounded).
    thread_local! {
        static SEEN: std::cell::RefCell<ahash::AHashMap<Box<str>, bool>> =
            std::cell::RefCell::new(ahash::AHashMap::new());
    }
    if let Some(v) = SEEN.with(|m| m.borrow().get(t).copied()) {
        return v;
    }
    let v = is_korean_word_uncached(t);
    SEEN.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 200_000 {
            m.clear();
        }
        m.insert(t.into(), v);
    });
    v
}

fn is_korean_word_uncached(t: &str) -> bool {
    is_korean_syllable(t)
        || (t.len() <= 12
            && t.is_ascii()
            && (2..t.len().saturating_sub(1))
                .any(|p| is_korean_syllable(&t[..p]) && is_korean_syllable(&t[p..])))
}

/// Two Latin words that are one Korean name in two romanisations: one syllable with one key,
/// or two syllables written as one on both sides with pairwise equal keys ("jaesu" /
/// "jaesoo").
pub fn same_korean_word(a: &str, b: &str) -> bool {
    if same_syllable(a, b) {
        return true;
    }
    a.is_ascii()
        && (2..a.len().saturating_sub(1)).any(|p| {
            is_korean_syllable(&a[..p])
                && is_korean_syllable(&a[p..])
                && glued_syllables(&a[..p], &a[p..], b)
        })
}

/// Key of one Latin syllable that McCune-Reischauer (the DPRK's and older lists' system) and
/// Revised Romanization write differently: MR marks aspiration with an apostrophe (dropped by
/// normalisation) and writes unaspirated initials voiceless, so MR "chin", "chong", "kang",
/// "tae", "pak" are RR "jin", "jeong", "gang", "dae", "bak"; MR "ŏ", "ŭ" (breves dropped) are
/// RR "eo", "eu". The key folds those: initial ch/j -> j, k/g -> g, t/d -> d, p/b -> b, sh/s
/// -> s, l/r -> r; eo -> o, eu -> u, oo -> u, ee -> i; final g/k -> k, d/t -> t, b/p -> p,
/// r/l -> l.
pub fn romanization_key(t: &str) -> String {
    if !t.is_ascii() {
        // Native-script words (the matcher's native segment) have no such key.
        return t.to_string();
    }
    // Two-letter spellings of one vowel, folded in this order (byte-level: the words are
    // ASCII, and this runs for every word a name is prepared with).
    let mut s: Vec<u8> = t.as_bytes().to_vec();
    for (a, b) in [
        (*b"eo", b'o'),
        (*b"eu", b'u'),
        (*b"oo", b'u'),
        (*b"ee", b'i'),
        (*b"ou", b'u'),
        (*b"yi", b'i'),
    ] {
        if s.windows(2).any(|w| w == a) {
            let mut out = Vec::with_capacity(s.len());
            let mut i = 0;
            while i < s.len() {
                if s[i..].starts_with(&a) {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(s[i]);
                    i += 1;
                }
            }
            s = out;
        }
    }
    // 우 is "u" in Revised Romanization, "woo" / "wu" in conventional spellings.
    if s == b"wu" {
        s = b"u".to_vec();
    }
    let s = String::from_utf8(s).unwrap_or_default();
    let mut k = String::with_capacity(s.len());
    let rest = if let Some(r) = s.strip_prefix("ch") {
        k.push('j');
        r
    } else if let Some(r) = s.strip_prefix("sh") {
        k.push('s');
        r
    } else if let Some(r) = s.strip_prefix('c') {
        // `deunicode` writes ㅊ as "c" ("창" -> "cang").
        k.push('j');
        r
    } else {
        match s.as_bytes().first() {
            Some(b'k') => k.push('g'),
            Some(b't') => k.push('d'),
            Some(b'p') => k.push('b'),
            Some(b'l') => k.push('r'),
            Some(&c) => k.push(c as char),
            None => return k,
        }
        &s[1..]
    };
    k.push_str(rest);
    if !k.ends_with("ng") {
        let fin = match k.as_bytes().last() {
            Some(b'g') if k.len() > 1 => Some('k'),
            Some(b'd') if k.len() > 1 => Some('t'),
            Some(b'b') if k.len() > 1 => Some('p'),
            Some(b'r') if k.len() > 1 => Some('l'),
            _ => None,
        };
        if let Some(f) = fin {
            k.pop();
            k.push(f);
        }
    }
    k
}

/// Whether a Latin word is one Korean syllable in some romanisation: its
/// [`romanization_key`] is the key of a Hangul syllable's reading (all 11,172).
pub fn is_korean_syllable(t: &str) -> bool {
    static KEYS: std::sync::OnceLock<ahash::AHashSet<String>> = std::sync::OnceLock::new();
    if t.len() > 6 || t.is_empty() || !t.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    KEYS.get_or_init(|| {
        let mut keys: ahash::AHashSet<String> = ('\u{AC00}'..='\u{D7A3}')
            .filter_map(deunicode::deunicode_char)
            .map(|r| romanization_key(&r.trim().to_ascii_lowercase()))
            .collect();
        keys.extend(SURNAMES.iter().map(|(_, l)| romanization_key(l)));
        // Conventional surname spellings are Korean words too ("Rhee", "Roh", "Pak").
        keys.extend(
            SURNAME_SPELLINGS
                .iter()
                .flat_map(|(_, ls)| ls.iter().map(|l| romanization_key(l))),
        );
        keys
    })
    .contains(&romanization_key(t))
}

fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Rewrites Hangul runs as Latin name words; other text is left as it is.
pub fn romanize_names(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_hangul_syllable) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() * 2);
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_hangul_syllable(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_hangul_syllable(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        let roman = |cs: &[char]| -> String {
            cs.iter()
                .map(|c| {
                    deunicode::deunicode_char(*c)
                        .unwrap_or("")
                        .trim()
                        .to_lowercase()
                })
                .collect()
        };
        let surname = SURNAMES.iter().find(|(h, _)| *h == run[0]).map(|(_, l)| *l);
        match surname {
            Some(l) if (2..=4).contains(&run.len()) => {
                out.push(' ');
                out.push_str(l);
                out.push(' ');
                out.push_str(&roman(&run[1..]));
                out.push(' ');
            }
            _ => {
                out.push(' ');
                out.push_str(&roman(run));
                out.push(' ');
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mccune_reischauer_and_revised_spellings_share_a_key() {
        for (mr, rr) in [
            ("chin", "jin"),
            ("chong", "jeong"),
            ("chol", "cheol"),
            ("kang", "gang"),
            ("tae", "dae"),
            ("pak", "bak"),
            ("un", "eun"),
            ("hyok", "hyeok"),
            ("song", "seong"),
            ("shin", "sin"),
        ] {
            assert_eq!(romanization_key(mr), romanization_key(rr), "{mr} / {rr}");
            assert!(
                is_korean_syllable(mr) && is_korean_syllable(rr),
                "{mr} / {rr}"
            );
        }
        assert_ne!(romanization_key("jong"), romanization_key("jung"));
        assert!(!is_korean_syllable("smith"));
        assert!(!is_korean_syllable("ahmad"));
        // Any input: native-script words are not Latin syllables, and nothing panics.
        assert!(!is_korean_syllable("رضا"));
        assert_eq!(romanization_key("رضا"), "رضا");
        assert!(!is_korean_syllable("정"));
    }

    #[test]
    fn korean_names_read_surname_first() {
        assert_eq!(
            romanize_names("김정은")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["kim", "jeongeun"]
        );
        assert_eq!(
            romanize_names("박지성")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["park", "jiseong"]
        );
        assert_eq!(romanize_names("Acme"), "Acme");
    }
}
