//! Governance through the `borderline` binary on a small sample of the bundled data: registry
//! with four-eyes approval, lanes with rules under exact capacities, the audit log (verify,
//! export, tamper detection), feedback, monitoring, and a tiny simulation.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::sample;

/// The binary, run in `dir` with no inherited governance settings.
fn borderline(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_borderline"));
    c.current_dir(dir)
        .env_remove("BORDERLINE_DB")
        .env_remove("BORDERLINE_USER")
        .env("USER", "");
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    let (so, se) = text(&out);
    assert!(
        out.status.success(),
        "failed: {cmd:?}\nstdout:\n{so}\nstderr:\n{se}"
    );
    so
}

/// Runs a command that must fail; returns its standard error.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    let (so, se) = text(&out);
    assert!(
        !out.status.success(),
        "should have failed: {cmd:?}\nstdout:\n{so}"
    );
    se
}

fn lanes_of(path: &Path) -> Vec<(String, String, String)> {
    let mut rdr = csv::Reader::from_path(path).expect("lanes CSV");
    rdr.records()
        .map(|r| {
            let r = r.expect("record");
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect()
}

fn floor_share(n: usize, percent: f64) -> usize {
    ((n as f64) * percent / 100.0 + 1e-9).floor() as usize
}

#[test]
fn registry_lanes_audit_feedback_and_monitor_through_the_cli() {
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
    std::fs::write(
        d.join("rules.txt"),
        "# analyst rules\nrule \"high-duty-risky\" priority 5\nwhen tax_rate >= 8 and score > 0.5\nthen lane yellow reason \"high duty and risky\"\n\nwhen origin in [\"CN\", \"VN\"] and unit_value_vs_norm < 0.2\nthen lane red reason \"far below the usual price for this HS6 and origin\"\n\nrule \"cheap\" priority 10 when unit_value_percentile < 3 and valuation_z < -1\nthen lane yellow reason \"unit value in the bottom 3% of its benchmark\"\n",
    )
    .expect("rules");
    let select = |seed: &str, out: &str| {
        let mut c = borderline(d);
        c.args(["select", "--user", "officer.kim", "--input"])
            .arg(&test)
            .args(["--rules", "rules.txt", "--history"])
            .arg(&train)
            .args(["--capacity", "red=2%,yellow=5%,blue=1%"])
            .args([
                "--random",
                "0.5%",
                "--explore",
                "1%",
                "--seed",
                seed,
                "--output",
                out,
            ]);
        c
    };

    // Reading commands do not create a database at a mistyped path.
    let err = fails(borderline(d).args(["audit", "verify", "--db", "typo.db"]));
    assert!(err.contains("no governance database at typo.db"), "{err}");
    assert!(!d.join("typo.db").exists());

    // Nothing scores before a model is registered, approved and activated.
    let err = fails(&mut select("3", "lanes.csv"));
    assert!(err.contains("no active model"), "{err}");

    let json = ok(borderline(d)
        .args(["models", "register", "--user", "ana", "--json", "--eval"])
        .arg(&valid)
        .arg(&model));
    let entry: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let version = entry["version"].as_str().expect("version").to_string();
    assert_eq!(entry["state"], "draft");
    assert_eq!(entry["trainer"], "ana");
    assert!(!entry["card"]["performance_by_office"]
        .as_array()
        .expect("by office")
        .is_empty());

    // Four eyes: the trainer cannot approve; approval needs a reason; drafts cannot activate.
    let err = fails(borderline(d).args([
        "models", "approve", &version, "--reason", "fine", "--user", "ana",
    ]));
    assert!(err.contains("four-eyes"), "{err}");
    let err = fails(borderline(d).args(["models", "activate", &version, "--user", "ben"]));
    assert!(err.contains("is draft"), "{err}");
    let err = fails(borderline(d).args([
        "models", "approve", &version, "--reason", " ", "--user", "ben",
    ]));
    assert!(err.contains("needs a reason"), "{err}");
    // The user may come from the environment.
    ok(borderline(d).env("BORDERLINE_USER", "ben").args([
        "models",
        "approve",
        &version,
        "--reason",
        "card and validation reviewed",
    ]));
    let err = fails(&mut select("3", "lanes.csv"));
    assert!(err.contains("no active model"), "{err}");
    ok(borderline(d).args(["models", "activate", &version, "--user", "ben"]));
    let list: serde_json::Value =
        serde_json::from_str(&ok(borderline(d).args(["models", "list", "--json"]))).expect("JSON");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["approved_by"], "ben");
    // Withdrawing a model is recorded with its reason: none, or a blank one, is refused.
    let err = fails(borderline(d).args(["models", "rollback", "--user", "ben"]));
    assert!(err.contains("--reason"), "{err}");
    let err = fails(borderline(d).args(["models", "rollback", "--reason", " ", "--user", "ben"]));
    assert!(err.contains("needs a reason"), "{err}");
    let err =
        fails(borderline(d).args(["models", "rollback", "--reason", "drift", "--user", "ben"]));
    assert!(err.contains("nothing to roll back to"), "{err}");

    // A rule file error names line and column, and nothing is selected.
    std::fs::write(
        d.join("bad.txt"),
        "when origin = \"CN\"\nthen lane purple reason \"x\"\n",
    )
    .expect("write");
    let err = fails(
        borderline(d)
            .args(["select", "--user", "kim", "--input"])
            .arg(&test)
            .args(["--rules", "bad.txt", "--output", "bad.csv"]),
    );
    assert!(err.contains("line 2, column 11: expected a lane"), "{err}");

    // Lanes: capacities and the random share exactly, deterministic for a seed.
    ok(&mut select("3", "lanes.csv"));
    let lanes = lanes_of(&d.join("lanes.csv"));
    assert_eq!(lanes.len(), n_test);
    let count = |lane: &str| lanes.iter().filter(|l| l.1 == lane).count();
    let basis = |b: &str| lanes.iter().filter(|l| l.2 == b).count();
    assert_eq!(count("red"), floor_share(n_test, 2.0));
    assert_eq!(count("yellow"), floor_share(n_test, 5.0));
    assert_eq!(count("blue"), floor_share(n_test, 1.0));
    assert_eq!(basis("random"), floor_share(n_test, 0.5));
    assert_eq!(basis("exploration"), floor_share(n_test, 1.0));
    assert!(
        basis("rule") > 0,
        "the rules should direct some declarations"
    );
    // The valuation fields come from benchmarks built on --history.
    let rule_ids: Vec<String> = csv::Reader::from_path(d.join("lanes.csv"))
        .expect("lanes")
        .records()
        .map(|r| r.expect("record")[5].to_string())
        .collect();
    assert!(rule_ids.iter().any(|r| r == "cheap"), "{rule_ids:?}");
    assert!(rule_ids.iter().any(|r| r == "high-duty-risky"));
    // Screening feeds rules: planted near-matches of listed entities (synthetic demo names).
    std::fs::write(
        d.join("screen.txt"),
        "rule \"listed\" when screening_score >= 0.9 then lane red reason \"watchlist match\"\n",
    )
    .expect("write");
    ok(borderline(d)
        .args([
            "select",
            "--user",
            "officer.kim",
            "--demo-parties",
            "--input",
        ])
        .arg(&test)
        .args(["--rules", "screen.txt", "--output", "screened.csv"]));
    let listed = csv::Reader::from_path(d.join("screened.csv"))
        .expect("lanes")
        .records()
        .filter(|r| r.as_ref().expect("record")[5].contains("listed"))
        .count();
    assert!(listed > 0, "a screening hit directs a declaration by rule");
    ok(&mut select("3", "again.csv"));
    let mut a = lanes_of(&d.join("lanes.csv"));
    let mut b = lanes_of(&d.join("again.csv"));
    a.sort();
    b.sort();
    assert_eq!(a, b, "same seed, same lanes");

    // Every decision is in the audit log, which verifies.
    let verify = ok(borderline(d).args(["audit", "verify"]));
    // Registration, approval, activation; then three selections (lanes, screened, again), each
    // one record per declaration plus a summary.
    let records = 3 + 3 * (n_test + 1);
    assert!(
        verify.contains(&format!("intact: {records} records")),
        "{verify}"
    );
    assert!(verify.contains("registry agrees"), "{verify}");

    // Issue 11: the chain head signed with a key kept outside the database, into a witness
    // file; and a model file scored offline says whether it is the active approved model.
    ok(borderline(d).args(["audit", "keygen", "--key", "audit.key"]));
    ok(borderline(d).args([
        "audit",
        "checkpoint",
        "--key",
        "audit.key",
        "--witness",
        "witness.jsonl",
    ]));
    let verify = ok(borderline(d).args([
        "audit",
        "verify",
        "--witness",
        "witness.jsonl",
        "--public-key",
        "audit.key.pub",
    ]));
    assert!(verify.contains("1 signed checkpoints hold"), "{verify}");
    let scored = ok(borderline(d)
        .args([
            "score",
            "--db",
            "borderline.db",
            "--format",
            "jsonl",
            "--reasons",
            "none",
        ])
        .arg("--input")
        .arg(&test)
        .arg("--model")
        .arg(&model));
    assert!(
        scored
            .lines()
            .all(|l| l.contains(r#""model_status":"active""#)),
        "the active model's own file scores as active"
    );

    // Feedback: one by hand, more from a file; then exported as training data.
    let red: Vec<&str> = lanes
        .iter()
        .filter(|l| l.1 == "red")
        .map(|l| l.0.as_str())
        .collect();
    ok(borderline(d).args([
        "feedback",
        "record",
        "--user",
        "kim",
        "--declaration",
        red[0],
        "--fraud",
        "yes",
        "--amount",
        "125000",
        "--date",
        "2021-04-05",
    ]));
    let mut csv = String::from("declaration_id,date,fraud,critical_level,note\n");
    for (i, id) in red.iter().enumerate().skip(1) {
        let (fraud, level) = if i % 2 == 0 { ("yes", 1) } else { ("no", 0) };
        csv.push_str(&format!(
            "{id},2021-04-{:02},{fraud},{level},\n",
            6 + i % 20
        ));
    }
    std::fs::write(d.join("outcomes.csv"), &csv).expect("write");
    ok(borderline(d).args(["feedback", "import", "outcomes.csv", "--user", "kim"]));
    std::fs::write(d.join("broken.csv"), "declaration_id,fraud\nX1,maybe\n").expect("write");
    let err = fails(borderline(d).args(["feedback", "import", "broken.csv", "--user", "kim"]));
    assert!(err.contains("line 2") && err.contains("yes or no"), "{err}");
    // Issue 14: outcomes for a declaration nothing decided, or dated in 2099, are refused
    // (the whole file), naming the file, line and column.
    std::fs::write(
        d.join("unknown.csv"),
        format!(
            "declaration_id,fraud,date\n{},no,2021-04-07\nNOT-DECIDED-1,yes,2021-04-07\n",
            red[0]
        ),
    )
    .expect("write");
    let err = fails(borderline(d).args(["feedback", "import", "unknown.csv", "--user", "kim"]));
    assert!(
        err.contains("unknown.csv: line 3: declaration_id \"NOT-DECIDED-1\"")
            && err.contains("no decision"),
        "{err}"
    );
    std::fs::write(
        d.join("future.csv"),
        format!("declaration_id,fraud,date\n{},no,2099-01-01\n", red[0]),
    )
    .expect("write");
    let err = fails(borderline(d).args(["feedback", "import", "future.csv", "--user", "kim"]));
    assert!(
        err.contains("future.csv: line 2: date 2099-01-01 is in the future"),
        "{err}"
    );
    for (id, date, field) in [
        ("NOT-DECIDED-1", "2021-04-07", "declaration_id"),
        (red[0], "2099-01-01", "decided_on"),
    ] {
        let err = fails(borderline(d).args([
            "feedback",
            "record",
            "--user",
            "kim",
            "--declaration",
            id,
            "--fraud",
            "no",
            "--date",
            date,
        ]));
        assert!(err.contains(field), "{err}");
    }

    let out = ok(borderline(d)
        .args([
            "feedback",
            "export",
            "--since",
            "2021-04-01",
            "--declarations",
        ])
        .arg(&test)
        .args(["--output", "retrain.csv"]));
    assert!(
        out.contains(&format!("{} declarations", red.len())),
        "{out}"
    );
    let ingest = text(
        &borderline(d)
            .args(["ingest", "retrain.csv", "--profile", "generic"])
            .output()
            .expect("runs"),
    );
    let accounting = format!("read {0} = accepted {0} + quarantined 0", red.len());
    assert!(ingest.0.contains(&accounting), "{ingest:?}");

    // `train --since`: the recorded outcomes join the latest period of a retraining.
    let retrain = text(
        &borderline(d)
            .args(["train", "--train"])
            .arg(&train)
            .arg("--valid")
            .arg(&valid)
            .args(["--model", "retrained.json.gz", "--learning-rate", "0.1"])
            .args([
                "--threads",
                "1",
                "--since",
                "2021-04-01",
                "--feedback-declarations",
            ])
            .arg(&test)
            .output()
            .expect("runs"),
    );
    let joined = format!(
        "feedback: {} declarations with outcomes recorded since 2021-04-01 join",
        red.len()
    );
    assert!(retrain.1.contains(&joined), "{retrain:?}");
    assert!(retrain.0.contains("written to"), "{retrain:?}");

    // Monitor: PSI of score and features against the training period, hit rates by lane.
    let json = ok(borderline(d)
        .args(["monitor", "--json", "--input"])
        .arg(&test)
        .arg("--reference")
        .arg(&train));
    let m: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert!(
        m["score"]["value"].as_f64().is_some_and(|v| v >= 0.0),
        "{json}"
    );
    assert!(m["features"].as_array().is_some_and(|f| f.len() > 10));
    let red_all = m["hit_rates"]
        .as_array()
        .expect("hit rates")
        .iter()
        .find(|h| h["group"] == "lane red" && h["week"] == "all")
        .cloned()
        .expect("red lane hit rate");
    assert_eq!(red_all["inspected"].as_u64(), Some(red.len() as u64));

    // Export, then tamper with one byte of the database: verify says where.
    ok(borderline(d).args(["audit", "export", "--output", "audit.jsonl"]));
    let exported = std::fs::read_to_string(d.join("audit.jsonl")).expect("export");
    let verify = ok(borderline(d).args(["audit", "verify", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&verify).expect("JSON");
    assert_eq!(v["status"], "intact");
    assert_eq!(Some(exported.lines().count() as u64), v["records"].as_u64());

    let db = d.join("borderline.db");
    let original = std::fs::read(&db).expect("db");
    let mut bytes = original.clone();
    let needle = br#""lane":"yellow""#;
    let mut changed = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + 8] = b'Y';
            changed += 1;
        }
        i += 1;
    }
    assert!(changed > 0, "yellow decisions in the file");
    std::fs::write(&db, &bytes).expect("write");
    let err = fails(borderline(d).args(["audit", "verify"]));
    assert!(err.contains("broken at record"), "{err}");

    // The artefact is stored in the database by content hash at registration: changing the
    // file afterwards changes nothing, while bytes changed inside the store are refused.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&model)
        .expect("model");
    f.write_all(b"x").expect("append");
    std::fs::write(&db, &original).expect("restore");
    ok(&mut select("3", "lanes2.csv"));
    let conn = rusqlite::Connection::open(&db).expect("db");
    conn.execute_batch(
        "DROP TRIGGER artefacts_no_update; UPDATE artefacts SET bytes = CAST(bytes || x'00' AS BLOB)",
    )
    .expect("tamper");
    drop(conn);
    let err = fails(&mut select("3", "lanes3.csv"));
    assert!(err.contains("changed since it was registered"), "{err}");
}

/// Issue 11: analyst rule sets are governed from the command line as through the API: a rule
/// file with a mistake is refused naming file, line and column; the author cannot approve; the
/// approved set becomes active; and a state set with SQL is named by `audit verify`.
#[test]
fn rule_sets_validate_upload_approve_activate_and_verify_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("bad.rules"),
        "rule \"x\"\nwhen nonsense > 3\nthen lane red reason \"r\"\n",
    )
    .expect("write");
    std::fs::write(
        d.join("ok.rules"),
        "rule \"ru-origin\" when origin = \"RU\" then lane red reason \"origin under review\"\n",
    )
    .expect("write");
    let err = fails(borderline(d).args(["rules", "validate", "bad.rules"]));
    assert!(
        err.contains("bad.rules") && err.contains("line 2, column 6") && err.contains("nonsense"),
        "{err}"
    );
    let valid = ok(borderline(d).args(["rules", "validate", "ok.rules"]));
    assert!(valid.contains("valid, 1 rules (ru-origin)"), "{valid}");
    assert!(
        !d.join("borderline.db").exists(),
        "validation stores nothing"
    );

    // `rules ARGS --db gov.db --user USER`
    let gov = |user: &str, args: &[&str]| {
        let mut c = borderline(d);
        c.arg("rules")
            .args(args)
            .args(["--db", "gov.db", "--user", user]);
        c
    };
    let entry: serde_json::Value = serde_json::from_str(&ok(&mut gov(
        "analyst.ana",
        &["upload", "ok.rules", "--json"],
    )))
    .expect("json");
    let version = entry["version"].as_str().expect("version").to_string();
    assert_eq!(entry["state"], "draft");
    let err = fails(&mut gov(
        "Analyst.Ana",
        &["approve", &version, "--reason", "fine"],
    ));
    assert!(err.contains("four-eyes"), "{err}");
    ok(&mut gov(
        "supervisor.bob",
        &["approve", &version, "--reason", "reviewed"],
    ));
    let activated = ok(&mut gov("supervisor.bob", &["activate", &version]));
    assert!(activated.contains("is now active"), "{activated}");
    let list: serde_json::Value =
        serde_json::from_str(&ok(&mut gov("auditor.eve", &["list", "--json"]))).expect("json");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["approved_by"], "supervisor.bob");
    let verified = ok(borderline(d).args(["audit", "verify", "--db", "gov.db"]));
    assert!(
        verified.contains("analyst rule sets agree with the audit log"),
        "{verified}"
    );

    let conn = rusqlite::Connection::open(d.join("gov.db")).expect("db");
    conn.execute("UPDATE rule_sets SET state = 'retired'", [])
        .expect("tamper");
    drop(conn);
    let out = borderline(d)
        .args(["audit", "verify", "--db", "gov.db"])
        .output()
        .expect("runs");
    let (so, _) = text(&out);
    assert!(!out.status.success(), "{so}");
    assert!(
        so.contains(&format!(
            "rule set {version}: tables' state is retired but the audit log gives active"
        )),
        "{so}"
    );
}

#[test]
fn simulate_on_a_tiny_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let json = ok(borderline(dir.path())
        .args([
            "simulate", "--json", "--sample", "3000", "--weeks", "2", "--trees", "40",
        ])
        .args([
            "--threads",
            "1",
            "--capacity",
            "5%",
            "--random",
            "1%",
            "--explore",
            "1%",
        ])
        .arg("--data")
        .arg(&data_dir));
    let r: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let policies = r["policies"].as_array().expect("policies");
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[0]["name"], "exploitation only");
    assert_eq!(policies[1]["name"], "exploitation + exploration + random");
    for p in policies {
        let weeks = p["weeks"].as_array().expect("weeks");
        assert_eq!(weeks.len(), 2);
        for w in weeks {
            let n = w["declarations"].as_u64().expect("n") as usize;
            // Exactly the capacity is inspected each week.
            assert_eq!(
                w["inspected"].as_u64(),
                Some(floor_share(n, 5.0) as u64),
                "{w}"
            );
            for k in ["precision", "recall"] {
                let v = w[k].as_f64().expect("metric");
                assert!((0.0..=1.0).contains(&v), "{k} {v}");
            }
        }
        assert_eq!(p["overall"]["week"], "all");
    }
    // Both policies face the same weeks.
    assert_eq!(
        policies[0]["overall"]["frauds"],
        policies[1]["overall"]["frauds"]
    );
}
