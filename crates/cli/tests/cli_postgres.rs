//! `--db postgres://...` and `BORDERLINE_DB=postgres://...` put the governance records in
//! PostgreSQL: registry, lanes with their audit records, feedback and verification through the
//! binary. Runs against the cluster of `BORDERLINE_TEST_POSTGRES` (scripts/postgres.sh); the
//! test that needs it is skipped with a message when it is not set.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::sample;

fn borderline(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_borderline"));
    c.current_dir(dir)
        .env_remove("BORDERLINE_DB")
        .env_remove("BORDERLINE_USER")
        .env("USER", "");
    c
}

fn run(cmd: &mut Command, should_succeed: bool) -> (String, String) {
    let out: Output = cmd.output().expect("runs");
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert_eq!(
        out.status.success(),
        should_succeed,
        "{cmd:?}\nstdout:\n{so}\nstderr:\n{se}"
    );
    (so, se)
}

fn ok(cmd: &mut Command) -> String {
    run(cmd, true).0
}

/// A new empty database on the test cluster, as a URL; `None` (skip) without a cluster.
fn test_database(name: &str) -> Option<String> {
    let Ok(url) = std::env::var("BORDERLINE_TEST_POSTGRES") else {
        eprintln!("skipped: BORDERLINE_TEST_POSTGRES not set (scripts/test.sh starts a cluster)");
        return None;
    };
    let admin: postgres::Config = url.parse().expect("a PostgreSQL URL");
    let mut client = admin.connect(postgres::NoTls).expect("test cluster");
    let name = format!("{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .expect("drop");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let (base, _) = url.rsplit_once('/').expect("URL with a database name");
    Some(format!("{base}/{name}"))
}

#[test]
fn the_registry_lanes_feedback_and_audit_live_in_postgres_when_db_is_a_url() {
    let Some(db) = test_database("borderline_cli") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ((train, _), (valid, _), (test, n_test)) = (
        sample("train", 6, d),
        sample("valid", 3, d),
        sample("test", 3, d),
    );
    let model = d.join("model.json.gz");
    ok(borderline(d)
        .args(["train", "--train"])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .arg("--model")
        .arg(&model)
        .args(["--learning-rate", "0.1", "--threads", "1"]));

    // --db selects the database; so does BORDERLINE_DB.
    let json = ok(borderline(d)
        .args(["models", "register", "--db", &db, "--user", "ana", "--json"])
        .arg(&model));
    let entry: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let version = entry["version"].as_str().expect("version").to_string();
    let (_, err) = run(
        borderline(d).env("BORDERLINE_DB", &db).args([
            "models", "approve", &version, "--reason", "fine", "--user", "ana",
        ]),
        false,
    );
    assert!(err.contains("four-eyes"), "{err}");
    ok(borderline(d).env("BORDERLINE_DB", &db).args([
        "models",
        "approve",
        &version,
        "--reason",
        "card and validation reviewed",
        "--user",
        "ben",
    ]));
    ok(borderline(d).args(["models", "activate", &version, "--db", &db, "--user", "ben"]));

    std::fs::write(
        d.join("rules.txt"),
        "rule \"high-duty\" priority 5 when tax_rate >= 8 and score > 0.5\nthen lane yellow reason \"high duty and risky\"\n",
    )
    .expect("rules");
    ok(borderline(d)
        .args(["select", "--db", &db, "--user", "officer.kim", "--input"])
        .arg(&test)
        .args(["--rules", "rules.txt", "--capacity", "red=2%,yellow=5%"])
        .args(["--output", "lanes.csv"]));
    let lanes = std::fs::read_to_string(d.join("lanes.csv")).expect("lanes");
    assert_eq!(lanes.lines().count(), n_test + 1);
    let first = lanes
        .lines()
        .nth(1)
        .expect("a lane")
        .split(',')
        .next()
        .expect("id");
    ok(borderline(d).env("BORDERLINE_DB", &db).args([
        "feedback",
        "record",
        "--user",
        "kim",
        "--declaration",
        first,
        "--fraud",
        "no",
        "--date",
        "2021-04-05",
    ]));

    // Register, approve, activate; one record per decided declaration plus a summary; feedback.
    let verify = ok(borderline(d).args(["audit", "verify", "--db", &db]));
    let records = 3 + (n_test + 1) + 1;
    assert!(
        verify.contains(&format!("intact: {records} records")),
        "{verify}"
    );
    assert!(
        !d.join("borderline.db").exists(),
        "nothing went to a SQLite file"
    );
    let listed: serde_json::Value = serde_json::from_str(&ok(borderline(d)
        .env("BORDERLINE_DB", &db)
        .args(["models", "list", "--json"])))
    .expect("JSON");
    assert_eq!(listed[0]["state"], "active");
}

#[test]
fn an_unreachable_postgres_url_fails_with_the_reason_and_no_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("postgres://kim:s3cret@127.0.0.1:{port}/borderline");
    let (_, err) = run(
        borderline(dir.path()).args(["models", "list", "--db", &url]),
        false,
    );
    assert!(
        err.contains(&format!(
            "opening postgres://kim:***@127.0.0.1:{port}/borderline"
        )),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!dir.path().join("borderline.db").exists());
}

#[test]
fn accounts_and_tokens_live_in_postgres_when_db_is_a_url() {
    use std::io::Write;
    let Some(db) = test_database("borderline_accounts") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut boot = borderline(dir.path());
    boot.args(["accounts", "bootstrap", "root", "--db", &db])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = boot.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long admin passphrase\n")
        .expect("write");
    let out = child.wait_with_output().expect("bootstrap");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("blt_"), "{token}");
    let listed = ok(borderline(dir.path())
        .env("BORDERLINE_TOKEN", &token)
        .args(["tokens", "list", "--db", &db]));
    assert!(listed.contains("root"), "{listed}");
    // No SQLite file was created beside it.
    assert!(std::fs::read_dir(dir.path()).expect("dir").next().is_none());
}
