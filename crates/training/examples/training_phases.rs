//! Where `borderline train`'s time goes (issue 17, training wall time): reads the two periods,
//! runs the default training protocol and prints the wall time between its progress steps,
//! then the time to write the artefact. The steps are the ones `train` reports anyway, so the
//! phases are: out-of-fold features on the training period, the early-stopped fit(s), the
//! out-of-fold features on training + validation for the refit, the refit(s).
//!
//! ```sh
//! cargo run --release -p borderline-training --example training_phases -- \
//!     data/declarations/kcs_train.csv.gz data/declarations/kcs_valid.csv.gz [--no-refit] [--bag K]
//! ```

use borderline_ingest::{read_all, Profile};
use borderline_training::{train, TrainConfig};
use std::cell::RefCell;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: training_phases TRAIN VALID [--no-refit] [--bag K]");
        std::process::exit(2);
    }
    let mut cfg = TrainConfig::default();
    let mut rest = args[3..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--no-refit" => cfg.refit = false,
            "--bag" => cfg.bag = rest.next().and_then(|k| k.parse().ok()).unwrap_or(1),
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    let start = Instant::now();
    let read = |path: &str| {
        read_all(path, Profile::korea_customs())
            .expect("readable declarations")
            .0
    };
    let (train_rows, valid_rows) = (read(&args[1]), read(&args[2]));
    println!(
        "| phase | wall s |\n|---|---|\n| reading both periods | {:.2} |",
        start.elapsed().as_secs_f64()
    );
    // The step that started last and when, printed with its length when the next one starts.
    let current: RefCell<(String, Instant)> = RefCell::new(("".into(), Instant::now()));
    let close = |next: &str| {
        let mut c = current.borrow_mut();
        if !c.0.is_empty() {
            println!("| {} | {:.2} |", c.0, c.1.elapsed().as_secs_f64());
        }
        *c = (next.to_string(), Instant::now());
    };
    let model = train::train(&train_rows, &valid_rows, &cfg, &|step| close(step))
        .expect("training succeeds");
    close("writing the artefact");
    let dir = std::env::temp_dir().join(format!("training_phases_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    model
        .save(&dir.join("model.json.gz"))
        .expect("artefact written");
    close("");
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "| **total** | **{:.2}** |\n\nmodel {}: {} trees (early stopping chose {})",
        start.elapsed().as_secs_f64(),
        model.model_id,
        model.training.final_iterations,
        model.training.best_iteration
    );
}
