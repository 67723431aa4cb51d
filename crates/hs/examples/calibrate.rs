//! Fits the softmax temperatures on the bundled hand-written calibration set and prints them
//! with top-1/top-5 accuracy and the mean top-1 confidence on that set:
//! `cargo run --release -p borderline-hs --example calibrate`.

use borderline_hs::{calibrate, Classifier};

fn main() -> anyhow::Result<()> {
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
                borderline_hs::vocab::Vocabulary::bundled()?,
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
    let (mut t1_4, mut t1_6, mut t5_6, mut conf) = (0, 0, 0, 0.0);
    for (code, desc) in &items {
        let r = model.rank_fields(&[(desc.as_str(), 1.0)]);
        if r.hs4.first().is_some_and(|(c, _)| c == &code[..4]) {
            t1_4 += 1;
        }
        if r.hs6.first().is_some_and(|(c, _)| c == code) {
            t1_6 += 1;
        }
        if r.hs6.iter().take(5).any(|(c, _)| c == code) {
            t5_6 += 1;
        }
        conf += r.hs6.first().map_or(0.0, |x| x.1);
        if std::env::args().any(|a| a == "-v")
            && r.hs4.first().is_some_and(|(c, _)| c != &code[..4])
        {
            println!("  miss {code} {desc:?} -> {:?}", &r.hs6[..2]);
        }
    }
    let n = items.len() as f64;
    println!(
        "ranking time per item (incl. calibration passes): {:.3} ms",
        t0.elapsed().as_secs_f64() * 1e3 / n / 3.0
    );
    println!(
        "top1 HS4 {:.1}%  top1 HS6 {:.1}%  top5 HS6 {:.1}%  mean top1 confidence {:.1}%",
        100.0 * t1_4 as f64 / n,
        100.0 * t1_6 as f64 / n,
        100.0 * t5_6 as f64 / n,
        100.0 * conf / n
    );
    Ok(())
}
