//! The screening evaluation sets of `name-matching-dev` against the bundled lists. Skips with a
//! message when `../shared/data/name-matching-dev` is absent.

use borderline_devkit::screening::eval::{find_dev_dir, read_people};
use borderline_screening::{ListStore, MatchConfig, Matcher, Query, Schema};

fn bundled() -> Matcher {
    Matcher::build(
        &ListStore::bundled().expect("bundled lists load"),
        MatchConfig::default(),
    )
}

#[test]
fn un_positives_match_the_un_list_when_dev_data_is_present() {
    let Some(dir) = find_dev_dir(None) else {
        println!("SKIPPED: name-matching-dev not found (../shared/data/name-matching-dev)");
        return;
    };
    let m = bundled();
    let rows = read_people(&dir.join("positives_un_untreated.csv")).expect("readable");
    let found = rows
        .iter()
        .filter(|(n, _)| {
            m.screen(&Query::name(n.clone()).schema(Schema::Person))
                .iter()
                .any(|h| h.list == "un")
        })
        .count();
    let recall = found as f64 / rows.len() as f64;
    assert!(recall >= 0.98, "recall {recall}");
}
