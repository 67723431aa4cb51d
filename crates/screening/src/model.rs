//! The list model every loader produces: one [`Entry`] per listed party with its aliases,
//! addresses, programmes and remarks, grouped in a [`WatchList`] with its [`ListMeta`].

use serde::{Deserialize, Serialize};

/// What kind of party a name denotes. Scoring differs per schema (word order and initials for
/// people, legal forms for companies, hull numbers for vessels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    Company,
    Person,
    Vessel,
    Aircraft,
    #[default]
    Unknown,
}

impl Schema {
    /// Parses list and CLI spellings ("entity", "individual", "-0-" ...). Unknown text is
    /// [`Schema::Unknown`], never an error: lists invent new type words.
    pub fn parse(s: &str) -> Schema {
        match s.trim().to_ascii_lowercase().as_str() {
            // OFAC writes "-0-" (null) in the type column for entities.
            "company" | "entity" | "organization" | "organisation" | "-0-" => Schema::Company,
            "person" | "individual" => Schema::Person,
            "vessel" => Schema::Vessel,
            "aircraft" => Schema::Aircraft,
            _ => Schema::Unknown,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Schema::Company => "company",
            Schema::Person => "person",
            Schema::Vessel => "vessel",
            Schema::Aircraft => "aircraft",
            Schema::Unknown => "unknown",
        }
    }
    /// Whether a query of schema `self` may be compared with an entry of schema `other`.
    /// Unknown is compatible with everything; companies and vessels are compatible (ship
    /// owners are often named like their ships).
    pub fn compatible(self, other: Schema) -> bool {
        use Schema::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) => true,
            (a, b) if a == b => true,
            (Company, Vessel) | (Vessel, Company) => true,
            (Company, Aircraft) | (Aircraft, Company) => true,
            _ => false,
        }
    }
}

impl std::str::FromStr for Schema {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Schema::parse(s) {
            Schema::Unknown if !s.eq_ignore_ascii_case("unknown") => Err(format!(
                "unknown schema {s:?} (company, person, vessel, aircraft)"
            )),
            x => Ok(x),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Free text as the list gives it (street, city, postal code).
    pub text: String,
    /// ISO 3166-1 alpha-2 when the country could be recognised.
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Key of the list this entry belongs to ("ofac_sdn", "un", ...).
    pub list: String,
    /// The list's own identifier (OFAC ent_num, UN reference number, row number).
    pub id: String,
    pub schema: Schema,
    pub name: String,
    pub aliases: Vec<String>,
    pub programs: Vec<String>,
    pub addresses: Vec<Address>,
    /// ISO alpha-2 countries linked to the entry (addresses, nationality, flag).
    pub countries: Vec<String>,
    pub remarks: String,
    /// Names from "Linked To:" remarks (OFAC): owner/affiliate relations.
    pub linked_to: Vec<String>,
    /// Years of birth of a listed person as inclusive ranges (an exact year is `(y, y)`,
    /// "between 1967 and 1969" or "circa 1960" a wider range); empty when the list gives none.
    /// Evidence against homonyms: see `Matcher::apply_evidence`.
    #[serde(default)]
    pub birth_years: Vec<(u16, u16)>,
}

impl Entry {
    pub fn new(list: &str, id: impl Into<String>, schema: Schema, name: impl Into<String>) -> Self {
        Entry {
            list: list.to_string(),
            id: id.into(),
            schema,
            name: name.into(),
            aliases: Vec::new(),
            programs: Vec::new(),
            addresses: Vec::new(),
            countries: Vec::new(),
            remarks: String::new(),
            linked_to: Vec::new(),
            birth_years: Vec::new(),
        }
    }
    /// Primary name then aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
    /// Stable key "list:id".
    pub fn key(&self) -> String {
        format!("{}:{}", self.list, self.id)
    }
    /// Adds a birth-year range once.
    pub fn add_birth_years(&mut self, lo: u16, hi: u16) {
        let r = (lo.min(hi), lo.max(hi));
        if !self.birth_years.contains(&r) {
            self.birth_years.push(r);
        }
    }
    pub fn add_country(&mut self, cc: Option<String>) {
        if let Some(cc) = cc {
            if !self.countries.contains(&cc) {
                self.countries.push(cc);
            }
        }
    }
}

/// A problem with one line of a list file; the line is skipped, loading goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadIssue {
    pub file: String,
    /// 1-based line number in the file.
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMeta {
    /// Short key used in hits and on the command line ("ofac_sdn").
    pub key: String,
    pub title: String,
    /// Publication date of the list (ISO date, or month when only that is known).
    pub date: String,
    /// Where it was loaded from (bundled path or user file).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchList {
    pub meta: ListMeta,
    pub entries: Vec<Entry>,
    pub issues: Vec<LoadIssue>,
}

impl WatchList {
    pub fn name_count(&self) -> usize {
        self.entries.iter().map(|e| 1 + e.aliases.len()).sum()
    }
}

/// The first plausible year of birth (1900-2099) in free text such as "1965", "1960-06-29",
/// "29/06/1960" or "DOB 10 Dec 1948". `None` when there is none.
pub fn birth_year(text: &str) -> Option<u16> {
    years_in(text).next()
}

/// Every plausible four-digit year (1900-2099) standing alone in `text`, in order.
fn years_in(text: &str) -> impl Iterator<Item = u16> + '_ {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(3)).filter_map(move |i| {
        let w = &b[i..i + 4];
        let alone = (i == 0 || !b[i - 1].is_ascii_digit())
            && b.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        if !alone || !w.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let y = w.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        (1900..=2099).contains(&y).then_some(y)
    })
}

/// Birth-year ranges in OFAC remarks: each "DOB ..." clause up to the next ";" ("DOB 10 Dec
/// 1948", "DOB 1960 to 1962", "DOB circa 1965", "alt. DOB 1970"). "circa" widens the year by
/// two on each side, since the list itself says it is approximate.
pub fn birth_years_in_remarks(remarks: &str) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for (p, _) in remarks.match_indices("DOB ") {
        let clause = &remarks[p + 4..];
        let clause = &clause[..clause.find(';').unwrap_or(clause.len())];
        let ys: Vec<u16> = years_in(clause).collect();
        let circa = clause.to_ascii_lowercase().contains("circa");
        let r = match (ys.first(), ys.get(1)) {
            (Some(&a), Some(&b)) if clause.contains(" to ") => Some((a.min(b), a.max(b))),
            (Some(&a), _) if circa => Some((a.saturating_sub(2), a + 2)),
            (Some(&a), _) => Some((a, a)),
            _ => None,
        };
        if let Some(r) = r.filter(|r| !out.contains(r)) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_years_from_text_and_remarks() {
        assert_eq!(birth_year("1960-06-29"), Some(1960));
        assert_eq!(birth_year("29/06/1960"), Some(1960));
        assert_eq!(birth_year("12345 or 1850"), None);
        assert_eq!(birth_year(""), None);
        let r =
            "DOB 10 Dec 1948; POB Egypt; alt. DOB 1950 to 1952; DOB circa 1960; Passport 19820215";
        assert_eq!(
            birth_years_in_remarks(r),
            vec![(1948, 1948), (1950, 1952), (1958, 1962)]
        );
        assert!(birth_years_in_remarks("Passport 1984010; nationality Iran").is_empty());
    }
}
