//! Development diagnostic: which list entries produce false hits on the 100k synthetic people,
//! split into a development half (the first half of each negatives file) and a held-out half,
//! plus the UN positives missed. Prints every false hit of the development half with its
//! explanation; of the held-out half only the counts (`--heldout` prints those hits too), so
//! that choices are made on the development half.
//!
//! `cargo run --release -p borderline-devkit --example screening_falsehits [-- --heldout]`

use borderline_devkit::screening::eval::{find_dev_dir, read_persons, Person};
use borderline_screening::{ListStore, MatchConfig, Matcher, Query, Schema};

fn query(p: &Person, country: bool, dob: bool) -> Query {
    Query::name(p.name.clone())
        .schema(Schema::Person)
        .country(if country { p.country.clone() } else { None })
        .birth_date(if dob { p.birth_date.clone() } else { None })
}

fn main() -> anyhow::Result<()> {
    let show_heldout = std::env::args().any(|a| a == "--heldout");
    let dir = find_dev_dir(None).ok_or_else(|| anyhow::anyhow!("name-matching-dev not found"))?;
    // Experiments: BL_CFG="person_unmatched_query_factor=1.0,person_single_token_cap=0.8".
    let mut cfg = MatchConfig::default();
    for kv in std::env::var("BL_CFG").unwrap_or_default().split(',') {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let v: f64 = v.parse()?;
        match k {
            "person_unmatched_query_factor" => cfg.person_unmatched_query_factor = v,
            "person_single_token_cap" => cfg.person_single_token_cap = v,
            "dob_mismatch_factor" => cfg.dob_mismatch_factor = v,
            "threshold" => cfg.threshold = v,
            _ => anyhow::bail!("unknown key {k}"),
        }
    }
    let m = Matcher::build(&ListStore::bundled()?, cfg);
    let mut dev = Vec::new();
    let mut held = Vec::new();
    for f in ["negatives_global.csv", "negatives_us.csv"] {
        let rows = read_persons(&dir.join(f))?;
        let half = rows.len() / 2;
        for (i, r) in rows.into_iter().enumerate() {
            if i < half {
                dev.push(r);
            } else {
                held.push(r);
            }
        }
    }
    for (label, rows, show) in [("dev", &dev, true), ("heldout", &held, show_heldout)] {
        let mut counts = [[0usize; 2]; 3];
        for p in rows.iter() {
            for (v, (c, d)) in [(false, false), (true, false), (true, true)]
                .into_iter()
                .enumerate()
            {
                let hits = m.screen(&query(p, c, d));
                if let Some(h) = hits.first() {
                    counts[v][0] += 1;
                    if hits.iter().any(|h| h.list == "un") {
                        counts[v][1] += 1;
                    }
                    if show && (v == 0 || v == 2) {
                        println!(
                            "{label} FH{} {:?} [{} {}] -> {}:{} {:?} ({:?}, {:.3}) {}",
                            if v == 0 { "" } else { "+cd" },
                            p.name,
                            p.country.as_deref().unwrap_or("-"),
                            p.birth_date.as_deref().unwrap_or("-"),
                            h.list,
                            h.entry_id,
                            h.matched_name,
                            h.schema,
                            h.score,
                            h.explanation.summary()
                        );
                    }
                }
            }
        }
        for (v, what) in ["name only", "+country", "+country+dob"].iter().enumerate() {
            println!(
                "{label} {what}: {} names, false hits {} ({:.3}/1k), UN only {} ({:.3}/1k)",
                rows.len(),
                counts[v][0],
                counts[v][0] as f64 * 1000.0 / rows.len() as f64,
                counts[v][1],
                counts[v][1] as f64 * 1000.0 / rows.len() as f64,
            );
        }
    }
    // UN positives: "any UN hit" recall (the evaluation's exact-entry recall is stricter).
    for f in ["positives_un_untreated.csv", "positives_un_treated.csv"] {
        let rows = read_persons(&dir.join(f))?;
        for (c, d) in [(false, false), (true, true)] {
            let mut ok = 0;
            for p in &rows {
                let q = query(p, c, d);
                if m.screen(&q).iter().any(|h| h.list == "un") {
                    ok += 1;
                } else if !c {
                    let best = m
                        .screen_with_threshold(&q, 0.0)
                        .into_iter()
                        .find(|h| h.list == "un");
                    println!(
                        "MISS {f} {:?} best UN: {}",
                        p.name,
                        best.map(|h| format!(
                            "{:?} {:.3} {}",
                            h.matched_name,
                            h.score,
                            h.explanation.summary()
                        ))
                        .unwrap_or_else(|| "-".into())
                    );
                }
            }
            println!(
                "{f}{}: any-UN-hit recall {:.3} ({ok}/{})",
                if c { " +country+dob" } else { "" },
                ok as f64 / rows.len() as f64,
                rows.len()
            );
        }
    }
    Ok(())
}
