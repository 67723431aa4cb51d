//! Inspection feedback as use cases.

use crate::{AppError, Result};
use borderline_core::{Declaration, InspectionOutcome};
use borderline_governance::feedback::{FeedbackLog, Outcome};
use borderline_governance::{Actor, GovernanceStore};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

/// Records one outcome by `by`; returns its id.
pub fn record(store: &dyn GovernanceStore, by: &Actor, outcome: &Outcome) -> Result<i64> {
    Ok(FeedbackLog::new(store).record(outcome, by)?)
}

/// Records outcomes by `by` in one transaction (all or none); returns their ids. The audit
/// records name `by`, whatever officer the outcomes name.
pub fn record_all(
    store: &dyn GovernanceStore,
    by: &Actor,
    outcomes: &[Outcome],
) -> Result<Vec<i64>> {
    Ok(FeedbackLog::new(store).record_all(outcomes, by)?)
}

/// Yes/no as officers write it.
pub fn parse_yes_no(s: &str) -> std::result::Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!("{s:?}: expected yes or no")),
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
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let at = |what: &str| bad(format!("line {line}: {what}"));
        let rec = rec.map_err(|e| at(&e.to_string()))?;
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let fraud = parse_yes_no(get(Some(fraud_col)).unwrap_or(""))
            .map_err(|e| at(&format!("fraud {e}")))?;
        let decided_on = match get(date_col) {
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| at(&format!("date {s:?} is not YYYY-MM-DD")))?,
            None => today,
        };
        let critical_level = match get(crit_col) {
            Some(s) => s
                .parse::<u8>()
                .map_err(|_| at(&format!("critical_level {s:?} is not 0, 1 or 2")))?,
            None => u8::from(fraud),
        };
        let amount_recovered = match get(amount_col) {
            Some(s) => Some(
                s.parse::<f64>()
                    .map_err(|_| at(&format!("amount_recovered {s:?} is not a number")))?,
            ),
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
        out.push(o);
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
