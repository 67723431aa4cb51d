//! What the benchmark examples time with: this thread's CPU time, medians, percentiles and
//! per-second rates.
//!
//! The machines Borderline is measured on are shared and noisy, so benchmarks report the CPU
//! time of the thread that did the work (other processes on the same cores do not count)
//! beside wall time, and medians over runs. The examples of several crates need the same few
//! functions; an example cannot share a module with another crate's example, so they live here
//! (a dev-dependency only: no product code links it).

use std::time::Instant;

/// This thread's CPU time in seconds since it started (Linux: `/proc/thread-self/schedstat`);
/// `None` where the kernel does not give it.
pub fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// The median of `v` (the upper of the two middle values for an even count); `NaN` for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The `q`-quantile (0 to 1) of ascending `sorted` by the nearest rank; `NaN` for none.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median rates (items per second) of `f` over `runs` runs, by wall clock and by this
/// thread's CPU time (the wall-clock rate where CPU time is unavailable); `f` returns how many
/// items it handled.
pub fn rate(runs: usize, mut f: impl FnMut() -> usize) -> (f64, f64) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (t, c) = (Instant::now(), thread_cpu_seconds());
        let n = f() as f64;
        let w = t.elapsed().as_secs_f64();
        wall.push(n / w);
        cpu.push(match (c, thread_cpu_seconds()) {
            (Some(a), Some(b)) if b > a => n / (b - a),
            _ => n / w,
        });
    }
    (median(wall), median(cpu))
}
