//! Valuation use cases: unit-value benchmarks built from declaration history, and declarations
//! checked against them (a trader's self-check, an officer's review).

use crate::declarations::{self, Source};
use crate::{AppError, Result};
use borderline_core::{Declaration, Reason};
use borderline_ingest::{IngestReport, Quarantined};
use borderline_valuation::{BenchmarkBuilder, Benchmarks, Check, CheckOutcome, Config};
use chrono::NaiveDate;
use serde::Serialize;
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
    /// Zero or missing mass or value, or a currency mismatch: a finding, not a price check.
    pub data_quality: bool,
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
/// order (bounded memory).
pub fn check_file(
    input: &Source,
    benchmarks: &BenchmarkSource,
    mut emit: impl FnMut(&Declaration, Checked) -> Result<()>,
) -> Result<CheckSummary> {
    let (b, history) = match benchmarks {
        BenchmarkSource::File(p) => (Benchmarks::load(p)?, Vec::new()),
        BenchmarkSource::History { files, config } => {
            let mut first: Option<NaiveDate> = None;
            declarations::stream(input, true, |d| {
                first = Some(first.map_or(d.date, |f| f.min(d.date)));
                Ok(())
            })?;
            let built = build_benchmarks(files, config.clone(), first)?;
            (built.benchmarks, built.history)
        }
    };
    let (mut checked, mut flagged, mut data_quality) = (0u64, 0u64, 0u64);
    let (report, _, quarantined) = declarations::stream(input, true, |d| {
        let c = b.check(&d);
        let reasons = b.reasons(&d, &c);
        let dq = matches!(c.outcome, CheckOutcome::DataQuality { .. });
        checked += 1;
        flagged += u64::from(c.flagged);
        data_quality += u64::from(dq);
        emit(
            &d,
            Checked {
                declaration_id: d.declaration_id.to_string(),
                check: c,
                reasons,
                data_quality: dq,
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
    }
}

/// Loads a benchmarks file written by `valuation build`.
pub fn load_benchmarks(path: &std::path::Path) -> Result<Benchmarks> {
    Ok(Benchmarks::load(path)?)
}
