//! Specification of valuation on a trader's own file (issue 14, "money and units"): a file in
//! another currency than the benchmarks is converted with a dated rate table or compared with
//! nothing, and a line priced at a fraction of its twin is flagged without any history.
#![allow(clippy::result_large_err)] // AppError carries context; moved only on failure

use borderline_app::declarations::Source;
use borderline_app::valuation::{check_file_with, BenchmarkSource, CheckOptions, Checked};
use borderline_ingest::Profile;
use borderline_valuation::{CheckOutcome, ExchangeRates};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
}

/// KRW benchmarks from the bundled Korea Customs history, built as of the trader file's first
/// day.
fn krw_history() -> BenchmarkSource {
    let split = |s: &str| {
        Source::new(
            format!(
                "{}/../../data/declarations/kcs_{s}.csv.gz",
                env!("CARGO_MANIFEST_DIR")
            ),
            Profile::korea_customs(),
        )
    };
    BenchmarkSource::History {
        files: vec![split("train"), split("valid")],
        config: borderline_valuation::Config::default(),
    }
}

fn check(rates: Option<&ExchangeRates>) -> Vec<Checked> {
    let input = Source::new(fixture("trader_usd.csv"), Profile::generic());
    let mut out = Vec::new();
    let summary = check_file_with(&input, &krw_history(), CheckOptions { rates }, |_, c| {
        out.push(c);
        Ok(())
    })
    .expect("checks");
    assert_eq!(summary.checked, 20);
    out
}

fn by_id<'a>(list: &'a [Checked], id: &str) -> &'a Checked {
    list.iter()
        .find(|c| c.declaration_id == id)
        .expect("declaration present")
}

#[test]
fn without_a_rate_table_usd_values_are_compared_with_nothing_and_say_why() {
    let list = check(None);
    for c in &list {
        assert!(
            matches!(c.check.outcome, CheckOutcome::DataQuality { .. }),
            "{}: {:?}",
            c.declaration_id,
            c.check.outcome
        );
        assert!(c.data_quality && c.conversion.is_none());
        assert!(
            c.reasons.iter().any(|r| r.text.starts_with(
                "value declared in USD; benchmarks are in KRW and no rate for that date"
            )),
            "{:?}",
            c.reasons
        );
    }
    // The twin-line gap needs no rate: NW-002 is a tenth of NW-001.
    let gap = by_id(&list, "NW-002").twin_gap.as_ref().expect("twin gap");
    assert_eq!(gap.twin_id, "NW-001");
    assert!((gap.ratio - 10.0).abs() < 1e-9);
    assert!(by_id(&list, "NW-001").twin_gap.is_none());
    assert_eq!(list.iter().filter(|c| c.twin_gap.is_some()).count(), 1);
}

#[test]
fn with_a_rate_table_usd_values_are_converted_to_krw_and_compared() {
    let rates = ExchangeRates::load(&fixture("rates_usd_krw.csv")).expect("rates");
    let list = check(Some(&rates));
    let converted: Vec<&Checked> = list.iter().filter(|c| c.conversion.is_some()).collect();
    assert_eq!(converted.len(), 19, "all but the row dated after the table");
    let conv = by_id(&list, "NW-004")
        .conversion
        .as_ref()
        .expect("converted");
    assert_eq!(
        (conv.from.as_str(), conv.to.as_str(), conv.rate),
        ("USD", "KRW", 1130.5)
    );
    // Compared for real: finite scores, most rows within their benchmark.
    let compared: Vec<&&Checked> = converted
        .iter()
        .filter(|c| c.check.outcome == CheckOutcome::Checked)
        .collect();
    assert!(compared.len() >= 15, "{} compared", compared.len());
    assert!(compared.iter().all(|c| c.check.score.is_finite()));
    assert!(compared.iter().filter(|c| !c.check.flagged).count() >= 10);
    // Frozen vegetables at a tenth of the benchmark, and the cheap T-shirt twin, are flagged.
    for id in ["NW-017", "NW-002"] {
        let c = by_id(&list, id);
        assert!(c.check.flagged, "{id}: {:?}", c.check);
        assert_eq!(c.check.direction, borderline_valuation::Direction::Under);
    }
    assert!(by_id(&list, "NW-002")
        .reasons
        .iter()
        .any(|r| r.code == "valuation.twin_line_gap" && r.text.contains("1/10 of line NW-001")));
    // No rate for 2021-06-28 (the table's last rate is 2021-05-01, older than a month).
    let late = by_id(&list, "NW-020");
    assert!(late.data_quality && late.conversion.is_none());
    assert_eq!(
        late.reasons[0].text,
        "value declared in USD; benchmarks are in KRW and no rate for that date (2021-06-28)"
    );
}
