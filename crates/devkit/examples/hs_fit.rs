//! Fits what the bundled model ships as constants, on the HMRC index and dev parts only (never
//! the held-aside part, the ruling-style set or the product-title evaluation set):
//! the two softmax temperatures (NLL optimum on the dev part, which is not in the index) and
//! the vagueness detector (logistic model on the index part, threshold on the dev part).
//!
//! `cargo run --release -p borderline-hs --example fit`

use borderline_devkit::hs::benchmark::hmrc_part;
use borderline_hs::references::Part;
use borderline_hs::vague::VagueDetector;
use borderline_hs::{calibrate, Classifier};

fn main() -> anyhow::Result<()> {
    let m = Classifier::bundled()?;
    let dev: Vec<(String, String)> = hmrc_part(&m, Part::Dev)
        .into_iter()
        .map(|l| (l.hs6, l.description))
        .collect();
    let fit = calibrate::fit(&m, &dev);
    println!(
        "temperatures on HMRC dev ({} items): t_heading {:.3} (NLL {:.4})  t_subheading {:.3} (NLL {:.4})",
        fit.items, fit.t_heading, fit.nll_heading, fit.t_subheading, fit.nll_subheading
    );
    println!(
        "current: t_heading {:.3}  t_subheading {:.3}",
        m.params().t_heading,
        m.params().t_subheading
    );
    let det = VagueDetector::fit(&m, 0.10);
    println!("vague detector: {}", serde_json::to_string(&det)?);
    Ok(())
}
