use serde::{Deserialize, Serialize};

/// Final selectivity lane of a declaration.
///
/// Targeting's own lanes stop at green; governance adds blue because analysts route some
/// declarations to post-clearance audit rather than to a check at the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Physical inspection.
    Red,
    /// Documentary check.
    Yellow,
    /// Post-clearance audit: released now, audited later.
    Blue,
    /// Release.
    Green,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Red, Lane::Yellow, Lane::Blue, Lane::Green];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Red => "red",
            Lane::Yellow => "yellow",
            Lane::Blue => "blue",
            Lane::Green => "green",
        }
    }

    /// Whether an officer checks the declaration before release (red or yellow), so that its
    /// inspection outcome is observed.
    pub fn is_inspection(self) -> bool {
        matches!(self, Lane::Red | Lane::Yellow)
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lane name that is not red, yellow, blue or green.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane {0:?} (expected red, yellow, blue or green)")]
pub struct UnknownLane(pub String);

impl std::str::FromStr for Lane {
    type Err = UnknownLane;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "red" => Ok(Lane::Red),
            "yellow" => Ok(Lane::Yellow),
            "blue" => Ok(Lane::Blue),
            "green" => Ok(Lane::Green),
            _ => Err(UnknownLane(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_parse_case_insensitively_and_round_trip() {
        for lane in Lane::ALL {
            assert_eq!(lane.as_str().to_uppercase().parse::<Lane>(), Ok(lane));
        }
        assert!("orange".parse::<Lane>().is_err());
        assert!(Lane::Red.is_inspection() && !Lane::Blue.is_inspection());
    }
}
