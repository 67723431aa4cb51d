//! Model artefacts: the fuzzer's bytes are the artefact's JSON (gzipped here so the fuzzer
//! explores the JSON, not the deflate stream). Loading gives a model or a ModelError, never a
//! panic; a loaded model scores a sample declaration without panicking or overflowing the stack.
#![no_main]
use borderline_targeting::model::ModelArtefact;
use borderline_targeting::score::Scorer;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(data).is_err() {
        return;
    }
    let Ok(bytes) = gz.finish() else { return };
    let Ok(model) = ModelArtefact::from_bytes(&bytes, "fuzz.json.gz") else {
        return;
    };
    let scorer = Scorer::new(model);
    let mut x = vec![0f32; scorer.num_features()];
    let declaration = sample();
    let _ = scorer.score(&declaration, &mut x);
});

fn sample() -> borderline_core::Declaration {
    let text = "declaration_id,date,importer,hs_code,origin_country,net_mass_kg,customs_value\n\
                D1,2024-03-01,IMP,610910,CN,12.5,1000\n";
    let mut reader = borderline_ingest::DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        "sample",
        borderline_ingest::SourceFormat::Csv,
        borderline_ingest::Profile::generic(),
    )
    .expect("sample parses");
    match reader.next() {
        Some(borderline_ingest::Row::Accepted(d)) => d,
        other => panic!("sample rejected: {other:?}"),
    }
}
