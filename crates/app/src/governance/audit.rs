//! The audit log as use cases: verify (chain, registry replay, signed checkpoints), export,
//! and the checkpoint key and witness files.
//!
//! Checkpoint keys live in files the caller names, never in the store: someone who can rewrite
//! the database must not also be able to sign for the rewritten chain.

use crate::{AppError, Result};
use borderline_governance::audit::{AuditLog, AuditRecord, Verification};
use borderline_governance::checkpoint::{self, Checkpoint, CheckpointKey, PublicKey};
use borderline_governance::integrity::{verify_store, AuditReport};
use borderline_governance::replay::registry_findings;
use borderline_governance::rulebook::rule_set_findings;
use borderline_governance::store::{in_tx, now};
use borderline_governance::GovernanceStore;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// A witness file of signed checkpoints and the public key they must verify with.
#[derive(Debug, Clone)]
pub struct Witness {
    pub file: PathBuf,
    pub public_key: PathBuf,
}

/// Walks the hash chain and compares the registry tables with the registry state replayed
/// from it.
pub fn verify(store: &dyn GovernanceStore) -> Result<AuditReport> {
    verify_with(store, None)
}

/// [`verify`], and checks every checkpoint of `witness` (signature, and that the chain still
/// has the signed hash at the signed length).
pub fn verify_with(store: &dyn GovernanceStore, witness: Option<&Witness>) -> Result<AuditReport> {
    let Some(w) = witness else {
        return Ok(verify_store(store, None)?);
    };
    let key = read_public_key(&w.public_key)?;
    let checkpoints = read_witness(&w.file)?;
    Ok(verify_store(store, Some((&checkpoints, &key)))?)
}

/// The newest `n` records, newest first (an auditor's page).
pub fn recent(store: &dyn GovernanceStore, n: usize) -> Result<Vec<AuditRecord>> {
    let mut ring = std::collections::VecDeque::with_capacity(n.min(1024));
    AuditLog::new(store).for_each(|r| {
        if ring.len() == n {
            ring.pop_front();
        }
        if n > 0 {
            ring.push_back(r);
        }
        Ok(())
    })?;
    Ok(ring.into_iter().rev().collect())
}

/// Writes every record as JSON Lines; returns how many.
pub fn export(store: &dyn GovernanceStore, out: &mut dyn Write) -> Result<u64> {
    Ok(AuditLog::new(store).export_jsonl(out)?)
}

/// Key files written by [`keygen`].
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub key: PathBuf,
    pub public_key: PathBuf,
    /// Short fingerprint of the public key, to quote in procedures.
    pub fingerprint: String,
}

/// The public key file that goes with a key file: `KEY.pub`.
pub fn public_key_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates a checkpoint signing key into `key` (readable by its owner only) and its public
/// key into `KEY.pub`. Refuses to overwrite either file.
pub fn keygen(key: &Path) -> Result<KeyFiles> {
    let public_key = public_key_path(key);
    for p in [key, public_key.as_path()] {
        if p.exists() {
            return Err(AppError::Invalid(format!(
                "{} exists; a checkpoint key is never overwritten (choose another path)",
                p.display()
            )));
        }
    }
    let k = CheckpointKey::generate();
    write_new(key, &format!("{}\n", k.to_text()), true)?;
    let public = k.public();
    write_new(&public_key, &format!("{}\n", public.to_text()), false)?;
    Ok(KeyFiles {
        key: key.to_path_buf(),
        public_key,
        fingerprint: public.fingerprint(),
    })
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let what = format!("writing {}", path.display());
    let mut f = opts.open(path).map_err(AppError::io(what.clone()))?;
    f.write_all(text.as_bytes())
        .map_err(AppError::io(what.clone()))?;
    f.sync_all().map_err(AppError::io(what))
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(AppError::io(format!("reading {}", path.display())))
}

pub fn read_public_key(path: &Path) -> Result<PublicKey> {
    PublicKey::from_text(&read_text(path)?)
        .map_err(|e| AppError::Invalid(format!("{}: {e}", path.display())))
}

/// The checkpoints of a witness file (JSON Lines; blank lines skipped). A line that does not
/// parse is an error naming the line: a witness must be readable to vouch for anything.
pub fn read_witness(path: &Path) -> Result<Vec<Checkpoint>> {
    let what = format!("reading {}", path.display());
    let f = std::fs::File::open(path).map_err(AppError::io(what.clone()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(AppError::io(what.clone()))?;
        if line.trim().is_empty() {
            continue;
        }
        let cp: Checkpoint = serde_json::from_str(&line).map_err(|e| {
            AppError::Invalid(format!(
                "{}: line {}: not a checkpoint: {e}",
                path.display(),
                i + 1
            ))
        })?;
        out.push(cp);
    }
    Ok(out)
}

/// Signs the chain's head with the key in `key` and appends the checkpoint to `witness`
/// (created if absent). Refused when the chain is broken or the registry or the analyst rule
/// sets disagree with it:
/// a checkpoint vouches only for a log that verifies.
pub fn checkpoint(store: &dyn GovernanceStore, key: &Path, witness: &Path) -> Result<Checkpoint> {
    let k = CheckpointKey::from_text(&read_text(key)?)
        .map_err(|e| AppError::Invalid(format!("{}: {e}", key.display())))?;
    let cp = in_tx(store, false, |tx| -> Result<Checkpoint> {
        let mut verifier = borderline_governance::audit::Verifier::default();
        tx.audit_scan(None, &mut |r| {
            verifier.push(&r);
            Ok(())
        })?;
        if let v @ Verification::Broken { .. } = verifier.finish() {
            return Err(AppError::Invalid(format!("not checkpointed: {v}")));
        }
        let findings = registry_findings(tx)?;
        if let Some(f) = findings.first() {
            return Err(AppError::Invalid(format!(
                "not checkpointed: the model registry disagrees with the audit log ({} findings; first: {f})",
                findings.len()
            )));
        }
        let findings = rule_set_findings(tx)?;
        if let Some(f) = findings.first() {
            return Err(AppError::Invalid(format!(
                "not checkpointed: the analyst rule sets disagree with the audit log ({} findings; first: {f})",
                findings.len()
            )));
        }
        Ok(checkpoint::sign_head(tx, &k, &now())?)
    })?;
    let what = format!("appending to {}", witness.display());
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(witness)
        .map_err(AppError::io(what.clone()))?;
    let line = serde_json::to_string(&cp).map_err(|e| AppError::Invalid(e.to_string()))?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(AppError::io(what.clone()))?;
    f.sync_all().map_err(AppError::io(what))?;
    Ok(cp)
}

/// Which audit records a search keeps (all fields optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// The acting account, exactly (case-insensitive).
    pub actor: Option<String>,
    /// The action or its prefix: `decision`, `case.`, `model.rollback`, ...
    pub action: Option<String>,
    /// Recorded on or after / on or before these days (UTC), inclusive.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// One audit record as a search shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRow {
    pub seq: u64,
    pub recorded_at: String,
    pub user: String,
    /// `decision`, or the governance action (`model.approve`, `case.close`, ...).
    pub action: String,
    /// The declaration id of a decision, else what the action acted on.
    pub subject: String,
    /// A decision's lane (`None` for governance actions).
    pub lane: Option<borderline_core::Lane>,
    pub hash: String,
}

impl AuditRow {
    fn of(r: &AuditRecord) -> AuditRow {
        use borderline_governance::audit::AuditEvent;
        let (action, subject, lane) = match r.event() {
            Ok(AuditEvent::Decision(d)) => ("decision".to_string(), d.declaration_id, Some(d.lane)),
            Ok(AuditEvent::Governance(g)) => (g.action, g.subject, None),
            Err(_) => (r.kind.clone(), String::from("(unreadable body)"), None),
        };
        AuditRow {
            seq: r.seq,
            recorded_at: r.recorded_at.clone(),
            user: r.user.clone(),
            action,
            subject,
            lane,
            hash: r.hash.clone(),
        }
    }
}

impl AuditFilter {
    fn keeps(&self, row: &AuditRow) -> bool {
        let day = row.recorded_at.get(..10).unwrap_or_default();
        let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok();
        self.actor
            .as_deref()
            .is_none_or(|a| a.trim().eq_ignore_ascii_case(&row.user))
            && self
                .action
                .as_deref()
                .is_none_or(|a| row.action.starts_with(a.trim()))
            && self.from.is_none_or(|f| day.is_some_and(|d| d >= f))
            && self.to.is_none_or(|t| day.is_some_and(|d| d <= t))
    }
}

/// Records that pass `filter`: the newest `limit`, newest first, and how many matched in all
/// (one pass over the chain).
pub fn search(
    store: &dyn GovernanceStore,
    filter: &AuditFilter,
    limit: usize,
) -> Result<(Vec<AuditRow>, u64)> {
    let mut ring = std::collections::VecDeque::with_capacity(limit.min(1024));
    let mut matched = 0u64;
    AuditLog::new(store).for_each(|r| {
        let row = AuditRow::of(&r);
        if filter.keeps(&row) {
            matched += 1;
            if ring.len() == limit {
                ring.pop_front();
            }
            if limit > 0 {
                ring.push_back(row);
            }
        }
        Ok(())
    })?;
    Ok((ring.into_iter().rev().collect(), matched))
}

/// Writes the records that pass `filter` as CSV (oldest first; columns seq, recorded_at, user,
/// action, subject, lane, hash); returns how many.
pub fn export_csv(
    store: &dyn GovernanceStore,
    filter: &AuditFilter,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| AppError::Io {
        what: "writing the audit CSV".into(),
        source: e.into(),
    };
    w.write_record([
        "seq",
        "recorded_at",
        "user",
        "action",
        "subject",
        "lane",
        "hash",
    ])
    .map_err(csv_err)?;
    let mut n = 0u64;
    let mut failed = None;
    AuditLog::new(store).for_each(|r| {
        let row = AuditRow::of(&r);
        if failed.is_none() && filter.keeps(&row) {
            let seq = row.seq.to_string();
            let lane = row.lane.map(|l| l.as_str()).unwrap_or_default();
            if let Err(e) = w.write_record([
                seq.as_str(),
                &row.recorded_at,
                &row.user,
                &row.action,
                &row.subject,
                lane,
                &row.hash,
            ]) {
                failed = Some(e);
            } else {
                n += 1;
            }
        }
        Ok(())
    })?;
    if let Some(e) = failed {
        return Err(csv_err(e));
    }
    w.flush().map_err(AppError::io("writing the audit CSV"))?;
    Ok(n)
}
