//! Who acts: an [`Actor`] with a stable id, a display name and roles, instead of a bare user
//! string.
//!
//! Identity comparison (the four-eyes rule) uses [`canonical_id`], which is not fooled by case,
//! surrounding or inner whitespace, Unicode compatibility forms (NFKC: full-width letters),
//! zero-width and other format characters, or look-alike characters (the Unicode TR39
//! confusable skeleton: Cyrillic `а` and Latin `a` give the same id).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// What an actor may do. Front ends that authenticate assign roles; the governance domain
/// records them with each action and compares ids for four-eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Officer,
    Analyst,
    Supervisor,
    Auditor,
    Admin,
    Trader,
}

/// Someone acting on the governance store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Stable id as written in audit records: NFKC, format characters removed, whitespace
    /// collapsed and trimmed.
    pub id: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    #[error("actor id is empty (or only spaces and invisible characters)")]
    Empty,
}

/// Zero-width and other format characters (general category Cf) that render as nothing and
/// so could make two identical-looking names differ.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
        || c.is_control()
}

/// The id as stored: NFKC, invisible characters removed, runs of whitespace as one space,
/// trimmed. Case and script are kept (this is what people read in the audit log).
pub fn normalise_id(raw: &str) -> String {
    let nfkc: String = raw.nfkc().filter(|c| !is_invisible(*c)).collect();
    nfkc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The identity two ids are compared by: [`normalise_id`], lower case, no whitespace at all,
/// then the TR39 confusable skeleton (lower-cased again, since skeleton prototypes can be
/// capitals).
pub fn canonical_id(raw: &str) -> String {
    let lower: String = normalise_id(raw)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let once: String = skeleton(&lower).collect::<String>().to_lowercase();
    // A second pass makes the result stable when lower-casing produced a new confusable.
    skeleton(&once).collect::<String>().to_lowercase()
}

/// True when two ids denote the same person by [`canonical_id`].
pub fn same_person(a: &str, b: &str) -> bool {
    canonical_id(a) == canonical_id(b)
}

impl Actor {
    /// An actor with `id` (normalised; refused when nothing visible is left) and no roles.
    pub fn new(id: &str) -> Result<Actor, ActorError> {
        let id = normalise_id(id);
        if id.is_empty() {
            return Err(ActorError::Empty);
        }
        Ok(Actor {
            display_name: id.clone(),
            id,
            roles: Vec::new(),
        })
    }

    pub fn with_roles(mut self, roles: &[Role]) -> Actor {
        self.roles = roles.to_vec();
        self
    }

    pub fn with_display_name(mut self, name: &str) -> Actor {
        self.display_name = name.to_string();
        self
    }

    /// The comparison identity ([`canonical_id`] of the id).
    pub fn canonical_id(&self) -> String {
        canonical_id(&self.id)
    }

    /// True when `other` (an id as stored, e.g. a trainer) is this actor.
    pub fn is(&self, other: &str) -> bool {
        same_person(&self.id, other)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_person_compare_equal() {
        for same in [
            "ana",
            "ANA",
            " ana ",
            "a na",
            "an\u{200B}a",        // zero-width space
            "\u{FEFF}ana",        // byte-order mark
            "\u{FF41}na",         // full-width a
            "\u{0430}na",         // Cyrillic a
            "an\u{0430}\u{2060}", // Cyrillic a and a word joiner
        ] {
            assert!(same_person("ana", same), "{same:?}");
        }
        for other in ["ben", "anna", "ana2", "an"] {
            assert!(!same_person("ana", other), "{other:?}");
        }
    }

    #[test]
    fn ids_keep_what_people_read_but_lose_invisible_characters() {
        let a = Actor::new("  Ana\u{200B}  Kim ").expect("actor");
        assert_eq!(a.id, "Ana Kim");
        assert!(a.is("ana kim"));
        assert_eq!(Actor::new(" \u{200B} "), Err(ActorError::Empty));
        assert_eq!(normalise_id("\u{FF21}na"), "Ana");
    }
}
