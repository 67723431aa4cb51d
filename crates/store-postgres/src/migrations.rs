//! The schema, as versioned migrations applied at open.
//!
//! Migration `i` takes a database from version `i` to `i + 1`; `schema_version` holds one row
//! per applied migration. To add a table (accounts, tokens, ...): append a migration here (never
//! edit an applied one), then add its methods to the `StoreTx` impl in `lib.rs`.
//!
//! Same logical schema as the SQLite store, with PostgreSQL types: timestamps stay the RFC 3339
//! text the domain hashed into the audit chain (stored as given), `user` (a reserved word here)
//! is `actor`, and registration order is an identity column instead of SQLite's rowid.

use borderline_governance::StoreError;
use postgres::Client;

use crate::{backend, put_index, put_rules, MIGRATION_LOCK};
use borderline_governance::audit::Decision;
use borderline_governance::cases::IndexedDecision;

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: audit log, registry with activation history, artefacts by content hash, feedback; the
    // append-only rules as triggers. (SQLite reached the same schema in two steps; PostgreSQL
    // starts from its final shape.)
    r#"
CREATE FUNCTION borderline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY CHECK (seq > 0),
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_by_kind ON audit_log (kind, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('the audit log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('the audit log is append-only');

CREATE TABLE models (
    registered_order BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    version          TEXT PRIMARY KEY,
    state            TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'active', 'retired')),
    superseded       BOOLEAN NOT NULL DEFAULT FALSE,
    trainer          TEXT NOT NULL,
    registered_by    TEXT NOT NULL,
    registered_at    TEXT NOT NULL,
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
CREATE UNIQUE INDEX models_one_active ON models (state) WHERE state = 'active';
CREATE TRIGGER models_no_delete BEFORE DELETE ON models
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('registered models are retired, never deleted');
CREATE TRIGGER models_no_truncate BEFORE TRUNCATE ON models
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('registered models are retired, never deleted');

CREATE TABLE model_activations (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      TEXT NOT NULL REFERENCES models (version),
    activated_at TEXT NOT NULL,
    actor        TEXT NOT NULL
);
CREATE TRIGGER model_activations_append_only BEFORE UPDATE OR DELETE ON model_activations
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('the activation history is append-only');

CREATE TABLE artefacts (
    sha256 TEXT PRIMARY KEY,
    bytes  BYTEA NOT NULL
);
CREATE TRIGGER artefacts_no_update BEFORE UPDATE ON artefacts
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('artefacts are stored by content hash and never changed');
CREATE TRIGGER artefacts_no_delete BEFORE DELETE ON artefacts
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('artefacts are stored by content hash and never deleted');
CREATE TRIGGER artefacts_no_truncate BEFORE TRUNCATE ON artefacts
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('artefacts are stored by content hash and never deleted');

CREATE TABLE feedback (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at      TEXT NOT NULL,
    declaration_id   TEXT NOT NULL,
    decided_on       DATE NOT NULL,
    decision         TEXT NOT NULL,
    fraud            BOOLEAN NOT NULL,
    critical_level   SMALLINT NOT NULL,
    amount_recovered DOUBLE PRECISION,
    note             TEXT,
    officer          TEXT NOT NULL
);
CREATE INDEX feedback_by_date ON feedback (decided_on);
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('feedback is append-only: record a correction instead');
CREATE TRIGGER feedback_no_truncate BEFORE TRUNCATE ON feedback
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('feedback is append-only: record a correction instead');
"#,
    // 2: local accounts and API tokens (only the SHA-256 of a token, only the argon2 PHC
    // string of a password); SQLite's migration 3. Registration order is an identity column.
    r#"
CREATE TABLE accounts (
    registered_order BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    canonical_id     TEXT PRIMARY KEY,
    id               TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    roles            TEXT NOT NULL,
    importer_ids     TEXT NOT NULL,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash    TEXT,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('accounts are disabled, never deleted');
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('accounts are disabled, never deleted');

CREATE TABLE api_tokens (
    registered_order BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               TEXT PRIMARY KEY,
    account          TEXT NOT NULL REFERENCES accounts (canonical_id),
    label            TEXT NOT NULL,
    secret_sha256    TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    expires_at       TEXT,
    revoked_at       TEXT
);
CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('tokens are revoked, never deleted');
CREATE TRIGGER api_tokens_no_truncate BEFORE TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('tokens are revoked, never deleted');
"#,
    // 3: decision keys of the stream workers: (declaration, model version) -> its audit record
    // (SQLite's migration 4).
    r#"
CREATE TABLE decision_keys (
    declaration_id TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    audit_seq      BIGINT NOT NULL UNIQUE,
    PRIMARY KEY (declaration_id, model_version)
);
CREATE TRIGGER decision_keys_append_only BEFORE UPDATE OR DELETE ON decision_keys
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('decision keys are append-only');
CREATE TRIGGER decision_keys_no_truncate BEFORE TRUNCATE ON decision_keys
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('decision keys are append-only');
"#, // 4: the decision index behind inspection queues (rebuilt from the chain by `migrate`) and
    // inspection cases (SQLite's migration 5).
    r#"
CREATE TABLE decision_index (
    declaration_id TEXT PRIMARY KEY,
    audit_seq      BIGINT NOT NULL,
    lane_rank      SMALLINT NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    basis          TEXT NOT NULL,
    importer       TEXT,
    hs_code        TEXT,
    office         TEXT,
    decl_date      TEXT
);
CREATE INDEX decision_index_order ON decision_index (lane_rank, score DESC, declaration_id);
CREATE INDEX decision_index_importer ON decision_index (importer, lane_rank, score DESC, declaration_id);
CREATE INDEX decision_index_office ON decision_index (office, lane_rank, score DESC, declaration_id);
CREATE INDEX decision_index_date ON decision_index (decl_date);
CREATE INDEX decision_index_hs ON decision_index (hs_code text_pattern_ops);
CREATE TABLE cases (
    declaration_id TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ('in_inspection', 'escalated', 'outcome_recorded')),
    holder         TEXT,
    note           TEXT,
    feedback_id    BIGINT REFERENCES feedback (id),
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
);
CREATE INDEX cases_by_state ON cases (state, declaration_id);
CREATE TABLE scored_inputs (
    input_hash TEXT PRIMARY KEY,
    body       TEXT NOT NULL
);
CREATE TRIGGER scored_inputs_no_update BEFORE UPDATE ON scored_inputs
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('scored inputs are stored by content hash and never changed');
"#,
    // 5: the capacity ledger of the stream workers: decisions by lane per office and window
    // (a running count of decision records, updated in the deciding transaction; SQLite's
    // migration 6). Text compares byte-wise (COLLATE "C") so windows order as ISO days.
    r#"
CREATE TABLE lane_usage (
    office    TEXT COLLATE "C" NOT NULL,
    window_id TEXT COLLATE "C" NOT NULL,
    decided   BIGINT NOT NULL CHECK (decided >= 0),
    red       BIGINT NOT NULL CHECK (red >= 0),
    yellow    BIGINT NOT NULL CHECK (yellow >= 0),
    PRIMARY KEY (window_id, office)
);
"#,
    // 6: analyst rule sets (SQLite's migration 7): the entry as JSON text, the state in its own
    // column, one active set at most.
    r#"
CREATE TABLE rule_sets (
    registered_order BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    version          TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    entry            TEXT NOT NULL
);
CREATE UNIQUE INDEX rule_sets_one_active ON rule_sets (state) WHERE state = 'active';
CREATE TRIGGER rule_sets_no_delete BEFORE DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('rule sets are retired, never deleted');
CREATE TRIGGER rule_sets_no_truncate BEFORE TRUNCATE ON rule_sets
    FOR EACH STATEMENT EXECUTE FUNCTION borderline_refuse('rule sets are retired, never deleted');
"#,
    // 7: the analyst rules that hit each declaration's latest decision (one row per rule; the
    // queue's rule filter; SQLite's migration 8), rebuilt from the chain by `migrate` and
    // replaced with the index row.
    r#"
CREATE TABLE decision_rules (
    declaration_id TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    PRIMARY KEY (rule_id, declaration_id)
);
CREATE INDEX decision_rules_by_declaration ON decision_rules (declaration_id);
"#,
    // 8: the supplier network kept in the store (SQLite's migration 9): trade links between
    // parties (each once, with the declaration that first showed it; never changed) and each
    // party's latest screening result, both written in the deciding transaction.
    r#"
CREATE TABLE trade_links (
    from_party        TEXT NOT NULL,
    to_party          TEXT NOT NULL,
    relation          TEXT NOT NULL,
    first_declaration TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    PRIMARY KEY (from_party, to_party, relation)
);
CREATE INDEX trade_links_to ON trade_links (to_party);
CREATE TRIGGER trade_links_no_update BEFORE UPDATE ON trade_links
    FOR EACH ROW EXECUTE FUNCTION borderline_refuse('a trade link keeps the declaration that first showed it');
CREATE TABLE party_screening (
    party_id      TEXT PRIMARY KEY,
    lists_version TEXT NOT NULL,
    listed        BOOLEAN NOT NULL,
    result        TEXT NOT NULL,
    screened_at   TEXT NOT NULL
);
CREATE INDEX party_screening_listed ON party_screening (party_id) WHERE listed;
"#,
    // 9: a case page reads the feedback of one importer's declarations, not the whole log.
    r#"
CREATE INDEX feedback_by_declaration ON feedback (declaration_id, id);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations the database lacks, in one transaction, and refuses a newer schema.
/// Several processes starting at once take turns on an advisory lock, so each migration runs
/// exactly once.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .map_err(backend)?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .map_err(backend)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::Schema {
            found,
            expected: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(sql).map_err(backend)?;
        if i == 3 {
            index_decisions(&mut tx)?;
        }
        if i == 6 {
            index_decision_rules(&mut tx)?;
        }
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// Migration 4: the decision index of the decisions already in the chain (the latest of each
/// declaration wins).
fn index_decisions(tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
    let rows = tx
        .query(
            "SELECT seq, body FROM audit_log WHERE kind = 'decision' ORDER BY seq",
            &[],
        )
        .map_err(backend)?;
    for r in rows {
        let seq: i64 = r.try_get(0).map_err(backend)?;
        let body: String = r.try_get(1).map_err(backend)?;
        let d: Decision = serde_json::from_str(&body)?;
        put_index(
            &mut |sql, params| tx.execute(sql, params).map_err(backend),
            &IndexedDecision::of(seq.max(0) as u64, &d),
        )?;
    }
    Ok(())
}

/// Migration 7: the rules that hit the latest decision of each declaration in the chain.
fn index_decision_rules(tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
    let rows = tx
        .query(
            "SELECT body FROM audit_log WHERE kind = 'decision' ORDER BY seq",
            &[],
        )
        .map_err(backend)?;
    let mut latest: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for r in rows {
        let body: String = r.try_get(0).map_err(backend)?;
        let d: Decision = serde_json::from_str(&body)?;
        latest.insert(
            d.declaration_id.clone(),
            borderline_governance::cases::rule_ids(&d),
        );
    }
    tx.execute("DELETE FROM decision_rules", &[])
        .map_err(backend)?;
    for (declaration_id, rules) in latest {
        put_rules(
            &mut |sql, params| tx.execute(sql, params).map_err(backend),
            &declaration_id,
            &rules,
        )?;
    }
    Ok(())
}
