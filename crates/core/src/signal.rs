use crate::Declaration;
use serde::{Deserialize, Serialize};

/// A model feature a signal produces: a stable machine name and a definition an analyst can read
/// (both are written into the model artefact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDef {
    pub name: String,
    pub definition: String,
}

impl FeatureDef {
    /// Feature definitions from a module's `(name, definition)` table.
    pub fn table(rows: &[(&str, &str)]) -> Vec<FeatureDef> {
        rows.iter()
            .map(|(n, d)| FeatureDef {
                name: n.to_string(),
                definition: d.to_string(),
            })
            .collect()
    }
}

/// Which module a reason came from, so officers and the audit log can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// A model feature that raised the risk score (with its SHAP contribution).
    Model,
    Valuation,
    Classification,
    Screening,
    Rule,
    /// The declaration itself is malformed or implausible (zero mass, unknown code, ...).
    DataQuality,
}

/// One officer-readable explanation attached to a scored declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// Stable identifier (feature name, rule id, list entry id).
    pub code: String,
    /// Plain-language sentence, e.g. "importer's past fraud rate 62% (all importers 22%)".
    pub text: String,
    /// Contribution to the model's log-odds, when the reason comes from the model.
    pub contribution: Option<f64>,
}

/// The one interface through which an analytic module contributes to targeting.
///
/// A signal is fitted elsewhere (on history before the scoring period) and is then a pure
/// function of a declaration: the same declaration always yields the same features and
/// reasons. `features` must write exactly `feature_defs().len()` values, `f32::NAN` for
/// "not available" (the tree model routes missing values explicitly).
pub trait Signal: Send + Sync {
    /// Short module name, used as a prefix of feature names ("valuation", "hs", ...).
    fn name(&self) -> &str;
    fn feature_defs(&self) -> Vec<FeatureDef>;
    fn features(&self, declaration: &Declaration, out: &mut [f32]);
    /// Reasons this module gives on its own, independent of the model (flags, list hits).
    fn reasons(&self, declaration: &Declaration) -> Vec<Reason>;

    /// Phrases the value of this signal's feature `feature` (an index into `feature_defs()`)
    /// for an officer, in customs words with currency and unit. `None` lets the caller fall
    /// back to "<feature name> <value>". Nothing outside a module names its features.
    fn describe(&self, feature: usize, value: f32, declaration: &Declaration) -> Option<String> {
        let _ = (feature, value, declaration);
        None
    }

    /// The fields this signal offers to analysts' rules (`when <field> < 5 then ...`).
    fn rule_fields(&self) -> Vec<RuleFieldDef> {
        Vec::new()
    }

    /// Values of [`Signal::rule_fields`] for a declaration (absent when not available).
    fn rule_values(&self, declaration: &Declaration, out: &mut Vec<(&'static str, f64)>) {
        let _ = (declaration, out);
    }
}

/// A numeric field a signal offers to analysts' rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleFieldDef {
    pub name: &'static str,
    pub definition: &'static str,
}
