use crate::Field;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// How a source layout maps onto declaration fields: source column name per field, plus
/// constant defaults for fields the source does not carry (e.g. the currency of a national
/// extract).
///
/// Two layouts are built in: [`Profile::korea_customs`] (the bundled Korea Customs Service
/// extract) and [`Profile::generic`] (column names equal to [`Field::name`], documented in the
/// README). Others load from a JSON file:
///
/// ```json
/// {"name": "my-broker", "columns": {"declaration_id": "Entry No", "date": "Entry Date", ...},
///  "defaults": {"currency": "USD"},
///  "date_format": "%d.%m.%Y", "decimal_separator": ",", "thousands_separator": "."}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub columns: BTreeMap<Field, String>,
    pub defaults: BTreeMap<Field, String>,
    /// How the source writes dates and numbers (default: ISO dates, `.` decimals).
    pub formats: ValueFormats,
    /// CSV field delimiter; `None`: a comma, or `;` / tab when the header line has no comma.
    pub delimiter: Option<u8>,
}

/// How a national extract writes dates and numbers when not as ISO and `1234.5`.
///
/// Why in the profile and never guessed: "03/04/2021" is the 3rd of April in one
/// administration and the 4th of March in another, and "1.234" is a thousand and more in one
/// and one and a bit in the other. Reading either the wrong way accepts every row with wrong
/// dates or values 1,000 times off; the profile states the convention, and a value that does
/// not follow it is quarantined with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueFormats {
    /// A chrono `strftime` pattern of the date column (`%d/%m/%Y`); `None`: ISO `YYYY-MM-DD`,
    /// `YYYYMMDD` and `YYYY/MM/DD` (a time after the date is ignored).
    pub date: Option<String>,
    /// `,` or `.` (the default).
    pub decimal: char,
    /// Digit-group separator (`.`, `,`, space, `'` or `_`), accepted only between groups of
    /// three digits; `None`: no grouping.
    pub thousands: Option<char>,
}

impl ValueFormats {
    /// Numbers written as `str::parse` reads them (`.` decimals, no digit groups): the
    /// fast path of every numeric field.
    pub fn plain_numbers(&self) -> bool {
        self.decimal == '.' && self.thousands.is_none()
    }

    /// Reads a number written in this convention (`None`: not a number in it). Signs and an
    /// exponent are accepted as `str::parse` accepts them; the range is checked by the caller.
    pub fn parse_number(&self, s: &str) -> Option<f64> {
        if self.plain_numbers() {
            return s.parse().ok();
        }
        let (sign, body) = match s.as_bytes().first() {
            Some(b'-') | Some(b'+') => s.split_at(1),
            _ => ("", s),
        };
        let (int, rest) = match body.find([self.decimal, 'e', 'E']) {
            Some(i) => body.split_at(i),
            None => (body, ""),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let int_digits = match self.thousands {
            Some(sep) if int.contains(sep) => {
                let mut groups = int.split(sep);
                let first = groups.next().unwrap_or("");
                let ok =
                    digits(first) && first.len() <= 3 && groups.all(|g| g.len() == 3 && digits(g));
                if !ok {
                    return None;
                }
                int.replace(sep, "")
            }
            _ if digits(int) => int.to_string(),
            _ => return None,
        };
        let mut text = String::with_capacity(s.len());
        text.push_str(sign);
        text.push_str(&int_digits);
        let rest = match rest.strip_prefix(self.decimal) {
            Some(fraction) => {
                let end = fraction.find(['e', 'E']).unwrap_or(fraction.len());
                if !digits(&fraction[..end]) {
                    return None;
                }
                text.push('.');
                text.push_str(&fraction[..end]);
                &fraction[end..]
            }
            None => rest,
        };
        if !rest.is_empty() {
            let exponent = rest[1..].strip_prefix(['+', '-']).unwrap_or(&rest[1..]);
            if !digits(exponent) {
                return None;
            }
            text.push_str(rest);
        }
        text.parse().ok()
    }

    /// How this convention writes a number, for messages ("1.234,5").
    pub fn describe_number(&self) -> String {
        let mut example = String::from("1");
        if let Some(sep) = self.thousands {
            example.push(sep);
        }
        example.push_str("234");
        example.push(self.decimal);
        example.push('5');
        example
    }

    fn check(&self) -> Result<(), String> {
        if !matches!(self.decimal, '.' | ',') {
            return Err(format!(
                "decimal_separator {:?} is not \".\" or \",\"",
                self.decimal
            ));
        }
        if let Some(sep) = self.thousands {
            if !matches!(sep, '.' | ',' | ' ' | '\'' | '_') || sep == self.decimal {
                return Err(format!(
                    "thousands_separator {sep:?} must be one of . , space ' _ and differ from the decimal separator"
                ));
            }
        }
        if let Some(pattern) = &self.date {
            check_date_format(pattern)?;
        }
        Ok(())
    }

    /// The date `d` written in this convention (for placeholders and messages).
    pub(crate) fn write_date(&self, d: chrono::NaiveDate) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        // A pattern with error items (a profile built in code, not checked) writes nothing.
        let pattern = self.date.as_deref().unwrap_or("%Y-%m-%d");
        if write!(out, "{}", d.format(pattern)).is_err() {
            out.clear();
        }
        out
    }
}

/// A date pattern must be valid `strftime` and read a whole date back from what it writes
/// (day, month and year present), or every row of every file would be quarantined.
fn check_date_format(pattern: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    if StrftimeItems::new(pattern).any(|item| matches!(item, Item::Error)) {
        return Err(format!(
            "date_format {pattern:?} is not a strftime pattern (e.g. \"%d/%m/%Y\")"
        ));
    }
    let probe = chrono::NaiveDate::from_ymd_opt(2021, 12, 31).unwrap_or_default();
    let mut written = String::new();
    let read_back = write!(written, "{}", probe.format(pattern))
        .ok()
        .and_then(|()| chrono::NaiveDate::parse_from_str(&written, pattern).ok());
    if read_back != Some(probe) {
        return Err(format!(
            "date_format {pattern:?} does not read a whole date back (it needs the day, month and year, e.g. \"%d/%m/%Y\")"
        ));
    }
    Ok(())
}

impl Default for ValueFormats {
    fn default() -> Self {
        ValueFormats {
            date: None,
            decimal: '.',
            thousands: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {path} is not valid JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("profile {path}: unknown declaration field {field:?} (known: {known})")]
    UnknownField {
        path: String,
        field: String,
        known: String,
    },
    #[error("profile {path}: {reason}")]
    BadFormat { path: String, reason: String },
    #[error("profile {path}: default for {field} is unusable: {reason}")]
    BadDefault {
        path: String,
        field: Field,
        reason: String,
    },
    #[error("profile file not found: {0}")]
    NotFound(String),
    #[error("unknown profile {0:?}: use korea-customs, generic or a path to a JSON profile")]
    Unknown(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: Option<String>,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    date_format: Option<String>,
    decimal_separator: Option<char>,
    thousands_separator: Option<char>,
    delimiter: Option<char>,
}

impl Profile {
    /// The Korea Customs Service synthetic declarations layout (values in KRW).
    pub fn korea_customs() -> Profile {
        use Field::*;
        let columns = [
            (DeclarationId, "Declaration ID"),
            (Date, "Date"),
            (Office, "Office ID"),
            (ProcessType, "Process Type"),
            (ImportType, "Import Type"),
            (ImportUse, "Import Use"),
            (PaymentType, "Payment Type"),
            (TransportMode, "Mode of Transport"),
            (Declarant, "Declarant ID"),
            (Importer, "Importer ID"),
            (Seller, "Seller ID"),
            (Courier, "Courier ID"),
            (HsCode, "HS6 Code"),
            (DepartureCountry, "Country of Departure"),
            (OriginCountry, "Country of Origin"),
            (TaxRate, "Tax Rate"),
            (TaxType, "Tax Type"),
            (OriginIndicator, "Country of Origin Indicator"),
            (NetMassKg, "Net Mass"),
            (CustomsValue, "Item Price"),
            (Fraud, "Fraud"),
            (CriticalLevel, "Critical Fraud"),
        ]
        .into_iter()
        .map(|(f, c)| (f, c.to_string()))
        .collect();
        Profile {
            name: "korea-customs".into(),
            columns,
            defaults: [(Field::Currency, "KRW".to_string())].into_iter().collect(),
            formats: ValueFormats::default(),
            delimiter: None,
        }
    }

    /// The documented generic layout: one column per field, named as [`Field::name`].
    pub fn generic() -> Profile {
        Profile {
            name: "generic".into(),
            columns: Field::ALL
                .iter()
                .map(|f| (*f, f.name().to_string()))
                .collect(),
            defaults: BTreeMap::new(),
            formats: ValueFormats::default(),
            delimiter: None,
        }
    }

    /// `korea-customs`, `generic`, or a path to a JSON profile file.
    pub fn resolve(spec: &str) -> Result<Profile, ProfileError> {
        match spec {
            "korea-customs" | "korea" | "kcs" => Ok(Profile::korea_customs()),
            "generic" => Ok(Profile::generic()),
            path if Path::new(path).is_file() => Profile::from_json_file(Path::new(path)),
            // Anything shaped like a path is a file the user meant, not a profile name.
            path if path.contains(['/', '\\']) || path.to_ascii_lowercase().ends_with(".json") => {
                Err(ProfileError::NotFound(path.to_string()))
            }
            other => Err(ProfileError::Unknown(crate::reader::bounded(other))),
        }
    }

    pub fn from_json_file(path: &Path) -> Result<Profile, ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ProfileError::NotFound(shown.clone()),
            _ => ProfileError::Io {
                path: shown.clone(),
                source,
            },
        })?;
        Profile::from_json_str(&text, &shown)
    }

    /// Parses a JSON profile; `shown` names it in errors (and is its name when it has none).
    pub fn from_json_str(text: &str, shown: &str) -> Result<Profile, ProfileError> {
        let shown = shown.to_string();
        let file: ProfileFile =
            serde_json::from_str(text).map_err(|source| ProfileError::Json {
                path: shown.clone(),
                source,
            })?;
        let field = |name: String| {
            Field::from_name(&name).ok_or_else(|| ProfileError::UnknownField {
                path: shown.clone(),
                field: crate::reader::bounded(&name),
                known: Field::ALL.map(|f| f.name()).join(", "),
            })
        };
        let formats = ValueFormats {
            date: file.date_format,
            decimal: file.decimal_separator.unwrap_or('.'),
            thousands: file.thousands_separator,
        };
        formats.check().map_err(|reason| ProfileError::BadFormat {
            path: shown.clone(),
            reason,
        })?;
        let delimiter = match file.delimiter {
            None => None,
            Some(c @ (',' | ';' | '\t' | '|')) => Some(c as u8),
            Some(c) => {
                return Err(ProfileError::BadFormat {
                    path: shown,
                    reason: format!("delimiter {c:?} is not one of , ; | or a tab"),
                })
            }
        };
        let mut columns = BTreeMap::new();
        for (k, v) in file.columns {
            columns.insert(field(k)?, v);
        }
        let mut defaults = BTreeMap::new();
        for (k, v) in file.defaults {
            let f = field(k)?;
            // A bad constant would otherwise quarantine every row of every file.
            crate::reader::check_value(f, &v, &formats).map_err(|reason| {
                ProfileError::BadDefault {
                    path: shown.clone(),
                    field: f,
                    reason,
                }
            })?;
            defaults.insert(f, v);
        }
        Ok(Profile {
            name: file.name.unwrap_or(shown),
            columns,
            defaults,
            formats,
            delimiter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ValueFormats;

    fn convention(decimal: char, thousands: Option<char>) -> ValueFormats {
        ValueFormats {
            date: None,
            decimal,
            thousands,
        }
    }

    #[test]
    fn numbers_are_read_only_in_the_stated_convention() {
        let eu = convention(',', Some('.'));
        for (text, value) in [
            ("1.234.567,89", Some(1_234_567.89)),
            ("1234567,89", Some(1_234_567.89)),
            ("999", Some(999.0)),
            ("-1.000", Some(-1000.0)),
            ("+0,5", Some(0.5)),
            ("1,5e3", Some(1500.0)),
            ("1,5E-1", Some(0.15)),
            // Groups of other than three digits, a second decimal mark, the other convention.
            ("12.34", None),
            ("1.234.5", None),
            ("1,2,3", None),
            ("1,234.50", None),
            (",5", None),
            ("1,", None),
            ("", None),
            ("-", None),
            ("1e", None),
            ("NaN", None),
            ("1.234,5x", None),
        ] {
            assert_eq!(eu.parse_number(text), value, "{text:?}");
        }
        let swiss = convention('.', Some('\''));
        assert_eq!(swiss.parse_number("1'234.5"), Some(1234.5));
        assert_eq!(swiss.parse_number("1'23.5"), None);
        let comma_only = convention(',', None);
        assert_eq!(comma_only.parse_number("1234,5"), Some(1234.5));
        assert_eq!(comma_only.parse_number("1.234"), None);
        // The built-in convention is exactly `str::parse`.
        let plain = ValueFormats::default();
        assert!(plain.plain_numbers());
        for text in ["1234.5", ".5", "1e3", "inf", "1,5", "x"] {
            assert_eq!(
                plain.parse_number(text),
                text.parse::<f64>().ok(),
                "{text:?}"
            );
        }
        assert_eq!(eu.describe_number(), "1.234,5");
    }
}
