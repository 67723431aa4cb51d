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
