//! HS divergence signal on a small crafted history, including the tariff-engineering case.

use borderline_core::{Declaration, HsCode, Signal, Text};
use borderline_hs::{DivergenceConfig, HsDivergence};
use chrono::NaiveDate;

#[allow(clippy::too_many_arguments)]
fn decl(
    id: usize,
    day: u32,
    importer: &str,
    seller: &str,
    hs: &str,
    value: f64,
    kg: f64,
    rate: f64,
) -> Declaration {
    Declaration {
        declaration_id: Text::from(format!("D{id}")),
        date: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(u64::from(day)),
        office: "OFF1".into(),
        declarant: "DECL1".into(),
        importer: importer.into(),
        seller: Some(seller.into()),
        courier: None,
        hs_code: HsCode::parse(hs).unwrap(),
        origin_country: "CN".into(),
        departure_country: None,
        transport_mode: "sea".into(),
        process_type: "A".into(),
        import_type: "1".into(),
        import_use: "1".into(),
        payment_type: "1".into(),
        net_mass_kg: Some(kg),
        customs_value: Some(value),
        currency: "USD".into(),
        tax_rate: Some(rate),
        tax_type: "A".into(),
        origin_indicator: "Y".into(),
        description: None,
        quantity: None,
        quantity_unit: None,
        outcome: None,
    }
}

/// Importer APPAREL buys cotton T-shirts (610910, 16% duty, ~8 USD/kg) from seller S1.
/// Other importers bring in cleaning cloths (630710, 4% duty, ~2 USD/kg) from S2.
fn history() -> Vec<Declaration> {
    let mut h = Vec::new();
    for i in 0..40 {
        let jitter = 1.0 + 0.05 * ((i % 5) as f64 - 2.0);
        h.push(decl(
            i,
            i as u32,
            "APPAREL",
            "S1",
            "610910",
            8000.0 * jitter,
            1000.0,
            16.0,
        ));
    }
    for i in 0..30 {
        let jitter = 1.0 + 0.05 * ((i % 5) as f64 - 2.0);
        let importer = if i % 2 == 0 { "CLEAN1" } else { "CLEAN2" };
        h.push(decl(
            100 + i,
            i as u32,
            importer,
            "S2",
            "630710",
            2000.0 * jitter,
            1000.0,
            4.0,
        ));
    }
    h
}

fn features(s: &HsDivergence, d: &Declaration) -> std::collections::HashMap<String, f32> {
    let defs = s.feature_defs();
    let mut out = vec![0f32; defs.len()];
    s.features(d, &mut out);
    defs.into_iter().map(|f| f.name).zip(out).collect()
}

#[test]
fn usual_declaration_is_quiet() {
    let s = HsDivergence::fit(&history(), DivergenceConfig::default());
    let d = decl(999, 60, "APPAREL", "S1", "610910", 8100.0, 1000.0, 16.0);
    let f = features(&s, &d);
    assert!(f["hs_importer_hs6_share"] > 0.9, "{f:?}");
    assert!(f["hs_pair_hs6_share"] > 0.9);
    assert_eq!(f["hs_code_invalid"], 0.0);
    assert!(f["hs_uv_z_declared"] < 1.0);
    assert!(f["hs_uv_z_usual"].is_nan(), "no other usual codes");
    assert!(s.reasons(&d).is_empty(), "{:?}", s.reasons(&d));
}

#[test]
fn tariff_engineering_case_is_flagged_with_reasons() {
    let s = HsDivergence::fit(&history(), DivergenceConfig::default());
    // Same importer and seller, same T-shirt price, declared as cleaning cloths at 4%.
    let d = decl(1000, 60, "APPAREL", "S1", "630710", 8000.0, 1000.0, 4.0);
    let f = features(&s, &d);
    assert!(f["hs_importer_hs6_share"] < 0.01, "{f:?}");
    assert!(f["hs_pair_hs6_share"] < 0.01);
    assert!(f["hs_seller_hs6_share"] < 0.01);
    assert!(
        f["hs_uv_z_declared"] > 3.0,
        "8 USD/kg is far from cloths' 2 USD/kg: {f:?}"
    );
    assert!(
        f["hs_uv_z_usual"] < 1.0,
        "and right on T-shirts' 8 USD/kg: {f:?}"
    );
    assert!(f["hs_uv_fit_gap"] > 2.0);
    assert!(
        (f["hs_tax_gap_pp"] - 12.0).abs() < 1e-4,
        "16% usual vs 4% declared: {f:?}"
    );
    let reasons = s.reasons(&d);
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    for want in [
        "hs_importer_hs6_share",
        "hs_seller_hs6_share",
        "hs_uv_fit_gap",
        "hs_tax_gap_pp",
    ] {
        assert!(codes.contains(&want), "missing {want}: {reasons:#?}");
    }
    let uv = reasons.iter().find(|r| r.code == "hs_uv_fit_gap").unwrap();
    assert!(
        uv.text.contains("8.00 USD/kg") && uv.text.contains("610910"),
        "{}",
        uv.text
    );
    let tariff = reasons.iter().find(|r| r.code == "hs_tax_gap_pp").unwrap();
    assert!(
        tariff.text.contains("610910") && tariff.text.contains("12.0 points"),
        "{}",
        tariff.text
    );
}

#[test]
fn new_code_at_cloth_price_is_unusual_but_not_tariff_engineering() {
    let s = HsDivergence::fit(&history(), DivergenceConfig::default());
    // APPAREL really starts importing cloths at the cloth price: unusual, but the price fits
    // the declared code, so no unit-value or tariff-engineering reason.
    let d = decl(1001, 60, "APPAREL", "S1", "630710", 2000.0, 1000.0, 4.0);
    let codes: Vec<String> = s.reasons(&d).into_iter().map(|r| r.code).collect();
    assert!(codes.contains(&"hs_importer_hs6_share".to_string()));
    assert!(!codes.contains(&"hs_uv_fit_gap".to_string()), "{codes:?}");
    assert!(!codes.contains(&"hs_tax_gap_pp".to_string()), "{codes:?}");
    let f = features(&s, &d);
    assert!(f["hs_uv_fit_gap"] < 0.0, "{f:?}");
}

#[test]
fn unknown_trader_and_invalid_code_give_missing_values_and_data_quality_reason() {
    let s = HsDivergence::fit(&history(), DivergenceConfig::default());
    let d = decl(1002, 60, "NEWCO", "S9", "851712", 100.0, 1.0, 0.0);
    let f = features(&s, &d);
    assert_eq!(f["hs_importer_history"], 0.0);
    assert!(f["hs_importer_hs6_share"].is_nan() && f["hs_seller_hs6_share"].is_nan());
    assert_eq!(f["hs_code_invalid"], 1.0);
    let reasons = s.reasons(&d);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(reasons[0].code, "hs.other_edition");
}

#[test]
fn rolling_features_use_only_earlier_dates() {
    let h = history();
    let rows = HsDivergence::rolling_features(&h, DivergenceConfig::default());
    assert_eq!(rows.len(), h.len());
    let s = HsDivergence::fit(&[], DivergenceConfig::default());
    let names: Vec<String> = s.feature_defs().into_iter().map(|f| f.name).collect();
    let col = |n: &str| names.iter().position(|x| x == n).unwrap();
    // First APPAREL declaration (day 0): no history at all.
    assert_eq!(rows[0][col("hs_importer_history")], 0.0);
    assert!(rows[0][col("hs_importer_hs6_share")].is_nan());
    // Day 10: exactly ten earlier APPAREL declarations, not counting itself.
    assert_eq!(rows[10][col("hs_importer_history")], 10.0);
    // Same-day declarations do not see each other: CLEAN1 (day 0) and APPAREL (day 0).
    assert_eq!(rows[40][col("hs_importer_history")], 0.0);
    // Matches a model fitted on exactly the earlier rows.
    let earlier: Vec<Declaration> = h.iter().filter(|d| d.date < h[25].date).cloned().collect();
    let fitted = HsDivergence::fit(&earlier, DivergenceConfig::default());
    let mut want = vec![0f32; names.len()];
    fitted.features(&h[25], &mut want);
    for (a, b) in rows[25].iter().zip(&want) {
        assert!(
            a == b || (a.is_nan() && b.is_nan()),
            "{:?} vs {:?}",
            rows[25],
            want
        );
    }
}

#[test]
fn cheaper_unusual_code_without_price_data_is_still_flagged() {
    let s = HsDivergence::fit(&history(), DivergenceConfig::default());
    let mut d = decl(1003, 60, "APPAREL", "S1", "630710", 8000.0, 1000.0, 4.0);
    d.net_mass_kg = None;
    let f = features(&s, &d);
    assert!(f["hs_uv_z_declared"].is_nan() && f["hs_uv_fit_gap"].is_nan());
    assert!(s.reasons(&d).iter().any(|r| r.code == "hs_tax_gap_pp"));
    // A usual code is never a tariff-engineering case, whatever its rate.
    let usual = decl(1004, 60, "APPAREL", "S1", "610910", 8000.0, 1000.0, 0.0);
    assert!(s.reasons(&usual).iter().all(|r| r.code != "hs_tax_gap_pp"));
}

#[test]
fn signals_are_object_safe_and_feature_counts_match() {
    let s: Box<dyn Signal> = Box::new(HsDivergence::fit(&history(), DivergenceConfig::default()));
    let mut out = vec![0f32; s.feature_defs().len()];
    s.features(&history()[0], &mut out);
    assert_eq!(s.name(), "hs");
    let names: std::collections::HashSet<String> =
        s.feature_defs().into_iter().map(|f| f.name).collect();
    assert_eq!(names.len(), out.len(), "feature names are unique");
}

#[test]
fn description_signal_scores_declared_code_against_text() {
    let classifier = borderline_hs::Classifier::bundled().unwrap();
    let s =
        borderline_hs::HsDescriptionSignal::new(classifier, borderline_hs::CheckPolicy::default());
    let defs = s.feature_defs();
    let mut fits = decl(1, 1, "A", "S", "610910", 100.0, 10.0, 16.0);
    fits.description = Some("men's cotton knitted T-shirts".into());
    let mut mismatch = fits.clone();
    mismatch.hs_code = HsCode::parse("630710").unwrap();
    let mut none = fits.clone();
    none.description = None;
    let mut a = vec![0f32; defs.len()];
    let mut b = vec![0f32; defs.len()];
    let mut c = vec![0f32; defs.len()];
    s.features(&fits, &mut a);
    s.features(&mismatch, &mut b);
    s.features(&none, &mut c);
    assert!(a[0] > 0.3 && b[0] < 0.01, "{a:?} {b:?}");
    assert!(a[1] > b[1]);
    assert!(c.iter().all(|x| x.is_nan()));
    assert!(s.reasons(&fits).is_empty());
    let r = s.reasons(&mismatch);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code, "hs.declared_code_implausible");
    assert!(s.reasons(&none).is_empty());
}
