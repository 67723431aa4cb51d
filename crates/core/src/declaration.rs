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
}
