//! End to end through the `borderline` binary: ingest -> train -> evaluate -> score on a small
//! sample of the bundled data.

use std::process::Command;

mod common;
use common::sample;

fn borderline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_borderline"))
}

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("runs");
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(
        out.status.success(),
        "failed: {cmd:?}\nstdout:\n{so}\nstderr:\n{se}"
    );
    (so, se)
}

#[test]
fn train_evaluate_score_on_a_small_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ((train, n_train), (valid, _), (test, n_test)) = (
        sample("train", 6, d),
        sample("valid", 3, d),
        sample("test", 3, d),
    );
    let model = d.join("model.json.gz");
    let (stdout, stderr) = run(borderline()
        .args(["train", "--train"])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .arg("--model")
        .arg(&model)
        .args(["--learning-rate", "0.1", "--threads", "1"]));
    let accounting = format!("read {n_train} = accepted {n_train} + quarantined 0");
    assert!(stderr.contains(&accounting), "{stderr}");
    assert!(stdout.contains("written to"), "{stdout}");

    let (json, _) = run(borderline()
        .args(["evaluate", "--json", "--model"])
        .arg(&model)
        .arg("--test")
        .arg(&test));
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    for key in [
        "precision_at",
        "recall_at",
        "critical_recall_at",
        "tax_recall_at",
    ] {
        for k in ["1", "2", "5", "10"] {
            let v = report[key][k].as_f64().unwrap_or(f64::NAN);
            assert!((0.0..=1.0).contains(&v), "{key}[{k}] = {v}");
        }
    }
    assert!(report["auc"].as_f64().expect("auc") > 0.65);

    let list = d.join("list.csv");
    let (_, warned) = run(borderline()
        .args(["score", "--capacity", "5%", "--yellow", "10%", "--model"])
        .arg(&model)
        .arg("--input")
        .arg(&test)
        .arg("--output")
        .arg(&list));
    let mut rdr = csv::Reader::from_path(&list).expect("list");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), n_test);
    let red = rows.iter().filter(|r| &r[3] == "red").count();
    let yellow = rows.iter().filter(|r| &r[3] == "yellow").count();
    // Lanes from the model's absolute thresholds; capacities are ceilings: at most floor(5%)
    // red and floor(15%) red + yellow.
    assert!(red > 0 && red <= n_test * 5 / 100, "{red} red of {n_test}");
    assert!(
        red + yellow <= n_test * 15 / 100,
        "{yellow} yellow of {n_test}"
    );
    let scores: Vec<f64> = rows.iter().map(|r| r[2].parse().expect("score")).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked by risk");
    // Issue 11: a model file nobody registered or approved scores, but says so on every line.
    assert!(
        rows.iter().all(|r| &r[8] == "unregistered"),
        "model_status column"
    );
    assert!(
        warned.contains("not the registered, approved, active model"),
        "{warned}"
    );
    assert!(
        rows.iter()
            .filter(|r| &r[3] != "green")
            .all(|r| !r[7].is_empty()),
        "reasons for red and yellow"
    );
    // Green declarations get no model reasons; the few with a reason have a data-quality
    // finding (0 kg, zero value, unknown HS code or country), reported whatever the lane.
    let green_with_reasons = rows
        .iter()
        .filter(|r| &r[3] == "green" && !r[7].is_empty())
        .count();
    assert!(green_with_reasons < n_test / 10, "{green_with_reasons}");

    // The same in JSON Lines, streamed with the model's lane thresholds.
    let (jsonl, _) = run(borderline()
        .args([
            "score",
            "--stream",
            "--format",
            "jsonl",
            "--reasons",
            "fast",
            "--model",
        ])
        .arg(&model)
        .arg("--input")
        .arg(&test));
    let first: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().expect("line")).expect("JSON");
    assert!(first["risk_score"].as_f64().is_some() && first["lane"].is_string());
    assert_eq!(first["model_status"], "unregistered");
    assert_eq!(jsonl.lines().count(), n_test);
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        if v["lane"] == "green" {
            let reasons = v["reasons"].as_array().expect("reasons");
            assert!(
                reasons.iter().all(|r| r["kind"] == "data_quality"),
                "{line}"
            );
        }
    }

    // Screening the parties (seeded synthetic names with planted near-matches of listed
    // entities): hits are reasons whatever the lane, and green declarations get no others.
    let (jsonl, _) = run(borderline()
        .args(["score", "--format", "jsonl", "--demo-parties", "--model"])
        .arg(&model)
        .arg("--input")
        .arg(&test));
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let kinds = |v: &serde_json::Value| -> Vec<String> {
        v["reasons"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r["kind"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let screened = lines
        .iter()
        .filter(|v| kinds(v).iter().any(|k| k == "screening"))
        .count();
    assert!(screened > 0, "planted near-matches are reported");
    assert!(lines
        .iter()
        .filter(|v| v["lane"] == "green")
        .all(|v| kinds(v)
            .iter()
            .all(|k| k == "screening" || k == "data_quality")));

    // Issue 14: `| head` ends the command quietly, with no "Broken pipe" error.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' score --reasons none --model '{}' --input '{}' | head -n 2",
            env!("CARGO_BIN_EXE_borderline"),
            model.display(),
            test.display()
        ))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
}

#[test]
fn a_file_with_no_accepted_row_fails_after_its_accounting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("all-bad.csv");
    std::fs::write(&path, "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n2,2020-01-01,30,B,11,21,11,10,D,I,S,,440890,BE,BE,0.0,FEU1,G,heavy,372254.4,0,0\n").expect("write");
    let q = dir.path().join("q");
    let out = borderline()
        .arg("ingest")
        .arg(&path)
        .arg("--quarantine-dir")
        .arg(&q)
        .output()
        .expect("runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("read 1 = accepted 0 + quarantined 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("no row of")
            && stderr.contains("all-bad.csv")
            && stderr.contains("all 1 rows were quarantined"),
        "{stderr}"
    );
    assert!(q.join("all-bad.csv.quarantine.csv").is_file());
}

#[test]
fn ingest_reports_accounting_and_quarantines_bad_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n1,2020-01-01,30,B,11,21,11,10,D,I,S,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0\n2,2020-01-01,30,B,11,21,11,10,D,I,S,,440890,BE,BE,0.0,FEU1,G,heavy,372254.4,0,0\n").expect("write");
    let q = dir.path().join("q");
    let (stdout, _) = run(borderline()
        .arg("ingest")
        .arg(&path)
        .arg("--quarantine-dir")
        .arg(&q));
    assert!(
        stdout.contains("read 2 = accepted 1 + quarantined 1"),
        "{stdout}"
    );
    let quarantine =
        std::fs::read_to_string(q.join("bad.csv.quarantine.csv")).expect("quarantine file");
    assert!(
        quarantine.contains(",3,net_mass_kg,\"\"\"heavy\"\" is not a number\""),
        "{quarantine}"
    );
}

#[test]
fn unusable_input_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wrong.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n").expect("write");
    let out = borderline()
        .arg("ingest")
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wrong.csv") && err.contains("missing required column"),
        "{err}"
    );
    let out = borderline()
        .args([
            "evaluate",
            "--model",
            "/nonexistent/model.json.gz",
            "--test",
        ])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model.json.gz"));
}

/// `--include-feature` puts back a feature (or a dimension's keys) the default leaves out of
/// learning; naming one the default keeps is refused before the data is read, with the
/// default's list in the message.
#[test]
fn include_feature_names_only_what_the_default_leaves_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ((train, _), (valid, _)) = (sample("train", 40, d), sample("valid", 20, d));
    let out = borderline()
        .args(["train", "--train"])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .arg("--model")
        .arg(d.join("model.json.gz"))
        .args(["--include-feature", "importer_fraud_rate"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--include-feature importer_fraud_rate")
            && err.contains("day_of_week, day_of_month, office"),
        "{err}"
    );
    assert!(!d.join("model.json.gz").exists());
    // Flags are checked before the data is read: a wrong name costs no read of a large file.
    let out = borderline()
        .args(["train", "--train", "/nonexistent/train.csv", "--valid"])
        .arg(&valid)
        .arg("--model")
        .arg(d.join("model.json.gz"))
        .args(["--include-feature", "origin"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("--include-feature origin")
            && !err.contains("nonexistent"),
        "{err}"
    );
}

/// Issue 14, "What we measured", on a trader's own file (`tests/data/trader_findings_usd.csv`:
/// 20 rows in the generic layout, values in USD, invented importers) scored by a model trained
/// on the bundled KRW declarations: every finding of the issue, through the binary.
#[test]
fn issue_14_a_traders_usd_file_gets_meaningful_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ((train, _), (valid, _)) = (sample("train", 6, d), sample("valid", 3, d));
    let model = d.join("model.json.gz");
    run(borderline()
        .args(["train", "--train"])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .arg("--model")
        .arg(&model)
        .args(["--learning-rate", "0.1", "--threads", "1"]));
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let trader = data.join("trader_findings_usd.csv");
    let score = |extra: &[&str]| -> std::collections::BTreeMap<String, serde_json::Value> {
        let (jsonl, _) = run(borderline()
            .args(["score", "--profile", "generic", "--format", "jsonl"])
            .args(["--reasons", "fast", "--model"])
            .arg(&model)
            .arg("--input")
            .arg(&trader)
            .args(extra));
        jsonl
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
                (v["declaration_id"].as_str().expect("id").to_string(), v)
            })
            .collect()
    };
    let parties = data.join("trader_parties.csv");
    let parties = parties.to_str().expect("utf-8 path");
    let batch = score(&["--parties", parties]);
    assert_eq!(batch.len(), 20);
    let codes = |id: &str| -> Vec<String> {
        batch[id]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let texts = |id: &str| -> String {
        batch[id]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r["text"].as_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let lane_rank = |id: &str| match batch[id]["lane"].as_str().expect("lane") {
        "green" => 0,
        "blue" => 1,
        "yellow" => 2,
        _ => 3,
    };

    // USD values are never compared with the KRW history: every row says so, and the twin
    // T-shirt lines (same importer, seller, HS code and mass; TR-02 at a tenth of TR-01's
    // price) get the same score because neither price was put against KRW prices.
    for id in batch.keys() {
        assert!(
            codes(id).iter().any(|c| c == "valuation_currency_mismatch"),
            "{id}: {}",
            texts(id)
        );
    }
    assert!(
        texts("TR-01").contains("value declared in USD; the model's price benchmarks are in KRW")
    );
    assert_eq!(batch["TR-01"]["risk_score"], batch["TR-02"]["risk_score"]);
    // ... and `valuation check` flags the cheap twin without any rate or history in USD.
    let (checked, _) = run(borderline()
        .args(["valuation", "check"])
        .arg(&trader)
        .args([
            "--profile",
            "generic",
            "--history-profile",
            "korea-customs",
            "--json",
        ])
        .arg("--history")
        .arg(&train));
    assert!(
        checked.contains("TR-02") && checked.contains("1/10 of line TR-01"),
        "{checked}"
    );

    // The importer named Mahan Air (OFAC SDN) importing an aircraft from Iran: a screening
    // reason and at least the documentary lane, whatever its score.
    assert!(
        codes("TR-10").iter().any(|c| c.starts_with("screening:"))
            && texts("TR-10").to_lowercase().contains("mahan air"),
        "{}",
        texts("TR-10")
    );
    assert!(lane_rank("TR-10") >= 2, "{}", batch["TR-10"]);
    // The seller in Urumqi, Xinjiang: a forced-labour region reason.
    assert!(
        codes("TR-14").iter().any(|c| c == "screening:uflpa_region"),
        "{}",
        texts("TR-14")
    );

    // `screen` reports the region flag of an address too (before: only `score --parties`).
    let (screened, _) = run(borderline().args([
        "screen",
        "Tianshan Cotton Ginning Co",
        "--address",
        "88 Renmin Road, Urumqi, Xinjiang",
        "--country",
        "CN",
    ]));
    assert!(
        screened.contains("forced-labour region: the address names Urumqi"),
        "{screened}"
    );

    // Unseen parties: one plain reason, never "fraud found in 0 of 0" or an empty currency.
    for id in batch.keys() {
        let t = texts(id);
        assert!(
            !t.contains("0 of 0") && !t.contains("declared in ;"),
            "{id}: {t}"
        );
    }

    // Implausible data gets data-quality reasons; the impossible ones raise the lane.
    for (id, code) in [
        ("TR-15", "quality.zero_mass"),
        ("TR-16", "quality.absurd_value"),
        ("TR-17", "quality.unknown_hs_code"),
        ("TR-18", "quality.unknown_origin"),
        ("TR-19", "quality.future_date"),
    ] {
        assert!(codes(id).iter().any(|c| c == code), "{id}: {}", texts(id));
    }
    assert!(lane_rank("TR-16") >= 2 && lane_rank("TR-19") >= 2);

    // Lanes mean the same in any batch: streamed one by one, the same lanes (screening a
    // batch's parties needs the batch, so both without --parties here), unless the batch's
    // ceiling binds: then the overflow moves down one of the model's lanes (red to yellow,
    // yellow to green: blue is only for analysts' rules) by rank, and only while the batch holds
    // its ceiling's count (5% red of 20 rows: 1; 5% + 10% red and yellow together: 3).
    let (ranked, streamed) = (score(&[]), score(&["--stream"]));
    let order = ["green", "yellow", "red"];
    let rank = |v: &serde_json::Value| order.iter().position(|l| v == *l).expect("a lane");
    let in_lane = |l: &str| ranked.values().filter(|v| v["lane"] == l).count();
    for (id, v) in &ranked {
        let (b, s) = (rank(&v["lane"]), rank(&streamed[id]["lane"]));
        if b != s {
            let binds = match order[s] {
                "red" => in_lane("red") >= ranked.len() * 5 / 100,
                "yellow" => in_lane("red") + in_lane("yellow") >= ranked.len() * 15 / 100,
                other => panic!("{id}: {other} has no ceiling, yet batch and stream differ"),
            };
            assert!(
                b + 1 == s && binds,
                "{id}: {} in the batch, {} alone, the batch's ceiling not binding",
                order[b],
                order[s]
            );
        }
    }

    // A truncated gzip input fails naming the line it stopped at, and `--stream` leaves no
    // partial output at the output path (before: "line 0" and 4,247 scored rows).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let body = std::fs::read_to_string(&trader).expect("trader file");
    for _ in 0..200 {
        std::io::Write::write_all(&mut gz, body.as_bytes()).expect("gzip");
    }
    let bytes = gz.finish().expect("gzip");
    let cut = d.join("cut.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = d.join("cut-scores.jsonl");
    let failed = borderline()
        .args(["score", "--stream", "--profile", "generic", "--model"])
        .arg(&model)
        .arg("--input")
        .arg(&cut)
        .arg("--output")
        .arg(&out)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "{err}");
    assert!(err.contains("line ") && !err.contains("line 0"), "{err}");
    assert!(!out.exists(), "no partial output at the final path");
}

/// Another administration's file in the generic layout with only the required columns and the
/// fraud outcome (no critical level, currency, duty rate or parties): a model trained on it is
/// written, loaded and evaluated, the figures such a period cannot define read `null` in JSON
/// and `n/a` in the text report (before, the artefact stored them as `null` and could not be
/// loaded again), and amounts in reasons say that no currency was declared.
#[test]
fn a_model_trained_on_the_required_columns_only_loads_evaluates_and_scores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let generic = |split: &str, every: usize| -> std::path::PathBuf {
        let (korean, _) = sample(split, every, d);
        let mut rdr = csv::Reader::from_path(&korean).expect("sample");
        let path = d.join(format!("{split}-generic.csv"));
        let mut w = csv::Writer::from_path(&path).expect("create");
        w.write_record([
            "declaration_id",
            "date",
            "importer",
            "hs_code",
            "origin_country",
            "net_mass_kg",
            "customs_value",
            "fraud",
        ])
        .expect("write");
        let h = rdr.headers().expect("header").clone();
        let col = |name: &str| h.iter().position(|c| c == name).expect(name);
        let cols = [
            "Declaration ID",
            "Date",
            "Importer ID",
            "HS6 Code",
            "Country of Origin",
            "Net Mass",
            "Item Price",
            "Fraud",
        ]
        .map(col);
        for r in rdr.records() {
            let r = r.expect("row");
            w.write_record(cols.iter().map(|&i| &r[i])).expect("write");
        }
        w.flush().expect("flush");
        path
    };
    let (train, valid, test) = (generic("train", 6), generic("valid", 3), generic("test", 3));
    let model = d.join("model.json.gz");
    run(borderline()
        .args(["train", "--profile", "generic", "--train"])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .arg("--model")
        .arg(&model)
        .args(["--learning-rate", "0.1", "--threads", "1"]));

    let (json, _) = run(borderline()
        .args(["evaluate", "--json", "--profile", "generic", "--model"])
        .arg(&model)
        .arg("--test")
        .arg(&test));
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert!(report["auc"].as_f64().expect("auc") > 0.65, "{report}");
    assert_eq!(report["critical_frauds"], 0);
    for k in ["1", "2", "5", "10"] {
        assert!(report["critical_recall_at"][k].is_null(), "{report}");
        assert!(report["precision_at"][k].as_f64().is_some(), "{report}");
    }
    let (text, _) = run(borderline()
        .args(["evaluate", "--profile", "generic", "--model"])
        .arg(&model)
        .arg("--test")
        .arg(&test));
    assert!(text.contains("n/a") && !text.contains("NaN"), "{text}");

    let (jsonl, _) = run(borderline()
        .args(["score", "--profile", "generic", "--format", "jsonl"])
        .args(["--reasons", "exact", "--model"])
        .arg(&model)
        .arg("--input")
        .arg(&test));
    let texts: Vec<String> = jsonl
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            v["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["text"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    let priced: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("/kg") || t.contains("customs value"))
        .collect();
    assert!(!priced.is_empty(), "{texts:?}");
    for t in priced {
        assert!(t.contains("(no currency)"), "{t}");
    }
}
