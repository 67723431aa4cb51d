//! Valuation analysis for Borderline.
//!
//! * [`BenchmarkBuilder`] accumulates log unit values (customs value per kg, and per declared
//!   quantity unit where present) per HS6 x origin cell and per trader's own history, keyed by
//!   declaration date, incrementally. [`BenchmarkBuilder::finalize`] turns the trailing window
//!   before an `as_of` date into [`Benchmarks`]: robust statistics of the log unit value
//!   (median, quartiles, 1st/5th/95th/99th percentiles, MAD) per cell at four levels
//!   (HS6 x origin, HS6, HS4, HS2) and per importer x HS6 and seller x HS6.
//! * [`Benchmarks::check`] flags one declaration: fallback level, robust z against its cell,
//!   percentile, a combined score that also uses the trader's and seller's own price history,
//!   direction, duty at risk and officer-phrased reasons. Zero or missing mass/value and
//!   currency mismatches are data-quality findings, never a division.
//! * [`ExchangeRates`] converts a declared value into the benchmarks' currency with a dated
//!   rate table, or says there is no rate for that date (then nothing is compared).
//! * [`twin_gaps`] flags a line priced at a fraction of its twin in the same file (same
//!   importer, seller, HS code, currency and net mass): no history needed.
//! * [`ValuationSignal`] exposes the same as a `borderline_core::Signal`.
//!
//! Front ends call the use cases of `borderline-app`; the seeded noise + injection evaluation
//! against the IQR price filter and the plain robust z-score lives in `borderline-devkit`.

mod benchmark;
mod check;
mod error;
mod key;
pub mod rates;
mod signal;
mod stats;
pub mod twins;

pub use benchmark::{
    log_unit_value, AddOutcome, BenchmarkBuilder, Benchmarks, CellStats, Config, PartyStats,
    Problem, Product, Span, Tuning,
};
pub use check::{Assessment, Check, CheckOutcome, Direction, Finding, Quality, QuickCheck, Status};
pub use error::ValuationError;
pub use key::{hs6_number, Basis, Level};
pub use rates::{Conversion, ExchangeRates, NoRate, RatesError};
pub use signal::ValuationSignal;
pub use twins::{twin_gaps, TwinGap, TwinLine};
