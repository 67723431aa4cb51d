//! Reading chemical names to their heading (chapters 28, 29 and 39).
//!
//! Chapter 29 is arranged by **functional group**, not by product: alcohols 2905, ethers
//! 2909, aldehydes 2912, ketones 2914, carboxylic acids and their esters and salts 2915-2918,
//! amines 2921, oxygen-function amino compounds 2922, carboxyamides 2924, nitriles 2926,
//! organo-sulphur compounds 2930, heterocyclic compounds 2932-2934 (by hetero-atom),
//! sulphonamides 2935. A systematic name says which groups a compound carries: the suffix
//! names the principal group ("-ol", "-al", "-one", "-oic acid", "-amine", "-amide",
//! "-nitrile"), the prefixes the others ("hydroxy-", "amino-", "oxo-", "methoxy-", "cyano-",
//! "chloro-") and the ring names the heterocycle ("pyridine", "furan", "thiazole").
//!
//! Note 3 to chapter 29: goods classifiable in two or more headings go to the heading
//! *last* in numerical order. So a compound's heading is the largest heading its groups
//! point to, with the chapter's own composite headings: carboxylic acids with an additional
//! oxygen function are 2918, amino compounds with an oxygen function 2922; halogenated,
//! sulphonated, nitrated or nitrosated derivatives stay in their parent's heading (2903 /
//! 2904 only for hydrocarbons); esters and salts go with their acid ("ethyl acetate" and
//! "sodium acetate" are 2915).
//!
//! Inorganic salts (chapter 28) are arranged by anion (chlorides 2827, sulphates 2833,
//! carbonates 2836, ...); polymers in primary forms (chapter 39) by monomer.
//!
//! The reader only answers for words it can segment almost completely into chemical
//! morphemes (so "proposal", "phenomenal" or "telephone" are not read as an aldehyde, an
//! aldehyde and a ketone), or for the chemical words of the tariff itself ("ketone",
//! "acetate", "sulphate").

use crate::text;

/// What a morpheme says about a compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum M {
    /// Multipliers, locant words and linking vowels: no information.
    Glue,
    /// Saturation and valence endings ("an", "ene", "yl").
    Sat,
    /// An acyclic carbon chain ("meth", "eth", "prop", ...).
    Chain,
    /// A carbocyclic parent ("cyclo", "benz", "phen", "naphth").
    Ring,
    /// An aromatic hydroxy compound ("phenol", "cresol", "naphthol").
    Phenol,
    /// Halogen, nitro, nitroso or sulpho substituent (a derivative of its parent).
    Halo,
    Nitro,
    Sulfo,
    /// Functional groups (their heading).
    Alcohol,
    Hydroxy,
    Ether,
    Epoxide,
    Acetal,
    Aldehyde,
    Ketone,
    Acid,
    /// Acid with a fixed class (trivial names): saturated acyclic mono (2915), unsaturated or
    /// cyclic mono (2916), poly (2917), with other oxygen function (2918).
    Acid15,
    Acid16,
    Acid17,
    Acid18,
    PhosEster,
    InorgEster,
    /// Amino acids by trivial name (2922, oxygen-function amino compounds).
    AminoAcid,
    Amine,
    Quat,
    Amide,
    Imide,
    Nitrile,
    Diazo,
    Hydrazine,
    Isocyanate,
    Sulphur,
    OrganoOther,
    /// Heterocycles by hetero-atom: oxygen only (2932), nitrogen only (2933), others (2934).
    HetO,
    HetN,
    HetX,
    Sulfonamide,
}

/// Morphemes (folded, letters only). Longer ones win at the same position.
const LEXICON: &[(&str, M)] = &[
    // glue
    ("mono", M::Glue),
    ("di", M::Glue),
    ("tri", M::Glue),
    ("tetra", M::Glue),
    ("penta", M::Glue),
    ("hexa", M::Glue),
    ("hepta", M::Glue),
    ("octa", M::Glue),
    ("bis", M::Glue),
    ("tris", M::Glue),
    ("tetrakis", M::Glue),
    ("iso", M::Glue),
    ("neo", M::Glue),
    ("tert", M::Glue),
    ("sec", M::Glue),
    ("hydro", M::Glue),
    ("dehydro", M::Glue),
    ("per", M::Glue),
    ("a", M::Glue),
    ("o", M::Glue),
    ("e", M::Glue),
    ("ylidene", M::Sat),
    ("ylene", M::Sat),
    ("yl", M::Sat),
    ("ane", M::Sat),
    ("an", M::Sat),
    ("ene", M::Sat),
    ("en", M::Sat),
    ("yne", M::Sat),
    ("yn", M::Sat),
    ("adiene", M::Sat),
    ("diene", M::Sat),
    ("idene", M::Sat),
    ("ium", M::Sat),
    ("ide", M::Sat),
    // chains
    ("meth", M::Chain),
    ("acet", M::Chain),
    ("form", M::Chain),
    ("eth", M::Chain),
    ("prop", M::Chain),
    ("but", M::Chain),
    ("pent", M::Chain),
    ("hex", M::Chain),
    ("hept", M::Chain),
    ("oct", M::Chain),
    ("non", M::Chain),
    ("dec", M::Chain),
    ("undec", M::Chain),
    ("dodec", M::Chain),
    ("tridec", M::Chain),
    ("tetradec", M::Chain),
    ("hexadec", M::Chain),
    ("octadec", M::Chain),
    ("eicos", M::Chain),
    ("vinyl", M::Chain),
    ("allyl", M::Chain),
    ("lauryl", M::Chain),
    ("cetyl", M::Chain),
    ("stearyl", M::Chain),
    ("oleyl", M::Chain),
    ("isoprene", M::Chain),
    // carbocycles
    ("cyclo", M::Ring),
    ("benz", M::Ring),
    ("benzo", M::Ring),
    ("benzene", M::Ring),
    ("phen", M::Ring),
    ("phenyl", M::Ring),
    ("tolu", M::Ring),
    ("tolyl", M::Ring),
    ("xyl", M::Ring),
    ("naphth", M::Ring),
    ("anthr", M::Ring),
    ("anthrac", M::Ring),
    ("styr", M::Ring),
    ("cumene", M::Ring),
    ("mesityl", M::Ring),
    ("inden", M::Ring),
    ("fluoren", M::Ring),
    ("trityl", M::Ring),
    ("adamant", M::Ring),
    ("camph", M::Ring),
    ("menth", M::Ring),
    ("terpin", M::Ring),
    ("pinene", M::Ring),
    ("limonene", M::Ring),
    // aromatic hydroxy compounds (2907)
    ("phenol", M::Phenol),
    ("cresol", M::Phenol),
    ("xylenol", M::Phenol),
    ("naphthol", M::Phenol),
    ("catechol", M::Phenol),
    ("resorcinol", M::Phenol),
    ("hydroquinone", M::Phenol),
    ("thymol", M::Phenol),
    ("bisphenol", M::Phenol),
    ("pyrogallol", M::Phenol),
    // derivatives
    ("chloro", M::Halo),
    ("bromo", M::Halo),
    ("fluoro", M::Halo),
    ("iodo", M::Halo),
    ("chlor", M::Halo),
    ("fluor", M::Halo),
    ("brom", M::Halo),
    ("nitro", M::Nitro),
    ("nitroso", M::Nitro),
    ("sulfo", M::Sulfo),
    ("sulpho", M::Sulfo),
    ("sulfonic", M::Sulfo),
    ("sulphonic", M::Sulfo),
    ("sulfonate", M::Sulfo),
    ("sulphonate", M::Sulfo),
    // alcohols (suffix after a chain or ring, or polyols)
    ("anol", M::Alcohol),
    ("enol", M::Alcohol),
    ("diol", M::Alcohol),
    ("triol", M::Alcohol),
    ("tetrol", M::Alcohol),
    ("alcohol", M::Alcohol),
    ("glycol", M::Alcohol),
    ("glycerol", M::Alcohol),
    ("glycerin", M::Alcohol),
    ("glycerine", M::Alcohol),
    ("sorbitol", M::Alcohol),
    ("mannitol", M::Alcohol),
    ("xylitol", M::Alcohol),
    ("erythritol", M::Alcohol),
    ("pentaerythritol", M::Alcohol),
    ("inositol", M::Alcohol),
    ("hydroxy", M::Hydroxy),
    ("hydroxyl", M::Hydroxy),
    // ethers, epoxides, acetals
    ("ether", M::Ether),
    ("oxy", M::Ether),
    ("methoxy", M::Ether),
    ("ethoxy", M::Ether),
    ("propoxy", M::Ether),
    ("butoxy", M::Ether),
    ("phenoxy", M::Ether),
    ("anisole", M::Ether),
    ("oxirane", M::Epoxide),
    ("epoxy", M::Epoxide),
    ("epoxide", M::Epoxide),
    ("glycidyl", M::Epoxide),
    ("acetal", M::Acetal),
    // aldehydes, ketones
    ("anal", M::Aldehyde),
    ("enal", M::Aldehyde),
    ("dial", M::Aldehyde),
    ("aldehyde", M::Aldehyde),
    ("carbaldehyde", M::Aldehyde),
    ("carboxaldehyde", M::Aldehyde),
    ("formyl", M::Aldehyde),
    ("vanillin", M::Aldehyde),
    ("anone", M::Ketone),
    ("enone", M::Ketone),
    ("dione", M::Ketone),
    ("trione", M::Ketone),
    ("ketone", M::Ketone),
    ("keto", M::Ketone),
    ("oxo", M::Ketone),
    ("quinone", M::Ketone),
    ("one", M::Ketone),
    ("phenone", M::Ketone),
    ("acetone", M::Ketone),
    ("camphor", M::Ketone),
    // carboxylic acids, their esters, salts, halides and anhydrides
    ("oic", M::Acid),
    ("anoic", M::Acid),
    ("enoic", M::Acid16),
    ("dioic", M::Acid17),
    ("carboxylic", M::Acid),
    ("dicarboxylic", M::Acid17),
    ("tricarboxylic", M::Acid17),
    ("carboxylate", M::Acid),
    ("carboxy", M::Acid),
    ("oate", M::Acid),
    ("anoate", M::Acid),
    ("enoate", M::Acid16),
    ("dioate", M::Acid17),
    ("oyl", M::Acid),
    ("formic", M::Acid15),
    ("formate", M::Acid15),
    ("acetic", M::Acid15),
    ("acetate", M::Acid15),
    ("acetyl", M::Acid15),
    ("propionic", M::Acid15),
    ("propionate", M::Acid15),
    ("butyric", M::Acid15),
    ("butyrate", M::Acid15),
    ("valeric", M::Acid15),
    ("caproic", M::Acid15),
    ("caprylic", M::Acid15),
    ("capric", M::Acid15),
    ("lauric", M::Acid15),
    ("laurate", M::Acid15),
    ("myristic", M::Acid15),
    ("myristate", M::Acid15),
    ("palmitic", M::Acid15),
    ("palmitate", M::Acid15),
    ("stearic", M::Acid15),
    ("stearate", M::Acid15),
    ("pivalic", M::Acid15),
    ("acrylic", M::Acid16),
    ("acrylate", M::Acid16),
    ("methacrylic", M::Acid16),
    ("methacrylate", M::Acid16),
    ("crotonic", M::Acid16),
    ("oleic", M::Acid16),
    ("oleate", M::Acid16),
    ("linoleic", M::Acid16),
    ("sorbic", M::Acid16),
    ("sorbate", M::Acid16),
    ("benzoic", M::Acid16),
    ("benzoate", M::Acid16),
    ("cinnamic", M::Acid16),
    ("cinnamate", M::Acid16),
    ("oxalic", M::Acid17),
    ("oxalate", M::Acid17),
    ("malonic", M::Acid17),
    ("malonate", M::Acid17),
    ("succinic", M::Acid17),
    ("succinate", M::Acid17),
    ("glutaric", M::Acid17),
    ("adipic", M::Acid17),
    ("adipate", M::Acid17),
    ("azelaic", M::Acid17),
    ("sebacic", M::Acid17),
    ("sebacate", M::Acid17),
    ("maleic", M::Acid17),
    ("maleate", M::Acid17),
    ("fumaric", M::Acid17),
    ("fumarate", M::Acid17),
    ("itaconic", M::Acid17),
    ("phthalic", M::Acid17),
    ("phthalate", M::Acid17),
    ("terephthalic", M::Acid17),
    ("terephthalate", M::Acid17),
    ("trimellitic", M::Acid17),
    ("lactic", M::Acid18),
    ("lactate", M::Acid18),
    ("citric", M::Acid18),
    ("citrate", M::Acid18),
    ("tartaric", M::Acid18),
    ("tartrate", M::Acid18),
    ("malic", M::Acid18),
    ("malate", M::Acid18),
    ("gluconic", M::Acid18),
    ("gluconate", M::Acid18),
    ("glycolic", M::Acid18),
    ("glycolate", M::Acid18),
    ("salicylic", M::Acid18),
    ("salicylate", M::Acid18),
    ("gallic", M::Acid18),
    ("gallate", M::Acid18),
    ("mandelic", M::Acid18),
    ("pyruvic", M::Acid18),
    ("pyruvate", M::Acid18),
    ("levulinic", M::Acid18),
    ("glyoxylic", M::Acid18),
    ("anisic", M::Acid18),
    // esters of inorganic acids (with an organic part)
    ("phosphate", M::PhosEster),
    ("phosphoric", M::PhosEster),
    ("phosphite", M::InorgEster),
    ("thiophosphate", M::InorgEster),
    ("sulfate", M::InorgEster),
    ("sulphate", M::InorgEster),
    ("carbonate", M::InorgEster),
    ("nitrate", M::InorgEster),
    // nitrogen functions
    ("amine", M::Amine),
    ("amino", M::Amine),
    ("amin", M::Amine),
    ("aniline", M::Amine),
    ("anilino", M::Amine),
    ("toluidine", M::Amine),
    ("glycine", M::AminoAcid),
    ("alanine", M::AminoAcid),
    ("valine", M::AminoAcid),
    ("leucine", M::AminoAcid),
    ("isoleucine", M::AminoAcid),
    ("serine", M::AminoAcid),
    ("threonine", M::AminoAcid),
    ("lysine", M::AminoAcid),
    ("glutamic", M::AminoAcid),
    ("glutamate", M::AminoAcid),
    ("aspartic", M::AminoAcid),
    ("aspartate", M::AminoAcid),
    ("tyrosine", M::AminoAcid),
    ("phenylalanine", M::AminoAcid),
    ("sarcosine", M::AminoAcid),
    ("ammonium", M::Quat),
    ("choline", M::Quat),
    ("betaine", M::Quat),
    ("amide", M::Amide),
    ("amido", M::Amide),
    ("anilide", M::Amide),
    ("carboxamide", M::Amide),
    ("carbamate", M::Amide),
    ("carbamoyl", M::Amide),
    ("carbamide", M::Amide),
    ("urea", M::Amide),
    ("ureido", M::Amide),
    ("imide", M::Imide),
    ("imido", M::Imide),
    ("imine", M::Imide),
    ("imino", M::Imide),
    ("amidine", M::Imide),
    ("guanidine", M::Imide),
    ("nitrile", M::Nitrile),
    ("carbonitrile", M::Nitrile),
    ("cyano", M::Nitrile),
    ("cyanide", M::Nitrile),
    ("diazo", M::Diazo),
    ("diazonium", M::Diazo),
    ("azoxy", M::Diazo),
    ("hydrazine", M::Hydrazine),
    ("hydrazide", M::Hydrazine),
    ("hydrazone", M::Hydrazine),
    ("hydrazino", M::Hydrazine),
    ("oxime", M::Hydrazine),
    ("hydroxylamine", M::Hydrazine),
    ("isocyanate", M::Isocyanate),
    ("isocyanato", M::Isocyanate),
    // organo-sulphur
    ("thio", M::Sulphur),
    ("thiol", M::Sulphur),
    ("mercapto", M::Sulphur),
    ("sulfide", M::Sulphur),
    ("sulphide", M::Sulphur),
    ("disulfide", M::Sulphur),
    ("sulfoxide", M::Sulphur),
    ("sulphoxide", M::Sulphur),
    ("sulfone", M::Sulphur),
    ("sulphone", M::Sulphur),
    ("sulfinyl", M::Sulphur),
    ("sulfonyl", M::Sulphur),
    ("sulphonyl", M::Sulphur),
    ("thiocyanate", M::Sulphur),
    ("thiuram", M::Sulphur),
    ("xanthate", M::Sulphur),
    ("methionine", M::Sulphur),
    ("cysteine", M::Sulphur),
    ("cystine", M::Sulphur),
    // other organo-inorganic
    ("silane", M::OrganoOther),
    ("silyl", M::OrganoOther),
    ("siloxane", M::OrganoOther),
    ("silanol", M::OrganoOther),
    ("phosphonic", M::OrganoOther),
    ("phosphonate", M::OrganoOther),
    ("phosphine", M::OrganoOther),
    ("phosphonium", M::OrganoOther),
    ("phosphinic", M::OrganoOther),
    ("stannane", M::OrganoOther),
    ("stannyl", M::OrganoOther),
    ("boronic", M::OrganoOther),
    ("ferrocene", M::OrganoOther),
    // heterocycles: oxygen only
    ("furan", M::HetO),
    ("furyl", M::HetO),
    ("furfur", M::HetO),
    ("pyran", M::HetO),
    ("dioxane", M::HetO),
    ("dioxan", M::HetO),
    ("dioxol", M::HetO),
    ("dioxolane", M::HetO),
    ("oxolane", M::HetO),
    ("oxetane", M::HetO),
    ("lactone", M::HetO),
    ("lactide", M::HetO),
    ("olide", M::HetO),
    ("coumarin", M::HetO),
    ("chromen", M::HetO),
    ("chroman", M::HetO),
    ("xanthen", M::HetO),
    ("dioxin", M::HetO),
    ("safrole", M::HetO),
    ("piperonal", M::HetO),
    // nitrogen only
    ("pyrrol", M::HetN),
    ("pyrrole", M::HetN),
    ("pyrrolidin", M::HetN),
    ("pyrrolidine", M::HetN),
    ("pyrrolidone", M::HetN),
    ("pyridin", M::HetN),
    ("pyridine", M::HetN),
    ("pyridyl", M::HetN),
    ("piperidin", M::HetN),
    ("piperidine", M::HetN),
    ("piperidyl", M::HetN),
    ("pyrimidin", M::HetN),
    ("pyrimidine", M::HetN),
    ("pyrazin", M::HetN),
    ("pyrazine", M::HetN),
    ("piperazin", M::HetN),
    ("piperazine", M::HetN),
    ("pyrazol", M::HetN),
    ("pyrazole", M::HetN),
    ("imidazol", M::HetN),
    ("imidazole", M::HetN),
    ("triazol", M::HetN),
    ("triazole", M::HetN),
    ("tetrazol", M::HetN),
    ("tetrazole", M::HetN),
    ("triazin", M::HetN),
    ("triazine", M::HetN),
    ("indol", M::HetN),
    ("indole", M::HetN),
    ("indazol", M::HetN),
    ("quinolin", M::HetN),
    ("quinoline", M::HetN),
    ("quinazolin", M::HetN),
    ("quinoxalin", M::HetN),
    ("carbazol", M::HetN),
    ("carbazole", M::HetN),
    ("acridin", M::HetN),
    ("purin", M::HetN),
    ("purine", M::HetN),
    ("pteridin", M::HetN),
    ("azepin", M::HetN),
    ("diazepin", M::HetN),
    ("azetidin", M::HetN),
    ("aziridin", M::HetN),
    ("pyridazin", M::HetN),
    ("hydantoin", M::HetN),
    ("benzimidazol", M::HetN),
    ("lactam", M::HetN),
    ("caprolactam", M::HetN),
    ("melamine", M::HetN),
    ("pyrazolone", M::HetN),
    ("conazole", M::HetN),
    // other hetero-atoms, or both oxygen and nitrogen
    ("thiophen", M::HetX),
    ("thiophene", M::HetX),
    ("thienyl", M::HetX),
    ("thiazol", M::HetX),
    ("thiazole", M::HetX),
    ("thiazin", M::HetX),
    ("thiazine", M::HetX),
    ("oxazol", M::HetX),
    ("oxazole", M::HetX),
    ("isoxazol", M::HetX),
    ("oxazin", M::HetX),
    ("oxazine", M::HetX),
    ("oxadiazol", M::HetX),
    ("thiadiazol", M::HetX),
    ("morpholin", M::HetX),
    ("morpholine", M::HetX),
    ("phenothiazin", M::HetX),
    ("benzothiazol", M::HetX),
    ("thiazolidin", M::HetX),
    ("oxazolidin", M::HetX),
    ("thiiran", M::HetX),
    ("nucleic", M::HetX),
    ("sulfonamide", M::Sulfonamide),
    ("sulphonamide", M::Sulfonamide),
    ("sulfamoyl", M::Sulfonamide),
    ("sulfanilamide", M::Sulfonamide),
];

/// Trivial names of cyclic alcohols (their own groups).
const CYCLIC_TRIVIAL: &[(&str, &[M])] = &[
    ("menthol", &[M::Ring, M::Alcohol]),
    ("inositol", &[M::Ring, M::Alcohol]),
    ("terpineol", &[M::Ring, M::Alcohol]),
    ("cholesterol", &[M::Ring, M::Alcohol]),
];

fn lexicon() -> &'static crate::index::FastMap<&'static str, M> {
    static L: std::sync::OnceLock<crate::index::FastMap<&'static str, M>> =
        std::sync::OnceLock::new();
    L.get_or_init(|| LEXICON.iter().copied().collect())
}

const MAX_MORPHEME: usize = 15;

/// Segments a word (lower-case ASCII letters) into morphemes, covering as many letters as
/// possible, then with as few morphemes as possible, leaving at most `budget` letters
/// uncovered (`None` when that is impossible: most ordinary words stop at their first
/// letters). Returns the morphemes and the number of letters left uncovered.
fn segment(word: &str, budget: usize) -> Option<(Vec<M>, usize)> {
    let n = word.len();
    // best[i] = (uncovered, pieces, back pointer, morpheme) for the prefix of length i.
    let mut best: Vec<(usize, usize, usize, Option<M>)> = vec![(usize::MAX, 0, 0, None); n + 1];
    best[0] = (0, 0, 0, None);
    let lex = lexicon();
    for i in 0..n {
        let (u, p, _, _) = best[i];
        if u == usize::MAX {
            continue;
        }
        // Skip one letter (uncovered).
        let cand = (u + 1, p + 1, i, None);
        if cand.0 <= budget && (cand.0, cand.1) < (best[i + 1].0, best[i + 1].1) {
            best[i + 1] = cand;
        }
        for len in 1..=MAX_MORPHEME.min(n - i) {
            if let Some(&m) = word.get(i..i + len).and_then(|s| lex.get(s)) {
                let cand = (u, p + 1, i, Some(m));
                if (cand.0, cand.1) < (best[i + len].0, best[i + len].1) {
                    best[i + len] = cand;
                }
            }
        }
    }
    if best[n].0 == usize::MAX {
        return None;
    }
    let mut out = Vec::new();
    let mut i = n;
    while i > 0 {
        let (_, _, prev, m) = best[i];
        if let Some(m) = m {
            out.push(m);
        }
        i = prev;
    }
    out.reverse();
    Some((out, best[n].0))
}

/// Morphemes of one chemical word when it reads as chemistry: a chemical class word of the
/// lexicon ("ketone", "acetate"), an alkyl or hydrocarbon word, or a name covered by
/// morphemes with at least two that carry information.
fn read_word(word: &str) -> Option<Vec<M>> {
    if word.len() < 5 || !word.bytes().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if let Some(&(_, ms)) = CYCLIC_TRIVIAL.iter().find(|(w, _)| *w == word) {
        return Some(ms.to_vec());
    }
    let lex = lexicon();
    // Plurals of class words: "ethers", "ketones", "acetates".
    let single = word.strip_suffix('s').filter(|s| lex.contains_key(s));
    if let Some(&m) = lex.get(word).or_else(|| single.and_then(|s| lex.get(s))) {
        if !matches!(m, M::Glue | M::Sat) {
            return Some(vec![m]);
        }
    }
    let (mut ms, uncovered) = segment(word, word.len() / 12)?;
    // A ring-substituted acetic or other saturated acid is a cyclic monocarboxylic acid
    // ("phenylacetic acid", 2916); an ester or salt in a separate word is not
    // ("phenyl acetate", 2915).
    if ms.contains(&M::Ring) {
        for m in ms.iter_mut() {
            if *m == M::Acid15 {
                *m = M::Acid16;
            }
        }
    }
    let core = ms.iter().filter(|m| !matches!(m, M::Glue | M::Sat)).count();
    // Alkyl, aryl and hydrocarbon words: "methyl", "monobutyl", "phenyl", "toluene".
    let alkyl = uncovered == 0
        && core >= 1
        && ms
            .iter()
            .all(|m| matches!(m, M::Glue | M::Sat | M::Chain | M::Ring))
        && ["yl", "ylene", "ane", "ene", "yne"]
            .iter()
            .any(|s| word.ends_with(s));
    if alkyl {
        return Some(ms);
    }
    // Systematic names: every letter covered (one letter in twelve may be left in long
    // names), and at least two morphemes that carry information.
    // A multiplied class word ("diisocyanate", "triacetate") is one morpheme and glue.
    let multiplied = uncovered == 0 && core == 1 && word.len() >= 7;
    if word.len() < 6 || (core < 2 && !multiplied) {
        return None;
    }
    Some(ms)
}

/// The common cations of inorganic salts, which the chemistry profile of `reading` counts too.
pub(crate) const CATIONS: &[&str] = &[
    "sodium",
    "potassium",
    "calcium",
    "magnesium",
    "aluminium",
    "aluminum",
    "ammonium",
    "barium",
    "lithium",
    "zinc",
    "copper",
    "ferric",
    "ferrous",
    "iron",
    "manganese",
    "nickel",
    "cobalt",
    "chromium",
    "titanium",
    "strontium",
    "silver",
    "lead",
    "tin",
    "zirconium",
    "cerium",
    "bismuth",
    "cupric",
    "cuprous",
];

/// Further cations read here only (rarer metals, non-metals, "disodium"-type words): with
/// [`CATIONS`], every word that can name the cation of a salt.
const MORE_CATIONS: &[&str] = &[
    "stannous",
    "stannic",
    "cesium",
    "caesium",
    "rubidium",
    "vanadium",
    "molybdenum",
    "tungsten",
    "antimony",
    "cadmium",
    "mercury",
    "hydrogen",
    "gold",
    "platinum",
    "palladium",
    "rhodium",
    "iridium",
    "osmium",
    "ruthenium",
    "mercuric",
    "mercurous",
    "lanthanum",
    "neodymium",
    "yttrium",
    "scandium",
    "europium",
    "phosphorus",
    "phosphorous",
    "sulfur",
    "sulphur",
    "silicon",
    "boron",
    "arsenic",
    "selenium",
    "monosodium",
    "disodium",
    "trisodium",
    "monopotassium",
    "dipotassium",
    "tripotassium",
    "monocalcium",
    "dicalcium",
    "tricalcium",
    "monoammonium",
    "diammonium",
];

fn is_cation(w: &str) -> bool {
    CATIONS.contains(&w) || MORE_CATIONS.contains(&w)
}

/// Inorganic anions and their chapter-28 heading (a salt of a metal or ammonium).
const ANION_HEADINGS: &[(&str, &str)] = &[
    ("fluoride", "2826"),
    ("fluorosilicate", "2826"),
    ("chloride", "2827"),
    ("bromide", "2827"),
    ("iodide", "2827"),
    ("oxychloride", "2827"),
    ("hypochlorite", "2828"),
    ("chlorite", "2828"),
    ("chlorate", "2829"),
    ("perchlorate", "2829"),
    ("bromate", "2829"),
    ("iodate", "2829"),
    ("sulfide", "2830"),
    ("sulphide", "2830"),
    ("dithionite", "2831"),
    ("sulfoxylate", "2831"),
    ("sulfite", "2832"),
    ("sulphite", "2832"),
    ("thiosulfate", "2832"),
    ("thiosulphate", "2832"),
    ("metabisulfite", "2832"),
    ("metabisulphite", "2832"),
    ("bisulfite", "2832"),
    ("sulfate", "2833"),
    ("sulphate", "2833"),
    ("bisulfate", "2833"),
    ("persulfate", "2833"),
    ("alum", "2833"),
    ("nitrite", "2834"),
    ("nitrate", "2834"),
    ("phosphinate", "2835"),
    ("phosphonate", "2835"),
    ("phosphate", "2835"),
    ("polyphosphate", "2835"),
    ("pyrophosphate", "2835"),
    ("tripolyphosphate", "2835"),
    ("carbonate", "2836"),
    ("bicarbonate", "2836"),
    ("cyanide", "2837"),
    ("ferrocyanide", "2837"),
    ("silicate", "2839"),
    ("borate", "2840"),
    ("perborate", "2840"),
    ("tetraborate", "2840"),
    ("chromate", "2841"),
    ("dichromate", "2841"),
    ("permanganate", "2841"),
    ("manganate", "2841"),
    ("molybdate", "2841"),
    ("tungstate", "2841"),
    ("aluminate", "2841"),
    ("titanate", "2841"),
    ("vanadate", "2841"),
    ("zirconate", "2841"),
    ("thiocyanate", "2842"),
    ("selenate", "2842"),
    ("arsenate", "2842"),
    ("carbide", "2849"),
    ("hydride", "2850"),
    ("nitride", "2850"),
    ("azide", "2850"),
    ("silicide", "2850"),
    ("boride", "2850"),
    ("peroxide", "2847"),
];

/// Oxides and hydroxides have headings by metal.
fn oxide_heading(cation: &str, hydroxide: bool) -> &'static str {
    match cation {
        "sodium" | "potassium" => "2815",
        "magnesium" | "barium" | "strontium" => "2816",
        "zinc" => "2817",
        "aluminium" | "aluminum" => "2818",
        "chromium" => "2819",
        "manganese" => "2820",
        "iron" | "ferric" | "ferrous" => "2821",
        "cobalt" => "2822",
        "titanium" => "2823",
        "lead" => "2824",
        "calcium" if !hydroxide => "2825",
        _ => "2825",
    }
}

/// Inorganic acids and other named inorganic compounds.
const INORGANIC_NAMED: &[(&str, &str, &str)] = &[
    ("hydrochloric", "acid", "2806"),
    ("sulfuric", "acid", "2807"),
    ("sulphuric", "acid", "2807"),
    ("nitric", "acid", "2808"),
    ("phosphoric", "acid", "2809"),
    ("boric", "acid", "2810"),
    ("hydrofluoric", "acid", "2811"),
    ("carbon", "dioxide", "2811"),
    ("silicon", "dioxide", "2811"),
    ("hydrogen", "peroxide", "2847"),
    ("hydrogen", "cyanide", "2811"),
    ("hydrogen", "chloride", "2806"),
];

/// Polymers by monomer (chapter 39, primary forms).
const POLYMER_HEADINGS: &[(&str, &str)] = &[
    ("polyethylene", "3901"),
    ("polyethylen", "3901"),
    ("polythene", "3901"),
    ("hdpe", "3901"),
    ("ldpe", "3901"),
    ("lldpe", "3901"),
    ("polypropylene", "3902"),
    ("polypropylen", "3902"),
    ("polyisobutylene", "3902"),
    ("polystyrene", "3903"),
    ("styrene", "3903"),
    ("polyvinylchloride", "3904"),
    ("pvc", "3904"),
    ("polyvinyl", "3905"),
    ("polymethylmethacrylate", "3906"),
    ("pmma", "3906"),
    ("polyacrylate", "3906"),
    ("polyacrylamide", "3906"),
    ("acrylic", "3906"),
    ("polyacetal", "3907"),
    ("polyoxymethylene", "3907"),
    ("polyether", "3907"),
    ("epoxide", "3907"),
    ("epoxy", "3907"),
    ("polycarbonate", "3907"),
    ("polyester", "3907"),
    ("polyethyleneterephthalate", "3907"),
    ("pet", "3907"),
    ("polylactic", "3907"),
    ("polyamide", "3908"),
    ("nylon", "3908"),
    ("polyurethane", "3909"),
    ("phenolic", "3909"),
    ("melamine", "3909"),
    ("urea", "3909"),
    ("silicone", "3910"),
    ("polysiloxane", "3910"),
    ("polydimethylsiloxane", "3910"),
    ("cellulose", "3912"),
];

/// Words that put a polymer in its primary forms (note 6 to chapter 39).
const PRIMARY_FORMS: &[&str] = &[
    "pellets",
    "pellet",
    "granules",
    "granular",
    "granulate",
    "powder",
    "flakes",
    "chips",
    "resin",
    "resins",
    "dispersion",
    "emulsion",
    "latex",
    "solution",
    "primary",
    "beads",
    "homopolymer",
    "copolymer",
    "liquid",
    "paste",
    "lumps",
    "blocks",
];

/// Is this stemmed head noun a form word ("PET *chips*", "polyethylene *pellets*", "zinc oxide
/// *powder*")? It names the form the goods come in, not the goods.
pub fn is_form_head(stem: &str) -> bool {
    static S: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<String> = PRIMARY_FORMS.iter().map(|w| crate::text::stem(w)).collect();
        v.sort();
        v.dedup();
        v
    })
    .binary_search_by(|x| x.as_str().cmp(stem))
    .is_ok()
}

/// The heading a chemical description names, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundReading {
    /// HS heading (4 digits).
    pub heading: &'static str,
    /// The name read (folded words).
    pub name: String,
    /// Why: the groups found ("alcohol", "ketone", "heterocycle (nitrogen only)", ...).
    pub reason: &'static str,
}

/// Words of a description, folded, with hyphens and parentheses joining a name's parts
/// ("2-amino-5-chlorobenzophenone" → "aminochlorobenzophenone"; "n,n-dimethylformamide" →
/// "dimethylformamide"): locants (digits, single letters, primes) are dropped.
fn name_words(folded: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in folded.split(|c: char| c.is_whitespace() || c == '/' || c == ';') {
        let raw = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if raw.is_empty() {
            continue;
        }
        let mut w = String::new();
        for part in raw.split(|c: char| !c.is_ascii_alphanumeric()) {
            // Locants and stereo descriptors: "2", "n", "o", "p", "m", "alpha", "cis", "tert"
            let letters = part.bytes().filter(u8::is_ascii_alphabetic).count();
            if letters <= 1
                || matches!(
                    part,
                    "alpha" | "beta" | "gamma" | "cis" | "trans" | "sec" | "tert" | "dl"
                )
            {
                continue;
            }
            if part.bytes().any(|c| c.is_ascii_digit()) {
                // "4h" / "1h" indicated hydrogen or "2h": drop the digits.
                w.extend(part.chars().filter(char::is_ascii_alphabetic));
            } else {
                w.push_str(part);
            }
        }
        if !w.is_empty() {
            out.push(w);
        }
    }
    out
}

/// Heading of an organic compound from the groups of its name (note 3 to chapter 29: the
/// last heading in numerical order among those its groups point to).
fn organic_heading(groups: &[M]) -> Option<(&'static str, &'static str)> {
    let has = |m: M| groups.contains(&m);
    let ring = has(M::Ring) || has(M::Phenol);
    let (het_o, het_n, het_x) = (has(M::HetO), has(M::HetN), has(M::HetX));
    if has(M::Sulfonamide) {
        return Some(("2935", "sulphonamide"));
    }
    if het_x || (het_o && het_n) {
        return Some(("2934", "heterocycle (other hetero-atoms)"));
    }
    if het_n {
        return Some(("2933", "heterocycle (nitrogen only)"));
    }
    if het_o {
        return Some(("2932", "heterocycle (oxygen only)"));
    }
    if has(M::OrganoOther) {
        return Some(("2931", "organo-inorganic compound"));
    }
    if has(M::Sulphur) {
        return Some(("2930", "organo-sulphur compound"));
    }
    if has(M::Isocyanate) {
        return Some(("2929", "isocyanate"));
    }
    if has(M::Hydrazine) {
        return Some(("2928", "hydrazine or hydroxylamine derivative"));
    }
    if has(M::Diazo) {
        return Some(("2927", "diazo or azo compound"));
    }
    if has(M::Nitrile) {
        return Some(("2926", "nitrile"));
    }
    if has(M::Imide) {
        return Some(("2925", "imide or imine"));
    }
    if has(M::Amide) {
        return Some(("2924", "carboxyamide"));
    }
    if has(M::Quat) {
        return Some(("2923", "quaternary ammonium"));
    }
    let oxygen = has(M::Alcohol)
        || has(M::Hydroxy)
        || has(M::Phenol)
        || has(M::Ether)
        || has(M::Aldehyde)
        || has(M::Ketone)
        || has(M::Epoxide);
    let acid = [M::Acid, M::Acid15, M::Acid16, M::Acid17, M::Acid18]
        .iter()
        .any(|&m| has(m));
    if has(M::AminoAcid) || has(M::Amine) {
        if oxygen || acid || has(M::AminoAcid) {
            return Some(("2922", "amino compound with oxygen function"));
        }
        return Some(("2921", "amine"));
    }
    if has(M::PhosEster) {
        return Some(("2919", "phosphoric ester"));
    }
    if has(M::InorgEster) && !acid {
        return Some(("2920", "ester of an inorganic acid"));
    }
    if acid {
        if has(M::Acid18) || oxygen {
            return Some(("2918", "carboxylic acid with additional oxygen function"));
        }
        if has(M::Acid17) {
            return Some(("2917", "polycarboxylic acid"));
        }
        if has(M::Acid16) {
            return Some(("2916", "unsaturated or cyclic monocarboxylic acid"));
        }
        if has(M::Acid15) {
            return Some(("2915", "saturated acyclic monocarboxylic acid"));
        }
        // Systematic "-oic" acids: a cyclic parent makes 2916 ("-enoic" is `Acid16`).
        if ring {
            return Some(("2916", "unsaturated or cyclic monocarboxylic acid"));
        }
        return Some(("2915", "saturated acyclic monocarboxylic acid"));
    }
    if has(M::Ketone) {
        return Some(("2914", "ketone"));
    }
    if has(M::Aldehyde) {
        return Some(("2912", "aldehyde"));
    }
    if has(M::Acetal) {
        return Some(("2911", "acetal"));
    }
    if has(M::Epoxide) {
        return Some(("2910", "epoxide"));
    }
    if has(M::Ether) {
        return Some(("2909", "ether"));
    }
    if has(M::Phenol) || (has(M::Hydroxy) && ring && !has(M::Alcohol)) {
        if has(M::Halo) || has(M::Nitro) || has(M::Sulfo) {
            return Some(("2908", "halogenated or nitrated phenol"));
        }
        return Some(("2907", "phenol"));
    }
    if has(M::Alcohol) || has(M::Hydroxy) {
        if ring {
            return Some(("2906", "cyclic alcohol"));
        }
        return Some(("2905", "acyclic alcohol"));
    }
    if has(M::Nitro) || has(M::Sulfo) {
        return Some(("2904", "sulphonated or nitrated hydrocarbon"));
    }
    if has(M::Halo) {
        return Some(("2903", "halogenated hydrocarbon"));
    }
    None
}

/// Words that name a form or a role rather than the goods: a chemical named after them is
/// still the goods ("a white powder of sodium benzoate").
const NOT_GOODS_HEADS: &[&str] = &[
    "powder",
    "liquid",
    "solut",
    "crystal",
    "granul",
    "compound",
    "chemic",
    "product",
    "substanc",
    "intermedi",
    "salt",
    "ester",
    "acid",
    "solvent",
    "reagent",
    "form",
    "grade",
    "flake",
    "pellet",
    "resin",
    "polym",
    "homopolym",
    "copolym",
    "materi",
    "raw",
    "agent",
    "dispers",
    "emuls",
    "oil",
    "cas",
    "no",
    "number",
    "purity",
];

/// Reads the chemical name of a description and gives its heading.
///
/// A name is a run of words that read as chemistry ("methyl ethyl ketone", "ethyl acetate",
/// "2-amino-5-chlorobenzophenone", "sodium sulphate"). Goods first: when the description's
/// head noun (`head`, stemmed) is known and is not a form word ("powder", "liquid"), only the
/// run that contains it or opens the description counts, so "a cream containing glycerin" is not read as glycerol;
/// otherwise the first run that yields a heading is taken, since a description names its
/// goods before their uses ("..., used in the manufacture of polyurethane"). Salts go with
/// their acid; "hydrochloride" and hydrates do not change a compound's heading.
pub fn read_compound(description: &str, head: Option<&str>) -> Option<CompoundReading> {
    let folded = text::fold(description);
    let words = name_words(&folded);
    let head = head.filter(|h| h.len() >= 3 && !NOT_GOODS_HEADS.contains(h));
    let names_head = |w: &String| head.is_none_or(|h| w.contains(h) || is_class_word(h));
    // A drug's trivial name is read as a whole before any segmentation ("acetaminophen" is
    // not an amine of chapter 29's 2921); it is the goods when it holds the head noun or
    // opens the description.
    let trivial = words.iter().enumerate().find_map(|(k, w)| {
        TRIVIAL_DRUGS
            .iter()
            .find(|(name, _)| w == name && (k == 0 || names_head(w)))
            .map(|&(_, h)| (w, h))
    });
    if let Some((w, h)) = trivial {
        return Some(CompoundReading {
            heading: h,
            name: w.clone(),
            reason: "drug (trivial name) in bulk",
        });
    }
    let mut i = 0;
    while i < words.len() {
        let j = run_end(&words, i);
        if j == i {
            i += 1;
            continue;
        }
        let run = &words[i..j];
        // The subject of the description (its first words) is the goods too: "Tetrahydrofuran
        // (CAS 109-99-9) is a cyclic ether".
        let holds_head =
            head.is_none_or(|h| run.iter().any(|w| w.contains(h)) || (i == 0 && is_class_word(h)));
        if holds_head {
            if let Some(r) = read_run(run, &words[j..]) {
                return Some(r);
            }
        }
        i = j;
    }
    // Drugs in bulk by their INN stem (the stem names the structure class; in measured
    // doses they are 3004, which the caller decides).
    words
        .iter()
        .filter(|w| w.len() >= 8 && names_head(w))
        .find_map(|w| {
            INN_HEADINGS
                .iter()
                .find(|(stem, _)| w.ends_with(stem))
                .map(|&(_, h)| CompoundReading {
                    heading: h,
                    name: w.clone(),
                    reason: "drug (INN stem) in bulk",
                })
        })
}

/// Drugs whose names carry no INN stem (trivial and older names), with the heading of the
/// bulk substance. Source: the bundled US HTSUS 2026 lines that name them (acetaminophen
/// 2924.29.62, aspirin and acetylsalicylic acid 2918.22, lidocaine 2924.29.57, caffeine
/// 2939.30, codeine and morphine 2939.11, ephedrine 2939.41, quinine 2939.20, insulin
/// 2937.12, hydrocortisone and prednisolone 2937.21, heparin 3001.90); paracetamol is the
/// INN of acetaminophen; dexamethasone (a fluorinated corticosteroid, 2937.22), diclofenac
/// (an amino acid with an oxygen function, 2922.49), naproxen (an acid with an ether
/// function, 2918.99) and metformin (a guanidine, 2925.29) by their structure (note 3 to
/// chapter 29). In measured doses all are 3004 (the caller decides).
pub const TRIVIAL_DRUGS: &[(&str, &str)] = &[
    ("acetaminophen", "2924"),
    ("paracetamol", "2924"),
    ("aspirin", "2918"),
    ("acetylsalicylic", "2918"),
    ("lidocaine", "2924"),
    ("caffeine", "2939"),
    ("codeine", "2939"),
    ("morphine", "2939"),
    ("ephedrine", "2939"),
    ("pseudoephedrine", "2939"),
    ("quinine", "2939"),
    ("insulin", "2937"),
    ("hydrocortisone", "2937"),
    ("prednisolone", "2937"),
    ("dexamethasone", "2937"),
    ("heparin", "3001"),
    ("diclofenac", "2922"),
    ("naproxen", "2918"),
    ("metformin", "2925"),
];

/// WHO INN stems whose structure class fixes the heading of the bulk substance: azole
/// antifungals, benzodiazepines, proton-pump inhibitors, sartans, dihydropyridines,
/// triptans, setrons, kinase inhibitors, ACE inhibitors (nitrogen heterocycles, 2933);
/// penicillins, -mycin and tetracycline antibiotics (2941); gliflozins (2932); coxibs,
/// loop and thiazide diuretics, PDE5 inhibitors (sulphonamides, 2935); nucleoside
/// analogues (2934); profens (2916); platinum compounds (2843); monoclonal antibodies
/// (3002).
const INN_HEADINGS: &[(&str, &str)] = &[
    ("conazole", "2933"),
    ("azepam", "2933"),
    ("azolam", "2933"),
    ("prazole", "2933"),
    ("sartan", "2933"),
    ("dipine", "2933"),
    ("triptan", "2933"),
    ("setron", "2933"),
    ("tinib", "2933"),
    ("bendazole", "2933"),
    ("nidazole", "2933"),
    ("pril", "2933"),
    ("azosin", "2933"),
    ("lukast", "2933"),
    ("gliptin", "2933"),
    ("cillin", "2941"),
    ("mycin", "2941"),
    ("cycline", "2941"),
    ("gliflozin", "2932"),
    ("coxib", "2935"),
    ("semide", "2935"),
    ("thiazide", "2935"),
    ("afil", "2935"),
    ("vudine", "2934"),
    ("citabine", "2934"),
    ("profen", "2916"),
    ("platin", "2843"),
    ("mab", "3002"),
];

/// Is a (stemmed) head noun a chemical class word ("ether", "keton", "amin")?
fn is_class_word(h: &str) -> bool {
    h.len() >= 4
        && LEXICON
            .iter()
            .any(|(k, _)| k.starts_with(h) && k.len() <= h.len() + 2)
}

fn is_salt_word(w: &str) -> bool {
    matches!(
        w,
        "hydrochloride"
            | "hydrobromide"
            | "monohydrate"
            | "dihydrate"
            | "trihydrate"
            | "hexahydrate"
            | "pentahydrate"
            | "heptahydrate"
            | "anhydrous"
            | "acid"
            | "anhydride"
            | "salt"
            | "salts"
            | "ester"
            | "esters"
    )
}

fn is_anion(w: &str) -> bool {
    ANION_HEADINGS.iter().any(|(a, _)| *a == w) || is_oxide(w) || w == "hydroxide"
}

fn polymer_heading(w: &str) -> Option<&'static str> {
    POLYMER_HEADINGS
        .iter()
        .find(|(p, _)| w == *p || (p.starts_with("poly") && w.starts_with(p)))
        .map(|&(_, h)| h)
}

/// End of the run of chemical words starting at `i` (== i when `words[i]` is not one).
fn run_end(words: &[String], i: usize) -> usize {
    let mut j = i;
    while let Some(w) = words.get(j) {
        let w = w.as_str();
        let chem = is_cation(w)
            || is_anion(w)
            || polymer_heading(w).is_some()
            || read_word(w).is_some()
            || (j > i && is_salt_word(w))
            || INORGANIC_NAMED.iter().any(|(a, b, _)| {
                *a == w && words.get(j + 1).is_some_and(|x| x == b)
                    || (*b == w && j > i && words[j - 1] == *a)
            });
        if !chem {
            break;
        }
        j += 1;
    }
    j
}

/// The heading of one run of chemical words (`after`: the words that follow it).
fn read_run(run: &[String], after: &[String]) -> Option<CompoundReading> {
    let name = run.join(" ");
    let reading = |heading, reason| {
        Some(CompoundReading {
            heading,
            name: name.clone(),
            reason,
        })
    };
    if matches!(name.as_str(), "ethanol" | "ethyl alcohol") {
        // Ethyl alcohol is chapter 22 (heading 2207), not an alcohol of chapter 29.
        return reading("2207", "ethyl alcohol (heading 2207)");
    }
    for w in run.windows(2) {
        if let Some(&(_, _, h)) = INORGANIC_NAMED
            .iter()
            .find(|(a, b, _)| w[0] == *a && w[1] == *b)
        {
            return reading(h, "inorganic acid or compound");
        }
    }
    // Polymers: chapter 39 by monomer, when put up in a primary form (named in the run or
    // within the next six words: "in the form of pellets").
    if let Some(mut h) = run.iter().find_map(|w| polymer_heading(w)) {
        // "polyvinyl chloride" (3904) against other vinyl polymers (3905).
        if h == "3905" && run.iter().any(|w| w == "chloride") {
            h = "3904";
        }
        // Polyethers and polyesters of ethylene or propylene ("polyethylene glycol",
        // "polyethylene terephthalate") are 3907, not polyethylene.
        if run.iter().any(|w| {
            matches!(
                w.as_str(),
                "terephthalate" | "glycol" | "oxide" | "ether" | "carbonate" | "ester"
            )
        }) {
            h = "3907";
        }
        let primary = run
            .iter()
            .chain(after.iter().take(6))
            .any(|w| PRIMARY_FORMS.contains(&w.as_str()));
        return if primary {
            reading(h, "polymer in primary form")
        } else {
            None
        };
    }
    let mut groups: Vec<M> = Vec::new();
    let mut cation: Option<&str> = None;
    let mut anion: Option<&str> = None;
    for w in run {
        let w = w.as_str();
        if let Some(c) = CATIONS.iter().chain(MORE_CATIONS).find(|c| **c == w) {
            cation.get_or_insert(c);
            continue;
        }
        if let Some(&(_, h)) = ANION_HEADINGS.iter().find(|(a, _)| *a == w) {
            anion.get_or_insert(h);
        } else if is_oxide(w) {
            anion.get_or_insert("oxide");
        } else if w == "hydroxide" {
            anion.get_or_insert("hydroxide");
        }
        if let Some(ms) = read_word(w) {
            groups.extend(ms);
        }
    }
    // Esters and salts go with their acid: in "2-ethoxyethyl acetate" the ether is in the
    // alcohol part, so the acid word alone decides (2915).
    if let Some(last) = run
        .iter()
        .rev()
        .find(|w| !is_salt_word(w) && read_word(w).is_some())
    {
        let acid = [M::Acid, M::Acid15, M::Acid16, M::Acid17, M::Acid18];
        // ... when the alcohol part is a plain alkyl, alcohol or ether (a heterocycle or a
        // nitrogen function there is in the acid's name: "fenoxaprop-ethyl").
        let simple_alcohol = run.iter().filter(|w| *w != last).all(|w| {
            read_word(w).is_none_or(|ms| {
                ms.iter().all(|m| {
                    matches!(
                        m,
                        M::Glue
                            | M::Sat
                            | M::Chain
                            | M::Ring
                            | M::Ether
                            | M::Alcohol
                            | M::Hydroxy
                            | M::Halo
                    )
                })
            })
        });
        if let Some(ms) = read_word(last).filter(|ms| {
            last.ends_with("ate")
                && run.len() > 1
                && simple_alcohol
                && ms.iter().any(|m| acid.contains(m))
        }) {
            if let Some((h, why)) = organic_heading(&ms) {
                return reading(h, why);
            }
        }
    }
    let organic_part = groups
        .iter()
        .any(|m| matches!(m, M::Chain | M::Ring) || !is_inorganic_like(*m));
    if organic_part && cation.is_none() {
        // An organic "chloride" or "oxide" is a halogenated derivative or an epoxide
        // ("vinyl chloride", "benzoyl chloride", "ethylene oxide").
        match anion {
            Some("2826" | "2827") => groups.push(M::Halo),
            Some("oxide") => groups.push(M::Epoxide),
            _ => {}
        }
    }
    let organic = groups
        .iter()
        .any(|m| !is_inorganic_like(*m) && !matches!(m, M::Sat | M::Glue))
        && !(cation.is_some() && groups.iter().all(|m| is_inorganic_like(*m)));
    if organic {
        if let Some((h, why)) = organic_heading(&groups) {
            return reading(h, why);
        }
        // Hydrocarbons: only chains, rings and saturation endings.
        let hydrocarbon = groups
            .iter()
            .all(|m| matches!(m, M::Chain | M::Ring | M::Sat | M::Glue));
        let last = run.last().map_or("", String::as_str);
        if hydrocarbon
            && ["ane", "ene", "yne", "diene"]
                .iter()
                .any(|s| last.ends_with(s))
        {
            if groups.contains(&M::Ring) {
                return reading("2902", "cyclic hydrocarbon");
            }
            return reading("2901", "acyclic hydrocarbon");
        }
    }
    if let (Some(c), Some(a)) = (cation, anion) {
        // Note 2 to chapter 31: these salts are fertilisers (3102/3104/3105) whether or
        // not pure; note 1 to chapter 28 gives way to them.
        let fertiliser = match (c, a) {
            ("ammonium" | "sodium" | "calcium", "2834") => Some("3102"),
            ("ammonium", "2833") => Some("3102"),
            ("potassium", "2827") => Some("3104"),
            ("potassium", "2833") => Some("3104"),
            ("diammonium" | "monoammonium", "2835") => Some("3105"),
            _ => None,
        };
        if let Some(h) = fertiliser.filter(|_| !(c == "calcium" && run.len() > 2)) {
            return reading(h, "fertiliser salt (note 2 to chapter 31)");
        }
        if let Some(h) = element_heading(c, a) {
            return reading(
                h,
                "compound of a precious metal, mercury, rare earth or non-metal",
            );
        }
        let h = match a {
            "oxide" => oxide_heading(c, false),
            "hydroxide" => oxide_heading(c, true),
            _ => a,
        };
        return reading(h, "inorganic compound (by anion)");
    }
    None
}

fn is_oxide(w: &str) -> bool {
    matches!(
        w,
        "oxide" | "dioxide" | "trioxide" | "monoxide" | "pentoxide" | "tetroxide" | "sesquioxide"
    )
}

/// Compounds of precious metals (2843), mercury (2852), rare-earth metals (2846) and
/// halides, sulphides and oxides of non-metals (2812, 2813, 2811) have headings of their
/// own whatever the anion.
fn element_heading(cation: &str, anion: &str) -> Option<&'static str> {
    match cation {
        "silver" | "gold" | "platinum" | "palladium" | "rhodium" | "iridium" | "osmium"
        | "ruthenium" => Some("2843"),
        "mercury" | "mercuric" | "mercurous" => Some("2852"),
        "cerium" | "lanthanum" | "neodymium" | "yttrium" | "scandium" | "europium" => Some("2846"),
        "phosphorus" | "phosphorous" | "sulfur" | "sulphur" | "silicon" | "boron" | "arsenic"
        | "selenium" => match anion {
            "2826" | "2827" => Some("2812"),
            "2830" => Some("2813"),
            "oxide" => Some("2811"),
            _ => None,
        },
        _ => None,
    }
}

/// Morphemes that also name inorganic anions (a "sulphate" of sodium is not organic).
fn is_inorganic_like(m: M) -> bool {
    matches!(
        m,
        M::InorgEster | M::PhosEster | M::Nitrile | M::Sulphur | M::Halo | M::Glue | M::Sat
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heading(s: &str) -> Option<&'static str> {
        read_compound(s, None).map(|r| r.heading)
    }

    #[test]
    fn organic_names_go_to_the_heading_of_their_functional_group() {
        let cases = [
            ("2-Ethylhexanol (CAS 104-76-7), a clear liquid", "2905"),
            ("Propylene glycol USP", "2905"),
            ("Cyclohexanol", "2906"),
            ("4-tert-Butylphenol", "2907"),
            ("Diethylene glycol monobutyl ether", "2909"),
            ("Ethylene oxide", "2910"),
            ("Hexanal", "2912"),
            ("Methyl ethyl ketone", "2914"),
            ("Cyclohexanone", "2914"),
            ("Ethyl acetate", "2915"),
            ("Sodium acetate trihydrate", "2915"),
            ("Butyl acrylate monomer", "2916"),
            ("Benzoyl chloride", "2916"),
            ("Dimethyl terephthalate", "2917"),
            ("Citric acid anhydrous", "2918"),
            ("4-Hydroxybenzoic acid", "2918"),
            ("Tributyl phosphate", "2919"),
            ("Dimethyl carbonate", "2920"),
            ("Triethylamine", "2921"),
            ("Hexamethylenediamine", "2921"),
            ("2-Aminoethanol", "2922"),
            ("2-Amino-5-chlorobenzophenone", "2922"),
            ("Monosodium glutamate", "2922"),
            ("N,N-Dimethylformamide", "2924"),
            ("Acetonitrile", "2926"),
            ("Toluene diisocyanate", "2929"),
            ("Dimethyl sulfoxide", "2930"),
            ("Tetrahydrofuran", "2932"),
            ("4-Aminopyridine", "2933"),
            ("2-Mercaptobenzothiazole", "2934"),
            ("Morpholine", "2934"),
            ("Toluene", "2902"),
            ("Dichloromethane", "2903"),
            ("Vinyl chloride monomer", "2903"),
            ("Nitrobenzene", "2904"),
        ];
        for (name, want) in cases {
            assert_eq!(heading(name), Some(want), "{name}");
        }
    }

    #[test]
    fn inorganic_salts_go_by_anion_and_oxides_by_element() {
        let cases = [
            ("Anhydrous sodium sulfate", "2833"),
            ("Potassium carbonate, granular", "2836"),
            ("Calcium chloride flakes", "2827"),
            ("Potassium sulphate, 50% K2O", "3104"),
            ("Ammonium nitrate prills", "3102"),
            ("Sodium hypochlorite solution", "2828"),
            ("Sodium metabisulfite", "2832"),
            ("Zinc oxide", "2817"),
            ("Sodium hydroxide (caustic soda) in pellets", "2815"),
            ("Titanium dioxide", "2823"),
            ("Phosphoric acid 85%", "2809"),
            ("Hydrogen peroxide", "2847"),
            ("Sodium cyanide", "2837"),
        ];
        for (name, want) in cases {
            assert_eq!(heading(name), Some(want), "{name}");
        }
    }

    #[test]
    fn polymers_in_primary_forms_go_by_monomer_articles_do_not() {
        assert_eq!(
            heading("Polypropylene homopolymer in the form of pellets"),
            Some("3902")
        );
        assert_eq!(
            heading("Polyethylene terephthalate resin chips"),
            Some("3907")
        );
        assert_eq!(heading("Polypropylene woven bag for rice"), None);
        assert_eq!(
            heading("Polyvinyl chloride (PVC) in primary forms"),
            Some("3904")
        );
    }

    #[test]
    fn drugs_in_bulk_go_by_the_structure_class_of_their_inn_stem() {
        assert_eq!(heading("Voriconazole in bulk powder form"), Some("2933"));
        assert_eq!(heading("Amoxicillin trihydrate, bulk"), Some("2941"));
        assert_eq!(
            heading("Celecoxib active pharmaceutical ingredient"),
            Some("2935")
        );
        assert_eq!(
            heading("Adalimumab solution for injection, bulk"),
            Some("3002")
        );
    }

    #[test]
    fn ethyl_alcohol_is_chapter_22() {
        assert_eq!(heading("Undenatured ethanol, 96% vol"), Some("2207"));
    }

    #[test]
    fn goods_first_a_chemical_named_as_an_ingredient_is_not_the_goods() {
        let d = "A moisturizing face cream containing glycerin and cetyl alcohol";
        assert_eq!(read_compound(d, Some("cream")), None);
        // A form word does not stop the reading.
        let d = "A white crystalline powder of sodium benzoate";
        assert_eq!(
            read_compound(d, Some("powder")).map(|r| r.heading),
            Some("2916")
        );
        // The subject of "X is a cyclic ether" is X; "zinc oxide" opening a lotion's
        // description is an ingredient.
        let d = "Tetrahydrofuran (CAS 109-99-9) is a cyclic ether used as a solvent";
        assert_eq!(
            read_compound(d, Some("ether")).map(|r| r.heading),
            Some("2932")
        );
        assert_eq!(
            read_compound("Zinc oxide sunscreen lotion", Some("lotion")),
            None
        );
    }

    #[test]
    fn ordinary_words_are_not_chemistry() {
        for w in [
            "proposal",
            "phenomenal",
            "telephone",
            "control",
            "pentagon",
            "decimal",
            "button",
            "methodical",
            "ethical",
        ] {
            assert_eq!(read_word(w), None, "{w}");
        }
        assert_eq!(
            heading("Wrist watch with leather strap and steel case"),
            None
        );
        assert_eq!(heading("Men's cotton knitted T-shirts"), None);
    }
}
