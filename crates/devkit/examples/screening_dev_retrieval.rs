//! Development diagnostic: how many true pairs of the **dev parts** that the pair score accepts
//! are lost when the name is screened (`Matcher::screen`) instead of compared: the first side
//! of each dev positive (the Latin one in the Wikidata sets) is added to the bundled lists as
//! an entry, and the other side is screened with the pair's schema. A pair is lost at
//! retrieval when the entry is not among the candidates scored at all (threshold 0) even
//! without the persons' rule-score gate (`use_model: false` turns it off), at the gate when
//! it is scored only without it, else below the threshold. Held-aside
//! parts are not read. Prints the pairs the comparison accepts and screening misses.
//!
//! `cargo run --release -p borderline-devkit --example screening_dev_retrieval [-- SET ...]`
//! (default set: wikidata_korean_fullname).

use borderline_devkit::screening::devsets;
use borderline_devkit::screening::eval::find_dev_dir;
use borderline_screening::{Entry, ListStore, MatchConfig, Matcher, Query};

fn main() -> anyhow::Result<()> {
    let mut want: Vec<String> = std::env::args().skip(1).collect();
    if want.is_empty() {
        want = vec!["wikidata_korean_fullname".into()];
    }
    let store = ListStore::bundled()?;
    let bundled: Vec<Entry> = store
        .lists()
        .flat_map(|l| l.entries.iter().cloned())
        .collect();
    let dev_dir = find_dev_dir(None);
    let (sets, _) = devsets::all_sets(&bundled, dev_dir.as_deref(), 42);
    for s in sets.iter().filter(|s| want.contains(&s.name)) {
        let pos: Vec<_> = s
            .pairs
            .iter()
            .filter(|p| !p.held_aside && p.is_match)
            .collect();
        let mut entries = bundled.clone();
        for (i, p) in pos.iter().enumerate() {
            entries.push(Entry::new("dev", i.to_string(), p.schema, p.a.clone()));
        }
        let m = Matcher::from_entries(entries.clone(), MatchConfig::default());
        let ungated = Matcher::from_entries(
            entries,
            MatchConfig {
                use_model: false,
                ..MatchConfig::default()
            },
        );
        let thr = m.config.threshold;
        let (mut pair_hits, mut screen_hits, mut lost, mut retrieval, mut gate) = (0, 0, 0, 0, 0);
        for (i, p) in pos.iter().enumerate() {
            let (score, _) = m.compare(&p.b, &p.a, p.schema);
            let id = i.to_string();
            let hits = m.screen(&Query::name(p.b.clone()).schema(p.schema));
            let found = hits.iter().any(|h| h.list == "dev" && h.entry_id == id);
            pair_hits += usize::from(score >= thr);
            screen_hits += usize::from(found);
            if score >= thr && !found {
                lost += 1;
                let scored_by = |mm: &Matcher| {
                    mm.screen_with_threshold(&Query::name(p.b.clone()).schema(p.schema), 0.0)
                        .iter()
                        .any(|h| h.list == "dev" && h.entry_id == id)
                };
                let how = if scored_by(&m) {
                    "BELOW"
                } else if scored_by(&ungated) {
                    gate += 1;
                    "GATE"
                } else {
                    retrieval += 1;
                    "RETRIEVAL"
                };
                println!("{} {how} {score:.3} {:?} | {:?}", s.name, p.b, p.a);
            }
        }
        let n = pos.len().max(1) as f64;
        eprintln!(
            "SUMMARY {} dev positives {}: compare recall {:.3}, screen recall {:.3}; accepted by compare, missed by screen {lost}, of which never retrieved {retrieval}, dropped by the person gate (rule score < 0.85) {gate}",
            s.name,
            pos.len(),
            pair_hits as f64 / n,
            screen_hits as f64 / n
        );
    }
    Ok(())
}
