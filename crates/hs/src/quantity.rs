//! Quantitative and compositional conditions of the subheadings, and the quantities a
//! description states (issue 16, tenth pass).
//!
//! Within a heading, subheadings are very often separated by a condition written in their
//! legal text: a power, voltage, weight, capacity, dimension or alcoholic strength ("of a
//! power not exceeding 1,500 W", "weighing not more than 200 g/m2", "of a cylinder capacity
//! exceeding 50cc but not exceeding 250cc"), a share by weight ("containing 85% or more by
//! weight of polyester staple fibres") or the textile material that predominates by weight
//! ("of cotton", "of synthetic fibres", Section XI subheading note 2). Descriptions written
//! like customs rulings state those quantities ("1,200 W", "333.1 g/m2", "95.8% polyester
//! and 4.2 percent linen"). This module reads both, rule by rule from the wording (no list of
//! codes): [`conditions`] reads a subheading text, [`Stated::read`] a description, and
//! [`Condition::check`] says whether what the description states meets or breaks the
//! condition, or says nothing about it.

use crate::text;

/// What a quantity measures (values are normalised to the unit in the comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// W
    Power,
    /// VA
    ApparentPower,
    /// V
    Voltage,
    /// kg
    Mass,
    /// g/m2
    AreaDensity,
    /// litres
    Volume,
    /// cm3 (cylinder capacity)
    Displacement,
    /// mm
    Length,
    /// % vol
    Alcohol,
    /// decitex
    Decitex,
    /// years
    Age,
    /// % by weight of a substance
    Share,
    /// the textile material that predominates by weight
    Chief,
}

/// Which side or kind of a dimension, where the dimension alone does not say (a width is
/// not a thickness; a washing machine's dry linen capacity is not its own weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Any,
    Width,
    Thickness,
    Length,
    Diameter,
    Circumference,
    Height,
    Capacity,
    VehicleWeight,
}

/// One condition of a subheading text: an interval of one quantity (for [`Dim::Share`] the
/// share of `substance`; for [`Dim::Chief`] no interval, the predominating material must be
/// one of `substance`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub dim: Dim,
    pub aspect: Aspect,
    /// Key words of the substance (shares) or of the textile materials (chief weight).
    pub substance: Vec<String>,
    /// Lower bound and whether it is included.
    pub lo: Option<(f64, bool)>,
    /// Upper bound and whether it is included.
    pub hi: Option<(f64, bool)>,
    /// The words of the legal text that state the condition (folded).
    pub text: String,
}

/// Whether a description meets or breaks a condition, and what it stated.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub met: bool,
    /// The description's words that decided ("1,200 w", "95.8% polyester").
    pub stated: String,
}

/// A quantity stated in a description.
#[derive(Debug, Clone, PartialEq)]
struct Quantity {
    dim: Dim,
    aspect: Aspect,
    value: f64,
    text: String,
}

/// A share by weight stated in a description: the substance's key words (a fibre also gives
/// its classes: polyester -> synthetic, man-made), the share in percent, and whether the
/// substance is a textile fibre.
#[derive(Debug, Clone, PartialEq)]
struct Share {
    keys: Vec<String>,
    value: f64,
    fibre: bool,
    text: String,
}

/// The quantities and shares a description states.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stated {
    quantities: Vec<Quantity>,
    shares: Vec<Share>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Word(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct T {
    tok: Tok,
    start: usize,
    end: usize,
}

impl T {
    fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        }
    }
    fn is(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
}

/// Splits folded text into numbers ("1,500" -> 1500, "37.5", "4,2" -> 4.2), words (hyphens
/// inside words and between a number and a word dropped: "man-made" -> "manmade", "20-volt"
/// -> 20 "volt"; "g/m2" one word; an inch mark after a number -> "inch") and punctuation.
fn lex(s: &str) -> Vec<T> {
    let b = s.as_bytes();
    let n = b.len();
    let mut out: Vec<T> = Vec::new();
    let mut i = 0;
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    while i < n {
        let c = b[i];
        if c.is_ascii_digit() {
            let start = i;
            let mut v = String::new();
            while i < n && b[i].is_ascii_digit() {
                v.push(b[i] as char);
                i += 1;
            }
            loop {
                if i + 1 < n && b[i] == b'.' && b[i + 1].is_ascii_digit() && !v.contains('.') {
                    v.push('.');
                    i += 1;
                    while i < n && b[i].is_ascii_digit() {
                        v.push(b[i] as char);
                        i += 1;
                    }
                } else if i + 1 < n && b[i] == b',' && b[i + 1].is_ascii_digit() {
                    let mut j = i + 1;
                    while j < n && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    let digits = j - i - 1;
                    if digits == 3 && !v.contains('.') {
                        v.push_str(&s[i + 1..j]);
                    } else if digits <= 2 && !v.contains('.') {
                        v.push('.');
                        v.push_str(&s[i + 1..j]);
                    } else {
                        break;
                    }
                    i = j;
                } else {
                    break;
                }
            }
            let value: f64 = v.parse().unwrap_or(f64::NAN);
            out.push(T {
                tok: Tok::Num(value),
                start,
                end: i,
            });
            if i < n && b[i] == b'"' {
                out.push(T {
                    tok: Tok::Word("inch".into()),
                    start: i,
                    end: i + 1,
                });
                i += 1;
            } else if i + 1 < n && b[i] == b'-' && b[i + 1].is_ascii_alphabetic() {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() {
            let start = i;
            let mut w = String::new();
            while i < n {
                let c = b[i];
                if alnum(c) {
                    w.push(c as char);
                    i += 1;
                } else if (c == b'/' || c == b'-') && i + 1 < n && b[i + 1].is_ascii_alphabetic() {
                    if c == b'/' {
                        w.push('/');
                    }
                    i += 1;
                } else if c == b'/' && i + 1 < n && b[i + 1].is_ascii_digit() && w.len() <= 2 {
                    w.push('/');
                    i += 1;
                } else {
                    break;
                }
            }
            out.push(T {
                tok: Tok::Word(w),
                start,
                end: i,
            });
        } else if c == b'%' {
            out.push(T {
                tok: Tok::Word("%".into()),
                start: i,
                end: i + 1,
            });
            i += 1;
        } else if matches!(c, b',' | b';' | b'(' | b')' | b':' | b'.' | b'[' | b']') {
            out.push(T {
                tok: Tok::Punct(c as char),
                start: i,
                end: i + 1,
            });
            i += 1;
        } else {
            // Other bytes (spaces, symbols, the continuation bytes of non-ASCII letters).
            i += 1;
        }
    }
    out
}

/// The unit a word (and the words after it) names: dimension, factor to the normalised unit,
/// number of extra words used. `strict` (descriptions) leaves out the unit words that are
/// ordinary words or codes in free text ("t", "in", "mw").
fn unit(toks: &[T], i: usize, strict: bool) -> Option<(Dim, f64, usize)> {
    let w = toks.get(i)?.word()?;
    let next = |k: usize| toks.get(i + k).and_then(T::word).unwrap_or("");
    // "grams per square metre", "g per m2"
    let per_square = || {
        (next(1) == "per" && next(2) == "square" && matches!(next(3), "metre" | "meter" | "m"))
            .then_some(3)
            .or_else(|| (next(1) == "per" && matches!(next(2), "m2" | "sqm")).then_some(2))
    };
    let r = match w {
        "w" | "watt" | "watts" => (Dim::Power, 1.0, 0),
        "kw" | "kilowatt" | "kilowatts" => (Dim::Power, 1e3, 0),
        "mw" if !strict => (Dim::Power, 1e6, 0),
        "hp" | "horsepower" => (Dim::Power, 745.7, 0),
        "va" => (Dim::ApparentPower, 1.0, 0),
        "kva" => (Dim::ApparentPower, 1e3, 0),
        "mva" => (Dim::ApparentPower, 1e6, 0),
        "v" | "volt" | "volts" | "vac" | "vdc" => (Dim::Voltage, 1.0, 0),
        "kv" => (Dim::Voltage, 1e3, 0),
        "g/m2" | "gsm" | "g/sqm" | "gm2" | "gr/m2" => (Dim::AreaDensity, 1.0, 0),
        "g" | "gr" | "gram" | "grams" | "gramme" | "grammes" => match per_square() {
            Some(k) => (Dim::AreaDensity, 1.0, k),
            None => (Dim::Mass, 1e-3, 0),
        },
        "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" | "kilogramme"
        | "kilogrammes" => (Dim::Mass, 1.0, 0),
        "mg" => (Dim::Mass, 1e-6, 0),
        "t" if !strict => (Dim::Mass, 1e3, 0),
        "tonne" | "tonnes" => (Dim::Mass, 1e3, 0),
        "lb" | "lbs" | "pound" | "pounds" => (Dim::Mass, 0.453_592, 0),
        "oz" | "ounce" | "ounces" => (Dim::Mass, 0.028_35, 0),
        "l" | "litre" | "litres" | "liter" | "liters" | "ltr" | "ltrs" => (Dim::Volume, 1.0, 0),
        "ml" | "millilitre" | "millilitres" | "milliliter" | "milliliters" => {
            (Dim::Volume, 1e-3, 0)
        }
        "cl" => (Dim::Volume, 1e-2, 0),
        "gal" | "gallon" | "gallons" => (Dim::Volume, 3.785, 0),
        "cc" | "cm3" | "ccm" => (Dim::Displacement, 1.0, 0),
        "cubic" if matches!(next(1), "centimetres" | "centimeters" | "cm") => {
            (Dim::Displacement, 1.0, 1)
        }
        "mm" | "millimetre" | "millimetres" | "millimeter" | "millimeters" => (Dim::Length, 1.0, 0),
        "cm" | "centimetre" | "centimetres" | "centimeter" | "centimeters" => {
            (Dim::Length, 10.0, 0)
        }
        "m" | "metre" | "metres" | "meter" | "meters" => (Dim::Length, 1e3, 0),
        "km" => (Dim::Length, 1e6, 0),
        "inch" | "inches" => (Dim::Length, 25.4, 0),
        "ft" | "feet" | "foot" => (Dim::Length, 304.8, 0),
        "micron" | "microns" | "um" => (Dim::Length, 1e-3, 0),
        "decitex" | "dtex" => (Dim::Decitex, 1.0, 0),
        "year" | "years" => (Dim::Age, 1.0, 0),
        "%" | "percent" | "pct" => (Dim::Share, 1.0, 0),
        "per" if next(1) == "cent" => (Dim::Share, 1.0, 1),
        _ => return None,
    };
    Some(r)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// Comparator words ending just before token `i` (longest first): the operator and the index
/// of its first word.
fn comparator_before(toks: &[T], i: usize) -> Option<(Op, usize)> {
    const BEFORE: &[(&[&str], Op)] = &[
        (&["less", "than", "or", "equal", "to"], Op::Le),
        (&["more", "than", "or", "equal", "to"], Op::Ge),
        (&["not", "more", "than"], Op::Le),
        (&["not", "less", "than"], Op::Ge),
        (&["not", "exceeding"], Op::Le),
        (&["not", "over"], Op::Le),
        (&["not", "above"], Op::Le),
        (&["not", "under"], Op::Ge),
        (&["greater", "than"], Op::Gt),
        (&["more", "than"], Op::Gt),
        (&["less", "than"], Op::Lt),
        (&["at", "least"], Op::Ge),
        (&["up", "to"], Op::Le),
        (&["exceeding"], Op::Gt),
        (&["exceeds"], Op::Gt),
        (&["over"], Op::Gt),
        (&["above"], Op::Gt),
        (&["under"], Op::Lt),
        (&["below"], Op::Lt),
        (&["maximum"], Op::Le),
        (&["max"], Op::Le),
        (&["minimum"], Op::Ge),
        (&["min"], Op::Ge),
    ];
    for (words, op) in BEFORE {
        let k = words.len();
        if i < k {
            continue;
        }
        if toks[i - k..i]
            .iter()
            .zip(words.iter())
            .all(|(t, w)| t.is(w))
        {
            return Some((*op, i - k));
        }
    }
    None
}

/// Comparator words starting at token `i` ("or more", "and over"): the operator and the
/// index after them.
fn comparator_after(toks: &[T], i: usize) -> Option<(Op, usize)> {
    let a = toks.get(i).and_then(T::word)?;
    let b = toks.get(i + 1).and_then(T::word).unwrap_or("");
    let op = match (a, b) {
        ("or" | "and", "more" | "over" | "higher" | "above" | "greater") => Op::Ge,
        ("or" | "and", "less" | "under" | "lower" | "below") => Op::Le,
        _ => return None,
    };
    Some((op, i + 2))
}

/// The aspect named by a word ("width", "thick", "capacity", "gvw").
fn aspect_word(w: &str) -> Option<Aspect> {
    Some(match w {
        "width" | "wide" | "widths" => Aspect::Width,
        "thickness" | "thick" | "gauge" => Aspect::Thickness,
        "length" | "long" | "lengths" => Aspect::Length,
        "diameter" | "dia" | "diam" => Aspect::Diameter,
        "circumference" => Aspect::Circumference,
        "height" | "high" | "tall" => Aspect::Height,
        "capacity" | "load" => Aspect::Capacity,
        "gvw" => Aspect::VehicleWeight,
        _ => return None,
    })
}

/// Whether a dimension's aspect matters when comparing (a volume is a volume, a length must
/// say which side).
fn aspect_of(dim: Dim, a: Aspect) -> Aspect {
    match dim {
        Dim::Length => match a {
            Aspect::Capacity | Aspect::VehicleWeight => Aspect::Any,
            x => x,
        },
        Dim::Mass => match a {
            Aspect::Capacity | Aspect::VehicleWeight => a,
            _ => Aspect::Any,
        },
        _ => Aspect::Any,
    }
}

/// The aspect named within a few words before token `from` (not across a semicolon or an
/// earlier number).
fn aspect_back(toks: &[T], from: usize, span: usize) -> Option<(Aspect, usize)> {
    let lo = from.saturating_sub(span);
    for j in (lo..from).rev() {
        match &toks[j].tok {
            Tok::Num(_) | Tok::Punct(';') => return None,
            Tok::Word(w) => {
                if let Some(a) = aspect_word(w) {
                    return Some((a, j));
                }
            }
            _ => {}
        }
    }
    None
}

/// Is the percent at `i` (its unit token) an alcoholic strength?
fn is_alcohol(toks: &[T], num: usize, unit_end: usize) -> bool {
    let after = toks[unit_end..]
        .iter()
        .take(3)
        .filter_map(T::word)
        .any(|w| matches!(w, "vol" | "volume" | "abv" | "alc" | "alc/vol" | "alcohol"));
    let before = toks[num.saturating_sub(8)..num]
        .iter()
        .filter_map(T::word)
        .any(|w| matches!(w, "alcoholic" | "alcohol" | "abv" | "proof"));
    after || before
}

/// Words that never name the substance of a share.
fn generic(w: &str) -> bool {
    matches!(
        w,
        "by" | "weight"
            | "but"
            | "of"
            | "the"
            | "a"
            | "an"
            | "in"
            | "dry"
            | "state"
            | "matter"
            | "fibre"
            | "fibres"
            | "fiber"
            | "fibers"
            | "staple"
            | "filament"
            | "filaments"
            | "yarn"
            | "yarns"
            | "content"
            | "contents"
            | "containing"
            | "contains"
            | "other"
            | "more"
            | "less"
            | "than"
            | "or"
            | "and"
            | "not"
            | "exceeding"
            | "calculated"
            | "on"
            | "basis"
            | "total"
            | "textile"
            | "material"
            | "materials"
            | "mainly"
            | "solely"
            | "mixed"
            | "with"
            | "such"
            | "is"
            | "are"
            | "its"
            | "whether"
            | "fabric"
            | "fabrics"
            | "made"
            | "composed"
            | "consisting"
            | "comprising"
            | "blend"
            | "knit"
            | "woven"
            | "approximately"
            | "about"
            | "approx"
    )
}

/// Singular of a folded word (enough to match "polyamides" with "polyamide").
fn singular(w: &str) -> &str {
    if w.len() > 4 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

/// Textile fibres and the classes of the nomenclature they belong to.
const FIBRES: &[(&str, &[&str])] = &[
    ("cotton", &["cotton"]),
    ("polyester", &["polyester", "synthetic", "manmade"]),
    ("nylon", &["nylon", "polyamide", "synthetic", "manmade"]),
    ("polyamide", &["nylon", "polyamide", "synthetic", "manmade"]),
    ("aramid", &["aramid", "synthetic", "manmade"]),
    (
        "acrylic",
        &["acrylic", "modacrylic", "synthetic", "manmade"],
    ),
    (
        "modacrylic",
        &["acrylic", "modacrylic", "synthetic", "manmade"],
    ),
    ("polypropylene", &["polypropylene", "synthetic", "manmade"]),
    ("polyethylene", &["polyethylene", "synthetic", "manmade"]),
    ("olefin", &["polypropylene", "synthetic", "manmade"]),
    ("elastane", &["elastomeric", "synthetic", "manmade"]),
    ("spandex", &["elastomeric", "synthetic", "manmade"]),
    ("lycra", &["elastomeric", "synthetic", "manmade"]),
    ("elastomeric", &["elastomeric", "synthetic", "manmade"]),
    ("synthetic", &["synthetic", "manmade"]),
    ("viscose", &["viscose", "rayon", "artificial", "manmade"]),
    ("rayon", &["viscose", "rayon", "artificial", "manmade"]),
    ("modal", &["viscose", "rayon", "artificial", "manmade"]),
    ("lyocell", &["lyocell", "artificial", "manmade"]),
    ("tencel", &["lyocell", "artificial", "manmade"]),
    ("cupro", &["cupro", "artificial", "manmade"]),
    ("acetate", &["acetate", "artificial", "manmade"]),
    ("artificial", &["artificial", "manmade"]),
    ("manmade", &["manmade"]),
    ("wool", &["wool"]),
    ("merino", &["wool"]),
    ("lambswool", &["wool"]),
    ("cashmere", &["hair"]),
    ("alpaca", &["hair"]),
    ("mohair", &["hair"]),
    ("angora", &["hair"]),
    ("silk", &["silk"]),
    ("linen", &["flax", "linen"]),
    ("flax", &["flax", "linen"]),
    ("jute", &["jute"]),
    ("hemp", &["hemp"]),
    ("ramie", &["ramie"]),
];

fn fibre_classes(w: &str) -> Option<&'static [&'static str]> {
    let w = singular(w);
    FIBRES.iter().find(|(f, _)| *f == w).map(|(_, c)| *c)
}

/// The quantities of a text: (number token, unit token, dimension, value normalised, index
/// after the unit words). A number without a unit takes the unit of the number after "but"
/// or "and" that follows it ("over 1000 but not over 1500cc").
fn quantities(toks: &[T], strict: bool) -> Vec<(usize, Dim, f64, usize)> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        let Tok::Num(v) = toks[i].tok else { continue };
        if !v.is_finite() {
            continue;
        }
        if let Some((dim, f, extra)) = unit(toks, i + 1, strict) {
            out.push((i, dim, v * f, i + 2 + extra));
            continue;
        }
        if strict {
            continue;
        }
        // Unit inherited from the next bound: "exceeding 1000 but not exceeding 1500cc".
        let joined = toks.get(i + 1).is_some_and(|t| t.is("but") || t.is("and"));
        if !joined {
            continue;
        }
        for j in i + 2..(i + 7).min(toks.len()) {
            if let Tok::Num(_) = toks[j].tok {
                if let Some((dim, f, _)) = unit(toks, j + 1, strict) {
                    if comparator_before(toks, i).is_some() {
                        out.push((i, dim, v * f, i + 1));
                    }
                }
                break;
            }
        }
    }
    out
}

/// The substance words after a share ("... by weight of *polyester staple fibres*,"): key
/// words, and the index after the last word read.
fn substance_after(toks: &[T], from: usize) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut j = from;
    let mut read = 0;
    while j < toks.len() && read < 10 {
        match &toks[j].tok {
            Tok::Word(w) => {
                if matches!(
                    w.as_str(),
                    "but" | "measuring" | "weighing" | "whether" | "not" | "put" | "for"
                ) {
                    break;
                }
                if !generic(w) {
                    keys.push(singular(w).to_string());
                }
                read += 1;
            }
            _ => break,
        }
        j += 1;
    }
    (keys, j)
}

/// Reads the quantitative and compositional conditions of a subheading text. `textile` says
/// whether the subheading is in Section XI (chapters 50-63), where "of cotton" and "of
/// synthetic fibres" mean the material that predominates by weight.
pub fn conditions(legal: &str, textile: bool) -> Vec<Condition> {
    let folded = text::fold(legal)
        .replace("g.v.w.", "gvw")
        .replace("g.v.w", "gvw");
    let toks = lex(&folded);
    let mut out: Vec<Condition> = Vec::new();
    // (condition, index of its first token, index after its last token)
    let mut bounds: Vec<(Condition, usize, usize)> = Vec::new();
    for (i, dim, v, end) in quantities(&toks, false) {
        // "80% vol or higher"
        let tail = if toks.get(end).is_some_and(|t| t.is("vol")) {
            end + 1
        } else {
            end
        };
        let (op, start, end) = match comparator_before(&toks, i) {
            Some((op, s)) => (op, s, end),
            None => match comparator_after(&toks, tail) {
                Some((op, e)) => (op, i, e),
                None => continue,
            },
        };
        let mut dim = dim;
        let mut substance = Vec::new();
        let mut end = end;
        let mut start = start;
        if dim == Dim::Share {
            if is_alcohol(&toks, i, end) {
                dim = Dim::Alcohol;
            } else {
                let (mut keys, e) = substance_after(&toks, end);
                if toks.get(end).is_some_and(|t| t.is("of") || t.is("by")) || !keys.is_empty() {
                    end = e;
                }
                if keys.is_empty() {
                    // "of polyester staple fibres, containing less than 85% by weight of such
                    // fibres", "of a fat content, by weight, not exceeding 1%": the nearest
                    // substance word before.
                    for j in (start.saturating_sub(12)..start).rev() {
                        if unit(&toks, j, false).is_some() {
                            // "exceeding 1% but not exceeding 6%": not across the bound before.
                            break;
                        }
                        if let Some(w) = toks[j].word() {
                            if !generic(w) && comparator_before(&toks, j + 1).is_none() {
                                keys.push(singular(w).to_string());
                                if fibre_classes(w).is_none() {
                                    break;
                                }
                                // "of wool or fine animal hair": all the alternatives.
                                if j > 0 && !toks[j - 1].is("or") {
                                    break;
                                }
                            }
                        } else if matches!(toks[j].tok, Tok::Punct(';') | Tok::Num(_)) {
                            break;
                        }
                    }
                }
                if keys.is_empty() {
                    // "exceeding 1% but not exceeding 6%": the substance of the bound before.
                    match bounds.last() {
                        Some((prev, _, pend))
                            if prev.dim == Dim::Share
                                && toks[*pend..start]
                                    .iter()
                                    .all(|t| t.is("but") || t.is("and")) =>
                        {
                            keys = prev.substance.clone();
                        }
                        _ => continue,
                    }
                }
                substance = keys;
            }
        }
        let found = aspect_back(&toks, start, 6);
        let aspect = aspect_of(dim, found.map_or(Aspect::Any, |(a, _)| a));
        if let Some((_, j)) = found {
            if aspect != Aspect::Any {
                start = j;
            }
        }
        let mut c = Condition {
            dim,
            aspect,
            substance,
            lo: None,
            hi: None,
            text: String::new(),
        };
        match op {
            Op::Lt => c.hi = Some((v, false)),
            Op::Le => c.hi = Some((v, true)),
            Op::Gt => c.lo = Some((v, false)),
            Op::Ge => c.lo = Some((v, true)),
        }
        // "exceeding 50cc but not exceeding 250cc": one interval.
        if let Some((prev, _, pend)) = bounds.last_mut() {
            let between: Vec<&str> = toks[*pend..start].iter().filter_map(T::word).collect();
            let joined = toks[*pend..start]
                .iter()
                .all(|t| matches!(t.tok, Tok::Word(_)))
                && between.len() <= 2
                && between.iter().all(|w| matches!(*w, "but" | "and"));
            if joined
                && prev.dim == c.dim
                && (prev.aspect == c.aspect || c.aspect == Aspect::Any)
                && prev.substance == c.substance
                && (prev.lo.is_none() || c.lo.is_none())
                && (prev.hi.is_none() || c.hi.is_none())
            {
                prev.lo = prev.lo.or(c.lo);
                prev.hi = prev.hi.or(c.hi);
                *pend = end;
                continue;
            }
        }
        bounds.push((c, start, end));
    }
    for (mut c, s, e) in bounds {
        if c.dim == Dim::Length && c.aspect == Aspect::Any {
            // A length that does not say which side cannot be compared.
            continue;
        }
        // The words that name the quantity ("of a power", "cylinder capacity") too.
        let mut s = s;
        for _ in 0..3 {
            match s.checked_sub(1).map(|k| &toks[k]) {
                Some(t)
                    if t.word()
                        .is_some_and(|w| !matches!(w, "and" | "but" | "or" | "with")) =>
                {
                    s -= 1
                }
                _ => break,
            }
        }
        c.text = folded[toks[s].start..toks[e - 1].end].to_string();
        out.push(c);
    }
    if textile {
        out.extend(chief_conditions(&folded, &toks));
    }
    out
}

/// "of cotton", "of synthetic fibres", "of wool or fine animal hair" in a Section XI text:
/// the material that predominates by weight (not "by weight of cotton", not after "other
/// than" or "excluding").
fn chief_conditions(folded: &str, toks: &[T]) -> Vec<Condition> {
    let mut out = Vec::new();
    let mut consumed = 0;
    for i in 0..toks.len() {
        if i < consumed || !toks[i].is("of") {
            continue;
        }
        if i > 0 && toks[i - 1].is("weight") {
            continue;
        }
        let negated = toks[i.saturating_sub(4)..i]
            .iter()
            .filter_map(T::word)
            .any(|w| matches!(w, "than" | "excluding" | "except" | "not"));
        if negated {
            continue;
        }
        let mut keys: Vec<String> = Vec::new();
        let mut j = i + 1;
        let mut ok = true;
        while j < toks.len() {
            let Some(w) = toks[j].word() else { break };
            if let Some(cls) = fibre_classes(w) {
                if matches!(singular(w), "synthetic" | "artificial" | "manmade") {
                    keys.push(singular(w).to_string());
                } else {
                    keys.push(cls[0].to_string());
                }
            } else if matches!(
                w,
                "or" | "fibres" | "fibers" | "staple" | "filaments" | "fine" | "animal" | "waste"
            ) || (w == "of" && toks[j - 1].is("or"))
            {
                if w == "animal" {
                    keys.push("hair".into());
                }
            } else if w == "hair" {
                keys.push("hair".into());
            } else {
                ok = false;
                break;
            }
            j += 1;
        }
        // "of textile materials": no fibre named.
        if !ok && j == i + 1 {
            continue;
        }
        consumed = j;
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            continue;
        }
        out.push(Condition {
            dim: Dim::Chief,
            aspect: Aspect::Any,
            substance: keys,
            lo: None,
            hi: None,
            text: folded[toks[i].start..toks[j - 1].end].to_string(),
        });
    }
    out
}

impl Stated {
    /// Reads the quantities and shares a description states.
    pub fn read(description: &str) -> Stated {
        let mut st = Stated::default();
        if !description.bytes().any(|b| b.is_ascii_digit()) {
            return st;
        }
        let folded = text::fold(description);
        let toks = lex(&folded);
        let qs = quantities(&toks, true);
        // Shares: the substance after the percent ("95.8% polyester") or, when the
        // description writes them the other way round ("polyester 95.8%"), before it.
        let pct: Vec<(usize, usize, f64)> = qs
            .iter()
            .filter(|q| q.1 == Dim::Share && !is_alcohol(&toks, q.0, q.3))
            .map(|q| (q.0, q.3, q.2))
            .collect();
        let word_after = |e: usize| {
            let mut j = e;
            while toks.get(j).is_some_and(|t| {
                t.word()
                    .is_some_and(|w| matches!(w, "by" | "weight" | "of" | "is"))
            }) {
                j += 1;
            }
            toks.get(j)
                .and_then(T::word)
                .filter(|w| !generic(w) && unit(&toks, j, true).is_none())
                .map(|_| j)
        };
        let word_before = |s: usize| {
            let mut j = s;
            while j > 0 && matches!(toks[j - 1].tok, Tok::Punct('(') | Tok::Punct(':')) {
                j -= 1;
            }
            (j > 0)
                .then(|| j - 1)
                .filter(|&k| toks[k].word().is_some_and(|w| !generic(w)))
        };
        let after = pct
            .iter()
            .filter(|(_, e, _)| word_after(*e).is_some())
            .count();
        let before = pct
            .iter()
            .filter(|(s, _, _)| word_before(*s).is_some())
            .count();
        let use_after = after >= before;
        for &(s, e, v) in &pct {
            if v <= 0.0 || v > 100.0 {
                continue;
            }
            // "less than 85% by weight of cotton": just below its number.
            let v = match comparator_before(&toks, s) {
                Some((Op::Gt, _)) => v + 1e-6,
                Some((Op::Lt, _)) => v - 1e-6,
                _ => v,
            };
            let at = if use_after {
                word_after(e)
            } else {
                word_before(s)
            };
            let Some(k) = at else { continue };
            let (keys, fibre, text_end) = if use_after {
                // up to three substance words ("petroleum oils", "nylon textile")
                let mut keys = Vec::new();
                let mut fibre = false;
                let mut j = k;
                while j < toks.len() && j < k + 3 {
                    let Some(w) = toks[j].word() else { break };
                    if matches!(w, "and" | "or" | "with") || unit(&toks, j, true).is_some() {
                        break;
                    }
                    if !generic(w) {
                        push_keys(&mut keys, w, &mut fibre);
                    }
                    j += 1;
                }
                (keys, fibre, toks[j - 1].end)
            } else {
                let mut keys = Vec::new();
                let mut fibre = false;
                push_keys(&mut keys, toks[k].word().unwrap_or(""), &mut fibre);
                (keys, fibre, toks[e - 1].end)
            };
            if keys.is_empty() {
                continue;
            }
            let from = if use_after {
                toks[s].start
            } else {
                toks[k].start
            };
            st.shares.push(Share {
                keys,
                value: v,
                fibre,
                text: folded[from..text_end].to_string(),
            });
        }
        for (i, dim, v, end) in qs {
            let dim = match dim {
                Dim::Share if is_alcohol(&toks, i, end) => Dim::Alcohol,
                Dim::Share => continue,
                d => d,
            };
            // A stated bound ("exceeding 1,000 v") is just beyond its number.
            let v = match comparator_before(&toks, i) {
                Some((Op::Gt, _)) => v * (1.0 + 1e-9) + 1e-12,
                Some((Op::Lt, _)) => v * (1.0 - 1e-9) - 1e-12,
                _ => v,
            };
            // Which side: the word after the unit ("2.5 mm thick", "in diameter") or one
            // named just before ("a thickness of 2.5 mm").
            let mut aspect = Aspect::Any;
            for t in toks.iter().skip(end).take(2) {
                if let Some(a) = t.word().and_then(aspect_word) {
                    aspect = a;
                    break;
                }
                if !t.is("in") {
                    break;
                }
            }
            if aspect == Aspect::Any {
                if let Some((a, _)) = aspect_back(&toks, i, 4) {
                    aspect = a;
                }
            }
            let aspect = aspect_of(dim, aspect);
            st.quantities.push(Quantity {
                dim,
                aspect,
                value: v,
                text: folded[toks[i].start..toks[end - 1].end].to_string(),
            });
        }
        st
    }

    /// What the weighted fields of a description state together (fields of weight 0 are
    /// left out).
    pub fn read_fields(fields: &[(&str, f32)]) -> Stated {
        let mut st = Stated::default();
        for &(f, w) in fields {
            if w > 0.0 {
                let one = Stated::read(f);
                st.quantities.extend(one.quantities);
                st.shares.extend(one.shares);
            }
        }
        st
    }

    /// Nothing stated.
    pub fn is_empty(&self) -> bool {
        self.quantities.is_empty() && self.shares.is_empty()
    }

    /// The shares of the textile fibres stated, summed.
    fn fibre_total(&self) -> f64 {
        self.shares
            .iter()
            .filter(|s| s.fibre)
            .map(|s| s.value)
            .sum()
    }
}

fn push_keys(keys: &mut Vec<String>, w: &str, fibre: &mut bool) {
    match fibre_classes(w) {
        Some(cls) => {
            *fibre = true;
            keys.extend(cls.iter().map(|c| c.to_string()));
        }
        None => keys.push(singular(w).to_string()),
    }
}

impl Condition {
    fn within(&self, v: f64) -> bool {
        let tol = 1e-9 * v.abs().max(1.0);
        let lo_ok = match self.lo {
            None => true,
            Some((b, true)) => v >= b - tol,
            Some((b, false)) => v > b + tol,
        };
        let hi_ok = match self.hi {
            None => true,
            Some((b, true)) => v <= b + tol,
            Some((b, false)) => v < b - tol,
        };
        lo_ok && hi_ok
    }

    /// [`Condition::check`] without the words (the scoring path: no allocation).
    pub fn met(&self, st: &Stated) -> Option<bool> {
        match self.dim {
            Dim::Share => {
                if st.shares.is_empty() {
                    return None;
                }
                let (mut any, mut value) = (false, 0.0);
                for s in &st.shares {
                    if s.keys.iter().any(|k| self.substance.contains(k)) {
                        any = true;
                        value += s.value;
                    }
                }
                if !any {
                    let fibre_cond = self
                        .substance
                        .iter()
                        .any(|k| FIBRES.iter().any(|(_, c)| c.contains(&k.as_str())));
                    if !(fibre_cond && st.fibre_total() >= 95.0) {
                        return None;
                    }
                }
                Some(self.within(value))
            }
            Dim::Chief => {
                if st.shares.is_empty() {
                    return None;
                }
                self.check(st).map(|v| v.met)
            }
            _ => {
                let (mut n, mut met) = (0, 0);
                for q in &st.quantities {
                    if q.dim == self.dim && q.aspect == self.aspect {
                        n += 1;
                        met += usize::from(self.within(q.value));
                    }
                }
                (n > 0 && (met == 0 || met == n)).then_some(met > 0)
            }
        }
    }

    /// Whether what the description states meets or breaks this condition; `None` when it
    /// states nothing about it (or states values on both sides of it).
    pub fn check(&self, st: &Stated) -> Option<Verdict> {
        match self.dim {
            Dim::Share => {
                let matching: Vec<&Share> = st
                    .shares
                    .iter()
                    .filter(|s| s.keys.iter().any(|k| self.substance.contains(k)))
                    .collect();
                let fibre_cond = self
                    .substance
                    .iter()
                    .any(|k| FIBRES.iter().any(|(_, c)| c.contains(&k.as_str())));
                let (value, stated) = if matching.is_empty() {
                    // A complete composition that does not name the substance has none of it.
                    if fibre_cond && st.fibre_total() >= 95.0 {
                        let t: Vec<&str> = st
                            .shares
                            .iter()
                            .filter(|s| s.fibre)
                            .map(|s| s.text.as_str())
                            .collect();
                        (0.0, t.join(", "))
                    } else {
                        return None;
                    }
                } else {
                    let t: Vec<&str> = matching.iter().map(|s| s.text.as_str()).collect();
                    (matching.iter().map(|s| s.value).sum(), t.join(", "))
                };
                Some(Verdict {
                    met: self.within(value),
                    stated,
                })
            }
            Dim::Chief => {
                let fibres: Vec<&Share> = st.shares.iter().filter(|s| s.fibre).collect();
                let max = fibres.iter().map(|s| s.value).fold(0.0, f64::max);
                let top: Vec<&&Share> = fibres.iter().filter(|s| s.value >= max).collect();
                if max <= 0.0 || top.len() != 1 {
                    return None;
                }
                let s = top[0];
                Some(Verdict {
                    met: s.keys.iter().any(|k| self.substance.contains(k)),
                    stated: s.text.clone(),
                })
            }
            _ => {
                let qs: Vec<&Quantity> = st
                    .quantities
                    .iter()
                    .filter(|q| q.dim == self.dim && q.aspect == self.aspect)
                    .collect();
                if qs.is_empty() {
                    return None;
                }
                let met = qs.iter().filter(|q| self.within(q.value)).count();
                if met != 0 && met != qs.len() {
                    return None;
                }
                let t: Vec<&str> = qs.iter().map(|q| q.text.as_str()).collect();
                Some(Verdict {
                    met: met != 0,
                    stated: t.join(", "),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(legal: &str, textile: bool) -> Condition {
        let c = conditions(legal, textile);
        assert_eq!(c.len(), 1, "{legal}: {c:?}");
        c.into_iter().next().unwrap()
    }

    /// The verdict of a condition on what a description states: met, broken or untested.
    fn verdict(c: &Condition, description: &str) -> Option<bool> {
        c.check(&Stated::read(description)).map(|v| v.met)
    }

    #[test]
    fn reads_power_and_capacity_separately() {
        let c = conditions("Vacuum cleaners, with self-contained electric motor, of a power not exceeding 1,500 W and having a dust bag or other receptacle capacity not exceeding 20L", false);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!((c[0].dim, c[0].hi), (Dim::Power, Some((1500.0, true))));
        assert_eq!((c[1].dim, c[1].hi), (Dim::Volume, Some((20.0, true))));
        assert!(c[0].text.contains("1,500 w"), "{}", c[0].text);
    }

    #[test]
    fn reads_an_interval_with_the_unit_only_at_its_end() {
        let c = one("Vehicles; with only spark-ignition internal combustion piston engine, cylinder capacity over 1000 but not over 1500cc", false);
        assert_eq!(c.dim, Dim::Displacement);
        assert_eq!(c.lo, Some((1000.0, false)));
        assert_eq!(c.hi, Some((1500.0, true)));
        let c = one("Motorcycles; with reciprocating internal combustion piston engine, of a cylinder capacity exceeding 50cc but not exceeding 250cc", false);
        assert_eq!((c.lo, c.hi), (Some((50.0, false)), Some((250.0, true))));
    }

    #[test]
    fn reads_shares_with_their_substance() {
        let c = one("Fabrics, woven; of synthetic staple fibres, containing 85% or more by weight of polyester staple fibres, unbleached or bleached", false);
        assert_eq!(c.dim, Dim::Share);
        assert_eq!(c.lo, Some((85.0, true)));
        assert_eq!(c.substance, vec!["polyester".to_string()]);
        let c = one("Fabrics, woven; containing 85% or more by weight of filaments of nylon or other polyamides, bleached", false);
        assert_eq!(
            c.substance,
            vec!["nylon".to_string(), "polyamide".to_string()]
        );
        // "such fibres": the substance named before
        let c = one("Fabrics, woven; plain weave, of polyester staple fibres, containing less than 85% by weight of such fibres, mixed mainly or solely with cotton", false);
        assert_eq!(c.substance, vec!["polyester".to_string()]);
        assert_eq!(c.hi, Some((85.0, false)));
        let c = one("Dairy produce; milk and cream, not concentrated, of a fat content, by weight, not exceeding 1%", false);
        assert_eq!(c.substance, vec!["fat".to_string()]);
        let c = one("Dairy produce; milk and cream, of a fat content, by weight, exceeding 1% but not exceeding 6%", false);
        assert_eq!((c.lo, c.hi), (Some((1.0, false)), Some((6.0, true))));
    }

    #[test]
    fn lengths_need_their_side_and_weights_per_area_are_their_own_unit() {
        let c = conditions("Fabrics, woven; containing 85% or more by weight of cotton, plain weave, weighing not more than 100g/m2, unbleached", false);
        assert!(c
            .iter()
            .any(|c| c.dim == Dim::AreaDensity && c.hi == Some((100.0, true))));
        let c = one(
            "Steel, stainless; flat-rolled, of a thickness of 0.5mm or more but not exceeding 1mm",
            false,
        );
        assert_eq!(c.aspect, Aspect::Thickness);
        assert_eq!((c.lo, c.hi), (Some((0.5, true)), Some((1.0, true))));
        assert!(conditions("Film; with any side of 255mm", false).is_empty());
    }

    #[test]
    fn reads_chief_weight_in_textile_texts_only() {
        let c = one(
            "Trousers; women's or girls', of synthetic fibres, knitted or crocheted",
            true,
        );
        assert_eq!(c.dim, Dim::Chief);
        assert_eq!(c.substance, vec!["synthetic".to_string()]);
        let c = one("Jerseys; of wool or fine animal hair, knitted", true);
        assert_eq!(c.substance, vec!["hair".to_string(), "wool".to_string()]);
        let c = one(
            "Yarn; of wool or of fine animal hair, put up for retail sale",
            true,
        );
        assert_eq!(c.substance, vec!["hair".to_string(), "wool".to_string()]);
        assert!(conditions("Garments; of textile materials other than of cotton", true).is_empty());
        assert!(conditions("Trousers; of cotton, knitted", false).is_empty());
    }

    #[test]
    fn reads_what_descriptions_state() {
        let st = Stated::read(
            "The fabric is composed of 95.8% polyester and 4.2 percent linen, weighing 333.1 g/m2.",
        );
        assert_eq!(st.shares.len(), 2, "{st:?}");
        assert_eq!(st.shares[0].value, 95.8);
        assert!(st.shares[0].keys.contains(&"synthetic".to_string()));
        assert!(st.shares[1].keys.contains(&"flax".to_string()));
        assert_eq!(st.quantities.len(), 1);
        assert_eq!(st.quantities[0].dim, Dim::AreaDensity);
        let st = Stated::read("A 20-volt cordless vacuum of 1,200 W");
        let dims: Vec<Dim> = st.quantities.iter().map(|q| q.dim).collect();
        assert_eq!(dims, vec![Dim::Voltage, Dim::Power]);
        assert_eq!(st.quantities[1].value, 1200.0);
        let st = Stated::read("cotton 60%, polyester 40%");
        assert_eq!(st.shares[0].keys, vec!["cotton".to_string()]);
        assert_eq!(st.shares[1].value, 40.0);
        let st = Stated::read("steel plates of 2.5 mm thick steel");
        assert_eq!(st.quantities[0].aspect, Aspect::Thickness);
        let st = Stated::read("red wine, 13.5% vol, 750 ml bottles");
        assert_eq!(st.quantities[0].dim, Dim::Alcohol);
        assert!(st.shares.is_empty());
        assert!(Stated::read("pack of 3 t shirts, 5 in a box").is_empty());
    }

    #[test]
    fn checks_met_broken_and_unknown() {
        let power = one(
            "Electric motors; DC, of an output exceeding 750W but not exceeding 75kW",
            false,
        );
        assert_eq!(verdict(&power, "a 1.5 kW motor"), Some(true));
        assert_eq!(verdict(&power, "a 500 W motor"), Some(false));
        assert_eq!(power.check(&Stated::read("a 12 V motor")), None);
        let share = one(
            "Fabrics, woven; containing 85% or more by weight of polyester staple fibres",
            false,
        );
        assert_eq!(verdict(&share, "95.8% polyester, 4.2% linen"), Some(true));
        assert_eq!(verdict(&share, "65% polyester 35% cotton"), Some(false));
        // a complete composition without polyester has none
        assert_eq!(verdict(&share, "100% cotton"), Some(false));
        assert_eq!(share.check(&Stated::read("20% off")), None);
        for d in [
            "95.8% polyester, 4.2% linen",
            "65% polyester 35% cotton",
            "100% cotton",
            "20% off",
        ] {
            let st = Stated::read(d);
            assert_eq!(share.met(&st), share.check(&st).map(|v| v.met), "{d}");
        }
        let chief = one("T-shirts; of cotton, knitted", true);
        assert_eq!(verdict(&chief, "60% cotton 40% polyester"), Some(true));
        assert_eq!(verdict(&chief, "80% polyester 20% cotton"), Some(false));
    }
}
