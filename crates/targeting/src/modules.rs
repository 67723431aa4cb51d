//! Analytic modules composed into the risk model: each is a [`Signal`] (valuation benchmarks, HS
//! divergence) fitted on history before the scored period, stored in the model artefact, and
//! contributing features after the history features and reasons of its own.
//!
//! Leakage rule, as for the history tables: a training row's module features come from a signal
//! fitted on the other folds (out-of-fold, same folds as the history tables); the validation
//! rows' from a signal fitted on the training period; the shipped signals are fitted on all
//! training rows (train + valid after the refit) and see nothing of the scored period.

use crate::features::fold_of;
use borderline_core::{Declaration, FeatureDef, Reason, Signal};
use borderline_hs::{DivergenceConfig, HsDivergence};
use borderline_valuation::ValuationSignal;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// Which modules feed the model (the CLI's `--no-valuation` / `--hs-divergence` switch them
/// to measure what each adds). HS divergence is off by default: on the validation period it
/// lowered AUC and P@5% next to the valuation features (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulesConfig {
    pub valuation: bool,
    pub hs_divergence: bool,
}

impl Default for ModulesConfig {
    fn default() -> Self {
        ModulesConfig {
            valuation: true,
            hs_divergence: false,
        }
    }
}

/// One fitted module, as stored in the artefact: a JSON object whose `module` entry names the
/// module and whose other entries are the module's own.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "module", rename_all = "snake_case")]
pub enum ModuleSignal {
    Valuation(ValuationSignal),
    HsDivergence(HsDivergence),
}

/// Read as it streams in when `module` is the object's first entry (as `Serialize` writes it):
/// the derived reading of an internally tagged enum first buffers the whole object in a generic
/// tree, which for the valuation benchmarks was most of the peak memory of loading a model
/// (about 50 MB of 94). An object with `module` elsewhere is read through a `serde_json::Value`.
impl<'de> Deserialize<'de> for ModuleSignal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ModuleSignalVisitor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ModuleName {
    Valuation,
    HsDivergence,
}

struct ModuleSignalVisitor;

impl<'de> serde::de::Visitor<'de> for ModuleSignalVisitor {
    type Value = ModuleSignal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a module object with a \"module\" entry")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ModuleSignal, A::Error> {
        use serde::de::{value::MapAccessDeserializer, Error};
        let Some(first) = map.next_key::<String>()? else {
            return Err(A::Error::missing_field("module"));
        };
        if first == "module" {
            let name: ModuleName = map.next_value()?;
            let rest = MapAccessDeserializer::new(map);
            return match name {
                ModuleName::Valuation => {
                    ValuationSignal::deserialize(rest).map(ModuleSignal::Valuation)
                }
                ModuleName::HsDivergence => {
                    HsDivergence::deserialize(rest).map(ModuleSignal::HsDivergence)
                }
            };
        }
        let mut object = serde_json::Map::new();
        object.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            object.insert(key, value);
        }
        let name = object
            .remove("module")
            .ok_or_else(|| A::Error::missing_field("module"))?;
        let rest = serde_json::Value::Object(object);
        match ModuleName::deserialize(name).map_err(A::Error::custom)? {
            ModuleName::Valuation => {
                ValuationSignal::deserialize(rest).map(ModuleSignal::Valuation)
            }
            ModuleName::HsDivergence => {
                HsDivergence::deserialize(rest).map(ModuleSignal::HsDivergence)
            }
        }
        .map_err(A::Error::custom)
    }
}

impl ModuleSignal {
    pub fn signal(&self) -> &dyn Signal {
        match self {
            ModuleSignal::Valuation(s) => s,
            ModuleSignal::HsDivergence(s) => s,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("valuation benchmarks: {0}")]
    Valuation(#[from] borderline_valuation::ValuationError),
}

/// The fitted modules of one model, in feature order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Modules {
    pub signals: Vec<ModuleSignal>,
    /// Features per signal, cached because `Signal::feature_defs` allocates.
    widths: Vec<usize>,
}

/// Equal when they serialise to the same JSON (the HS signal holds hash maps and a reference
/// to the bundled nomenclature, so it has no derived equality).
impl PartialEq for Modules {
    fn eq(&self, other: &Self) -> bool {
        self.widths == other.widths
            && match (serde_json::to_value(self), serde_json::to_value(other)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            }
    }
}

/// The day after the last declaration of `history`: benchmarks are "as of" then.
fn as_of(history: &[Declaration]) -> NaiveDate {
    history
        .iter()
        .map(|d| d.date)
        .max()
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .unwrap_or(NaiveDate::MIN)
}

impl Modules {
    /// Fits the configured modules on `history` (rows before the period they will score).
    pub fn fit(history: &[Declaration], cfg: ModulesConfig) -> Result<Modules, ModuleError> {
        Self::fit_as_of(history, cfg, as_of(history))
    }

    /// Fits with benchmarks "as of" `date` (the valuation window ends there).
    /// Takes any iteration over borrowed declarations, so that out-of-fold fits need not copy
    /// the rows of the other folds.
    pub fn fit_as_of<'a, I>(
        history: I,
        cfg: ModulesConfig,
        date: NaiveDate,
    ) -> Result<Modules, ModuleError>
    where
        I: IntoIterator<Item = &'a Declaration> + Clone,
    {
        let mut signals = Vec::new();
        if cfg.valuation {
            let v = ValuationSignal::fit(
                borderline_valuation::Config::default(),
                history.clone(),
                date,
            )?;
            signals.push(ModuleSignal::Valuation(v));
        }
        if cfg.hs_divergence {
            // `HsDivergence::fit` is `new` + `add` in order; done here over the borrowed rows.
            let mut hs = HsDivergence::new(DivergenceConfig::default());
            for d in history {
                hs.add(d);
            }
            signals.push(ModuleSignal::HsDivergence(hs));
        }
        let widths = signals
            .iter()
            .map(|s| s.signal().feature_defs().len())
            .collect();
        Ok(Modules { signals, widths })
    }

    /// Checks the cached widths against the signals (after loading an artefact).
    pub fn is_consistent(&self) -> bool {
        self.widths.len() == self.signals.len()
            && self
                .signals
                .iter()
                .zip(&self.widths)
                .all(|(s, w)| s.signal().feature_defs().len() == *w)
    }

    /// Fits on `history` and returns, for every row of `history`, the module features computed
    /// by a fit on the other folds (out-of-fold), plus the modules fitted on all of it.
    pub fn fit_out_of_fold(
        history: &[Declaration],
        cfg: ModulesConfig,
        folds: u32,
        seed: u64,
    ) -> Result<(Modules, Vec<Vec<f32>>), ModuleError> {
        let full = Modules::fit(history, cfg)?;
        let nf = full.num_features();
        let mut out = vec![vec![f32::NAN; nf]; history.len()];
        if nf == 0 {
            return Ok((full, out));
        }
        let folds = folds.max(2);
        let fold: Vec<usize> = history.iter().map(|d| fold_of(d, folds, seed)).collect();
        // Same as-of date for every fold, so that a fold's benchmark window matches the full fit.
        let date = as_of(history);
        for f in 0..folds as usize {
            let rest = history
                .iter()
                .zip(&fold)
                .filter(move |(_, &fi)| fi != f)
                .map(|(d, _)| d);
            let m = Modules::fit_as_of(rest, cfg, date)?;
            for (i, d) in history.iter().enumerate() {
                if fold[i] == f {
                    m.features(d, &mut out[i]);
                }
            }
        }
        Ok((full, out))
    }

    pub fn num_features(&self) -> usize {
        self.widths.iter().sum()
    }

    pub fn feature_defs(&self) -> Vec<FeatureDef> {
        self.signals
            .iter()
            .flat_map(|s| s.signal().feature_defs())
            .collect()
    }

    /// Writes every module's features into `out` (length [`Modules::num_features`]).
    pub fn features(&self, d: &Declaration, out: &mut [f32]) {
        let mut at = 0;
        for (s, &n) in self.signals.iter().zip(&self.widths) {
            s.signal().features(d, &mut out[at..at + n]);
            at += n;
        }
        // An infinite feature (e.g. a z-score against a zero spread) would become an infinite
        // split threshold, which JSON cannot hold: saturate to the largest finite value.
        for v in out.iter_mut() {
            if v.is_infinite() {
                *v = f32::MAX.copysign(*v);
            }
        }
    }

    /// The modules' own reasons (flags independent of the model).
    pub fn reasons(&self, d: &Declaration) -> Vec<Reason> {
        self.signals
            .iter()
            .flat_map(|s| s.signal().reasons(d))
            .collect()
    }

    /// The owning module's words for module feature `i` (counted from the first module feature).
    pub fn describe(&self, mut i: usize, value: f32, d: &Declaration) -> Option<String> {
        for (s, &n) in self.signals.iter().zip(&self.widths) {
            if i < n {
                return s.signal().describe(i, value, d);
            }
            i -= n;
        }
        None
    }

    /// Rule fields (name, value) the modules fill for `d`.
    pub fn rule_values(&self, d: &Declaration, out: &mut Vec<(&'static str, f64)>) {
        for s in &self.signals {
            s.signal().rule_values(d, out);
        }
    }

    /// Index of the module owning feature `i` (counted from the first module feature).
    pub fn owner(&self, mut i: usize) -> Option<&ModuleSignal> {
        for (s, &n) in self.signals.iter().zip(&self.widths) {
            if i < n {
                return Some(s);
            }
            i -= n;
        }
        None
    }
}
