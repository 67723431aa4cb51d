//! The subheading within its heading (issue 16, ninth pass): three kinds of evidence, all
//! inside the heading (they never move probability from one heading to another).
//!
//! * The legal text of the subheading against its siblings' (`Params::w_sub_legal`): a
//!   query word found in a subheading's own six-digit text counts by how few siblings share
//!   it ("strawberries" is in 0811.10's text and in no sibling's).
//! * The subheading document's length is no longer normalised away (`Params::b_subheading`
//!   0.1): a subheading with many national lines and HMRC rows is not penalised for them.
//! * A prior from the HMRC index part's labels (`Params::w_sub_prior`, off by default,
//!   `Params::with_sub_prior`): which sibling goods usually are when the description does not
//!   say.
//!
//! Descriptions written for these tests (none from the HMRC parts).

mod common;

use borderline_hs::{Classifier, Params};
use common::{build, shipped};
use std::sync::OnceLock;

/// The default with the subheading prior on (`Params::with_sub_prior`).
fn with_prior() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| build(Params::with_sub_prior()))
}

/// The default without the legal-text evidence.
fn without_legal() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        build(Params {
            w_sub_legal: 0.0,
            ..Params::default()
        })
    })
}

/// The default with the subheading documents' length normalised as before and no prior.
fn without_prior() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        build(Params {
            b_subheading: 0.5,
            w_sub_prior: 0.0,
            ..Params::default()
        })
    })
}

fn top(m: &Classifier, d: &str) -> String {
    m.suggest(d, 1)[0].code.clone()
}

/// Words the subheading's own text names decide among the siblings.
const LEGAL: [(&str, &str); 3] = [
    // 0811.10 "strawberries ... frozen", not 0811.90 "n.e.c.".
    ("frozen strawberries", "081110"),
    // 6104.52 "skirts and divided skirts; of cotton", not 6104.22 (ensembles).
    ("women's knitted skirt of cotton", "610452"),
    // 6206.10 "of silk or silk waste", not 6206.40 (man-made fibres).
    ("silk woven blouse for women", "620610"),
];

#[test]
fn the_siblings_legal_text_decides_when_the_description_names_it() {
    for (d, want) in LEGAL {
        assert_eq!(top(shipped(), d), want, "{d}");
    }
}

#[test]
fn without_the_legal_text_the_national_lines_and_rows_outvote_it() {
    let missed = LEGAL
        .iter()
        .filter(|(d, want)| top(without_legal(), d) != *want)
        .count();
    assert!(missed >= 2, "only {missed} of 3 miss without w_sub_legal");
}

/// Goods whose subheading the six-digit texts leave open or name in other words.
const TYPICAL: [(&str, &str); 5] = [
    // 8716.80 other vehicles, not 8716.39 trailers for goods.
    ("wheelbarrow", "871680"),
    // 8903.93 rowing boats of a length not over 7.5 m, not 8903.99 "other".
    ("rowing boat of fibreglass", "890393"),
    // 9506.99 other sports equipment, not 9506.69 balls.
    ("cricket stumps", "950699"),
    // 9015.80 other instruments, not 9015.90 parts.
    ("seismograph", "901580"),
    // 0909.61 seeds of anise ... juniper berries, not crushed or ground (0909.62).
    ("dried juniper berries", "090961"),
];

#[test]
fn typical_siblings_are_read_with_the_prior_and_unnormalised_documents() {
    for (d, want) in TYPICAL {
        assert_eq!(top(with_prior(), d), want, "{d}");
    }
}

#[test]
fn without_the_prior_the_terse_or_residual_sibling_wins() {
    let missed = TYPICAL
        .iter()
        .filter(|(d, want)| top(without_prior(), d) != *want)
        .count();
    assert!(
        missed >= 4,
        "only {missed} of 5 miss without the prior and with b 0.5"
    );
}

#[test]
fn the_sibling_evidence_moves_no_probability_between_headings() {
    let before = build(Params {
        b_subheading: 0.5,
        w_sub_prior: 0.0,
        w_sub_legal: 0.0,
        t_subheading: 1.59,
        cal_sub_a: 0.482,
        cal_sub_b: 0.409,
        ..Params::default()
    });
    for d in [
        "frozen strawberries",
        "wheelbarrow",
        "The merchandise under consideration is a cordless drill powered by a lithium-ion battery.",
        "men's woven trousers of cotton",
    ] {
        let (a, b) = (
            shipped().rank_fields(&[(d, 1.0)]),
            before.rank_fields(&[(d, 1.0)]),
        );
        assert_eq!(a.hs4, b.hs4, "{d}");
        // Each heading's subheadings still sum to at most its probability.
        for (h, p) in a.hs4.iter().take(12) {
            let s: f64 = a
                .hs6
                .iter()
                .filter(|(c, _)| c.starts_with(h.as_str()))
                .map(|(_, q)| q)
                .sum();
            assert!((s - p).abs() < 1e-9, "{d}: {h} {s} vs {p}");
        }
    }
}
