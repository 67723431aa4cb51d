//! The governance database: one SQLite file holding the audit log, the model registry and
//! inspection feedback, so that a governance action and its audit record commit together.

use crate::audit::AuditLog;
use crate::feedback::FeedbackLog;
use crate::registry::Registry;
use rusqlite::Connection;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("governance database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("no governance database at {0} (give --db PATH or set BORDERLINE_DB)")]
    Missing(String),
    #[error("governance database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("governance database holds an unreadable record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("governance database has schema version {found}; this build knows version {expected} (upgrade borderline)")]
    Schema { found: i64, expected: i64 },
}

const SCHEMA_VERSION: i64 = 1;

/// Tables and the triggers that make the audit log and the feedback log append-only at the
/// database level too, not only through this API: an UPDATE or DELETE aborts. (Someone with
/// the file can still drop a trigger; the hash chain is what detects that.)
const SCHEMA: &str = r#"
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
-- Only one active model, enforced by the database itself.
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
"#;

/// An open governance database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Store::init(conn)
    }

    /// Opens an existing database: for commands that only read (a mistyped path must not
    /// silently create an empty, "intact" log).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        Store::open(path)
    }

    /// A throwaway database in memory (tests, simulations).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        // Several officers' commands may touch the file at once: wait for a lock rather than
        // fail, and let readers proceed beside the one writer.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::Schema {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Store { conn })
    }

    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog::new(&self.conn)
    }

    pub fn registry(&self) -> Registry<'_> {
        Registry::new(&self.conn)
    }

    pub fn feedback(&self) -> FeedbackLog<'_> {
        FeedbackLog::new(&self.conn)
    }

    /// The raw connection, for tamper tests only.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Current time as stored in every table: RFC 3339, UTC, milliseconds.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Starts a write transaction that takes the write lock at once, so that reading the chain head
/// and appending after it cannot interleave with another writer.
pub(crate) fn write_tx(conn: &Connection) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_commands_do_not_create_a_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("typo.db");
        assert!(matches!(
            Store::open_existing(&path),
            Err(StoreError::Missing(_))
        ));
        assert!(!path.exists());
        Store::open(&path).expect("create");
        Store::open_existing(&path).expect("exists now");
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
            Store::open(&path),
            Err(StoreError::Schema { found, .. }) if found == SCHEMA_VERSION + 1
        ));
    }
}
