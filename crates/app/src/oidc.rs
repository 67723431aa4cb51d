//! Bearer JWTs from an external OpenID Connect provider, verified against the provider's
//! signing keys (a JWKS document the operator configures; nothing is fetched at run time).
//!
//! A token is accepted when its header names a key of the set (`kid`, or the only key), its
//! signature verifies with that key under the key's algorithm (RS256/384/512, PS256/384/512,
//! ES256/384, EdDSA; never `none` or a shared-secret HMAC), its issuer and audience are the
//! configured ones, and it is within `exp`/`nbf` (60 s leeway). The subject claim (`sub` by
//! default) names a **local account**: the principal is that account with its roles and
//! importer ids as granted here, so the provider proves who someone is and Borderline decides
//! what they may do; a disabled or unknown account is refused like a bad signature.

use crate::{AppError, Result};
use borderline_governance::identity::{Identity, IdentityError, Principal};
use borderline_governance::GovernanceStore;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::path::Path;

/// What an OpenID Connect token must say to be accepted.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer URL (`iss`), exactly.
    pub issuer: String,
    /// This service's client id at the provider (`aud`).
    pub audience: String,
    /// The claim naming the local account (default `sub`; e.g. `preferred_username`).
    pub account_claim: String,
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies provider JWTs against a fixed key set.
pub struct OidcVerifier {
    config: OidcConfig,
    keys: Vec<Key>,
}

const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn key_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters as P, EllipticCurve as C};
    if let Some(a) = jwk.common.key_algorithm {
        return serde_json::to_value(a)
            .ok()
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()));
    }
    match &jwk.algorithm {
        P::RSA(_) => Some(Algorithm::RS256),
        P::EllipticCurve(ec) => match ec.curve {
            C::P256 => Some(Algorithm::ES256),
            C::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        P::OctetKeyPair(okp) if okp.curve == C::Ed25519 => Some(Algorithm::EdDSA),
        _ => None,
    }
}

impl OidcVerifier {
    /// Reads a JWKS document (`{"keys": [...]}`); every key must be an asymmetric signing key
    /// this verifier can use, so a mistake in the file is found at start, not at sign-in.
    pub fn from_jwks(jwks: &str, source: &str, config: OidcConfig) -> Result<OidcVerifier> {
        let set: JwkSet = serde_json::from_str(jwks)
            .map_err(|e| AppError::Invalid(format!("{source}: not a JWKS document: {e}")))?;
        if set.keys.is_empty() {
            return Err(AppError::Invalid(format!("{source}: the key set is empty")));
        }
        if config.issuer.trim().is_empty() || config.audience.trim().is_empty() {
            return Err(AppError::Invalid(
                "an OpenID Connect issuer and audience are both required".into(),
            ));
        }
        let mut keys = Vec::with_capacity(set.keys.len());
        for (i, jwk) in set.keys.iter().enumerate() {
            let name = jwk.common.key_id.clone().unwrap_or_else(|| format!("#{i}"));
            let algorithm = key_algorithm(jwk)
                .filter(|a| ASYMMETRIC.contains(a))
                .ok_or_else(|| {
                    AppError::Invalid(format!(
                        "{source}: key {name} is not an RSA, EC P-256/P-384 or Ed25519 signing key"
                    ))
                })?;
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|e| AppError::Invalid(format!("{source}: key {name}: {e}")))?;
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            });
        }
        Ok(OidcVerifier { config, keys })
    }

    /// Reads the JWKS file at `path`.
    pub fn from_file(path: &Path, config: OidcConfig) -> Result<OidcVerifier> {
        let text = std::fs::read_to_string(path)
            .map_err(AppError::io(format!("cannot read {}", path.display())))?;
        OidcVerifier::from_jwks(&text, &path.display().to_string(), config)
    }

    /// The account a token names, when its signature, issuer, audience and times hold.
    /// Every failure is the same [`IdentityError::Unauthenticated`].
    pub fn account_of(&self, token: &str) -> Result<String> {
        // The reasons are named here for the reader; the caller learns only "unauthenticated".
        let refuse = |_why: &str| AppError::Identity(IdentityError::Unauthenticated);
        let header = jsonwebtoken::decode_header(token).map_err(|_| refuse("bad JWT header"))?;
        let key = match &header.kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
        .ok_or_else(|| refuse("no such key"))?;
        if header.alg != key.algorithm {
            return Err(refuse("algorithm differs from the key's"));
        }
        let mut v = Validation::new(key.algorithm);
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.validate_nbf = true;
        v.leeway = 60;
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key.key, &v)
                .map_err(|_| refuse("signature, issuer, audience or time"))?;
        data.claims
            .get(&self.config.account_claim)
            .and_then(|c| c.as_str())
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| refuse("no account claim"))
    }

    /// The local account's principal for a verified token.
    pub fn principal(&self, store: &dyn GovernanceStore, token: &str) -> Result<Principal> {
        let account = self.account_of(token)?;
        Identity::new(store)
            .reauthenticate(&account)
            .map_err(|_| AppError::Identity(IdentityError::Unauthenticated))
    }
}

/// True when a bearer credential has the shape of a JWT (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}
