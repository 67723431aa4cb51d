//! Inspection feedback as use cases.
//!
//! An outcome is evidence in the audit trail that joins a decision to what the inspection
//! found, and it becomes training data. What a customs auditor expects of it, checked before
//! anything is recorded (all or none):
//! * it is about a declaration this governance store **decided**: a decision on that
//!   declaration id is in the audit log (from `select`, the service, or a stream worker). An
//!   outcome for an id nothing decided is a typo or another system's declaration; it is
//!   rejected, naming the file, line and field, never stored as an orphan.
//! * it is dated on a day that can have happened: not after the reference day (today, passed in
//!   by the caller) by more than [`FUTURE_TOLERANCE_DAYS`] and not before
//!   [`EARLIEST_PLAUSIBLE_DATE`] (the same thresholds as the data-quality checks of
//!   declarations).

use crate::{AppError, Result};
use borderline_core::{Declaration, InspectionOutcome};
use borderline_governance::audit::AuditEvent;
use borderline_governance::feedback::{FeedbackLog, Outcome};
use borderline_governance::store::in_tx;
use borderline_governance::{Actor, GovernanceStore};
pub use borderline_quality::{EARLIEST_PLAUSIBLE_DATE, FUTURE_TOLERANCE_DAYS};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

/// Why `outcome` cannot be recorded as of `as_of` (`decided`: a decision on its declaration
/// is recorded), naming the field: `(field, problem)`.
fn implausible(
    outcome: &Outcome,
    decided: bool,
    as_of: NaiveDate,
) -> Option<(&'static str, String)> {
    if !decided {
        return Some((
            "declaration_id",
            format!(
                "{:?}: no decision on this declaration is recorded in this governance store \
                 (outcomes are recorded for declarations decided by `borderline select`, the \
                 service or a stream worker)",
                borderline_ingest::bounded(&outcome.declaration_id)
            ),
        ));
    }
    let (y, m, d) = EARLIEST_PLAUSIBLE_DATE;
    let earliest = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    let latest = as_of
        .checked_add_signed(chrono::Duration::days(FUTURE_TOLERANCE_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if outcome.decided_on > latest {
        return Some((
            "decided_on",
            format!(
                "{} is in the future (today is {as_of}; at most {FUTURE_TOLERANCE_DAYS} days ahead \
                 are accepted for time zones)",
                outcome.decided_on
            ),
        ));
    }
    if outcome.decided_on < earliest {
        return Some((
            "decided_on",
            format!(
                "{} is before {earliest}, earlier than any electronic customs decision",
                outcome.decided_on
            ),
        ));
    }
    None
}

/// For each declaration id, whether a decision on it is recorded: one indexed look-up per id
/// in one read transaction. The index row names an audit record, and the record itself (read
/// from the chain) must be a decision on that declaration, so a row planted in the index alone
/// decides nothing.
fn decided<'a>(
    store: &dyn GovernanceStore,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<bool>> {
    let ids: Vec<&str> = ids.into_iter().map(str::trim).collect();
    let hits = in_tx(store, false, |tx| {
        ids.iter()
            .map(|id| tx.latest_decision(id))
            .collect::<std::result::Result<Vec<_>, _>>()
    })?;
    Ok(ids
        .iter()
        .zip(hits)
        .map(|(id, hit)| {
            hit.is_some_and(|h| {
                matches!(h.record.event(), Ok(AuditEvent::Decision(d)) if d.declaration_id == *id)
            })
        })
        .collect())
}

/// Records one outcome by `by` as of the day `as_of` (today); returns its id. Refused with
/// [`AppError::Field`] (`declaration_id` or `decided_on`) when no decision on the declaration is
/// recorded or the date cannot have happened (see the module).
pub fn record(
    store: &dyn GovernanceStore,
    by: &Actor,
    outcome: &Outcome,
    as_of: NaiveDate,
) -> Result<i64> {
    let decided = decided(store, [outcome.declaration_id.as_str()])?;
    if let Some((field, problem)) = implausible(outcome, decided[0], as_of) {
        return Err(AppError::Field {
            field: field.into(),
            problem,
        });
    }
    Ok(FeedbackLog::new(store).record(outcome, by)?)
}

/// Records outcomes by `by` in one transaction (all or none); returns their ids. The audit
/// records name `by`, whatever officer the outcomes name. Refused as a whole, naming the first
/// offending outcome's index and field (`[3].decided_on`), under the checks of [`record`].
pub fn record_all(
    store: &dyn GovernanceStore,
    by: &Actor,
    outcomes: &[Outcome],
    as_of: NaiveDate,
) -> Result<Vec<i64>> {
    let decided = decided(store, outcomes.iter().map(|o| o.declaration_id.as_str()))?;
    for (i, (o, decided)) in outcomes.iter().zip(decided).enumerate() {
        if let Some((field, problem)) = implausible(o, decided, as_of) {
            return Err(AppError::Field {
                field: format!("[{i}].{field}"),
                problem,
            });
        }
    }
    Ok(FeedbackLog::new(store).record_all(outcomes, by)?)
}

/// Reads a feedback CSV (see [`read_outcomes`]) from `source` and records every outcome by
/// `by` as of `as_of`, all or none: the first outcome that fails a check of [`record`] fails
/// the import with `source`, its line and the field. Returns the ids recorded.
pub fn import(
    store: &dyn GovernanceStore,
    by: &Actor,
    reader: impl Read,
    source: &str,
    as_of: NaiveDate,
) -> Result<Vec<i64>> {
    let rows = read_outcome_lines(reader, source, by, as_of)?;
    let decided = decided(store, rows.iter().map(|(_, o)| o.declaration_id.as_str()))?;
    for ((line, o), decided) in rows.iter().zip(decided) {
        if let Some((field, problem)) = implausible(o, decided, as_of) {
            // The file's column for the decision day is `date`.
            let column = if field == "decided_on" { "date" } else { field };
            return Err(AppError::Invalid(format!(
                "{source}: line {line}: {column} {problem}"
            )));
        }
    }
    let outcomes: Vec<Outcome> = rows.into_iter().map(|(_, o)| o).collect();
    Ok(FeedbackLog::new(store).record_all(&outcomes, by)?)
}

/// Yes/no as officers write it.
pub fn parse_yes_no(s: &str) -> std::result::Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!(
            "{:?}: expected yes or no",
            borderline_ingest::bounded(s)
        )),
    }
}

/// Parses a feedback CSV (columns `declaration_id`, `fraud`, and optionally `date`, `decision`,
/// `critical_level`, `amount_recovered`, `note`, `officer`); any bad row fails the whole file
/// with `source`, its line and the field. The `officer` column becomes the outcome's
/// `reported_officer` (data about the inspection; the audit records name `by`, the acting
/// actor) and defaults to `by`; `date` defaults to `today`.
pub fn read_outcomes(
    reader: impl Read,
    source: &str,
    by: &Actor,
    today: NaiveDate,
) -> Result<Vec<Outcome>> {
    Ok(read_outcome_lines(reader, source, by, today)?
        .into_iter()
        .map(|(_, o)| o)
        .collect())
}

/// [`read_outcomes`] with the line of each outcome.
fn read_outcome_lines(
    reader: impl Read,
    source: &str,
    by: &Actor,
    today: NaiveDate,
) -> Result<Vec<(u64, Outcome)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let bad = |what: String| AppError::Invalid(format!("{source}: {what}"));
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id_col), Some(fraud_col)) = (col("declaration_id"), col("fraud")) else {
        return Err(bad(format!(
            "needs columns declaration_id and fraud (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    let (date_col, decision_col, crit_col, amount_col, note_col, officer_col) = (
        col("date"),
        col("decision"),
        col("critical_level"),
        col("amount_recovered"),
        col("note"),
        col("officer"),
    );
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let at = |what: &str| bad(format!("line {line}: {what}"));
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let fraud = parse_yes_no(get(Some(fraud_col)).unwrap_or(""))
            .map_err(|e| at(&format!("fraud {e}")))?;
        let decided_on = match get(date_col) {
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                at(&format!(
                    "date {:?} is not YYYY-MM-DD",
                    borderline_ingest::bounded(s)
                ))
            })?,
            None => today,
        };
        let critical_level = match get(crit_col) {
            Some(s) => s.parse::<u8>().map_err(|_| {
                at(&format!(
                    "critical_level {:?} is not 0, 1 or 2",
                    borderline_ingest::bounded(s)
                ))
            })?,
            None => u8::from(fraud),
        };
        let amount_recovered = match get(amount_col) {
            Some(s) => Some(s.parse::<f64>().map_err(|_| {
                at(&format!(
                    "amount_recovered {:?} is not a number",
                    borderline_ingest::bounded(s)
                ))
            })?),
            None => None,
        };
        let o = Outcome {
            declaration_id: get(Some(id_col)).unwrap_or("").to_string(),
            decided_on,
            decision: get(decision_col).unwrap_or("inspected").to_string(),
            fraud,
            critical_level,
            amount_recovered,
            note: get(note_col).map(str::to_string),
            reported_officer: get(officer_col).map_or_else(|| by.id.clone(), str::to_string),
        };
        o.validate().map_err(|e| at(&e.to_string()))?;
        out.push((line, o));
    }
    Ok(out)
}

/// Declarations of `declarations` with an outcome recorded on or after `since` (the latest
/// record of each), carrying it; and how many recorded outcomes matched no declaration. What
/// `train --since` joins to a retraining.
pub fn recorded_outcomes_since(
    store: &dyn GovernanceStore,
    since: NaiveDate,
    declarations: Vec<Declaration>,
) -> Result<(Vec<Declaration>, usize)> {
    let outcomes: HashMap<String, Outcome> = FeedbackLog::new(store)
        .latest(Some(since))?
        .into_iter()
        .map(|r| (r.outcome.declaration_id.clone(), r.outcome))
        .collect();
    let mut out = Vec::new();
    for mut d in declarations {
        if let Some(o) = outcomes.get(d.declaration_id.as_str()) {
            d.outcome = Some(InspectionOutcome {
                fraud: o.fraud,
                critical_level: o.critical_level,
                amount_recovered: o.amount_recovered,
            });
            out.push(d);
        }
    }
    let unmatched = outcomes.len().saturating_sub(out.len());
    Ok((out, unmatched))
}
