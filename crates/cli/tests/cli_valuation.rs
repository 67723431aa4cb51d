//! `borderline valuation build|check|evaluate` end to end through the binary.

use std::process::Command;

const HEADER: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud";

fn row(id: u32, date: &str, mass: &str, value: &str) -> String {
    format!(
        "{id},{date},30,B,11,21,11,10,D1,I{},S1,,854140,CN,CN,8.0,A,Y,{mass},{value},0,0",
        id % 3
    )
}

/// Runs `borderline ARGS`: standard output on success, standard error on failure.
fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_borderline"))
        .args(args)
        .output()
        .expect("borderline runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn build_then_check_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("hist.csv");
    let mut text = String::from(HEADER) + "\n";
    for i in 0..20 {
        text += &row(i, "2020-05-01", "10", &format!("{}", 100 + i % 5)); // ~10 KRW/kg
        text += "\n";
    }
    std::fs::write(&hist, text).unwrap();
    let input = dir.path().join("mine.csv");
    let rows = [
        row(100, "2021-01-05", "10", "101"),
        row(101, "2021-01-05", "10", "12"),
        row(102, "2021-01-05", "0", "50"),
    ];
    std::fs::write(&input, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    let bench = dir.path().join("b.json.gz");
    let csv = dir.path().join("cells.csv");
    let (h, b, c, i) = (
        hist.to_str().unwrap(),
        bench.to_str().unwrap(),
        csv.to_str().unwrap(),
        input.to_str().unwrap(),
    );
    run(&[
        "valuation",
        "build",
        "--history",
        h,
        "--as-of",
        "2021-01-01",
        "--out",
        b,
        "--csv",
        c,
    ])
    .unwrap();
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .contains("hs6_origin,854140,CN,kg,KRW,20,"));
    let flagged = run(&["valuation", "check", i, "--benchmarks", b, "--json"]).unwrap();
    let lines: Vec<serde_json::Value> = flagged
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l["declaration_id"] == "101"),
        "the under-valued declaration is flagged: {flagged}"
    );
    assert!(
        !lines.iter().any(|l| l["declaration_id"] == "100"),
        "a normal price is not listed without --all: {flagged}"
    );
    let all = run(&["valuation", "check", i, "--history", h, "--all"]).unwrap();
    assert_eq!(all.lines().count(), 3, "{all}");
    // typed errors, no panic
    assert!(run(&[
        "valuation",
        "check",
        i,
        "--benchmarks",
        "/nonexistent.json.gz"
    ])
    .is_err());
    assert!(run(&["valuation", "check", i]).is_err());
    assert!(run(&["valuation", "evaluate", "--noise", "-1"]).is_err());
    assert!(run(&["valuation", "build", "--history", h, "--window-months", "0"]).is_err());
}
