//! `borderline screen evaluate` with its defaults (all bundled lists, the default threshold,
//! seed 42), as a development example: it needs only the devkit's dependencies, so a release
//! build of it is much cheaper than one of the whole command-line program. Same report.
//!
//! `cargo run --release -p borderline-devkit --example screening_evaluate [-- --json]`

use borderline_devkit::screening::eval::{self, EvalOptions};
use borderline_screening::{ListStore, MatchConfig, Matcher};

fn main() -> anyhow::Result<()> {
    let m = Matcher::build(&ListStore::bundled()?, MatchConfig::default());
    let rep = eval::evaluate(&m, &EvalOptions::default())?;
    if std::env::args().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        eval::print_report(&rep);
    }
    Ok(())
}
