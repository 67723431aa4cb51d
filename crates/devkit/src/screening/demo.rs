//! **Synthetic** demo enrichment for the bundled declarations, whose parties are anonymised ids.
//!
//! [`enrich`] gives every party id a synthetic company name and address (seeded, ChaCha8), and
//! plants a few labelled cases so `borderline demo` shows screening and network reasons:
//! * `near_match`: a seller renamed to a true variant (typo, legal-form swap, annotation ...) of a
//!   listed company from the bundled lists;
//! * `xinjiang`: a seller with an address in a Xinjiang city;
//! * `owned_by_listed`: a seller linked as subsidiary of a listed company (relationship row), so
//!   its importers are two hops from a listed entity.
//!
//! Names are built from invented syllables, so they describe no real company; the planted
//! near-matches are deliberately close to listed names. Nothing here is real data.

use super::pairs;
use ahash::AHashMap;
use borderline_core::Declaration;
use borderline_screening::network::party_key;
use borderline_screening::{
    build_signal, Entry, Matcher, PartyDirectory, PartyInfo, Relationship, Schema, ScreeningSignal,
    SupplierNetwork,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct Planted {
    pub party_id: String,
    pub kind: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct DemoEnrichment {
    pub directory: PartyDirectory,
    pub relationships: Vec<Relationship>,
    pub planted: Vec<Planted>,
}

const SYLLABLES: &[&str] = &[
    "va", "lo", "ren", "tak", "mi", "sor", "del", "qua", "bri", "zen", "kor", "lu", "fen", "dor",
    "sa", "vin", "tra", "mel", "ro", "gan", "pel", "xo", "ny", "bel", "cas", "ter", "mon", "vel",
];
const PREFIXES: &[&str] = &[
    "Golden",
    "Silver",
    "Blue",
    "Eastern",
    "Northern",
    "Grand",
    "Bright",
    "Pacific",
    "Royal",
    "Evergreen",
    "Summit",
    "Harbor",
    "Lucky",
    "Prime",
    "Jade",
];
const INDUSTRIES: &[&str] = &[
    "Trading",
    "Textiles",
    "Logistics",
    "Electronics",
    "Foods",
    "Metals",
    "Chemicals",
    "Apparel",
    "Solar",
    "Machinery",
    "Plastics",
    "Furniture",
    "Cosmetics",
    "Auto Parts",
];
const STREETS: &[&str] = &[
    "Harbour",
    "Industrial",
    "Renmin",
    "Station",
    "Park",
    "Riverside",
    "Commerce",
    "Garden",
];

fn cities(cc: &str) -> &'static [&'static str] {
    match cc {
        "CN" => &[
            "Shanghai",
            "Shenzhen",
            "Ningbo",
            "Guangzhou",
            "Qingdao",
            "Xiamen",
            "Tianjin",
        ],
        "KR" => &["Seoul", "Busan", "Incheon", "Daegu", "Ulsan"],
        "US" => &["Los Angeles", "Houston", "Newark", "Seattle"],
        "DE" => &["Hamburg", "Bremen", "Frankfurt"],
        "JP" => &["Osaka", "Yokohama", "Nagoya"],
        "VN" => &["Ho Chi Minh City", "Hai Phong"],
        _ => &["Central District", "Free Zone", "Port Area"],
    }
}

fn legal_form(cc: &str) -> &'static str {
    match cc {
        "CN" | "KR" | "JP" | "TW" | "HK" => "Co., Ltd.",
        "US" => "Inc.",
        "DE" | "AT" | "CH" => "GmbH",
        "FR" | "ES" | "BE" => "S.A.",
        "RU" => "LLC",
        _ => "Ltd",
    }
}

fn coined(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(2..4);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(SYLLABLES.choose(rng).copied().unwrap_or("va"));
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

const XINJIANG_ADDRESSES: &[&str] = &[
    "18 Kashgar Road, Kashgar, Xinjiang",
    "Shihezi Economic Development Zone, Shihezi",
    "66 Beijing Road, Urumqi",
    "Hotan Industrial Park, Hotan",
    "Aksu Textile Industrial City, Aksu",
];

/// Builds the synthetic directory and planted cases for the parties of `declarations`.
/// `entries` are the loaded list entries the near-matches and links are drawn from.
pub fn enrich(declarations: &[Declaration], entries: &[Entry], seed: u64) -> DemoEnrichment {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Party ids by role, with shipment counts and the countries they ship from.
    let mut roles: AHashMap<String, (&'static str, usize, AHashMap<String, usize>)> =
        AHashMap::new();
    for d in declarations {
        let mut add = |id: &str, role: &'static str, cc: &str| {
            if id.is_empty() {
                return;
            }
            let e = roles
                .entry(id.to_string())
                .or_insert((role, 0, AHashMap::new()));
            e.1 += 1;
            *e.2.entry(cc.to_string()).or_default() += 1;
        };
        if let Some(s) = d.seller.as_deref() {
            let cc = d
                .departure_country
                .as_deref()
                .unwrap_or(d.origin_country.as_str());
            add(s, "seller", cc);
        }
        add(&d.importer, "importer", "KR");
        add(&d.declarant, "declarant", "KR");
        if let Some(c) = d.courier.as_deref() {
            add(c, "courier", "KR");
        }
    }
    let mut ids: Vec<&String> = roles.keys().collect();
    ids.sort();
    let mut dir = PartyDirectory::new();
    let mut used: ahash::AHashSet<String> = Default::default();
    for id in &ids {
        let (role, _, ccs) = &roles[*id];
        let cc = ccs
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| c.clone())
            .filter(|c| c.len() == 2)
            .unwrap_or_else(|| "KR".into());
        let mut name;
        loop {
            name = match *role {
                "declarant" => format!("{} Customs Brokerage", coined(&mut rng)),
                "courier" => format!("{} Express", coined(&mut rng)),
                _ => format!(
                    "{} {} {} {}",
                    PREFIXES.choose(&mut rng).copied().unwrap_or("Grand"),
                    coined(&mut rng),
                    INDUSTRIES.choose(&mut rng).copied().unwrap_or("Trading"),
                    legal_form(&cc)
                ),
            };
            if used.insert(name.clone()) {
                break;
            }
        }
        let city = cities(&cc).choose(&mut rng).copied().unwrap_or("Port Area");
        let address = format!(
            "{} {} Road, {city}",
            rng.random_range(1..400),
            STREETS.choose(&mut rng).copied().unwrap_or("Park")
        );
        dir.insert(
            id.as_str(),
            PartyInfo {
                name,
                address: Some(address),
                country: Some(cc),
                schema: Schema::Company,
            },
        );
    }
    // Sellers that ship often enough to show up in a demo sample, in a seeded order.
    let mut sellers: Vec<&String> = ids
        .iter()
        .copied()
        .filter(|id| roles[*id].0 == "seller" && roles[*id].1 >= 2)
        .collect();
    for i in (1..sellers.len()).rev() {
        let j = rng.random_range(0..=i);
        sellers.swap(i, j);
    }
    let companies: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            e.schema == Schema::Company
                && (e.list == "ofac_sdn" || e.list == "un")
                && e.name.is_ascii()
        })
        .filter(|e| e.name.split_whitespace().count() >= 2)
        .collect();
    let mut planted = Vec::new();
    let mut relationships = Vec::new();
    let mut it = sellers.into_iter();
    for _ in 0..6 {
        let (Some(id), Some(e)) = (it.next(), companies.choose(&mut rng)) else {
            break;
        };
        let Some((variant, how)) = pairs::variant(&mut rng, &e.name) else {
            continue;
        };
        if let Some(p) = dir.parties_mut().get_mut(id.as_str()) {
            p.name = variant.clone();
            p.country = e.countries.first().cloned().or(p.country.clone());
        }
        planted.push(Planted {
            party_id: id.to_string(),
            kind: "near_match",
            detail: format!(
                "{variant:?} is a {how} variant of {} {} {:?}",
                e.list, e.id, e.name
            ),
        });
    }
    for addr in XINJIANG_ADDRESSES.iter().take(4) {
        let Some(id) = it.next() else { break };
        if let Some(p) = dir.parties_mut().get_mut(id.as_str()) {
            p.address = Some(addr.to_string());
            p.country = Some("CN".into());
        }
        planted.push(Planted {
            party_id: id.to_string(),
            kind: "xinjiang",
            detail: format!("address set to {addr:?}"),
        });
    }
    for _ in 0..4 {
        let (Some(id), Some(e)) = (it.next(), companies.choose(&mut rng)) else {
            break;
        };
        relationships.push(Relationship {
            from: e.key(),
            to: party_key(id),
            relation: "owner".into(),
            source: "synthetic demo enrichment".into(),
        });
        planted.push(Planted {
            party_id: id.to_string(),
            kind: "owned_by_listed",
            detail: format!("owned by {} {} {:?} (synthetic link)", e.list, e.id, e.name),
        });
    }
    DemoEnrichment {
        directory: dir,
        relationships,
        planted,
    }
}

/// Everything `borderline demo` / `borderline score` need from screening on the bundled data:
/// the synthetic enrichment, the supplier network (declarations, list links, name matches,
/// relationships) and the [`ScreeningSignal`] over them.
pub fn build_demo_signal(
    declarations: &[Declaration],
    matcher: Arc<Matcher>,
    seed: u64,
    max_hops: usize,
) -> (ScreeningSignal, Arc<SupplierNetwork>, DemoEnrichment) {
    let enrichment = enrich(declarations, matcher.entries(), seed);
    // The synthetic relationships name loaded entries only, so there are no problems to report.
    let (signal, net, _problems) = build_signal(
        declarations,
        matcher,
        enrichment.directory.clone(),
        &enrichment.relationships,
        max_hops,
    );
    (signal, net, enrichment)
}
