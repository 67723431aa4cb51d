//! Who may act, proven: local accounts with argon2 password hashes, revocable API tokens, and
//! the authorization matrix (which role may do what) as data.
//!
//! A front end authenticates a request (a bearer token, a password) through [`Identity`] and
//! gets a [`Principal`]: the [`Actor`] that every audit record then names, with the importer
//! ids a trader account is bound to. Client-supplied names never become actors.
//!
//! Secrets never reach the store or the audit log: a password is kept as its argon2id PHC
//! string, a token as the SHA-256 of its text (the token itself is shown once, at creation).
//! Every account and token change appends a governance record naming who made it, in the same
//! transaction.

use crate::actor::{canonical_id, normalise_id, Actor, ActorError, Role};
use crate::audit::{AuditEvent, GovernanceAction};
use crate::store::{in_tx, now, GovernanceStore, StoreError, StoreTx};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an authenticated actor may do. Each HTTP endpoint and each use case that needs
/// authority names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Score one declaration or rank a batch (risk, lane, reasons).
    ScoreDeclarations,
    /// Look up a recorded decision on a declaration.
    ReadDecisions,
    /// Record officers' decisions and inspection outcomes; take, escalate and close cases.
    RecordOutcomes,
    /// Reassign an inspection case to another officer.
    AssignCases,
    /// Final lanes for a batch with analyst rules.
    SelectLanes,
    TrainModels,
    RegisterModels,
    /// Approve a model registered by someone else (four-eyes is checked by the registry).
    ApproveModels,
    /// Activate, retire, roll back models.
    ActivateModels,
    WriteRules,
    ApproveRules,
    SetCapacities,
    RunSimulations,
    /// PSI and hit rates.
    ReadMonitoring,
    /// Verify and export the audit log.
    ReadAudit,
    /// Model list and model cards.
    ReadModelCards,
    /// Valuation checks against benchmarks (officer tooling).
    CheckValuation,
    /// HS code suggestions and checks.
    ClassifyGoods,
    /// Party screening against watchlists.
    Screen,
    /// Accounts and tokens.
    ManageAccounts,
    /// A trader's check of its own declarations before filing: no score, lane or reasons.
    TraderSelfCheck,
}

impl Permission {
    pub const ALL: [Permission; 21] = [
        Permission::ScoreDeclarations,
        Permission::ReadDecisions,
        Permission::RecordOutcomes,
        Permission::AssignCases,
        Permission::SelectLanes,
        Permission::TrainModels,
        Permission::RegisterModels,
        Permission::ApproveModels,
        Permission::ActivateModels,
        Permission::WriteRules,
        Permission::ApproveRules,
        Permission::SetCapacities,
        Permission::RunSimulations,
        Permission::ReadMonitoring,
        Permission::ReadAudit,
        Permission::ReadModelCards,
        Permission::CheckValuation,
        Permission::ClassifyGoods,
        Permission::Screen,
        Permission::ManageAccounts,
        Permission::TraderSelfCheck,
    ];
}

/// The authorization matrix. Admins manage accounts and see no declarations; auditors only
/// read; traders only check their own declarations; supervisors approve (four-eyes keeps them
/// from approving their own work).
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Officer => matches!(
            permission,
            P::ScoreDeclarations
                | P::ReadDecisions
                | P::RecordOutcomes
                | P::SelectLanes
                | P::CheckValuation
                | P::ClassifyGoods
                | P::Screen
        ),
        Role::Analyst => matches!(
            permission,
            P::TrainModels
                | P::RegisterModels
                | P::WriteRules
                | P::RunSimulations
                | P::ReadModelCards
                | P::ReadMonitoring
                | P::CheckValuation
                | P::ClassifyGoods
                | P::Screen
        ),
        Role::Supervisor => matches!(
            permission,
            P::ApproveModels
                | P::ActivateModels
                | P::AssignCases
                | P::ApproveRules
                | P::SetCapacities
                | P::ReadModelCards
                | P::ReadDecisions
                | P::ReadMonitoring
                | P::ReadAudit
        ),
        Role::Auditor => matches!(
            permission,
            P::ReadAudit | P::ReadModelCards | P::ReadDecisions | P::ReadMonitoring
        ),
        Role::Admin => matches!(permission, P::ManageAccounts),
        Role::Trader => matches!(permission, P::TraderSelfCheck),
    }
}

/// True when any of `roles` allows `permission`.
pub fn any_allows(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| allows(*r, permission))
}

/// A local account as stored. `password_hash` is an argon2id PHC string (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The id as people read it (normalised, see [`normalise_id`]).
    pub id: String,
    /// [`canonical_id`] of `id`: two accounts never share one, so look-alike ids cannot be
    /// two people.
    pub canonical_id: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Importer ids a trader account acts for (empty for customs staff).
    pub importer_ids: Vec<String>,
    pub disabled: bool,
    pub password_hash: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

/// A stored API token: only the SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public id (part of the token text), for listing and revoking.
    pub id: String,
    /// Canonical id of the account it authenticates.
    pub account: String,
    pub label: String,
    pub secret_sha256: String,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// An account offered for creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub id: String,
    pub display_name: Option<String>,
    pub roles: Vec<Role>,
    pub importer_ids: Vec<String>,
    /// `None`: the account authenticates by token only.
    pub password: Option<String>,
}

/// The authenticated party of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    /// For traders: the importers it may see. Empty for customs staff.
    pub importer_ids: Vec<String>,
    /// The token that authenticated it, when a token did.
    pub token_id: Option<String>,
}

impl Principal {
    pub fn may(&self, permission: Permission) -> bool {
        any_allows(&self.actor.roles, permission)
    }

    /// True when a trader principal is bound to `importer` (compared as stored ids).
    pub fn acts_for_importer(&self, importer: &str) -> bool {
        self.importer_ids.iter().any(|i| i == importer)
    }
}

/// A token as created: the text is shown to its holder once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// Deliberately the same for an unknown account, a wrong password, an unknown, revoked or
    /// expired token and a disabled account: a caller learns nothing about which.
    #[error("authentication failed")]
    Unauthenticated,
    #[error("{actor} may not {action}")]
    Forbidden { actor: String, action: String },
    #[error("accounts already exist: the first administrator is created only on an empty store")]
    AlreadyBootstrapped,
    #[error("an account with id {0:?} (or one that looks the same) already exists")]
    Duplicate(String),
    #[error("no account {0:?}")]
    NoAccount(String),
    #[error("no token {0:?}")]
    NoToken(String),
    #[error("invalid account: {field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Token texts start with this, so that a leaked one is easy to recognise (and grep for).
pub const TOKEN_PREFIX: &str = "blt_";

/// SHA-256 (hex) of a token's text: what the store keeps.
pub fn token_sha256(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, IdentityError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| IdentityError::Random(e.to_string()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn hash_password(password: &str) -> Result<String, IdentityError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(IdentityError::Invalid {
            field: "password",
            problem: format!("shorter than {MIN_PASSWORD_CHARS} characters"),
        });
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Hashing(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fixed argon2 hash to verify against when the account does not exist, so that an unknown
/// id costs as much time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"borderline-decoy-password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn audit(
    tx: &mut dyn StoreTx,
    by: &Actor,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    crate::audit::append_in(
        tx,
        by,
        &AuditEvent::Governance(GovernanceAction {
            action: action.into(),
            subject: subject.into(),
            detail,
        }),
    )
    .map(|_| ())
}

fn principal_of(account: &Account, token_id: Option<String>) -> Result<Principal, IdentityError> {
    let actor = Actor::new(&account.id)?
        .with_display_name(&account.display_name)
        .with_roles(&account.roles);
    Ok(Principal {
        actor,
        importer_ids: account.importer_ids.clone(),
        token_id,
    })
}

fn require(by: &Principal, permission: Permission, action: &str) -> Result<(), IdentityError> {
    if by.may(permission) {
        Ok(())
    } else {
        Err(IdentityError::Forbidden {
            actor: by.actor.id.clone(),
            action: action.into(),
        })
    }
}

fn check_new(new: &NewAccount) -> Result<(String, String), IdentityError> {
    let id = normalise_id(&new.id);
    if id.is_empty() {
        return Err(IdentityError::Invalid {
            field: "id",
            problem: "empty".into(),
        });
    }
    if new.roles.is_empty() {
        return Err(IdentityError::Invalid {
            field: "roles",
            problem: "an account needs at least one role".into(),
        });
    }
    let trader = new.roles.contains(&Role::Trader);
    if trader && new.roles.len() > 1 {
        // A trader's view must not be widened by a customs role on the same account.
        return Err(IdentityError::Invalid {
            field: "roles",
            problem: "a trader account has no other role".into(),
        });
    }
    if trader && new.importer_ids.iter().all(|i| i.trim().is_empty()) {
        return Err(IdentityError::Invalid {
            field: "importer_ids",
            problem: "a trader account is bound to at least one importer id".into(),
        });
    }
    if !trader && !new.importer_ids.is_empty() {
        return Err(IdentityError::Invalid {
            field: "importer_ids",
            problem: "only trader accounts are bound to importers".into(),
        });
    }
    Ok((canonical_id(&id), id))
}

/// Accounts and tokens over a governance store.
pub struct Identity<'s> {
    store: &'s dyn GovernanceStore,
}

impl<'s> Identity<'s> {
    pub fn new(store: &'s dyn GovernanceStore) -> Self {
        Identity { store }
    }

    /// True when no account exists yet.
    pub fn is_empty(&self) -> Result<bool, IdentityError> {
        in_tx(self.store, false, |tx| Ok(tx.accounts()?.is_empty()))
    }

    /// Creates the first administrator, only on a store with no account; the audit record
    /// names the new administrator (nobody else exists to name).
    pub fn bootstrap_admin(
        &self,
        id: &str,
        display_name: Option<&str>,
        password: &str,
    ) -> Result<Account, IdentityError> {
        let new = NewAccount {
            id: id.into(),
            display_name: display_name.map(str::to_string),
            roles: vec![Role::Admin],
            importer_ids: Vec::new(),
            password: Some(password.into()),
        };
        let (canonical, id) = check_new(&new)?;
        let hash = hash_password(password)?;
        in_tx(self.store, true, |tx| {
            if !tx.accounts()?.is_empty() {
                return Err(IdentityError::AlreadyBootstrapped);
            }
            let account = Account {
                canonical_id: canonical,
                display_name: new.display_name.clone().unwrap_or_else(|| id.clone()),
                id: id.clone(),
                roles: new.roles.clone(),
                importer_ids: Vec::new(),
                disabled: false,
                password_hash: Some(hash),
                created_at: now(),
                created_by: id.clone(),
            };
            tx.insert_account(&account)?;
            let by = Actor::new(&id)?.with_roles(&account.roles);
            audit(
                tx,
                &by,
                "account.bootstrap",
                &id,
                serde_json::json!({"roles": account.roles}),
            )?;
            Ok(account)
        })
    }

    /// Creates an account (administrators only).
    pub fn create_account(
        &self,
        by: &Principal,
        new: &NewAccount,
    ) -> Result<Account, IdentityError> {
        require(by, Permission::ManageAccounts, "create accounts")?;
        let (canonical, id) = check_new(new)?;
        let hash = new.password.as_deref().map(hash_password).transpose()?;
        let importer_ids: Vec<String> = new
            .importer_ids
            .iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect();
        in_tx(self.store, true, |tx| {
            if tx.account(&canonical)?.is_some() {
                return Err(IdentityError::Duplicate(id.clone()));
            }
            let account = Account {
                canonical_id: canonical.clone(),
                display_name: new.display_name.clone().unwrap_or_else(|| id.clone()),
                id: id.clone(),
                roles: new.roles.clone(),
                importer_ids: importer_ids.clone(),
                disabled: false,
                password_hash: hash.clone(),
                created_at: now(),
                created_by: by.actor.id.clone(),
            };
            tx.insert_account(&account)?;
            audit(
                tx,
                &by.actor,
                "account.create",
                &id,
                serde_json::json!({"roles": account.roles, "importer_ids": account.importer_ids, "password": hash.is_some()}),
            )?;
            Ok(account)
        })
    }

    /// Every account (administrators only).
    pub fn accounts(&self, by: &Principal) -> Result<Vec<Account>, IdentityError> {
        require(by, Permission::ManageAccounts, "list accounts")?;
        in_tx(self.store, false, |tx| Ok(tx.accounts()?))
    }

    /// Disables an account: its password and every token stop working at once.
    pub fn disable(&self, by: &Principal, id: &str) -> Result<Account, IdentityError> {
        require(by, Permission::ManageAccounts, "disable accounts")?;
        self.change(by, id, "account.disable", |a| {
            a.disabled = true;
            Ok(serde_json::json!({}))
        })
    }

    /// Sets an account's password: its holder for itself, or an administrator for anyone.
    pub fn set_password(
        &self,
        by: &Principal,
        id: &str,
        password: &str,
    ) -> Result<Account, IdentityError> {
        if !by.actor.is(id) {
            require(
                by,
                Permission::ManageAccounts,
                "set another account's password",
            )?;
        }
        let hash = hash_password(password)?;
        self.change(by, id, "account.password", move |a| {
            a.password_hash = Some(hash);
            Ok(serde_json::json!({}))
        })
    }

    fn change(
        &self,
        by: &Principal,
        id: &str,
        action: &str,
        f: impl FnOnce(&mut Account) -> Result<serde_json::Value, IdentityError>,
    ) -> Result<Account, IdentityError> {
        in_tx(self.store, true, |tx| {
            let mut account = tx
                .account(&canonical_id(id))?
                .ok_or_else(|| IdentityError::NoAccount(id.into()))?;
            let detail = f(&mut account)?;
            tx.update_account(&account)?;
            audit(tx, &by.actor, action, &account.id, detail)?;
            Ok(account)
        })
    }

    /// Checks a password; the same error for every failure.
    pub fn authenticate_password(
        &self,
        id: &str,
        password: &str,
    ) -> Result<Principal, IdentityError> {
        let account = in_tx(self.store, false, |tx| tx.account(&canonical_id(id)))?;
        let phc = account
            .as_ref()
            .and_then(|a| a.password_hash.as_deref())
            .unwrap_or_else(|| decoy_hash());
        let ok = password_matches(password, phc);
        match account {
            Some(a) if ok && !a.disabled && a.password_hash.is_some() => principal_of(&a, None),
            _ => Err(IdentityError::Unauthenticated),
        }
    }

    /// Issues a token for `account` (administrators, or an account for itself). `expires_at`
    /// is RFC 3339; `None` never expires (revoke it instead).
    pub fn create_token(
        &self,
        by: &Principal,
        account: &str,
        label: &str,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<IssuedToken, IdentityError> {
        if !by.actor.is(account) {
            require(
                by,
                Permission::ManageAccounts,
                "issue tokens for another account",
            )?;
        }
        let (id, secret) = (random_hex(8)?, random_hex(32)?);
        let text = format!("{TOKEN_PREFIX}{id}_{secret}");
        let expires_at = expires_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        in_tx(self.store, true, |tx| {
            let owner = tx
                .account(&canonical_id(account))?
                .ok_or_else(|| IdentityError::NoAccount(account.into()))?;
            let token = ApiToken {
                id: id.clone(),
                account: owner.canonical_id.clone(),
                label: label.into(),
                secret_sha256: token_sha256(&text),
                created_at: now(),
                created_by: by.actor.id.clone(),
                expires_at: expires_at.clone(),
                revoked_at: None,
            };
            tx.insert_token(&token)?;
            audit(
                tx,
                &by.actor,
                "token.create",
                &owner.id,
                serde_json::json!({"token_id": token.id, "label": token.label, "expires_at": token.expires_at}),
            )?;
            Ok(IssuedToken {
                token,
                secret: text.clone(),
            })
        })
    }

    /// Tokens of one account, or of all (administrators; an account may list its own).
    pub fn tokens(
        &self,
        by: &Principal,
        account: Option<&str>,
    ) -> Result<Vec<ApiToken>, IdentityError> {
        match account {
            Some(a) if by.actor.is(a) => {}
            _ => require(by, Permission::ManageAccounts, "list tokens")?,
        }
        let canonical = account.map(canonical_id);
        in_tx(self.store, false, |tx| Ok(tx.tokens(canonical.as_deref())?))
    }

    /// Revokes a token by its id (administrators, or the token's own account).
    pub fn revoke_token(&self, by: &Principal, token_id: &str) -> Result<ApiToken, IdentityError> {
        in_tx(self.store, true, |tx| {
            let mut token = tx
                .tokens(None)?
                .into_iter()
                .find(|t| t.id == token_id)
                .ok_or_else(|| IdentityError::NoToken(token_id.into()))?;
            if by.actor.canonical_id() != token.account {
                require(
                    by,
                    Permission::ManageAccounts,
                    "revoke another account's token",
                )?;
            }
            if token.revoked_at.is_none() {
                token.revoked_at = Some(now());
                tx.update_token(&token)?;
                audit(
                    tx,
                    &by.actor,
                    "token.revoke",
                    &token.account,
                    serde_json::json!({"token_id": token.id}),
                )?;
            }
            Ok(token)
        })
    }

    /// The principal of an account authenticated earlier (a browser session), as the account
    /// is now: refused once it is disabled or gone, with its current roles.
    pub fn reauthenticate(&self, id: &str) -> Result<Principal, IdentityError> {
        let account = in_tx(self.store, false, |tx| tx.account(&canonical_id(id)))?;
        match account {
            Some(a) if !a.disabled => principal_of(&a, None),
            _ => Err(IdentityError::Unauthenticated),
        }
    }

    /// Authenticates a bearer token's text at time `at`; the same error for every failure.
    pub fn authenticate_token(
        &self,
        text: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Principal, IdentityError> {
        if !text.starts_with(TOKEN_PREFIX) || text.len() > 200 {
            return Err(IdentityError::Unauthenticated);
        }
        let hash = token_sha256(text);
        let (token, account) = in_tx(self.store, false, |tx| {
            let Some(token) = tx.token_by_sha256(&hash)? else {
                return Ok((None, None));
            };
            let account = tx.account(&token.account)?;
            Ok::<_, IdentityError>((Some(token), account))
        })?;
        let (Some(token), Some(account)) = (token, account) else {
            return Err(IdentityError::Unauthenticated);
        };
        let expired = token
            .expires_at
            .as_deref()
            .is_some_and(|e| chrono::DateTime::parse_from_rfc3339(e).map_or(true, |e| e <= at));
        if token.revoked_at.is_some() || expired || account.disabled {
            return Err(IdentityError::Unauthenticated);
        }
        principal_of(&account, Some(token.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_admin_has_no_declarations_auditor_only_reads_trader_only_self_checks() {
        for p in Permission::ALL {
            assert_eq!(
                allows(Role::Admin, p),
                p == Permission::ManageAccounts,
                "{p:?}"
            );
            assert_eq!(
                allows(Role::Trader, p),
                p == Permission::TraderSelfCheck,
                "{p:?}"
            );
        }
        let auditor: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| allows(Role::Auditor, *p))
            .collect();
        assert_eq!(
            auditor,
            vec![
                Permission::ReadDecisions,
                Permission::ReadMonitoring,
                Permission::ReadAudit,
                Permission::ReadModelCards
            ]
        );
        assert!(allows(Role::Supervisor, Permission::ApproveModels));
        assert!(!allows(Role::Analyst, Permission::ApproveModels));
        assert!(!allows(Role::Officer, Permission::RegisterModels));
        assert!(allows(Role::Supervisor, Permission::AssignCases));
        assert!(!allows(Role::Officer, Permission::AssignCases));
    }

    #[test]
    fn passwords_hash_and_verify_and_short_ones_are_refused() {
        let phc = hash_password("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &phc));
        assert!(!password_matches("correct horse batterz", &phc));
        assert!(!password_matches("x", "not a phc string"));
        assert!(matches!(
            hash_password("short"),
            Err(IdentityError::Invalid {
                field: "password",
                ..
            })
        ));
    }
}
