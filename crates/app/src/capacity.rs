//! Inspection capacities shared by every worker: red and yellow quotas per office per UTC day,
//! consumed atomically in the store's capacity ledger
//! (`borderline_governance::capacity`), with lanes from the model's out-of-sample score
//! thresholds.
//!
//! **How a lane is chosen** (in the deciding write transaction, so the counts are those left by
//! the decision just before, whichever worker made it):
//!
//! 1. *Calibrated threshold*: the model's absolute score thresholds for the capacity shares
//!    (`Scorer::lane_thresholds`: the scores that share of validation-period declarations
//!    reached out of sample), so a stream whose scores look like the validation period lands
//!    near the capacities without any correction.
//! 2. *Correction*: the share used to pick the threshold moves by the office's deficit: when
//!    the office is owed `k` red decisions (`capacity x decided - red`), the red share used is
//!    `capacity + 100 k / horizon` percent (bounded to `[0, 3 x capacity]`), so a stream whose
//!    scores drift from the validation period is pulled back to its capacity.
//! 3. *Quota*: a declaration goes red only while the office's red count stays within
//!    `capacity x decided + burst`: the quota cannot be overrun, by one worker or many. Same
//!    for red + yellow against the red + yellow capacity.
//!
//! The data-quality floor then applies as in a batch, and counts toward the shares. The
//! achieved shares are in [`report`]; [`alarm`] fires when an office's share over its window
//! is further from its capacity than the tolerance once enough declarations were decided.

use crate::targeting::Capacities;
use crate::Result;
use borderline_core::Lane;
use borderline_governance::capacity::{LaneUsage, UsageRow};
use borderline_governance::store::in_tx;
use borderline_governance::GovernanceStore;
use borderline_targeting::score::Scorer;
use chrono::NaiveDate;
use serde::Serialize;

/// The quota rules. The defaults: a correction horizon of 50 declarations, a burst of 2
/// decisions, alarms beyond ±0.5 percentage points once an office decided 400 declarations
/// in the window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuotaPolicy {
    pub capacities: Capacities,
    /// Declarations over which a deficit (or excess) is made up.
    pub horizon: f64,
    /// Decisions a lane may run ahead of its quota.
    pub burst: u64,
    /// Allowed distance of an office's share from its capacity, in percentage points.
    pub tolerance_pp: f64,
    /// Declarations an office decides in a window before its shares can raise an alarm.
    pub min_decided: u64,
}

impl QuotaPolicy {
    pub fn new(capacities: Capacities) -> Self {
        QuotaPolicy {
            capacities,
            horizon: 50.0,
            burst: 2,
            tolerance_pp: 0.5,
            min_decided: 400,
        }
    }
}

impl Default for QuotaPolicy {
    fn default() -> Self {
        QuotaPolicy::new(Capacities::default())
    }
}

/// The ledger window of a decision made on `day`: the UTC day.
pub fn window_of(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Whether a lane with share `percent` may take one more of `n` decisions (this one counted)
/// when it has `used` so far, and the share to pick its threshold with.
fn quota(percent: f64, used: u64, n: u64, policy: &QuotaPolicy) -> (bool, f64) {
    let target = percent / 100.0;
    let owed = target * n as f64 - used as f64;
    let room = (used + 1) as f64 <= (target * n as f64).floor() + policy.burst as f64;
    let share = (percent + 100.0 * owed / policy.horizon.max(1.0)).clamp(0.0, 3.0 * percent);
    (room && percent > 0.0, share)
}

/// The lane of score `probability` for an office whose window holds `usage` (before this
/// declaration), before the data-quality floor.
pub fn allot(scorer: &Scorer, probability: f64, usage: &LaneUsage, policy: &QuotaPolicy) -> Lane {
    let n = usage.decided + 1;
    let c = policy.capacities;
    let (red_room, red_share) = quota(c.red_percent, usage.red, n, policy);
    if red_room && share_reached(scorer, probability, red_share) {
        return Lane::Red;
    }
    let (ry_room, ry_share) = quota(
        c.red_percent + c.yellow_percent,
        usage.red + usage.yellow,
        n,
        policy,
    );
    if ry_room && share_reached(scorer, probability, ry_share) {
        return Lane::Yellow;
    }
    Lane::Green
}

/// Whether `probability` is within the top `share` % by the model's out-of-sample thresholds.
fn share_reached(scorer: &Scorer, probability: f64, share: f64) -> bool {
    share > 0.0 && probability >= scorer.lane_thresholds(share, 0.0).red
}

/// Counts `lane` into `usage`.
pub fn count(usage: &mut LaneUsage, lane: Lane) {
    usage.decided += 1;
    match lane {
        Lane::Red => usage.red += 1,
        Lane::Yellow => usage.yellow += 1,
        Lane::Blue | Lane::Green => {}
    }
}

/// Why an office's shares are off its capacities, or `None`.
pub fn alarm(usage: &LaneUsage, policy: &QuotaPolicy) -> Option<String> {
    if usage.decided < policy.min_decided {
        return None;
    }
    let c = policy.capacities;
    let off = |lane: &str, got: f64, want: f64| {
        ((got - want).abs() > policy.tolerance_pp).then(|| {
            format!(
                "{lane} share {got:.2}% of {} decisions, capacity {want:.2}% (tolerance ±{} pp)",
                usage.decided, policy.tolerance_pp
            )
        })
    };
    let found: Vec<String> = [
        off("red", usage.red_percent(), c.red_percent),
        off("yellow", usage.yellow_percent(), c.yellow_percent),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

/// One office's shares in one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficeShares {
    pub office: String,
    pub window: String,
    pub decided: u64,
    pub red_percent: f64,
    pub yellow_percent: f64,
    /// Why the shares are off the capacities (the drift alarm), if they are.
    pub alarm: Option<String>,
}

/// The achieved shares over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityReport {
    pub from: String,
    pub to: String,
    pub capacities: Capacities,
    pub tolerance_pp: f64,
    pub offices: Vec<OfficeShares>,
    /// Every office and window together.
    pub total: LaneUsage,
    pub red_percent: f64,
    pub yellow_percent: f64,
    /// Offices whose shares are off their capacities.
    pub alarms: usize,
}

/// The achieved lane shares of every office in the windows from `from` to `to`, with their
/// drift alarms.
pub fn report(
    store: &dyn GovernanceStore,
    from: NaiveDate,
    to: NaiveDate,
    policy: &QuotaPolicy,
) -> Result<CapacityReport> {
    let (from, to) = (window_of(from), window_of(to));
    let rows: Vec<UsageRow> = in_tx(store, false, |tx| tx.lane_usages(&from, &to))?;
    let mut total = LaneUsage::default();
    let offices: Vec<OfficeShares> = rows
        .into_iter()
        .map(|r| {
            total.add(&r.usage);
            OfficeShares {
                alarm: alarm(&r.usage, policy),
                decided: r.usage.decided,
                red_percent: r.usage.red_percent(),
                yellow_percent: r.usage.yellow_percent(),
                office: r.office,
                window: r.window,
            }
        })
        .collect();
    Ok(CapacityReport {
        alarms: offices.iter().filter(|o| o.alarm.is_some()).count(),
        red_percent: total.red_percent(),
        yellow_percent: total.yellow_percent(),
        from,
        to,
        capacities: policy.capacities,
        tolerance_pp: policy.tolerance_pp,
        offices,
        total,
    })
}
