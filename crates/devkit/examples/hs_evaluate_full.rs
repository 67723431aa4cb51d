//! The `borderline hs evaluate FILE --json` report of the bundled classifier through the same
//! function (`benchmark::evaluate_all`), without building the CLI (which links the targeting
//! model's native libraries): for a helper's tree when only the devkit is built.
//!
//! `cargo run --release -p borderline-devkit --example hs_evaluate_full -- FILE`

use borderline_devkit::hs::{benchmark, eval};
use borderline_hs::Classifier;

fn main() -> anyhow::Result<()> {
    let file = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: hs_evaluate_full FILE"))?;
    let m = Classifier::bundled()?;
    let (items, skipped) = eval::load(std::path::Path::new(&file))?;
    let r = benchmark::evaluate_all(&m, &items, skipped);
    println!("{}", serde_json::to_string_pretty(&r.product_titles)?);
    for line in r.lines() {
        println!("{line}");
    }
    Ok(())
}
