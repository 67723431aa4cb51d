//! Fits the pair model on the dev parts of the development sets and writes
//! `crates/screening/data/pair_model.json` (embedded at the next build).
//!
//! `cargo run --release -p borderline-devkit --example train_pair_model`
//! (`MODEL=logistic` fits logistic models only, `MODEL=gbdt` one tree model for all; the
//! default is logistic for persons and trees for companies; `CV=1` first
//! prints a grouped 5-fold cross-validation of the candidate models on the dev rows, `CV=hybrid`
//! of the default kind only; `DROP=18,19` sets those feature columns to 0 in training;
//! `JOINT=1` fits the persons' staged features 20-21 jointly with the others instead of in a
//! second stage, see `pairtrain::PERSON_STAGED`.)

use borderline_devkit::screening::eval::find_dev_dir;
use borderline_devkit::screening::pairtrain::ModelKind;
use borderline_devkit::screening::{devsets, pairtrain};
use borderline_screening::pairmodel::GbdtParams;
use borderline_screening::ListStore;

fn main() -> anyhow::Result<()> {
    let store = ListStore::bundled()?;
    let entries: Vec<_> = store
        .lists()
        .flat_map(|l| l.entries.iter().cloned())
        .collect();
    let dev_dir = find_dev_dir(None);
    let (sets, notes) = devsets::all_sets(&entries, dev_dir.as_deref(), 42);
    for n in notes {
        eprintln!("note: {n}");
    }
    let gbdt = ModelKind::Gbdt(GbdtParams::default());
    // `TREES=n,depth,learning_rate`: other tree parameters for the hybrid candidate (and the
    // model written).
    let trees = std::env::var("TREES")
        .ok()
        .and_then(|v| {
            let p: Vec<f64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            (p.len() == 3).then(|| GbdtParams {
                trees: p[0] as usize,
                depth: p[1] as usize,
                learning_rate: p[2],
                ..GbdtParams::default()
            })
        })
        .unwrap_or_default();
    let kind = match std::env::var("MODEL").as_deref() {
        Ok("logistic") => ModelKind::Logistic { l2: 1e-4 },
        Ok("gbdt") => gbdt,
        _ => ModelKind::LogisticPersonsTreesCompanies { l2: 1e-4, trees },
    };
    let cv_kinds: Vec<ModelKind> = if std::env::var("CV").as_deref() == Ok("hybrid") {
        vec![ModelKind::LogisticPersonsTreesCompanies { l2: 1e-4, trees }]
    } else if std::env::var("CV").is_ok() {
        let d = GbdtParams::default();
        vec![
            ModelKind::Logistic { l2: 1e-4 },
            gbdt,
            ModelKind::LogisticPersonsTreesCompanies { l2: 1e-4, trees: d },
        ]
    } else {
        Vec::new()
    };
    let rep = pairtrain::train(entries, &sets, dev_dir.as_deref(), kind, &cv_kinds)?;
    for c in &rep.cv {
        println!("CV {:?}", c.kind);
        for (s, n, ll, p, r, f1, bf, bt) in &c.per_source {
            println!(
                "    {s:<22} {n:>6} log loss {ll:.4}  P {p:.3} R {r:.3} F1 {f1:.3}  best F1 {bf:.3} at {bt:.2}"
            );
        }
    }
    for (s, n) in &rep.sources {
        println!("{s}: {n} rows");
    }
    println!(
        "{} rows ({} positives), log loss {:.4}",
        rep.rows, rep.positives, rep.log_loss
    );
    println!("bias {:+.3}", rep.model.bias);
    for (n, w) in &rep.model.weights {
        println!("  {n:<32} {w:+.3}");
    }
    if let Some(c) = &rep.model.company {
        println!("companies, vessels, aircraft: bias {:+.3}", c.bias);
        for (n, w) in &c.weights {
            println!("  {n:<32} {w:+.3}");
        }
    }
    if std::env::var("SHOW_ERRORS").is_ok() {
        for (s, a, b, y, r) in &rep.rule_errors {
            println!(
                "ERR {s} {} {r:.3} {a:?} | {b:?}",
                if *y { "FN" } else { "FP" }
            );
        }
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../screening/data/pair_model.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rep.model)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
