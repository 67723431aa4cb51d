//! Development tool: scores a parameter setting on the HMRC dev part (never on the held-aside
//! part). `TITLES=FILE` adds the product-title set (HSCodeComp, all fields: accuracy and
//! calibration, measured, not tuned on); `RULINGS=1` adds the 23-item ruling-style set (to be
//! read once at the end of a round, not tuned on); `SHOW_DEV=1` lists each dev item's gold and
//! top-1 HS6 (error analysis on the dev part).
//!
//! `cargo run --release -p borderline-devkit --example hs_tune -- w_national=1.0 w_head=1.5 ...`

use borderline_devkit::hs::benchmark::{hmrc_part, ruling_dev, score_set};
use borderline_devkit::hs::eval::{self, TfIdfBaseline};
use borderline_hs::references::Part;
use borderline_hs::vocab::Vocabulary;
use borderline_hs::Classifier;
use std::time::Instant;

/// Ruling-style boilerplate around a description (`{}`), for `WRAP=1`.
const WRAP_TEMPLATES: [&str; 3] = [
    "The merchandise under consideration is referred to as {}. A sample was submitted with \
     your ruling request. In your letter you state that the goods will be manufactured in \
     China and imported in cartons of 24 pieces.",
    "The request was returned to you for additional information, which was received by this \
     office on March 3, 2026. The product under consideration is described as {}. Images were \
     provided in lieu of a sample. You state that the country of origin is Vietnam.",
    "Item number AB-1234 is {}. It will be imported in retail packaging and sold to \
     consumers through department stores and online retailers.",
];

fn main() -> anyhow::Result<()> {
    let overrides: Vec<String> = std::env::args().skip(1).collect();
    let p = borderline_devkit::hs::eval::params_with(&overrides)?;
    let t = Instant::now();
    let m = Classifier::build(Vocabulary::bundled()?, Vec::new(), p)?;
    let build = t.elapsed().as_secs_f64();
    let b = TfIdfBaseline::new(m.nomenclature());
    let t = Instant::now();
    let dev = score_set("hmrc dev", &m, &b, None, &hmrc_part(&m, Part::Dev));
    let ms = t.elapsed().as_secs_f64() * 1e3 / dev.items.max(1) as f64;
    let mut sets = vec![dev];
    if std::env::var("WRAP").is_ok() {
        // The same dev descriptions inside ruling-style boilerplate (correspondence
        // sentences, origin, packing): the goods are the same, so accuracy and confidence
        // should not move. Templates written for this tool, from no evaluation set.
        for (i, t) in WRAP_TEMPLATES.iter().enumerate() {
            let items: Vec<_> = hmrc_part(&m, Part::Dev)
                .into_iter()
                .map(|mut it| {
                    it.description = t.replace("{}", &it.description);
                    it
                })
                .collect();
            sets.push(score_set(
                &format!("wrapped {}", i + 1),
                &m,
                &b,
                None,
                &items,
            ));
        }
    }
    if std::env::var("RULINGS").is_ok() {
        sets.push(score_set("ruling dev", &m, &b, None, &ruling_dev()));
    }
    for s in &sets {
        println!(
            "{:<11} n={:4} top1 4/6 {:5.1} {:5.1} top5 6 {:5.1} | conf6 {:5.1} ece6 {:.3} conf4 {:5.1}",
            s.name,
            s.items,
            s.top1.hs4 * 100.0,
            s.top1.hs6 * 100.0,
            s.top5.hs6 * 100.0,
            s.hs6_mean_confidence * 100.0,
            s.hs6_ece,
            s.hs4_mean_confidence * 100.0
        );
    }
    println!("build {build:.2}s, {ms:.2} ms/query");
    if let Ok(path) = std::env::var("TITLES") {
        let (items, _) = eval::load(std::path::Path::new(&path))?;
        let r = eval::evaluate(&m, &items, 0);
        println!(
            "titles      n={:4} top1 4/6 {:5.1} {:5.1} top5 6 {:5.1} | conf6 {:5.1} ece6 {:.3} conf4 {:5.1} ece4 {:.3}",
            r.items,
            r.top1.hs4 * 100.0,
            r.top1.hs6 * 100.0,
            r.top5.hs6 * 100.0,
            r.calibration.hs6_mean_confidence * 100.0,
            r.calibration.hs6_ece,
            r.calibration.hs4_mean_confidence * 100.0,
            r.calibration.hs4_ece
        );
    }
    if let Ok(qs) = std::env::var("QUERIES") {
        for q in qs.split('|') {
            let r = m.rank_fields(&[(q, 1.0)]);
            let top: Vec<String> = r
                .hs6
                .iter()
                .take(3)
                .map(|(c, p)| format!("{c} {:.2}", p))
                .collect();
            println!("{} | {q}", top.join(", "));
        }
    }
    if std::env::var("SHOW_DEV").is_ok() {
        // Error analysis on the dev part only (never the held-aside part).
        for it in hmrc_part(&m, Part::Dev) {
            let r = m.rank_fields(&[(it.description.as_str(), 1.0)]);
            let top = r.hs6.first().map_or("-", |(c, _)| c.as_str());
            println!("dev\t{}\t{}\t{}", it.hs6, top, it.description);
            if top != it.hs6 && top.get(..4) == it.hs6.get(..4) {
                // A miss within the right heading: the siblings' probabilities.
                let sibs: Vec<String> = r
                    .hs6
                    .iter()
                    .filter(|(c, _)| c.get(..4) == it.hs6.get(..4))
                    .map(|(c, p)| format!("{c} {p:.2}"))
                    .collect();
                println!("   within\t{}", sibs.join(", "));
            }
        }
    }
    if std::env::var("SHOW").is_ok() && std::env::var("RULINGS").is_ok() {
        for it in ruling_dev() {
            let r = m.rank_fields(&[(it.description.as_str(), 1.0)]);
            let top: Vec<String> = r
                .hs6
                .iter()
                .take(3)
                .map(|(c, p)| format!("{c} {:.2}", p))
                .collect();
            println!("{} | {} | {:.60}", it.hs6, top.join(", "), it.description);
        }
    }
    Ok(())
}
