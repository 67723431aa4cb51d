//! Noun adjuncts before the head noun (issue 16, eighth pass; error class "keyword traps").
//! In "cocoa bean roasting machines" the good is a machine; "cocoa bean" says what it
//! processes. Chapter 84 classifies such machines by their function or by the industry they
//! serve, and the words before the head noun should choose *among the headings that name the
//! head noun* (8438, machinery for cocoa), not make a candidate of their own heading (1801,
//! cocoa beans). `Params::w_premodifier` weighs those words at 0.3 in the headings that do not
//! name the head noun; a phrase of more than `premodifier_max_words` words (marketplace titles)
//! and a head noun named by fewer than `premodifier_min_headings` headings are read as before.
//!
//! **Off by default** (`Params::noun_adjuncts` turns it on): its gain on the HMRC dev part held
//! at top-1 on the held-aside part but not in the top 5, and it lost one of the 23 ruling-style
//! items (docs/hs.md, issue 16 eighth pass). The cases are checked with it on.
//!
//! Every description here was written for this file (none is taken from the HMRC parts or an
//! evaluation set). The expected headings follow the heading texts.

use borderline_hs::{Classifier, Params, Vocabulary};
use std::sync::OnceLock;

/// The bundled model with the reading on (`Params::noun_adjuncts`).
fn model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        let vocab = Vocabulary::bundled().expect("bundled vocabulary");
        Classifier::build(vocab, Vec::new(), Params::noun_adjuncts()).expect("model builds")
    })
}

/// The bundled model as shipped: the reading is off by default (`w_premodifier` 1).
fn model_without() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| Classifier::bundled().expect("bundled model builds"))
}

fn top_heading(m: &Classifier, d: &str) -> String {
    m.suggest(d, 1)[0].code[..4].to_string()
}

fn misses(m: &Classifier, cases: &[(&str, &str)]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|&(d, want)| {
            let got = top_heading(m, d);
            (!got.starts_with(want)).then(|| format!("{d:?}: expected {want}, got {got}"))
        })
        .collect()
}

/// Machines named by what they process: the machine's heading, not the processed goods'.
const MACHINES: &[(&str, &str)] = &[
    ("cocoa bean roasting machines", "8438"),
    ("olive oil presses", "8479"),
    ("rice husking machines", "8437"),
    ("tea bag packing machines", "8422"),
    ("coffee bean grading machines", "84"),
];

#[test]
fn machines_named_by_what_they_process_go_to_machine_headings() {
    let m = misses(model(), MACHINES);
    assert!(m.is_empty(), "misses:\n{}", m.join("\n"));
}

#[test]
fn without_the_reading_the_processed_goods_win() {
    // The specification above fails with the reading off (the default): the adjunct's own
    // heading wins.
    let m = misses(model_without(), MACHINES);
    assert!(
        m.len() >= 4,
        "expected the reading to be needed, but only these missed:\n{}",
        m.join("\n")
    );
}

#[test]
fn a_butter_dish_is_not_butter() {
    let got = top_heading(model(), "butter dishes");
    assert!(!got.starts_with("04"), "butter dishes went to {got}");
    assert!(top_heading(model_without(), "butter dishes").starts_with("04"));
}

/// Adjuncts that the head noun's own headings name keep their say there.
#[test]
fn adjuncts_still_choose_among_the_head_nouns_headings() {
    let cases = [
        ("cricket bats", "9506"),
        ("battery chargers", "8504"),
        ("rice cookers", "8516"),
        ("coffee machines", "8516"),
        ("tomato ketchup", "2103"),
        ("potato crisps", "2005"),
        ("tea towels", "6302"),
        ("leather handbags", "4202"),
        ("paint brushes", "9603"),
        ("battery hedge trimmers", "8467"),
    ];
    let m = misses(model(), &cases);
    assert!(m.is_empty(), "misses:\n{}", m.join("\n"));
}

#[test]
fn long_title_phrases_rank_as_before() {
    // More than five words before any break: a marketplace title, whose last word is no
    // reliable head noun; the reading leaves it alone (the probabilities are identical).
    for d in [
        "wireless bluetooth over ear noise cancelling headphones",
        "kids cartoon dinosaur print cotton pyjama set",
    ] {
        let a = model().suggest(d, 5);
        let b = model_without().suggest(d, 5);
        let codes = |s: &[borderline_hs::Suggestion]| {
            s.iter()
                .map(|x| (x.code.clone(), x.confidence))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&a), codes(&b), "{d}");
    }
}

#[test]
fn the_reading_changes_no_probability_sum() {
    let r = model().rank_fields(&[("cocoa bean roasting machines", 1.0)]);
    let sum: f64 = r.hs6.iter().map(|(_, p)| p).sum();
    assert!(
        sum <= 1.0 + 1e-9 && sum > 0.5,
        "top HS6 probabilities sum to {sum}"
    );
}
