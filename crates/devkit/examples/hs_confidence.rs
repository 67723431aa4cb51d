//! Development tool: where the top-1 heading confidence misses accuracy, split by the evidence
//! features of the heading recalibration (`RawScores::features`: query length, share of words
//! unknown to the index, lexical/learned disagreement) and by the number of query fields, on
//! the HMRC dev part and, with `TITLES=FILE`, the product-title set (measured, never fitted on).
//!
//! `cargo run --release -p borderline-devkit --example hs_confidence [-- key=value ...]`

use borderline_devkit::hs::benchmark::hmrc_part;
use borderline_devkit::hs::eval;
use borderline_hs::references::Part;
use borderline_hs::vocab::Vocabulary;
use borderline_hs::{Classifier, Params};
use std::collections::BTreeMap;

fn main() -> anyhow::Result<()> {
    let mut p = Params::default();
    for a in std::env::args().skip(1) {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("expected key=value, got {a}"))?;
        let mut json = serde_json::to_value(&p)?;
        json[k] = serde_json::json!(v.parse::<f64>()?);
        p = serde_json::from_value(json)?;
    }
    let m = Classifier::build(Vocabulary::bundled()?, Vec::new(), p)?;
    let dev: Vec<(Vec<(String, f32)>, String)> = hmrc_part(&m, Part::Dev)
        .into_iter()
        .map(|l| (vec![(l.description, 1.0)], l.hs6))
        .collect();
    report("hmrc dev", &m, &dev);
    if let Ok(path) = std::env::var("TITLES") {
        let (items, _) = eval::load(std::path::Path::new(&path))?;
        for title_only in [true, false] {
            let set: Vec<(Vec<(String, f32)>, String)> = items
                .iter()
                .map(|it| {
                    let f = eval::fields(it, title_only)
                        .into_iter()
                        .map(|(s, w)| (s.to_string(), w))
                        .collect();
                    (f, it.hs6.clone())
                })
                .collect();
            report(
                if title_only {
                    "titles (title only)"
                } else {
                    "titles (all fields)"
                },
                &m,
                &set,
            );
        }
    }
    Ok(())
}

fn report(name: &str, m: &Classifier, set: &[(Vec<(String, f32)>, String)]) {
    // key -> (n, sum confidence, hits)
    let mut by: BTreeMap<String, (usize, f64, usize)> = BTreeMap::new();
    for (fields, gold) in set {
        let f: Vec<(&str, f32)> = fields.iter().map(|(s, w)| (s.as_str(), *w)).collect();
        let raw = m.raw_scores(&f);
        let [len, unknown, disagree] = raw.features();
        let r = m.rank_fields(&f);
        let Some((code, conf)) = r.hs4.first() else {
            continue;
        };
        let hit = usize::from(code == &gold[..4]);
        let words = len.exp() - 1.0;
        let keys = [
            "all".to_string(),
            format!(
                "words {}",
                match words as usize {
                    0..=3 => "0-3",
                    4..=7 => "4-7",
                    8..=15 => "8-15",
                    16..=31 => "16-31",
                    _ => "32+",
                }
            ),
            format!(
                "unknown {}",
                if unknown < 0.1 {
                    "<0.1"
                } else if unknown < 0.3 {
                    "0.1-0.3"
                } else {
                    ">=0.3"
                }
            ),
            format!("disagree {disagree}"),
            format!(
                "conf {}",
                match (conf * 10.0) as usize {
                    0..=2 => "<0.3",
                    3..=5 => "0.3-0.6",
                    6..=8 => "0.6-0.9",
                    _ => ">=0.9",
                }
            ),
        ];
        for k in keys {
            let e = by.entry(k).or_default();
            e.0 += 1;
            e.1 += conf;
            e.2 += hit;
        }
    }
    println!("{name}: top-1 heading, mean confidence vs accuracy");
    for (k, (n, c, h)) in by {
        println!(
            "  {k:<16} n={n:4}  conf {:5.1}  acc {:5.1}  gap {:+5.1}",
            100.0 * c / n as f64,
            100.0 * h as f64 / n as f64,
            100.0 * (c / n as f64 - h as f64 / n as f64)
        );
    }
}
