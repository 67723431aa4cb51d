//! A name to screen is untrusted input (`screen`, `screen --input`, POST /v1/screening/screen,
//! POST /v1/self-check, the party files of `score --parties`). Whatever its text, screening
//! against the bundled lists answers with well-formed hits and never panics: scripts the
//! transliteration reads (Cyrillic, Arabic, Hebrew, Han, kana, Hangul), annotation markers,
//! legal forms glued or alone, digits, ordinals and Roman numerals, and text of no script.
//!
//! The properties, for any name and any schema:
//! * every hit's score is a probability at or above the configured threshold;
//! * hits come in the documented total order (score descending, then entry id, list, entry);
//! * every hit names a list entry and carries its explanation (rule score in [0, 1]);
//! * the same query gives the same hits twice.

use borderline_screening::{ListStore, MatchConfig, Matcher, Query, Schema};
use proptest::prelude::*;
use std::sync::OnceLock;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        Matcher::build(
            &ListStore::bundled().expect("bundled lists load"),
            MatchConfig::default(),
        )
    })
}

/// Pieces of listed names and of the forms the matcher reads specially.
const FRAGMENTS: &[&str] = &[
    "ROSNEFT",
    "Hassan",
    "AL-TURKI,",
    "Abdullah",
    "bin",
    "ibn",
    "Muhammad",
    "GmbH",
    "AcmeGmbH",
    "Sp. z o.o.",
    "OOO",
    "Ltd",
    "LLC",
    "f.k.a.",
    "c/o",
    "ex-",
    "formerly",
    "21st",
    "III",
    "No. 7",
    "MV",
    "IMO 9123456",
    "Trading",
    "Co.",
    "Intl",
    "Qusay",
    "SADDAM",
    "Hussein",
    "AL-TIKRITI",
    "قصي صدام حسين التكريتي",
    "Шамиль",
    "Басаев",
    "محمد",
    "עבדאללה",
    "金正恩",
    "ムスタファエヴァ",
    "김정은",
    "Müller",
    "ΑΘΗΝΑ",
    "‍",
    "🙂",
    "'",
    "-",
    ",",
    "",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        prop::collection::vec((prop::sample::select(FRAGMENTS), "[ ,.\\-]{0,2}"), 0..7).prop_map(
            |parts| parts
                .into_iter()
                .map(|(f, sep)| format!("{f}{sep}"))
                .collect::<String>()
        ),
    ]
}

fn schema() -> impl Strategy<Value = Schema> {
    prop::sample::select(
        &[
            Schema::Unknown,
            Schema::Person,
            Schema::Company,
            Schema::Vessel,
            Schema::Aircraft,
        ][..],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_name_gets_well_formed_hits(text in name(), schema in schema()) {
        let m = matcher();
        let query = Query::name(text.clone()).schema(schema);
        let hits = m.screen(&query);
        let threshold = MatchConfig::default().threshold;
        for h in &hits {
            prop_assert!(
                h.score >= threshold - 1e-12 && h.score <= 1.0,
                "{:?}: score {} outside [{threshold}, 1]", h.entry_name, h.score
            );
            prop_assert!(!h.entry_id.is_empty() && !h.list.is_empty());
            prop_assert!(!h.matched_name.is_empty());
            prop_assert!((0.0..=1.0).contains(&h.explanation.rule_score));
            prop_assert!(!h.explanation.summary().is_empty());
        }
        for pair in hits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let in_order = a.score > b.score
                || (a.score == b.score
                    && (&a.entry_id, &a.list, a.entry_index) < (&b.entry_id, &b.list, b.entry_index));
            prop_assert!(in_order, "{} / {} out of order", a.entry_name, b.entry_name);
        }
        let again = m.screen(&query);
        let key = |hs: &[borderline_screening::Hit]| {
            hs.iter().map(|h| (h.score, h.list.clone(), h.entry_id.clone())).collect::<Vec<_>>()
        };
        prop_assert_eq!(key(&hits), key(&again));
    }
}

/// The fragments above reach listed names, so the order and explanation properties are
/// exercised on real hits, not only on empty answers.
#[test]
fn the_fragments_reach_listed_entries() {
    for (name, schema) in [
        ("ROSNEFT", Schema::Company),
        ("QUSAY SADDAM HUSSEIN AL-TIKRITI", Schema::Person),
        ("قصي صدام حسين التكريتي", Schema::Unknown),
    ] {
        assert!(
            !matcher()
                .screen(&Query::name(name).schema(schema))
                .is_empty(),
            "{name} finds no listed entry"
        );
    }
}
