//! Romanisations of East Slavic names against each other: one Cyrillic name reaches the lists
//! as "Yevgeniy", "Evgeny", "Evgenii" or "Jewgeni", "Yuriy" / "Iurii", "Yelena" / "Elena",
//! and Ukrainian and Belarusian write Cyrillic "г" as "h" where Russian writes "g"
//! ("Hennadiy" / "Gennadiy", "Oleh" / "Oleg", "Hryb" / "Grib", "Serhiy" / "Sergey").
//!
//! [`key`] folds those spellings: the digraphs shch/sch, kh, zh, ch, sh, ts/tz stay letters of
//! their own; a lone "h" is "g"; y and j are "i", w is "v", x is "ks"; doubled letters are
//! single; a final -ei / -ii (Russian -ей / -ий) is "i"; an "i" before a vowel at the start
//! ("ye", "yu", "ya") drops. The matcher uses it only for persons whose names have an East
//! Slavic word ([`is_slavic_name_word`]: patronymic or surname endings), so "Hill" / "Gill"
//! and "Hassan" / "Ghassan" keep the ordinary rules.
//!
//! Tenth round: Belarusian (and Ukrainian) romanisations against Russian ones. Belarusian
//! writes the unstressed "o" of Russian as "a" (akanye: "Aliaksandr" / "Aleksandr",
//! "Halavanau" / "Golovanov", "Sviatlana" / "Svetlana"), a soft "d" as "dz" ("Dzmitry" /
//! "Dmitry", "Vadzim" / "Vadim"), "ў" as "u" or "w" ("Naumau" / "Naumov", "Piatrowna" /
//! "Petrovna", "Uladzimir" / "Vladimir"), the Russian "-enko" as "-enka", and Latin "c" for
//! "ts" ("Tselikovec"). [`key`] folds dz, c and the "u" after a vowel; [`vowel_key`] also
//! reads every run of vowels inside the word as one mark (the word's last vowel stays itself,
//! so "Yevgeniy" / "Yevgeniya" and "Ivanov" / "Ivanova" stay apart).

/// Surname and patronymic endings that mark an East Slavic name.
const ENDINGS: &[&str] = &[
    "ovich", "evich", "ovych", "evych", "ovitch", "ovna", "evna", "ivna", "yivna", "ovic", "enko",
    "chuk", "czuk", "yuk", "iuk", "ov", "ova", "ev", "eva", "yov", "skiy", "skii", "skyi", "sky",
    "ski", "skaya", "tskiy", "vich", "auna", "awna", "enka",
];

/// A word of 5+ letters with an East Slavic surname or patronymic ending; Belarusian "-au" /
/// "-ou" (Russian "-ov": "Naumau", "Zubkou") counts after a consonant in words of 6+ letters.
pub fn is_slavic_name_word(t: &str) -> bool {
    let b = t.as_bytes();
    t.len() >= 5
        && t.is_ascii()
        && (ENDINGS.iter().any(|e| t.ends_with(e))
            || (b.len() >= 6
                && (t.ends_with("au") || t.ends_with("ou"))
                && !is_vowel(b[b.len() - 3])))
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// The key shared by romanisations of one East Slavic name word (see the module
/// documentation); lower-case ASCII words only (others are returned as they are).
pub fn key(t: &str) -> String {
    if !t.bytes().all(|b| b.is_ascii_lowercase()) {
        return t.to_string();
    }
    let b = t.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        let (c, step): (&[u8], usize) = if rest.starts_with(b"shch") {
            (b"S", 4)
        } else if rest.starts_with(b"sch") {
            (b"S", 3)
        } else if rest.starts_with(b"kh") {
            (b"K", 2)
        } else if rest.starts_with(b"zh") {
            (b"Z", 2)
        } else if rest.starts_with(b"ch") {
            (b"C", 2)
        } else if rest.starts_with(b"sh") {
            (b"W", 2)
        } else if rest.starts_with(b"gh") {
            (b"G", 2)
        } else if rest.starts_with(b"th") {
            (b"t", 2)
        } else if rest.starts_with(b"ts") || rest.starts_with(b"tz") {
            (b"T", 2)
        } else if rest.starts_with(b"dz") && rest.get(2) != Some(&b'h') {
            // Belarusian soft "d" ("Dzmitry"); "dzh" is the affricate of "Dzhabrailov".
            (b"d", 2)
        } else if rest[0] == b'c' && rest.get(1) != Some(&b'z') {
            // Latin "c" of Belarusian and Polish spellings is "ts" ("Tselikovec").
            (b"T", 1)
        } else if rest[0] == b'u'
            && i > 0
            && matches!(b[i - 1], b'a' | b'e' | b'o')
            && !rest.get(1).is_some_and(|&c| is_vowel(c))
        {
            // Belarusian "ў" after a vowel ("Naumau", "Paulichenka"; "w" is "v" anyway); after
            // "i" / "y" a "u" is the vowel "ю" ("Yuri", "Iurii").
            (b"v", 1)
        } else {
            match rest[0] {
                b'h' => (b"g", 1),
                b'y' | b'j' => (b"i", 1),
                b'w' => (b"v", 1),
                b'x' => (b"ks", 1),
                _ => (&rest[..1], 1),
            }
        };
        for &k in c {
            if out.last() != Some(&k) {
                out.push(k);
            }
        }
        i += step;
    }
    // Final -ei / -ii (after the doubled-letter fold, "-ii" is "-i").
    if out.len() > 3 && out.ends_with(b"ei") {
        out.remove(out.len() - 2);
    }
    // "ye", "yu", "ya" at the start: the vowel alone ("Yelena" / "Elena").
    if out.len() > 3 && out[0] == b'i' && matches!(out[1], b'a' | b'e' | b'o' | b'u') {
        out.remove(0);
    }
    // Belarusian "-enka" is the "-enko" of Ukrainian and Russian spellings ("Lukashenka").
    if out.ends_with(b"enka") {
        let n = out.len();
        out[n - 1] = b'o';
    }
    String::from_utf8(out).unwrap_or_default()
}

/// [`key`] with every run of vowels before the word's last letter read as one mark `V`
/// (Belarusian akanye and "ia" for Russian "e": "aliaksandr" / "aleksandr", "piatrowna" /
/// "petrovna"), a final vowel kept as it is; a Belarusian "u" for "ў" opening a word before
/// a consonant is "v" ("uladzimir"). Returns the key and its number of consonant marks.
pub fn vowel_key(t: &str) -> (String, usize) {
    let mut k = key(t).into_bytes();
    if k.len() > 2 && k[0] == b'u' && !is_vowel(k[1]) {
        k[0] = b'v';
    }
    let mut out = Vec::with_capacity(k.len());
    let mut consonants = 0usize;
    let last = k.len().saturating_sub(1);
    for (i, &c) in k.iter().enumerate() {
        if matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') && i < last {
            if out.last() != Some(&b'V') {
                out.push(b'V');
            }
        } else {
            if !matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') {
                consonants += 1;
            }
            // A final vowel after a vowel run ("-ia", "-iia") is that vowel alone.
            if i == last
                && out.last() == Some(&b'V')
                && matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
            {
                out.pop();
            }
            out.push(c);
        }
    }
    (String::from_utf8(out).unwrap_or_default(), consonants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romanisations_of_one_slavic_name_share_a_key() {
        for (a, b) in [
            ("yevgeniy", "evgeny"),
            ("evgenii", "jewgeni"),
            ("yuriy", "iurii"),
            ("yelena", "elena"),
            ("hennadiy", "gennadiy"),
            ("oleh", "oleg"),
            ("hryb", "grib"),
            ("serhiy", "sergey"),
            ("andriy", "andrei"),
            ("lyagin", "liahin"),
            ("shchukin", "schukin"),
            ("hryhoriy", "grigoriy"),
        ] {
            assert_eq!(key(a), key(b), "{a} / {b}");
        }
        for (a, b) in [
            ("hassan", "ghassan"),
            ("kirill", "dmitriy"),
            ("olena", "elena"),
        ] {
            assert_ne!(key(a), key(b), "{a} / {b}");
        }
        assert!(is_slavic_name_word("ivanov") && is_slavic_name_word("petrovich"));
        assert!(!is_slavic_name_word("smith") && !is_slavic_name_word("hill"));
        assert_eq!(key("Ж"), "Ж");
    }

    #[test]
    fn belarusian_and_russian_spellings_share_the_vowel_key() {
        for (a, b) in [
            ("aliaksandr", "aleksandr"),
            ("piatrowna", "petrovna"),
            ("uladzimiravich", "vladimirovich"),
            ("naumau", "naumov"),
            ("halavanau", "golovanov"),
            ("sviatlana", "svetlana"),
            ("tselikaviets", "tselikovec"),
            ("siarhei", "sergei"),
            ("yaugenavich", "yevgenevich"),
            ("dzmitry", "dmitriy"),
        ] {
            assert_eq!(vowel_key(a).0, vowel_key(b).0, "{a} / {b}");
        }
        assert_eq!(key("lukashenka"), key("lukashenko"));
        assert_eq!(key("yuri"), key("jury"));
        assert_eq!(key("paulichenka"), key("pavlichenko"));
        for (a, b) in [
            ("yevgeniy", "yevgeniya"),
            ("ivanov", "ivanova"),
            ("petrovich", "pavlovich"),
            ("dzhabrailov", "dabrailov"),
        ] {
            assert_ne!(vowel_key(a).0, vowel_key(b).0, "{a} / {b}");
        }
        assert!(is_slavic_name_word("naumau") && is_slavic_name_word("zubkou"));
        assert!(!is_slavic_name_word("moreau") && !is_slavic_name_word("sau"));
    }
}
