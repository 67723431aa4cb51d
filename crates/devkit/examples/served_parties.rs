//! What a service's party directory costs (`serve --parties`, `AppState::with_parties`): the
//! heap it holds, the time to screen it at start, and the screening work of each request that
//! uses it (`POST /v1/network/exposure`, `POST /v1/lanes/select`), through the same
//! application calls the handlers make (`ServedParties::screen_batch`, `screening::exposure`,
//! the signal's features, rule values and reasons).
//!
//! `cargo run --release -p borderline-devkit --example served_parties [-- RUNS [BATCH]]`
//!
//! The directory is the synthetic demo parties of the bundled 2021-Q2 declarations, as
//! `borderline demo --serve` holds it, screened against the bundled watchlists; the store is an
//! empty in-memory SQLite store (no recorded declaration). Heap figures come from a counting
//! global allocator (live bytes, and the peak above the live bytes at a request's start). Times
//! are medians over RUNS (default 15) of the wall clock and of this thread's CPU time. The
//! last lines are digests of the results (exposure, and the select batch's reasons and rule
//! values), to compare two builds' answers.

use borderline_app::declarations::{load, Source};
use borderline_app::screening::{exposure, Parties, ServedParties, RECORDED_FOR_NETWORK};
use borderline_bench_clock::{median, thread_cpu_seconds};
use borderline_core::{Declaration, Signal};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Relaxed) + (new - l.size());
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Median wall and CPU milliseconds of `f` over `runs`, and the median heap peak above the
/// live bytes at the start of each run (MiB).
fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64, f64) {
    let (mut wall, mut cpu, mut peak) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let live = LIVE.load(Relaxed);
        PEAK.store(live, Relaxed);
        let (t, c) = (Instant::now(), thread_cpu_seconds());
        f();
        wall.push(t.elapsed().as_secs_f64() * 1e3);
        if let (Some(a), Some(b)) = (c, thread_cpu_seconds()) {
            cpu.push((b - a) * 1e3);
        }
        peak.push(mib(PEAK.load(Relaxed).saturating_sub(live)));
    }
    (median(wall), median(cpu), median(peak))
}

fn digest(s: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(s.as_bytes()))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().map(|s| s.parse()).transpose()?.unwrap_or(15);
    let batch: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rows: Vec<Declaration> = load(&Source::new(
        root.join("data/declarations/kcs_test.csv.gz"),
        borderline_ingest::Profile::korea_customs(),
    ))?
    .declarations;
    let matcher = borderline_app::screening::bundled_matcher()?;
    let enrichment =
        borderline_devkit::demo_enrichment(&rows, &matcher, borderline_devkit::DEMO_PARTY_SEED);
    let planted: Vec<String> = enrichment
        .planted
        .iter()
        .filter(|p| p.kind == "owned_by_listed")
        .map(|p| p.party_id.clone())
        .collect();

    let parties = Parties::from(enrichment);
    let directory = parties.directory.clone();
    // The heap of the directory and relationship rows as read: that of a copy.
    let live = LIVE.load(Relaxed);
    let copy = parties.clone();
    let directory_bytes = LIVE.load(Relaxed) - live;
    drop(copy);
    println!(
        "party directory: {} parties, {} relationship rows, {:.2} MiB of heap as read",
        parties.directory.len(),
        parties.relationships.len(),
        mib(directory_bytes)
    );

    let store = borderline_store_sqlite::SqliteStore::open_in_memory()?;
    let live = LIVE.load(Relaxed);
    let (t, c) = (Instant::now(), thread_cpu_seconds());
    let (served, recorded) =
        ServedParties::new(&store, matcher.clone(), parties, RECORDED_FOR_NETWORK)?;
    let start_cpu = match (c, thread_cpu_seconds()) {
        (Some(a), Some(b)) => (b - a) * 1e3,
        _ => f64::NAN,
    };
    println!(
        "start (ServedParties::new, {recorded} recorded declarations): {:.0} ms wall, {:.0} ms CPU; held: {:.2} MiB (the directory as read: {:.2} MiB)",
        t.elapsed().as_secs_f64() * 1e3,
        start_cpu,
        mib(LIVE.load(Relaxed) - live),
        mib(directory_bytes)
    );

    // An exposure request: a declaration whose seller is owned by a listed entity (two hops).
    let one = rows
        .iter()
        .find(|d| {
            d.seller
                .as_deref()
                .is_some_and(|s| planted.iter().any(|p| p == s))
        })
        .unwrap_or(&rows[0])
        .clone();
    let id = one.declaration_id.to_string();
    let req = vec![one];
    let mut exposure_json = String::new();
    let (w, c, p) = time(runs, || {
        let screening = served.screen_batch(&req);
        let (x, _) = exposure(&req, &screening, &id).expect("exposure");
        exposure_json = serde_json::to_string(&x).expect("json");
    });
    println!(
        "exposure request (1 declaration): median {w:.2} ms wall, {c:.2} ms CPU, heap peak {p:.2} MiB"
    );

    // A selection request's screening: the batch screened, then every row's features, rule
    // values and reasons (what `select_active` asks the signal).
    let batch_rows: Vec<Declaration> = rows.iter().take(batch).cloned().collect();
    let defs = {
        let s = served.screen_batch(&batch_rows[..1]);
        s.signal.feature_defs().len()
    };
    let mut select_text = String::new();
    let (w, c, p) = time(runs, || {
        let screening = served.screen_batch(&batch_rows);
        let mut out = String::new();
        let mut feats = vec![0f32; defs];
        for d in &batch_rows {
            screening.signal.features(d, &mut feats);
            let mut values = Vec::new();
            screening.signal.rule_values(d, &mut values);
            // Sorted: the matcher orders hits of equal score differently from one process to
            // the next (its hash maps' seeds), and the digest compares two processes.
            let mut reasons: Vec<String> = screening
                .signal
                .reasons(d)
                .into_iter()
                .map(|r| format!("{}\t{}\n", r.code, r.text))
                .collect();
            reasons.sort();
            out.extend(reasons);
            out.push_str(&format!("{feats:?} {values:?}\n"));
        }
        select_text = out;
    });
    println!(
        "select request's screening ({} declarations): median {w:.2} ms wall, {c:.2} ms CPU, heap peak {p:.2} MiB",
        batch_rows.len()
    );
    // Where a request's time goes: the directory screened, and the watchlists' part of the
    // network (entries linked to each other by name, the entry index).
    let (w, c, _) = time(runs.min(5), || {
        let s = borderline_screening::ScreeningSignal::new(matcher.clone(), directory.clone());
        assert!(s.directory().len() == directory.len());
    });
    println!("  of which the directory screened: median {w:.2} ms wall, {c:.2} ms CPU");
    let (w, c, _) = time(runs.min(5), || {
        let mut net = borderline_screening::network::SupplierNetwork::new();
        net.add_list_entries(&matcher);
        let _ = borderline_screening::network::entry_index(&matcher);
    });
    println!("  of which the watchlists' links: median {w:.2} ms wall, {c:.2} ms CPU");
    println!("digest exposure {}", digest(&exposure_json));
    println!("digest select {}", digest(&select_text));
    if let Ok(path) = std::env::var("SERVED_PARTIES_DUMP") {
        std::fs::write(path, format!("{exposure_json}\n{select_text}"))?;
    }
    Ok(())
}
