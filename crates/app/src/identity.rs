//! Identity use cases: the first administrator, accounts, passwords, API tokens, and the
//! [`Authenticator`] a server asks who a request comes from and whether it may do something.
//!
//! The domain (hashing, token storage, the authorization matrix) is in
//! [`borderline_governance::identity`]; these functions only compose it. What they return is
//! shown once where it holds a secret ([`IssuedToken::secret`]); nothing here logs.

use crate::{AppError, Result};
use borderline_governance::identity::{
    Account, ApiToken, Identity, IdentityError, IssuedToken, NewAccount, Permission, Principal,
};
use borderline_governance::GovernanceStore;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

pub use borderline_governance::identity::{allows, any_allows};

/// The first administrator and its first token: only on a store with no account.
pub fn bootstrap_admin(
    store: &dyn GovernanceStore,
    id: &str,
    display_name: Option<&str>,
    password: &str,
) -> Result<(Account, IssuedToken)> {
    let ident = Identity::new(store);
    let account = ident.bootstrap_admin(id, display_name, password)?;
    let admin = ident.authenticate_password(&account.id, password)?;
    let token = ident.create_token(&admin, &account.id, "bootstrap", None)?;
    Ok((account, token))
}

/// True when the store has no account yet (a server refuses to start without one).
pub fn no_accounts(store: &dyn GovernanceStore) -> Result<bool> {
    Ok(Identity::new(store).is_empty()?)
}

pub fn create_account(
    store: &dyn GovernanceStore,
    by: &Principal,
    new: &NewAccount,
) -> Result<Account> {
    Ok(Identity::new(store).create_account(by, new)?)
}

pub fn list_accounts(store: &dyn GovernanceStore, by: &Principal) -> Result<Vec<Account>> {
    Ok(Identity::new(store).accounts(by)?)
}

pub fn disable_account(store: &dyn GovernanceStore, by: &Principal, id: &str) -> Result<Account> {
    Ok(Identity::new(store).disable(by, id)?)
}

pub fn set_password(
    store: &dyn GovernanceStore,
    by: &Principal,
    id: &str,
    password: &str,
) -> Result<Account> {
    Ok(Identity::new(store).set_password(by, id, password)?)
}

pub fn authenticate_password(
    store: &dyn GovernanceStore,
    id: &str,
    password: &str,
) -> Result<Principal> {
    Ok(Identity::new(store).authenticate_password(id, password)?)
}

/// A session's account as it is now (refused once disabled; roles as currently granted).
pub fn reauthenticate(store: &dyn GovernanceStore, id: &str) -> Result<Principal> {
    Ok(Identity::new(store).reauthenticate(id)?)
}

/// Issues a token for `account`, valid for `valid_for` when given.
pub fn create_token(
    store: &dyn GovernanceStore,
    by: &Principal,
    account: &str,
    label: &str,
    valid_for: Option<Duration>,
) -> Result<IssuedToken> {
    if valid_for.is_some_and(|d| d <= Duration::zero()) {
        return Err(AppError::Invalid(
            "a token's validity must be positive".into(),
        ));
    }
    let expires = valid_for.map(|d| Utc::now() + d);
    Ok(Identity::new(store).create_token(by, account, label, expires)?)
}

pub fn list_tokens(
    store: &dyn GovernanceStore,
    by: &Principal,
    account: Option<&str>,
) -> Result<Vec<ApiToken>> {
    Ok(Identity::new(store).tokens(by, account)?)
}

pub fn revoke_token(
    store: &dyn GovernanceStore,
    by: &Principal,
    token_id: &str,
) -> Result<ApiToken> {
    Ok(Identity::new(store).revoke_token(by, token_id)?)
}

/// Authenticates a token's text now.
pub fn authenticate_token(store: &dyn GovernanceStore, token: &str) -> Result<Principal> {
    Ok(Identity::new(store).authenticate_token(token, Utc::now())?)
}

/// Who a request comes from, and whether it may do what it asks: what a server calls for
/// every request before the use case itself.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn GovernanceStore>,
    oidc: Option<Arc<crate::oidc::OidcVerifier>>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn GovernanceStore>) -> Self {
        Authenticator { store, oidc: None }
    }

    /// Also accepts bearer JWTs of an OpenID Connect provider (see [`crate::oidc`]).
    pub fn with_oidc(mut self, verifier: crate::oidc::OidcVerifier) -> Self {
        self.oidc = Some(Arc::new(verifier));
        self
    }

    /// Authenticates an HTTP `Authorization` header value (`Bearer TOKEN`) at `at`.
    pub fn bearer(&self, authorization: Option<&str>, at: DateTime<Utc>) -> Result<Principal> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .ok_or(AppError::Identity(IdentityError::Unauthenticated))?;
        if let Some(oidc) = &self.oidc {
            if crate::oidc::looks_like_jwt(token) {
                return oidc.principal(self.store.as_ref(), token);
            }
        }
        Ok(Identity::new(self.store.as_ref()).authenticate_token(token, at)?)
    }

    /// Authenticates and authorizes in one step.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        permission: Permission,
    ) -> Result<Principal> {
        let who = self.bearer(authorization, Utc::now())?;
        require(&who, permission)?;
        Ok(who)
    }
}

/// Refuses a principal whose roles do not allow `permission`.
pub fn require(who: &Principal, permission: Permission) -> Result<()> {
    if who.may(permission) {
        Ok(())
    } else {
        Err(AppError::Identity(IdentityError::Forbidden {
            actor: who.actor.id.clone(),
            action: format!("{permission:?}"),
        }))
    }
}
