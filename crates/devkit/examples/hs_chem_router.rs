//! Development tool: how often the chemical-name reader (`borderline_hs::chemname`) names the
//! heading of the national tariff lines of chapters 28 and 29 that name one compound.
//!
//! The lines' own texts ("Triethylamine", "Benzoyl chloride") are written by the USITC and the
//! EU, not derived from the reader, so they measure it: US HTSUS lines are the development
//! set, EU CN lines are kept aside (run with `eu` only to measure).
//!
//! `cargo run --release -p borderline-devkit --example hs_chem_router -- us [show]`

use borderline_hs::chemname::read_compound;
use borderline_hs::national::{Schedule, Schedules};
use std::collections::BTreeMap;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let schedule = match args.next().as_deref() {
        Some("eu") => Schedule::EuCn,
        _ => Schedule::UsHtsus,
    };
    let show = args.next().is_some();
    let mut seen = std::collections::BTreeSet::new();
    let (mut names, mut read, mut right) = (0usize, 0usize, 0usize);
    let mut by_heading: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for line in Schedules::bundled().lines() {
        if line.schedule != schedule
            || !(line.code.starts_with("28") || line.code.starts_with("29"))
        {
            continue;
        }
        let own = line.own_text().trim();
        let low = own.to_lowercase();
        // Lines that name one compound: no "other", no lists, no classes.
        if low.starts_with("other") || own.contains(';') || own.len() < 4 || !seen.insert(low) {
            continue;
        }
        names += 1;
        let Some(r) = read_compound(own, None) else {
            continue;
        };
        read += 1;
        let gold = &line.code[..4];
        let ok = r.heading == gold;
        right += usize::from(ok);
        let e = by_heading.entry(gold.to_string()).or_default();
        e.0 += 1;
        e.1 += usize::from(ok);
        if show && !ok {
            println!("{gold} -> {} ({}) | {own}", r.heading, r.reason);
        }
    }
    println!(
        "{}: {names} single-name lines of chapters 28-29; read {read} ({:.1}%), heading right {right} ({:.1}% of read)",
        schedule.name(),
        100.0 * read as f64 / names.max(1) as f64,
        100.0 * right as f64 / read.max(1) as f64
    );
    Ok(())
}
