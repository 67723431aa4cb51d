//! The model artefact: one self-describing, versioned file holding everything `score` needs
//! (feature definitions, fitted history tables, trees, calibration) and everything an auditor
//! asks (training-data fingerprint, parameters, validation metrics, creation time).

use crate::features::HistoryTables;
use crate::features::{Dim, FeatureSpec};
use crate::metrics::EvaluationReport;
use crate::modules::Modules;
use crate::modules::ModulesConfig;
use crate::trees::Ensemble;
use borderline_core::FeatureDef;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;

pub const FORMAT: &str = "borderline-risk-model";
pub const FORMAT_VERSION: u32 = 2;

/// Platt scaling of the raw score: `p = 1 / (1 + exp(-(a * raw + b)))`, fitted on the
/// validation period so that scores read as probabilities of fraud.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub a: f64,
    pub b: f64,
}

impl Calibration {
    pub fn identity() -> Self {
        Calibration { a: 1.0, b: 0.0 }
    }
    pub fn probability(&self, raw: f64) -> f64 {
        1.0 / (1.0 + (-(self.a * raw + self.b)).exp())
    }

    /// Fits (a, b) by Newton's method on log-loss, with Platt's label smoothing. Each step is
    /// halved until the loss falls (a full Newton step from (1, 0) overshoots when raw scores
    /// are large, as for ensembles of thousands of trees, and diverged to a decreasing map).
    pub fn fit(raw: &[f64], labels: &[bool]) -> Self {
        let pos = labels.iter().filter(|l| **l).count() as f64;
        let neg = labels.len() as f64 - pos;
        if pos == 0.0 || neg == 0.0 {
            return Self::identity();
        }
        let hi = (pos + 1.0) / (pos + 2.0);
        let lo = 1.0 / (neg + 2.0);
        let t: Vec<f64> = labels.iter().map(|l| if *l { hi } else { lo }).collect();
        // Log-loss against the smoothed targets, stable for large |z|.
        let loss = |a: f64, b: f64| -> f64 {
            raw.iter()
                .zip(&t)
                .map(|(x, y)| {
                    let z = a * x + b;
                    // log(1 + e^z) - y z
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
                })
                .sum()
        };
        let (mut a, mut b) = (1.0, 0.0);
        let mut current = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for (x, y) in raw.iter().zip(&t) {
                let p = 1.0 / (1.0 + (-(a * x + b)).exp());
                let w = p * (1.0 - p);
                ga += (p - y) * x;
                gb += p - y;
                haa += w * x * x;
                hab += w * x;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            let mut step = 1.0;
            let mut moved = false;
            for _ in 0..40 {
                let (na, nb) = (a - step * da, b - step * db);
                let l = loss(na, nb);
                if l.is_finite() && l <= current {
                    (a, b, current) = (na, nb, l);
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved || (step * (da.abs() + db.abs())) < 1e-10 {
                break;
            }
        }
        Calibration { a, b }
    }
}

/// Training parameters, stored in the artefact so a model says how it was made. The training
/// crate (`borderline-training`) reads them; they live here so that loading an artefact needs no
/// LightGBM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureSpec,
    /// Analytic modules whose features join the history features.
    #[serde(default)]
    pub modules: ModulesConfig,
    pub learning_rate: f64,
    /// Leaves per tree: 127 since issue 17's sweep of C14's parameters (63 before), where the
    /// larger trees raised the validation period's mean of P@5% and P@10% from 0.971 to 0.976
    /// and its AUC from 0.9263 to 0.9310 with fewer trees, by a rule declared before the fits
    /// (candidate C17 in BENCHMARKS.md). They cost about twice the splits.
    pub num_leaves: u32,
    pub max_depth: i32,
    pub min_data_in_leaf: u32,
    pub feature_fraction: f64,
    pub bagging_fraction: f64,
    pub bagging_freq: u32,
    pub lambda_l2: f64,
    pub max_rounds: u32,
    pub early_stopping_rounds: u32,
    /// The LightGBM validation metric early stopping watches (`auc` in artefacts before
    /// issue 17's third step; `average_precision` since, chosen on the validation period:
    /// BENCHMARKS.md).
    #[serde(default = "auc")]
    pub early_stopping_metric: String,
    /// Refit on train + valid after early stopping.
    pub refit: bool,
    /// Trees in the refit = best iteration x this (more data supports more trees).
    pub refit_scale: f64,
    /// LightGBM seed of the first (or only) fit; bag member `k` uses `seed + k`.
    pub seed: u64,
    /// Threads LightGBM trains with (OpenMP). Training is deterministic for a seed at a given
    /// thread count (`deterministic`, `force_row_wise`).
    pub threads: u32,
    /// Seed-bagged fits merged into the shipped ensemble (issue 17): `bag` fits that differ
    /// only in their seed, whose trees are concatenated with every leaf value divided by `bag`,
    /// so the raw score is the mean of the members' raw scores and exact TreeSHAP stays exact
    /// and additive. 1 (artefacts before issue 17) is a single fit.
    #[serde(default = "one")]
    pub bag: u32,
    /// Features left out of learning (by name, as in the artefact's `features`): computed and
    /// stored like the others, but LightGBM sees them as missing on every row, so no tree
    /// splits on them and they never carry a contribution. Empty in artefacts before it; the
    /// default is [`default_excluded_features`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// Calendar features the default leaves out of learning: they carry no fraud mechanism that
/// should hold on another administration's data, and leaving them out lost nothing on the
/// validation period (candidate C10 in BENCHMARKS.md, chosen by a rule declared before the fit).
pub const CALENDAR_FEATURES: [&str; 2] = ["day_of_week", "day_of_month"];

/// Dimensions whose history keys (single, and every cross containing one) the default does not
/// learn from: the intermediaries' identifiers (office, declarant, seller, courier) and the
/// process codes. Without them the validation period's AUC rose from 0.9098 to 0.9263 and the
/// mean of P@5% and P@10% from 0.953 to 0.971, with 0.65x the splits (candidate C14 in
/// BENCHMARKS.md, chosen by a rule declared before the fit). The importer, the goods, the
/// price and the countries stay. Still computed and stored, so an administration whose
/// brokers' or offices' histories do carry risk trains with them back
/// (`borderline train --include-feature declarant`).
pub const DEFAULT_UNLEARNED_DIMENSIONS: [Dim; 11] = [
    Dim::Office,
    Dim::Declarant,
    Dim::Seller,
    Dim::Courier,
    Dim::ProcessType,
    Dim::ImportType,
    Dim::ImportUse,
    Dim::PaymentType,
    Dim::TransportMode,
    Dim::TaxType,
    Dim::OriginIndicator,
];

/// The features the default leaves out of learning for the keys of `spec`: the calendar and
/// every feature of a key containing one of [`DEFAULT_UNLEARNED_DIMENSIONS`].
pub fn default_excluded_features(spec: &FeatureSpec) -> Vec<String> {
    let mut names: Vec<String> = CALENDAR_FEATURES.map(String::from).to_vec();
    for key in &spec.keys {
        if key
            .dims
            .iter()
            .any(|d| DEFAULT_UNLEARNED_DIMENSIONS.contains(d))
        {
            names.extend(key.feature_names());
        }
    }
    names
}

impl TrainConfig {
    /// Learns again from what this configuration leaves out: one feature by name, or every
    /// feature of the keys that contain a dimension (`declarant`, `office`, ...). Naming
    /// something not left out is an error that lists what is.
    pub fn include(&mut self, name: &str) -> Result<(), String> {
        let of_dimension: Vec<String> = self
            .features
            .keys
            .iter()
            .filter(|k| k.dims.iter().any(|d| d.name() == name))
            .flat_map(|k| k.feature_names())
            .collect();
        let before = self.exclude.len();
        self.exclude
            .retain(|e| e != name && !of_dimension.contains(e));
        if self.exclude.len() == before {
            let mut left_out: Vec<&str> = CALENDAR_FEATURES.to_vec();
            left_out.extend(
                DEFAULT_UNLEARNED_DIMENSIONS
                    .iter()
                    .map(|d| d.name())
                    .filter(|d| self.exclude.iter().any(|e| e.starts_with(d))),
            );
            return Err(format!(
                "{name} is not left out of learning (left out: {})",
                left_out.join(", ")
            ));
        }
        Ok(())
    }
}

fn one() -> u32 {
    1
}

fn auc() -> String {
    "auc".to_string()
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureSpec::default(),
            modules: ModulesConfig::default(),
            learning_rate: 0.05,
            num_leaves: 127,
            max_depth: -1,
            min_data_in_leaf: 20,
            feature_fraction: 0.7,
            bagging_fraction: 0.8,
            bagging_freq: 1,
            lambda_l2: 0.0,
            max_rounds: 3000,
            early_stopping_rounds: 100,
            early_stopping_metric: "average_precision".to_string(),
            refit: true,
            refit_scale: 1.15,
            seed: 1,
            threads: 2,
            bag: 1,
            exclude: default_excluded_features(&FeatureSpec::default()),
        }
    }
}

/// Where the model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// SHA-256 over the training and validation rows used (id, date, outcome), in order.
    pub data_fingerprint: String,
    pub train_rows: usize,
    pub valid_rows: usize,
    pub train_period: (String, String),
    pub valid_period: (String, String),
    pub config: TrainConfig,
    /// Trees chosen by early stopping on the validation period.
    pub best_iteration: usize,
    /// Trees in the shipped model (refitted on train + valid when `config.refit`).
    pub final_iterations: usize,
    pub library: String,
    /// The fits of a seed-bagged ensemble (`config.bag` of them, in tree order); empty in
    /// artefacts before issue 17, which hold one fit with `config.seed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<BagMember>,
    /// Validation-period metrics of the early-stopped bag of the first `k` members, for
    /// `k = 1 ..= config.bag`: what the bag size is chosen by (the last equals `validation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_by_bag_size: Vec<EvaluationReport>,
}

/// One LightGBM fit of a seed-bagged ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BagMember {
    pub seed: u64,
    /// Trees early stopping chose for this member on the validation period.
    pub best_iteration: usize,
    /// Trees of this member in the shipped ensemble (after the refit).
    pub final_iterations: usize,
}

/// Score thresholds that put a given share of a period's declarations above them, for lane
/// assignment when scoring a stream (a batch is ranked exactly instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreQuantiles {
    /// `(share in percent, probability threshold)`, share ascending.
    pub thresholds: Vec<(f64, f64)>,
}

impl ScoreQuantiles {
    pub fn from_scores(probabilities: &[f64]) -> Self {
        let mut sorted = probabilities.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let shares = [
            0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0,
        ];
        let thresholds = shares
            .iter()
            .filter(|_| !sorted.is_empty())
            .map(|&s| {
                let k = crate::metrics::capacity_count(sorted.len(), s);
                (s, sorted[k.saturating_sub(1)])
            })
            .collect();
        ScoreQuantiles { thresholds }
    }

    /// Probability above which about `percent` % of declarations fall (interpolated).
    pub fn threshold_for(&self, percent: f64) -> f64 {
        let t = &self.thresholds;
        if t.is_empty() {
            return 1.0;
        }
        if percent <= t[0].0 {
            return t[0].1;
        }
        for w in t.windows(2) {
            let ((s0, p0), (s1, p1)) = (w[0], w[1]);
            if percent <= s1 {
                let f = (percent - s0) / (s1 - s0);
                return p0 + f * (p1 - p0);
            }
        }
        t[t.len() - 1].1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtefact {
    pub format: String,
    pub format_version: u32,
    /// Content hash of the model (trees, tables, calibration): identical for identical training.
    pub model_id: String,
    pub created_at: String,
    pub borderline_version: String,
    pub features: Vec<FeatureDef>,
    pub history: HistoryTables,
    /// Fitted analytic modules (valuation, HS divergence) whose features follow the history
    /// features. Absent in format version 1 artefacts.
    #[serde(default)]
    pub modules: Modules,
    pub ensemble: Ensemble,
    pub calibration: Calibration,
    /// Score thresholds by share, from the early-stopped model's out-of-sample scores on the
    /// validation period (artefacts trained before issue 14 took them from the refitted model,
    /// in sample). Lanes in every scoring path come from these.
    pub lane_quantiles: ScoreQuantiles,
    pub training: TrainingInfo,
    /// Metrics of the early-stopped model on the validation period.
    pub validation: EvaluationReport,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("model {path} is not a Borderline model artefact: {message}")]
    Format { path: String, message: String },
    #[error("model {path} has format version {found}; this build reads version {expected}")]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
}

impl ModelArtefact {
    /// Writes the artefact as gzip-compressed JSON to `out`.
    pub fn write_to(&self, out: impl Write) -> std::io::Result<()> {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        serde_json::to_writer(&mut gz, self)?;
        gz.finish()?.flush()
    }

    /// The artefact as gzip-compressed JSON bytes (what a store keeps by content hash).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to memory cannot fail but for allocation.
        let _ = self.write_to(&mut out);
        out
    }

    /// Writes the artefact as gzip-compressed JSON.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.display().to_string(),
            source,
        };
        // A reader never sees a half-written model, and a failed save leaves no partial file.
        let mut file = borderline_atomic_file::AtomicFile::create(path).map_err(io)?;
        self.write_to(&mut file).map_err(io)?;
        file.commit().map_err(io)
    }

    /// Reads an artefact written by [`ModelArtefact::save`], deserialising straight into the
    /// typed model as the decompressed JSON streams in: no copy of the text and no generic
    /// JSON tree is held, so memory scales with the model itself. A file that does not parse
    /// is read a second time for its `format` and `format_version` only, so the error names
    /// a wrong file or version before a field-level parse error.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let shown = path.display().to_string();
        let open = || {
            std::fs::File::open(path)
                .map(std::io::BufReader::new)
                .map_err(|source| ModelError::Io {
                    path: shown.clone(),
                    source,
                })
        };
        Self::read_with(open, &shown)
    }

    /// Reads an artefact from gzip-compressed JSON bytes (e.g. a blob held by a store);
    /// `source` names them in errors.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, ModelError> {
        Self::read_with(|| Ok(bytes), source)
    }

    /// Reads an artefact from any reader of gzip-compressed JSON; `source` names it in errors.
    /// The compressed bytes are buffered (a few MB), the JSON is streamed.
    pub fn from_reader(mut reader: impl Read, source: &str) -> Result<Self, ModelError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source_err| ModelError::Io {
                path: source.to_string(),
                source: source_err,
            })?;
        Self::from_bytes(&bytes, source)
    }

    /// Deserialises from a stream `open` yields (called a second time only to explain a
    /// failure), then checks the artefact's consistency.
    fn read_with<R: Read>(
        open: impl Fn() -> Result<R, ModelError>,
        shown: &str,
    ) -> Result<Self, ModelError> {
        let model: ModelArtefact = match serde_json::from_reader(json_stream(open()?)) {
            Ok(m) => m,
            Err(e) => {
                check_header(shown, read_header(json_stream(open()?)))?;
                return Err(ModelError::Format {
                    path: shown.to_string(),
                    message: if e.is_io() {
                        format!("not gzip-compressed JSON ({e})")
                    } else {
                        e.to_string()
                    },
                });
            }
        };
        check_header(
            shown,
            Ok(Header {
                format: Some(model.format.clone()),
                format_version: Some(u64::from(model.format_version)),
            }),
        )?;
        let expected = model.history.spec.num_features() + model.modules.num_features();
        if model.ensemble.num_features != model.features.len() {
            return Err(ModelError::Format {
                path: shown.to_string(),
                message: format!(
                    "the trees read {} features but {} are listed",
                    model.ensemble.num_features,
                    model.features.len()
                ),
            });
        }
        if !model.modules.is_consistent() || model.features.len() != expected {
            return Err(ModelError::Format {
                path: shown.to_string(),
                message: format!(
                    "{} features listed but history tables and modules make {expected}",
                    model.features.len()
                ),
            });
        }
        Ok(model)
    }
}

/// The decompressed artefact as a buffered stream.
fn json_stream(compressed: impl Read) -> impl Read {
    std::io::BufReader::with_capacity(1 << 16, flate2::read::GzDecoder::new(compressed))
}

/// The two fields that say what a file is; every other field is skipped unparsed.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<u64>,
}

fn read_header(reader: impl Read) -> Result<Header, String> {
    serde_json::from_reader(reader).map_err(|e| {
        if e.is_io() {
            format!("not gzip-compressed JSON ({e})")
        } else {
            e.to_string()
        }
    })
}

fn check_header(shown: &str, header: Result<Header, String>) -> Result<(), ModelError> {
    let shown = shown.to_string();
    let header = header.map_err(|message| ModelError::Format {
        path: shown.clone(),
        message,
    })?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(ModelError::Format {
            path: shown,
            message: format!("field \"format\" is not {FORMAT:?}"),
        });
    }
    let found = header.format_version.unwrap_or(0);
    // Version 1 differs only by having no modules (read as none).
    if !(1..=u64::from(FORMAT_VERSION)).contains(&found) {
        return Err(ModelError::Version {
            path: shown,
            found: u32::try_from(found).unwrap_or(u32::MAX),
            expected: FORMAT_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod calibration_tests {
    use super::Calibration;

    /// Issue 17: raw scores of a large ensemble span tens of logits; the fit must still give
    /// an increasing map whose probabilities match the observed rates (a full Newton step from
    /// (1, 0) diverged to a decreasing one: Brier 0.89 on the test period).
    #[test]
    fn platt_scaling_stays_increasing_and_calibrated_for_large_raw_scores() {
        // Raw score r in [-30, 30]; true probability of fraud sigmoid(r / 10).
        let mut raw = Vec::new();
        let mut labels = Vec::new();
        for i in 0..6000 {
            let r = -30.0 + 60.0 * (i as f64) / 6000.0;
            let p = 1.0 / (1.0 + (-r / 10.0).exp());
            // Deterministic labels with that rate: the k-th of every 100 at the same score.
            raw.push(r);
            labels.push(((i * 37) % 100) as f64 / 100.0 < p);
        }
        let c = Calibration::fit(&raw, &labels);
        assert!(c.a > 0.0, "{c:?}");
        assert!((c.a - 0.1).abs() < 0.02, "{c:?}");
        assert!(c.b.abs() < 0.2, "{c:?}");
        assert!(c.probability(20.0) > 0.8 && c.probability(-20.0) < 0.2);
    }
}
