//! End-to-end runs of the `hs` command group through the `borderline` binary (files in a temp
//! dir).

use std::path::PathBuf;

/// The `borderline hs ...` subcommands these tests run.
enum HsAction {
    Suggest {
        description: Option<String>,
        k: usize,
        input: Option<PathBuf>,
        output: Option<PathBuf>,
        model: Option<PathBuf>,
        json: bool,
    },
    Train {
        labelled: PathBuf,
        model: Option<PathBuf>,
        output: PathBuf,
        calibrate: bool,
    },
}

/// Runs `borderline hs ...`; the error is the command's standard error.
fn hs(action: HsAction) -> Result<(), String> {
    let mut args: Vec<String> = vec!["hs".into()];
    let path = |p: &PathBuf| p.display().to_string();
    let model_arg = |args: &mut Vec<String>, m: &Option<PathBuf>| {
        if let Some(m) = m {
            args.extend(["--model".into(), path(m)]);
        }
    };
    match &action {
        HsAction::Suggest {
            description,
            k,
            input,
            output,
            model,
            json,
        } => {
            args.extend(["suggest".into(), "-k".into(), k.to_string()]);
            args.extend(description.clone());
            for (flag, p) in [("--input", input), ("--output", output)] {
                if let Some(p) = p {
                    args.extend([flag.into(), path(p)]);
                }
            }
            model_arg(&mut args, model);
            if *json {
                args.push("--json".into());
            }
        }
        HsAction::Train {
            labelled,
            model,
            output,
            calibrate,
        } => {
            args.extend([
                "train".into(),
                "--labelled".into(),
                path(labelled),
                "--output".into(),
                path(output),
            ]);
            model_arg(&mut args, model);
            if *calibrate {
                args.push("--calibrate".into());
            }
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_borderline"))
        .args(&args)
        .output()
        .expect("borderline runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn batch_suggest_writes_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("goods.csv");
    std::fs::write(
        &input,
        "id,description\n1,frozen shrimp\n2,\"laptop computer, 14 inch\"\n3,\n",
    )
    .unwrap();
    for (name, k) in [("out.jsonl", 3usize), ("out.csv", 2)] {
        let output = dir.path().join(name);
        hs(HsAction::Suggest {
            description: None,
            k,
            input: Some(input.clone()),
            output: Some(output.clone()),
            model: None,
            json: false,
        })
        .unwrap();
        let text = std::fs::read_to_string(&output).unwrap();
        if name.ends_with(".jsonl") {
            let rows: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(rows.len(), 3);
            assert_eq!(rows[0]["suggestions"][0]["code"], "030617");
            assert_eq!(rows[1]["suggestions"][0]["code"], "847130");
            assert_eq!(rows[0]["suggestions"].as_array().unwrap().len(), k);
            assert_eq!(
                rows[0]["suggestions"][0]["path"].as_array().unwrap().len(),
                4
            );
        } else {
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
            assert_eq!(recs.len(), 3 * k, "k rows per input row");
            assert_eq!(
                &recs[0][3], "030617",
                "hs_code column keeps the leading zero"
            );
            assert!(
                recs[0][7].starts_with("I "),
                "path column starts at the section: {}",
                &recs[0][7]
            );
        }
    }
}

#[test]
fn batch_suggest_uses_optional_category_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("goods.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"description\":\"Ultra 256GB Midnight Black\",\"category\":\"Cellphones & Telecommunications > Mobile Phones > Smartphones\"}\n",
            "{\"description\":\"Ultra 256GB Midnight Black\"}\n"
        ),
    )
    .unwrap();
    let output = dir.path().join("out.jsonl");
    hs(HsAction::Suggest {
        description: None,
        k: 1,
        input: Some(input),
        output: Some(output.clone()),
        model: None,
        json: false,
    })
    .unwrap();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["suggestions"][0]["code"], "851713", "{}", rows[0]);
    assert_ne!(
        rows[1]["suggestions"][0]["code"], "851713",
        "without the category the title says little"
    );
}

#[test]
fn train_then_suggest_with_model_file_and_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let labelled = dir.path().join("history.jsonl");
    std::fs::write(&labelled, "{\"description\":\"quuxo widget\",\"hs_code\":\"8516.79\"}\n{\"description\":\"quuxo widget mk2\",\"hs_code\":851679}\n").unwrap();
    let model = dir.path().join("m.json.gz");
    hs(HsAction::Train {
        labelled: labelled.clone(),
        model: None,
        output: model.clone(),
        calibrate: true,
    })
    .unwrap();
    assert!(model.exists());
    let out = dir.path().join("o.jsonl");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"description\":\"quuxo widget\"}\n").unwrap();
    hs(HsAction::Suggest {
        description: None,
        k: 1,
        input: Some(input),
        output: Some(out.clone()),
        model: Some(model),
        json: false,
    })
    .unwrap();
    let row: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(row["suggestions"][0]["code"], "851679");

    // Missing column, missing file, k = 0: errors, not panics.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "text\nfoo\n").unwrap();
    let err = hs(HsAction::Suggest {
        description: None,
        k: 3,
        input: Some(bad),
        output: Some(dir.path().join("x.csv")),
        model: None,
        json: false,
    })
    .unwrap_err();
    assert!(err.contains("description"), "{err}");
    assert!(hs(HsAction::Train {
        labelled: dir.path().join("nope.csv"),
        model: None,
        output: dir.path().join("y.gz"),
        calibrate: false
    })
    .is_err());
    assert!(hs(HsAction::Suggest {
        description: Some("x".into()),
        k: 0,
        input: None,
        output: None,
        model: None,
        json: false
    })
    .is_err());
}
