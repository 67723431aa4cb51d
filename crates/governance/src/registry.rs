//! Model registry: draft -> approved -> active -> retired.
//!
//! * Approval must come from a different user than the trainer (four-eyes) and carry a reason.
//! * Only one model is active (also enforced by a unique index in the database); activating a
//!   model retires the one it replaces ("superseded"), and [`Registry::rollback`] brings the
//!   most recently superseded model back in one step.
//! * Every transition appends a governance record to the audit log in the same transaction:
//!   either both happen or neither.
//!
//! The registry stores metadata and the artefact's path and SHA-256; the caller checks the
//! hash when loading, so a file swapped after approval is refused.

use crate::audit::{append_in, AuditEvent, GovernanceAction};
use crate::store::{now, write_tx, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

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

    fn parse(s: &str) -> Option<ModelState> {
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
    pub trainer: String,
    pub artefact_path: String,
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
    #[error("four-eyes rule: {user} trained model {version} and cannot also approve it; another user must approve")]
    FourEyes { version: String, user: String },
    #[error("approving model {0} needs a reason")]
    ReasonRequired(String),
    #[error("model {version} is {from}; it cannot become {to}{hint}")]
    InvalidTransition {
        version: String,
        from: ModelState,
        to: ModelState,
        hint: &'static str,
    },
    #[error("no active model: register, approve and activate one (`borderline models`)")]
    NoActiveModel,
    #[error("nothing to roll back to: no earlier active model was replaced by the current one")]
    NothingToRollBackTo,
    #[error("user name is empty: give --user or set BORDERLINE_USER")]
    NoUser,
}

impl From<rusqlite::Error> for RegistryError {
    fn from(e: rusqlite::Error) -> Self {
        RegistryError::Store(StoreError::Sqlite(e))
    }
}

impl From<serde_json::Error> for RegistryError {
    fn from(e: serde_json::Error) -> Self {
        RegistryError::Store(StoreError::Json(e))
    }
}

/// SHA-256 of a file's bytes, as hex: what [`NewModel::artefact_sha256`] records and what is
/// checked before the artefact scores.
pub fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

/// Two user names denote the same person if they differ only in case or surrounding spaces
/// (otherwise "Kim" could approve what "kim" trained).
fn same_user(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

const COLUMNS: &str = "version, trainer, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card, state, superseded, registered_by, registered_at, approved_by, approval_reason, approved_at, activated_at, retired_at";

type Raw = (
    [String; 8],
    String,
    bool,
    String,
    String,
    [Option<String>; 5],
);

fn raw(r: &rusqlite::Row) -> rusqlite::Result<Raw> {
    Ok((
        [
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ],
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        [r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?],
    ))
}

fn entry(raw: Raw) -> Result<ModelEntry, RegistryError> {
    let (text, state, superseded, registered_by, registered_at, opt) = raw;
    let [version, trainer, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card] =
        text;
    let [approved_by, approval_reason, approved_at, activated_at, retired_at] = opt;
    let state = ModelState::parse(&state).ok_or_else(|| {
        StoreError::Json(serde::de::Error::custom(format!(
            "model {version} has unknown state {state:?}"
        )))
    })?;
    Ok(ModelEntry {
        model: NewModel {
            version,
            trainer,
            artefact_path,
            artefact_sha256,
            data_fingerprint,
            parameters: serde_json::from_str(&parameters)?,
            metrics: serde_json::from_str(&metrics)?,
            card: serde_json::from_str(&card)?,
        },
        state,
        superseded,
        registered_by,
        registered_at,
        approved_by,
        approval_reason,
        approved_at,
        activated_at,
        retired_at,
    })
}

pub struct Registry<'c> {
    conn: &'c Connection,
}

impl<'c> Registry<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Registry { conn }
    }

    fn get_in(conn: &Connection, version: &str) -> Result<Option<ModelEntry>, RegistryError> {
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM models WHERE version = ?1"),
            [version],
            raw,
        )
        .optional()?
        .map(entry)
        .transpose()
    }

    fn require(conn: &Connection, version: &str) -> Result<ModelEntry, RegistryError> {
        Self::get_in(conn, version)?.ok_or_else(|| RegistryError::UnknownModel(version.into()))
    }

    fn active_in(conn: &Connection) -> Result<Option<ModelEntry>, RegistryError> {
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM models WHERE state = 'active'"),
            [],
            raw,
        )
        .optional()?
        .map(entry)
        .transpose()
    }

    pub fn get(&self, version: &str) -> Result<Option<ModelEntry>, RegistryError> {
        Self::get_in(self.conn, version)
    }

    /// All models, oldest registration first.
    pub fn list(&self) -> Result<Vec<ModelEntry>, RegistryError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM models ORDER BY rowid"))?;
        let rows = stmt.query_map([], raw)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(entry(r?)?);
        }
        Ok(out)
    }

    /// The active model, if any.
    pub fn active(&self) -> Result<Option<ModelEntry>, RegistryError> {
        Self::active_in(self.conn)
    }

    /// The active model, or [`RegistryError::NoActiveModel`]: what scoring must use.
    pub fn require_active(&self) -> Result<ModelEntry, RegistryError> {
        self.active()?.ok_or(RegistryError::NoActiveModel)
    }

    fn audit(
        conn: &Connection,
        user: &str,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), RegistryError> {
        append_in(
            conn,
            user,
            &AuditEvent::Governance(GovernanceAction {
                action: action.into(),
                subject: subject.into(),
                detail,
            }),
        )?;
        Ok(())
    }

    /// Registers a model as a draft.
    pub fn register(&self, model: &NewModel, user: &str) -> Result<ModelEntry, RegistryError> {
        if user.trim().is_empty() || model.trainer.trim().is_empty() {
            return Err(RegistryError::NoUser);
        }
        let tx = write_tx(self.conn)?;
        if Self::get_in(&tx, &model.version)?.is_some() {
            return Err(RegistryError::AlreadyRegistered(model.version.clone()));
        }
        tx.execute(
            "INSERT INTO models (version, trainer, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card, state, registered_by, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'draft', ?9, ?10)",
            params![
                model.version,
                model.trainer,
                model.artefact_path,
                model.artefact_sha256,
                model.data_fingerprint,
                serde_json::to_string(&model.parameters)?,
                serde_json::to_string(&model.metrics)?,
                serde_json::to_string(&model.card)?,
                user,
                now(),
            ],
        )?;
        Self::audit(
            &tx,
            user,
            "model.register",
            &model.version,
            serde_json::json!({
                "trainer": model.trainer,
                "artefact_sha256": model.artefact_sha256,
                "data_fingerprint": model.data_fingerprint,
            }),
        )?;
        let e = Self::require(&tx, &model.version)?;
        tx.commit()?;
        Ok(e)
    }

    /// Approves a draft. Refused if `approver` trained the model or `reason` is empty.
    pub fn approve(
        &self,
        version: &str,
        approver: &str,
        reason: &str,
    ) -> Result<ModelEntry, RegistryError> {
        if approver.trim().is_empty() {
            return Err(RegistryError::NoUser);
        }
        let tx = write_tx(self.conn)?;
        let m = Self::require(&tx, version)?;
        if m.state != ModelState::Draft {
            return Err(RegistryError::InvalidTransition {
                version: version.into(),
                from: m.state,
                to: ModelState::Approved,
                hint: " (only drafts are approved)",
            });
        }
        if same_user(approver, &m.model.trainer) {
            return Err(RegistryError::FourEyes {
                version: version.into(),
                user: approver.into(),
            });
        }
        if reason.trim().is_empty() {
            return Err(RegistryError::ReasonRequired(version.into()));
        }
        tx.execute(
            "UPDATE models SET state = 'approved', approved_by = ?2, approval_reason = ?3, approved_at = ?4 WHERE version = ?1",
            params![version, approver, reason, now()],
        )?;
        Self::audit(
            &tx,
            approver,
            "model.approve",
            version,
            serde_json::json!({"reason": reason, "trainer": m.model.trainer}),
        )?;
        let e = Self::require(&tx, version)?;
        tx.commit()?;
        Ok(e)
    }

    /// Makes an approved model the active one; the previously active model is retired as
    /// superseded. Returns the model it replaced.
    pub fn activate(&self, version: &str, user: &str) -> Result<Option<String>, RegistryError> {
        if user.trim().is_empty() {
            return Err(RegistryError::NoUser);
        }
        let tx = write_tx(self.conn)?;
        let m = Self::require(&tx, version)?;
        if m.state != ModelState::Approved {
            return Err(RegistryError::InvalidTransition {
                version: version.into(),
                from: m.state,
                to: ModelState::Active,
                hint: match m.state {
                    ModelState::Draft => " before another user approves it",
                    ModelState::Retired => " again except by `rollback`",
                    _ => "",
                },
            });
        }
        let previous = Self::active_in(&tx)?.map(|p| p.model.version);
        let at = now();
        if let Some(p) = &previous {
            tx.execute(
                "UPDATE models SET state = 'retired', superseded = 1, retired_at = ?2 WHERE version = ?1",
                params![p, at],
            )?;
        }
        tx.execute(
            "UPDATE models SET state = 'active', activated_at = ?2 WHERE version = ?1",
            params![version, at],
        )?;
        tx.execute(
            "INSERT INTO model_activations (version, activated_at, user) VALUES (?1, ?2, ?3)",
            params![version, at, user],
        )?;
        Self::audit(
            &tx,
            user,
            "model.activate",
            version,
            serde_json::json!({"replaces": previous}),
        )?;
        tx.commit()?;
        Ok(previous)
    }

    /// Retires a model for good (not a rollback target).
    pub fn retire(&self, version: &str, user: &str, reason: &str) -> Result<(), RegistryError> {
        if user.trim().is_empty() {
            return Err(RegistryError::NoUser);
        }
        let tx = write_tx(self.conn)?;
        let m = Self::require(&tx, version)?;
        if m.state == ModelState::Retired {
            return Err(RegistryError::InvalidTransition {
                version: version.into(),
                from: m.state,
                to: ModelState::Retired,
                hint: "",
            });
        }
        tx.execute(
            "UPDATE models SET state = 'retired', superseded = 0, retired_at = ?2 WHERE version = ?1",
            params![version, now()],
        )?;
        Self::audit(
            &tx,
            user,
            "model.retire",
            version,
            serde_json::json!({"from": m.state, "reason": reason}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Retires the active model and reactivates the one it most recently replaced.
    /// Returns `(retired, reactivated)`.
    pub fn rollback(&self, user: &str, reason: &str) -> Result<(String, String), RegistryError> {
        if user.trim().is_empty() {
            return Err(RegistryError::NoUser);
        }
        let tx = write_tx(self.conn)?;
        let current = Self::active_in(&tx)?.ok_or(RegistryError::NoActiveModel)?;
        let target: Option<String> = tx
            .query_row(
                "SELECT a.version FROM model_activations a JOIN models m ON m.version = a.version
                 WHERE m.state = 'retired' AND m.superseded = 1 AND a.version != ?1
                 ORDER BY a.seq DESC LIMIT 1",
                [&current.model.version],
                |r| r.get(0),
            )
            .optional()?;
        let target = target.ok_or(RegistryError::NothingToRollBackTo)?;
        let at = now();
        tx.execute(
            "UPDATE models SET state = 'retired', superseded = 0, retired_at = ?2 WHERE version = ?1",
            params![current.model.version, at],
        )?;
        tx.execute(
            "UPDATE models SET state = 'active', superseded = 0, activated_at = ?2, retired_at = NULL WHERE version = ?1",
            params![target, at],
        )?;
        tx.execute(
            "INSERT INTO model_activations (version, activated_at, user) VALUES (?1, ?2, ?3)",
            params![target, at, user],
        )?;
        Self::audit(
            &tx,
            user,
            "model.rollback",
            &target,
            serde_json::json!({"retired": current.model.version, "reason": reason}),
        )?;
        tx.commit()?;
        Ok((current.model.version, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Verification;
    use crate::store::Store;

    fn model(version: &str, trainer: &str) -> NewModel {
        NewModel {
            version: version.into(),
            trainer: trainer.into(),
            artefact_path: format!("models/{version}.json.gz"),
            artefact_sha256: "ab".repeat(32),
            data_fingerprint: "sha256:00".into(),
            parameters: serde_json::json!({"learning_rate": 0.05}),
            metrics: serde_json::json!({"auc": 0.91}),
            card: ModelCard {
                intended_use: "rank import declarations for inspection".into(),
                data: "KCS synthetic 2020".into(),
                limits: "not for export declarations".into(),
                evaluated_on: Some("2021-Q1".into()),
                performance_by_office: vec![GroupPerformance {
                    group: "40".into(),
                    declarations: 100,
                    frauds: 20,
                    auc: Some(0.9),
                    precision_at_10: Some(0.8),
                }],
                performance_by_origin: Vec::new(),
            },
        }
    }

    fn state(store: &Store, v: &str) -> ModelState {
        store
            .registry()
            .get(v)
            .expect("read")
            .expect("registered")
            .state
    }

    fn actions(store: &Store) -> Vec<String> {
        store
            .audit()
            .records()
            .expect("records")
            .into_iter()
            .filter_map(|r| match r.event() {
                Ok(AuditEvent::Governance(g)) => {
                    Some(format!("{} {} by {}", g.action, g.subject, r.user))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_model_goes_draft_approved_active_retired_with_an_audit_record_per_step() {
        let store = Store::open_in_memory().expect("store");
        let reg = store.registry();
        let e = reg.register(&model("m1", "ana"), "ana").expect("register");
        assert_eq!(e.state, ModelState::Draft);
        assert_eq!(e.model.card.performance_by_office[0].group, "40");
        assert!(matches!(
            reg.require_active(),
            Err(RegistryError::NoActiveModel)
        ));

        let e = reg
            .approve("m1", "ben", "AUC 0.91 on 2021-Q1, card reviewed")
            .expect("approve");
        assert_eq!(
            (e.state, e.approved_by.as_deref()),
            (ModelState::Approved, Some("ben"))
        );
        assert_eq!(reg.activate("m1", "ben").expect("activate"), None);
        assert_eq!(reg.require_active().expect("active").model.version, "m1");
        reg.retire("m1", "ben", "end of pilot").expect("retire");
        assert_eq!(state(&store, "m1"), ModelState::Retired);
        assert!(reg.active().expect("read").is_none());
        assert_eq!(
            actions(&store),
            [
                "model.register m1 by ana",
                "model.approve m1 by ben",
                "model.activate m1 by ben",
                "model.retire m1 by ben"
            ]
        );
        assert!(matches!(
            store.audit().verify().expect("verify"),
            Verification::Intact { records: 4, .. }
        ));
    }

    #[test]
    fn the_trainer_cannot_approve_their_own_model() {
        let store = Store::open_in_memory().expect("store");
        let reg = store.registry();
        reg.register(&model("m1", "ana"), "ana").expect("register");
        for same in ["ana", "ANA", " ana "] {
            match reg.approve("m1", same, "looks good") {
                Err(RegistryError::FourEyes { version, user }) => {
                    assert_eq!((version.as_str(), user.as_str()), ("m1", same));
                }
                other => panic!("expected four-eyes refusal for {same:?}, got {other:?}"),
            }
        }
        assert_eq!(state(&store, "m1"), ModelState::Draft);
        // Refusals leave no audit record.
        assert_eq!(actions(&store), ["model.register m1 by ana"]);
        assert!(matches!(
            reg.approve("m1", "ben", "  "),
            Err(RegistryError::ReasonRequired(_))
        ));
        assert!(matches!(
            reg.approve("m1", "", "ok"),
            Err(RegistryError::NoUser)
        ));
        reg.approve("m1", "ben", "independent review")
            .expect("approve");
    }

    #[test]
    fn invalid_transitions_are_refused() {
        let store = Store::open_in_memory().expect("store");
        let reg = store.registry();
        reg.register(&model("m1", "ana"), "ana").expect("register");
        assert!(matches!(
            reg.register(&model("m1", "ana"), "ana"),
            Err(RegistryError::AlreadyRegistered(_))
        ));
        // A draft cannot score.
        assert!(matches!(
            reg.activate("m1", "ben"),
            Err(RegistryError::InvalidTransition {
                from: ModelState::Draft,
                to: ModelState::Active,
                ..
            })
        ));
        reg.approve("m1", "ben", "ok").expect("approve");
        assert!(matches!(
            reg.approve("m1", "cho", "again"),
            Err(RegistryError::InvalidTransition {
                from: ModelState::Approved,
                ..
            })
        ));
        reg.retire("m1", "ben", "withdrawn").expect("retire");
        assert!(matches!(
            reg.activate("m1", "ben"),
            Err(RegistryError::InvalidTransition {
                from: ModelState::Retired,
                ..
            })
        ));
        assert!(matches!(
            reg.activate("nope", "ben"),
            Err(RegistryError::UnknownModel(_))
        ));
    }

    #[test]
    fn one_active_model_and_rollback_in_one_call() {
        let store = Store::open_in_memory().expect("store");
        let reg = store.registry();
        for v in ["m1", "m2", "m3"] {
            reg.register(&model(v, "ana"), "ana").expect("register");
            reg.approve(v, "ben", "ok").expect("approve");
        }
        assert!(matches!(
            reg.rollback("ben", "x"),
            Err(RegistryError::NoActiveModel)
        ));
        reg.activate("m1", "ben").expect("activate");
        assert!(matches!(
            reg.rollback("ben", "x"),
            Err(RegistryError::NothingToRollBackTo)
        ));
        assert_eq!(
            reg.activate("m2", "ben").expect("activate"),
            Some("m1".into())
        );
        assert_eq!(
            reg.activate("m3", "ben").expect("activate"),
            Some("m2".into())
        );
        let active: Vec<_> = reg
            .list()
            .expect("list")
            .into_iter()
            .filter(|m| m.state == ModelState::Active)
            .map(|m| m.model.version)
            .collect();
        assert_eq!(active, ["m3"]);

        assert_eq!(
            reg.rollback("cho", "drift alert on m3").expect("rollback"),
            ("m3".into(), "m2".into())
        );
        assert_eq!(reg.require_active().expect("active").model.version, "m2");
        // m3 was withdrawn, not superseded: the next rollback goes to m1, not back to m3.
        assert_eq!(
            reg.rollback("cho", "again").expect("rollback"),
            ("m2".into(), "m1".into())
        );
        assert!(matches!(
            reg.rollback("cho", "again"),
            Err(RegistryError::NothingToRollBackTo)
        ));
        assert_eq!(state(&store, "m3"), ModelState::Retired);
        assert!(actions(&store).contains(&"model.rollback m2 by cho".to_string()));
        // The database itself refuses a second active model.
        let err = store
            .conn()
            .execute(
                "UPDATE models SET state = 'active' WHERE version = 'm2'",
                [],
            )
            .expect_err("unique active");
        assert!(err.to_string().contains("UNIQUE"), "{err}");
    }
}
