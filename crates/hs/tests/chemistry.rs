//! Chemical names as the tariff reads them (issue 16, scope 3), as specifications at the
//! ranking: chapter 29 is arranged by functional group, so a compound named in ruling style
//! ("X (CAS ...) is a ... used as a solvent") goes to the heading of its group, not to the
//! heading of its use ("solvent" → 3814 organic composite solvents, which are mixtures) or of
//! words in its use clause. Examples written for this test (none taken from an evaluation
//! set).

use borderline_hs::Classifier;
use std::sync::OnceLock;

fn model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| Classifier::bundled().expect("bundled model builds"))
}

fn heading(d: &str) -> String {
    model().suggest(d, 1)[0].code[..4].to_string()
}

#[test]
fn a_named_compound_goes_to_the_heading_of_its_functional_group() {
    let cases = [
        (
            "The merchandise under consideration is 2-ethylhexanol (CAS 104-76-7), a clear \
             colorless liquid used as a solvent and in the production of plasticizers.",
            "2905",
        ),
        (
            "Acetonitrile (CAS 75-05-8) is a solvent used in liquid chromatography.",
            "2926",
        ),
        (
            "Tetrahydrofuran (CAS 109-99-9) is a cyclic ether used as a solvent.",
            "2932",
        ),
        (
            "Dimethyl sulfoxide (CAS 67-68-5) is used as a solvent.",
            "2930",
        ),
        (
            "Diethylene glycol monobutyl ether, CAS 112-34-5, a solvent for coatings.",
            "2909",
        ),
        (
            "The product is methyl ethyl ketone (CAS No. 78-93-3), a solvent used in coatings.",
            "2914",
        ),
    ];
    for (d, want) in cases {
        assert_eq!(heading(d), want, "{d}");
    }
}

#[test]
fn polymers_in_primary_forms_are_chapter_39_not_the_machines_that_mould_them() {
    assert_eq!(
        heading("Polypropylene homopolymer in the form of pellets, used for injection molding."),
        "3902"
    );
}

#[test]
fn inorganic_salts_go_by_anion() {
    assert_eq!(
        heading("The product is anhydrous sodium sulfate, a white powder used in detergents."),
        "2833"
    );
    assert_eq!(
        heading("Potassium carbonate is a white granular powder used in glass manufacturing."),
        "2836"
    );
}

#[test]
fn an_ingredient_named_in_a_use_or_composition_clause_does_not_move_the_goods() {
    // The reading only counts the name that is the goods (head noun or subject).
    assert_eq!(
        heading("Moisturizing face cream containing glycerin and cetyl alcohol"),
        "3304"
    );
}

#[test]
fn the_explanation_names_the_chemical_reading() {
    let c = model().classify(
        "Acetonitrile (CAS 75-05-8) is a solvent used in chromatography.",
        3,
    );
    let why = c.explanation.chemical_heading.expect("a chemical reading");
    assert!(why.starts_with("2926: acetonitrile (nitrile"), "{why}");
    assert!(
        c.explanation.summary.contains("heading 2926"),
        "{}",
        c.explanation.summary
    );
    let c = model().classify("Cordless hammer drill with lithium-ion battery", 3);
    assert_eq!(c.explanation.chemical_heading, None);
}

#[test]
fn a_mixture_of_named_compounds_is_not_read_as_one_compound() {
    // Chapter 29 covers separate chemically defined compounds (note 1); a mixture of
    // solvents is a preparation (3814), whatever its components are.
    let d = "A mixture of ethyl acetate and butyl acetate, used as a thinner for lacquers.";
    assert!(model()
        .classify(d, 1)
        .explanation
        .chemical_heading
        .is_none());
    assert_ne!(&heading(d)[..2], "29", "{d}");
}

#[test]
fn drugs_named_without_an_inn_stem_are_drugs_too() {
    // Trivial names carry no INN stem: in bulk they go to the heading of their structure,
    // in measured doses (tablets, capsules, injection) to 3004.
    let cases = [
        ("Acetaminophen USP powder in 25 kg drums", "2924"),
        ("Paracetamol powder in bulk", "2924"),
        ("Caffeine anhydrous powder", "2939"),
        ("Paracetamol 500 mg tablets in blister packs", "3004"),
        ("Aspirin 81 mg chewable tablets", "3004"),
        ("Ibuprofen 200 mg capsules", "3004"),
    ];
    let misses: Vec<String> = cases
        .iter()
        .filter_map(|&(d, h)| {
            let got = heading(d);
            (got != h).then(|| format!("{d:?}: expected {h}, got {got}"))
        })
        .collect();
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}
