//! A trader's self-check of its own declaration before filing: data-quality findings, the HS
//! code against the goods description (with likelier codes), screening of its counterparties,
//! and a valuation view that never reveals a benchmark built from fewer than
//! [`MIN_DISTINCT_IMPORTERS`] distinct importers.
//!
//! It never runs the targeting model: a trader sees no score, lane or model reason, so the
//! model cannot be probed for evasion (the response type has no field that could carry one).

use crate::screening::{screen_party, Party};
use crate::{AppError, Result};
use borderline_core::{Declaration, Reason, Signal};
use borderline_governance::identity::{IdentityError, Permission, Principal};
use borderline_hs::{CheckPolicy, CheckResult, Classifier};
use borderline_quality::DataQuality;
use borderline_screening::{Hit, Matcher};
use borderline_valuation::{Benchmarks, CheckOutcome, Level};
use chrono::NaiveDate;
use serde::Serialize;

/// A benchmark reaches a trader only when at least this many distinct importers' declarations
/// made it (so no competitor's prices can be read off it).
pub const MIN_DISTINCT_IMPORTERS: u32 = 5;

/// What the self-check runs with.
pub struct SelfCheckTools<'a> {
    pub classifier: &'a Classifier,
    pub matcher: &'a Matcher,
    /// Valuation benchmarks, when the service holds them.
    pub benchmarks: Option<&'a Benchmarks>,
    /// Dates after this are impossible (the caller's today).
    pub reference_date: NaiveDate,
}

/// The declared unit value against its benchmark cell, or why it is not shown.
///
/// Only the cell's distribution is shown (declarations, importers, percentiles) and where the
/// declared value falls in it: never the customs-side flag or reasons, which also weigh the
/// seller's prices to other importers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ValuationView {
    Compared {
        /// Declared unit value in the benchmarks' currency per kg.
        unit_value: f64,
        currency: Option<String>,
        /// Which cell: same HS6 and origin, same HS6, HS4 or HS2.
        level: Level,
        /// Percentile of the declared unit value within the cell (0-100).
        percentile: f64,
        /// Unit values at min, p1, p5, p10, p25, p50, p75, p90, p95, p99, max.
        quantiles: [f64; 11],
        declarations: u32,
        importers: u32,
        /// Below the cell's 5th or above its 95th percentile.
        outside_usual_range: bool,
    },
    /// Not compared: no benchmarks, no cell, a data problem, or a cell built from too few
    /// importers to be shown.
    Withheld { reason: String },
}

fn valuation_view(benchmarks: Option<&Benchmarks>, d: &Declaration) -> ValuationView {
    let Some(b) = benchmarks else {
        return ValuationView::Withheld {
            reason: "this service holds no valuation benchmarks".into(),
        };
    };
    let c = b.check(d);
    match (&c.outcome, c.level, &c.cell) {
        (CheckOutcome::DataQuality { problem }, _, _) => ValuationView::Withheld {
            reason: format!("not compared: {}", problem.text()),
        },
        (CheckOutcome::Checked, Some(level), Some(cell))
            if cell.importers >= MIN_DISTINCT_IMPORTERS =>
        {
            ValuationView::Compared {
                unit_value: c.log_unit_value.exp(),
                currency: b.currency.clone(),
                level,
                percentile: c.percentile,
                quantiles: cell.grid.map(f64::exp),
                declarations: cell.n,
                importers: cell.importers,
                outside_usual_range: c.log_unit_value < cell.p5()
                    || c.log_unit_value > cell.p95(),
            }
        }
        (CheckOutcome::Checked, Some(_), Some(_)) => ValuationView::Withheld {
            reason: format!(
                "the benchmark for this code was built from fewer than {MIN_DISTINCT_IMPORTERS} distinct importers, so it is not shown"
            ),
        },
        _ => ValuationView::Withheld {
            reason: "no benchmark for this code has enough declarations to compare with".into(),
        },
    }
}

/// One screened counterparty.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenedParty {
    pub name: String,
    pub hits: Vec<Hit>,
    /// A forced-labour region named in the party's address (UFLPA rebuttable presumption).
    pub region: Option<String>,
}

/// The self-check of one declaration.
#[derive(Debug, Clone, Serialize)]
pub struct SelfCheck {
    pub declaration_id: String,
    pub data_quality: Vec<Reason>,
    /// The declared HS code against the description (when the declaration has one).
    pub hs: Option<CheckResult>,
    pub valuation: ValuationView,
    pub counterparties: Vec<ScreenedParty>,
}

/// Runs the self-check for `who` on a declaration of one of its own importers.
pub fn self_check(
    who: &Principal,
    d: &Declaration,
    counterparties: &[Party],
    tools: &SelfCheckTools<'_>,
) -> Result<SelfCheck> {
    crate::identity::require(who, Permission::TraderSelfCheck)?;
    if !who.acts_for_importer(&d.importer) {
        return Err(AppError::Identity(IdentityError::Forbidden {
            actor: who.actor.id.clone(),
            action: "check declarations of an importer it is not bound to".into(),
        }));
    }
    let data_quality = DataQuality::new(tools.reference_date).reasons(d);
    let hs = d
        .description
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|desc| {
            crate::hs::check(
                tools.classifier,
                desc,
                d.hs_code.as_str(),
                CheckPolicy::default(),
            )
        });
    let mut screened = Vec::with_capacity(counterparties.len());
    for (i, p) in counterparties.iter().enumerate() {
        let hits = screen_party(tools.matcher, p, 5).map_err(|e| AppError::Field {
            field: format!("counterparties[{i}]"),
            problem: e.to_string(),
        })?;
        screened.push(ScreenedParty {
            name: p.name.clone(),
            hits,
            region: crate::screening::region_flag(p)
                .map(|r| r.reason_text(&format!("the address of {}", p.name))),
        });
    }
    Ok(SelfCheck {
        declaration_id: d.declaration_id.to_string(),
        data_quality,
        hs,
        valuation: valuation_view(tools.benchmarks, d),
        counterparties: screened,
    })
}

/// Counterparties by declaration id.
pub type CounterpartiesById = std::collections::BTreeMap<String, Vec<Party>>;

/// The header of a self-check's counterparty file: one row per counterparty of a declaration.
pub const COUNTERPARTY_HEADER: [&str; 4] = ["declaration_id", "name", "country", "address"];

/// Counterparties by declaration id, read from CSV text with the header
/// [`COUNTERPARTY_HEADER`] (sellers, consignors, manufacturers...; `country` and `address` may
/// be empty), and the rows refused with the line and field at fault.
pub fn counterparties_from_csv(
    bytes: &[u8],
) -> Result<(CounterpartiesById, Vec<crate::declarations::RefusedRow>)> {
    use crate::declarations::RefusedRow;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| AppError::Field {
            field: "counterparties".into(),
            problem: format!("unreadable header: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id), Some(name)) = (col("declaration_id"), col("name")) else {
        return Err(AppError::Field {
            field: "counterparties".into(),
            problem: format!(
                "line 1: the header must name declaration_id and name (columns: {})",
                COUNTERPARTY_HEADER.join(",")
            ),
        });
    };
    let (country, address) = (col("country"), col("address"));
    let mut out = CounterpartiesById::new();
    let mut refused = Vec::new();
    for rec in rdr.records() {
        let r = match rec {
            Ok(r) => r,
            Err(e) => {
                refused.push(RefusedRow {
                    line: e.position().map_or(0, |p| p.line()),
                    field: "row".into(),
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = r.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let Some(declaration_id) = get(Some(id)) else {
            refused.push(RefusedRow {
                line,
                field: "declaration_id".into(),
                reason: "empty".into(),
            });
            continue;
        };
        let Some(party_name) = get(Some(name)) else {
            refused.push(RefusedRow {
                line,
                field: "name".into(),
                reason: "empty".into(),
            });
            continue;
        };
        let party = Party {
            name: party_name,
            country: get(country),
            address: get(address),
            ..Party::default()
        };
        // Refused here, with its line, rather than failing the whole check later.
        if let Err(problem) = party.query(&Party::default()) {
            refused.push(RefusedRow {
                line,
                field: if problem.contains("country") {
                    "country".into()
                } else {
                    "name".into()
                },
                reason: problem,
            });
            continue;
        }
        out.entry(declaration_id).or_default().push(party);
    }
    Ok((out, refused))
}
