//! Ruling-style reading (issue 16): the goods named by the head noun win over the materials,
//! components and power sources a description mentions; chemical names go to the chapter the
//! rules point to; national tariff lines count as evidence for their subheading.

use borderline_hs::Classifier;
use std::sync::OnceLock;

fn model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| Classifier::bundled().expect("bundled model builds"))
}

fn heading(m: &Classifier, d: &str) -> String {
    m.suggest(d, 1)[0].code[..4].to_string()
}

#[test]
fn goods_first_not_the_components_or_materials() {
    let cases = [
        ("cordless drill with lithium battery", "8467"),
        ("wrist watch with leather strap", "9102"),
        ("electric kettle with glass jug", "8516"),
        (
            "The merchandise under consideration is a cordless hammer drill powered by a 20V lithium-ion battery pack",
            "8467",
        ),
        (
            "men's wrist watch with quartz movement, stainless steel case and leather strap",
            "9102",
        ),
    ];
    for (d, h) in cases {
        assert_eq!(heading(model(), d), h, "{d}");
    }
}

#[test]
fn chemical_names_go_to_their_chapter() {
    let cases = [
        ("Sodium acetate trihydrate", "2915"),
        ("Anhydrous sodium sulphate", "2833"),
        ("Polyethylene terephthalate chips in primary form", "3907"),
        ("2,4-Dichlorophenol, CAS 120-83-2", "2908"),
        ("insecticide preparation containing permethrin", "3808"),
        (
            "Valacyclovir hydrochloride tablets, an antiviral medication",
            "3004",
        ),
    ];
    for (d, h) in cases {
        assert_eq!(heading(model(), d), h, "{d}");
    }
}

#[test]
fn national_lines_are_evidence_for_their_subheading() {
    // "Hammer drills" and "battery powered" are words of the US/EU lines under 8467.21, not of
    // the six-digit title ("drills of all kinds").
    let s = model().suggest("battery powered hammer drill", 1);
    assert_eq!(s[0].code, "846721");
}

#[test]
fn a_ruling_paragraph_is_read_from_the_sentence_that_names_the_goods() {
    // Correspondence first, the goods named after "is referred to as", then components and
    // materials in later sentences (which weigh less): the good decides, not its battery.
    let d = "A sample was submitted with your ruling request. The merchandise under \
             consideration is referred to as the ProMax 20V cordless hammer drill, model \
             PM-20. The tool is powered by a rechargeable lithium-ion battery pack and has \
             a plastic housing with a rubber grip.";
    assert_eq!(
        borderline_hs::reading::ruling_head(d),
        Some(borderline_hs::text::stem("drill"))
    );
    assert_eq!(heading(model(), d), "8467", "{d}");
}

/// The bundled parameters with the seventh pass's sentence-weighted query length off (every
/// word of every sentence counts fully in the length that divides the lexical scores).
fn full_length_model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        let params = borderline_hs::Params {
            w_length_sentences: 0.0,
            ..borderline_hs::Params::default()
        };
        let vocab = borderline_hs::Vocabulary::bundled().expect("bundled vocabulary");
        Classifier::build(vocab, Vec::new(), params).expect("model builds")
    })
}

fn top_heading(m: &Classifier, d: &str) -> (String, f64) {
    let r = m.rank_fields(&[(d, 1.0)]);
    r.hs4[0].clone()
}

#[test]
fn correspondence_sentences_do_not_flatten_the_sentence_that_names_the_goods() {
    // Issue 16, seventh pass: words of later sentences count at their sentence weight in the
    // query length, so a ruling's packing and correspondence sentences take less of the
    // confidence the goods sentence earns. Descriptions written for this test.
    let cases = [
        (
            "The merchandise under consideration is a cordless hammer drill.",
            " A sample was submitted with your ruling request. In your letter you state that \
             the goods will be manufactured abroad and shipped in cartons of four units.",
        ),
        (
            "The product is a ceramic coffee mug of stoneware.",
            " The request was returned to you for additional information, which was received \
             by this office on March 3, 2026. Images were provided in lieu of a sample.",
        ),
    ];
    for (goods, boilerplate) in cases {
        let wrapped = format!("{goods}{boilerplate}");
        let (bare_h, bare_p) = top_heading(model(), goods);
        let (new_h, new_p) = top_heading(model(), &wrapped);
        let (old_h, old_p) = top_heading(full_length_model(), &wrapped);
        assert_eq!(new_h, bare_h, "{wrapped}");
        assert_eq!(old_h, bare_h, "{wrapped}");
        // Closer to the confidence of the goods sentence alone than with full length.
        assert!(
            (bare_p - new_p).abs() < (bare_p - old_p).abs(),
            "{wrapped}: bare {bare_p:.3}, sentence-weighted {new_p:.3}, full length {old_p:.3}"
        );
    }
}

#[test]
fn one_sentence_descriptions_rank_the_same_with_or_without_sentence_weighted_length() {
    for d in [
        "cordless drill with lithium battery",
        "men's cotton knitted T-shirts",
        "Polypropylene homopolymer in the form of pellets, used for injection molding",
    ] {
        let a = model().rank_fields(&[(d, 1.0)]);
        let b = full_length_model().rank_fields(&[(d, 1.0)]);
        assert_eq!(a.hs6[..5], b.hs6[..5], "{d}");
    }
}
