//! Data-quality reasons: a declaration that is malformed or implausible is flagged with a plain
//! reason ([`ReasonKind::DataQuality`]) instead of being scored as if it were ordinary.
//!
//! [`DataQuality`] is a [`Signal`] with no model features, only reasons, and a pure function
//! of the declaration and the reference date it was built with (the date scoring runs "as of";
//! the module never reads the wall clock, so results are reproducible). Each check has a named,
//! documented threshold below; `docs/data.md` explains them for analysts.
//!
//! | code | when |
//! |---|---|
//! | `quality.zero_mass` | net mass is 0 kg or less |
//! | `quality.absurd_mass` | net mass above [`MAX_NET_MASS_KG`] or not finite |
//! | `quality.zero_value` | customs value is 0 or less |
//! | `quality.absurd_value` | customs value above [`MAX_CUSTOMS_VALUE`] or not finite |
//! | `quality.unknown_hs_code` | the HS code is in no HS edition the bundled nomenclature knows |
//! | `quality.unknown_origin` / `quality.unknown_departure` | not an ISO 3166-1 country code |
//! | `quality.impossible_date` | before [`EARLIEST_PLAUSIBLE_DATE`] |
//! | `quality.future_date` | more than [`FUTURE_TOLERANCE_DAYS`] after the reference date |

use borderline_core::{Declaration, FeatureDef, Reason, ReasonKind, Signal};
use borderline_hs::{CodeStatus, Nomenclature};
use chrono::NaiveDate;

/// Heaviest plausible net mass of one declaration line, in kg: 500,000 tonnes, above the
/// deadweight of the largest bulk carriers and crude tankers afloat. Anything above is a unit
/// or keying error.
pub const MAX_NET_MASS_KG: f64 = 5.0e8;

/// Largest plausible customs value of one declaration line, in the declaration's own currency:
/// 10^15 is about 40 billion USD even in the currencies with the most units per dollar (VND,
/// IRR aside), far above any single cargo; a value above it is an error, not a price.
pub const MAX_CUSTOMS_VALUE: f64 = 1.0e15;

/// Declarations dated before this are impossible for electronic customs data (1970-01-01,
/// before any national electronic declaration system).
pub const EARLIEST_PLAUSIBLE_DATE: (i32, u32, u32) = (1970, 1, 1);

/// A declaration may be dated this many days after the reference date (time zones, lodging
/// ahead of arrival) before it is reported as dated in the future.
pub const FUTURE_TOLERANCE_DAYS: i64 = 2;

/// Codes that are not in ISO 3166-1 but that customs administrations use for real places
/// (XK: Kosovo, used by the European Commission and many customs systems).
const EXTRA_COUNTRY_CODES: &[&str] = &["XK"];

/// Findings that no real shipment can have: a mass or value beyond any cargo, a date before
/// electronic declarations or after the reference date. The others (0 kg, a zero value, an
/// unknown HS code or country) also occur in honest files: goods under half a kilogram rounded
/// to 0, free samples, national tariff extensions, "unknown" country placeholders; in the
/// bundled Korea Customs test period they are 3.8 % of rows. Targeting raises the lane of a
/// declaration with an impossible finding, and only reports the others (docs/data.md).
pub const IMPOSSIBLE: &[&str] = &[
    "quality.absurd_mass",
    "quality.absurd_value",
    "quality.impossible_date",
    "quality.future_date",
];

/// Whether a reason code is in [`IMPOSSIBLE`].
pub fn is_impossible(code: &str) -> bool {
    IMPOSSIBLE.contains(&code)
}

/// The data-quality signal. Build it with the date scoring is done as of.
#[derive(Debug, Clone)]
pub struct DataQuality {
    reference_date: NaiveDate,
    nomenclature: &'static Nomenclature,
}

impl DataQuality {
    /// `reference_date`: "today" for the batch being scored (the caller decides; tests and
    /// replays pass a fixed date).
    pub fn new(reference_date: NaiveDate) -> DataQuality {
        DataQuality {
            reference_date,
            nomenclature: Nomenclature::bundled(),
        }
    }

    pub fn reference_date(&self) -> NaiveDate {
        self.reference_date
    }

    /// All data-quality reasons for `d`, in a fixed order (mass, value, HS code, countries,
    /// date).
    pub fn check(&self, d: &Declaration) -> Vec<Reason> {
        let mut out = Vec::new();
        let mut flag = |code: &str, text: String| {
            out.push(Reason {
                kind: ReasonKind::DataQuality,
                code: code.to_string(),
                text,
                contribution: None,
            })
        };
        if let Some(m) = d.net_mass_kg {
            if !m.is_finite() || m > MAX_NET_MASS_KG {
                flag(
                    "quality.absurd_mass",
                    format!("net mass {m} kg is implausible (above {MAX_NET_MASS_KG:e} kg)"),
                );
            } else if m <= 0.0 {
                flag("quality.zero_mass", format!("net mass is {m} kg"));
            }
        }
        if let Some(v) = d.customs_value {
            let currency = borderline_core::currency_shown(&d.currency);
            if !v.is_finite() || v > MAX_CUSTOMS_VALUE {
                flag(
                    "quality.absurd_value",
                    format!(
                        "customs value {v:e} {currency} is implausible (above {MAX_CUSTOMS_VALUE:e})"
                    ),
                );
            } else if v <= 0.0 {
                flag(
                    "quality.zero_value",
                    format!("customs value is {v} {currency}"),
                );
            }
        }
        if let status @ (CodeStatus::Unknown { .. } | CodeStatus::Malformed { .. }) =
            self.nomenclature.validate(d.hs_code.as_str())
        {
            let text = status
                .reason()
                .map(|r| r.text)
                .unwrap_or_else(|| format!("HS code {} is unknown", d.hs_code.as_str()));
            flag("quality.unknown_hs_code", text);
        }
        if !is_country(&d.origin_country) {
            flag(
                "quality.unknown_origin",
                format!(
                    "country of origin {:?} is not an ISO 3166 country code",
                    d.origin_country.as_str()
                ),
            );
        }
        if let Some(dep) = d.departure_country.as_deref() {
            if !is_country(dep) {
                flag(
                    "quality.unknown_departure",
                    format!("country of departure {dep:?} is not an ISO 3166 country code"),
                );
            }
        }
        let (y, m, day) = EARLIEST_PLAUSIBLE_DATE;
        let earliest = NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        if d.date < earliest {
            flag(
                "quality.impossible_date",
                format!("declaration date {} is before {earliest}", d.date),
            );
        } else if (d.date - self.reference_date).num_days() > FUTURE_TOLERANCE_DAYS {
            flag(
                "quality.future_date",
                format!(
                    "declaration date {} is after the reference date {}",
                    d.date, self.reference_date
                ),
            );
        }
        out
    }
}

/// ISO 3166-1 alpha-2 or alpha-3 code (case-insensitive), or one of the customs extras.
pub fn is_country(code: &str) -> bool {
    let upper = code.trim().to_ascii_uppercase();
    match upper.len() {
        2 => {
            EXTRA_COUNTRY_CODES.contains(&upper.as_str())
                || celes::Country::from_alpha2(&upper).is_ok()
        }
        3 => celes::Country::from_alpha3(&upper).is_ok(),
        _ => false,
    }
}

impl Signal for DataQuality {
    fn name(&self) -> &str {
        "quality"
    }

    /// No model features: data quality is reported, not learned (a model trained on clean
    /// history has never seen these rows).
    fn feature_defs(&self) -> Vec<FeatureDef> {
        Vec::new()
    }

    fn features(&self, _declaration: &Declaration, _out: &mut [f32]) {}

    fn reasons(&self, declaration: &Declaration) -> Vec<Reason> {
        self.check(declaration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use borderline_core::HsCode;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn clean() -> Declaration {
        Declaration {
            declaration_id: "D1".into(),
            date: date("2024-03-01"),
            office: "".into(),
            declarant: "".into(),
            importer: "IMP".into(),
            seller: None,
            courier: None,
            hs_code: HsCode::parse("610910").expect("valid code"),
            origin_country: "CN".into(),
            departure_country: Some("HK".into()),
            transport_mode: "".into(),
            process_type: "".into(),
            import_type: "".into(),
            import_use: "".into(),
            payment_type: "".into(),
            net_mass_kg: Some(12.5),
            customs_value: Some(1000.0),
            currency: "USD".into(),
            tax_rate: None,
            tax_type: "".into(),
            origin_indicator: "".into(),
            description: None,
            quantity: None,
            quantity_unit: None,
            outcome: None,
        }
    }

    fn codes(d: &Declaration) -> Vec<String> {
        let q = DataQuality::new(date("2024-06-30"));
        let reasons = q.reasons(d);
        assert!(reasons.iter().all(|r| r.kind == ReasonKind::DataQuality));
        reasons.into_iter().map(|r| r.code).collect()
    }

    #[test]
    fn a_clean_declaration_has_no_reasons() {
        assert!(codes(&clean()).is_empty());
        let mut d = clean();
        d.origin_country = "XK".into();
        d.departure_country = Some("DEU".into());
        d.date = date("2024-07-02"); // within the tolerance
        assert!(codes(&d).is_empty());
    }

    #[test]
    fn zero_and_absurd_mass() {
        let mut d = clean();
        d.net_mass_kg = Some(0.0);
        assert_eq!(codes(&d), ["quality.zero_mass"]);
        d.net_mass_kg = Some(MAX_NET_MASS_KG * 2.0);
        assert_eq!(codes(&d), ["quality.absurd_mass"]);
        d.net_mass_kg = Some(MAX_NET_MASS_KG);
        assert!(codes(&d).is_empty());
        d.net_mass_kg = Some(f64::NAN);
        assert_eq!(codes(&d), ["quality.absurd_mass"]);
    }

    #[test]
    fn zero_negative_and_absurd_value() {
        let mut d = clean();
        d.customs_value = Some(0.0);
        assert_eq!(codes(&d), ["quality.zero_value"]);
        d.customs_value = Some(-5.0);
        assert_eq!(codes(&d), ["quality.zero_value"]);
        d.customs_value = Some(1e300);
        let q = DataQuality::new(date("2024-06-30")).check(&d);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].code, "quality.absurd_value");
        assert!(q[0].text.contains("USD"), "{}", q[0].text);
        d.customs_value = Some(f64::INFINITY);
        assert_eq!(codes(&d), ["quality.absurd_value"]);
    }

    #[test]
    fn unknown_hs_code() {
        let mut d = clean();
        d.hs_code = HsCode::parse("999999").expect("six digits");
        assert_eq!(codes(&d), ["quality.unknown_hs_code"]);
    }

    #[test]
    fn unknown_countries() {
        let mut d = clean();
        d.origin_country = "ZZ".into();
        assert_eq!(codes(&d), ["quality.unknown_origin"]);
        d.origin_country = "CN".into();
        d.departure_country = Some("QQQ".into());
        assert_eq!(codes(&d), ["quality.unknown_departure"]);
        assert!(is_country("kr") && is_country("KOR") && !is_country("ZZ"));
    }

    #[test]
    fn impossible_and_future_dates_relative_to_the_reference_date() {
        let mut d = clean();
        d.date = date("9999-12-31");
        assert_eq!(codes(&d), ["quality.future_date"]);
        d.date = date("1900-01-01");
        assert_eq!(codes(&d), ["quality.impossible_date"]);
        // The same date is fine as of a later reference date: no wall clock involved.
        d.date = date("2030-01-01");
        assert_eq!(codes(&d), ["quality.future_date"]);
        assert!(DataQuality::new(date("2030-01-01")).check(&d).is_empty());
    }

    #[test]
    fn only_findings_no_real_shipment_can_have_are_impossible() {
        assert!(is_impossible("quality.absurd_value") && is_impossible("quality.future_date"));
        assert!(!is_impossible("quality.zero_mass") && !is_impossible("quality.unknown_hs_code"));
    }

    #[test]
    fn several_problems_are_all_reported_in_a_fixed_order() {
        let mut d = clean();
        d.net_mass_kg = Some(0.0);
        d.customs_value = Some(1e300);
        d.hs_code = HsCode::parse("999999").expect("six digits");
        d.origin_country = "ZZ".into();
        d.date = date("9999-12-31");
        assert_eq!(
            codes(&d),
            [
                "quality.zero_mass",
                "quality.absurd_value",
                "quality.unknown_hs_code",
                "quality.unknown_origin",
                "quality.future_date"
            ]
        );
    }
}
