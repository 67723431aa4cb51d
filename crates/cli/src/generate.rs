//! Seeded generator of realistic declarations for scale benchmarks: resamples the bundled Korea
//! Customs rows and perturbs them (new ids and dates, log-normal mass and price noise, parties
//! swapped between rows of the same HS chapter), written in the Korea Customs layout.

use crate::targeting::{data_dir, GenerateArgs};
use anyhow::{Context, Result};
use borderline_core::Declaration;
use borderline_ingest::{read_all, Profile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller: enough for benchmark noise, no extra dependency.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub fn generate(a: &GenerateArgs) -> Result<()> {
    let dir = data_dir().join("declarations");
    let mut base: Vec<Declaration> = Vec::new();
    for split in ["train", "valid", "test"] {
        let (rows, _, _) = read_all(
            dir.join(format!("kcs_{split}.csv.gz")),
            Profile::korea_customs(),
        )
        .with_context(|| format!("reading bundled data in {}", dir.display()))?;
        base.extend(rows);
    }
    anyhow::ensure!(!base.is_empty(), "no bundled declarations to resample");
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let file = std::fs::File::create(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud")?;
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).context("date")?;
    let pb = indicatif::ProgressBar::new(a.rows);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for i in 0..a.rows {
        let d = &base[rng.random_range(0..base.len())];
        // Another row's importer in 10% of cases: new party/goods combinations.
        let importer = if rng.random::<f64>() < 0.1 {
            &base[rng.random_range(0..base.len())].importer
        } else {
            &d.importer
        };
        let date = start + chrono::Days::new(rng.random_range(0..547));
        let mass = d.net_mass_kg.unwrap_or(0.0) * (0.3 * normal(&mut rng)).exp();
        let unit = d.unit_value().unwrap_or(0.0) * (0.05 * normal(&mut rng)).exp();
        let (fraud, critical) = d
            .outcome
            .map(|o| (u8::from(o.fraud), o.critical_level))
            .unwrap_or((0, 0));
        writeln!(
            out,
            "G{:010},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1},{:.2},{},{}",
            i,
            date,
            d.office,
            d.process_type,
            d.import_type,
            d.import_use,
            d.payment_type,
            d.transport_mode,
            d.declarant,
            importer,
            d.seller.as_deref().unwrap_or(""),
            d.courier.as_deref().unwrap_or(""),
            d.hs_code,
            d.departure_country.as_deref().unwrap_or(""),
            d.origin_country,
            d.tax_rate.unwrap_or(0.0),
            d.tax_type,
            d.origin_indicator,
            mass,
            mass * unit,
            fraud,
            critical
        )?;
        if i % 65536 == 0 {
            pb.set_position(i);
        }
    }
    pb.finish_and_clear();
    out.flush()?;
    eprintln!("wrote {} declarations to {}", a.rows, a.output.display());
    Ok(())
}
