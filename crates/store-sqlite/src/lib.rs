//! The embedded governance store: one SQLite file holding the audit log, the model registry,
//! model artefacts (by SHA-256) and inspection feedback, so that a governance action and its
//! audit record commit together.
//!
//! It keeps records and decides nothing: the rules are in `borderline-governance`, and this store
//! passes its contract suite (`tests/contract.rs`). The schema is versioned (`user_version`);
//! [`SqliteStore::open`] applies the migrations a file lacks, and refuses a newer file.
//! Triggers make the audit log, the feedback and the artefacts append-only at the database level
//! too (someone with the file can still drop a trigger; the hash chain is what detects that).

use borderline_governance::audit::{AuditRecord, Decision};
use borderline_governance::capacity::{LaneUsage, UsageRow};
use borderline_governance::cases::{
    prefix_upper_bound, CaseRecord, CaseState, IndexedDecision, QueueHit, QueueQuery,
};
use borderline_governance::feedback::{FeedbackRecord, Outcome};
use borderline_governance::identity::{Account, ApiToken};
use borderline_governance::network::{PartyScreening, TradeLink};
use borderline_governance::registry::{sha256_hex, ModelEntry, ModelState, NewModel};
use borderline_governance::rulebook::{RuleSetEntry, RuleSetState};
use borderline_governance::{GovernanceStore, StoreError, StoreTx};
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Migration `i` takes a database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: audit log, registry, feedback.
    r#"
CREATE TABLE IF NOT EXISTS audit_log (
    seq         INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    user        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE IF NOT EXISTS models (
    version          TEXT PRIMARY KEY,
    state            TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'active', 'retired')),
    superseded       INTEGER NOT NULL DEFAULT 0,
    trainer          TEXT NOT NULL,
    registered_by    TEXT NOT NULL,
    registered_at    TEXT NOT NULL,
    artefact_path    TEXT NOT NULL,
    artefact_sha256  TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    parameters       TEXT NOT NULL,
    metrics          TEXT NOT NULL,
    card             TEXT NOT NULL,
    approved_by      TEXT,
    approval_reason  TEXT,
    approved_at      TEXT,
    activated_at     TEXT,
    retired_at       TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS models_one_active ON models(state) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS model_activations (
    seq          INTEGER PRIMARY KEY,
    version      TEXT NOT NULL REFERENCES models(version),
    activated_at TEXT NOT NULL,
    user         TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS models_no_delete BEFORE DELETE ON models
BEGIN SELECT RAISE(ABORT, 'registered models are retired, never deleted'); END;

CREATE TABLE IF NOT EXISTS feedback (
    id               INTEGER PRIMARY KEY,
    recorded_at      TEXT NOT NULL,
    declaration_id   TEXT NOT NULL,
    decided_on       TEXT NOT NULL,
    decision         TEXT NOT NULL,
    fraud            INTEGER NOT NULL,
    critical_level   INTEGER NOT NULL,
    amount_recovered REAL,
    note             TEXT,
    officer          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_date ON feedback(decided_on);
CREATE TRIGGER IF NOT EXISTS feedback_no_update BEFORE UPDATE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only: record a correction instead'); END;
CREATE TRIGGER IF NOT EXISTS feedback_no_delete BEFORE DELETE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only: record a correction instead'); END;
"#,
    // 2: artefacts by content hash, in the store instead of a path on one machine.
    r#"
CREATE TABLE IF NOT EXISTS artefacts (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS artefacts_no_update BEFORE UPDATE ON artefacts
BEGIN SELECT RAISE(ABORT, 'artefacts are stored by content hash and never changed'); END;
CREATE TRIGGER IF NOT EXISTS artefacts_no_delete BEFORE DELETE ON artefacts
BEGIN SELECT RAISE(ABORT, 'artefacts are stored by content hash and never deleted'); END;
"#,
    // 3: local accounts and API tokens (only the SHA-256 of a token, only the argon2 PHC
    // string of a password).
    r#"
CREATE TABLE IF NOT EXISTS accounts (
    canonical_id  TEXT PRIMARY KEY,
    id            TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    importer_ids  TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS accounts_no_delete BEFORE DELETE ON accounts
BEGIN SELECT RAISE(ABORT, 'accounts are disabled, never deleted'); END;
CREATE TABLE IF NOT EXISTS api_tokens (
    id            TEXT PRIMARY KEY,
    account       TEXT NOT NULL REFERENCES accounts(canonical_id),
    label         TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT
);
CREATE TRIGGER IF NOT EXISTS api_tokens_no_delete BEFORE DELETE ON api_tokens
BEGIN SELECT RAISE(ABORT, 'tokens are revoked, never deleted'); END;
"#,
    // 4: decision keys of the stream workers: (declaration, model version) -> its audit record.
    r#"
CREATE TABLE IF NOT EXISTS decision_keys (
    declaration_id TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    audit_seq      INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (declaration_id, model_version)
);
CREATE TRIGGER IF NOT EXISTS decision_keys_no_update BEFORE UPDATE ON decision_keys
BEGIN SELECT RAISE(ABORT, 'decision keys are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decision_keys_no_delete BEFORE DELETE ON decision_keys
BEGIN SELECT RAISE(ABORT, 'decision keys are append-only'); END;
"#, // 5: the decision index behind inspection queues (rebuilt from the chain here) and
    // inspection cases.
    r#"
CREATE TABLE IF NOT EXISTS decision_index (
    declaration_id TEXT PRIMARY KEY,
    audit_seq      INTEGER NOT NULL,
    lane_rank      INTEGER NOT NULL,
    score          REAL NOT NULL,
    basis          TEXT NOT NULL,
    importer       TEXT,
    hs_code        TEXT,
    office         TEXT,
    decl_date      TEXT
);
CREATE INDEX IF NOT EXISTS decision_index_order ON decision_index(lane_rank, score DESC, declaration_id);
CREATE INDEX IF NOT EXISTS decision_index_importer ON decision_index(importer, lane_rank, score DESC, declaration_id);
CREATE INDEX IF NOT EXISTS decision_index_office ON decision_index(office, lane_rank, score DESC, declaration_id);
CREATE INDEX IF NOT EXISTS decision_index_date ON decision_index(decl_date);
CREATE INDEX IF NOT EXISTS decision_index_hs ON decision_index(hs_code);
CREATE TABLE IF NOT EXISTS cases (
    declaration_id TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ('in_inspection', 'escalated', 'outcome_recorded')),
    holder         TEXT,
    note           TEXT,
    feedback_id    INTEGER REFERENCES feedback(id),
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_state ON cases(state, declaration_id);
CREATE TABLE IF NOT EXISTS scored_inputs (
    input_hash TEXT PRIMARY KEY,
    body       TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS scored_inputs_no_update BEFORE UPDATE ON scored_inputs
BEGIN SELECT RAISE(ABORT, 'scored inputs are stored by content hash and never changed'); END;
"#,
    // 6: the capacity ledger of the stream workers: decisions by lane per office and window
    // (a running count of decision records, updated in the deciding transaction).
    r#"
CREATE TABLE IF NOT EXISTS lane_usage (
    office  TEXT NOT NULL,
    window_id TEXT NOT NULL,
    decided INTEGER NOT NULL CHECK (decided >= 0),
    red     INTEGER NOT NULL CHECK (red >= 0),
    yellow  INTEGER NOT NULL CHECK (yellow >= 0),
    PRIMARY KEY (window_id, office)
);
"#,
    // 7: analyst rule sets: the entry (source text, author, approval) as JSON, the state in its
    // own column (one active set at most).
    r#"
CREATE TABLE IF NOT EXISTS rule_sets (
    version TEXT PRIMARY KEY,
    state   TEXT NOT NULL,
    entry   TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rule_sets_one_active ON rule_sets(state) WHERE state = 'active';
CREATE TRIGGER IF NOT EXISTS rule_sets_no_delete BEFORE DELETE ON rule_sets
BEGIN SELECT RAISE(ABORT, 'rule sets are retired, never deleted'); END;
"#,
    // 8: the analyst rules that hit each declaration's latest decision (one row per rule; the
    // queue's rule filter), rebuilt from the chain here and replaced with the index row.
    r#"
CREATE TABLE IF NOT EXISTS decision_rules (
    declaration_id TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    PRIMARY KEY (rule_id, declaration_id)
);
CREATE INDEX IF NOT EXISTS decision_rules_by_declaration ON decision_rules(declaration_id);
"#,
    // 9: the supplier network kept in the store: trade links between parties (each once, with
    // the declaration that first showed it) and each party's latest screening result, both
    // written in the deciding transaction.
    r#"
CREATE TABLE IF NOT EXISTS trade_links (
    from_party        TEXT NOT NULL,
    to_party          TEXT NOT NULL,
    relation          TEXT NOT NULL,
    first_declaration TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    PRIMARY KEY (from_party, to_party, relation)
);
CREATE INDEX IF NOT EXISTS trade_links_to ON trade_links(to_party);
CREATE TRIGGER IF NOT EXISTS trade_links_no_update BEFORE UPDATE ON trade_links
BEGIN SELECT RAISE(ABORT, 'a trade link keeps the declaration that first showed it'); END;
CREATE TABLE IF NOT EXISTS party_screening (
    party_id      TEXT PRIMARY KEY,
    lists_version TEXT NOT NULL,
    listed        INTEGER NOT NULL CHECK (listed IN (0, 1)),
    result        TEXT NOT NULL,
    screened_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS party_screening_listed ON party_screening(party_id) WHERE listed = 1;
"#,
    // 10: a case page reads the feedback of one importer's declarations, not the whole log.
    r#"
CREATE INDEX IF NOT EXISTS feedback_by_declaration ON feedback(declaration_id, id);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// An open SQLite governance store. The connection sits behind a mutex so that the store can
/// be shared between threads; SQLite's own locking orders writers across processes.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applying missing migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        SqliteStore::init(conn)
    }

    /// Opens an existing database only: for commands that read (a mistyped path must not
    /// silently create an empty, "intact" log).
    pub fn open_existing(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        SqliteStore::open(path)
    }

    /// A throwaway database in memory (tests, simulations).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        // Several officers' commands may touch the file at once: wait for a lock rather than
        // fail, and let readers proceed beside the one writer.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(backend)?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(backend)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::Schema {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let tx = rusqlite::Transaction::new_unchecked(
                &conn,
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(backend)?;
            tx.execute_batch(sql).map_err(backend)?;
            if i == 1 {
                import_artefact_files(&tx)?;
            }
            if i == 4 {
                index_decisions(&tx)?;
            }
            if i == 7 {
                index_decision_rules(&tx)?;
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// The raw connection, for tamper tests (someone with the file and a SQLite shell).
    pub fn raw_connection(&self) -> MutexGuard<'_, Connection> {
        self.lock()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (an open transaction is
        // rolled back on the next BEGIN), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Migration 2: databases of schema 1 referenced artefacts by path; bring the bytes of each
/// registered artefact that is still there with the registered hash into the store.
fn import_artefact_files(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("SELECT artefact_path, artefact_sha256 FROM models")
        .map_err(backend)?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    for (path, sha) in rows {
        if let Ok(bytes) = std::fs::read(&path) {
            if sha256_hex(&bytes) == sha {
                conn.execute(
                    "INSERT OR IGNORE INTO artefacts (sha256, bytes) VALUES (?1, ?2)",
                    params![sha, bytes],
                )
                .map_err(backend)?;
            }
        }
    }
    Ok(())
}

/// Migration 5: the decision index of the decisions already in the chain (the latest of each
/// declaration wins).
fn index_decisions(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("SELECT seq, body FROM audit_log WHERE kind = 'decision' ORDER BY seq")
        .map_err(backend)?;
    let mut rows = stmt.query([]).map_err(backend)?;
    while let Some(r) = rows.next().map_err(backend)? {
        let seq: i64 = r.get(0).map_err(backend)?;
        let body: String = r.get(1).map_err(backend)?;
        let d: Decision = serde_json::from_str(&body)?;
        put_index(conn, &IndexedDecision::of(seq.max(0) as u64, &d))?;
    }
    Ok(())
}

/// Migration 8: the rules that hit the latest decision of each declaration in the chain.
fn index_decision_rules(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("SELECT seq, body FROM audit_log WHERE kind = 'decision' ORDER BY seq")
        .map_err(backend)?;
    let mut rows = stmt.query([]).map_err(backend)?;
    let mut latest: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    while let Some(r) = rows.next().map_err(backend)? {
        let body: String = r.get(1).map_err(backend)?;
        let d: Decision = serde_json::from_str(&body)?;
        latest.insert(
            d.declaration_id.clone(),
            borderline_governance::cases::rule_ids(&d),
        );
    }
    conn.execute("DELETE FROM decision_rules", [])
        .map_err(backend)?;
    for (declaration_id, rules) in latest {
        put_rules(conn, &declaration_id, &rules)?;
    }
    Ok(())
}

/// Replaces the rules that hit `declaration_id`'s latest decision.
fn put_rules(conn: &Connection, declaration_id: &str, rules: &[String]) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM decision_rules WHERE declaration_id = ?1",
        [declaration_id],
    )
    .map_err(backend)?;
    for rule in rules {
        conn.execute(
            "INSERT OR IGNORE INTO decision_rules (declaration_id, rule_id) VALUES (?1, ?2)",
            params![declaration_id, rule],
        )
        .map_err(backend)?;
    }
    Ok(())
}

fn put_index(conn: &Connection, e: &IndexedDecision) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO decision_index (declaration_id, audit_seq, lane_rank, score, basis, importer, hs_code, office, decl_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            e.declaration_id,
            i64::try_from(e.audit_seq).map_err(|_| StoreError::Backend(format!("audit sequence number {} is out of range", e.audit_seq)))?,
            e.lane_rank,
            e.score,
            e.basis,
            e.importer,
            e.hs_code,
            e.office,
            e.date
        ],
    )
    .map_err(backend)?;
    Ok(())
}

const HIT_COLUMNS: &str = "a.seq, a.recorded_at, a.user, a.kind, a.body, a.prev_hash, a.hash, c.declaration_id, c.state, c.holder, c.note, c.feedback_id, c.updated_at, c.updated_by";

fn case_at(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Option<CaseRecord>> {
    let id: Option<String> = r.get(at)?;
    let Some(declaration_id) = id else {
        return Ok(None);
    };
    let state: String = r.get(at + 1)?;
    let state = CaseState::parse(&state).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            at + 1,
            rusqlite::types::Type::Text,
            format!("unknown case state {state:?}").into(),
        )
    })?;
    Ok(Some(CaseRecord {
        declaration_id,
        state,
        holder: r.get(at + 2)?,
        note: r.get(at + 3)?,
        feedback_id: r.get(at + 4)?,
        updated_at: r.get(at + 5)?,
        updated_by: r.get(at + 6)?,
    }))
}

fn hit_row(r: &rusqlite::Row) -> rusqlite::Result<QueueHit> {
    Ok(QueueHit {
        record: audit_row(r)?,
        case: case_at(r, 7)?,
    })
}

/// The WHERE clause of a queue query over `decision_index d LEFT JOIN cases c`, and its
/// parameters.
fn queue_where(q: &QueueQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut cond: Vec<&str> = Vec::new();
    let mut p: Vec<Value> = Vec::new();
    if let Some(l) = q.lane_rank {
        cond.push("d.lane_rank = ?");
        p.push(Value::Integer(l.into()));
    }
    if let Some(o) = &q.office {
        cond.push("d.office = ?");
        p.push(Value::Text(o.clone()));
    }
    if let Some(h) = &q.hs_code_prefix {
        // An index range: prefix <= hs_code < the prefix's upper bound.
        cond.push("d.hs_code >= ?");
        p.push(Value::Text(h.clone()));
        if let Some(u) = prefix_upper_bound(h) {
            cond.push("d.hs_code < ?");
            p.push(Value::Text(u));
        }
    }
    if let Some(i) = &q.importer {
        cond.push("d.importer = ?");
        p.push(Value::Text(i.clone()));
    }
    if let Some(f) = &q.from {
        cond.push("d.decl_date >= ?");
        p.push(Value::Text(f.clone()));
    }
    if let Some(t) = &q.to {
        cond.push("d.decl_date <= ?");
        p.push(Value::Text(t.clone()));
    }
    if let Some(b) = &q.basis {
        cond.push("d.basis = ?");
        p.push(Value::Text(b.clone()));
    }
    if let Some(r) = &q.rule {
        cond.push(
            "d.declaration_id IN (SELECT declaration_id FROM decision_rules WHERE rule_id = ?)",
        );
        p.push(Value::Text(r.clone()));
    }
    match q.case_state {
        None => {}
        Some(CaseState::Pending) => cond.push("c.declaration_id IS NULL"),
        Some(s) => {
            cond.push("c.state = ?");
            p.push(Value::Text(s.as_str().into()));
        }
    }
    let w = if cond.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", cond.join(" AND "))
    };
    (w, p)
}

impl GovernanceStore for SqliteStore {
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        let conn = self.lock();
        conn.execute_batch(if write {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN DEFERRED"
        })
        .map_err(backend)?;
        Ok(Box::new(SqliteTx { conn, open: true }))
    }
}

struct SqliteTx<'a> {
    conn: MutexGuard<'a, Connection>,
    open: bool,
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the caller already has the error that stopped it.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

const AUDIT_COLUMNS: &str = "seq, recorded_at, user, kind, body, prev_hash, hash";

fn audit_row(r: &rusqlite::Row) -> rusqlite::Result<AuditRecord> {
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

const MODEL_COLUMNS: &str = "version, trainer, artefact_sha256, data_fingerprint, parameters, metrics, card, state, superseded, registered_by, registered_at, approved_by, approval_reason, approved_at, activated_at, retired_at";

type RawModel = (
    [String; 7],
    String,
    bool,
    String,
    String,
    [Option<String>; 5],
);

fn model_row(r: &rusqlite::Row) -> rusqlite::Result<RawModel> {
    Ok((
        [
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ],
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        [r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?],
    ))
}

fn model_entry(raw: RawModel) -> Result<ModelEntry, StoreError> {
    let (text, state, superseded, registered_by, registered_at, opt) = raw;
    let [version, trainer, artefact_sha256, data_fingerprint, parameters, metrics, card] = text;
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

const FEEDBACK_COLUMNS: &str = "id, recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer";

fn feedback_row(r: &rusqlite::Row) -> rusqlite::Result<FeedbackRecord> {
    let date: String = r.get(3)?;
    let decided_on = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(FeedbackRecord {
        id: r.get(0)?,
        recorded_at: r.get(1)?,
        outcome: Outcome {
            declaration_id: r.get(2)?,
            decided_on,
            decision: r.get(4)?,
            fraud: r.get(5)?,
            critical_level: r.get(6)?,
            amount_recovered: r.get(7)?,
            note: r.get(8)?,
            reported_officer: r.get(9)?,
        },
    })
}

impl StoreTx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(backend)?;
        self.open = false;
        Ok(())
    }

    fn audit_head(&mut self) -> Result<Option<(u64, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)),
            )
            .optional()
            .map_err(backend)
    }

    fn audit_append(&mut self, r: &AuditRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit_log (seq, recorded_at, user, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.seq as i64, r.recorded_at, r.user, r.kind, r.body, r.prev_hash, r.hash],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn audit_len(&mut self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(n.max(0) as u64)
    }

    fn audit_scan(
        &mut self,
        kind: Option<&str>,
        visit: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE ?1 IS NULL OR kind = ?1 ORDER BY seq"
            ))
            .map_err(backend)?;
        let mut rows = stmt.query([kind]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            visit(audit_row(r).map_err(backend)?)?;
        }
        Ok(())
    }

    fn model(&mut self, version: &str) -> Result<Option<ModelEntry>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {MODEL_COLUMNS} FROM models WHERE version = ?1"),
                [version],
                model_row,
            )
            .optional()
            .map_err(backend)?
            .map(model_entry)
            .transpose()
    }

    fn models(&mut self) -> Result<Vec<ModelEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {MODEL_COLUMNS} FROM models ORDER BY rowid"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([], model_row).map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(model_entry(r.map_err(backend)?)?);
        }
        Ok(out)
    }

    fn insert_model(&mut self, e: &ModelEntry) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO models (version, trainer, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card, state, superseded, registered_by, registered_at, approved_by, approval_reason, approved_at, activated_at, retired_at)
                 VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    e.model.version,
                    e.model.trainer,
                    e.model.artefact_sha256,
                    e.model.data_fingerprint,
                    serde_json::to_string(&e.model.parameters)?,
                    serde_json::to_string(&e.model.metrics)?,
                    serde_json::to_string(&e.model.card)?,
                    e.state.as_str(),
                    e.superseded,
                    e.registered_by,
                    e.registered_at,
                    e.approved_by,
                    e.approval_reason,
                    e.approved_at,
                    e.activated_at,
                    e.retired_at,
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn update_model(&mut self, e: &ModelEntry) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE models SET trainer = ?2, artefact_sha256 = ?3, data_fingerprint = ?4, parameters = ?5, metrics = ?6, card = ?7, state = ?8, superseded = ?9, registered_by = ?10, registered_at = ?11, approved_by = ?12, approval_reason = ?13, approved_at = ?14, activated_at = ?15, retired_at = ?16
                 WHERE version = ?1",
                params![
                    e.model.version,
                    e.model.trainer,
                    e.model.artefact_sha256,
                    e.model.data_fingerprint,
                    serde_json::to_string(&e.model.parameters)?,
                    serde_json::to_string(&e.model.metrics)?,
                    serde_json::to_string(&e.model.card)?,
                    e.state.as_str(),
                    e.superseded,
                    e.registered_by,
                    e.registered_at,
                    e.approved_by,
                    e.approval_reason,
                    e.approved_at,
                    e.activated_at,
                    e.retired_at,
                ],
            )
            .map_err(backend)?;
        if n != 1 {
            return Err(StoreError::Backend(format!(
                "model {} is not in the registry",
                e.model.version
            )));
        }
        Ok(())
    }

    fn record_activation(
        &mut self,
        version: &str,
        at: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO model_activations (version, activated_at, user) VALUES (?1, ?2, ?3)",
                params![version, at, actor],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn activations(&mut self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT version FROM model_activations ORDER BY seq")
            .map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn put_artefact(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO artefacts (sha256, bytes) VALUES (?1, ?2)",
                params![sha256, bytes],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn artefact(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .query_row(
                "SELECT bytes FROM artefacts WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
    }

    fn insert_feedback(&mut self, recorded_at: &str, o: &Outcome) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO feedback (recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    recorded_at,
                    o.declaration_id,
                    o.decided_on.to_string(),
                    o.decision,
                    o.fraud,
                    o.critical_level,
                    o.amount_recovered,
                    o.note,
                    o.reported_officer
                ],
            )
            .map_err(backend)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn feedback(&mut self) -> Result<Vec<FeedbackRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {FEEDBACK_COLUMNS} FROM feedback ORDER BY id"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([], feedback_row).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn feedback_of(
        &mut self,
        declaration_ids: &[String],
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        // The ids travel as one JSON array parameter, so the statement is the same for any
        // number of declarations.
        let ids = serde_json::to_string(declaration_ids)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {FEEDBACK_COLUMNS} FROM feedback
                 WHERE declaration_id IN (SELECT value FROM json_each(?1)) ORDER BY id"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([ids], feedback_row).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn account(&mut self, canonical_id: &str) -> Result<Option<Account>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE canonical_id = ?1"),
                [canonical_id],
                account_row,
            )
            .optional()
            .map_err(backend)?
            .map(account_entry)
            .transpose()
    }

    fn accounts(&mut self) -> Result<Vec<Account>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY rowid"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([], account_row).map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(account_entry(r.map_err(backend)?)?);
        }
        Ok(out)
    }

    fn insert_account(&mut self, a: &Account) -> Result<(), StoreError> {
        self.conn
            .execute(
                &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    a.canonical_id,
                    a.id,
                    a.display_name,
                    serde_json::to_string(&a.roles)?,
                    serde_json::to_string(&a.importer_ids)?,
                    a.disabled,
                    a.password_hash,
                    a.created_at,
                    a.created_by
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn update_account(&mut self, a: &Account) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE accounts SET id = ?2, display_name = ?3, roles = ?4, importer_ids = ?5, disabled = ?6, password_hash = ?7, created_at = ?8, created_by = ?9 WHERE canonical_id = ?1",
                params![
                    a.canonical_id,
                    a.id,
                    a.display_name,
                    serde_json::to_string(&a.roles)?,
                    serde_json::to_string(&a.importer_ids)?,
                    a.disabled,
                    a.password_hash,
                    a.created_at,
                    a.created_by
                ],
            )
            .map_err(backend)?;
        if n != 1 {
            return Err(StoreError::Backend(format!("no account {}", a.id)));
        }
        Ok(())
    }

    fn insert_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        self.conn
            .execute(
                &format!("INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    t.id,
                    t.account,
                    t.label,
                    t.secret_sha256,
                    t.created_at,
                    t.created_by,
                    t.expires_at,
                    t.revoked_at
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn token_by_sha256(&mut self, secret_sha256: &str) -> Result<Option<ApiToken>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_sha256 = ?1"),
                [secret_sha256],
                token_row,
            )
            .optional()
            .map_err(backend)
    }

    fn tokens(&mut self, account: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ?1 IS NULL OR account = ?1 ORDER BY rowid"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([account], token_row).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn update_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE api_tokens SET account = ?2, label = ?3, secret_sha256 = ?4, created_at = ?5, created_by = ?6, expires_at = ?7, revoked_at = ?8 WHERE id = ?1",
                params![
                    t.id,
                    t.account,
                    t.label,
                    t.secret_sha256,
                    t.created_at,
                    t.created_by,
                    t.expires_at,
                    t.revoked_at
                ],
            )
            .map_err(backend)?;
        if n != 1 {
            return Err(StoreError::Backend(format!("no token {}", t.id)));
        }
        Ok(())
    }

    fn decision_key(
        &mut self,
        declaration_id: &str,
        model_version: &str,
    ) -> Result<Option<u64>, StoreError> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT audit_seq FROM decision_keys WHERE declaration_id = ?1 AND model_version = ?2",
                [declaration_id, model_version],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        seq.map(|s| {
            u64::try_from(s)
                .map_err(|_| StoreError::Backend(format!("negative audit sequence number {s}")))
        })
        .transpose()
    }

    fn insert_decision_key(
        &mut self,
        declaration_id: &str,
        model_version: &str,
        audit_seq: u64,
    ) -> Result<(), StoreError> {
        let seq = i64::try_from(audit_seq).map_err(|_| {
            StoreError::Backend(format!("audit sequence number {audit_seq} is out of range"))
        })?;
        self.conn
            .execute(
                "INSERT INTO decision_keys (declaration_id, model_version, audit_seq) VALUES (?1, ?2, ?3)",
                params![declaration_id, model_version, seq],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn index_decision(&mut self, entry: &IndexedDecision) -> Result<(), StoreError> {
        put_index(&self.conn, entry)?;
        put_rules(&self.conn, &entry.declaration_id, &entry.rules)
    }

    fn latest_decision(&mut self, declaration_id: &str) -> Result<Option<QueueHit>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {HIT_COLUMNS} FROM decision_index d JOIN audit_log a ON a.seq = d.audit_seq
                     LEFT JOIN cases c ON c.declaration_id = d.declaration_id WHERE d.declaration_id = ?1"
                ),
                [declaration_id],
                hit_row,
            )
            .optional()
            .map_err(backend)
    }

    fn queue_page(&mut self, q: &QueueQuery) -> Result<(Vec<QueueHit>, u64), StoreError> {
        let (w, mut p) = queue_where(q);
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM decision_index d LEFT JOIN cases c ON c.declaration_id = d.declaration_id {w}"),
                rusqlite::params_from_iter(p.iter()),
                |r| r.get(0),
            )
            .map_err(backend)?;
        p.push(rusqlite::types::Value::Integer(
            i64::try_from(q.limit).unwrap_or(i64::MAX),
        ));
        p.push(rusqlite::types::Value::Integer(
            i64::try_from(q.offset).unwrap_or(i64::MAX),
        ));
        // The page is chosen on the index alone (skipped rows never touch the audit log),
        // then joined to its records.
        let mut stmt = self
            .conn
            .prepare(&format!(
                "WITH page AS (SELECT d.rowid AS id FROM decision_index d
                     LEFT JOIN cases c ON c.declaration_id = d.declaration_id {w}
                     ORDER BY d.lane_rank, d.score DESC, d.declaration_id LIMIT ? OFFSET ?)
                 SELECT {HIT_COLUMNS} FROM page JOIN decision_index d ON d.rowid = page.id
                 JOIN audit_log a ON a.seq = d.audit_seq
                 LEFT JOIN cases c ON c.declaration_id = d.declaration_id
                 ORDER BY d.lane_rank, d.score DESC, d.declaration_id"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(p.iter()), hit_row)
            .map_err(backend)?;
        let hits = rows.collect::<Result<_, _>>().map_err(backend)?;
        Ok((hits, total.max(0) as u64))
    }

    fn case(&mut self, declaration_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT declaration_id, state, holder, note, feedback_id, updated_at, updated_by FROM cases WHERE declaration_id = ?1",
                [declaration_id],
                |r| case_at(r, 0),
            )
            .optional()
            .map_err(backend)
            .map(Option::flatten)
    }

    fn put_scored_input(&mut self, input_hash: &str, body: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO scored_inputs (input_hash, body) VALUES (?1, ?2)",
                params![input_hash, body],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn rule_set(&mut self, version: &str) -> Result<Option<RuleSetEntry>, StoreError> {
        Ok(self.rule_set_rows(Some(version))?.into_iter().next())
    }

    fn rule_sets(&mut self) -> Result<Vec<RuleSetEntry>, StoreError> {
        self.rule_set_rows(None)
    }

    fn insert_rule_set(&mut self, e: &RuleSetEntry) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO rule_sets (version, state, entry) VALUES (?1, ?2, ?3)",
                params![e.version, e.state.as_str(), serde_json::to_string(e)?],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn scored_input(&mut self, input_hash: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT body FROM scored_inputs WHERE input_hash = ?1",
                [input_hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
    }

    fn put_case(&mut self, c: &CaseRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO cases (declaration_id, state, holder, note, feedback_id, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    c.declaration_id,
                    c.state.as_str(),
                    c.holder,
                    c.note,
                    c.feedback_id,
                    c.updated_at,
                    c.updated_by
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn add_trade_links(&mut self, links: &[TradeLink]) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO trade_links (from_party, to_party, relation, first_declaration, first_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )
            .map_err(backend)?;
        let mut added = 0;
        for l in links {
            added += stmt
                .execute(params![
                    l.from,
                    l.to,
                    l.relation,
                    l.first_declaration,
                    l.first_seen
                ])
                .map_err(backend)? as u64;
        }
        Ok(added)
    }

    fn trade_links_of(&mut self, parties: &[&str]) -> Result<Vec<TradeLink>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT from_party, to_party, relation, first_declaration, first_seen FROM trade_links
                 WHERE from_party = ?1 OR to_party = ?1",
            )
            .map_err(backend)?;
        let mut out = Vec::new();
        for p in parties {
            let rows = stmt.query_map([p], |r| link_at(r, 0)).map_err(backend)?;
            for row in rows {
                out.push(row.map_err(backend)?);
            }
        }
        out.sort_by(|a, b| (&a.from, &a.to, &a.relation).cmp(&(&b.from, &b.to, &b.relation)));
        out.dedup();
        Ok(out)
    }

    fn links_to_listed(
        &mut self,
        parties: &[&str],
    ) -> Result<Vec<(TradeLink, PartyScreening)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT l.from_party, l.to_party, l.relation, l.first_declaration, l.first_seen,
                        s.party_id, s.lists_version, s.listed, s.result, s.screened_at
                 FROM trade_links l JOIN party_screening s ON s.party_id = l.to_party AND s.listed = 1
                 WHERE l.from_party = ?1
                 UNION ALL
                 SELECT l.from_party, l.to_party, l.relation, l.first_declaration, l.first_seen,
                        s.party_id, s.lists_version, s.listed, s.result, s.screened_at
                 FROM trade_links l JOIN party_screening s ON s.party_id = l.from_party AND s.listed = 1
                 WHERE l.to_party = ?1",
            )
            .map_err(backend)?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for p in parties {
            if !seen.insert(*p) {
                continue;
            }
            let rows = stmt
                .query_map([p], |r| Ok((link_at(r, 0)?, screening_at(r, 5)?)))
                .map_err(backend)?;
            for row in rows {
                out.push(row.map_err(backend)?);
            }
        }
        out.sort_by(|a, b| {
            (&a.0.from, &a.0.to, &a.0.relation, &a.1.party_id).cmp(&(
                &b.0.from,
                &b.0.to,
                &b.0.relation,
                &b.1.party_id,
            ))
        });
        Ok(out)
    }

    fn put_party_screenings(&mut self, results: &[PartyScreening]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO party_screening (party_id, lists_version, listed, result, screened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (party_id) DO UPDATE SET lists_version = excluded.lists_version,
                     listed = excluded.listed, result = excluded.result, screened_at = excluded.screened_at",
            )
            .map_err(backend)?;
        for p in results {
            stmt.execute(params![
                p.party_id,
                p.lists_version,
                p.listed,
                p.result,
                p.screened_at
            ])
            .map_err(backend)?;
        }
        Ok(())
    }

    fn party_screenings(
        &mut self,
        parties: &[&str],
    ) -> Result<std::collections::HashMap<String, PartyScreening>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT party_id, lists_version, listed, result, screened_at FROM party_screening
                 WHERE party_id = ?1",
            )
            .map_err(backend)?;
        let mut out = std::collections::HashMap::new();
        for p in parties {
            if let Some(s) = stmt
                .query_row([p], |r| screening_at(r, 0))
                .optional()
                .map_err(backend)?
            {
                out.insert(s.party_id.clone(), s);
            }
        }
        Ok(out)
    }

    fn lane_usage(&mut self, office: &str, window: &str) -> Result<Option<LaneUsage>, StoreError> {
        let row: Option<(i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT decided, red, yellow FROM lane_usage WHERE office = ?1 AND window_id = ?2",
                [office, window],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(backend)?;
        row.map(usage_from).transpose()
    }

    fn put_lane_usage(
        &mut self,
        office: &str,
        window: &str,
        usage: &LaneUsage,
    ) -> Result<(), StoreError> {
        let [decided, red, yellow] = usage_to(usage)?;
        self.conn
            .execute(
                "INSERT INTO lane_usage (office, window_id, decided, red, yellow) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (window_id, office) DO UPDATE SET decided = excluded.decided, red = excluded.red, yellow = excluded.yellow",
                params![office, window, decided, red, yellow],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn lane_usages(&mut self, from: &str, to: &str) -> Result<Vec<UsageRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT office, window_id, decided, red, yellow FROM lane_usage
                 WHERE window_id >= ?1 AND window_id <= ?2 ORDER BY window_id, office",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([from, to], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    (r.get(2)?, r.get(3)?, r.get(4)?),
                ))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (office, window, counts) = row.map_err(backend)?;
            out.push(UsageRow {
                office,
                window,
                usage: usage_from(counts)?,
            });
        }
        Ok(out)
    }

    fn update_rule_set(&mut self, e: &RuleSetEntry) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE rule_sets SET state = ?2, entry = ?3 WHERE version = ?1",
                params![e.version, e.state.as_str(), serde_json::to_string(e)?],
            )
            .map_err(backend)?;
        if n != 1 {
            return Err(StoreError::Backend(format!("no rule set {}", e.version)));
        }
        Ok(())
    }
}

impl SqliteTx<'_> {
    fn rule_set_rows(&mut self, version: Option<&str>) -> Result<Vec<RuleSetEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT state, entry FROM rule_sets WHERE ?1 IS NULL OR version = ?1 ORDER BY rowid",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([version], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            let (state, entry) = r.map_err(backend)?;
            out.push(rule_set_entry(&state, &entry)?);
        }
        Ok(out)
    }
}

fn usage_from((decided, red, yellow): (i64, i64, i64)) -> Result<LaneUsage, StoreError> {
    let n = |v: i64| {
        u64::try_from(v).map_err(|_| StoreError::Backend(format!("negative lane count {v}")))
    };
    Ok(LaneUsage {
        decided: n(decided)?,
        red: n(red)?,
        yellow: n(yellow)?,
    })
}

fn usage_to(u: &LaneUsage) -> Result<[i64; 3], StoreError> {
    let n = |v: u64| {
        i64::try_from(v).map_err(|_| StoreError::Backend(format!("lane count {v} is out of range")))
    };
    Ok([n(u.decided)?, n(u.red)?, n(u.yellow)?])
}

/// A stored rule set: the state column is what the store holds (and what a tamperer changes).
fn rule_set_entry(state: &str, entry: &str) -> Result<RuleSetEntry, StoreError> {
    let mut e: RuleSetEntry = serde_json::from_str(entry)?;
    e.state = RuleSetState::parse(state)
        .ok_or_else(|| StoreError::Backend(format!("unknown rule set state {state:?}")))?;
    Ok(e)
}

const ACCOUNT_COLUMNS: &str = "canonical_id, id, display_name, roles, importer_ids, disabled, password_hash, created_at, created_by";

type RawAccount = ([String; 5], bool, Option<String>, [String; 2]);

fn account_row(r: &rusqlite::Row) -> rusqlite::Result<RawAccount> {
    Ok((
        [r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
        r.get(5)?,
        r.get(6)?,
        [r.get(7)?, r.get(8)?],
    ))
}

fn account_entry(raw: RawAccount) -> Result<Account, StoreError> {
    let (
        [canonical_id, id, display_name, roles, importer_ids],
        disabled,
        password_hash,
        [created_at, created_by],
    ) = raw;
    Ok(Account {
        canonical_id,
        id,
        display_name,
        roles: serde_json::from_str(&roles)?,
        importer_ids: serde_json::from_str(&importer_ids)?,
        disabled,
        password_hash,
        created_at,
        created_by,
    })
}

const TOKEN_COLUMNS: &str =
    "id, account, label, secret_sha256, created_at, created_by, expires_at, revoked_at";

fn token_row(r: &rusqlite::Row) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        account: r.get(1)?,
        label: r.get(2)?,
        secret_sha256: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

fn link_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<TradeLink> {
    Ok(TradeLink {
        from: r.get(at)?,
        to: r.get(at + 1)?,
        relation: r.get(at + 2)?,
        first_declaration: r.get(at + 3)?,
        first_seen: r.get(at + 4)?,
    })
}

fn screening_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<PartyScreening> {
    Ok(PartyScreening {
        party_id: r.get(at)?,
        lists_version: r.get(at + 1)?,
        listed: r.get(at + 2)?,
        result: r.get(at + 3)?,
        screened_at: r.get(at + 4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_commands_do_not_create_a_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("typo.db");
        assert!(matches!(
            SqliteStore::open_existing(&path),
            Err(StoreError::Missing(_))
        ));
        assert!(!path.exists());
        SqliteStore::open(&path).expect("create");
        SqliteStore::open_existing(&path).expect("exists now");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.db");
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("pragma");
        drop(conn);
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::Schema { found, .. }) if found == SCHEMA_VERSION + 1
        ));
    }

    #[test]
    fn a_version_1_database_is_migrated_and_its_artefact_files_imported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, artefact) = (dir.path().join("v1.db"), dir.path().join("m.json"));
        std::fs::write(&artefact, b"model bytes").expect("artefact");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(MIGRATIONS[0]).expect("v1 schema");
        conn.pragma_update(None, "user_version", 1).expect("pragma");
        conn.execute(
            "INSERT INTO models (version, state, trainer, registered_by, registered_at, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card)
             VALUES ('m1', 'draft', 'ana', 'ana', 't', ?1, ?2, 'f', '{}', '{}', ?3)",
            params![
                artefact.display().to_string(),
                sha256_hex(b"model bytes"),
                serde_json::to_string(&borderline_governance::registry::ModelCard::default())
                    .expect("card")
            ],
        )
        .expect("v1 model");
        drop(conn);
        let store = SqliteStore::open(&path).expect("migrated");
        let version: i64 = store
            .raw_connection()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let reg = borderline_governance::Registry::new(&store);
        let (_, bytes) = reg.artefact("m1").expect("imported artefact");
        assert_eq!(bytes, b"model bytes");
    }

    #[test]
    fn a_version_7_database_gets_the_rules_of_its_decisions_from_the_chain() {
        use borderline_core::{Reason, ReasonKind};
        use borderline_governance::audit::{AuditEvent, AuditLog, Decision};
        use borderline_governance::cases::{Cases, QueueQuery};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v7.db");
        let decision = |id: &str, rules: &[&str]| Decision {
            declaration_id: id.into(),
            input_hash: "0".repeat(64),
            model_version: "m-1".into(),
            rules_version: "r-1".into(),
            score: 0.5,
            lane: borderline_governance::Lane::Red,
            basis: borderline_governance::selectivity::Basis::Rule,
            why: "test".into(),
            reasons: rules
                .iter()
                .map(|r| Reason {
                    kind: ReasonKind::Rule,
                    code: (*r).into(),
                    text: "hit".into(),
                    contribution: None,
                })
                .collect(),
            subject: None,
        };
        {
            let store = SqliteStore::open(&path).expect("open");
            let officer = borderline_governance::Actor::new("officer.kim").expect("actor");
            let events: Vec<AuditEvent> = [
                decision("A", &["R-1"]),
                decision("B", &["R-1", "R-2"]),
                decision("A", &["R-2"]),
            ]
            .into_iter()
            .map(AuditEvent::Decision)
            .collect();
            AuditLog::new(&store)
                .append_all(&officer, &events)
                .expect("append");
            // Back to schema 7: the chain and the index, no rules table.
            let conn = store.raw_connection();
            conn.execute_batch("DROP TABLE decision_rules")
                .expect("drop");
            conn.pragma_update(None, "user_version", 7).expect("pragma");
        }
        let store = SqliteStore::open(&path).expect("migrated");
        let ids = |rule: &str| -> Vec<String> {
            let q = QueueQuery {
                rule: Some(rule.into()),
                limit: 10,
                ..QueueQuery::default()
            };
            let (hits, _) = Cases::new(&store).queue(&q).expect("queue");
            hits.iter()
                .map(|h| match h.record.event().expect("event") {
                    AuditEvent::Decision(d) => d.declaration_id,
                    other => panic!("not a decision: {other:?}"),
                })
                .collect()
        };
        // A's latest decision was hit by R-2 only.
        assert_eq!(ids("R-1"), vec!["B".to_string()]);
        assert_eq!(ids("R-2"), vec!["A".to_string(), "B".to_string()]);
    }
}
