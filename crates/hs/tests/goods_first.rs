//! Goods first (issue 16, first error class: "most misses land in the wrong chapter"). A
//! description names a good and says what it is made of, what it contains, what powers it and
//! what it is for. The head noun and the function decide the heading; materials, components,
//! fuels and uses only qualify it. The reverse holds too: when the component *is* the good
//! ("lithium battery for cordless drills"), the component's heading wins.
//!
//! Every description here was written for this file (none is taken from an evaluation set);
//! the expected headings follow the nomenclature's headings and the General Interpretative
//! Rules (GIR 1: headings and notes; GIR 3(b): sets go by the article giving the essential
//! character).

//!
//! The component gate (`Params::w_component` below 1: words of a "with" / "consisting of"
//! clause count fully only in headings that name the head noun) is **off by default**: it fixed
//! these cases but cost three of the 23 ruling-style items measured beside the evaluation
//! (docs/hs.md, fifth pass). The cases that need it are checked with it switched on
//! ([`gated_model`]); the rest hold for the default.

use borderline_hs::{Classifier, Params, Vocabulary};
use std::sync::OnceLock;

fn model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| Classifier::bundled().expect("bundled model builds"))
}

/// The bundled model with the component gate on (`w_component` 0.3, the value of the fifth
/// pass).
fn gated_model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        let params = Params {
            w_component: 0.3,
            ..Params::default()
        };
        let vocab = Vocabulary::bundled().expect("bundled vocabulary");
        Classifier::build(vocab, Vec::new(), params).expect("gated model builds")
    })
}

/// Checks every case with `model` and reports all misses at once (so one run lists what
/// fails).
fn classified_by(model: &Classifier, cases: &[(&str, &str)]) {
    let misses: Vec<String> = cases
        .iter()
        .filter_map(|&(d, h)| {
            let got = model.suggest(d, 1)[0].code[..4].to_string();
            (got != h).then(|| format!("{d:?}: expected {h}, got {got}"))
        })
        .collect();
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}

fn all_classified(cases: &[(&str, &str)]) {
    classified_by(model(), cases)
}

/// The cases the component gate is for (off by default: see the file's doc).
fn classified_with_the_gate(cases: &[(&str, &str)]) {
    classified_by(gated_model(), cases)
}

#[test]
fn machines_and_appliances_are_not_their_power_source_or_parts() {
    classified_with_the_gate(&[
        ("cordless drill with lithium battery", "8467"),
        ("electric kettle with glass jug", "8516"),
        ("remote control toy car with rechargeable battery", "9503"),
        (
            "electric bicycle with lithium-ion battery and aluminium frame",
            "8711",
        ),
        ("smartphone with dual camera and glass back", "8517"),
        ("LED desk lamp with USB charging port", "9405"),
    ]);
}

#[test]
fn articles_are_not_their_material_or_trim() {
    all_classified(&[
        ("wrist watch with leather strap", "9102"),
        (
            "coffee table with tempered glass top and steel legs",
            "9403",
        ),
        ("dining chair made of oak wood", "9401"),
        ("men's shoes with leather uppers and rubber soles", "6403"),
        ("leather belt with metal buckle", "4203"),
        ("sunglasses with plastic frames", "9004"),
        ("ceramic coffee mug with bamboo lid", "6912"),
        ("acoustic guitar with steel strings", "9202"),
    ]);
}

#[test]
fn in_ruling_style_the_named_good_decides_over_its_listed_components() {
    // Once "with", "consisting of", "supported by" attach components, the rest of the sentence
    // lists them; none of them makes its own heading a candidate.
    classified_with_the_gate(&[
        (
            "The article is a digital camera with a lens, a CMOS sensor and a lithium battery.",
            "8525",
        ),
        (
            "The article is a baby monitor with a camera, a speaker and a rechargeable lithium battery.",
            "8525",
        ),
        (
            "The item is a side table consisting of a tempered glass top supported by a powder-coated steel frame.",
            "9403",
        ),
        (
            "The article is a range hood of stainless steel with a fan, filters and LED lights.",
            "8414",
        ),
        (
            "The merchandise is an electric kettle. The kettle has a borosilicate glass jug with a \
             capacity of 1.7 liters, a stainless steel heating plate and a detachable power base.",
            "8516",
        ),
        (
            "The product is a cordless impact wrench. It is powered by an 18-volt lithium-ion \
             battery pack, which is not included. The housing is made of plastic.",
            "8467",
        ),
    ]);
}

#[test]
fn garments_are_not_their_fasteners() {
    all_classified(&[
        (
            "women's knitted cotton hooded sweatshirt with full-length zipper",
            "6110",
        ),
        // Note 1 to chapter 62: woven garments are chapter 62, knitted ones chapter 61.
        (
            "men's woven polyester windbreaker jacket with zip and hood",
            "6201",
        ),
        (
            "The article is a men's jacket of woven nylon fabric with a full front zipper, a \
             hood and insulation of polyester fiberfill.",
            "6201",
        ),
        // Note 9 to chapter 61: garments not identifiable as men's or women's go with the
        // women's and girls' headings.
        (
            "children's knitted cotton trousers with elasticated waist and buttons",
            "6104",
        ),
    ]);
}

#[test]
fn foods_and_preparations_are_not_what_they_contain() {
    all_classified(&[
        ("milk chocolate bar containing hazelnuts", "1806"),
        ("shampoo containing argan oil", "3305"),
        ("canned tuna in olive oil", "1604"),
    ]);
}

#[test]
fn fuels_and_uses_qualify_the_appliance() {
    all_classified(&[
        ("gas barbecue grill fuelled by propane", "7321"),
        ("lawn mower powered by a petrol engine", "8433"),
        ("plastic storage box for food", "3924"),
        ("power adapter for use with laptop computers", "8504"),
    ]);
}

#[test]
fn parts_and_accessories_go_to_the_parts_heading_of_their_machine() {
    all_classified(&[
        ("steering wheel for passenger cars", "8708"),
        ("gear housing, a part of cordless drills", "8467"),
    ]);
}

#[test]
fn when_the_component_is_the_good_its_own_heading_wins() {
    all_classified(&[
        ("lithium-ion battery for cordless drills", "8507"),
        ("slide fastener with plastic teeth for jackets", "9607"),
        ("replacement leather strap for wrist watches", "9113"),
    ]);
}

#[test]
fn sets_go_by_the_article_giving_their_essential_character() {
    all_classified(&[(
        "manicure set in a leather case: nail clippers, cuticle pusher, scissors and nail file",
        "8214",
    )]);
}

/// Heading 8206 is the one heading for sets as such: tools of two or more of headings 8202 to
/// 8205 put up in sets for retail sale (`Params::w_tool_sets`). A set of tools of one heading
/// stays in that heading.
#[test]
fn sets_of_tools_of_several_headings_go_to_8206() {
    all_classified(&[
        (
            "tool set of spanners, screwdrivers and pliers in a plastic carrying case",
            "8206",
        ),
        (
            "The merchandise is a 40-piece tool kit consisting of a hammer, pliers, a hacksaw and assorted screwdrivers, packed in a blow-moulded plastic case for retail sale.",
            "8206",
        ),
        ("screwdriver set with six screwdrivers", "8205"),
        ("socket set with ratchet wrench", "8204"),
        ("cutlery set of spoons, forks and knives", "8215"),
    ]);
}
