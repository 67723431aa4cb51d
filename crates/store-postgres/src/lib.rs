//! The shared governance store on PostgreSQL: the audit log, the model registry, model
//! artefacts (by SHA-256) and inspection feedback in one database that several scoring and
//! officer processes on several machines use at once.
//!
//! Like the SQLite store it keeps records and decides nothing: the rules are in
//! `borderline-governance`, and this store passes the same contract suite
//! (`tests/contract.rs`), plus two-writer tests (`tests/concurrency.rs`).
//!
//! * **Migrations**: versioned (`schema_version`), applied at [`PostgresStore::open`] in one
//!   transaction under an advisory lock; a newer schema is refused.
//! * **Append-only**: triggers refuse UPDATE, DELETE and TRUNCATE of audit records, feedback
//!   and artefacts (and deletion of models); a superuser can still disable them, which the hash
//!   chain detects.
//! * **One chain across processes**: a write transaction takes a transaction-scoped advisory
//!   lock ([`WRITE_LOCK`]) as its first statement, so reading the chain head and appending after
//!   it never interleave with another writer on any machine; the chain cannot fork (and the
//!   primary key on `seq` would refuse a fork anyway). Reads run in a read-only REPEATABLE READ
//!   snapshot and never wait for writers.
//! * **Pool**: `r2d2` with a small connection manager of ours ([`pool`]).
//!
//! **Blocking.** The `postgres` client blocks the calling thread (it drives tokio-postgres on a
//! runtime of its own) and panics if called on a thread that is running an async runtime: async
//! callers (a service, a worker) call the store inside `tokio::task::spawn_blocking`.

use borderline_governance::audit::AuditRecord;
use borderline_governance::capacity::{LaneUsage, UsageRow};
use borderline_governance::cases::{
    prefix_upper_bound, CaseRecord, CaseState, IndexedDecision, QueueHit, QueueQuery,
};
use borderline_governance::feedback::{FeedbackRecord, Outcome};
use borderline_governance::identity::{Account, ApiToken};
use borderline_governance::network::{PartyScreening, TradeLink};
use borderline_governance::registry::{ModelEntry, ModelState, NewModel};
use borderline_governance::rulebook::{RuleSetEntry, RuleSetState};
use borderline_governance::{GovernanceStore, StoreError, StoreTx};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Row;
use std::collections::HashMap;
use std::time::Duration;

mod migrations;
pub mod pool;

pub use migrations::SCHEMA_VERSION;
pub use postgres::Config;

/// Advisory lock key held by every write transaction ("BLGOVWRT" in ASCII): one writer at a
/// time per database, across processes and machines.
pub const WRITE_LOCK: i64 = 0x424c_474f_5657_5254;
/// Advisory lock key held while migrating ("BLGOVMIG").
pub(crate) const MIGRATION_LOCK: i64 = 0x424c_474f_564d_4947;

/// How long a write transaction waits for the write lock before failing (SQLite's busy timeout
/// plays the same role).
const WRITE_LOCK_TIMEOUT: &str = "30s";

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Connections held open at most (each transaction uses one for its duration).
    pub max_connections: u32,
    /// How long `begin` waits for a free connection.
    pub checkout_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 8,
            checkout_timeout: Duration::from_secs(30),
        }
    }
}

/// An open PostgreSQL governance store: a connection pool over one database. `Send + Sync`;
/// share it between threads.
pub struct PostgresStore {
    pool: r2d2::Pool<pool::Manager>,
}

/// The engine's error as a store error: the server's message (with detail and hint), or the
/// client's (connection, protocol). Never includes the connection string.
pub(crate) fn backend(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let mut msg = db.message().to_string();
        if let Some(detail) = db.detail() {
            msg.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            msg.push_str(&format!("; hint: {hint}"));
        }
        return StoreError::Backend(msg);
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    StoreError::Backend(msg)
}

fn corrupt(what: String) -> StoreError {
    StoreError::Json(serde::de::Error::custom(what))
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/dbname`, or the key=value
    /// form), applying missing migrations, with the default pool.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config: Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        PostgresStore::open_config(config, PoolOptions::default())
    }

    /// Connects with an explicit client configuration and pool settings.
    pub fn open_config(config: Config, options: PoolOptions) -> Result<PostgresStore, StoreError> {
        // Connect once directly: a wrong host or password fails now with the server's reason,
        // instead of after the pool's checkout timeout.
        let mut client = pool::connect(&config)?;
        migrations::migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.checkout_timeout)
            .build_unchecked(pool::Manager::new(config));
        Ok(PostgresStore { pool })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let mut conn = self.checkout()?;
        let row = conn
            .client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(backend)?;
        Ok(row.get(0))
    }

    fn checkout(&self) -> Result<r2d2::PooledConnection<pool::Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Backend(format!("no PostgreSQL connection: {e}")))
    }
}

impl GovernanceStore for PostgresStore {
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        let mut conn = self.checkout()?;
        let start = if write {
            // Each statement of a READ COMMITTED transaction sees what committed before it, so
            // once the lock is held the chain head read next is the latest one.
            format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            )
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string()
        };
        if let Err(e) = conn.client.batch_execute(&start) {
            // The transaction may be open and aborted: do not return this connection to others.
            conn.broken = true;
            return Err(backend(e));
        }
        Ok(Box::new(PgTx { conn, open: true }))
    }
}

/// One transaction on one pooled connection. Dropped without [`StoreTx::commit`], it rolls back.
struct PgTx {
    conn: r2d2::PooledConnection<pool::Manager>,
    open: bool,
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.open && self.conn.client.batch_execute("ROLLBACK").is_err() {
            // Nothing to report to (the caller has the error that stopped it); a connection
            // whose rollback failed is not handed out again.
            self.conn.broken = true;
        }
    }
}

impl PgTx {
    // Statements are prepared once per pooled connection (see `pool::Connection::statement`).
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let st = self.conn.statement(sql)?;
        self.conn.client.query(&st, params).map_err(backend)
    }

    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let st = self.conn.statement(sql)?;
        self.conn.client.query_opt(&st, params).map_err(backend)
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let st = self.conn.statement(sql)?;
        self.conn.client.execute(&st, params).map_err(backend)
    }
}

fn link_at(r: &Row, at: usize) -> Result<TradeLink, StoreError> {
    Ok(TradeLink {
        from: r.try_get(at).map_err(backend)?,
        to: r.try_get(at + 1).map_err(backend)?,
        relation: r.try_get(at + 2).map_err(backend)?,
        first_declaration: r.try_get(at + 3).map_err(backend)?,
        first_seen: r.try_get(at + 4).map_err(backend)?,
    })
}

fn screening_at(r: &Row, at: usize) -> Result<PartyScreening, StoreError> {
    Ok(PartyScreening {
        party_id: r.try_get(at).map_err(backend)?,
        lists_version: r.try_get(at + 1).map_err(backend)?,
        listed: r.try_get(at + 2).map_err(backend)?,
        result: r.try_get(at + 3).map_err(backend)?,
        screened_at: r.try_get(at + 4).map_err(backend)?,
    })
}

fn to_i64(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Backend(format!("{what} {n} is out of range")))
}

fn to_u64(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(format!("{what} {n} is negative")))
}

const AUDIT_COLUMNS: &str = "seq, recorded_at, actor, kind, body, prev_hash, hash";

fn audit_row(r: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: to_u64(r.try_get(0).map_err(backend)?, "audit sequence number")?,
        recorded_at: r.try_get(1).map_err(backend)?,
        user: r.try_get(2).map_err(backend)?,
        kind: r.try_get(3).map_err(backend)?,
        body: r.try_get(4).map_err(backend)?,
        prev_hash: r.try_get(5).map_err(backend)?,
        hash: r.try_get(6).map_err(backend)?,
    })
}

const MODEL_COLUMNS: &str = "version, trainer, artefact_sha256, data_fingerprint, parameters, metrics, card, state, superseded, registered_by, registered_at, approved_by, approval_reason, approved_at, activated_at, retired_at";

fn model_row(r: &Row) -> Result<ModelEntry, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { r.try_get(i).map_err(backend) };
    let opt = |i: usize| -> Result<Option<String>, StoreError> { r.try_get(i).map_err(backend) };
    let version = text(0)?;
    let state = text(7)?;
    let state = ModelState::parse(&state)
        .ok_or_else(|| corrupt(format!("model {version} has unknown state {state:?}")))?;
    Ok(ModelEntry {
        model: NewModel {
            trainer: text(1)?,
            artefact_sha256: text(2)?,
            data_fingerprint: text(3)?,
            parameters: serde_json::from_str(&text(4)?)?,
            metrics: serde_json::from_str(&text(5)?)?,
            card: serde_json::from_str(&text(6)?)?,
            version,
        },
        state,
        superseded: r.try_get(8).map_err(backend)?,
        registered_by: text(9)?,
        registered_at: text(10)?,
        approved_by: opt(11)?,
        approval_reason: opt(12)?,
        approved_at: opt(13)?,
        activated_at: opt(14)?,
        retired_at: opt(15)?,
    })
}

/// A model entry as statement parameters `$1..$16`, in [`MODEL_COLUMNS`] order.
struct ModelParams<'e> {
    entry: &'e ModelEntry,
    parameters: String,
    metrics: String,
    card: String,
    state: &'static str,
}

impl<'e> ModelParams<'e> {
    fn new(entry: &'e ModelEntry) -> Result<Self, StoreError> {
        Ok(ModelParams {
            entry,
            parameters: serde_json::to_string(&entry.model.parameters)?,
            metrics: serde_json::to_string(&entry.model.metrics)?,
            card: serde_json::to_string(&entry.model.card)?,
            state: entry.state.as_str(),
        })
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 16] {
        let e = self.entry;
        [
            &e.model.version,
            &e.model.trainer,
            &e.model.artefact_sha256,
            &e.model.data_fingerprint,
            &self.parameters,
            &self.metrics,
            &self.card,
            &self.state,
            &e.superseded,
            &e.registered_by,
            &e.registered_at,
            &e.approved_by,
            &e.approval_reason,
            &e.approved_at,
            &e.activated_at,
            &e.retired_at,
        ]
    }
}

const FEEDBACK_COLUMNS: &str = "id, recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer";

fn feedback_row(r: &Row) -> Result<FeedbackRecord, StoreError> {
    let level: i16 = r.try_get(6).map_err(backend)?;
    let id: i64 = r.try_get(0).map_err(backend)?;
    Ok(FeedbackRecord {
        id,
        recorded_at: r.try_get(1).map_err(backend)?,
        outcome: Outcome {
            declaration_id: r.try_get(2).map_err(backend)?,
            decided_on: r.try_get(3).map_err(backend)?,
            decision: r.try_get(4).map_err(backend)?,
            fraud: r.try_get(5).map_err(backend)?,
            critical_level: u8::try_from(level)
                .map_err(|_| corrupt(format!("feedback {id} has critical level {level}")))?,
            amount_recovered: r.try_get(7).map_err(backend)?,
            note: r.try_get(8).map_err(backend)?,
            reported_officer: r.try_get(9).map_err(backend)?,
        },
    })
}

const ACCOUNT_COLUMNS: &str = "canonical_id, id, display_name, roles, importer_ids, disabled, password_hash, created_at, created_by";

fn account_row(r: &Row) -> Result<Account, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { r.try_get(i).map_err(backend) };
    Ok(Account {
        canonical_id: text(0)?,
        id: text(1)?,
        display_name: text(2)?,
        roles: serde_json::from_str(&text(3)?)?,
        importer_ids: serde_json::from_str(&text(4)?)?,
        disabled: r.try_get(5).map_err(backend)?,
        password_hash: r.try_get(6).map_err(backend)?,
        created_at: text(7)?,
        created_by: text(8)?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, account, label, secret_sha256, created_at, created_by, expires_at, revoked_at";

fn token_row(r: &Row) -> Result<ApiToken, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { r.try_get(i).map_err(backend) };
    let opt = |i: usize| -> Result<Option<String>, StoreError> { r.try_get(i).map_err(backend) };
    Ok(ApiToken {
        id: text(0)?,
        account: text(1)?,
        label: text(2)?,
        secret_sha256: text(3)?,
        created_at: text(4)?,
        created_by: text(5)?,
        expires_at: opt(6)?,
        revoked_at: opt(7)?,
    })
}

type Exec<'a> = dyn FnMut(&str, &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> + 'a;

/// Upserts one decision index row through `exec` (a transaction's `execute`).
pub(crate) fn put_index(exec: &mut Exec<'_>, e: &IndexedDecision) -> Result<(), StoreError> {
    let seq = to_i64(e.audit_seq, "audit sequence number")?;
    let rank = i16::from(e.lane_rank);
    exec(
        "INSERT INTO decision_index (declaration_id, audit_seq, lane_rank, score, basis, importer, hs_code, office, decl_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (declaration_id) DO UPDATE SET audit_seq = EXCLUDED.audit_seq, lane_rank = EXCLUDED.lane_rank,
             score = EXCLUDED.score, basis = EXCLUDED.basis, importer = EXCLUDED.importer, hs_code = EXCLUDED.hs_code,
             office = EXCLUDED.office, decl_date = EXCLUDED.decl_date",
        &[&e.declaration_id, &seq, &rank, &e.score, &e.basis, &e.importer, &e.hs_code, &e.office, &e.date],
    )?;
    Ok(())
}

/// Replaces the rules that hit `declaration_id`'s latest decision, through `exec`.
pub(crate) fn put_rules(
    exec: &mut Exec<'_>,
    declaration_id: &str,
    rules: &[String],
) -> Result<(), StoreError> {
    exec(
        "DELETE FROM decision_rules WHERE declaration_id = $1",
        &[&declaration_id],
    )?;
    for rule in rules {
        exec(
            "INSERT INTO decision_rules (declaration_id, rule_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&declaration_id, rule],
        )?;
    }
    Ok(())
}

const HIT_COLUMNS: &str = "a.seq, a.recorded_at, a.actor, a.kind, a.body, a.prev_hash, a.hash, c.declaration_id, c.state, c.holder, c.note, c.feedback_id, c.updated_at, c.updated_by";

fn case_at(r: &Row, at: usize) -> Result<Option<CaseRecord>, StoreError> {
    let id: Option<String> = r.try_get(at).map_err(backend)?;
    let Some(declaration_id) = id else {
        return Ok(None);
    };
    let state: String = r.try_get(at + 1).map_err(backend)?;
    let state = CaseState::parse(&state)
        .ok_or_else(|| corrupt(format!("case {declaration_id} has unknown state {state:?}")))?;
    Ok(Some(CaseRecord {
        declaration_id,
        state,
        holder: r.try_get(at + 2).map_err(backend)?,
        note: r.try_get(at + 3).map_err(backend)?,
        feedback_id: r.try_get(at + 4).map_err(backend)?,
        updated_at: r.try_get(at + 5).map_err(backend)?,
        updated_by: r.try_get(at + 6).map_err(backend)?,
    }))
}

fn hit_row(r: &Row) -> Result<QueueHit, StoreError> {
    Ok(QueueHit {
        record: audit_row(r)?,
        case: case_at(r, 7)?,
    })
}

/// A queue query's parameter values, owned so that they outlive the statement.
enum QueueParam {
    Small(i16),
    Text(String),
    Big(i64),
}

impl QueueParam {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            QueueParam::Small(v) => v,
            QueueParam::Text(v) => v,
            QueueParam::Big(v) => v,
        }
    }
}

/// The WHERE clause of a queue query over `decision_index d LEFT JOIN cases c`, and its
/// parameters (`$1`, `$2`, ... in order).
fn queue_where(q: &QueueQuery) -> (String, Vec<QueueParam>) {
    let mut cond: Vec<String> = Vec::new();
    let mut p: Vec<QueueParam> = Vec::new();
    let mut push = |cond: &mut Vec<String>, sql: &str, v: QueueParam| {
        p.push(v);
        cond.push(sql.replace('?', &format!("${}", p.len())));
    };
    if let Some(l) = q.lane_rank {
        push(&mut cond, "d.lane_rank = ?", QueueParam::Small(l.into()));
    }
    if let Some(o) = &q.office {
        push(&mut cond, "d.office = ?", QueueParam::Text(o.clone()));
    }
    if let Some(h) = &q.hs_code_prefix {
        // An index range (text_pattern_ops: byte order): prefix <= hs_code < upper bound.
        push(&mut cond, "d.hs_code ~>=~ ?", QueueParam::Text(h.clone()));
        if let Some(u) = prefix_upper_bound(h) {
            push(&mut cond, "d.hs_code ~<~ ?", QueueParam::Text(u));
        }
    }
    if let Some(i) = &q.importer {
        push(&mut cond, "d.importer = ?", QueueParam::Text(i.clone()));
    }
    if let Some(f) = &q.from {
        push(&mut cond, "d.decl_date >= ?", QueueParam::Text(f.clone()));
    }
    if let Some(t) = &q.to {
        push(&mut cond, "d.decl_date <= ?", QueueParam::Text(t.clone()));
    }
    if let Some(b) = &q.basis {
        push(&mut cond, "d.basis = ?", QueueParam::Text(b.clone()));
    }
    if let Some(r) = &q.rule {
        push(
            &mut cond,
            "d.declaration_id IN (SELECT declaration_id FROM decision_rules WHERE rule_id = ?)",
            QueueParam::Text(r.clone()),
        );
    }
    match q.case_state {
        None => {}
        Some(CaseState::Pending) => cond.push("c.declaration_id IS NULL".into()),
        Some(s) => push(
            &mut cond,
            "c.state = ?",
            QueueParam::Text(s.as_str().into()),
        ),
    }
    let w = if cond.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", cond.join(" AND "))
    };
    (w, p)
}

impl StoreTx for PgTx {
    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.open = false;
        if let Err(e) = self.conn.client.batch_execute("COMMIT") {
            // The server ended the transaction (rolled back) or the connection is gone.
            self.conn.broken = true;
            return Err(backend(e));
        }
        Ok(())
    }

    fn audit_head(&mut self) -> Result<Option<(u64, String)>, StoreError> {
        match self.query_opt(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            &[],
        )? {
            Some(r) => Ok(Some((
                to_u64(r.try_get(0).map_err(backend)?, "audit sequence number")?,
                r.try_get(1).map_err(backend)?,
            ))),
            None => Ok(None),
        }
    }

    fn audit_append(&mut self, r: &AuditRecord) -> Result<(), StoreError> {
        let seq = to_i64(r.seq, "audit sequence number")?;
        self.execute(
            "INSERT INTO audit_log (seq, recorded_at, actor, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&seq, &r.recorded_at, &r.user, &r.kind, &r.body, &r.prev_hash, &r.hash],
        )?;
        Ok(())
    }

    fn audit_append_all(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        match records {
            [] => return Ok(()),
            [one] => return self.audit_append(one),
            _ => {}
        }
        // One statement for the batch: a column of values per field.
        let seq = records
            .iter()
            .map(|r| to_i64(r.seq, "audit sequence number"))
            .collect::<Result<Vec<_>, _>>()?;
        let col = |f: fn(&AuditRecord) -> &str| records.iter().map(f).collect::<Vec<&str>>();
        let (at, actor, kind) = (col(|r| &r.recorded_at), col(|r| &r.user), col(|r| &r.kind));
        let (body, prev, hash) = (col(|r| &r.body), col(|r| &r.prev_hash), col(|r| &r.hash));
        self.execute(
            "INSERT INTO audit_log (seq, recorded_at, actor, kind, body, prev_hash, hash)
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])",
            &[&seq, &at, &actor, &kind, &body, &prev, &hash],
        )?;
        Ok(())
    }

    fn audit_len(&mut self) -> Result<u64, StoreError> {
        let rows = self.query("SELECT COUNT(*) FROM audit_log", &[])?;
        let n: i64 = rows
            .first()
            .ok_or_else(|| StoreError::Backend("COUNT returned no row".into()))?
            .try_get(0)
            .map_err(backend)?;
        to_u64(n, "audit record count")
    }

    fn audit_scan(
        &mut self,
        kind: Option<&str>,
        visit: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Streamed row by row: verifying a long log does not hold it all in memory.
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE $1::TEXT IS NULL OR kind = $1 ORDER BY seq"
        );
        let params: [&dyn ToSql; 1] = [&kind];
        let mut rows = self
            .conn
            .client
            .query_raw(sql.as_str(), params)
            .map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            visit(audit_row(&r)?)?;
        }
        Ok(())
    }

    fn model(&mut self, version: &str) -> Result<Option<ModelEntry>, StoreError> {
        self.query_opt(
            &format!("SELECT {MODEL_COLUMNS} FROM models WHERE version = $1"),
            &[&version],
        )?
        .as_ref()
        .map(model_row)
        .transpose()
    }

    fn models(&mut self) -> Result<Vec<ModelEntry>, StoreError> {
        self.query(
            &format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY registered_order"),
            &[],
        )?
        .iter()
        .map(model_row)
        .collect()
    }

    fn insert_model(&mut self, e: &ModelEntry) -> Result<(), StoreError> {
        let p = ModelParams::new(e)?;
        self.execute(
            &format!(
                "INSERT INTO models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ),
            &p.params(),
        )?;
        Ok(())
    }

    fn update_model(&mut self, e: &ModelEntry) -> Result<(), StoreError> {
        let p = ModelParams::new(e)?;
        let n = self.execute(
            "UPDATE models SET trainer = $2, artefact_sha256 = $3, data_fingerprint = $4, parameters = $5, metrics = $6, card = $7, state = $8, superseded = $9, registered_by = $10, registered_at = $11, approved_by = $12, approval_reason = $13, approved_at = $14, activated_at = $15, retired_at = $16
             WHERE version = $1",
            &p.params(),
        )?;
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
        self.execute(
            "INSERT INTO model_activations (version, activated_at, actor) VALUES ($1, $2, $3)",
            &[&version, &at, &actor],
        )?;
        Ok(())
    }

    fn activations(&mut self) -> Result<Vec<String>, StoreError> {
        self.query("SELECT version FROM model_activations ORDER BY seq", &[])?
            .iter()
            .map(|r| r.try_get(0).map_err(backend))
            .collect()
    }

    fn put_artefact(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO artefacts (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            &[&sha256, &bytes],
        )?;
        Ok(())
    }

    fn artefact(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt("SELECT bytes FROM artefacts WHERE sha256 = $1", &[&sha256])?
            .map(|r| r.try_get(0).map_err(backend))
            .transpose()
    }

    fn insert_feedback(&mut self, recorded_at: &str, o: &Outcome) -> Result<i64, StoreError> {
        let level = i16::from(o.critical_level);
        let rows = self.query(
            "INSERT INTO feedback (recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &recorded_at,
                &o.declaration_id,
                &o.decided_on,
                &o.decision,
                &o.fraud,
                &level,
                &o.amount_recovered,
                &o.note,
                &o.reported_officer,
            ],
        )?;
        rows.first()
            .ok_or_else(|| StoreError::Backend("INSERT ... RETURNING gave no id".into()))?
            .try_get(0)
            .map_err(backend)
    }

    fn feedback(&mut self) -> Result<Vec<FeedbackRecord>, StoreError> {
        self.query(
            &format!("SELECT {FEEDBACK_COLUMNS} FROM feedback ORDER BY id"),
            &[],
        )?
        .iter()
        .map(feedback_row)
        .collect()
    }

    fn feedback_of(
        &mut self,
        declaration_ids: &[String],
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        self.query(
            &format!(
                "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE declaration_id = ANY($1) ORDER BY id"
            ),
            &[&declaration_ids],
        )?
        .iter()
        .map(feedback_row)
        .collect()
    }

    fn account(&mut self, canonical_id: &str) -> Result<Option<Account>, StoreError> {
        self.query_opt(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE canonical_id = $1"),
            &[&canonical_id],
        )?
        .as_ref()
        .map(account_row)
        .transpose()
    }

    fn accounts(&mut self) -> Result<Vec<Account>, StoreError> {
        self.query(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY registered_order"),
            &[],
        )?
        .iter()
        .map(account_row)
        .collect()
    }

    fn insert_account(&mut self, a: &Account) -> Result<(), StoreError> {
        let roles = serde_json::to_string(&a.roles)?;
        let importers = serde_json::to_string(&a.importer_ids)?;
        self.execute(
            &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                &a.canonical_id,
                &a.id,
                &a.display_name,
                &roles,
                &importers,
                &a.disabled,
                &a.password_hash,
                &a.created_at,
                &a.created_by,
            ],
        )?;
        Ok(())
    }

    fn update_account(&mut self, a: &Account) -> Result<(), StoreError> {
        let roles = serde_json::to_string(&a.roles)?;
        let importers = serde_json::to_string(&a.importer_ids)?;
        let n = self.execute(
            "UPDATE accounts SET id = $2, display_name = $3, roles = $4, importer_ids = $5, disabled = $6, password_hash = $7, created_at = $8, created_by = $9 WHERE canonical_id = $1",
            &[
                &a.canonical_id,
                &a.id,
                &a.display_name,
                &roles,
                &importers,
                &a.disabled,
                &a.password_hash,
                &a.created_at,
                &a.created_by,
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Backend(format!("no account {}", a.id)));
        }
        Ok(())
    }

    fn insert_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            &[
                &t.id,
                &t.account,
                &t.label,
                &t.secret_sha256,
                &t.created_at,
                &t.created_by,
                &t.expires_at,
                &t.revoked_at,
            ],
        )?;
        Ok(())
    }

    fn token_by_sha256(&mut self, secret_sha256: &str) -> Result<Option<ApiToken>, StoreError> {
        self.query_opt(
            &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_sha256 = $1"),
            &[&secret_sha256],
        )?
        .as_ref()
        .map(token_row)
        .transpose()
    }

    fn tokens(&mut self, account: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
        self.query(
            &format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE $1::TEXT IS NULL OR account = $1 ORDER BY registered_order"
            ),
            &[&account],
        )?
        .iter()
        .map(token_row)
        .collect()
    }

    fn update_token(&mut self, t: &ApiToken) -> Result<(), StoreError> {
        let n = self.execute(
            "UPDATE api_tokens SET account = $2, label = $3, secret_sha256 = $4, created_at = $5, created_by = $6, expires_at = $7, revoked_at = $8 WHERE id = $1",
            &[
                &t.id,
                &t.account,
                &t.label,
                &t.secret_sha256,
                &t.created_at,
                &t.created_by,
                &t.expires_at,
                &t.revoked_at,
            ],
        )?;
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
        self.query_opt(
            "SELECT audit_seq FROM decision_keys WHERE declaration_id = $1 AND model_version = $2",
            &[&declaration_id, &model_version],
        )?
        .map(|r| to_u64(r.try_get(0).map_err(backend)?, "audit sequence number"))
        .transpose()
    }

    fn insert_decision_key(
        &mut self,
        declaration_id: &str,
        model_version: &str,
        audit_seq: u64,
    ) -> Result<(), StoreError> {
        let seq = to_i64(audit_seq, "audit sequence number")?;
        self.execute(
            "INSERT INTO decision_keys (declaration_id, model_version, audit_seq) VALUES ($1, $2, $3)",
            &[&declaration_id, &model_version, &seq],
        )?;
        Ok(())
    }
    fn decision_keys(
        &mut self,
        declaration_ids: &[&str],
        model_version: &str,
    ) -> Result<HashMap<String, u64>, StoreError> {
        if declaration_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // One probe of the primary key per id (equality on both its columns: an index scan
        // whatever the statistics; `OFFSET 0` keeps the planner from turning the probes back
        // into a join that scans the table). `declaration_id = ANY($2)` let the planner choose a
        // sequential scan on a table without statistics yet, and the prepared statement kept
        // that plan as the table grew: every batch scanned every key.
        self.query(
            "SELECT k.declaration_id, k.audit_seq FROM UNNEST($2::TEXT[]) AS i(id)
             CROSS JOIN LATERAL (SELECT declaration_id, audit_seq FROM decision_keys
                                 WHERE declaration_id = i.id AND model_version = $1
                                 OFFSET 0) AS k",
            &[&model_version, &declaration_ids],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(backend)?,
                to_u64(r.try_get(1).map_err(backend)?, "audit sequence number")?,
            ))
        })
        .collect()
    }

    fn insert_decision_keys(
        &mut self,
        model_version: &str,
        keys: &[(&str, u64)],
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = keys.iter().map(|(id, _)| *id).collect();
        let seqs = keys
            .iter()
            .map(|(_, s)| to_i64(*s, "audit sequence number"))
            .collect::<Result<Vec<_>, _>>()?;
        // A pair decided already, or twice here, violates the primary key: the batch fails.
        self.execute(
            "INSERT INTO decision_keys (declaration_id, model_version, audit_seq)
             SELECT k.id, $1, k.seq FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS k(id, seq)",
            &[&model_version, &ids, &seqs],
        )?;
        Ok(())
    }

    fn index_decisions(&mut self, entries: &[IndexedDecision]) -> Result<(), StoreError> {
        if let [one] = entries {
            return self.index_decision(one);
        }
        // The latest entry of each declaration, as if upserted one after the other (one
        // statement may not upsert a row twice).
        let mut last: HashMap<&str, &IndexedDecision> = HashMap::with_capacity(entries.len());
        for e in entries {
            last.insert(e.declaration_id.as_str(), e);
        }
        if last.is_empty() {
            return Ok(());
        }
        let rows: Vec<&IndexedDecision> = last.into_values().collect();
        let ids: Vec<&str> = rows.iter().map(|e| e.declaration_id.as_str()).collect();
        let seqs = rows
            .iter()
            .map(|e| to_i64(e.audit_seq, "audit sequence number"))
            .collect::<Result<Vec<_>, _>>()?;
        let ranks: Vec<i16> = rows.iter().map(|e| i16::from(e.lane_rank)).collect();
        let scores: Vec<f64> = rows.iter().map(|e| e.score).collect();
        let bases: Vec<&str> = rows.iter().map(|e| e.basis).collect();
        let opt = |f: fn(&IndexedDecision) -> &Option<String>| {
            rows.iter()
                .map(|e| f(e).as_deref())
                .collect::<Vec<Option<&str>>>()
        };
        let (importers, hs, offices, dates) = (
            opt(|e| &e.importer),
            opt(|e| &e.hs_code),
            opt(|e| &e.office),
            opt(|e| &e.date),
        );
        self.execute(
            "INSERT INTO decision_index (declaration_id, audit_seq, lane_rank, score, basis, importer, hs_code, office, decl_date)
             SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::SMALLINT[], $4::FLOAT8[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[])
             ON CONFLICT (declaration_id) DO UPDATE SET audit_seq = EXCLUDED.audit_seq, lane_rank = EXCLUDED.lane_rank,
                 score = EXCLUDED.score, basis = EXCLUDED.basis, importer = EXCLUDED.importer, hs_code = EXCLUDED.hs_code,
                 office = EXCLUDED.office, decl_date = EXCLUDED.decl_date",
            &[&ids, &seqs, &ranks, &scores, &bases, &importers, &hs, &offices, &dates],
        )?;
        // The rules that hit each declaration's latest decision replace the earlier ones.
        self.execute(
            "DELETE FROM decision_rules WHERE declaration_id = ANY($1::TEXT[])",
            &[&ids],
        )?;
        let (rule_ids, rules): (Vec<&str>, Vec<&str>) = rows
            .iter()
            .flat_map(|e| {
                e.rules
                    .iter()
                    .map(move |r| (e.declaration_id.as_str(), r.as_str()))
            })
            .unzip();
        if !rules.is_empty() {
            self.execute(
                "INSERT INTO decision_rules (declaration_id, rule_id)
                 SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) ON CONFLICT DO NOTHING",
                &[&rule_ids, &rules],
            )?;
        }
        Ok(())
    }

    fn index_decision(&mut self, entry: &IndexedDecision) -> Result<(), StoreError> {
        put_index(&mut |sql, params| self.execute(sql, params), entry)?;
        put_rules(
            &mut |sql, params| self.execute(sql, params),
            &entry.declaration_id,
            &entry.rules,
        )
    }

    fn latest_decision(&mut self, declaration_id: &str) -> Result<Option<QueueHit>, StoreError> {
        self.query_opt(
            &format!(
                "SELECT {HIT_COLUMNS} FROM decision_index d JOIN audit_log a ON a.seq = d.audit_seq
                 LEFT JOIN cases c ON c.declaration_id = d.declaration_id WHERE d.declaration_id = $1"
            ),
            &[&declaration_id],
        )?
        .as_ref()
        .map(hit_row)
        .transpose()
    }

    fn queue_page(&mut self, q: &QueueQuery) -> Result<(Vec<QueueHit>, u64), StoreError> {
        let (w, mut p) = queue_where(q);
        let params: Vec<&(dyn ToSql + Sync)> = p.iter().map(QueueParam::sql).collect();
        let total: i64 = self
            .query(
                &format!("SELECT COUNT(*) FROM decision_index d LEFT JOIN cases c ON c.declaration_id = d.declaration_id {w}"),
                &params,
            )?
            .first()
            .ok_or_else(|| StoreError::Backend("COUNT returned no row".into()))?
            .try_get(0)
            .map_err(backend)?;
        let n = p.len();
        p.push(QueueParam::Big(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        p.push(QueueParam::Big(i64::try_from(q.offset).unwrap_or(i64::MAX)));
        let params: Vec<&(dyn ToSql + Sync)> = p.iter().map(QueueParam::sql).collect();
        let rows = self.query(
            &format!(
                "WITH page AS (SELECT d.declaration_id FROM decision_index d
                     LEFT JOIN cases c ON c.declaration_id = d.declaration_id {w}
                     ORDER BY d.lane_rank, d.score DESC, d.declaration_id LIMIT ${} OFFSET ${})
                 SELECT {HIT_COLUMNS} FROM page JOIN decision_index d ON d.declaration_id = page.declaration_id
                 JOIN audit_log a ON a.seq = d.audit_seq
                 LEFT JOIN cases c ON c.declaration_id = d.declaration_id
                 ORDER BY d.lane_rank, d.score DESC, d.declaration_id",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        let hits = rows.iter().map(hit_row).collect::<Result<_, _>>()?;
        Ok((hits, to_u64(total, "queue row count")?))
    }

    fn case(&mut self, declaration_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        match self.query_opt(
            "SELECT declaration_id, state, holder, note, feedback_id, updated_at, updated_by FROM cases WHERE declaration_id = $1",
            &[&declaration_id],
        )? {
            Some(r) => case_at(&r, 0),
            None => Ok(None),
        }
    }

    fn put_scored_input(&mut self, input_hash: &str, body: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO scored_inputs (input_hash, body) VALUES ($1, $2) ON CONFLICT (input_hash) DO NOTHING",
            &[&input_hash, &body],
        )?;
        Ok(())
    }

    fn put_scored_inputs(&mut self, inputs: &[(String, String)]) -> Result<(), StoreError> {
        if inputs.is_empty() {
            return Ok(());
        }
        let hashes: Vec<&str> = inputs.iter().map(|(h, _)| h.as_str()).collect();
        let bodies: Vec<&str> = inputs.iter().map(|(_, b)| b.as_str()).collect();
        self.execute(
            "INSERT INTO scored_inputs (input_hash, body)
             SELECT h, b FROM UNNEST($1::TEXT[], $2::TEXT[]) AS u(h, b)
             ON CONFLICT (input_hash) DO NOTHING",
            &[&hashes, &bodies],
        )?;
        Ok(())
    }

    fn add_trade_links(&mut self, links: &[TradeLink]) -> Result<u64, StoreError> {
        if links.is_empty() {
            return Ok(0);
        }
        let col = |f: fn(&TradeLink) -> &str| links.iter().map(f).collect::<Vec<&str>>();
        // In the given order, so that of two rows for one link the first is kept.
        self.execute(
            "INSERT INTO trade_links (from_party, to_party, relation, first_declaration, first_seen)
             SELECT f, t, r, d, s
             FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[])
                  WITH ORDINALITY AS u(f, t, r, d, s, n)
             ORDER BY n
             ON CONFLICT DO NOTHING",
            &[
                &col(|l| &l.from),
                &col(|l| &l.to),
                &col(|l| &l.relation),
                &col(|l| &l.first_declaration),
                &col(|l| &l.first_seen),
            ],
        )
    }

    fn trade_links_of(&mut self, parties: &[&str]) -> Result<Vec<TradeLink>, StoreError> {
        if parties.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            "SELECT from_party, to_party, relation, first_declaration, first_seen FROM trade_links
             WHERE from_party = ANY($1::TEXT[]) OR to_party = ANY($1::TEXT[])
             ORDER BY from_party, to_party, relation",
            &[&parties],
        )?
        .iter()
        .map(|r| link_at(r, 0))
        .collect()
    }

    fn links_to_listed(
        &mut self,
        parties: &[&str],
    ) -> Result<Vec<(TradeLink, PartyScreening)>, StoreError> {
        if parties.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            "SELECT l.from_party, l.to_party, l.relation, l.first_declaration, l.first_seen,
                    s.party_id, s.lists_version, s.listed, s.result, s.screened_at
             FROM trade_links l JOIN party_screening s ON s.party_id = l.to_party AND s.listed
             WHERE l.from_party = ANY($1::TEXT[])
             UNION ALL
             SELECT l.from_party, l.to_party, l.relation, l.first_declaration, l.first_seen,
                    s.party_id, s.lists_version, s.listed, s.result, s.screened_at
             FROM trade_links l JOIN party_screening s ON s.party_id = l.from_party AND s.listed
             WHERE l.to_party = ANY($1::TEXT[])
             ORDER BY 1, 2, 3, 6",
            &[&parties],
        )?
        .iter()
        .map(|r| Ok((link_at(r, 0)?, screening_at(r, 5)?)))
        .collect()
    }

    fn put_party_screenings(&mut self, results: &[PartyScreening]) -> Result<(), StoreError> {
        // The last result of each party (one statement may not upsert a row twice).
        let mut last: HashMap<&str, &PartyScreening> = HashMap::with_capacity(results.len());
        for r in results {
            last.insert(&r.party_id, r);
        }
        if last.is_empty() {
            return Ok(());
        }
        let rows: Vec<&PartyScreening> = last.into_values().collect();
        let col = |f: fn(&PartyScreening) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<&str>>();
        let listed: Vec<bool> = rows.iter().map(|r| r.listed).collect();
        self.execute(
            "INSERT INTO party_screening (party_id, lists_version, listed, result, screened_at)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BOOLEAN[], $4::TEXT[], $5::TEXT[])
             ON CONFLICT (party_id) DO UPDATE SET lists_version = EXCLUDED.lists_version,
                 listed = EXCLUDED.listed, result = EXCLUDED.result, screened_at = EXCLUDED.screened_at",
            &[
                &col(|r| &r.party_id),
                &col(|r| &r.lists_version),
                &listed,
                &col(|r| &r.result),
                &col(|r| &r.screened_at),
            ],
        )?;
        Ok(())
    }

    fn party_screenings(
        &mut self,
        parties: &[&str],
    ) -> Result<HashMap<String, PartyScreening>, StoreError> {
        if parties.is_empty() {
            return Ok(HashMap::new());
        }
        self.query(
            "SELECT party_id, lists_version, listed, result, screened_at FROM party_screening
             WHERE party_id = ANY($1::TEXT[])",
            &[&parties],
        )?
        .iter()
        .map(|r| {
            let s = screening_at(r, 0)?;
            Ok((s.party_id.clone(), s))
        })
        .collect()
    }

    fn lane_usage(&mut self, office: &str, window: &str) -> Result<Option<LaneUsage>, StoreError> {
        self.query_opt(
            "SELECT decided, red, yellow FROM lane_usage WHERE office = $1 AND window_id = $2",
            &[&office, &window],
        )?
        .map(|r| usage_row(&r, 0))
        .transpose()
    }

    fn lane_usages_of(
        &mut self,
        offices: &[&str],
        window: &str,
    ) -> Result<HashMap<String, LaneUsage>, StoreError> {
        if offices.is_empty() {
            return Ok(HashMap::new());
        }
        self.query(
            "SELECT office, decided, red, yellow FROM lane_usage
             WHERE window_id = $1 AND office = ANY($2::TEXT[])",
            &[&window, &offices],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0).map_err(backend)?, usage_row(r, 1)?)))
        .collect()
    }

    fn put_lane_usages(
        &mut self,
        window: &str,
        rows: &[(&str, LaneUsage)],
    ) -> Result<(), StoreError> {
        // The last counts of each office (one statement may not upsert a row twice).
        let mut last: HashMap<&str, &LaneUsage> = HashMap::with_capacity(rows.len());
        for (office, u) in rows {
            last.insert(office, u);
        }
        if last.is_empty() {
            return Ok(());
        }
        let mut offices = Vec::with_capacity(last.len());
        let (mut decided, mut red, mut yellow) = (Vec::new(), Vec::new(), Vec::new());
        for (office, u) in last {
            offices.push(office);
            decided.push(to_i64(u.decided, "lane count")?);
            red.push(to_i64(u.red, "lane count")?);
            yellow.push(to_i64(u.yellow, "lane count")?);
        }
        self.execute(
            "INSERT INTO lane_usage (office, window_id, decided, red, yellow)
             SELECT u.office, $1, u.decided, u.red, u.yellow
             FROM UNNEST($2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[]) AS u(office, decided, red, yellow)
             ON CONFLICT (window_id, office) DO UPDATE SET decided = EXCLUDED.decided, red = EXCLUDED.red, yellow = EXCLUDED.yellow",
            &[&window, &offices, &decided, &red, &yellow],
        )?;
        Ok(())
    }

    fn put_lane_usage(
        &mut self,
        office: &str,
        window: &str,
        usage: &LaneUsage,
    ) -> Result<(), StoreError> {
        let decided = to_i64(usage.decided, "lane count")?;
        let red = to_i64(usage.red, "lane count")?;
        let yellow = to_i64(usage.yellow, "lane count")?;
        self.execute(
            "INSERT INTO lane_usage (office, window_id, decided, red, yellow) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (window_id, office) DO UPDATE SET decided = EXCLUDED.decided, red = EXCLUDED.red, yellow = EXCLUDED.yellow",
            &[&office, &window, &decided, &red, &yellow],
        )?;
        Ok(())
    }

    fn scored_input(&mut self, input_hash: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(
            "SELECT body FROM scored_inputs WHERE input_hash = $1",
            &[&input_hash],
        )?
        .map(|r| r.try_get(0).map_err(backend))
        .transpose()
    }

    fn put_case(&mut self, c: &CaseRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO cases (declaration_id, state, holder, note, feedback_id, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (declaration_id) DO UPDATE SET state = EXCLUDED.state, holder = EXCLUDED.holder,
                 note = EXCLUDED.note, feedback_id = EXCLUDED.feedback_id, updated_at = EXCLUDED.updated_at,
                 updated_by = EXCLUDED.updated_by",
            &[&c.declaration_id, &c.state.as_str(), &c.holder, &c.note, &c.feedback_id, &c.updated_at, &c.updated_by],
        )?;
        Ok(())
    }

    fn lane_usages(&mut self, from: &str, to: &str) -> Result<Vec<UsageRow>, StoreError> {
        self.query(
            "SELECT decided, red, yellow, office, window_id FROM lane_usage
             WHERE window_id >= $1 AND window_id <= $2 ORDER BY window_id, office",
            &[&from, &to],
        )?
        .iter()
        .map(|r| {
            Ok(UsageRow {
                usage: usage_row(r, 0)?,
                office: r.try_get(3).map_err(backend)?,
                window: r.try_get(4).map_err(backend)?,
            })
        })
        .collect()
    }

    fn rule_set(&mut self, version: &str) -> Result<Option<RuleSetEntry>, StoreError> {
        self.query_opt(
            "SELECT state, entry FROM rule_sets WHERE version = $1",
            &[&version],
        )?
        .map(|r| rule_set_entry(&r))
        .transpose()
    }

    fn rule_sets(&mut self) -> Result<Vec<RuleSetEntry>, StoreError> {
        self.query(
            "SELECT state, entry FROM rule_sets ORDER BY registered_order",
            &[],
        )?
        .iter()
        .map(rule_set_entry)
        .collect()
    }

    fn insert_rule_set(&mut self, e: &RuleSetEntry) -> Result<(), StoreError> {
        let entry = serde_json::to_string(e)?;
        self.execute(
            "INSERT INTO rule_sets (version, state, entry) VALUES ($1, $2, $3)",
            &[&e.version, &e.state.as_str(), &entry],
        )?;
        Ok(())
    }

    fn update_rule_set(&mut self, e: &RuleSetEntry) -> Result<(), StoreError> {
        let entry = serde_json::to_string(e)?;
        let n = self.execute(
            "UPDATE rule_sets SET state = $2, entry = $3 WHERE version = $1",
            &[&e.version, &e.state.as_str(), &entry],
        )?;
        if n != 1 {
            return Err(StoreError::Backend(format!("no rule set {}", e.version)));
        }
        Ok(())
    }
}

fn usage_row(r: &Row, first: usize) -> Result<LaneUsage, StoreError> {
    let n = |i: usize| -> Result<u64, StoreError> {
        to_u64(r.try_get(first + i).map_err(backend)?, "lane count")
    };
    Ok(LaneUsage {
        decided: n(0)?,
        red: n(1)?,
        yellow: n(2)?,
    })
}

/// A stored rule set: the state column is what the store holds (and what a tamperer changes).
fn rule_set_entry(r: &Row) -> Result<RuleSetEntry, StoreError> {
    let state: String = r.try_get(0).map_err(backend)?;
    let entry: String = r.try_get(1).map_err(backend)?;
    let mut e: RuleSetEntry = serde_json::from_str(&entry)?;
    e.state = RuleSetState::parse(&state)
        .ok_or_else(|| StoreError::Backend(format!("unknown rule set state {state:?}")))?;
    Ok(e)
}
