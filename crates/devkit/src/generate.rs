//! Seeded generator of realistic declarations for scale benchmarks: resamples the bundled Korea
//! Customs rows and perturbs them (new ids and dates, log-normal mass and price noise, parties
//! swapped between rows of the same HS chapter), written in the Korea Customs layout.

use borderline_core::Declaration;
use borderline_ingest::{read_all, IngestError, Profile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("reading bundled data in {dir}: {source}")]
    Data {
        dir: String,
        source: Box<IngestError>,
    },
    #[error("no bundled declarations to resample in {0}")]
    NoData(String),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller: enough for benchmark noise, no extra dependency.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Writes `rows` generated declarations to `output` (gzip-compressed when it ends in `.gz`),
/// resampling the bundled data under `data_dir`; the file appears only when complete.
/// Returns the number written.
pub fn generate(
    data_dir: &Path,
    rows: u64,
    seed: u64,
    output: &Path,
) -> Result<u64, GenerateError> {
    let dir = data_dir.join("declarations");
    let mut base: Vec<Declaration> = Vec::new();
    for split in ["train", "valid", "test"] {
        let (rows, _, _) = read_all(
            dir.join(format!("kcs_{split}.csv.gz")),
            Profile::korea_customs(),
        )
        .map_err(|source| GenerateError::Data {
            dir: dir.display().to_string(),
            source: Box::new(source),
        })?;
        base.extend(rows);
    }
    if base.is_empty() {
        return Err(GenerateError::NoData(dir.display().to_string()));
    }
    let werr = |source| GenerateError::Write {
        path: output.display().to_string(),
        source,
    };
    let mut file = borderline_atomic_file::AtomicFile::create(output).map_err(werr)?;
    if output.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        write_rows(&base, rows, seed, &mut gz).map_err(werr)?;
        file = gz.finish().map_err(werr)?;
    } else {
        write_rows(&base, rows, seed, &mut file).map_err(werr)?;
    }
    file.commit().map_err(werr)?;
    Ok(rows)
}

fn write_rows(
    base: &[Declaration],
    rows: u64,
    seed: u64,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    writeln!(out, "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud")?;
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let pb = indicatif::ProgressBar::new(rows);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for i in 0..rows {
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
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: `generate --output x.csv.gz` wrote plain text under a `.gz` name.
    #[test]
    fn a_gz_output_is_gzip_and_reads_back_completely() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let out = dir.path().join("x.csv.gz");
        assert_eq!(generate(&data, 50, 3, &out).expect("generated"), 50);
        let bytes = std::fs::read(&out).expect("written");
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
        let (rows, _, report) = read_all(&out, Profile::korea_customs()).expect("reads");
        assert_eq!((rows.len(), report.quarantined), (50, 0));
    }
}
