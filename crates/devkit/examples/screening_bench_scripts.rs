//! Development diagnostic: where the screening benchmark's time goes by the script a query is
//! written in. The queries of `screening_evaluate -- --bench` (20,000 names: generated company
//! variants and the name-matching-dev people, one thread) are screened `ROUNDS` times (default
//! 5) against all bundled lists after a warm-up, and the thread CPU time of each is added to
//! its query's class: Latin only, or the first other script it holds (Han, Hangul, kana,
//! Arabic, Hebrew, Cyrillic, other). Prints per class the queries, the CPU time per query and
//! the class's share of the total, so that a change aimed at one script can be seen to cost
//! the others nothing.
//!
//! `cargo run --release -p borderline-devkit --example screening_bench_scripts [-- ROUNDS]`;
//! `ONLY=cyrillic` screens that class's queries only (for a profiler).

use borderline_devkit::screening::eval::{self, thread_cpu_seconds};
use borderline_screening::translit::{is_arabic, is_cyrillic, is_han, is_hangul, is_hebrew};
use borderline_screening::{ListStore, MatchConfig, Matcher};

fn class(name: &str) -> &'static str {
    for c in name.chars() {
        if is_han(c) {
            return "han";
        }
        if is_hangul(c) {
            return "hangul";
        }
        if ('\u{3041}'..='\u{30FC}').contains(&c) {
            return "kana";
        }
        if is_arabic(c) {
            return "arabic";
        }
        if is_hebrew(c) {
            return "hebrew";
        }
        if is_cyrillic(c) {
            return "cyrillic";
        }
        if c.is_alphabetic() && !c.is_ascii() && !('\u{00C0}'..='\u{024F}').contains(&c) {
            return "other";
        }
    }
    "latin"
}

fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5);
    let m = Matcher::build(&ListStore::bundled()?, MatchConfig::default());
    let mut qs = eval::bench_queries(&m, 20_000, 7, None);
    if let Ok(only) = std::env::var("ONLY") {
        qs.retain(|q| class(&q.name) == only);
    }
    let classes = [
        "latin", "han", "hangul", "kana", "arabic", "hebrew", "cyrillic", "other",
    ];
    let mut count = [0usize; 8];
    let mut cpu = [0f64; 8];
    let ci: Vec<usize> = qs
        .iter()
        .map(|q| {
            let c = class(&q.name);
            classes.iter().position(|&x| x == c).unwrap_or(7)
        })
        .collect();
    let mut sink = qs
        .iter()
        .take(200)
        .map(|q| m.screen(q).len())
        .sum::<usize>();
    for _ in 0..rounds {
        for (q, &i) in qs.iter().zip(&ci) {
            let c = thread_cpu_seconds();
            sink += m.screen(q).len();
            cpu[i] += thread_cpu_seconds() - c;
        }
    }
    for &i in &ci {
        count[i] += 1;
    }
    std::hint::black_box(sink);
    let total: f64 = cpu.iter().sum();
    println!(
        "{} queries x {rounds} rounds, {:.0} names per CPU-second",
        qs.len(),
        (qs.len() * rounds) as f64 / total
    );
    println!("class      queries  CPU µs per query  share of CPU");
    for (i, c) in classes.iter().enumerate() {
        if count[i] == 0 {
            continue;
        }
        println!(
            "{c:<10} {:>7}  {:>16.1}  {:>11.1} %",
            count[i],
            cpu[i] * 1e6 / (count[i] * rounds) as f64,
            100.0 * cpu[i] / total
        );
    }
    Ok(())
}
