//! Fits what the bundled model ships as constants, on the HMRC index and dev parts only (never
//! the held-aside part, the ruling-style set or the product-title evaluation set):
//! the two softmax temperatures (NLL optimum on the dev part, which is not in the index), the
//! top-label recalibration of the heading and subheading probabilities (Platt scaling on the dev
//! part, at those temperatures) and
//! the vagueness detector (logistic model on the index part, threshold on the dev part).
//!
//! `cargo run --release -p borderline-devkit --example hs_fit [key=value ...]` (parameter
//! overrides, e.g. `w_sub_linear=2 t_subheading=2.56` for `Params::within_heading`)

use borderline_devkit::hs::benchmark::hmrc_part;
use borderline_hs::references::Part;
use borderline_hs::vague::VagueDetector;
use borderline_hs::vocab::Vocabulary;
use borderline_hs::{calibrate, Classifier};

fn main() -> anyhow::Result<()> {
    let overrides: Vec<String> = std::env::args().skip(1).collect();
    let p = borderline_devkit::hs::eval::params_with(&overrides)?;
    let m = Classifier::build(Vocabulary::bundled()?, Vec::new(), p)?;
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
    let top = calibrate::fit_top_label(&m, &dev);
    println!(
        "top-label recalibration on HMRC dev ({} items, at the current temperatures): cal_heading_a {:.3} cal_heading_b {:.3}  cal_sub_a {:.3} cal_sub_b {:.3}",
        top.items, top.heading.0, top.heading.1, top.sub.0, top.sub.1
    );
    println!(
        "current: cal_heading_a {:.3} cal_heading_b {:.3} cal_heading_len {:.3} cal_heading_unknown {:.3} cal_heading_disagree {:.3}  cal_sub_a {:.3} cal_sub_b {:.3}",
        m.params().cal_heading_a,
        m.params().cal_heading_b,
        m.params().cal_heading_len,
        m.params().cal_heading_unknown,
        m.params().cal_heading_disagree,
        m.params().cal_sub_a,
        m.params().cal_sub_b
    );
    for use_features in [
        [true, true, true],
        [false, true, true],
        [false, false, true],
    ] {
        let ev = calibrate::fit_heading_with_evidence(&m, &dev, use_features);
        println!(
            "heading recalibration with evidence {use_features:?} on HMRC dev: cal_heading_a={:.3} cal_heading_b={:.3} cal_heading_len={:.3} cal_heading_unknown={:.3} cal_heading_disagree={:.3}",
            ev[0], ev[1], ev[2], ev[3], ev[4]
        );
    }
    let det = VagueDetector::fit(&m, 0.10);
    println!("vague detector: {}", serde_json::to_string(&det)?);
    Ok(())
}
