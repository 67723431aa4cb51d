//! Officers' decisions and inspection outcomes per declaration.
//!
//! Feedback is append-only like the audit log: a correction is a new record, and the latest
//! record of a declaration is the one that counts. Each record also appends a governance record
//! to the audit log in the same transaction.

use crate::audit::{append_in, AuditEvent, GovernanceAction};
use crate::store::{now, write_tx, StoreError};
use chrono::NaiveDate;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

/// What an officer found when a declaration was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub declaration_id: String,
    /// Day the decision was taken (the inspection date).
    pub decided_on: NaiveDate,
    /// The officer's decision, e.g. `inspected`, `released`, `seized`.
    pub decision: String,
    /// Irregularity found.
    pub fraud: bool,
    /// 0 = none, 1 = fraud, 2 = critical fraud (0 exactly when `fraud` is false).
    pub critical_level: u8,
    pub amount_recovered: Option<f64>,
    pub note: Option<String>,
    pub officer: String,
}

/// A stored outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub id: i64,
    pub recorded_at: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("feedback for declaration {declaration_id:?}: {problem}")]
    Invalid {
        declaration_id: String,
        problem: String,
    },
}

impl From<rusqlite::Error> for FeedbackError {
    fn from(e: rusqlite::Error) -> Self {
        FeedbackError::Store(StoreError::Sqlite(e))
    }
}

impl Outcome {
    /// Checks what the database cannot: the values must make sense together.
    pub fn validate(&self) -> Result<(), FeedbackError> {
        let bad = |problem: &str| {
            Err(FeedbackError::Invalid {
                declaration_id: self.declaration_id.clone(),
                problem: problem.to_string(),
            })
        };
        if self.declaration_id.trim().is_empty() {
            return bad("declaration id is empty");
        }
        if self.officer.trim().is_empty() {
            return bad("officer is empty (give --user or set BORDERLINE_USER)");
        }
        if self.critical_level > 2 {
            return bad("critical level must be 0, 1 or 2");
        }
        // Same convention as ingest and training: level 0 exactly when no fraud was found.
        if (self.critical_level > 0) != self.fraud {
            return bad(if self.fraud {
                "fraud found needs critical level 1 (fraud) or 2 (critical fraud)"
            } else {
                "a critical level above 0 needs fraud found"
            });
        }
        if let Some(a) = self.amount_recovered {
            if !a.is_finite() || a < 0.0 {
                return bad("amount recovered must be a non-negative number");
            }
        }
        Ok(())
    }
}

pub struct FeedbackLog<'c> {
    conn: &'c Connection,
}

const COLUMNS: &str = "id, recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer";

fn row(r: &rusqlite::Row) -> rusqlite::Result<FeedbackRecord> {
    let date: String = r.get(3)?;
    let decided_on = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(FeedbackRecord {
        id: r.get(0)?,
        recorded_at: r.get(1)?,
        outcome: Outcome {
            declaration_id: r.get(2)?,
            decided_on,
            decision: r.get(4)?,
            fraud: r.get(5)?,
            critical_level: r.get(6)?,
            amount_recovered: r.get(7)?,
            note: r.get(8)?,
            officer: r.get(9)?,
        },
    })
}

impl<'c> FeedbackLog<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        FeedbackLog { conn }
    }

    /// Records outcomes in one transaction (all or none, each validated first); returns their ids.
    pub fn record_all(&self, outcomes: &[Outcome]) -> Result<Vec<i64>, FeedbackError> {
        for o in outcomes {
            o.validate()?;
        }
        let tx = write_tx(self.conn)?;
        let mut ids = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            tx.execute(
                "INSERT INTO feedback (recorded_at, declaration_id, decided_on, decision, fraud, critical_level, amount_recovered, note, officer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    now(),
                    o.declaration_id,
                    o.decided_on.to_string(),
                    o.decision,
                    o.fraud,
                    o.critical_level,
                    o.amount_recovered,
                    o.note,
                    o.officer
                ],
            )?;
            let id = tx.last_insert_rowid();
            append_in(
                &tx,
                &o.officer,
                &AuditEvent::Governance(GovernanceAction {
                    action: "feedback.record".into(),
                    subject: o.declaration_id.clone(),
                    detail: serde_json::json!({
                        "feedback_id": id,
                        "decided_on": o.decided_on.to_string(),
                        "decision": o.decision,
                        "fraud": o.fraud,
                        "critical_level": o.critical_level,
                        "amount_recovered": o.amount_recovered,
                    }),
                }),
            )?;
            ids.push(id);
        }
        tx.commit()?;
        Ok(ids)
    }

    pub fn record(&self, outcome: &Outcome) -> Result<i64, FeedbackError> {
        let ids = self.record_all(std::slice::from_ref(outcome))?;
        Ok(ids.first().copied().unwrap_or_default())
    }

    /// Every record, oldest first (corrections included).
    pub fn all(&self) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        self.query(&format!("SELECT {COLUMNS} FROM feedback ORDER BY id"), [])
    }

    /// The latest record of each declaration decided on or after `since` (all dates when
    /// `None`), ordered by decision date then declaration id: the outcomes retraining and the
    /// monitor use.
    pub fn latest(&self, since: Option<NaiveDate>) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM feedback f
                 WHERE id = (SELECT MAX(id) FROM feedback g WHERE g.declaration_id = f.declaration_id)
                   AND (?1 IS NULL OR decided_on >= ?1)
                 ORDER BY decided_on, declaration_id"
            ),
            [since.map(|d| d.to_string())],
        )
    }

    fn query(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Verification;
    use crate::store::Store;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 4, d).unwrap_or_default()
    }

    fn outcome(id: &str, d: u32, fraud: bool) -> Outcome {
        Outcome {
            declaration_id: id.into(),
            decided_on: day(d),
            decision: "inspected".into(),
            fraud,
            critical_level: u8::from(fraud),
            amount_recovered: fraud.then_some(125_000.0),
            note: None,
            officer: "officer.kim".into(),
        }
    }

    #[test]
    fn outcomes_are_stored_queried_by_date_and_audited() {
        let store = Store::open_in_memory().expect("store");
        let fb = store.feedback();
        fb.record_all(&[
            outcome("A", 1, true),
            outcome("B", 5, false),
            outcome("C", 9, true),
        ])
        .expect("record");
        let since: Vec<String> = fb
            .latest(Some(day(5)))
            .expect("query")
            .into_iter()
            .map(|r| r.outcome.declaration_id)
            .collect();
        assert_eq!(since, ["B", "C"]);
        assert_eq!(fb.latest(None).expect("query").len(), 3);
        let a = &fb.latest(None).expect("query")[0];
        assert_eq!(a.outcome, outcome("A", 1, true));
        assert_eq!(store.audit().len().expect("len"), 3);
        assert!(matches!(
            store.audit().verify().expect("verify"),
            Verification::Intact { records: 3, .. }
        ));
    }

    #[test]
    fn a_correction_supersedes_the_earlier_record_without_erasing_it() {
        let store = Store::open_in_memory().expect("store");
        let fb = store.feedback();
        fb.record(&outcome("A", 1, false)).expect("record");
        let mut corrected = outcome("A", 2, true);
        corrected.note = Some("lab result: undervalued".into());
        fb.record(&corrected).expect("record");
        let latest = fb.latest(None).expect("query");
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].outcome, corrected);
        assert_eq!(fb.all().expect("all").len(), 2);
        let err = store
            .conn()
            .execute("DELETE FROM feedback", [])
            .expect_err("append-only");
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    #[test]
    fn inconsistent_outcomes_are_refused_and_nothing_is_written() {
        let store = Store::open_in_memory().expect("store");
        let fb = store.feedback();
        let mut critical_without_fraud = outcome("B", 1, false);
        critical_without_fraud.critical_level = 2;
        let mut negative = outcome("C", 1, true);
        negative.amount_recovered = Some(-5.0);
        let mut fraud_without_level = outcome("E", 1, true);
        fraud_without_level.critical_level = 0;
        let mut nobody = outcome("D", 1, true);
        nobody.officer = " ".into();
        for bad in [
            critical_without_fraud,
            negative,
            nobody,
            outcome("", 1, true),
        ] {
            let err = fb
                .record_all(&[outcome("A", 1, true), bad.clone()])
                .expect_err("refused");
            assert!(matches!(err, FeedbackError::Invalid { .. }), "{bad:?}");
        }
        assert!(fb.all().expect("all").is_empty());
        assert_eq!(store.audit().len().expect("len"), 0);
    }
}
