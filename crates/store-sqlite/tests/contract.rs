//! The governance store contract suite on SQLite, plus tampering with the database file itself.

use borderline_governance::audit::{
    AuditEvent, AuditLog, AuditRecord, Break, GovernanceAction, Verification,
};
use borderline_governance::contract::{run_all, Tamper};
use borderline_governance::registry::sha256_hex;
use borderline_governance::{Actor, GovernanceStore, StoreError, StoreTx};
use borderline_store_sqlite::SqliteStore;

/// The store under test, with raw SQL access for [`Tamper`].
struct Harness(SqliteStore);

impl GovernanceStore for Harness {
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        self.0.begin(write)
    }
}

impl Harness {
    fn refused(&self, sql: &str) -> bool {
        match self.0.raw_connection().execute(sql, []) {
            Ok(_) => false,
            Err(e) => e.to_string().contains("append-only"),
        }
    }

    fn force(&self, sql: &str) {
        self.0
            .raw_connection()
            .execute_batch(&format!(
                "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;
                 DROP TRIGGER IF EXISTS artefacts_no_update; {sql}"
            ))
            .expect("tamper");
    }
}

impl Tamper for Harness {
    fn try_rewrite_audit(&self, seq: u64) -> bool {
        self.refused(&format!(
            "UPDATE audit_log SET user = 'someone.else' WHERE seq = {seq}"
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
            "UPDATE audit_log SET seq = -1 WHERE seq = {a};
             UPDATE audit_log SET seq = {a} WHERE seq = {b};
             UPDATE audit_log SET seq = {b} WHERE seq = -1;"
        ));
    }

    fn force_change_artefact(&self, sha256: &str) {
        self.force(&format!(
            "UPDATE artefacts SET bytes = CAST(CAST(bytes AS TEXT) || ' ' AS BLOB) WHERE sha256 = '{sha256}'"
        ));
    }

    fn force_set_model_state(&self, version: &str, state: &str) {
        self.0
            .raw_connection()
            .execute(
                "UPDATE models SET state = ?2 WHERE version = ?1",
                [version, state],
            )
            .expect("tamper");
    }

    fn force_set_rule_set_state(&self, version: &str, state: &str) {
        self.0
            .raw_connection()
            .execute(
                "UPDATE rule_sets SET state = ?2 WHERE version = ?1",
                [version, state],
            )
            .expect("tamper");
    }

    fn force_replace_audit(&self, records: &[AuditRecord]) {
        self.force("DELETE FROM audit_log");
        let conn = self.0.raw_connection();
        for r in records {
            conn.execute(
                "INSERT INTO audit_log (seq, recorded_at, user, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![r.seq as i64, r.recorded_at, r.user, r.kind, r.body, r.prev_hash, r.hash],
            )
            .expect("insert");
        }
    }
}

#[test]
fn sqlite_passes_the_store_contract() {
    run_all(|| Harness(SqliteStore::open_in_memory().expect("store")));
}

#[test]
fn sqlite_on_a_file_passes_the_store_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = std::cell::Cell::new(0);
    run_all(|| {
        n.set(n.get() + 1);
        Harness(SqliteStore::open(&dir.path().join(format!("{}.db", n.get()))).expect("store"))
    });
}

fn event(i: usize) -> AuditEvent {
    AuditEvent::Governance(GovernanceAction {
        action: "test.event".into(),
        subject: format!("DECL-{i:04}"),
        detail: serde_json::json!({"reason": format!("importer's past fraud rate {i}%")}),
    })
}

#[test]
fn changing_one_byte_in_the_database_file_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("borderline.db");
    {
        let store = SqliteStore::open(&path).expect("open");
        let events: Vec<AuditEvent> = (1..=20).map(event).collect();
        AuditLog::new(&store)
            .append_all(&Actor::new("officer.kim").expect("actor"), &events)
            .expect("append");
    }
    // Checkpointed into the main file on close; flip one byte of record 12's reason text
    // (in every copy: a page split can leave a stale copy in unused space).
    let mut bytes = std::fs::read(&path).expect("read");
    let needle = b"importer's past fraud rate 12%";
    let hits: Vec<usize> = (0..bytes.len().saturating_sub(needle.len()))
        .filter(|&i| &bytes[i..i + needle.len()] == needle)
        .collect();
    assert!(!hits.is_empty(), "record text in the file");
    for at in hits {
        bytes[at + needle.len() - 2] = b'9';
    }
    std::fs::write(&path, &bytes).expect("write");
    let store = SqliteStore::open(&path).expect("reopen");
    let v = AuditLog::new(&store).verify().expect("verify");
    assert!(
        matches!(
            v,
            Verification::Broken {
                seq: 12,
                problem: Break::Altered,
                ..
            }
        ),
        "{v:?}"
    );
}

#[test]
fn the_database_refuses_a_second_active_model_and_changed_artefacts() {
    let store = SqliteStore::open_in_memory().expect("store");
    let conn = store.raw_connection();
    conn.execute(
        "INSERT INTO artefacts (sha256, bytes) VALUES (?1, x'01')",
        [sha256_hex(&[1])],
    )
    .expect("insert");
    let err = conn
        .execute("UPDATE artefacts SET bytes = x'02'", [])
        .expect_err("append-only");
    assert!(err.to_string().contains("never changed"), "{err}");
    for v in ["a", "b"] {
        conn.execute(
            "INSERT INTO models (version, state, trainer, registered_by, registered_at, artefact_path, artefact_sha256, data_fingerprint, parameters, metrics, card)
             VALUES (?1, 'approved', 't', 't', 't', '', 's', 'f', '{}', '{}', '{}')",
            [v],
        )
        .expect("model");
    }
    conn.execute("UPDATE models SET state = 'active' WHERE version = 'a'", [])
        .expect("one active");
    let err = conn
        .execute("UPDATE models SET state = 'active' WHERE version = 'b'", [])
        .expect_err("unique active");
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}
