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

/// Surname and patronymic endings that mark an East Slavic name.
const ENDINGS: &[&str] = &[
    "ovich", "evich", "ovych", "evych", "ovitch", "ovna", "evna", "ivna", "yivna", "ovic", "enko",
    "chuk", "czuk", "yuk", "iuk", "ov", "ova", "ev", "eva", "yov", "skiy", "skii", "skyi", "sky",
    "ski", "skaya", "tskiy", "vich",
];

/// A word of 5+ letters with an East Slavic surname or patronymic ending.
pub fn is_slavic_name_word(t: &str) -> bool {
    t.len() >= 5 && t.is_ascii() && ENDINGS.iter().any(|e| t.ends_with(e))
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
    String::from_utf8(out).unwrap_or_default()
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
}
