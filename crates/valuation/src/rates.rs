//! Dated exchange rates: the declared currency is converted to the benchmarks' currency before
//! a unit value is compared, or the declaration is compared with nothing.
//!
//! File format (CSV with a header, one rate a line; docs/data.md):
//!
//! ```text
//! date,currency,base,rate
//! 2021-04-01,USD,KRW,1131.50
//! ```
//!
//! meaning "on 2021-04-01 one USD was worth 1,131.50 KRW". A declaration dated `d` uses the
//! latest rate dated on or before `d`, if it is at most [`MAX_RATE_AGE_DAYS`] old; customs
//! administrations publish weekly or monthly rates, so an older rate is a gap in the table,
//! not a rate. The inverse direction (a KRW value into USD benchmarks) uses `1 / rate`.

use borderline_core::Declaration;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A rate older than this many days (before the declaration date) is not used: 31 days covers
/// a monthly customs rate table.
pub const MAX_RATE_AGE_DAYS: i64 = 31;

/// A rate table that cannot be used, with the line and field to fix.
#[derive(Debug, thiserror::Error)]
pub enum RatesError {
    #[error("exchange-rate file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("exchange-rate file {path}, line {line}: {message}")]
    Row {
        path: String,
        line: u64,
        message: String,
    },
    #[error("exchange-rate file {path}: {message}")]
    Header { path: String, message: String },
}

/// Dated exchange rates, by (currency, base) pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExchangeRates {
    /// (currency, base) -> date -> units of base per unit of currency.
    pairs: BTreeMap<(String, String), BTreeMap<NaiveDate, f64>>,
}

/// One conversion applied to a declared value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    /// Units of `to` per unit of `from`.
    pub rate: f64,
    /// Date of the rate used.
    pub rate_date: NaiveDate,
}

/// Why a declared value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoRate {
    pub declared: String,
    pub benchmarks: String,
    pub date: NaiveDate,
}

impl std::fmt::Display for NoRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let declared = if self.declared.trim().is_empty() {
            "no currency"
        } else {
            self.declared.as_str()
        };
        write!(
            f,
            "value declared in {declared}; benchmarks are in {} and no rate for that date ({})",
            self.benchmarks, self.date
        )
    }
}

fn currency_code(s: &str) -> Option<String> {
    let c = s.trim().to_ascii_uppercase();
    (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

impl ExchangeRates {
    /// Adds one rate: one `currency` is worth `rate` `base` on `date`.
    pub fn insert(&mut self, date: NaiveDate, currency: &str, base: &str, rate: f64) {
        self.pairs
            .entry((currency.to_ascii_uppercase(), base.to_ascii_uppercase()))
            .or_default()
            .insert(date, rate);
    }

    /// Number of rates in the table.
    pub fn len(&self) -> usize {
        self.pairs.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads a `date,currency,base,rate` CSV file; every malformed row is an error naming its
    /// line (a rate table is small and must be right, so nothing is skipped).
    pub fn load(path: &Path) -> Result<ExchangeRates, RatesError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| RatesError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::read(file, &shown)
    }

    /// [`ExchangeRates::load`] from any reader; `name` is used in errors.
    pub fn read(input: impl std::io::Read, name: &str) -> Result<ExchangeRates, RatesError> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(input);
        let header = rdr
            .headers()
            .map_err(|e| RatesError::Header {
                path: name.to_string(),
                message: e.to_string(),
            })?
            .clone();
        let col = |want: &str| -> Result<usize, RatesError> {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(want))
                .ok_or_else(|| RatesError::Header {
                    path: name.to_string(),
                    message: format!("missing column {want:?} (expected date,currency,base,rate)"),
                })
        };
        let (c_date, c_cur, c_base, c_rate) =
            (col("date")?, col("currency")?, col("base")?, col("rate")?);
        let mut rates = ExchangeRates::default();
        for (i, rec) in rdr.records().enumerate() {
            let line = rec
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(i as u64 + 2, |p| p.line());
            let bad = |message: String| RatesError::Row {
                path: name.to_string(),
                line,
                message,
            };
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let field = |i: usize| rec.get(i).unwrap_or("");
            let quote = |s: &str| s.chars().take(40).collect::<String>();
            let date = NaiveDate::parse_from_str(field(c_date), "%Y-%m-%d")
                .map_err(|_| bad(format!("date {:?} is not YYYY-MM-DD", quote(field(c_date)))))?;
            let currency = currency_code(field(c_cur)).ok_or_else(|| {
                bad(format!(
                    "currency {:?} is not a 3-letter ISO 4217 code",
                    quote(field(c_cur))
                ))
            })?;
            let base = currency_code(field(c_base)).ok_or_else(|| {
                bad(format!(
                    "base {:?} is not a 3-letter ISO 4217 code",
                    quote(field(c_base))
                ))
            })?;
            let rate: f64 = field(c_rate)
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .ok_or_else(|| {
                    bad(format!(
                        "rate {:?} is not a positive number",
                        quote(field(c_rate))
                    ))
                })?;
            rates.insert(date, &currency, &base, rate);
        }
        Ok(rates)
    }

    /// Units of `to` per unit of `from` on `date` (the latest rate on or before it, at most
    /// [`MAX_RATE_AGE_DAYS`] old; directly or by the inverse pair). Same currency: 1.
    pub fn rate(&self, from: &str, to: &str, date: NaiveDate) -> Option<(f64, NaiveDate)> {
        let (from, to) = (
            from.trim().to_ascii_uppercase(),
            to.trim().to_ascii_uppercase(),
        );
        if from.is_empty() || to.is_empty() {
            return None;
        }
        if from == to {
            return Some((1.0, date));
        }
        let latest = |pair: &(String, String)| {
            self.pairs.get(pair).and_then(|by_day| {
                by_day
                    .range(..=date)
                    .next_back()
                    .filter(|(d, _)| (date - **d).num_days() <= MAX_RATE_AGE_DAYS)
                    .map(|(d, r)| (*r, *d))
            })
        };
        let direct = latest(&(from.clone(), to.clone()));
        let inverse = latest(&(to, from)).map(|(r, d)| (1.0 / r, d));
        // The more recent of the two directions.
        match (direct, inverse) {
            (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// The declaration with its customs value in `to`, or why it cannot be converted.
    pub fn convert(
        &self,
        d: &Declaration,
        to: &str,
    ) -> Result<(Declaration, Option<Conversion>), NoRate> {
        if d.currency.as_str().eq_ignore_ascii_case(to) {
            return Ok((d.clone(), None));
        }
        let no_rate = || NoRate {
            declared: d.currency.to_string(),
            benchmarks: to.to_string(),
            date: d.date,
        };
        let (rate, rate_date) = self
            .rate(d.currency.as_str(), to, d.date)
            .ok_or_else(no_rate)?;
        let mut out = d.clone();
        out.customs_value = d.customs_value.map(|v| v * rate);
        out.currency = to.into();
        Ok((
            out,
            Some(Conversion {
                from: d.currency.to_string(),
                to: to.to_string(),
                rate,
                rate_date,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    const TABLE: &str = "date,currency,base,rate\n\
        # illustrative\n\
        2021-04-01,USD,KRW,1130\n\
        2021-05-01,usd,krw,1120\n\
        2021-04-01,KRW,EUR,0.00075\n";

    #[test]
    fn the_latest_rate_on_or_before_the_date_applies_within_a_month() {
        let r = ExchangeRates::read(TABLE.as_bytes(), "t").expect("reads");
        assert_eq!(r.len(), 3);
        assert_eq!(
            r.rate("USD", "KRW", day("2021-04-15")),
            Some((1130.0, day("2021-04-01")))
        );
        assert_eq!(
            r.rate("USD", "KRW", day("2021-05-03")),
            Some((1120.0, day("2021-05-01")))
        );
        assert_eq!(
            r.rate("USD", "KRW", day("2021-03-31")),
            None,
            "before the first rate"
        );
        assert_eq!(
            r.rate("USD", "KRW", day("2021-07-01")),
            None,
            "older than a month"
        );
        let (inv, _) = r.rate("KRW", "USD", day("2021-04-02")).expect("inverse");
        assert!((inv - 1.0 / 1130.0).abs() < 1e-12);
        assert_eq!(
            r.rate("KRW", "KRW", day("2021-04-02")),
            Some((1.0, day("2021-04-02")))
        );
        assert_eq!(r.rate("GBP", "KRW", day("2021-04-02")), None);
    }

    #[test]
    fn a_malformed_row_names_its_line_and_field() {
        let bad = "date,currency,base,rate\n2021-04-01,USD,KRW,1130\n2021-04-02,USD,KRW,-3\n";
        let e = ExchangeRates::read(bad.as_bytes(), "r.csv").expect_err("negative rate");
        assert!(e.to_string().contains("r.csv, line 3: rate \"-3\""), "{e}");
        let e = ExchangeRates::read("day,currency\n".as_bytes(), "r.csv").expect_err("header");
        assert!(e.to_string().contains("missing column \"date\""), "{e}");
        let e = ExchangeRates::read(
            "date,currency,base,rate\n2021-04-01,US Dollar,KRW,1\n".as_bytes(),
            "r.csv",
        )
        .expect_err("code");
        assert!(e.to_string().contains("line 2: currency"), "{e}");
    }
}
