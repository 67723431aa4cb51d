//! Fits the softmax temperatures on the bundled hand-written calibration set and prints them
//! with top-1/top-5 accuracy and the mean top-1 confidence on that set:
//! `cargo run --release -p borderline-hs --example calibrate`.

use borderline_hs::{calibrate, Classifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Optional parameter overrides for experiments: HS_PARAMS='{"w_char":0.0}'.
    let model = match std::env::var("HS_PARAMS") {
        Ok(json) => {
            let mut v = serde_json::to_value(borderline_hs::Params::default())?;
            let o: serde_json::Value = serde_json::from_str(&json)?;
            if let (Some(v), Some(o)) = (v.as_object_mut(), o.as_object()) {
                for (k, x) in o {
                    v.insert(k.clone(), x.clone());
                }
            }
            Classifier::build(
                borderline_hs::Vocabulary::bundled()?,
                Vec::new(),
                serde_json::from_value(v)?,
            )?
        }
        Err(_) => Classifier::bundled()?,
    };
    let t0 = std::time::Instant::now();
    let items = calibrate::parse(calibrate::BUNDLED)?;
    let fit = calibrate::fit(&model, &items);
    let p = model.params();
    let (d4, d6) = calibrate::nll(
        &model,
        &items,
        f64::from(p.t_heading),
        f64::from(p.t_subheading),
    );
    println!("calibration items: {}", fit.items);
    println!(
        "fitted  t_heading {:.3} (NLL {:.4})  t_subheading {:.3} (NLL {:.4})",
        fit.t_heading, fit.nll_heading, fit.t_subheading, fit.nll_subheading
    );
    println!(
        "current t_heading {:.3} (NLL {:.4})  t_subheading {:.3} (NLL {:.4})",
        p.t_heading, d4, p.t_subheading, d6
    );
    let verbose = std::env::args().any(|a| a == "-v");
    for (name, set, show_misses) in [
        ("calibration", calibrate::BUNDLED, false),
        ("dev", calibrate::DEV, verbose),
    ] {
        let items = calibrate::parse(set)?;
        let (mut t1_4, mut t1_6, mut t5_6, mut conf4, mut conf6) = (0, 0, 0, 0.0, 0.0);
        for (code, desc) in &items {
            let r = model.rank_fields(&[(desc.as_str(), 1.0)]);
            if r.hs4.first().is_some_and(|(c, _)| c == &code[..4]) {
                t1_4 += 1;
            } else if show_misses {
                println!("  miss {code} {desc:?} -> {:?}", &r.hs6[..2]);
            }
            if r.hs6.first().is_some_and(|(c, _)| c == code) {
                t1_6 += 1;
            }
            if r.hs6.iter().take(5).any(|(c, _)| c == code) {
                t5_6 += 1;
            }
            conf4 += r.hs4.first().map_or(0.0, |x| x.1);
            conf6 += r.hs6.first().map_or(0.0, |x| x.1);
        }
        let n = items.len() as f64;
        let pc = |x: f64| 100.0 * x / n;
        println!(
            "{name} ({} items): top1 HS4 {:.1}% (mean conf {:.1}%)  top1 HS6 {:.1}% (mean conf {:.1}%)  top5 HS6 {:.1}%",
            items.len(), pc(t1_4 as f64), pc(conf4), pc(t1_6 as f64), pc(conf6), pc(t5_6 as f64)
        );
    }
    println!(
        "ranking time per item: {:.3} ms",
        t0.elapsed().as_secs_f64() * 1e3 / 400.0
    );
    Ok(())
}
