//! Latency of `Classifier::rank_fields` on one thread (custom harness, no extra crates):
//! `cargo bench -p borderline-hs --bench suggest`.
//!
//! Queries: the hand-written calibration descriptions (short), and the same descriptions with a
//! marketplace-style category path and attribute list appended (long).

use borderline_hs::{calibrate, Classifier};
use std::time::Instant;

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let model = Classifier::bundled()?;
    println!("model build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let items = calibrate::parse(calibrate::BUNDLED)?;
    let category = "Home & Garden > Home Decor > Ornaments > Figurines & Miniatures";
    let attrs =
        "Material: Metal, Plastic, Resin; Style: Modern; Type: Decoration; Gender: Unisex; \
                 Shape: Round; Feature: Eco-Friendly, Stocked; Occasion: Party, Wedding, Birthday";
    for (name, long) in [
        ("short (description only)", false),
        ("long (+ category + attributes)", true),
    ] {
        let mut ms = Vec::new();
        for _round in 0..5 {
            for (_, d) in &items {
                let fields: Vec<(&str, f32)> = if long {
                    vec![(d, 1.0), (category, 1.0), (attrs, 0.7)]
                } else {
                    vec![(d, 1.0)]
                };
                let t = Instant::now();
                let r = model.rank_fields(&fields);
                std::hint::black_box(&r);
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let (p50, p99) = (pct(&mut ms, 0.5), pct(&mut ms, 0.99));
        println!(
            "{name}: {} queries, p50 {p50:.3} ms, p99 {p99:.3} ms",
            ms.len()
        );
    }
    Ok(())
}
