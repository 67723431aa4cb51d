//! The batch look-up of decision keys probes the primary key as a fresh database's table grows.
//! The stream benchmark found it scanning the whole table on every batch (`seq_scan` counting
//! batches, `idx_scan` 0: `declaration_id = ANY($2)` on a table without statistics yet, a plan
//! the prepared statement kept), PostgreSQL's CPU per decision growing with the table. Skipped with a message when
//! `BORDERLINE_TEST_POSTGRES` is not set.

mod support;

use borderline_governance::GovernanceStore;
use support::TestDb;

#[test]
fn the_batch_look_up_of_decision_keys_uses_the_index_as_the_table_grows() {
    let Some(db) = TestDb::create() else { return };
    let store = db.open();
    let batches = 40usize;
    let per_batch = 256usize;
    for b in 0..batches {
        let ids: Vec<String> = (0..per_batch).map(|i| format!("D{b}-{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut tx = store.begin(true).expect("begin");
        assert!(tx.decision_keys(&refs, "m-1").expect("look-up").is_empty());
        let keys: Vec<(&str, u64)> = refs
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, (b * per_batch + i + 1) as u64))
            .collect();
        tx.insert_decision_keys("m-1", &keys).expect("insert");
        tx.commit().expect("commit");
    }
    // The store's connections close: their statistics are reported.
    drop(store);
    let mut raw = db.raw();
    let mut counts = (0i64, 0i64);
    for _ in 0..50 {
        let row = raw
            .query_one(
                "SELECT COALESCE(seq_scan, 0), COALESCE(idx_scan, 0) FROM pg_stat_user_tables
                 WHERE relname = 'decision_keys'",
                &[],
            )
            .expect("statistics");
        counts = (row.get(0), row.get(1));
        if counts.0 + counts.1 >= batches as i64 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (seq, idx) = counts;
    assert!(
        seq + idx >= batches as i64,
        "statistics not reported: {seq} sequential and {idx} index scans"
    );
    // The first look-ups, on a table of a few pages, may scan it; the later ones must not
    // (each probe of the index counts as one index scan).
    assert!(
        seq <= 8 && idx >= (batches - 8) as i64,
        "{seq} sequential scans and {idx} index scans of decision_keys over {batches} batches"
    );
}
