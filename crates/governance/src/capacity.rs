//! Inspection capacities shared by every scoring process: a ledger of how many declarations
//! each office decided in a window (a UTC day) and how many of them went red and yellow.
//!
//! The ledger is read and updated inside the same write transaction as the decision and its
//! audit record, under the store's write lock, so every worker on every machine sees the
//! counts left by the previous decision: the quotas are consumed atomically whatever the number
//! of workers. The audit log stays the record of truth: the ledger is a running count of the
//! decisions it holds (rebuildable from it), kept only so that a worker need not scan the log.

use serde::{Deserialize, Serialize};

/// Decisions of one office in one window, by lane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneUsage {
    pub decided: u64,
    pub red: u64,
    pub yellow: u64,
}

impl LaneUsage {
    /// Red share in percent (0 when nothing was decided).
    pub fn red_percent(&self) -> f64 {
        percent(self.red, self.decided)
    }
    /// Yellow share in percent.
    pub fn yellow_percent(&self) -> f64 {
        percent(self.yellow, self.decided)
    }
    /// Adds another window's or office's counts.
    pub fn add(&mut self, other: &LaneUsage) {
        self.decided += other.decided;
        self.red += other.red;
        self.yellow += other.yellow;
    }
}

fn percent(k: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * k as f64 / n as f64
    }
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    pub office: String,
    /// The window, e.g. `2026-12-05` (a UTC day).
    pub window: String,
    pub usage: LaneUsage,
}
