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
use chrono::NaiveDate;
use serde::Serialize;

/// A benchmark reaches a trader only when at least this many distinct importers' declarations
/// made it (so no competitor's prices can be read off it).
pub const MIN_DISTINCT_IMPORTERS: u32 = 5;

/// What the self-check runs with.
pub struct SelfCheckTools<'a> {
    pub classifier: &'a Classifier,
    pub matcher: &'a Matcher,
    /// Dates after this are impossible (the caller's today).
    pub reference_date: NaiveDate,
}

/// Why no valuation view is given, or the view.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ValuationView {
    /// Benchmarks are withheld from traders: this build's benchmarks do not record how many
    /// distinct importers made each cell, so none can be shown safely.
    Withheld { reason: String },
}

/// One screened counterparty.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenedParty {
    pub name: String,
    pub hits: Vec<Hit>,
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
        });
    }
    Ok(SelfCheck {
        declaration_id: d.declaration_id.to_string(),
        data_quality,
        hs,
        valuation: ValuationView::Withheld {
            reason: format!(
                "benchmarks are shown to traders only when built from at least {MIN_DISTINCT_IMPORTERS} distinct importers, and these benchmarks do not record that count"
            ),
        },
        counterparties: screened,
    })
}
