use borderline_core::{Declaration, HsCode, ReasonKind, Signal};
use borderline_valuation::{
    AddOutcome, BenchmarkBuilder, Benchmarks, CheckOutcome, Config, Direction, Level, Problem,
    ValuationSignal,
};
use chrono::NaiveDate;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn decl(
    id: &str,
    day: &str,
    hs: &str,
    origin: &str,
    mass: Option<f64>,
    value: Option<f64>,
) -> Declaration {
    Declaration {
        declaration_id: id.into(),
        date: date(day),
        office: "30".into(),
        declarant: "D1".into(),
        importer: format!("IMP-{id}").into(),
        seller: None,
        courier: None,
        hs_code: HsCode::parse(hs).unwrap(),
        origin_country: origin.into(),
        departure_country: None,
        transport_mode: "10".into(),
        process_type: "B".into(),
        import_type: "11".into(),
        import_use: "21".into(),
        payment_type: "11".into(),
        net_mass_kg: mass,
        customs_value: value,
        currency: "KRW".into(),
        tax_rate: Some(8.0),
        tax_type: "A".into(),
        origin_indicator: "Y".into(),
        description: None,
        quantity: None,
        quantity_unit: None,
        outcome: None,
    }
}

/// Unit values `uvs` (mass 1 kg each) in one HS6 x origin cell.
fn cell(prefix: &str, hs: &str, origin: &str, uvs: &[f64]) -> Vec<Declaration> {
    uvs.iter()
        .enumerate()
        .map(|(i, &uv)| {
            decl(
                &format!("{prefix}{i}"),
                "2020-06-01",
                hs,
                origin,
                Some(1.0),
                Some(uv),
            )
        })
        .collect()
}

const AS_OF: &str = "2021-01-01";

#[test]
fn cell_statistics_match_hand_computation() {
    let ds = cell("a", "854140", "CN", &[1.0, 2.0, 4.0, 7.0, 100.0]);
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let o = b.origin_index("CN");
    let c = b.cell(Level::Hs6Origin, 854140, o, 0).unwrap();
    assert_eq!(c.n, 5);
    let close = |a: f64, e: f64| assert!((a - e).abs() < 1e-6, "{a} vs {e}");
    close(c.median(), 4f64.ln());
    close(c.q1(), 2f64.ln());
    close(c.q3(), 7f64.ln());
    // type-7 p5: position 0.2 between ln 1 and ln 2
    close(c.p5(), 0.2 * 2f64.ln());
    close(c.p95(), 7f64.ln() + 0.8 * (100f64.ln() - 7f64.ln()));
    // |log - ln 4| = ln4, ln2, 0, ln(7/4), ln25 -> median ln 2
    close(c.mad, 2f64.ln());
    // HS6, HS4 and HS2 pool the same declarations here
    for l in [Level::Hs6, Level::Hs4, Level::Hs2] {
        close(b.cell(l, 854140, None, 0).unwrap().median(), 4f64.ln());
    }
}

#[test]
fn quantity_weighting_moves_the_median_to_the_heavy_declarations() {
    let mut ds = cell("a", "854140", "CN", &[1.0, 2.0]);
    ds.push(decl(
        "heavy",
        "2020-06-01",
        "854140",
        "CN",
        Some(8.0),
        Some(24.0),
    )); // uv 3, 8 kg
    let cfg = Config {
        weighted: true,
        min_sample: 1,
        ..Config::default()
    };
    let b = Benchmarks::build(cfg, &ds, date(AS_OF)).unwrap();
    let c = b
        .cell(Level::Hs6Origin, 854140, b.origin_index("CN"), 0)
        .unwrap();
    assert!((c.median() - 3f64.ln()).abs() < 1e-6);
    assert_eq!(c.weight, 10.0);
}

#[test]
fn thin_cells_fall_back_hs6_origin_hs6_hs4_hs2() {
    let mut ds = cell("cn", "854140", "CN", &[10.0, 10.0]);
    ds.extend(cell("vn", "854140", "VN", &[10.0; 5]));
    ds.extend(cell("x", "854150", "VN", &[20.0; 3]));
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let check = |hs: &str, origin: &str| {
        b.check(&decl("q", "2021-01-05", hs, origin, Some(1.0), Some(10.0)))
    };
    assert_eq!(check("854140", "VN").level, Some(Level::Hs6Origin));
    assert_eq!(check("854140", "CN").level, Some(Level::Hs6)); // only 2 from CN
    assert_eq!(check("854150", "VN").level, Some(Level::Hs4)); // 3 in HS6, 10 in heading 8541
    assert_eq!(check("854290", "VN").level, Some(Level::Hs2));
    assert_eq!(check("010121", "VN").outcome, CheckOutcome::NoBenchmark);
    // configurable minimum sample
    let cfg = Config {
        min_sample: 2,
        ..Config::default()
    };
    let b2 = Benchmarks::build(cfg, &ds, date(AS_OF)).unwrap();
    let c = b2.check(&decl(
        "q",
        "2021-01-05",
        "854140",
        "CN",
        Some(1.0),
        Some(10.0),
    ));
    assert_eq!(c.level, Some(Level::Hs6Origin));
}

#[test]
fn trailing_window_excludes_old_and_future_declarations() {
    let mut ds = cell("in", "854140", "CN", &[10.0; 5]);
    ds.push(decl(
        "old",
        "2019-12-31",
        "854140",
        "CN",
        Some(1.0),
        Some(1000.0),
    ));
    ds.push(decl(
        "future",
        "2021-01-01",
        "854140",
        "CN",
        Some(1.0),
        Some(1000.0),
    ));
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let c = b
        .cell(Level::Hs6Origin, 854140, b.origin_index("CN"), 0)
        .unwrap();
    assert_eq!(c.n, 5);
    assert_eq!(b.window_start, date("2020-01-01"));
}

#[test]
fn incremental_update_equals_full_rebuild() {
    let mut all = Vec::new();
    for (i, hs) in ["854140", "854150", "030617", "030616"].iter().enumerate() {
        for (j, o) in ["CN", "VN", "DE"].iter().enumerate() {
            let uvs: Vec<f64> = (0..(3 + i + j))
                .map(|k| 5.0 + (k * 7 % 11) as f64 + i as f64)
                .collect();
            all.extend(cell(&format!("{hs}{o}"), hs, o, &uvs));
        }
    }
    for (k, d) in all.iter_mut().enumerate() {
        d.date = date("2020-02-01") + chrono::Days::new((k * 13 % 300) as u64);
        d.seller = Some(format!("S{}", k % 4).into());
        d.importer = format!("I{}", k % 5).into();
    }
    let (a, bb) = all.split_at(all.len() / 2);
    let mut inc = BenchmarkBuilder::new(Config::default()).unwrap();
    for d in a {
        inc.add(d);
    }
    let first = inc.finalize(date(AS_OF));
    for d in bb {
        assert_eq!(inc.add(d), AddOutcome::Added);
    }
    let updated = inc.finalize(date(AS_OF));
    let rebuilt = Benchmarks::build(Config::default(), &all, date(AS_OF)).unwrap();
    assert_ne!(first, rebuilt);
    assert_eq!(updated, rebuilt);
    let q = decl("q", "2021-01-02", "854140", "CN", Some(3.0), Some(12.0));
    assert_eq!(updated.check(&q), rebuilt.check(&q));
}

#[test]
fn zero_or_missing_mass_and_value_are_data_quality_findings() {
    let ds = cell("a", "854140", "CN", &[10.0; 6]);
    let mut builder = BenchmarkBuilder::new(Config::default()).unwrap();
    for d in &ds {
        builder.add(d);
    }
    let cases = [
        (Some(0.0), Some(10.0), Problem::ZeroMass),
        (None, Some(10.0), Problem::MissingMass),
        (Some(1.0), None, Problem::MissingValue),
        (Some(1.0), Some(0.0), Problem::ZeroValue),
        (Some(-1.0), Some(10.0), Problem::InvalidNumber),
        (Some(f64::NAN), Some(10.0), Problem::InvalidNumber),
    ];
    for (m, v, p) in &cases {
        let d = decl("bad", "2020-07-01", "854140", "CN", *m, *v);
        assert_eq!(builder.add(&d), AddOutcome::Skipped(p.clone()));
    }
    let b = builder.finalize(date(AS_OF));
    assert_eq!(b.counts.added, 6);
    assert_eq!(b.counts.skipped["valuation_zero_mass"], 1);
    for (m, v, p) in cases {
        let d = decl("bad", "2021-01-02", "854140", "CN", m, v);
        let c = b.check(&d);
        assert_eq!(c.outcome, CheckOutcome::DataQuality { problem: p.clone() });
        assert!(!c.flagged && c.score.is_nan() && c.duty_at_risk == 0.0);
        let r = b.reasons(&d, &c);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind, ReasonKind::DataQuality);
        assert_eq!(r[0].code, p.code());
    }
}

#[test]
fn currency_and_unit_mismatches_are_reported_not_mixed() {
    let mut ds = cell("a", "854140", "CN", &[10.0; 6]);
    let mut usd = decl("usd", "2020-06-01", "854140", "CN", Some(1.0), Some(0.01));
    usd.currency = "USD".into();
    let mut builder = BenchmarkBuilder::new(Config::default()).unwrap();
    for d in &ds {
        builder.add(d);
    }
    assert!(matches!(
        builder.add(&usd),
        AddOutcome::Skipped(Problem::CurrencyMismatch { .. })
    ));
    // per-unit benchmarks: pieces and pairs are separate cells
    for (i, d) in ds.iter_mut().enumerate() {
        d.quantity = Some(2.0);
        d.quantity_unit = Some(if i < 5 { "U" } else { "PR" }.into());
    }
    let mut b2 = BenchmarkBuilder::new(Config::default()).unwrap();
    for d in &ds {
        b2.add(d);
    }
    let b = builder.finalize(date(AS_OF));
    let c = b
        .cell(Level::Hs6Origin, 854140, b.origin_index("CN"), 0)
        .unwrap();
    assert_eq!(c.n, 6, "USD declaration not mixed into KRW cell");
    usd.date = date("2021-01-03");
    let chk = b.check(&usd);
    assert!(matches!(
        chk.outcome,
        CheckOutcome::DataQuality {
            problem: Problem::CurrencyMismatch { .. }
        }
    ));
    assert!(b.reasons(&usd, &chk)[0].text.contains("USD"));

    let b2 = b2.finalize(date(AS_OF));
    let u = b2.basis_index("U").unwrap();
    let pr = b2.basis_index("PR").unwrap();
    assert_ne!(u, pr);
    assert_eq!(
        b2.cell(Level::Hs6Origin, 854140, b2.origin_index("CN"), u)
            .unwrap()
            .n,
        5
    );
    assert_eq!(
        b2.cell(Level::Hs6Origin, 854140, b2.origin_index("CN"), pr)
            .unwrap()
            .n,
        1
    );
    let mut q = decl("q", "2021-01-03", "854140", "CN", Some(1.0), Some(10.0));
    q.quantity = Some(1.0);
    q.quantity_unit = Some("U".into());
    assert!(b2.check(&q).per_unit_z.is_some());
    q.quantity_unit = Some("L".into()); // no litre benchmark: no per-unit comparison
    assert!(b2.check(&q).per_unit_z.is_none());
    // Unit codes are case-insensitive: "u" is the "U" cell, not a new unit.
    q.quantity_unit = Some("u".into());
    assert!(b2.check(&q).per_unit_z.is_some());
    assert_eq!(b2.basis_index("u"), Some(u));
}

#[test]
fn under_valuation_is_flagged_with_officer_reason_and_duty_at_risk() {
    let b = Benchmarks::build(
        Config::default(),
        &cell("a", "854140", "CN", &[10.0; 12]),
        date(AS_OF),
    )
    .unwrap();
    let d = decl("q", "2021-01-02", "854140", "CN", Some(100.0), Some(200.0)); // 2 KRW/kg
    let c = b.check(&d);
    assert_eq!(c.level, Some(Level::Hs6Origin));
    assert_eq!(c.direction, Direction::Under);
    assert!(c.flagged && c.score < -3.5 && c.under_rank > c.over_rank);
    assert!((c.robust_z - (0.2f64.ln() / 0.05)).abs() < 1e-6); // MAD 0 -> floor 0.05
                                                               // (10 x 100 - 200) x 8% (log unit values are stored as f32)
    assert!((c.duty_at_risk - 64.0).abs() < 1e-3, "{}", c.duty_at_risk);
    assert_eq!(c.percentile, 0.0);
    let r = b.reasons(&d, &c);
    assert_eq!(r[0].kind, ReasonKind::Valuation);
    assert_eq!(r[0].code, "valuation_under");
    assert!(
        r[0].text.starts_with("declared 2.00 KRW/kg; median 10.0 for HS 854140 from CN (n=12); below the 1st percentile"),
        "{}",
        r[0].text
    );
    assert!(
        r[0].text.contains("duty at risk about 64.0 KRW"),
        "{}",
        r[0].text
    );
    // The model feature's description reads the same amount as the reason (one amount rule).
    let signal = ValuationSignal::new(b.clone());
    let mut features = vec![0.0f32; signal.feature_defs().len()];
    signal.features(&d, &mut features);
    let at_risk = signal
        .feature_defs()
        .iter()
        .position(|f| f.name == "valuation_log_duty_at_risk")
        .expect("duty-at-risk feature");
    assert_eq!(
        signal.describe(at_risk, features[at_risk], &d).as_deref(),
        Some("estimated duty at risk from under-valuation 64.0 KRW")
    );
    // a normal price is not flagged, an expensive one is over
    let ok = b.check(&decl(
        "ok",
        "2021-01-02",
        "854140",
        "CN",
        Some(10.0),
        Some(101.0),
    ));
    assert_eq!(ok.direction, Direction::Within);
    assert!(b
        .reasons(
            &decl("ok", "2021-01-02", "854140", "CN", Some(10.0), Some(101.0)),
            &ok
        )
        .is_empty());
    let over = b.check(&decl(
        "hi",
        "2021-01-02",
        "854140",
        "CN",
        Some(1.0),
        Some(80.0),
    ));
    assert_eq!(over.direction, Direction::Over);
    assert_eq!(over.duty_at_risk, 0.0);
}

#[test]
fn own_price_history_separates_products_within_an_hs6() {
    // HS6 with two products: most declarations at 10 KRW/kg, importer X always at 100.
    let spread = |base: f64, n: usize| -> Vec<f64> {
        (0..n)
            .map(|i| base * (0.8 + 0.45 * (i % 5) as f64 / 4.0))
            .collect()
    };
    let mut ds = cell("a", "854140", "CN", &spread(10.0, 30));
    for (i, mut d) in cell("x", "854140", "CN", &spread(100.0, 6))
        .into_iter()
        .enumerate()
    {
        d.importer = "X".into();
        d.declaration_id = format!("x{i}").into();
        ds.push(d);
    }
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let mut q = decl("q", "2021-01-02", "854140", "CN", Some(1.0), Some(10.0));
    q.importer = "X".into();
    let own = b.check(&q);
    q.importer = "NEW".into();
    let stranger = b.check(&q);
    assert_eq!(own.own_importer.unwrap().n, 6);
    assert!(stranger.own_importer.is_none());
    // 10 KRW/kg is the common product's price: normal for a newcomer, cheap for X
    assert_eq!(stranger.direction, Direction::Within);
    assert!(
        own.under_rank > stranger.under_rank + 0.5,
        "{} vs {}",
        own.under_rank,
        stranger.under_rank
    );
}

#[test]
fn signal_features_reasons_and_serde_round_trip() {
    let ds = cell("a", "854140", "CN", &[10.0, 11.0, 9.0, 10.5, 9.5, 10.0]);
    let s = ValuationSignal::fit(Config::default(), &ds, date(AS_OF)).unwrap();
    let defs = s.feature_defs();
    assert!(defs.iter().all(|f| f.name.starts_with("valuation_")));
    let d = decl("q", "2021-01-02", "854140", "CN", Some(10.0), Some(20.0));
    let mut f = vec![0f32; defs.len()];
    s.features(&d, &mut f);
    assert!(f[0] < -3.5 && f[8] == 0.0);
    assert_eq!(defs.len(), 12);
    // single product: certain of it; under-valuation ranks high, over-valuation low
    assert!(f[9] > 3.0 && f[10] < f[9] && f[11] == 1.0, "{f:?}");
    assert_eq!(s.reasons(&d)[0].code, "valuation_under");
    let json = serde_json::to_string(&s).unwrap();
    let back: ValuationSignal = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        json,
        serde_json::to_string(&back).unwrap(),
        "serialisation is deterministic"
    );
    let mut g = vec![0f32; defs.len()];
    back.features(&d, &mut g);
    assert_eq!(
        f.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        g.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    // data quality: only the flag feature is set
    s.features(
        &decl("z", "2021-01-02", "854140", "CN", Some(0.0), Some(20.0)),
        &mut f,
    );
    assert!(f[0].is_nan() && f[8] == 1.0);
}

#[test]
fn save_load_and_csv_export() {
    let mut ds = cell("a", "854140", "CN", &[10.0; 5]);
    ds.extend(cell("b", "030617", "VN", &[3.0; 2]));
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bench.json.gz");
    b.save(&p).unwrap();
    assert_eq!(Benchmarks::load(&p).unwrap(), b);
    let mut out = Vec::new();
    b.write_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("level,hs,origin,basis,currency,n"));
    assert!(lines.contains(&"hs6_origin,030617,VN,kg,KRW,2,2,3.000000,3.000000,3.000000,3.000000,3.000000,3.000000,3.000000,0.000000,0.000000,2020-01-01,2021-01-01"), "{text}");
    assert!(text.contains("hs2,03,,kg,KRW,2,"));
    // a file of another kind is a typed error
    std::fs::write(&p, r#"{"format":"something-else"}"#).unwrap();
    assert!(matches!(
        Benchmarks::load(&p),
        Err(borderline_valuation::ValuationError::Format { .. })
    ));
}

#[test]
fn quick_check_agrees_with_full_check_on_cell_statistics() {
    let b = Benchmarks::build(
        Config::default(),
        &cell("a", "854140", "CN", &[8.0, 9.0, 10.0, 11.0, 12.0, 10.0]),
        date(AS_OF),
    )
    .unwrap();
    let d = decl("q", "2021-01-02", "854140", "CN", Some(100.0), Some(300.0));
    let q = b.quick_check(&d).unwrap();
    let c = b.check(&d);
    assert_eq!(
        (q.level, q.robust_z, q.percentile, q.duty_at_risk),
        (c.level, c.robust_z, c.percentile, c.duty_at_risk)
    );
    assert_eq!(
        b.quick_check(&decl(
            "z",
            "2021-01-02",
            "854140",
            "CN",
            Some(0.0),
            Some(3.0)
        )),
        Err(Problem::ZeroMass)
    );
}

/// Two products under one HS6, told apart only by their repeated consignment mass: 10 KRW/kg
/// shipped as 5 kg, 100 KRW/kg shipped as 7 kg (different importers, one origin, one rate).
fn two_products() -> Vec<Declaration> {
    let mut ds = Vec::new();
    for i in 0..20 {
        // +-10% price spread so the groups have a real dispersion
        let f = 0.9 + 0.2 * (i % 5) as f64 / 4.0;
        ds.push(decl(
            &format!("c{i}"),
            "2020-06-01",
            "854140",
            "CN",
            Some(5.0),
            Some(5.0 * 10.0 * f),
        ));
        ds.push(decl(
            &format!("e{i}"),
            "2020-06-01",
            "854140",
            "CN",
            Some(7.0),
            Some(7.0 * 100.0 * f),
        ));
    }
    // other single-product HS6s set the typical within-product dispersion (sigma0)
    for hs in ["030617", "620342", "940169"] {
        let prices: Vec<f64> = (0..10)
            .map(|i| 20.0 * (0.9 + 0.2 * (i % 5) as f64 / 4.0))
            .collect();
        ds.extend(cell(hs, hs, "CN", &prices));
    }
    ds
}

#[test]
fn repeated_net_mass_identifies_the_product_within_an_hs6() {
    let b = Benchmarks::build(Config::default(), &two_products(), date(AS_OF)).unwrap();
    let products = b.products(854140);
    assert_eq!(products.len(), 2, "{products:?}");
    assert!((products[0].center - 10f64.ln()).abs() < 0.05 && products[0].n == 20);
    assert!((products[1].center - 100f64.ln()).abs() < 0.05 && products[1].n == 20);
    // 10 KRW/kg is the cheap product's price: normal at its mass, a tenth of the price at
    // the dear product's mass
    let cheap = b.check(&decl(
        "q1",
        "2021-01-02",
        "854140",
        "CN",
        Some(5.0),
        Some(50.0),
    ));
    let dear = b.check(&decl(
        "q2",
        "2021-01-02",
        "854140",
        "CN",
        Some(7.0),
        Some(70.0),
    ));
    assert_eq!(cheap.direction, Direction::Within);
    assert!(cheap.product_confidence > 0.9 && dear.product_confidence > 0.9);
    // the expected price follows the mass to the dear product, and the under-valuation rank
    // rises (not to a flag: 10% of the posterior stays on the HS6's plain product shares)
    assert!(dear.expected > cheap.expected + 1.5, "{dear:?}");
    assert!(
        dear.under_rank > cheap.under_rank + 1.0,
        "{} vs {}",
        dear.under_rank,
        cheap.under_rank
    );
    // an unseen mass leaves both products plausible: neither price is flagged
    let open = b.check(&decl(
        "q3",
        "2021-01-02",
        "854140",
        "CN",
        Some(6.0),
        Some(60.0),
    ));
    assert!(
        open.product_confidence < 0.9 && open.direction == Direction::Within,
        "{open:?}"
    );
}

#[test]
fn assess_agrees_with_check_and_is_copy() {
    let b = Benchmarks::build(Config::default(), &two_products(), date(AS_OF)).unwrap();
    for d in [
        decl("a", "2021-01-02", "854140", "CN", Some(7.0), Some(70.0)),
        decl("b", "2021-01-02", "854140", "VN", Some(3.0), Some(300.0)),
        decl("c", "2021-01-02", "850000", "CN", Some(3.0), Some(30.0)),
        decl("z", "2021-01-02", "854140", "CN", Some(0.0), Some(30.0)),
    ] {
        let a = b.assess(&d);
        let a2 = a; // Copy
        let c = b.check(&d);
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
        assert!(same(a2.score, c.score) && same(a2.under_rank, c.under_rank));
        assert!(same(a.over_rank, c.over_rank) && same(a.robust_z, c.robust_z));
        assert_eq!(
            (a.level, a.direction, a.flagged),
            (c.level, c.direction, c.flagged)
        );
    }
    let z = b.assess(&decl(
        "z",
        "2021-01-02",
        "854140",
        "CN",
        Some(0.0),
        Some(30.0),
    ));
    assert_eq!(
        z.status,
        borderline_valuation::Status::DataQuality(borderline_valuation::Quality::ZeroMass)
    );
    let mut usd = decl("u", "2021-01-02", "854140", "CN", Some(7.0), Some(70.0));
    usd.currency = "USD".into();
    assert_eq!(
        b.assess(&usd).status,
        borderline_valuation::Status::DataQuality(borderline_valuation::Quality::CurrencyMismatch)
    );
}

#[test]
fn a_declaration_without_currency_is_told_so_not_given_an_empty_currency() {
    let none = borderline_valuation::Problem::CurrencyMismatch {
        declared: " ".into(),
        benchmarks: "KRW".into(),
    };
    assert_eq!(
        none.text(),
        "no currency declared; price benchmarks are in KRW (not compared)"
    );
    let usd = borderline_valuation::Problem::CurrencyMismatch {
        declared: "USD".into(),
        benchmarks: "KRW".into(),
    };
    assert!(usd.text().starts_with("value declared in USD;"));
}

/// Each cell counts the distinct importers whose declarations made it (what decides whether a
/// trader may see it); pooled cells count the union, and a saved file keeps the count.
#[test]
fn cells_record_their_distinct_importers() {
    // Six declarations of three importers in HS6 x CN; two of a fourth importer in HS6 x VN.
    let mut ds = cell("a", "854140", "CN", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    for (i, d) in ds.iter_mut().enumerate() {
        d.importer = format!("IMP-{}", i % 3).into();
    }
    let mut vn = cell("v", "854140", "VN", &[2.0, 3.0]);
    for d in &mut vn {
        d.importer = "IMP-VN".into();
    }
    ds.extend(vn);
    let b = Benchmarks::build(Config::default(), &ds, date(AS_OF)).unwrap();
    let cn = b
        .cell(Level::Hs6Origin, 854140, b.origin_index("CN"), 0)
        .unwrap();
    assert_eq!((cn.n, cn.importers), (6, 3));
    let hs6 = b.cell(Level::Hs6, 854140, None, 0).unwrap();
    assert_eq!((hs6.n, hs6.importers), (8, 4));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json.gz");
    b.save(&path).unwrap();
    let back = Benchmarks::load(&path).unwrap();
    assert_eq!(back.cell(Level::Hs6, 854140, None, 0).unwrap().importers, 4);
}
