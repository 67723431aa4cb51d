//! Valuation use cases: unit-value benchmarks built from declaration history, and declarations
//! checked against them (a trader's self-check, an officer's review).

use crate::declarations::{self, Source};
use crate::{AppError, Result};
use borderline_core::ReasonKind;
use borderline_core::{Declaration, Reason};
use borderline_ingest::{IngestReport, Quarantined};
use borderline_valuation::{
    twin_gaps, BenchmarkBuilder, Benchmarks, Check, Config, Conversion, ExchangeRates, NoRate,
    TwinGap, TwinLine,
};
/// Check types the case page presents.
pub use borderline_valuation::{CheckOutcome, Direction, Level};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// Benchmarks and the accounting of each history file they were built from.
pub struct BuiltBenchmarks {
    pub benchmarks: Benchmarks,
    pub history: Vec<IngestReport>,
}

/// Builds benchmarks from history files in one streamed pass (bounded memory), covering the
/// window before `as_of`; without `as_of`, the day after the last accepted declaration.
pub fn build_benchmarks(
    history: &[Source],
    config: Config,
    as_of: Option<NaiveDate>,
) -> Result<BuiltBenchmarks> {
    let mut builder = BenchmarkBuilder::new(config)?;
    let mut last: Option<NaiveDate> = None;
    let mut reports = Vec::with_capacity(history.len());
    for source in history {
        let (report, _, _) = declarations::stream(source, true, |d| {
            last = last.max(Some(d.date));
            // Rows without a usable unit value are counted and skipped by the builder.
            builder.add(&d);
            Ok(())
        })?;
        reports.push(report);
    }
    let as_of = match as_of.or_else(|| last.and_then(|d| d.succ_opt())) {
        Some(d) => d,
        None => return Err(AppError::Invalid("no declarations in history".into())),
    };
    Ok(BuiltBenchmarks {
        benchmarks: builder.finalize(as_of),
        history: reports,
    })
}

/// Where the benchmarks of a check come from.
#[derive(Debug, Clone)]
pub enum BenchmarkSource {
    /// A file written by [`Benchmarks::save`].
    File(PathBuf),
    /// History files, built on the fly as of the first checked declaration's date.
    History { files: Vec<Source>, config: Config },
}

/// One checked declaration.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub declaration_id: String,
    pub check: Check,
    pub reasons: Vec<Reason>,
    /// Zero or missing mass or value, or a currency that cannot be converted to the
    /// benchmarks': a finding, not a price check.
    pub data_quality: bool,
    /// The exchange rate the declared value was converted with, when its currency is not the
    /// benchmarks'.
    pub conversion: Option<Conversion>,
    /// A line of the same file (same importer, seller, HS code, currency and net mass) whose
    /// unit value is many times this one's.
    pub twin_gap: Option<TwinGap>,
}

/// How a file is checked beyond its benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// Dated exchange rates into the benchmarks' currency; without them a declaration in
    /// another currency is a data-quality finding and compared with nothing.
    pub rates: Option<&'a ExchangeRates>,
}

/// The outcome of checking a file.
#[derive(Debug)]
pub struct CheckSummary {
    pub checked: u64,
    pub flagged: u64,
    pub data_quality: u64,
    pub input: IngestReport,
    /// Rows of the input that were not accepted.
    pub quarantined: Vec<Quarantined>,
    /// Accounting of the history files, when benchmarks were built from them.
    pub history: Vec<IngestReport>,
}

/// Checks every declaration of `input` against the benchmarks, handing each to `emit` in file
/// order, with no exchange-rate table ([`check_file_with`]).
pub fn check_file(
    input: &Source,
    benchmarks: &BenchmarkSource,
    emit: impl FnMut(&Declaration, Checked) -> Result<()>,
) -> Result<CheckSummary> {
    check_file_with(input, benchmarks, CheckOptions::default(), emit)
}

/// Checks every declaration of `input`, handing each to `emit` in file order. A value in
/// another currency than the benchmarks' is converted with `options.rates` (the rate of its
/// date) or, with no rate, reported and compared with nothing; benchmarks never mix
/// currencies. Lines priced at a fraction of a twin line of the same file are flagged (a
/// first pass keeps a few fields per line; the declarations themselves are streamed).
pub fn check_file_with(
    input: &Source,
    benchmarks: &BenchmarkSource,
    options: CheckOptions<'_>,
    mut emit: impl FnMut(&Declaration, Checked) -> Result<()>,
) -> Result<CheckSummary> {
    let mut first: Option<NaiveDate> = None;
    let mut lines: Vec<TwinLine> = Vec::new();
    declarations::stream(input, true, |d| {
        first = Some(first.map_or(d.date, |f| f.min(d.date)));
        lines.extend(TwinLine::of(&d));
        Ok(())
    })?;
    let mut twins: HashMap<String, TwinGap> = twin_gaps(&lines)
        .into_iter()
        .map(|g| (g.declaration_id.clone(), g))
        .collect();
    drop(lines);
    let (b, history) = match benchmarks {
        BenchmarkSource::File(p) => (Benchmarks::load(p)?, Vec::new()),
        BenchmarkSource::History { files, config } => {
            let built = build_benchmarks(files, config.clone(), first)?;
            (built.benchmarks, built.history)
        }
    };
    let (mut checked, mut flagged, mut data_quality) = (0u64, 0u64, 0u64);
    let (report, _, quarantined) = declarations::stream(input, true, |d| {
        let (c, mut reasons, conversion) = check_converted(&b, &d, options.rates);
        let twin_gap = twins.remove(d.declaration_id.as_str());
        if let Some(g) = &twin_gap {
            reasons.push(g.reason());
        }
        let dq = matches!(c.outcome, CheckOutcome::DataQuality { .. });
        checked += 1;
        flagged += u64::from(c.flagged || twin_gap.is_some());
        data_quality += u64::from(dq);
        emit(
            &d,
            Checked {
                declaration_id: d.declaration_id.to_string(),
                check: c,
                reasons,
                data_quality: dq,
                conversion,
                twin_gap,
            },
        )
    })?;
    declarations::require_accepted(&report, None, &quarantined)?;
    Ok(CheckSummary {
        checked,
        flagged,
        data_quality,
        input: report,
        quarantined,
        history,
    })
}

/// Checks one declaration against loaded benchmarks (an officer's review through a service).
pub fn check_one(benchmarks: &Benchmarks, d: &Declaration) -> Checked {
    let c = benchmarks.check(d);
    let reasons = benchmarks.reasons(d, &c);
    let data_quality = matches!(c.outcome, CheckOutcome::DataQuality { .. });
    Checked {
        declaration_id: d.declaration_id.to_string(),
        check: c,
        reasons,
        data_quality,
        conversion: None,
        twin_gap: None,
    }
}

/// Loads a benchmarks file written by `valuation build`.
pub fn load_benchmarks(path: &std::path::Path) -> Result<Benchmarks> {
    Ok(Benchmarks::load(path)?)
}

/// One declaration checked in the benchmarks' currency: converted with `rates` when its own
/// currency differs, else a currency finding that names the missing rate.
pub fn check_converted(
    b: &Benchmarks,
    d: &Declaration,
    rates: Option<&ExchangeRates>,
) -> (Check, Vec<Reason>, Option<Conversion>) {
    let target = match b.currency.as_deref() {
        Some(t) if !t.eq_ignore_ascii_case(d.currency.as_str()) => t,
        _ => {
            let c = b.check(d);
            let reasons = b.reasons(d, &c);
            return (c, reasons, None);
        }
    };
    let converted = match rates {
        Some(r) => r.convert(d, target),
        None => Err(NoRate {
            declared: d.currency.to_string(),
            benchmarks: target.to_string(),
            date: d.date,
        }),
    };
    match converted {
        Ok((in_target, conversion)) => {
            let c = b.check(&in_target);
            let reasons = b.reasons(&in_target, &c);
            (c, reasons, conversion)
        }
        Err(no_rate) => {
            // Compared with nothing: the check's own currency finding, phrased with the rate
            // that is missing.
            let c = b.check(d);
            let text = match rates {
                Some(_) => no_rate.to_string(),
                None => format!("{no_rate}: no exchange-rate table given"),
            };
            let reasons = vec![Reason {
                kind: ReasonKind::DataQuality,
                code: "valuation_currency_mismatch".into(),
                text,
                contribution: None,
            }];
            (c, reasons, None)
        }
    }
}
