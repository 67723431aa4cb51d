//! Registry state derived from the audit chain.
//!
//! Every registry transition appends a governance record (`model.register`, `model.approve`,
//! `model.activate`, `model.retire`, `model.rollback`) in the same transaction as the change to
//! the registry tables. Replaying those records through the registry's rules gives, for each
//! model, the state, approver, trainer, registering actor and artefact hash the tables must
//! hold, and which model is active. [`compare`] reports every disagreement, so a registry row
//! changed outside the API (`UPDATE models SET state = 'active'`) is found, and
//! [`crate::Registry::active_artefact`] refuses to score with a model whose active state the
//! chain does not back.
//!
//! Replay applies the same rules as the registry (the state machine and four-eyes by
//! [`crate::actor::same_person`]); a record that breaks them is itself a finding
//! ([`RegistryFinding::InvalidRecord`]) and changes nothing.

use crate::audit::{AuditRecord, GovernanceAction};
use crate::registry::{ModelEntry, ModelState};
use crate::store::{StoreError, StoreTx};
use serde::Serialize;
use std::collections::BTreeMap;

/// A model as the audit chain says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedModel {
    pub version: String,
    pub state: ModelState,
    pub superseded: bool,
    pub trainer: String,
    pub registered_by: String,
    pub artefact_sha256: String,
    pub approved_by: Option<String>,
    /// Sequence number of the last record that changed it.
    pub last_seq: u64,
}

/// The registry as replayed from the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedRegistry {
    pub models: BTreeMap<String, RecordedModel>,
    /// Records that break the registry's rules (never applied).
    pub invalid: Vec<RegistryFinding>,
}

/// A disagreement between the registry tables and the audit chain, or a chain record that no
/// registry could have written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum RegistryFinding {
    /// The tables hold a model that no `model.register` record registered.
    UnrecordedModel { version: String, state: ModelState },
    /// The chain registered a model the tables no longer hold.
    MissingModel { version: String },
    /// A field of a model differs between the tables and the chain.
    Mismatch {
        version: String,
        /// `state`, `superseded`, `trainer`, `registered_by`, `artefact_sha256`, `approved_by`.
        field: &'static str,
        /// Value the chain gives (empty for none).
        recorded: String,
        /// Value the tables hold (empty for none).
        stored: String,
    },
    /// A governance record the registry's rules would not have written (e.g. approval by the
    /// trainer, activation of a draft).
    InvalidRecord {
        seq: u64,
        action: String,
        version: String,
        problem: String,
    },
}

impl std::fmt::Display for RegistryFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryFinding::UnrecordedModel { version, state } => write!(
                f,
                "model {version} is in the registry ({state}) but no audit record registered it"
            ),
            RegistryFinding::MissingModel { version } => write!(
                f,
                "model {version} was registered in the audit log but is missing from the registry"
            ),
            RegistryFinding::Mismatch {
                version,
                field,
                recorded,
                stored,
            } => {
                let shown = |s: &str| {
                    if s.is_empty() {
                        "none".to_string()
                    } else {
                        s.to_string()
                    }
                };
                write!(
                    f,
                    "model {version}: registry {field} is {} but the audit log gives {}",
                    shown(stored),
                    shown(recorded)
                )
            }
            RegistryFinding::InvalidRecord {
                seq,
                action,
                version,
                problem,
            } => write!(
                f,
                "audit record {seq} ({action} {version}) breaks the registry rules: {problem}"
            ),
        }
    }
}

/// True for the governance actions replay reads.
fn is_registry_action(action: &str) -> bool {
    action.starts_with("model.")
}

impl RecordedRegistry {
    /// The model the chain says is active.
    pub fn active(&self) -> Option<&RecordedModel> {
        self.models.values().find(|m| m.state == ModelState::Active)
    }

    /// Applies one audit record (records of other kinds and actions are ignored; an unreadable
    /// governance record is a finding).
    pub fn apply(&mut self, record: &AuditRecord) {
        if record.kind != "governance" {
            return;
        }
        let g: GovernanceAction = match serde_json::from_str(&record.body) {
            Ok(g) => g,
            Err(e) => {
                self.invalid.push(RegistryFinding::InvalidRecord {
                    seq: record.seq,
                    action: String::new(),
                    version: String::new(),
                    problem: format!("unreadable governance record: {e}"),
                });
                return;
            }
        };
        if !is_registry_action(&g.action) {
            return;
        }
        if let Err(problem) = self.transition(record, &g) {
            self.invalid.push(RegistryFinding::InvalidRecord {
                seq: record.seq,
                action: g.action.clone(),
                version: g.subject.clone(),
                problem,
            });
        }
    }

    fn transition(&mut self, r: &AuditRecord, g: &GovernanceAction) -> Result<(), String> {
        let v = g.subject.as_str();
        let text = |key: &str| {
            g.detail
                .get(key)
                .and_then(|x| x.as_str())
                .map(str::to_string)
        };
        let state_of = |models: &BTreeMap<String, RecordedModel>| {
            models
                .get(v)
                .map(|m| m.state)
                .ok_or_else(|| "the model was never registered".to_string())
        };
        match g.action.as_str() {
            "model.register" => {
                if self.models.contains_key(v) {
                    return Err("registered twice".into());
                }
                let trainer = text("trainer").ok_or("no trainer in the record")?;
                let sha = text("artefact_sha256").ok_or("no artefact hash in the record")?;
                self.models.insert(
                    v.to_string(),
                    RecordedModel {
                        version: v.to_string(),
                        state: ModelState::Draft,
                        superseded: false,
                        trainer,
                        registered_by: r.user.clone(),
                        artefact_sha256: sha,
                        approved_by: None,
                        last_seq: r.seq,
                    },
                );
            }
            "model.approve" => {
                let from = state_of(&self.models)?;
                if from != ModelState::Draft {
                    return Err(format!("approval of a model that is {from}"));
                }
                let m = self.models.get_mut(v).ok_or("unknown model")?;
                for (who, role) in [(&m.trainer, "trainer"), (&m.registered_by, "registrant")] {
                    if crate::actor::same_person(&r.user, who) {
                        return Err(format!("approved by its {role} {}", r.user));
                    }
                }
                m.state = ModelState::Approved;
                m.approved_by = Some(r.user.clone());
                m.last_seq = r.seq;
            }
            "model.activate" => {
                let from = state_of(&self.models)?;
                if from != ModelState::Approved {
                    return Err(format!("activation of a model that is {from}"));
                }
                for m in self.models.values_mut() {
                    if m.state == ModelState::Active {
                        m.state = ModelState::Retired;
                        m.superseded = true;
                        m.last_seq = r.seq;
                    }
                }
                let m = self.models.get_mut(v).ok_or("unknown model")?;
                m.state = ModelState::Active;
                m.superseded = false;
                m.last_seq = r.seq;
            }
            "model.retire" => {
                let from = state_of(&self.models)?;
                if from == ModelState::Retired {
                    return Err("retirement of a retired model".into());
                }
                let m = self.models.get_mut(v).ok_or("unknown model")?;
                m.state = ModelState::Retired;
                m.superseded = false;
                m.last_seq = r.seq;
            }
            "model.rollback" => {
                let retired = text("retired").ok_or("no retired model in the record")?;
                match self.models.get(&retired) {
                    Some(m) if m.state == ModelState::Active => {}
                    _ => return Err(format!("{retired} was not the active model")),
                }
                match self.models.get(v) {
                    Some(m) if m.state == ModelState::Retired && m.superseded => {}
                    _ => return Err("the target was not a superseded model".into()),
                }
                for (version, state) in [
                    (&retired, ModelState::Retired),
                    (&v.to_string(), ModelState::Active),
                ] {
                    let m = self.models.get_mut(version).ok_or("unknown model")?;
                    m.state = state;
                    m.superseded = false;
                    m.last_seq = r.seq;
                }
            }
            // Other model.* actions do not change registry state.
            _ => {}
        }
        Ok(())
    }
}

/// Replays the governance records of the store's chain (inside an open transaction).
pub fn replay_in(tx: &mut dyn StoreTx) -> Result<RecordedRegistry, StoreError> {
    let mut reg = RecordedRegistry::default();
    tx.audit_scan(Some("governance"), &mut |r| {
        reg.apply(&r);
        Ok(())
    })?;
    Ok(reg)
}

/// Every disagreement between the registry tables and the replayed chain, in registration
/// order, after the chain's own invalid records.
pub fn compare(recorded: &RecordedRegistry, stored: &[ModelEntry]) -> Vec<RegistryFinding> {
    let mut out = recorded.invalid.clone();
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    for e in stored {
        let v = &e.model.version;
        let Some(r) = recorded.models.get(v) else {
            out.push(RegistryFinding::UnrecordedModel {
                version: v.clone(),
                state: e.state,
            });
            continue;
        };
        let fields: [(&'static str, String, String); 6] = [
            ("state", r.state.to_string(), e.state.to_string()),
            (
                "superseded",
                r.superseded.to_string(),
                e.superseded.to_string(),
            ),
            ("trainer", r.trainer.clone(), e.model.trainer.clone()),
            (
                "registered_by",
                r.registered_by.clone(),
                e.registered_by.clone(),
            ),
            (
                "artefact_sha256",
                r.artefact_sha256.clone(),
                e.model.artefact_sha256.clone(),
            ),
            ("approved_by", opt(&r.approved_by), opt(&e.approved_by)),
        ];
        for (field, recorded, stored) in fields {
            if recorded != stored {
                out.push(RegistryFinding::Mismatch {
                    version: v.clone(),
                    field,
                    recorded,
                    stored,
                });
            }
        }
    }
    for v in recorded.models.keys() {
        if !stored.iter().any(|e| &e.model.version == v) {
            out.push(RegistryFinding::MissingModel { version: v.clone() });
        }
    }
    out
}

/// Replays the chain and compares it with the registry tables, in one read transaction.
pub fn registry_findings(tx: &mut dyn StoreTx) -> Result<Vec<RegistryFinding>, StoreError> {
    let recorded = replay_in(tx)?;
    let stored = tx.models()?;
    Ok(compare(&recorded, &stored))
}
