//! Model registry: draft -> approved -> active -> retired.
//!
//! * Approval must come from someone other than the trainer and the registering actor
//!   (four-eyes, compared by [`crate::actor::canonical_id`]) and carry a reason.
//! * Only one model is active; activating a model retires the one it replaces ("superseded"),
//!   and [`Registry::rollback`] brings the most recently superseded model back in one step.
//! * Every transition appends a governance record to the audit log in the same transaction:
//!   either both happen or neither.
//! * The artefact's bytes are stored in the store under their SHA-256; [`Registry::active_artefact`]
//!   re-hashes them and refuses a mismatch, so bytes changed after approval never score.
//!
//! The rules are plain Rust over [`GovernanceStore`]; a store only keeps the records.

use crate::actor::Actor;
use crate::audit::{append_in, AuditEvent, GovernanceAction};
use crate::store::{in_tx, now, GovernanceStore, StoreError, StoreTx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    Draft,
    Approved,
    Active,
    Retired,
}

impl ModelState {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelState::Draft => "draft",
            ModelState::Approved => "approved",
            ModelState::Active => "active",
            ModelState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<ModelState> {
        Some(match s {
            "draft" => ModelState::Draft,
            "approved" => ModelState::Approved,
            "active" => ModelState::Active,
            "retired" => ModelState::Retired,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ModelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Performance of the model on one group of declarations (an office, an origin), computed by
/// the caller on a labelled period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPerformance {
    pub group: String,
    pub declarations: u64,
    pub frauds: u64,
    /// `None` when the group has only one outcome class.
    pub auc: Option<f64>,
    /// Precision among the group's top 10 % by score.
    pub precision_at_10: Option<f64>,
}

/// What an approver reads before approving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelCard {
    pub intended_use: String,
    pub data: String,
    pub limits: String,
    /// Which labelled period the per-group performance was measured on.
    pub evaluated_on: Option<String>,
    pub performance_by_office: Vec<GroupPerformance>,
    pub performance_by_origin: Vec<GroupPerformance>,
}

/// A model offered for registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModel {
    /// The artefact's content id (e.g. `risk-0123456789abcdef`).
    pub version: String,
    /// Id of who trained it (the registering actor when not given).
    pub trainer: String,
    /// SHA-256 (hex) of the artefact bytes, set by [`Registry::register`] from the bytes it
    /// stores: the key of the artefact in the store.
    pub artefact_sha256: String,
    pub data_fingerprint: String,
    pub parameters: serde_json::Value,
    pub metrics: serde_json::Value,
    pub card: ModelCard,
}

/// A registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    #[serde(flatten)]
    pub model: NewModel,
    pub state: ModelState,
    /// Retired because another model was activated in its place (a rollback target).
    pub superseded: bool,
    pub registered_by: String,
    pub registered_at: String,
    pub approved_by: Option<String>,
    pub approval_reason: Option<String>,
    pub approved_at: Option<String>,
    pub activated_at: Option<String>,
    pub retired_at: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("model {0} is already registered")]
    AlreadyRegistered(String),
    #[error("no model {0} in the registry")]
    UnknownModel(String),
    #[error("four-eyes rule: {user} {role} model {version} and cannot also approve it; another person must approve")]
    FourEyes {
        version: String,
        user: String,
        /// "trained" or "registered".
        role: &'static str,
    },
    /// Approval, retirement and roll-back are recorded with the reason an auditor reads.
    #[error("model {0}: the action needs a reason (approvals, retirements and roll-backs are recorded with one)")]
    ReasonRequired(String),
    #[error("model {version} is {from}; it cannot become {to}{hint}")]
    InvalidTransition {
        version: String,
        from: ModelState,
        to: ModelState,
        hint: &'static str,
    },
    #[error("no active model: register, approve and activate one")]
    NoActiveModel,
    /// A roll-back asked for while no model is active: a conflict with the registry's state,
    /// not an outage.
    #[error("no active model to roll back")]
    NothingActiveToRollBack,
    #[error("nothing to roll back to: no earlier active model was replaced by the current one")]
    NothingToRollBackTo,
    #[error("trainer id is empty")]
    NoTrainer,
    #[error("the artefact of model {version} changed since it was registered (SHA-256 {found}, registered {registered}); refusing to score with it")]
    ArtefactChanged {
        version: String,
        found: String,
        registered: String,
    },
    #[error("the artefact of model {version} (SHA-256 {sha256}) is missing from the store")]
    ArtefactMissing { version: String, sha256: String },
    /// The registry tables say the model is active but replaying the audit chain does not
    /// (e.g. its state was changed in the database directly): it must not score.
    #[error("model {version} is marked active in the registry but the audit log does not back it ({problem}); refusing to score with it (run `borderline audit verify`)")]
    NotBackedByAudit { version: String, problem: String },
}

/// SHA-256 of bytes, as hex: the key an artefact is stored under and checked against.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

pub struct Registry<'s> {
    store: &'s dyn GovernanceStore,
}

fn require(tx: &mut dyn StoreTx, version: &str) -> Result<ModelEntry, RegistryError> {
    tx.model(version)?
        .ok_or_else(|| RegistryError::UnknownModel(version.into()))
}

fn active_in(tx: &mut dyn StoreTx) -> Result<Option<ModelEntry>, RegistryError> {
    Ok(tx
        .models()?
        .into_iter()
        .find(|m| m.state == ModelState::Active))
}

fn audit(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), RegistryError> {
    append_in(
        tx,
        actor,
        &AuditEvent::Governance(GovernanceAction {
            action: action.into(),
            subject: subject.into(),
            detail,
        }),
    )?;
    Ok(())
}

impl<'s> Registry<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        Registry { store }
    }

    pub fn get(&self, version: &str) -> Result<Option<ModelEntry>, RegistryError> {
        Ok(in_tx(self.store, false, |tx| tx.model(version))?)
    }

    /// All models, oldest registration first.
    pub fn list(&self) -> Result<Vec<ModelEntry>, RegistryError> {
        Ok(in_tx(self.store, false, |tx| tx.models())?)
    }

    /// The active model, if any.
    pub fn active(&self) -> Result<Option<ModelEntry>, RegistryError> {
        in_tx(self.store, false, active_in)
    }

    /// The active model, or [`RegistryError::NoActiveModel`]: what scoring must use.
    pub fn require_active(&self) -> Result<ModelEntry, RegistryError> {
        self.active()?.ok_or(RegistryError::NoActiveModel)
    }

    /// The active model and its artefact bytes, re-hashed: refused when the stored bytes no
    /// longer give the registered SHA-256, and when replaying the audit chain does not give
    /// this model as the active, approved one with this artefact.
    pub fn active_artefact(&self) -> Result<(ModelEntry, Vec<u8>), RegistryError> {
        in_tx(self.store, false, |tx| {
            let entry = active_in(tx)?.ok_or(RegistryError::NoActiveModel)?;
            backed_by_chain(tx, &entry)?;
            let bytes = artefact_checked(tx, &entry)?;
            Ok((entry, bytes))
        })
    }

    /// A registered model's artefact bytes, re-hashed like [`Registry::active_artefact`].
    pub fn artefact(&self, version: &str) -> Result<(ModelEntry, Vec<u8>), RegistryError> {
        in_tx(self.store, false, |tx| {
            let entry = require(tx, version)?;
            let bytes = artefact_checked(tx, &entry)?;
            Ok((entry, bytes))
        })
    }

    /// Registers a model as a draft and stores its artefact bytes by content hash. The
    /// registering actor counts as a trainer for four-eyes.
    pub fn register(
        &self,
        model: &NewModel,
        artefact: &[u8],
        by: &Actor,
    ) -> Result<ModelEntry, RegistryError> {
        let trainer = crate::actor::normalise_id(&model.trainer);
        if trainer.is_empty() {
            return Err(RegistryError::NoTrainer);
        }
        let sha = sha256_hex(artefact);
        in_tx(self.store, true, |tx| {
            if tx.model(&model.version)?.is_some() {
                return Err(RegistryError::AlreadyRegistered(model.version.clone()));
            }
            tx.put_artefact(&sha, artefact)?;
            let entry = ModelEntry {
                model: NewModel {
                    trainer: trainer.clone(),
                    artefact_sha256: sha.clone(),
                    ..model.clone()
                },
                state: ModelState::Draft,
                superseded: false,
                registered_by: by.id.clone(),
                registered_at: now(),
                approved_by: None,
                approval_reason: None,
                approved_at: None,
                activated_at: None,
                retired_at: None,
            };
            tx.insert_model(&entry)?;
            audit(
                tx,
                by,
                "model.register",
                &model.version,
                serde_json::json!({
                    "trainer": trainer,
                    "artefact_sha256": sha,
                    "data_fingerprint": model.data_fingerprint,
                }),
            )?;
            Ok(entry)
        })
    }

    /// Approves a draft. Refused if `approver` trained or registered the model, or `reason` is
    /// empty.
    pub fn approve(
        &self,
        version: &str,
        approver: &Actor,
        reason: &str,
    ) -> Result<ModelEntry, RegistryError> {
        in_tx(self.store, true, |tx| {
            let mut m = require(tx, version)?;
            if m.state != ModelState::Draft {
                return Err(RegistryError::InvalidTransition {
                    version: version.into(),
                    from: m.state,
                    to: ModelState::Approved,
                    hint: " (only drafts are approved)",
                });
            }
            for (who, role) in [
                (&m.model.trainer, "trained"),
                (&m.registered_by, "registered"),
            ] {
                if approver.is(who) {
                    return Err(RegistryError::FourEyes {
                        version: version.into(),
                        user: approver.id.clone(),
                        role,
                    });
                }
            }
            if reason.trim().is_empty() {
                return Err(RegistryError::ReasonRequired(version.into()));
            }
            m.state = ModelState::Approved;
            m.approved_by = Some(approver.id.clone());
            m.approval_reason = Some(reason.to_string());
            m.approved_at = Some(now());
            tx.update_model(&m)?;
            audit(
                tx,
                approver,
                "model.approve",
                version,
                serde_json::json!({"reason": reason, "trainer": m.model.trainer, "registered_by": m.registered_by}),
            )?;
            Ok(m)
        })
    }

    /// Makes an approved model the active one; the previously active model is retired as
    /// superseded. Returns the model it replaced.
    pub fn activate(&self, version: &str, by: &Actor) -> Result<Option<String>, RegistryError> {
        in_tx(self.store, true, |tx| {
            let mut m = require(tx, version)?;
            if m.state != ModelState::Approved {
                return Err(RegistryError::InvalidTransition {
                    version: version.into(),
                    from: m.state,
                    to: ModelState::Active,
                    hint: match m.state {
                        ModelState::Draft => " before another person approves it",
                        ModelState::Retired => " again except by rollback",
                        _ => "",
                    },
                });
            }
            let at = now();
            let previous = match active_in(tx)? {
                Some(mut p) => {
                    p.state = ModelState::Retired;
                    p.superseded = true;
                    p.retired_at = Some(at.clone());
                    tx.update_model(&p)?;
                    Some(p.model.version)
                }
                None => None,
            };
            m.state = ModelState::Active;
            m.activated_at = Some(at.clone());
            tx.update_model(&m)?;
            tx.record_activation(version, &at, &by.id)?;
            audit(
                tx,
                by,
                "model.activate",
                version,
                serde_json::json!({"replaces": previous}),
            )?;
            Ok(previous)
        })
    }

    /// Retires a model for good (not a rollback target).
    pub fn retire(&self, version: &str, by: &Actor, reason: &str) -> Result<(), RegistryError> {
        in_tx(self.store, true, |tx| {
            let mut m = require(tx, version)?;
            if reason.trim().is_empty() {
                return Err(RegistryError::ReasonRequired(version.into()));
            }
            if m.state == ModelState::Retired {
                return Err(RegistryError::InvalidTransition {
                    version: version.into(),
                    from: m.state,
                    to: ModelState::Retired,
                    hint: "",
                });
            }
            let from = m.state;
            m.state = ModelState::Retired;
            m.superseded = false;
            m.retired_at = Some(now());
            tx.update_model(&m)?;
            audit(
                tx,
                by,
                "model.retire",
                version,
                serde_json::json!({"from": from, "reason": reason}),
            )
        })
    }

    /// Retires the active model and reactivates the one it most recently replaced.
    /// Returns `(retired, reactivated)`.
    pub fn rollback(&self, by: &Actor, reason: &str) -> Result<(String, String), RegistryError> {
        in_tx(self.store, true, |tx| {
            let mut current = active_in(tx)?.ok_or(RegistryError::NothingActiveToRollBack)?;
            if reason.trim().is_empty() {
                return Err(RegistryError::ReasonRequired(current.model.version.clone()));
            }
            let mut target = None;
            for v in tx.activations()?.into_iter().rev() {
                if v == current.model.version {
                    continue;
                }
                if let Some(m) = tx.model(&v)? {
                    if m.state == ModelState::Retired && m.superseded {
                        target = Some(m);
                        break;
                    }
                }
            }
            let mut target = target.ok_or(RegistryError::NothingToRollBackTo)?;
            let at = now();
            current.state = ModelState::Retired;
            current.superseded = false;
            current.retired_at = Some(at.clone());
            tx.update_model(&current)?;
            target.state = ModelState::Active;
            target.superseded = false;
            target.activated_at = Some(at.clone());
            target.retired_at = None;
            tx.update_model(&target)?;
            tx.record_activation(&target.model.version, &at, &by.id)?;
            audit(
                tx,
                by,
                "model.rollback",
                &target.model.version,
                serde_json::json!({"retired": current.model.version, "reason": reason}),
            )?;
            Ok((current.model.version, target.model.version))
        })
    }
}

/// Refuses an active entry that the replayed audit chain does not give as active, approved,
/// with the same artefact.
fn backed_by_chain(tx: &mut dyn StoreTx, entry: &ModelEntry) -> Result<(), RegistryError> {
    let recorded = crate::replay::replay_in(tx)?;
    let version = &entry.model.version;
    let refuse = |problem: String| {
        Err(RegistryError::NotBackedByAudit {
            version: version.clone(),
            problem,
        })
    };
    let Some(r) = recorded.models.get(version) else {
        return refuse("no audit record registered it".into());
    };
    if r.state != ModelState::Active {
        return refuse(format!("the audit log gives it as {}", r.state));
    }
    if r.approved_by.is_none() || r.approved_by != entry.approved_by {
        return refuse(format!(
            "the audit log gives approver {}, the registry {}",
            r.approved_by.as_deref().unwrap_or("none"),
            entry.approved_by.as_deref().unwrap_or("none")
        ));
    }
    if r.artefact_sha256 != entry.model.artefact_sha256 {
        return refuse(format!(
            "the audit log registered artefact {}, the registry holds {}",
            r.artefact_sha256, entry.model.artefact_sha256
        ));
    }
    Ok(())
}

fn artefact_checked(tx: &mut dyn StoreTx, entry: &ModelEntry) -> Result<Vec<u8>, RegistryError> {
    let registered = &entry.model.artefact_sha256;
    let bytes = tx
        .artefact(registered)?
        .ok_or_else(|| RegistryError::ArtefactMissing {
            version: entry.model.version.clone(),
            sha256: registered.clone(),
        })?;
    let found = sha256_hex(&bytes);
    if &found != registered {
        return Err(RegistryError::ArtefactChanged {
            version: entry.model.version.clone(),
            found,
            registered: registered.clone(),
        });
    }
    Ok(bytes)
}
