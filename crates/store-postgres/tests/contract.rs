//! The governance store contract suite on PostgreSQL, plus what the database itself refuses
//! and how the schema is versioned. Runs against the cluster of `BORDERLINE_TEST_POSTGRES`
//! (scripts/postgres.sh); skipped with a message when it is not set.

mod support;

use borderline_governance::audit::AuditRecord;
use borderline_governance::contract::{run_all, Tamper};
use borderline_governance::registry::sha256_hex;
use borderline_governance::{GovernanceStore, StoreError, StoreTx};
use borderline_store_postgres::{PostgresStore, SCHEMA_VERSION};
use support::TestDb;

/// The store under test, with raw SQL access for [`Tamper`]. The store is dropped before its
/// database (field order).
struct Harness {
    store: PostgresStore,
    db: TestDb,
}

impl GovernanceStore for Harness {
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        self.store.begin(write)
    }
}

/// The server's message for a refused statement.
fn refusal(result: Result<u64, postgres::Error>) -> Option<String> {
    result.err().map(|e| {
        e.as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string())
    })
}

impl Harness {
    fn refused(&self, sql: &str) -> bool {
        refusal(self.db.raw().execute(sql, &[])).is_some_and(|m| m.contains("append-only"))
    }

    fn force(&self, sql: &str) {
        self.db
            .raw()
            .batch_execute(&format!(
                "ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE artefacts DISABLE TRIGGER USER; {sql}"
            ))
            .expect("tamper");
    }
}

impl Tamper for Harness {
    fn try_rewrite_audit(&self, seq: u64) -> bool {
        self.refused(&format!(
            "UPDATE audit_log SET actor = 'someone.else' WHERE seq = {seq}"
        ))
    }

    fn try_delete_audit(&self, seq: u64) -> bool {
        self.refused(&format!("DELETE FROM audit_log WHERE seq = {seq}"))
    }

    fn force_change_audit_byte(&self, seq: u64) {
        self.force(&format!(
            "UPDATE audit_log SET body = replace(body, '\"lane\":\"green\"', '\"lane\":\"greeN\"') WHERE seq = {seq}"
        ));
    }

    fn force_delete_audit(&self, seq: u64) {
        self.force(&format!("DELETE FROM audit_log WHERE seq = {seq}"));
    }

    fn force_swap_audit(&self, a: u64, b: u64) {
        self.force(&format!(
            "UPDATE audit_log SET seq = 1000000 WHERE seq = {a};
             UPDATE audit_log SET seq = {a} WHERE seq = {b};
             UPDATE audit_log SET seq = {b} WHERE seq = 1000000;"
        ));
    }

    fn force_change_artefact(&self, sha256: &str) {
        self.force(&format!(
            "UPDATE artefacts SET bytes = bytes || '\\x20'::bytea WHERE sha256 = '{sha256}'"
        ));
    }

    fn force_set_model_state(&self, version: &str, state: &str) {
        self.db
            .raw()
            .execute(
                "UPDATE models SET state = $2 WHERE version = $1",
                &[&version, &state],
            )
            .expect("tamper");
    }

    fn force_set_rule_set_state(&self, version: &str, state: &str) {
        self.db
            .raw()
            .execute(
                "UPDATE rule_sets SET state = $2 WHERE version = $1",
                &[&version, &state],
            )
            .expect("tamper");
    }

    fn force_replace_audit(&self, records: &[AuditRecord]) {
        self.force("DELETE FROM audit_log");
        let mut raw = self.db.raw();
        raw.batch_execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            .expect("tamper");
        for r in records {
            raw.execute(
                "INSERT INTO audit_log (seq, recorded_at, actor, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&(r.seq as i64), &r.recorded_at, &r.user, &r.kind, &r.body, &r.prev_hash, &r.hash],
            )
            .expect("insert");
        }
    }
}

#[test]
fn postgres_passes_the_store_contract() {
    if support::cluster().is_none() {
        return;
    }
    run_all(|| {
        let db = TestDb::create().expect("test cluster");
        Harness {
            store: db.open(),
            db,
        }
    });
}

#[test]
fn the_database_refuses_rewrites_a_second_active_model_and_changed_artefacts() {
    let Some(db) = TestDb::create() else { return };
    let _store = db.open();
    let mut raw = db.raw();
    raw.execute(
        "INSERT INTO artefacts (sha256, bytes) VALUES ($1, '\\x01'::bytea)",
        &[&sha256_hex(&[1])],
    )
    .expect("insert");
    let changed = refusal(raw.execute("UPDATE artefacts SET bytes = '\\x02'::bytea", &[]));
    assert!(
        changed
            .as_deref()
            .is_some_and(|m| m.contains("never changed")),
        "{changed:?}"
    );
    for table in ["audit_log", "feedback", "artefacts", "models"] {
        let truncated = refusal(raw.execute(&format!("TRUNCATE {table}"), &[]));
        assert!(truncated.is_some(), "TRUNCATE {table} was allowed");
    }
    for v in ["a", "b"] {
        raw.execute(
            "INSERT INTO models (version, state, trainer, registered_by, registered_at, artefact_sha256, data_fingerprint, parameters, metrics, card)
             VALUES ($1, 'approved', 't', 't', 't', 's', 'f', '{}', '{}', '{}')",
            &[&v],
        )
        .expect("model");
    }
    raw.execute(
        "UPDATE models SET state = 'active' WHERE version = 'a'",
        &[],
    )
    .expect("one active");
    let second = refusal(raw.execute(
        "UPDATE models SET state = 'active' WHERE version = 'b'",
        &[],
    ));
    assert!(
        second
            .as_deref()
            .is_some_and(|m| m.contains("models_one_active")),
        "{second:?}"
    );
    let deleted = refusal(raw.execute("DELETE FROM models WHERE version = 'b'", &[]));
    assert!(
        deleted
            .as_deref()
            .is_some_and(|m| m.contains("never deleted")),
        "{deleted:?}"
    );
}

#[test]
fn migrations_are_applied_once_and_recorded() {
    let Some(db) = TestDb::create() else { return };
    // Four processes starting at once on an empty database: each migration runs once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| db.open());
        }
    });
    let store = db.open();
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    let rows: Vec<i64> = db
        .raw()
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .expect("schema_version")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}

#[test]
fn a_schema_6_database_gets_the_rules_of_its_decisions_from_the_chain() {
    use borderline_core::{Reason, ReasonKind};
    use borderline_governance::audit::{AuditEvent, AuditLog, Decision};
    use borderline_governance::cases::{Cases, QueueQuery};
    let Some(db) = TestDb::create() else { return };
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
        let store = db.open();
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
    }
    // Back to schema 6: the chain and the index, no rules table.
    db.raw()
        .batch_execute(
            "DROP TABLE decision_rules, trade_links, party_screening;
             DROP INDEX feedback_by_declaration;
             DELETE FROM schema_version WHERE version >= 7",
        )
        .expect("back to schema 6");
    let store = db.open();
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
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

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::create() else { return };
    drop(db.open());
    db.raw()
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("newer version");
    match PostgresStore::open_config(db.config.clone(), Default::default()) {
        Err(StoreError::Schema { found, expected }) => {
            assert_eq!((found, expected), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        Err(e) => panic!("expected a schema refusal, got {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn an_unreachable_server_fails_at_once_with_the_reason_and_no_password() {
    if support::cluster().is_none() {
        return;
    }
    // A port on loopback where nothing listens (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let started = std::time::Instant::now();
    let err = match PostgresStore::open(&format!(
        "postgres://officer:s3cret-pass@127.0.0.1:{port}/borderline"
    )) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("connected to nothing"),
    };
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("connect") || err.contains("refused"), "{err}");
    assert!(!err.contains("s3cret"), "the password leaked into {err}");
}
