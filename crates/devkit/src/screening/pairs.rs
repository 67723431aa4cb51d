//! Seeded generator of labelled company and vessel name pairs built from the loaded lists.
//!
//! Each pair is (variant, list name, schema, label, category). Source names are primary names
//! and aliases of company and vessel entries with at least two word tokens; the generator draws
//! them with a ChaCha8 RNG from the given seed, so a seed always yields the same pairs.
//!
//! True variants (label = match), one or two transformations of the list name:
//! * `legal_form`: legal form spelled out, abbreviated, swapped for an equivalent, dropped or added;
//! * `typo`: one character substituted, deleted, inserted or two transposed, in a 5+ letter word;
//! * `transliteration`: the name written in Cyrillic letter by letter, or with accents added;
//! * `reorder`: the words rotated;
//! * `abbreviation`: "International" -> "Intl", "Trading" -> "Trdg", "Company" -> "Co" ...;
//! * `annotation`: "SHIPPER: NAME", "NAME C/O <forwarder>", "<forwarder> C/O NAME";
//! * `case_punctuation`: lower case, punctuation removed.
//!
//! Hard non-matches (label = no match):
//! * `other_number`: the same words with another number ("... 11" vs "... 12");
//! * `subsidiary_other_country`: the parent's distinctive words plus a country or city name and
//!   another legal form ("ACME TRADING (HONG KONG) LTD" vs "ACME TRADING LLC");
//! * `trade_words_only`: only the generic trade words of the list name ("GLOBAL TRADING CO");
//! * `other_entity`: another listed name sharing at least one word.

use borderline_screening::normalize::{normalize, TokenKind};
use borderline_screening::{Entry, Schema};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct LabelledPair {
    pub query: String,
    pub list_name: String,
    pub schema: Schema,
    pub is_match: bool,
    pub category: &'static str,
    /// Index of the source entry in the slice given to [`generate`].
    #[serde(skip)]
    pub entry_index: usize,
}

const TRADE_WORDS: &[&str] = &[
    "TRADING",
    "INTERNATIONAL",
    "GLOBAL",
    "GROUP",
    "HOLDING",
    "HOLDINGS",
    "INDUSTRIAL",
    "INDUSTRIES",
    "SHIPPING",
    "LOGISTICS",
    "IMPORT",
    "EXPORT",
    "GENERAL",
    "COMMERCIAL",
    "DEVELOPMENT",
    "INVESTMENT",
    "TECHNOLOGY",
    "ENERGY",
    "PETROLEUM",
    "OIL",
    "GAS",
    "SERVICES",
    "COMMERCE",
    "ENTERPRISE",
    "ENTERPRISES",
    "MARINE",
    "NATIONAL",
    "UNITED",
    "ASIA",
    "EAST",
    "MIDDLE",
    "STAR",
    "NEW",
    "GOLDEN",
    "SEA",
    "OCEAN",
    "TRANSPORT",
    "CHEMICAL",
    "ELECTRONICS",
    "MACHINERY",
    "CONSTRUCTION",
    "ENGINEERING",
    "BANK",
    "COMPANY",
];

const PLACES: &[&str] = &[
    "HONG KONG",
    "SINGAPORE",
    "DUBAI",
    "EUROPE",
    "TURKEY",
    "MALAYSIA",
    "SHANGHAI",
    "INDIA",
    "PANAMA",
    "CYPRUS",
    "NETHERLANDS",
    "AMERICA",
    "VIETNAM",
    "THAILAND",
    "KOREA",
    "GERMANY",
];

const FORWARDERS: &[&str] = &[
    "BLUE OCEAN LOGISTICS LTD",
    "KUEHNE FORWARDING GMBH",
    "PACIFIC FREIGHT SERVICES",
    "SWIFT CARGO AGENCY",
    "EVER GREEN CUSTOMS BROKERS",
    "ATLAS SHIPPING AGENCY LLC",
];

/// Legal form spellings by family: a swap within one family keeps the meaning.
const LEGAL_FAMILIES: &[&[&str]] = &[
    &[
        "LTD",
        "LTD.",
        "LIMITED",
        "CO., LTD.",
        "CO LTD",
        "COMPANY LIMITED",
        "PTE LTD",
    ],
    &["LLC", "L.L.C.", "LIMITED LIABILITY COMPANY", "OOO"],
    &["JSC", "JOINT STOCK COMPANY", "AO"],
    &["INC", "INC.", "INCORPORATED", "CORP", "CORPORATION"],
    &["S.A.", "SA", "S.A. DE C.V."],
    &["GMBH", "GMBH & CO. KG"],
    &["PLC", "P.L.C.", "PUBLIC LIMITED COMPANY"],
];

const ABBREV: &[(&str, &str)] = &[
    ("INTERNATIONAL", "INTL"),
    ("TRADING", "TRDG"),
    ("COMPANY", "CO"),
    ("CORPORATION", "CORP"),
    ("INDUSTRIES", "INDS"),
    ("MANUFACTURING", "MFG"),
    ("SHIPPING", "SHPG"),
    ("HOLDINGS", "HLDGS"),
    ("NATIONAL", "NATL"),
    ("TECHNOLOGY", "TECH"),
    ("ENGINEERING", "ENGG"),
    ("BROTHERS", "BROS"),
];

fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c.to_ascii_lowercase() {
        'a' => "а",
        'b' => "б",
        'v' => "в",
        'g' => "г",
        'd' => "д",
        'e' => "е",
        'z' => "з",
        'i' => "и",
        'j' => "й",
        'k' => "к",
        'l' => "л",
        'm' => "м",
        'n' => "н",
        'o' => "о",
        'p' => "п",
        'r' => "р",
        's' => "с",
        't' => "т",
        'u' => "у",
        'f' => "ф",
        'h' => "х",
        'y' => "ы",
        _ => return None,
    })
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn is_legal(w: &str) -> bool {
    let n = normalize(w);
    !n.tokens().is_empty() && n.tokens().iter().all(|t| t.kind == TokenKind::LegalForm)
}

fn typo(rng: &mut ChaCha8Rng, name: &str) -> Option<String> {
    let ws = words(name);
    let idx: Vec<usize> = (0..ws.len())
        .filter(|&i| ws[i].chars().count() >= 5 && ws[i].chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    let &i = idx.choose(rng)?;
    let mut chars: Vec<char> = ws[i].chars().collect();
    // Not the first letter: keyboard typos rarely hit it and readers would notice.
    let p = rng.random_range(1..chars.len());
    let letter = (b'A' + rng.random_range(0..26u8)) as char;
    match rng.random_range(0..4) {
        0 => chars[p] = letter,
        1 => {
            chars.remove(p);
        }
        2 => chars.insert(p, letter),
        _ => {
            if p + 1 < chars.len() {
                chars.swap(p, p + 1)
            } else {
                chars.swap(p - 1, p)
            }
        }
    }
    let mut out = ws.clone();
    out[i] = chars.into_iter().collect();
    Some(out.join(" "))
}

fn legal_swap(rng: &mut ChaCha8Rng, name: &str) -> Option<String> {
    let ws = words(name);
    let upper = name.to_uppercase();
    for fam in LEGAL_FAMILIES {
        // Longest spelling present at the end of the name.
        let mut present: Vec<&&str> = fam
            .iter()
            .filter(|f| upper.ends_with(&format!(" {f}")))
            .collect();
        present.sort_by_key(|f| std::cmp::Reverse(f.len()));
        if let Some(f) = present.first() {
            let stem = name[..name.len() - f.len()]
                .trim_end()
                .trim_end_matches(',');
            let others: Vec<&&str> = fam.iter().filter(|g| g != f).collect();
            let g = others.choose(rng)?;
            return Some(if rng.random_bool(0.2) {
                stem.to_string()
            } else {
                format!("{stem} {g}")
            });
        }
    }
    if ws.iter().any(|w| is_legal(w)) {
        return None;
    }
    let fam = LEGAL_FAMILIES.choose(rng)?;
    Some(format!("{name} {}", fam.choose(rng)?))
}

fn transliterate(rng: &mut ChaCha8Rng, name: &str) -> String {
    if rng.random_bool(0.5) {
        name.chars()
            .map(|c| {
                cyrillic(c)
                    .map(String::from)
                    .unwrap_or_else(|| c.to_string())
            })
            .collect::<String>()
            .to_uppercase()
    } else {
        name.chars()
            .map(|c| match c {
                'E' => 'É',
                'A' => 'Á',
                'O' => 'Ö',
                'U' => 'Ü',
                c => c,
            })
            .collect()
    }
}

fn abbreviate(name: &str) -> Option<String> {
    let up = name.to_uppercase();
    let mut out = words(&up);
    let mut changed = false;
    for w in out.iter_mut() {
        if let Some((_, a)) = ABBREV
            .iter()
            .find(|(full, _)| w.trim_end_matches(',') == *full)
        {
            *w = a.to_string();
            changed = true;
        }
    }
    changed.then(|| out.join(" "))
}

fn annotate(rng: &mut ChaCha8Rng, name: &str) -> String {
    let fwd = FORWARDERS.choose(rng).copied().unwrap_or("AGENT");
    match rng.random_range(0..3) {
        0 => format!("SHIPPER: {name}"),
        1 => format!("{name} C/O {fwd}"),
        _ => format!("{fwd} C/O {name}"),
    }
}

fn reorder(name: &str) -> Option<String> {
    let ws = words(name);
    let core: Vec<&String> = ws.iter().filter(|w| !is_legal(w)).collect();
    if core.len() < 2 {
        return None;
    }
    let legal: Vec<&String> = ws.iter().filter(|w| is_legal(w)).collect();
    let mut rotated: Vec<String> = core[1..].iter().map(|s| s.to_string()).collect();
    rotated.push(core[0].to_string());
    rotated.extend(legal.into_iter().cloned());
    Some(rotated.join(" "))
}

/// One or two true-variant transformations of `name` (see the module documentation), with the
/// category of the first.
pub fn variant(rng: &mut ChaCha8Rng, name: &str) -> Option<(String, &'static str)> {
    for _ in 0..6 {
        let kind = rng.random_range(0..7);
        let r = match kind {
            0 => legal_swap(rng, name).map(|v| (v, "legal_form")),
            1 => typo(rng, name).map(|v| (v, "typo")),
            2 => Some((transliterate(rng, name), "transliteration")),
            3 => reorder(name).map(|v| (v, "reorder")),
            4 => abbreviate(name).map(|v| (v, "abbreviation")),
            5 => Some((annotate(rng, name), "annotation")),
            _ => Some((
                name.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || c.is_whitespace())
                    .collect(),
                "case_punctuation",
            )),
        };
        if let Some((v, k)) = r {
            if v != name {
                // Half of the variants get a second, independent change (never a second
                // annotation or transliteration, which would stack implausibly).
                if rng.random_bool(0.5) && k != "transliteration" {
                    if let Some(v2) = typo(rng, &v).or_else(|| legal_swap(rng, &v)) {
                        return Some((v2, k));
                    }
                }
                return Some((v, k));
            }
        }
    }
    None
}

fn word_tokens(name: &str) -> usize {
    normalize(name)
        .tokens()
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .count()
}

/// Generates `n_pos` matching and about `n_neg` non-matching pairs from company and vessel
/// entries of `entries`.
pub fn generate(entries: &[Entry], seed: u64, n_pos: usize, n_neg: usize) -> Vec<LabelledPair> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sources: Vec<(usize, &str, Schema)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.schema, Schema::Company | Schema::Vessel))
        .flat_map(|(i, e)| e.names().map(move |n| (i, n, e.schema)))
        .filter(|(_, n, _)| word_tokens(n) >= 2 && n.is_ascii())
        .collect();
    let mut out = Vec::new();
    if sources.is_empty() {
        return out;
    }
    let mut guard = 0;
    while out.len() < n_pos && guard < n_pos * 20 {
        guard += 1;
        let Some(&(i, name, schema)) = sources.choose(&mut rng) else {
            break;
        };
        if let Some((v, cat)) = variant(&mut rng, name) {
            out.push(LabelledPair {
                query: v,
                list_name: name.to_string(),
                schema,
                is_match: true,
                category: cat,
                entry_index: i,
            });
        }
    }
    let with_numbers: Vec<&(usize, &str, Schema)> = sources
        .iter()
        .filter(|(_, n, _)| {
            n.split_whitespace()
                .any(|w| w.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    let with_trade: Vec<&(usize, &str, Schema)> = sources
        .iter()
        .filter(|(_, n, s)| {
            *s == Schema::Company && {
                let ws = words(&n.to_uppercase());
                let t = ws
                    .iter()
                    .filter(|w| TRADE_WORDS.contains(&w.as_str()))
                    .count();
                t >= 1 && t < ws.len()
            }
        })
        .collect();
    let companies: Vec<&(usize, &str, Schema)> = sources
        .iter()
        .filter(|(_, _, s)| *s == Schema::Company)
        .collect();
    let target = out.len() + n_neg;
    guard = 0;
    while out.len() < target && guard < n_neg * 20 {
        guard += 1;
        let cat = rng.random_range(0..4);
        let made: Option<(String, &str, usize, Schema, &'static str)> = match cat {
            0 => with_numbers.choose(&mut rng).and_then(|&&(i, n, s)| {
                let ws = words(n);
                let mut changed = ws.clone();
                for w in changed.iter_mut() {
                    if let Ok(x) = w.parse::<u64>() {
                        *w = (x + rng.random_range(1..9u64)).to_string();
                        break;
                    }
                }
                (changed != ws).then(|| (changed.join(" "), n, i, s, "other_number"))
            }),
            1 => companies.choose(&mut rng).and_then(|&&(i, n, s)| {
                let core: Vec<String> = words(n).into_iter().filter(|w| !is_legal(w)).collect();
                let place = PLACES.choose(&mut rng)?;
                let fam = LEGAL_FAMILIES.choose(&mut rng)?;
                let lf = fam.choose(&mut rng)?;
                let v = if rng.random_bool(0.5) {
                    format!("{} ({place}) {lf}", core.join(" "))
                } else {
                    format!("{} {place} {lf}", core.join(" "))
                };
                Some((v, n, i, s, "subsidiary_other_country"))
            }),
            2 => with_trade.choose(&mut rng).and_then(|&&(i, n, s)| {
                let up = n.to_uppercase();
                let mut ws: Vec<String> = words(&up)
                    .into_iter()
                    .filter(|w| TRADE_WORDS.contains(&w.as_str()))
                    .collect();
                if ws.len() < 2 {
                    let extra = TRADE_WORDS.choose(&mut rng)?;
                    if !ws.iter().any(|w| w == extra) {
                        ws.push(extra.to_string());
                    }
                }
                let fam = LEGAL_FAMILIES.choose(&mut rng)?;
                ws.push(fam.choose(&mut rng)?.to_string());
                Some((ws.join(" "), n, i, s, "trade_words_only"))
            }),
            _ => (|| {
                let &(i, n, s) = sources.choose(&mut rng)?;
                let nw = normalize(n);
                let mine: Vec<&str> = nw
                    .tokens()
                    .iter()
                    .filter(|t| t.kind == TokenKind::Word)
                    .map(|t| t.text.as_str())
                    .collect();
                // another listed name that shares a word but belongs to a different entry
                let mut pick = None;
                for _ in 0..200 {
                    let &(j, m, _) = sources.choose(&mut rng)?;
                    if j == i || entries[j].names().any(|x| x == n) {
                        continue;
                    }
                    let nm = normalize(m);
                    if nm
                        .tokens()
                        .iter()
                        .any(|t| t.kind == TokenKind::Word && mine.contains(&t.text.as_str()))
                    {
                        pick = Some(m);
                        break;
                    }
                }
                pick.map(|m| (m.to_string(), n, i, s, "other_entity"))
            })(),
        };
        if let Some((q, n, i, s, c)) = made {
            // An "other entity" that is an alias of the same entry is not a non-match.
            if entries[i].names().any(|x| x == q) {
                continue;
            }
            out.push(LabelledPair {
                query: q,
                list_name: n.to_string(),
                schema: s,
                is_match: false,
                category: c,
                entry_index: i,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    fn entry(id: &str, name: &str) -> Entry {
        Entry::new("t", id, Schema::Company, name)
    }
    #[test]
    fn generator_is_seeded_and_labelled() {
        let es = vec![
            entry("1", "ACME GLOBAL TRADING CO., LTD."),
            entry("2", "NORTHERN STAR SHIPPING 11 LLC"),
            entry("3", "BLUE RIVER INTERNATIONAL HOLDINGS LIMITED"),
            entry("4", "GLOBAL PETROLEUM TRADING JSC"),
        ];
        let a = generate(&es, 7, 40, 40);
        let b = generate(&es, 7, 40, 40);
        assert_eq!(
            a.iter().map(|p| &p.query).collect::<Vec<_>>(),
            b.iter().map(|p| &p.query).collect::<Vec<_>>()
        );
        assert_eq!(a.iter().filter(|p| p.is_match).count(), 40);
        assert!(a
            .iter()
            .any(|p| !p.is_match && p.category == "other_number"));
        for p in &a {
            assert_ne!(p.query, p.list_name, "{p:?}");
        }
        let c = generate(&es, 8, 40, 40);
        assert_ne!(
            a.iter().map(|p| &p.query).collect::<Vec<_>>(),
            c.iter().map(|p| &p.query).collect::<Vec<_>>()
        );
    }
}
