//! The reading rules of issue 16 as specifications, each with examples written for this test
//! (none taken from an evaluation set): the goods named by the head noun decide over materials,
//! components and uses; "parts of" descriptions read as parts; chemical names point to the
//! chapter their shape implies (organic 29, inorganic 28, polymers 39, preparations 38);
//! drugs named by a WHO INN stem in dosage form are medicaments (3004); the confidence of
//! the top answer is a probability that does not claim certainty.

use borderline_hs::reading::{chem_profile, head_noun, reads_as_parts};
use borderline_hs::{text, Classifier};
use std::sync::OnceLock;

fn model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| Classifier::bundled().expect("bundled model builds"))
}

fn heading(d: &str) -> String {
    model().suggest(d, 1)[0].code[..4].to_string()
}

fn head(d: &str) -> Option<String> {
    head_noun(&text::query_segments(d)).map(str::to_string)
}

fn chapter_of(d: &str) -> Option<&'static str> {
    chem_profile(d).chapter_bonus(1.0).first().map(|(c, _)| *c)
}

#[test]
fn the_head_noun_is_the_good_not_its_material_or_component() {
    assert_eq!(
        head("hair dryer with ceramic heating element"),
        Some(text::stem("dryer"))
    );
    assert_eq!(
        head("aluminium bicycle with carbon fork"),
        Some(text::stem("bicycle"))
    );
    assert_eq!(head("cotton canvas tote bag"), Some(text::stem("bag")));
    // "battery powered" names the power source before the good; "powered by" attaches it.
    assert_eq!(
        head("battery powered hammer drill"),
        Some(text::stem("drill"))
    );
    assert_eq!(
        head("hammer drill powered by a lithium battery"),
        Some(text::stem("drill"))
    );
    assert_eq!(head("stainless steel"), None);
}

#[test]
fn goods_first_classification() {
    let cases = [
        ("hair dryer with ceramic heating element", "8516"),
        ("wooden dining chair with cotton seat cushion", "9401"),
        ("umbrella with wooden handle and polyester canopy", "6601"),
        (
            "electric toothbrush with rechargeable lithium battery",
            "8509",
        ),
        ("table lamp with marble base", "9405"),
    ];
    for (d, h) in cases {
        assert_eq!(heading(d), h, "{d}");
    }
}

#[test]
fn parts_of_clauses_read_as_parts() {
    assert!(reads_as_parts("parts of vacuum cleaners: dust container"));
    assert!(reads_as_parts(
        "plastic housing, a part for electric shavers"
    ));
    assert!(reads_as_parts("spare blade for lawn mower"));
    assert!(reads_as_parts("components for wireless headsets"));
    assert!(!reads_as_parts("party dress of polyester"));
    assert!(!reads_as_parts(
        "vacuum cleaner with spare filter bag included"
    ));
}

#[test]
fn parts_go_to_the_parts_subheading() {
    let s = model().suggest("parts of electric shavers: cutting foil", 1);
    assert_eq!(s[0].code, "851090", "{s:?}");
}

#[test]
fn inorganic_names_point_to_chapter_28() {
    for d in [
        "potassium nitrate, technical grade",
        "zinc oxide powder",
        "precipitated calcium carbonate",
        "hydrochloric acid 33% solution",
    ] {
        assert_eq!(chapter_of(d), Some("28"), "{d}");
    }
}

#[test]
fn organic_names_point_to_chapter_29() {
    for d in [
        "ethyl acetate, 99.9% purity",
        "3-chloro-4-methylaniline",
        "sodium citrate dihydrate",
        "methyl methacrylate monomer, CAS 80-62-6",
    ] {
        assert_eq!(chapter_of(d), Some("29"), "{d}");
    }
}

#[test]
fn polymers_and_preparations_point_to_39_and_38() {
    assert_eq!(
        chapter_of("polyvinyl chloride resin, suspension grade"),
        Some("39")
    );
    assert_eq!(
        chapter_of("herbicide preparation based on glyphosate"),
        Some("38")
    );
    assert_eq!(chapter_of("cotton canvas tote bag"), None);
}

#[test]
fn chemical_names_are_classified_in_their_chapter() {
    let cases = [
        ("zinc oxide powder", "2817"),
        ("ethyl acetate, 99.9% purity", "2915"),
        ("sodium citrate dihydrate", "2918"),
        ("polyvinyl chloride resin, suspension grade", "3904"),
    ];
    for (d, h) in cases {
        assert_eq!(heading(d), h, "{d}");
    }
}

#[test]
fn inn_drugs_in_dosage_form_are_medicaments() {
    for d in [
        "atorvastatin calcium tablets 20 mg",
        "amoxicillin capsules 500 mg",
        "metoprolol tartrate film-coated tablets",
        "ibuprofen tablets 200 mg",
    ] {
        assert_eq!(chapter_of(d), Some("30"), "{d}");
        assert_eq!(heading(d), "3004", "{d}");
    }
    // The same substance in bulk is a chemical of chapter 29, not a medicament; calling it a
    // "medication" names its use, not a dosage form (heading 3004 needs measured doses).
    assert_eq!(chapter_of("losartan potassium, bulk powder"), Some("29"));
    assert_eq!(
        chapter_of("sitagliptin phosphate, an antidiabetic medication, supplied as bulk powder"),
        Some("29")
    );
}

#[test]
fn confidence_never_claims_certainty_on_a_plain_description() {
    // A clear description still leaves room for error: the top-label recalibration fitted on
    // the HMRC dev part keeps the top probability below the raw softmax's near-certainty.
    for d in [
        "men's cotton knitted T-shirts",
        "laptop computer 15 inch",
        "cordless drill with lithium battery",
    ] {
        let s = model().suggest(d, 5);
        assert!(s[0].confidence < 0.97, "{d}: {}", s[0].confidence);
        let sum: f64 = s.iter().map(|x| x.confidence).sum();
        assert!(sum <= 1.0 + 1e-9);
        assert!(s.windows(2).all(|w| w[0].confidence >= w[1].confidence));
    }
}

/// Known gaps of the rules above, kept visible (run with `--ignored`): they fail today.
/// * A machine described with its parts ("bicycle with aluminium frame and steel spokes") goes
///   to the parts heading 8714: the goods-first weighting halves the "with" clause but the parts
///   heading's document names the bicycle too.
/// * Element names are fertiliser words: "potassium nitrate" (2834.21) goes to 3105 and a
///   potassium salt of a drug to 3104, although the chemical reading points to 28 / 29 (+1).
#[test]
#[ignore = "known gaps, documented in docs/hs.md"]
fn known_gaps_of_the_reading_rules() {
    assert_eq!(
        heading("bicycle with aluminium frame and steel spokes"),
        "8712"
    );
    assert_eq!(heading("potassium nitrate, technical grade"), "2834");
    assert_eq!(&heading("losartan potassium, bulk powder")[..2], "29");
}
