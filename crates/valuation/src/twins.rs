//! Twin lines within one file: lines of the same importer, seller, HS code, currency and net
//! mass are the same goods, so one priced far below its twin is a valuation finding that needs
//! no history and no exchange rate (a trader's own file in any currency can show it).

use borderline_core::{Declaration, Reason, ReasonKind};
use serde::Serialize;
use std::collections::HashMap;

/// A line whose twin's unit value is at least this many times its own is flagged (a factor of
/// 3 is beyond ordinary discounts, grade or incoterm differences on identical goods).
pub const TWIN_GAP_RATIO: f64 = 3.0;

/// Net masses within this relative tolerance are "the same mass" (rounding of kg on entry).
pub const TWIN_MASS_TOLERANCE: f64 = 0.01;

/// A line priced at a fraction of its twin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwinGap {
    pub declaration_id: String,
    /// The twin with the highest unit value.
    pub twin_id: String,
    /// Twin's unit value / this line's unit value (>= [`TWIN_GAP_RATIO`]).
    pub ratio: f64,
}

impl TwinGap {
    pub const CODE: &'static str = "valuation.twin_line_gap";

    /// The finding phrased for an officer or the trader.
    pub fn reason(&self) -> Reason {
        Reason {
            kind: ReasonKind::Valuation,
            code: Self::CODE.to_string(),
            text: format!(
                "priced at 1/{:.0} of line {} (same importer, seller, HS code and net mass)",
                self.ratio, self.twin_id
            ),
            contribution: None,
        }
    }
}

/// What [`twin_gaps`] keeps of a line: small, so a file's lines fit in memory.
#[derive(Debug, Clone)]
pub struct TwinLine {
    key: (String, Option<String>, String, String),
    mass: f64,
    unit_value: f64,
    id: String,
}

impl TwinLine {
    /// `None` for a line without a usable mass and value (data quality reports it).
    pub fn of(d: &Declaration) -> Option<TwinLine> {
        let (m, v) = (d.net_mass_kg?, d.customs_value?);
        if !(m.is_finite() && v.is_finite() && m > 0.0 && v > 0.0) {
            return None;
        }
        Some(TwinLine {
            key: (
                d.importer.to_string(),
                d.seller.as_ref().map(|s| s.to_string()),
                d.hs_code.as_str().to_string(),
                d.currency.as_str().to_ascii_uppercase(),
            ),
            mass: m,
            unit_value: v / m,
            id: d.declaration_id.to_string(),
        })
    }
}

/// Lines priced at most 1/[`TWIN_GAP_RATIO`] of a twin, in input order.
pub fn twin_gaps(lines: &[TwinLine]) -> Vec<TwinGap> {
    let mut groups: HashMap<&(String, Option<String>, String, String), Vec<usize>> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        groups.entry(&l.key).or_default().push(i);
    }
    let mut out: Vec<(usize, TwinGap)> = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let mut by_mass = members.clone();
        by_mass.sort_by(|&a, &b| lines[a].mass.total_cmp(&lines[b].mass));
        for (k, &i) in by_mass.iter().enumerate() {
            let l = &lines[i];
            let near = |j: &&usize| {
                let m = lines[**j].mass;
                (m - l.mass).abs() <= TWIN_MASS_TOLERANCE * l.mass.max(m)
            };
            // Neighbours in mass order within the tolerance, on both sides.
            let twins = by_mass[..k]
                .iter()
                .rev()
                .take_while(near)
                .chain(by_mass[k + 1..].iter().take_while(near));
            let best = twins.max_by(|&&a, &&b| {
                lines[a]
                    .unit_value
                    .total_cmp(&lines[b].unit_value)
                    .then_with(|| lines[b].id.cmp(&lines[a].id))
            });
            if let Some(&j) = best {
                let ratio = lines[j].unit_value / l.unit_value;
                if ratio >= TWIN_GAP_RATIO {
                    out.push((
                        i,
                        TwinGap {
                            declaration_id: l.id.clone(),
                            twin_id: lines[j].id.clone(),
                            ratio,
                        },
                    ));
                }
            }
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use borderline_core::HsCode;
    use chrono::NaiveDate;

    fn line(id: &str, importer: &str, hs: &str, mass: f64, value: f64) -> Declaration {
        Declaration {
            declaration_id: id.into(),
            date: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"),
            office: "".into(),
            declarant: "".into(),
            importer: importer.into(),
            seller: Some("SELLER-1".into()),
            courier: None,
            hs_code: HsCode::parse(hs).expect("code"),
            origin_country: "BD".into(),
            departure_country: None,
            transport_mode: "".into(),
            process_type: "".into(),
            import_type: "".into(),
            import_use: "".into(),
            payment_type: "".into(),
            net_mass_kg: Some(mass),
            customs_value: Some(value),
            currency: "USD".into(),
            tax_rate: None,
            tax_type: "".into(),
            origin_indicator: "".into(),
            description: None,
            quantity: None,
            quantity_unit: None,
            outcome: None,
        }
    }

    fn gaps(rows: &[Declaration]) -> Vec<TwinGap> {
        let lines: Vec<TwinLine> = rows.iter().filter_map(TwinLine::of).collect();
        twin_gaps(&lines)
    }

    #[test]
    fn a_line_at_a_tenth_of_its_twin_is_flagged_and_the_twin_is_not() {
        let rows = [
            line("A", "IMP-1", "610910", 120.0, 4800.0),
            line("B", "IMP-1", "610910", 120.0, 480.0),
        ];
        let g = gaps(&rows);
        assert_eq!(g.len(), 1);
        assert_eq!(
            (g[0].declaration_id.as_str(), g[0].twin_id.as_str()),
            ("B", "A")
        );
        assert!((g[0].ratio - 10.0).abs() < 1e-9);
        let r = g[0].reason();
        assert_eq!(r.kind, ReasonKind::Valuation);
        assert!(r.text.contains("1/10 of line A"), "{}", r.text);
    }

    #[test]
    fn lines_that_differ_in_importer_code_mass_or_by_little_are_not_twins_gaps() {
        let rows = [
            line("A", "IMP-1", "610910", 120.0, 4800.0),
            line("B", "IMP-2", "610910", 120.0, 480.0),
            line("C", "IMP-1", "610990", 120.0, 480.0),
            line("D", "IMP-1", "610910", 150.0, 480.0),
            line("E", "IMP-1", "610910", 120.5, 2000.0),
        ];
        assert!(gaps(&rows).is_empty());
    }
}
