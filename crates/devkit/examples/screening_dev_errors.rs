//! Development diagnostic: the false positives and false negatives of the pair score on the
//! **dev parts** of the development sets (never the held-aside parts, which this tool does not
//! print), with the explanation of each pair, for error analysis by class.
//!
//! `cargo run --release -p borderline-devkit --example screening_dev_errors [-- SET ...]`
//! (default sets: alias_person alias_company_vessel; `THR=0.4` sets the threshold; `ALL=1`
//! prints every dev pair, right or wrong, with its features, for counting a class's effect;
//! `CLASSES=1` prints, per set, the dev pairs counted by error class, TP / FP / FN / TN, with
//! the classes read from each pair's explanation; see `class_of`; they are written for the
//! company/vessel sets: persons' pairs never get the added-word note, so a person name with
//! an extra word counts as "one side adds only ... known words").

use borderline_devkit::screening::devsets;
use borderline_devkit::screening::eval::find_dev_dir;
use borderline_screening::{Explanation, ListStore, MatchConfig, MatchHow, Matcher};
use std::collections::BTreeMap;

/// The error class of a pair, read from its explanation (ninth round; docs/screening.md).
fn class_of(ex: &Explanation) -> &'static str {
    let note = |s: &str| ex.notes.iter().any(|n| n.contains(s));
    let (q, c) = (
        !ex.unmatched_query.is_empty(),
        !ex.unmatched_candidate.is_empty(),
    );
    if note("letters agree ignoring word boundaries") {
        "spelling: letters agree ignoring word boundaries"
    } else if note("adds words the other name lacks") {
        "one side adds an unexplained word"
    } else if q != c && note("place names on one side") {
        "one side adds a place name"
    } else if q != c {
        "one side adds only legal forms, company symbols or known words"
    } else if q && c && note("place names on one side") {
        "words replaced, a place name among them"
    } else if q && c && ex.features[19] >= 0.55 {
        // `replaced_word_rarity` (eleventh round): the rarer side's heaviest unexplained word
        // is a distinctive one ("TIMBER" / "GEMS").
        "words replaced on both sides, a distinctive word on each"
    } else if q && c {
        "words replaced on both sides, a common word on one side"
    } else if ex
        .matched
        .iter()
        .any(|m| !matches!(m.how, MatchHow::Exact | MatchHow::LegalForm))
    {
        "spelling: every word matched, some not exactly"
    } else if note("legal forms") {
        "same words, legal forms differ"
    } else {
        "same words"
    }
}

fn main() -> anyhow::Result<()> {
    let mut want: Vec<String> = std::env::args().skip(1).collect();
    if want.is_empty() {
        want = vec!["alias_person".into(), "alias_company_vessel".into()];
    }
    let thr: f64 = std::env::var("THR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MatchConfig::default().threshold);
    let all = std::env::var_os("ALL").is_some();
    let classes = std::env::var_os("CLASSES").is_some();
    let store = ListStore::bundled()?;
    let entries: Vec<_> = store
        .lists()
        .flat_map(|l| l.entries.iter().cloned())
        .collect();
    let m = Matcher::build(&store, MatchConfig::default());
    let dev_dir = find_dev_dir(None);
    // `GENERATED=7`: the wrong generated company pairs of that seed (7 is the seed the pair
    // model trains on; the evaluation's is 42), with their category.
    if let Some(seed) = std::env::var("GENERATED").ok().and_then(|v| v.parse().ok()) {
        for p in borderline_devkit::screening::pairs::generate(m.entries(), seed, 1000, 1000) {
            let (score, ex) = m.compare(&p.query, &p.list_name, p.schema);
            if (score >= thr) != p.is_match {
                println!(
                    "generated {} {} {score:.3} {:?} | {:?} :: {} :: {:?}",
                    p.category,
                    if p.is_match { "FN" } else { "FP" },
                    p.query,
                    p.list_name,
                    ex.summary(),
                    ex.features
                );
            }
        }
        return Ok(());
    }
    let (sets, notes) = devsets::all_sets(&entries, dev_dir.as_deref(), 42);
    for n in notes {
        eprintln!("note: {n}");
    }
    for s in sets.iter().filter(|s| want.contains(&s.name)) {
        let (mut tp, mut fp, mut fneg, mut n) = (0usize, 0usize, 0usize, 0usize);
        // class -> [TP, FP, FN, TN]
        let mut by_class: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
        for p in s.pairs.iter().filter(|p| !p.held_aside) {
            n += 1;
            let (score, ex) = m.compare(&p.a, &p.b, p.schema);
            let hit = score >= thr;
            match (hit, p.is_match) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fneg += 1,
                _ => {}
            }
            if classes {
                let k = match (hit, p.is_match) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                by_class.entry(class_of(&ex)).or_default()[k] += 1;
                continue;
            }
            if all {
                let label = match (hit, p.is_match) {
                    (true, true) => "TP",
                    (true, false) => "FP",
                    (false, true) => "FN",
                    (false, false) => "TN",
                };
                println!(
                    "{} {label} {score:.3} {:?} | {:?} :: {} :: {:?}",
                    s.name,
                    p.a,
                    p.b,
                    ex.summary(),
                    ex.features
                );
            } else if hit != p.is_match {
                println!(
                    "{} {} {score:.3} rule {:.3} {:?} | {:?} :: {}",
                    s.name,
                    if p.is_match { "FN" } else { "FP" },
                    ex.rule_score,
                    p.a,
                    p.b,
                    ex.summary()
                );
            }
        }
        if classes {
            println!("{} dev, threshold {thr}: class | TP | FP | FN | TN", s.name);
            let mut v: Vec<_> = by_class.into_iter().collect();
            v.sort_by_key(|(_, c)| std::cmp::Reverse(c[1] + c[2]));
            for (k, c) in v {
                println!("| {k} | {} | {} | {} | {} |", c[0], c[1], c[2], c[3]);
            }
        }
        let pr = tp as f64 / (tp + fp).max(1) as f64;
        let rc = tp as f64 / (tp + fneg).max(1) as f64;
        let f1 = if pr + rc > 0.0 {
            2.0 * pr * rc / (pr + rc)
        } else {
            0.0
        };
        eprintln!(
            "SUMMARY {} dev: {n} pairs, tp {tp} fp {fp} fn {fneg}: P {pr:.3} R {rc:.3} F1 {f1:.3} at {thr}",
            s.name
        );
    }
    Ok(())
}
