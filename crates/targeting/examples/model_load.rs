//! Time and peak memory of loading a model artefact: the typed streaming load
//! (`ModelArtefact::load`) or, for comparison, the former way (whole text in memory, parsed to
//! a generic `serde_json::Value`, then converted). Run under `/usr/bin/time -f "%e s %M KB"`:
//!
//! ```text
//! cargo run --release -p borderline-targeting --example model_load -- new out/demo/model.json.gz
//! cargo run --release -p borderline-targeting --example model_load -- value out/demo/model.json.gz
//! ```

use borderline_targeting::model::ModelArtefact;
use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: model_load new|value MODEL.json.gz");
        return ExitCode::from(2);
    };
    let path = std::path::Path::new(path);
    let t = Instant::now();
    let model = match mode.as_str() {
        "new" => ModelArtefact::load(path).map_err(|e| e.to_string()),
        "value" => (|| {
            let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(std::io::BufReader::new(file))
                .read_to_end(&mut text)
                .map_err(|e| e.to_string())?;
            let value: serde_json::Value =
                serde_json::from_slice(&text).map_err(|e| e.to_string())?;
            serde_json::from_value::<ModelArtefact>(value).map_err(|e| e.to_string())
        })(),
        other => Err(format!("unknown mode {other:?}: new or value")),
    };
    match model {
        Ok(m) => {
            println!(
                "{mode}: model {} ({} trees) loaded in {:.2} s",
                m.model_id,
                m.ensemble.trees.len(),
                t.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
