//! Speed benchmark: stream N generated declarations into a `BenchmarkBuilder` (bounded memory:
//! observations older than the window are evicted as the stream advances), finalize, then
//! check M declarations on one thread.
//!
//! `cargo run --release -p borderline-valuation --example speed -- [N] [M] [RUNS]`
//! (defaults 10,000,000 declarations, 1,000,000 checks, 5 timed runs; rates are the median
//! run).

use borderline_core::{Declaration, HsCode};
use borderline_valuation::{BenchmarkBuilder, Config};
use chrono::{Days, NaiveDate};
use std::time::Instant;
use xxhash_rust::xxh3::xxh3_64_with_seed;

const HS6: u64 = 5_000;
const ORIGINS: [&str; 12] = [
    "CN", "VN", "US", "DE", "JP", "IN", "TH", "ID", "IT", "FR", "MY", "KR",
];
const IMPORTERS: u64 = 200_000;
const SELLERS: u64 = 80_000;
const DAYS: u64 = 730;

fn u(seed: u64, i: u64) -> f64 {
    ((xxh3_64_with_seed(&i.to_le_bytes(), seed) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}
fn normal(seed: u64, i: u64) -> f64 {
    (-2.0 * u(seed, i).ln()).sqrt() * (std::f64::consts::TAU * u(seed + 1, i)).cos()
}

/// Declaration `i` of `n`, dated in order over two years.
fn generate(i: u64, n: u64) -> Declaration {
    let hs_i = (u(1, i).powi(2) * HS6 as f64) as u64; // skewed: popular codes
    let product = (u(2, i) * 3.0) as u64;
    let price = (3.0 + 2.0 * normal(3, hs_i * 4 + product)).exp();
    let mass = (4.0 + 1.5 * normal(5, i)).exp();
    let value = mass * price * (0.35 * normal(7, i)).exp();
    let hs = format!("{:06}", 10_000 + hs_i * 173 % 960_000);
    let date =
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default() + Days::new(i * DAYS / n.max(1));
    Declaration {
        declaration_id: i.to_string().into(),
        date,
        office: "30".into(),
        declarant: format!("D{}", i % 3000).into(),
        importer: format!(
            "I{}",
            xxh3_64_with_seed(&hs_i.to_le_bytes(), i % 7) % IMPORTERS
        )
        .into(),
        seller: Some(format!("S{}", (hs_i * 31 + product) % SELLERS).into()),
        courier: None,
        hs_code: HsCode::parse(&hs).unwrap_or_else(|_| unreachable!("6 digits")),
        origin_country: ORIGINS[(u(9, i) * ORIGINS.len() as f64) as usize % ORIGINS.len()].into(),
        departure_country: None,
        transport_mode: "10".into(),
        process_type: "B".into(),
        import_type: "11".into(),
        import_use: "21".into(),
        payment_type: "11".into(),
        net_mass_kg: Some(mass),
        customs_value: Some(value),
        currency: "KRW".into(),
        tax_rate: Some(8.0),
        tax_type: "A".into(),
        origin_indicator: "Y".into(),
        description: None,
        quantity: None,
        quantity_unit: None,
        outcome: None,
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000_000);
    let m = args.get(1).copied().unwrap_or(1_000_000);
    let config = Config::default();
    let mut builder = BenchmarkBuilder::new(config)?;

    let t = Instant::now();
    let mut last_evict = NaiveDate::MIN;
    let mut last_date = NaiveDate::MIN;
    let mut max_stored = 0usize;
    for i in 0..n {
        let d = generate(i, n);
        // once a month, drop what can no longer be in the final window
        if d.date.signed_duration_since(last_evict).num_days() >= 30 {
            builder.evict_before(builder.window_start(d.date));
            max_stored = max_stored.max(builder.stored());
            last_evict = d.date;
        }
        last_date = d.date;
        builder.add(&d);
    }
    let build_s = t.elapsed().as_secs_f64();
    let as_of = last_date.succ_opt().unwrap_or(last_date);
    let t = Instant::now();
    let bench = builder.finalize(as_of);
    let fin_s = t.elapsed().as_secs_f64();
    println!(
        "build: {n} declarations streamed in {build_s:.1} s ({:.0}/s incl. generation); finalize {fin_s:.1} s; \
         {} cells, {} products, {} own-history groups, {} evidence tallies; max stored observations {max_stored}; peak RSS {:.0} MB",
        n as f64 / build_s,
        bench.cells.len(),
        bench.products.len(),
        bench.parties.len(),
        bench.attrs.len(),
        peak_rss_mb()
    );
    drop(builder);

    // Checks: declarations after as_of, generated up front so only checking is timed.
    let queries: Vec<Declaration> = (0..m)
        .map(|i| {
            let mut d = generate(n + i * 7919 % n.max(1), n);
            d.date = as_of;
            d
        })
        .collect();
    let runs = args.get(2).copied().unwrap_or(5).max(1);
    // median of `runs` timed passes over the same queries (the machine is shared)
    let median_rate = |f: &dyn Fn() -> f64| -> (f64, f64) {
        let mut rates = Vec::new();
        let mut sink = 0.0;
        for _ in 0..runs {
            let t = Instant::now();
            sink += f();
            rates.push(m as f64 / t.elapsed().as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        (rates[rates.len() / 2], sink)
    };
    let (rate, sink) = median_rate(&|| {
        let mut s = 0.0;
        for d in &queries {
            let a = bench.assess(d);
            s += a.under_rank + a.flagged as u8 as f64;
        }
        s
    });
    let flagged = queries.iter().filter(|d| bench.assess(d).flagged).count();
    println!(
        "full check (assess: products, evidence, mixture; Copy result): {m} declarations, median of {runs} runs = {rate:.0} checks/s/core; {flagged} flagged ({:.2}%) [{sink:.0}]",
        100.0 * flagged as f64 / m as f64
    );
    let (rate, _) = median_rate(&|| {
        let mut s = 0.0;
        for d in &queries {
            s += bench.check(d).under_rank;
        }
        s
    });
    println!("full check with the Check struct (check): median {rate:.0} checks/s/core");
    let (rate, screened) = median_rate(&|| {
        let mut s = 0.0;
        for d in &queries {
            if let Ok(q) = bench.quick_check(d) {
                s += (q.robust_z.abs() >= 3.0) as u8 as f64;
            }
        }
        s
    });
    println!(
        "quick_check (cell statistics only): median {rate:.0} checks/s/core; {} with |robust z| >= 3",
        screened / runs as f64
    );
    let t = Instant::now();
    let mut nreasons = 0usize;
    for d in queries.iter().take(100_000) {
        let c = bench.check(d);
        nreasons += bench.reasons(d, &c).len();
    }
    let s = t.elapsed().as_secs_f64();
    let k = queries.len().min(100_000);
    println!(
        "check + reasons: {k} in {s:.2} s = {:.0}/s ({nreasons} reasons)",
        k as f64 / s
    );
    Ok(())
}
