//! Repeated-run latency benchmark of the suggestion path on the HSCodeComp listings (all fields,
//! one thread): `runs` passes over every item, p50/p99/max per pass, and the median over passes
//! of each. A single pass's p99 rests on about six slow queries, so one scheduler hiccup on a
//! shared machine moves it; the median over passes is the figure to quote.
//!
//! `cargo run --release -p borderline-devkit --example hs_latency -- ../shared/data/hs-eval/hscodecomp_test_data.jsonl [runs] [key=value ...]`
//!
//! `key=value` arguments override `Params` fields (numbers), e.g. `w_chem_heading=0` for a
//! named baseline without a part of the method, run in the same script as the default.
//!
//! Besides wall time it reports the thread's CPU time per query (`CLOCK_THREAD_CPUTIME_ID`),
//! which excludes time the thread spent descheduled.

use borderline_devkit::hs::eval;
use borderline_hs::{Classifier, Vocabulary};
use std::time::Instant;

fn thread_cpu_ms() -> f64 {
    let mut ts = Timespec::default();
    // SAFETY: clock_gettime only writes the struct we pass, which lives on our stack.
    let rc = unsafe {
        clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut ts)
    };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 * 1e-6
}

#[repr(C)]
#[derive(Default)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clk: i32, ts: *mut Timespec) -> i32;
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("../shared/data/hs-eval/hscodecomp_test_data.jsonl");
    let runs: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(5);
    let t = Instant::now();
    let overrides = &args[args.len().min(3)..];
    let model = if overrides.is_empty() {
        Classifier::bundled()?
    } else {
        let params = borderline_devkit::hs::eval::params_with(overrides)?;
        println!("parameters overridden: {}", overrides.join(" "));
        Classifier::build(Vocabulary::bundled()?, Vec::new(), params)?
    };
    println!("model build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let (items, _) = eval::load(std::path::Path::new(path))?;
    // Warm-up pass (stem cache, page faults); not measured. It also prints a digest of the
    // rankings (top-5 HS6 codes and their probabilities, all fields and title only), so that a
    // speed change can be checked to leave every ranking as it was.
    let mut digest = 0u64;
    for it in &items {
        for title_only in [false, true] {
            let r = model.rank_fields(&eval::fields(it, title_only));
            for (code, p) in r.hs6.iter().take(5) {
                for b in code.bytes().chain(p.to_bits().to_le_bytes()) {
                    digest = (digest ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
    }
    println!("ranking digest (top-5 HS6 codes and probabilities): {digest:016x}");
    let (mut p50s, mut p99s, mut cpu99s) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs.max(1) {
        let mut wall = Vec::with_capacity(items.len());
        let mut cpu = Vec::with_capacity(items.len());
        // Queries whose wall time exceeds their CPU time by more than 1 ms: the thread was
        // descheduled during them (other processes on the shared cores).
        let mut descheduled = 0usize;
        for it in &items {
            let f = eval::fields(it, false);
            let (t, c) = (Instant::now(), thread_cpu_ms());
            std::hint::black_box(model.rank_fields(&f));
            let c = thread_cpu_ms() - c;
            let w = t.elapsed().as_secs_f64() * 1e3;
            descheduled += usize::from(w - c > 1.0);
            cpu.push(c);
            wall.push(w);
        }
        wall.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        println!(
            "run {}: {} queries, wall p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; thread CPU p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; descheduled > 1 ms: {}",
            run + 1,
            wall.len(),
            pct(&wall, 0.5),
            pct(&wall, 0.99),
            wall[wall.len() - 1],
            pct(&cpu, 0.5),
            pct(&cpu, 0.99),
            cpu[cpu.len() - 1],
            descheduled
        );
        p50s.push(pct(&wall, 0.5));
        p99s.push(pct(&wall, 0.99));
        cpu99s.push(pct(&cpu, 0.99));
    }
    println!(
        "median over {} runs: wall p50 {:.3} ms, wall p99 {:.3} ms, thread CPU p99 {:.3} ms",
        p50s.len(),
        median(p50s),
        median(p99s),
        median(cpu99s)
    );
    Ok(())
}
