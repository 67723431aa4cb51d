use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// Short identifiers and codes are stored inline (no heap allocation up to 24 bytes):
/// ingest creates tens of them per declaration.
pub type Text = CompactString;

/// One customs import declaration (one item line), as Borderline understands it regardless of
/// the source layout. Optional fields are `None` when the source did not carry them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declaration {
    pub declaration_id: Text,
    pub date: NaiveDate,
    pub office: Text,
    pub declarant: Text,
    pub importer: Text,
    /// Seller / consignor abroad.
    pub seller: Option<Text>,
    pub courier: Option<Text>,
    pub hs_code: HsCode,
    pub origin_country: Text,
    pub departure_country: Option<Text>,
    pub transport_mode: Text,
    pub process_type: Text,
    pub import_type: Text,
    pub import_use: Text,
    pub payment_type: Text,
    /// Net mass in kilograms.
    pub net_mass_kg: Option<f64>,
    /// Customs value (item price) in `currency`.
    pub customs_value: Option<f64>,
    /// ISO 4217 currency of `customs_value`.
    pub currency: Text,
    /// Duty rate in percent (8.0 means 8 %).
    pub tax_rate: Option<f64>,
    pub tax_type: Text,
    /// How origin was evidenced (certificate, marking, ...), as the source codes it.
    pub origin_indicator: Text,
    pub description: Option<String>,
    pub quantity: Option<f64>,
    pub quantity_unit: Option<Text>,
    /// Known only for inspected historical declarations.
    pub outcome: Option<InspectionOutcome>,
}

/// A currency code as an officer reads it beside an amount: the code, or "(no currency)" when
/// the source declared none (a generic layout without a `currency` column and no default), so
/// that no amount is ever shown as a bare number.
pub fn currency_shown(code: &str) -> &str {
    if code.trim().is_empty() {
        "(no currency)"
    } else {
        code
    }
}

/// An amount as an officer reads it (a unit value, a benchmark median or quantile, a duty at
/// risk): **three significant digits**, whole numbers from 100 up, plain decimals down to one
/// millionth, so `2.00`, `10.0`, `0.523`, `0.0123`, `123`, `123456`; `0` for zero; scientific
/// notation (`1.23e-7`, `1.23e15`) only outside everyday sizes; `n/a` for NaN and infinities.
///
/// Why this rule: the reader compares the amount with others beside it (declared against the
/// median, the cell's quantiles) or acts on its size (a duty at risk), where a fourth digit is
/// noise that makes the sentence harder to read; integer digits are never dropped (`123456`,
/// not `123000`), and the digits are counted after rounding, so 99.96 reads `100`, not `100.0`.
/// One rule for the reasons (`borderline-valuation`) and the web pages and charts
/// (`borderline-server`), so the same amount reads the same on a case page and in its reason.
/// A label that must tell 0.1 %-wide price points apart needs more digits (the targeting
/// crate's price-point value keeps its own rule).
pub fn amount_shown(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-6..1e15).contains(&a) {
        return format!("{x:.2e}");
    }
    // The decimal exponent after rounding to three significant digits, read from the
    // formatted number itself (exact, unlike `log10` near powers of ten).
    let rounded = format!("{a:.2e}");
    let exponent: i32 = rounded
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let decimals = (2 - exponent).max(0) as usize;
    format!("{x:.decimals$}")
}

impl Declaration {
    /// Customs value per kilogram, when both are present and mass is positive.
    pub fn unit_value(&self) -> Option<f64> {
        match (self.customs_value, self.net_mass_kg) {
            (Some(v), Some(m)) if m > 0.0 && v.is_finite() && m.is_finite() => Some(v / m),
            _ => None,
        }
    }

    /// Duty at stake: customs value x duty rate (in the declaration's currency).
    pub fn tax_at_stake(&self) -> f64 {
        match (self.customs_value, self.tax_rate) {
            (Some(v), Some(r)) if v.is_finite() && r.is_finite() => (v * r / 100.0).max(0.0),
            _ => 0.0,
        }
    }
}

/// Result of a physical or documentary inspection of a past declaration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InspectionOutcome {
    /// Irregularity found (any fraud).
    pub fraud: bool,
    /// Severity: 0 = none, 1 = fraud, 2 = critical fraud.
    pub critical_level: u8,
    /// Revenue recovered by the inspection, when the source records it.
    pub amount_recovered: Option<f64>,
}

impl InspectionOutcome {
    pub fn is_critical(&self) -> bool {
        self.critical_level >= 2
    }
}

/// A Harmonized System code of 6 to 10 digits, kept as text so leading zeros survive
/// ("030617" is frozen shrimp; 30617 is not an HS code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HsCode(Text);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsCodeError {
    #[error("HS code {0:?} must have 6 to 10 digits")]
    Length(String),
    #[error("HS code {0:?} must contain only digits (dots and spaces are ignored)")]
    NonDigit(String),
}

impl HsCode {
    /// Parses a code, ignoring the dots and spaces tariff books print ("8541.40" → "854140").
    ///
    /// ```
    /// use borderline_core::HsCode;
    /// assert_eq!(HsCode::parse("0306.17").unwrap().hs4(), "0306");
    /// assert!(HsCode::parse("0306").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, HsCodeError> {
        let trimmed = raw.trim();
        // The common case, digits only, is taken as it is (no character-by-character copy).
        if (6..=10).contains(&trimmed.len()) && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(HsCode(Text::from(trimmed)));
        }
        let mut digits = Text::default();
        for c in raw.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                '.' | ' ' => {}
                _ => return Err(HsCodeError::NonDigit(raw.to_string())),
            }
        }
        if !(6..=10).contains(&digits.len()) {
            return Err(HsCodeError::Length(raw.to_string()));
        }
        Ok(HsCode(digits))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn hs2(&self) -> &str {
        &self.0[..2]
    }
    pub fn hs4(&self) -> &str {
        &self.0[..4]
    }
    pub fn hs6(&self) -> &str {
        &self.0[..6]
    }
}

impl TryFrom<String> for HsCode {
    type Error = HsCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        HsCode::parse(&s)
    }
}
impl From<HsCode> for String {
    fn from(h: HsCode) -> String {
        h.0.into()
    }
}
impl std::fmt::Display for HsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs_code_keeps_leading_zeros_and_levels() {
        let h = HsCode::parse("030617").unwrap();
        assert_eq!((h.hs2(), h.hs4(), h.hs6()), ("03", "0306", "030617"));
        assert_eq!(
            HsCode::parse("8541.40.10.00").unwrap().as_str(),
            "8541401000"
        );
    }

    #[test]
    fn hs_code_rejects_bad_lengths_and_letters() {
        assert!(matches!(HsCode::parse("0306"), Err(HsCodeError::Length(_))));
        assert!(matches!(
            HsCode::parse("85414010001"),
            Err(HsCodeError::Length(_))
        ));
        assert!(matches!(
            HsCode::parse("85414A"),
            Err(HsCodeError::NonDigit(_))
        ));
    }

    #[test]
    fn amounts_read_with_three_significant_digits() {
        let cases = [
            (2.0, "2.00"),
            (10.0, "10.0"),
            (64.0, "64.0"),
            (1.234_5, "1.23"),
            (0.523_4, "0.523"),
            (0.012_345, "0.0123"),
            (123.4, "123"),
            (123_456.7, "123457"),
            (999.6, "1000"),
            (99.96, "100"),
            (9.996, "10.0"),
            (0.099_96, "0.100"),
            (0.000_001, "0.00000100"),
            (999_999_999_999_999.0, "999999999999999"),
        ];
        for (x, shown) in cases {
            assert_eq!(amount_shown(x), shown, "{x}");
        }
    }

    #[test]
    fn amounts_keep_their_sign_and_never_panic() {
        assert_eq!(amount_shown(0.0), "0");
        assert_eq!(amount_shown(-0.0), "0");
        assert_eq!(amount_shown(-12.345), "-12.3");
        assert_eq!(amount_shown(-0.004_56), "-0.00456");
        assert_eq!(amount_shown(-123_456.0), "-123456");
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(amount_shown(x), "n/a");
        }
        // outside everyday sizes: scientific notation, never hundreds of digits
        assert_eq!(amount_shown(1.234e-7), "1.23e-7");
        assert_eq!(amount_shown(-1.234e-300), "-1.23e-300");
        assert_eq!(amount_shown(f64::MIN_POSITIVE / 4.0), "5.56e-309");
        assert_eq!(amount_shown(1e15), "1.00e15");
        assert_eq!(amount_shown(f64::MAX), "1.80e308");
        assert_eq!(amount_shown(f64::MIN), "-1.80e308");
        // every magnitude in between: at most three significant digits below 100, no panic
        let mut x = 1e-320;
        while x < 1e300 {
            for v in [x, -x, x * 1.999, x * 9.999] {
                let s = amount_shown(v);
                assert!(
                    !s.is_empty() && !s.contains("NaN") && !s.contains("inf"),
                    "{v}: {s}"
                );
                if (1e-6..100.0).contains(&v.abs()) {
                    let digits = s.trim_start_matches(['-', '0', '.']).replace('.', "");
                    assert!(digits.len() <= 3, "{v}: {s}");
                }
            }
            x *= 7.3;
        }
    }
}
