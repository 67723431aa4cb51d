//! A goods description is untrusted input (the `hs suggest` command, POST /v1/hs/suggest, the
//! description check of every scored declaration). Whatever its text, classification answers
//! with well-formed suggestions and never panics: quantities, units and fibre shares that the
//! condition reader (`quantity.rs`) parses are mixed here with numbers it must survive
//! (1e308, negative, 40 digits, full-width digits), emoji, scripts and glued tokens.
//!
//! The properties, for any description:
//! * at most k suggestions, each a six-digit subheading of the bundled nomenclature;
//! * confidences are probabilities, in descending order, summing to at most 1, and no
//!   subheading is more probable than its own heading;
//! * the same description gives the same answer twice (no hidden state between calls).

mod common;

use borderline_hs::Nomenclature;
use common::shipped as classifier;
use proptest::prelude::*;

/// Words and quantities the reader and the vocabulary react to, and text they must survive.
const FRAGMENTS: &[&str] = &[
    "vacuum cleaner",
    "1,200 W",
    "2200w",
    "95.8 % polyester",
    "80% cotton 20% elastane",
    "of a power not exceeding 1,500 W",
    "0.75 l",
    "5 litres",
    "125 cc",
    "1200cc",
    "300 V",
    "200 g/m2",
    "knitted trousers",
    "wine",
    "motorcycle",
    "lithium-ion battery 20 V",
    "１２０ Ｗ",
    "1e308 kg",
    "-5 W",
    "99999999999999999999999999999999999999 V",
    "0.0000000000001 %",
    "%%%",
    "W W W",
    ",,,",
    "., .,",
    "🧵🚲",
    "ﾅｲﾛﾝ",
    "хлопок",
    "棉",
    "nylonpolyestercotton",
    "of cotton, of synthetic fibres",
    "containing by weight 5 % or more of",
    "NaOH",
    "parts",
    "",
];

fn description() -> impl Strategy<Value = String> {
    prop_oneof![
        // Arbitrary printable text (any script).
        "\\PC{0,120}",
        // Fragments glued together with arbitrary separators.
        prop::collection::vec((prop::sample::select(FRAGMENTS), "[ ,;/x\\-]{0,2}"), 0..8).prop_map(
            |parts| parts
                .into_iter()
                .map(|(f, sep)| format!("{f}{sep}"))
                .collect::<String>()
        ),
        // Numbers next to units in any form.
        (
            "-?[0-9]{1,25}([.,][0-9]{0,12})?",
            prop::sample::select(
                &["W", "kW", "V", "cc", "cm3", "l", "ml", "g/m2", "%", "kg", "dtex", "mm"][..]
            ),
            prop::sample::select(FRAGMENTS),
        )
            .prop_map(|(n, unit, words)| format!("{words} {n} {unit}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_description_gets_well_formed_suggestions(text in description()) {
        let k = 5;
        let result = classifier().classify(&text, k);
        let nomenclature = Nomenclature::bundled();
        prop_assert!(result.suggestions.len() <= k);
        let mut previous = f64::INFINITY;
        let mut total = 0.0;
        for s in &result.suggestions {
            prop_assert!(
                s.code.len() == 6 && s.code.bytes().all(|b| b.is_ascii_digit()),
                "not a subheading: {:?}", s.code
            );
            prop_assert!(nomenclature.get(&s.code).is_some(), "{} not in HS 2022", s.code);
            prop_assert!((0.0..=1.0).contains(&s.confidence), "{} confidence {}", s.code, s.confidence);
            prop_assert!(
                (0.0..=1.0).contains(&s.heading_confidence),
                "{} heading confidence {}", s.code, s.heading_confidence
            );
            prop_assert!(
                s.confidence <= s.heading_confidence + 1e-9,
                "{}: {} above its heading's {}", s.code, s.confidence, s.heading_confidence
            );
            prop_assert!(s.confidence <= previous, "suggestions out of order");
            previous = s.confidence;
            total += s.confidence;
        }
        prop_assert!(total <= 1.0 + 1e-9, "confidences sum to {total}");
        prop_assert!(!result.explanation.summary.is_empty());
        let again = classifier().classify(&text, k);
        prop_assert_eq!(result, again);
    }
}

/// The fragments above reach the condition reader: a stated power decides within 8508, so
/// the property runs through the reader's parsing, not only past it.
#[test]
fn the_fragments_reach_the_condition_reader() {
    let result = classifier().classify("vacuum cleaner 2200w", 5);
    assert!(
        !result.explanation.conditions.is_empty(),
        "no condition read: {}",
        result.explanation.summary
    );
}
