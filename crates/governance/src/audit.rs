//! The audit log: every scoring decision and governance action, appended to a hash chain.
//!
//! Record `k` stores `hash_k = SHA-256(prev_hash, seq, kind, recorded_at, user, body)` over the
//! length-prefixed fields (so no bytes can move from one field to the next unnoticed) and
//! `prev_hash = hash_{k-1}` (64 zeros for the first record). Changing any byte of a record
//! breaks its own hash; deleting a record leaves a gap in `seq` (or, if the rest were
//! renumbered, broken hashes); reordering breaks the `prev_hash` links. [`AuditLog::verify`]
//! reports the first sequence number where the chain breaks. Deleting records from the end
//! leaves a valid shorter chain: compare the head hash [`Verification::Intact`] reports with
//! one kept elsewhere (a printed report, a ticket) to detect that.
//!
//! The API only appends and reads; the database refuses UPDATE and DELETE on the table too.

use crate::lane::Lane;
use crate::selectivity::Basis;
use crate::store::{now, write_tx, StoreError};
use borderline_core::Reason;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A scoring decision on one declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub declaration_id: String,
    /// Hash of the declaration as scored, so the input can be proven later.
    pub input_hash: String,
    pub model_version: String,
    pub rules_version: String,
    pub score: f64,
    pub lane: Lane,
    pub basis: Basis,
    /// Why this lane (random draw, rule, exploration, score rank), in one sentence.
    pub why: String,
    pub reasons: Vec<Reason>,
}

/// A governance action (model registered, approved, activated, feedback recorded, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernanceAction {
    /// e.g. `model.approve`.
    pub action: String,
    /// What it acted on, e.g. a model version or a declaration id.
    pub subject: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    Decision(Decision),
    Governance(GovernanceAction),
}

impl AuditEvent {
    fn kind(&self) -> &'static str {
        match self {
            AuditEvent::Decision(_) => "decision",
            AuditEvent::Governance(_) => "governance",
        }
    }

    fn body(&self) -> Result<String, serde_json::Error> {
        match self {
            AuditEvent::Decision(d) => serde_json::to_string(d),
            AuditEvent::Governance(g) => serde_json::to_string(g),
        }
    }
}

/// One stored record. `body` is the exact JSON text that was hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub recorded_at: String,
    pub user: String,
    pub kind: String,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The event, parsed from `body`.
    pub fn event(&self) -> Result<AuditEvent, StoreError> {
        Ok(match self.kind.as_str() {
            "decision" => AuditEvent::Decision(serde_json::from_str(&self.body)?),
            _ => AuditEvent::Governance(serde_json::from_str(&self.body)?),
        })
    }

    /// The hash this record's fields give (equal to `hash` unless the record was changed).
    pub fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.kind,
            &self.recorded_at,
            &self.user,
            &self.body,
        )
    }
}

fn chain_hash(prev: &str, seq: u64, kind: &str, at: &str, user: &str, body: &str) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for field in [prev, &seq, kind, at, user, body] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// How the chain breaks at a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// The record's fields do not give its stored hash: its content was changed.
    Altered,
    /// The record does not point at the hash of the record before it: a record before it was
    /// removed or inserted, or records were reordered.
    Unlinked,
    /// The sequence number expected here is absent: the record was deleted.
    Missing,
}

/// Result of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    Intact {
        records: u64,
        /// Hash of the last record (GENESIS for an empty log): keep it elsewhere to detect
        /// later truncation.
        head: String,
    },
    Broken {
        /// First sequence number where the chain breaks.
        seq: u64,
        problem: Break,
        /// Records before `seq` that verified.
        verified: u64,
    },
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Intact { records, head } => {
                write!(f, "audit log intact: {records} records, head {head}")
            }
            Verification::Broken { seq, problem, .. } => {
                let what = match problem {
                    Break::Altered => "its content was changed (hash mismatch)",
                    Break::Unlinked => {
                        "it does not follow the record before it (records removed, inserted or reordered)"
                    }
                    Break::Missing => "it is missing (deleted)",
                };
                write!(f, "audit log broken at record {seq}: {what}")
            }
        }
    }
}

/// Append and read access to the audit log.
pub struct AuditLog<'c> {
    conn: &'c Connection,
}

const COLUMNS: &str = "seq, recorded_at, user, kind, body, prev_hash, hash";

fn row(r: &rusqlite::Row) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get::<_, i64>(0)?.max(0) as u64,
        recorded_at: r.get(1)?,
        user: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}

impl<'c> AuditLog<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        AuditLog { conn }
    }

    /// Appends one event; returns its sequence number.
    pub fn append(&self, user: &str, event: &AuditEvent) -> Result<u64, StoreError> {
        let tx = write_tx(self.conn)?;
        let seq = append_in(&tx, user, event)?;
        tx.commit()?;
        Ok(seq)
    }

    /// Appends events in one transaction (all or none); returns their sequence numbers.
    pub fn append_all(&self, user: &str, events: &[AuditEvent]) -> Result<Vec<u64>, StoreError> {
        let tx = write_tx(self.conn)?;
        let mut seqs = Vec::with_capacity(events.len());
        for e in events {
            seqs.push(append_in(&tx, user, e)?);
        }
        tx.commit()?;
        Ok(seqs)
    }

    /// Number of records.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Visits every record in sequence order.
    pub fn for_each(
        &self,
        mut f: impl FnMut(AuditRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(row(r)?)?;
        }
        Ok(())
    }

    /// All records in sequence order.
    pub fn records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out = Vec::new();
        self.for_each(|r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// The latest decision logged for each declaration (by declaration id).
    pub fn latest_decisions(&self) -> Result<HashMap<String, Decision>, StoreError> {
        let mut out = HashMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM audit_log WHERE kind = 'decision' ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let body: String = r.get(0)?;
            let d: Decision = serde_json::from_str(&body)?;
            out.insert(d.declaration_id.clone(), d);
        }
        Ok(out)
    }

    /// Walks the whole chain and reports the first break, if any.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        let mut expected_seq = 1u64;
        let mut prev = GENESIS.to_string();
        let mut broken: Option<Verification> = None;
        self.for_each(|r| {
            if broken.is_some() {
                return Ok(());
            }
            let verified = expected_seq - 1;
            let problem = if r.seq != expected_seq {
                Some((expected_seq, Break::Missing))
            } else if r.prev_hash != prev {
                Some((r.seq, Break::Unlinked))
            } else if r.computed_hash() != r.hash {
                Some((r.seq, Break::Altered))
            } else {
                None
            };
            match problem {
                Some((seq, problem)) => {
                    broken = Some(Verification::Broken {
                        seq,
                        problem,
                        verified,
                    })
                }
                None => {
                    prev = r.hash;
                    expected_seq += 1;
                }
            }
            Ok(())
        })?;
        Ok(broken.unwrap_or(Verification::Intact {
            records: expected_seq - 1,
            head: prev,
        }))
    }

    /// Writes every record as one JSON object per line (fields of [`AuditRecord`]; `body` is
    /// the exact hashed JSON text, so the export can be verified independently).
    pub fn export_jsonl(&self, out: &mut dyn Write) -> Result<u64, ExportError> {
        let mut n = 0u64;
        let mut failure: Option<ExportError> = None;
        self.for_each(|r| {
            if failure.is_none() {
                let written = serde_json::to_writer(&mut *out, &r)
                    .map_err(ExportError::from)
                    .and_then(|_| out.write_all(b"\n").map_err(ExportError::from));
                match written {
                    Ok(()) => n += 1,
                    Err(e) => failure = Some(e),
                }
            }
            Ok(())
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Json(#[from] serde_json::Error),
}

/// Appends inside an open write transaction (used by the registry and feedback so that an
/// action and its audit record commit together).
pub(crate) fn append_in(
    conn: &Connection,
    user: &str,
    event: &AuditEvent,
) -> Result<u64, StoreError> {
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match head {
        Some((s, h)) => (s.max(0) as u64 + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let (kind, body, at) = (event.kind(), event.body()?, now());
    let hash = chain_hash(&prev, seq, kind, &at, user, &body);
    conn.execute(
        "INSERT INTO audit_log (seq, recorded_at, user, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq as i64, at, user, kind, body, prev, hash],
    )?;
    Ok(seq)
}

/// SHA-256 of any serialisable input, as hex: the `input_hash` of a decision.
pub fn input_hash<T: Serialize>(input: &T) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(input)?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use borderline_core::ReasonKind;

    fn decision(i: usize) -> AuditEvent {
        AuditEvent::Decision(Decision {
            declaration_id: format!("DECL-{i:04}"),
            input_hash: format!("{i:064x}"),
            model_version: "risk-0123456789abcdef".into(),
            rules_version: "rules-fedcba9876543210".into(),
            score: i as f64 / 100.0,
            lane: if i.is_multiple_of(3) {
                Lane::Red
            } else {
                Lane::Green
            },
            basis: Basis::Score,
            why: format!("risk score rank {i} of 100 within the red lane capacity"),
            reasons: vec![Reason {
                kind: ReasonKind::Model,
                code: "importer_fraud_rate".into(),
                text: format!("importer's past fraud rate {i}%"),
                contribution: Some(0.5),
            }],
        })
    }

    fn log_of(n: usize) -> Store {
        let store = Store::open_in_memory().expect("store");
        let events: Vec<AuditEvent> = (1..=n).map(decision).collect();
        store
            .audit()
            .append_all("officer.kim", &events)
            .expect("append");
        store
    }

    /// Lifts the database's append-only triggers, as someone editing the file directly could.
    fn tamper(store: &Store, sql: &str) {
        store
            .conn()
            .execute_batch(&format!(
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}"
            ))
            .expect("tamper");
    }

    fn broken_at(store: &Store) -> (u64, Break) {
        match store.audit().verify().expect("verify") {
            Verification::Broken { seq, problem, .. } => (seq, problem),
            ok => panic!("tampering not detected: {ok}"),
        }
    }

    #[test]
    fn an_untouched_chain_verifies_and_links_each_record_to_the_one_before() {
        let store = log_of(10);
        let records = store.audit().records().expect("records");
        assert_eq!(records.len(), 10);
        assert_eq!(records[0].prev_hash, GENESIS);
        for w in records.windows(2) {
            assert_eq!(w[1].prev_hash, w[0].hash);
            assert_eq!(w[1].seq, w[0].seq + 1);
        }
        assert_eq!(
            store.audit().verify().expect("verify"),
            Verification::Intact {
                records: 10,
                head: records[9].hash.clone()
            }
        );
        assert_eq!(records[4].event().expect("parses"), decision(5));
        let empty = Store::open_in_memory().expect("store");
        assert_eq!(
            empty.audit().verify().expect("verify"),
            Verification::Intact {
                records: 0,
                head: GENESIS.into()
            }
        );
    }

    #[test]
    fn the_database_refuses_updates_and_deletes() {
        let store = log_of(3);
        for sql in [
            "UPDATE audit_log SET user = 'someone.else' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 3",
        ] {
            let err = store.conn().execute(sql, []).expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert!(matches!(
            store.audit().verify().expect("verify"),
            Verification::Intact { records: 3, .. }
        ));
    }

    #[test]
    fn changing_one_byte_of_a_record_is_found_at_that_record() {
        // One byte in the body (a lane), the user, the time, and the stored hash.
        for sql in [
            "UPDATE audit_log SET body = replace(body, '\"lane\":\"green\"', '\"lane\":\"greeN\"') WHERE seq = 7",
            "UPDATE audit_log SET user = 'officer.kin' WHERE seq = 7",
            "UPDATE audit_log SET recorded_at = substr(recorded_at, 1, 3) || '9' || substr(recorded_at, 5) WHERE seq = 7",
            "UPDATE audit_log SET hash = substr(hash, 1, 63) || (CASE substr(hash, 64) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE seq = 7",
        ] {
            let store = log_of(10);
            tamper(&store, sql);
            assert_eq!(broken_at(&store), (7, Break::Altered), "{sql}");
        }
    }

    #[test]
    fn changing_one_byte_in_the_database_file_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("borderline.db");
        {
            let store = Store::open(&path).expect("open");
            let events: Vec<AuditEvent> = (1..=20).map(decision).collect();
            store
                .audit()
                .append_all("officer.kim", &events)
                .expect("append");
        }
        // Checkpointed into the main file on close; flip one byte of record 12's reason text.
        let mut bytes = std::fs::read(&path).expect("read");
        let needle = b"importer's past fraud rate 12%";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("record text in the file");
        bytes[at + needle.len() - 2] = b'9';
        std::fs::write(&path, &bytes).expect("write");
        let store = Store::open(&path).expect("reopen");
        assert_eq!(broken_at(&store), (12, Break::Altered));
    }

    #[test]
    fn deleting_one_record_is_found_at_the_gap() {
        let store = log_of(10);
        tamper(&store, "DELETE FROM audit_log WHERE seq = 4");
        assert_eq!(broken_at(&store), (4, Break::Missing));

        // Renumbering the rest to hide the gap breaks the links instead.
        let store = log_of(10);
        tamper(
            &store,
            "DELETE FROM audit_log WHERE seq = 4; UPDATE audit_log SET seq = seq - 1 WHERE seq > 4",
        );
        assert_eq!(broken_at(&store), (4, Break::Unlinked));
    }

    #[test]
    fn swapping_two_records_is_found_at_the_first_of_them() {
        let store = log_of(10);
        // Exchange the sequence numbers of records 3 and 8 (their contents change places).
        tamper(
            &store,
            "UPDATE audit_log SET seq = -3 WHERE seq = 3;
             UPDATE audit_log SET seq = 3 WHERE seq = 8;
             UPDATE audit_log SET seq = 8 WHERE seq = -3;",
        );
        assert_eq!(broken_at(&store), (3, Break::Unlinked));

        // Swapping adjacent records with their hashes recomputed still breaks the links.
        let store = log_of(10);
        tamper(
            &store,
            "UPDATE audit_log SET seq = -5 WHERE seq = 5;
             UPDATE audit_log SET seq = 5 WHERE seq = 6;
             UPDATE audit_log SET seq = 6 WHERE seq = -5;",
        );
        let records = store.audit().records().expect("records");
        for r in &records {
            let hash = r.computed_hash();
            tamper_quiet(&store, r.seq, &hash);
        }
        assert_eq!(broken_at(&store), (5, Break::Unlinked));
    }

    fn tamper_quiet(store: &Store, seq: u64, hash: &str) {
        store
            .conn()
            .execute(
                "UPDATE audit_log SET hash = ?1 WHERE seq = ?2",
                params![hash, seq as i64],
            )
            .expect("update");
    }

    #[test]
    fn export_writes_one_verifiable_json_object_per_record() {
        let store = log_of(5);
        store
            .audit()
            .append(
                "officer.lee",
                &AuditEvent::Governance(GovernanceAction {
                    action: "model.approve".into(),
                    subject: "risk-1".into(),
                    detail: serde_json::json!({"reason": "validated on 2021-Q1"}),
                }),
            )
            .expect("append");
        let mut out = Vec::new();
        assert_eq!(store.audit().export_jsonl(&mut out).expect("export"), 6);
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<AuditRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one record per line"))
            .collect();
        assert_eq!(lines.len(), 6);
        let mut prev = GENESIS.to_string();
        for r in &lines {
            assert_eq!(r.prev_hash, prev);
            assert_eq!(r.computed_hash(), r.hash);
            prev = r.hash.clone();
        }
        assert_eq!(lines[5].kind, "governance");
        assert_eq!(lines[5].user, "officer.lee");
    }

    #[test]
    fn input_hash_changes_with_the_input() {
        let a = input_hash(&("D1", 100.0)).expect("hash");
        assert_eq!(a, input_hash(&("D1", 100.0)).expect("hash"));
        assert_ne!(a, input_hash(&("D1", 100.5)).expect("hash"));
        assert_eq!(a.len(), 64);
    }
}
