//! Signed checkpoints of the audit chain's head, kept outside the store.
//!
//! The hash chain shows a changed, deleted or reordered record, but not a log cut short at the
//! end, emptied, or rewritten from scratch with recomputed hashes (the formula is public).
//! A [`Checkpoint`] is an Ed25519 signature over (chain length, head hash, time), made with a
//! key that never lives in the store, and appended to a witness file elsewhere. Verifying the
//! store against the witness ([`check`]) requires, for each checkpoint, a valid signature by
//! the expected public key and a chain that still has at least that many records with the
//! signed hash at that position. Someone with the database but not the key cannot forge a
//! checkpoint for a rewritten chain.
//!
//! Keys and checkpoints are plain text (hex and JSON); reading and writing their files is the
//! caller's (`borderline_app::governance::audit`).

use crate::audit::AuditRecord;
use crate::store::StoreTx;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Domain separation: a signature over a checkpoint is never valid for anything else.
const CONTEXT: &str = "borderline audit checkpoint v1";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("{what} is not {expected}")]
    BadKey {
        what: &'static str,
        expected: &'static str,
    },
}

/// A signed statement that the audit chain had `length` records, the last with hash `head`,
/// at time `at`. One JSON line of a witness file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub length: u64,
    pub head: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The signing key's public key (hex), so a reader sees which key signed.
    pub public_key: String,
    /// Ed25519 signature (hex) over the context, length, head and time.
    pub signature: String,
}

fn message(length: u64, head: &str, at: &str) -> Vec<u8> {
    let mut m = Vec::new();
    let length = length.to_string();
    for field in [CONTEXT, &length, head, at] {
        m.extend_from_slice(&(field.len() as u64).to_le_bytes());
        m.extend_from_slice(field.as_bytes());
    }
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The secret key that signs checkpoints. Held in a file outside the store (never in it).
pub struct CheckpointKey(SigningKey);

/// The public key that verifies checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl CheckpointKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> CheckpointKey {
        CheckpointKey(SigningKey::generate(&mut rand_core06::OsRng))
    }

    /// Reads a key written by [`CheckpointKey::to_text`] (64 hex digits).
    pub fn from_text(text: &str) -> Result<CheckpointKey, CheckpointError> {
        let seed = unhex::<32>(text).ok_or(CheckpointError::BadKey {
            what: "the checkpoint key",
            expected: "64 hex digits (an Ed25519 secret key written by `audit keygen`)",
        })?;
        Ok(CheckpointKey(SigningKey::from_bytes(&seed)))
    }

    pub fn to_text(&self) -> String {
        hex(&self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs that the chain has `length` records ending in `head`, at `at`.
    pub fn sign(&self, length: u64, head: &str, at: &str) -> Checkpoint {
        let sig = self.0.sign(&message(length, head, at));
        Checkpoint {
            length,
            head: head.to_string(),
            at: at.to_string(),
            public_key: self.public().to_text(),
            signature: hex(&sig.to_bytes()),
        }
    }
}

impl PublicKey {
    pub fn from_text(text: &str) -> Result<PublicKey, CheckpointError> {
        let bad = CheckpointError::BadKey {
            what: "the public key",
            expected: "64 hex digits of an Ed25519 public key (the .pub file of `audit keygen`)",
        };
        let bytes = unhex::<32>(text).ok_or(bad.clone())?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad)
    }

    pub fn to_text(&self) -> String {
        hex(self.0.as_bytes())
    }

    /// Short fingerprint for messages: the first 16 hex digits of SHA-256 of the key.
    pub fn fingerprint(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// True when `cp` was signed by this key and not changed since.
    pub fn verifies(&self, cp: &Checkpoint) -> bool {
        let Some(sig) = unhex::<64>(&cp.signature) else {
            return false;
        };
        self.0
            .verify(
                &message(cp.length, &cp.head, &cp.at),
                &Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

/// Signs the head of the store's chain (inside an open transaction); the caller checks first
/// that the chain verifies, so that a broken chain is never vouched for.
pub fn sign_head(
    tx: &mut dyn StoreTx,
    key: &CheckpointKey,
    at: &str,
) -> Result<Checkpoint, crate::StoreError> {
    let (length, head) = tx
        .audit_head()?
        .unwrap_or((0, crate::audit::GENESIS.to_string()));
    Ok(key.sign(length, &head, at))
}

/// How the store disagrees with one checkpoint of the witness file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum CheckpointFinding {
    /// The checkpoint was not signed by the given public key, or was changed after signing.
    BadSignature { line: usize, length: u64 },
    /// The chain has fewer records than the checkpoint vouched for: records were removed from
    /// the end, or all of them.
    Truncated {
        line: usize,
        length: u64,
        chain_length: u64,
    },
    /// The record at the checkpoint's position no longer has the signed hash: the chain was
    /// rewritten (with recomputed hashes) up to there.
    Rewritten {
        line: usize,
        seq: u64,
        signed: String,
        found: String,
    },
}

impl std::fmt::Display for CheckpointFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointFinding::BadSignature { line, length } => write!(
                f,
                "checkpoint on witness line {line} ({length} records) has no valid signature by the given public key"
            ),
            CheckpointFinding::Truncated {
                line,
                length,
                chain_length,
            } => write!(
                f,
                "checkpoint on witness line {line} vouches for {length} records but the audit log has {chain_length}: records were removed"
            ),
            CheckpointFinding::Rewritten {
                line,
                seq,
                signed,
                found,
            } => write!(
                f,
                "checkpoint on witness line {line}: record {seq} has hash {found}, the signed head was {signed}: the log was rewritten"
            ),
        }
    }
}

/// Result of checking a witness file against the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointReport {
    /// Checkpoints read from the witness file.
    pub checked: usize,
    /// Length of the longest checkpoint that held.
    pub covered: u64,
    pub findings: Vec<CheckpointFinding>,
}

/// Collects, in one pass over the chain, what checking `checkpoints` needs: the chain's length
/// and the stored hash at each checkpointed position.
#[derive(Debug, Clone)]
pub struct WitnessCheck<'a> {
    checkpoints: &'a [Checkpoint],
    key: &'a PublicKey,
    hashes: BTreeMap<u64, Option<String>>,
    chain_length: u64,
}

impl<'a> WitnessCheck<'a> {
    pub fn new(checkpoints: &'a [Checkpoint], key: &'a PublicKey) -> Self {
        WitnessCheck {
            checkpoints,
            key,
            hashes: checkpoints.iter().map(|c| (c.length, None)).collect(),
            chain_length: 0,
        }
    }

    /// Sees the next record in sequence order.
    pub fn push(&mut self, r: &AuditRecord) {
        self.chain_length = self.chain_length.max(r.seq);
        if let Some(slot) = self.hashes.get_mut(&r.seq) {
            *slot = Some(r.hash.clone());
        }
    }

    pub fn finish(self) -> CheckpointReport {
        let mut findings = Vec::new();
        let mut covered = 0;
        for (i, cp) in self.checkpoints.iter().enumerate() {
            let line = i + 1;
            if !self.key.verifies(cp) {
                findings.push(CheckpointFinding::BadSignature {
                    line,
                    length: cp.length,
                });
                continue;
            }
            if cp.length == 0 {
                continue;
            }
            match self.hashes.get(&cp.length).cloned().flatten() {
                None => findings.push(CheckpointFinding::Truncated {
                    line,
                    length: cp.length,
                    chain_length: self.chain_length,
                }),
                Some(found) if found != cp.head => findings.push(CheckpointFinding::Rewritten {
                    line,
                    seq: cp.length,
                    signed: cp.head.clone(),
                    found,
                }),
                Some(_) => covered = covered.max(cp.length),
            }
        }
        CheckpointReport {
            checked: self.checkpoints.len(),
            covered,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, hash: &str) -> AuditRecord {
        AuditRecord {
            seq,
            recorded_at: String::new(),
            user: String::new(),
            kind: "governance".into(),
            body: "{}".into(),
            prev_hash: String::new(),
            hash: hash.into(),
        }
    }

    #[test]
    fn keys_round_trip_as_text_and_signatures_bind_every_field() {
        let key = CheckpointKey::generate();
        let again = CheckpointKey::from_text(&key.to_text()).expect("key text");
        assert_eq!(again.public(), key.public());
        let public = PublicKey::from_text(&key.public().to_text()).expect("public text");
        let cp = key.sign(3, "abc", "2026-12-05T00:00:00.000Z");
        assert!(public.verifies(&cp));
        for changed in [
            Checkpoint {
                length: 2,
                ..cp.clone()
            },
            Checkpoint {
                head: "abd".into(),
                ..cp.clone()
            },
            Checkpoint {
                at: "2026-12-06T00:00:00.000Z".into(),
                ..cp.clone()
            },
        ] {
            assert!(!public.verifies(&changed), "{changed:?}");
        }
        assert!(!CheckpointKey::generate().public().verifies(&cp));
        assert!(CheckpointKey::from_text("not a key").is_err());
        assert!(PublicKey::from_text("00").is_err());
    }

    #[test]
    fn a_witness_finds_truncation_and_rewrite() {
        let key = CheckpointKey::generate();
        let public = key.public();
        let cps = [key.sign(2, "h2", "t"), key.sign(3, "h3", "t")];
        let check = |records: &[AuditRecord]| {
            let mut w = WitnessCheck::new(&cps, &public);
            for r in records {
                w.push(r);
            }
            w.finish()
        };
        let intact = check(&[
            record(1, "h1"),
            record(2, "h2"),
            record(3, "h3"),
            record(4, "h4"),
        ]);
        assert_eq!((intact.covered, intact.findings.len()), (3, 0));
        let cut = check(&[record(1, "h1"), record(2, "h2")]);
        assert!(matches!(
            cut.findings[..],
            [CheckpointFinding::Truncated {
                line: 2,
                length: 3,
                chain_length: 2
            }]
        ));
        assert!(matches!(
            check(&[]).findings[..],
            [
                CheckpointFinding::Truncated { .. },
                CheckpointFinding::Truncated { .. }
            ]
        ));
        let rewritten = check(&[record(1, "x1"), record(2, "x2"), record(3, "x3")]);
        assert!(matches!(
            rewritten.findings[..],
            [
                CheckpointFinding::Rewritten { seq: 2, .. },
                CheckpointFinding::Rewritten { seq: 3, .. }
            ]
        ));
        let other = CheckpointKey::generate().public();
        let mut w = WitnessCheck::new(&cps, &other);
        w.push(&record(3, "h3"));
        assert!(matches!(
            w.finish().findings[..],
            [
                CheckpointFinding::BadSignature { .. },
                CheckpointFinding::BadSignature { .. }
            ]
        ));
    }
}
