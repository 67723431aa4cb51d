//! `borderline screen evaluate` with its defaults (all bundled lists, the default threshold,
//! seed 42), as a development example: it needs only the devkit's dependencies, so a release
//! build of it is much cheaper than one of the whole command-line program. Same report.
//!
//! `cargo run --release -p borderline-devkit --example screening_evaluate [-- --json]`;
//! `-- --bench` runs `screen bench --baseline-names 10` instead (20,000 names, one thread).

use borderline_devkit::screening::eval::{self, EvalOptions};
use borderline_screening::{ListStore, MatchConfig, Matcher};

fn main() -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let m = Matcher::build(&ListStore::bundled()?, MatchConfig::default());
    if std::env::args().any(|a| a == "--bench") {
        let build = t.elapsed().as_secs_f64();
        let qs = eval::bench_queries(&m, 20_000, 7, None);
        let rep = eval::bench(&m, &qs, 10);
        println!(
            "lists loaded and indexed in {build:.2} s ({} name variants)",
            rep.indexed_names
        );
        println!(
            "borderline: {} names in {:.2} s on one thread = {:.0} names/s; p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            rep.names, rep.seconds, rep.names_per_second, rep.p50_us, rep.p99_us, rep.max_us
        );
        println!(
            "            thread CPU time {:.2} s = {:.0} names per CPU-second; CPU p50 {:.0} µs, p99 {:.0} µs",
            rep.cpu_seconds, rep.names_per_cpu_second, rep.cpu_p50_us, rep.cpu_p99_us
        );
        println!(
            "baseline (token-sorted Jaro-Winkler, every name): {} names, {:.1} names/s, p99 {:.0} µs",
            rep.baseline_names, rep.baseline_names_per_second, rep.baseline_p99_us
        );
        return Ok(());
    }
    let rep = eval::evaluate(&m, &EvalOptions::default())?;
    if std::env::args().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        eval::print_report(&rep);
    }
    Ok(())
}
