//! What the benchmark examples rely on when they time a path.

use borderline_bench_clock::{median, percentile, rate, thread_cpu_seconds};

fn busy(iterations: u64) -> u64 {
    (0..iterations).fold(0u64, |a, i| {
        std::hint::black_box(a.wrapping_mul(31).wrapping_add(i))
    })
}

#[test]
fn the_median_is_the_middle_value_whatever_the_order() {
    assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    assert_eq!(
        median(vec![4.0, 1.0, 3.0, 2.0]),
        3.0,
        "upper middle of an even count"
    );
    assert!(median(Vec::new()).is_nan());
}

#[test]
fn percentiles_take_the_nearest_rank() {
    let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&sorted, 0.5), 50.0);
    assert_eq!(percentile(&sorted, 0.99), 99.0);
    assert_eq!(percentile(&sorted, 1.0), 100.0);
    assert_eq!(percentile(&sorted, 0.0), 1.0);
    assert!(percentile(&[], 0.5).is_nan());
}

#[test]
fn thread_cpu_time_grows_with_work_done_on_this_thread() {
    let Some(before) = thread_cpu_seconds() else {
        eprintln!("no /proc/thread-self/schedstat here: nothing to check");
        return;
    };
    busy(50_000_000);
    let after = thread_cpu_seconds().expect("still readable");
    assert!(after > before, "{before} -> {after}");
}

#[test]
fn a_rate_counts_the_items_the_timed_work_reports() {
    let mut calls = 0;
    let (wall, cpu) = rate(3, || {
        calls += 1;
        busy(1_000_000);
        1_000
    });
    assert_eq!(calls, 3, "one call per run");
    assert!(wall.is_finite() && wall > 0.0, "{wall}");
    assert!(cpu.is_finite() && cpu > 0.0, "{cpu}");
    let (none, _) = rate(1, || 0);
    assert_eq!(none, 0.0, "no items handled is a rate of zero");
}
