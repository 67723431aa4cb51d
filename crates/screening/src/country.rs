//! Country recognition: list spellings ("Iran (Islamic Republic of)", "Korea, North", "UK") to
//! ISO 3166-1 alpha-2, via the `celes` tables plus the few spellings sanctions lists use that
//! `celes` does not know.

use std::str::FromStr;

/// ISO alpha-2 for a country name or code, `None` when not recognised.
pub fn to_iso2(raw: &str) -> Option<String> {
    let t = raw.trim().trim_end_matches('.');
    if t.is_empty() || t == "-0-" {
        return None;
    }
    if t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()) {
        return celes::Country::from_alpha2(t.to_ascii_uppercase())
            .ok()
            .map(|c| c.alpha2.to_string());
    }
    let lower = t.to_lowercase();
    let special = match lower.as_str() {
        "korea, north" | "north korea" | "democratic people's republic of korea" => Some("KP"),
        "korea, south" | "south korea" | "republic of korea" => Some("KR"),
        "burma" | "myanmar" => Some("MM"),
        "russia" | "russian federation" => Some("RU"),
        "iran" | "iran (islamic republic of)" => Some("IR"),
        "syria" | "syrian arab republic" => Some("SY"),
        "uk" | "united kingdom" | "great britain" => Some("GB"),
        "usa" | "united states" | "united states of america" => Some("US"),
        "west bank" | "gaza" | "palestinian" | "palestine" | "state of palestine" => Some("PS"),
        "hong kong" | "china, hong kong" => Some("HK"),
        "macau" | "macao" => Some("MO"),
        "taiwan" => Some("TW"),
        "vietnam" | "viet nam" => Some("VN"),
        "laos" | "lao people's democratic republic" => Some("LA"),
        "congo, democratic republic of the" | "democratic republic of the congo" => Some("CD"),
        "congo, republic of the" | "congo" => Some("CG"),
        "turkey" | "turkiye" | "türkiye" => Some("TR"),
        "venezuela" | "venezuela (bolivarian republic of)" => Some("VE"),
        "bolivia" => Some("BO"),
        "tanzania" | "united republic of tanzania" => Some("TZ"),
        "moldova" | "republic of moldova" => Some("MD"),
        "cote d'ivoire" | "côte d'ivoire" | "ivory coast" => Some("CI"),
        "czech republic" | "czechia" => Some("CZ"),
        "kosovo" => Some("XK"),
        "crimea" | "region: crimea" => Some("UA"),
        _ => None,
    };
    if let Some(cc) = special {
        return Some(cc.to_string());
    }
    let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    celes::Country::from_str(&compact)
        .or_else(|_| celes::Country::from_str(t))
        .ok()
        .map(|c| c.alpha2.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn recognises_list_spellings() {
        assert_eq!(to_iso2("Korea, North").as_deref(), Some("KP"));
        assert_eq!(to_iso2("China").as_deref(), Some("CN"));
        assert_eq!(to_iso2("cn").as_deref(), Some("CN"));
        assert_eq!(to_iso2("United Arab Emirates").as_deref(), Some("AE"));
        assert_eq!(to_iso2("Switzerland").as_deref(), Some("CH"));
        assert_eq!(to_iso2("-0- "), None);
        assert_eq!(to_iso2("Atlantis"), None);
    }
}
