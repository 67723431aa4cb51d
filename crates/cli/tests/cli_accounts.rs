//! `borderline accounts` and `borderline tokens` end to end: secrets only through stdin and
//! $BORDERLINE_TOKEN, tokens printed once, administrators only.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn borderline(db: &Path, args: &[&str], token: Option<&str>, stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_borderline"));
    cmd.args(args)
        .arg("--db")
        .arg(db)
        .env_remove("BORDERLINE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        cmd.env("BORDERLINE_TOKEN", t);
    }
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("run")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn bootstrap_create_issue_list_and_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("gov.db");
    let root = stdout(&borderline(
        &db,
        &["accounts", "bootstrap", "root"],
        None,
        "a long admin passphrase\n",
    ));
    assert!(root.starts_with("blt_"), "{root}");
    // Only once.
    let again = borderline(
        &db,
        &["accounts", "bootstrap", "eve"],
        None,
        "another long one!!\n",
    );
    assert!(!again.status.success());
    // Without a token nothing is created.
    let anon = borderline(
        &db,
        &["accounts", "create", "kim", "--role", "officer"],
        None,
        "",
    );
    assert!(!anon.status.success());
    let created = stdout(&borderline(
        &db,
        &[
            "accounts",
            "create",
            "acme",
            "--role",
            "trader",
            "--importer",
            "IMP-1,IMP-2",
            "--password-stdin",
        ],
        Some(&root),
        "trader passphrase 1\n",
    ));
    assert!(
        created.contains("acme\ttrader\tIMP-1,IMP-2\tactive"),
        "{created}"
    );
    let bad_role = borderline(
        &db,
        &["accounts", "create", "x", "--role", "king"],
        Some(&root),
        "",
    );
    assert!(!bad_role.status.success());
    let token = stdout(&borderline(
        &db,
        &["tokens", "create", "acme", "--label", "erp", "--days", "30"],
        Some(&root),
        "",
    ));
    assert!(token.starts_with("blt_"));
    // The trader's token cannot manage accounts.
    let denied = borderline(&db, &["accounts", "list"], Some(&token), "");
    assert!(!denied.status.success());
    let listed = stdout(&borderline(
        &db,
        &["tokens", "list", "--json"],
        Some(&root),
        "",
    ));
    assert!(
        !listed.contains(&token) && !listed.contains("sha256"),
        "{listed}"
    );
    let id = token
        .trim_start_matches("blt_")
        .split('_')
        .next()
        .expect("id");
    stdout(&borderline(&db, &["tokens", "revoke", id], Some(&root), ""));
    let revoked = borderline(&db, &["tokens", "list"], Some(&token), "");
    assert!(!revoked.status.success());
    let accounts = stdout(&borderline(
        &db,
        &["accounts", "list", "--json"],
        Some(&root),
        "",
    ));
    assert!(!accounts.contains("argon2"), "{accounts}");
}
