//! Development check for speed work on the matcher: the screening output of a fixed name sample,
//! printed in full, so that a change meant to be faster only can be checked byte for byte.
//!
//! `cargo run --release -p borderline-devkit --example screening_golden > out.txt` prints, for the
//! 20,000 names of `screening_evaluate -- --bench` (seed 7), every hit with its score (all
//! digits) at the default threshold, then every hit with its score, list entry, matched name,
//! explanation and pair-model features at threshold 0.05
//! (the low threshold exposes far more scored candidates than the default 0.40 would); then
//! `compare` over each query and its nearest list name. Diff the file before and after a change.
//! `-- --work N` only screens the first N names (a fixed amount of work for callgrind).

use borderline_devkit::screening::eval;
use borderline_screening::{ListStore, MatchConfig, Matcher};
use std::io::Write;

fn main() -> anyhow::Result<()> {
    let m = Matcher::build(&ListStore::bundled()?, MatchConfig::default());
    let qs = eval::bench_queries(&m, 20_000, 7, None);
    // `-- --work N`: screen the first N names at the default threshold and print only the hit
    // count (for `valgrind --tool=callgrind --toggle-collect='*screen_with_threshold*'`).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--work") {
        let n: usize = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        let hits: usize = qs.iter().take(n).map(|q| m.screen(q).len()).sum();
        println!("{n} names, {hits} hits");
        return Ok(());
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for q in &qs {
        writeln!(out, "Q {:?} {:?} {:?}", q.name, q.schema, q.country)?;
        // The default threshold (the path `screen` and the benchmark take: explanations only
        // for reportable names), then a low one.
        for h in m.screen(q) {
            writeln!(out, "  default {:?} {}:{}", h.score, h.list, h.entry_id)?;
        }
        let hits = m.screen_with_threshold(q, 0.05);
        for h in &hits {
            writeln!(
                out,
                "  {:?} {}:{} {:?} | {} | rule {:?} name {:?} | {:?}",
                h.score,
                h.list,
                h.entry_id,
                h.matched_name,
                h.explanation.summary(),
                h.explanation.rule_score,
                h.explanation.name_score,
                h.explanation.features
            )?;
        }
        if let Some(h) = hits.first() {
            let (s, ex) = m.compare(&q.name, &h.matched_name, h.schema);
            writeln!(out, "  compare {:?} | {}", s, ex.summary())?;
        }
    }
    Ok(())
}
