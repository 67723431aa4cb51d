//! The model registry as use cases.

use crate::{AppError, Result};
use borderline_core::Declaration;
use borderline_governance::registry::{
    sha256_hex, GroupPerformance, ModelCard, ModelEntry, ModelState, NewModel, Registry,
};
use borderline_governance::{Actor, GovernanceStore};
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::Scorer;
use std::collections::BTreeMap;

/// What a model card says when the caller gives nothing else.
pub const DEFAULT_INTENDED_USE: &str = "Rank import declarations by risk of fraud so that officers choose which to inspect. Advice to an officer, never the sole basis of an action.";
pub const DEFAULT_LIMITS: &str = "Learns only from past inspected declarations (selection bias); unseen importers, HS codes and origins fall back to averages; scores drift when trade patterns change: monitor PSI and hit rates.";

/// A model offered for registration.
#[derive(Debug, Clone)]
pub struct RegisterRequest {
    /// The artefact's bytes as `train` wrote them; stored in the governance store by hash.
    pub artefact: Vec<u8>,
    /// Who trained it (default: the registering actor, who counts as a trainer either way).
    pub trainer: Option<String>,
    /// A labelled evaluation period after training, for performance by office and origin,
    /// with the name it is shown under on the card.
    pub evaluation: Option<(String, Vec<Declaration>)>,
    pub intended_use: String,
    pub limits: String,
}

/// Registers a model as a draft with its model card.
pub fn register(
    store: &dyn GovernanceStore,
    by: &Actor,
    req: &RegisterRequest,
) -> Result<ModelEntry> {
    let model = ModelArtefact::from_bytes(&req.artefact, "the artefact to register")?;
    let new = describe(&model, by, req);
    Ok(Registry::new(store).register(&new, &req.artefact, by)?)
}

fn describe(model: &ModelArtefact, by: &Actor, req: &RegisterRequest) -> NewModel {
    let t = &model.training;
    let mut card = ModelCard {
        intended_use: req.intended_use.clone(),
        data: format!(
            "{} training declarations ({} .. {}) and {} validation declarations ({} .. {}); fingerprint {}",
            t.train_rows,
            t.train_period.0,
            t.train_period.1,
            t.valid_rows,
            t.valid_period.0,
            t.valid_period.1,
            t.data_fingerprint
        ),
        limits: req.limits.clone(),
        ..ModelCard::default()
    };
    if let Some((name, rows)) = &req.evaluation {
        let scorer = Scorer::new(model.clone());
        let scores: Vec<f64> = scorer
            .score_block(rows)
            .into_iter()
            .map(|s| s.probability)
            .collect();
        card.evaluated_on = Some(name.clone());
        card.performance_by_office = by_group(rows, &scores, |d| d.office.to_string());
        card.performance_by_origin = by_group(rows, &scores, |d| d.origin_country.to_string());
    }
    NewModel {
        version: model.model_id.clone(),
        trainer: req.trainer.clone().unwrap_or_else(|| by.id.clone()),
        artefact_sha256: String::new(),
        data_fingerprint: t.data_fingerprint.clone(),
        parameters: serde_json::to_value(&t.config).unwrap_or_default(),
        metrics: serde_json::to_value(&model.validation).unwrap_or_default(),
        card,
    }
}

/// AUC and precision in the top 10 % per group of labelled declarations, largest groups first
/// (at most 20 groups, each with at least 20 labelled declarations).
pub fn by_group(
    rows: &[Declaration],
    scores: &[f64],
    group: impl Fn(&Declaration) -> String,
) -> Vec<GroupPerformance> {
    let mut groups: BTreeMap<String, Vec<(f64, bool)>> = BTreeMap::new();
    for (d, s) in rows.iter().zip(scores) {
        if let Some(o) = d.outcome {
            groups.entry(group(d)).or_default().push((*s, o.fraud));
        }
    }
    let mut out: Vec<GroupPerformance> = groups
        .into_iter()
        .filter(|(_, v)| v.len() >= 20)
        .map(|(g, mut v)| {
            let s: Vec<f64> = v.iter().map(|x| x.0).collect();
            let y: Vec<bool> = v.iter().map(|x| x.1).collect();
            let auc = borderline_core::metrics::auc(&s, &y);
            v.sort_by(|a, b| b.0.total_cmp(&a.0));
            let k = borderline_governance::selectivity::count(v.len(), 10.0).max(1);
            let hits = v.iter().take(k).filter(|x| x.1).count();
            GroupPerformance {
                group: g,
                declarations: v.len() as u64,
                frauds: y.iter().filter(|f| **f).count() as u64,
                auc: auc.is_finite().then_some(auc),
                precision_at_10: Some(hits as f64 / k as f64),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.declarations
            .cmp(&a.declarations)
            .then(a.group.cmp(&b.group))
    });
    out.truncate(20);
    out
}

pub fn list(store: &dyn GovernanceStore) -> Result<Vec<ModelEntry>> {
    Ok(Registry::new(store).list()?)
}

/// One model's entry and card.
pub fn card(store: &dyn GovernanceStore, version: &str) -> Result<ModelEntry> {
    Registry::new(store)
        .get(version)?
        .ok_or_else(|| AppError::Invalid(format!("no model {version} in the registry")))
}

pub fn approve(
    store: &dyn GovernanceStore,
    by: &Actor,
    version: &str,
    reason: &str,
) -> Result<ModelEntry> {
    Ok(Registry::new(store).approve(version, by, reason)?)
}

/// Returns the model it replaced.
pub fn activate(store: &dyn GovernanceStore, by: &Actor, version: &str) -> Result<Option<String>> {
    Ok(Registry::new(store).activate(version, by)?)
}

pub fn retire(store: &dyn GovernanceStore, by: &Actor, version: &str, reason: &str) -> Result<()> {
    Ok(Registry::new(store).retire(version, by, reason)?)
}

/// Returns `(retired, reactivated)`.
pub fn rollback(store: &dyn GovernanceStore, by: &Actor, reason: &str) -> Result<(String, String)> {
    Ok(Registry::new(store).rollback(by, reason)?)
}

/// The active model, loaded from the bytes stored at registration after re-hashing them:
/// refused when no model is active, when the stored bytes changed, or when they hold another
/// model than the registered one.
pub fn load_active(store: &dyn GovernanceStore) -> Result<(ModelEntry, ModelArtefact)> {
    let (entry, bytes) = Registry::new(store).active_artefact()?;
    let source = format!("active model {}", entry.model.version);
    let model = ModelArtefact::from_bytes(&bytes, &source)?;
    if model.model_id != entry.model.version {
        return Err(AppError::Invalid(format!(
            "{source}: the stored artefact holds model {}, not the registered {}",
            model.model_id, entry.model.version
        )));
    }
    Ok((entry, model))
}

/// Where a model artefact stands in the governance registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "model_status", rename_all = "snake_case")]
pub enum ModelStatus {
    /// The store's active model: approved under four-eyes, its active state backed by the
    /// audit chain, and its stored bytes unchanged.
    Active { version: String },
    /// Registered, but not the active approved model (a draft, approved but not activated,
    /// retired, or marked active without the audit chain backing it).
    Registered { version: String, state: ModelState },
    /// No store was given, or no registered model has these bytes.
    Unregistered,
}

impl ModelStatus {
    /// The value printed with every scored declaration (`model_status` column or field).
    pub fn label(&self) -> &'static str {
        match self {
            ModelStatus::Active { .. } => "active",
            ModelStatus::Registered { .. } => "registered-not-active",
            ModelStatus::Unregistered => "unregistered",
        }
    }

    /// True only for the registered, active, approved model.
    pub fn is_active(&self) -> bool {
        matches!(self, ModelStatus::Active { .. })
    }
}

impl std::fmt::Display for ModelStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelStatus::Active { version } => {
                write!(f, "model {version} is the registered, approved, active model")
            }
            ModelStatus::Registered { version, state } => write!(
                f,
                "model {version} is registered but not the active approved model (registry state {state}); its lanes are not governed decisions"
            ),
            ModelStatus::Unregistered => write!(
                f,
                "this model is not the registered, approved, active model of any governance store given; its lanes are not governed decisions"
            ),
        }
    }
}

/// The registry status of the artefact with these bytes (compared by SHA-256 with the
/// registered artefacts of `store`; `None`: no store, so unregistered). Active only when
/// [`load_active`]'s checks pass for the same bytes.
pub fn artefact_status(
    store: Option<&dyn GovernanceStore>,
    artefact: &[u8],
) -> Result<ModelStatus> {
    let Some(store) = store else {
        return Ok(ModelStatus::Unregistered);
    };
    let sha = sha256_hex(artefact);
    let registry = Registry::new(store);
    let Some(entry) = registry
        .list()?
        .into_iter()
        .find(|e| e.model.artefact_sha256 == sha)
    else {
        return Ok(ModelStatus::Unregistered);
    };
    let version = entry.model.version.clone();
    if entry.state == ModelState::Active {
        // The table says active: only the chain-backed, unchanged active model counts.
        if let Ok((active, _)) = registry.active_artefact() {
            if active.model.artefact_sha256 == sha {
                return Ok(ModelStatus::Active { version });
            }
        }
    }
    Ok(ModelStatus::Registered {
        version,
        state: entry.state,
    })
}

/// One band of calibrated score (`[lower, upper)`) of a model in use: how many recorded
/// decisions fell in it, how many of those were inspected with an outcome recorded, their mean
/// score and how many were fraud.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreBand {
    pub lower: f64,
    pub upper: f64,
    pub decisions: u64,
    pub inspected: u64,
    /// Mean score of the inspected declarations (`None`: none inspected).
    pub mean_score: Option<f64>,
    pub frauds: u64,
}

impl ScoreBand {
    /// Share of the inspected declarations found fraudulent (`None`: none inspected).
    pub fn fraud_rate(&self) -> Option<f64> {
        (self.inspected > 0).then(|| self.frauds as f64 / self.inspected as f64)
    }
}

/// A model as used: its recorded decisions' score distribution and, over those with a
/// recorded outcome, predicted against observed fraud (a calibration table). Inspected
/// declarations are chosen mostly by score, so the observed rate is biased except in the random
/// lane; the table says what happened, not what the model would do on all declarations.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InUse {
    pub version: String,
    pub decisions: u64,
    pub inspected: u64,
    pub bands: Vec<ScoreBand>,
}

/// Width of a score band of [`in_use`].
pub const BAND: f64 = 0.05;

/// The recorded use of every model with decisions: latest decision per declaration (the audit
/// log) joined with the latest recorded outcome (the feedback log).
pub fn in_use(store: &dyn GovernanceStore) -> Result<BTreeMap<String, InUse>> {
    let decisions = borderline_governance::audit::AuditLog::new(store).latest_decisions()?;
    let outcomes: std::collections::HashMap<String, bool> =
        borderline_governance::feedback::FeedbackLog::new(store)
            .latest(None)?
            .into_iter()
            .map(|r| (r.outcome.declaration_id, r.outcome.fraud))
            .collect();
    let n = (1.0 / BAND).round() as usize;
    let mut out: BTreeMap<String, (InUse, Vec<f64>)> = BTreeMap::new();
    for d in decisions.values() {
        let (u, sums) = out.entry(d.model_version.clone()).or_insert_with(|| {
            (
                InUse {
                    version: d.model_version.clone(),
                    decisions: 0,
                    inspected: 0,
                    bands: (0..n)
                        .map(|i| ScoreBand {
                            lower: i as f64 * BAND,
                            upper: (i + 1) as f64 * BAND,
                            decisions: 0,
                            inspected: 0,
                            mean_score: None,
                            frauds: 0,
                        })
                        .collect(),
                },
                vec![0.0; n],
            )
        });
        let score = if d.score.is_finite() {
            d.score.clamp(0.0, 1.0)
        } else {
            continue;
        };
        let i = ((score / BAND) as usize).min(n - 1);
        u.decisions += 1;
        u.bands[i].decisions += 1;
        if let Some(fraud) = outcomes.get(&d.declaration_id) {
            u.inspected += 1;
            u.bands[i].inspected += 1;
            u.bands[i].frauds += u64::from(*fraud);
            sums[i] += score;
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, (mut u, sums))| {
            for (b, s) in u.bands.iter_mut().zip(sums) {
                b.mean_score = (b.inspected > 0).then(|| s / b.inspected as f64);
            }
            (k, u)
        })
        .collect())
}
