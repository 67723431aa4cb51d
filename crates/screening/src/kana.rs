//! Japanese kana to Hepburn-style Latin, as names are written in Latin script: `deunicode`
//! reads kana one character at a time ("ファ" -> "hua", "ティ" -> "tei", "ット" -> "tuto"), so
//! the small kana that modify the previous syllable, the doubling mark (sokuon) and the
//! long-vowel mark are resolved here first ("ムスタファエヴァ" -> "musutafaeva", "ハット" ->
//! "hatto", "ティム" -> "timu"). Kanji are left to `deunicode` (no reading dictionary ships).

use std::borrow::Cow;

fn is_kana(c: char) -> bool {
    ('\u{3041}'..='\u{3096}').contains(&c) || ('\u{30A1}'..='\u{30FC}').contains(&c)
}

/// Hepburn spellings where `deunicode` gives another system's (katakana and hiragana).
fn base(c: char) -> Option<String> {
    let s = match c {
        'フ' | 'ふ' => "fu",
        'シ' | 'し' => "shi",
        'チ' | 'ち' => "chi",
        'ツ' | 'つ' => "tsu",
        'ジ' | 'じ' | 'ヂ' | 'ぢ' => "ji",
        'ヅ' | 'づ' => "zu",
        'ヴ' => "vu",
        _ => {
            let d = deunicode::deunicode_char(c)?;
            let d = d.trim().to_ascii_lowercase();
            if d.is_empty() || !d.bytes().all(|b| b.is_ascii_lowercase()) {
                return None;
            }
            return Some(d);
        }
    };
    Some(s.to_string())
}

/// The vowel of a small kana that modifies the previous syllable, and whether it is a
/// y-glide (ャ ュ ョ).
fn small(c: char) -> Option<(char, bool)> {
    Some(match c {
        'ァ' | 'ぁ' => ('a', false),
        'ィ' | 'ぃ' => ('i', false),
        'ゥ' | 'ぅ' => ('u', false),
        'ェ' | 'ぇ' => ('e', false),
        'ォ' | 'ぉ' => ('o', false),
        'ャ' | 'ゃ' => ('a', true),
        'ュ' | 'ゅ' => ('u', true),
        'ョ' | 'ょ' => ('o', true),
        _ => return None,
    })
}

/// Rewrites kana runs in Hepburn-style Latin; other text is left as it is.
pub fn romanize_kana(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_kana) {
        return Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut double_next = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if !is_kana(c) {
            out.push(c);
            continue;
        }
        match c {
            // Long vowel mark: Latin spellings of names do not write it.
            'ー' => continue,
            'ッ' | 'っ' => {
                double_next = true;
                continue;
            }
            _ => {}
        }
        let Some(mut syl) = base(c) else {
            out.push(c);
            continue;
        };
        if let Some((v, glide)) = chars.get(i).copied().and_then(small) {
            i += 1;
            // "shi" + ya = "sha", "ki" + yo = "kyo", "fu" + a = "fa", "te" + i = "ti".
            let stem_len = syl.len() - usize::from(syl.ends_with(['a', 'e', 'i', 'o', 'u']));
            let mut stem = syl[..stem_len].to_string();
            if glide && !matches!(stem.as_str(), "sh" | "ch" | "j") {
                stem.push('y');
            }
            stem.push(v);
            syl = stem;
        }
        if double_next {
            if let Some(f) = syl.chars().next().filter(|f| !"aeiou".contains(*f)) {
                out.push(f);
            }
            double_next = false;
        }
        out.push_str(&syl);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::romanize_kana;

    #[test]
    fn kana_read_as_names_are_written() {
        assert_eq!(romanize_kana("ムスタファエヴァ"), "musutafaeva");
        assert_eq!(romanize_kana("ハット"), "hatto");
        assert_eq!(romanize_kana("ティム"), "timu");
        assert_eq!(romanize_kana("キョウコ"), "kyouko");
        assert_eq!(romanize_kana("シャルル"), "sharuru");
        assert_eq!(romanize_kana("ガーミート"), "gamito");
        assert_eq!(romanize_kana("Acme"), "Acme");
    }
}
