//! Declaration csv input: any bytes, under both built-in profiles, must give accepted or
//! quarantined rows or an error, never a panic, and the accounting must balance.
#![no_main]
use borderline_ingest::{DeclarationReader, Profile, Row, SourceFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for profile in [Profile::korea_customs(), Profile::generic()] {
        let Ok(mut reader) = DeclarationReader::from_reader(
            Box::new(std::io::Cursor::new(data.to_vec())),
            "fuzz",
            SourceFormat::Csv,
            profile,
        ) else {
            continue;
        };
        let mut rows = 0u64;
        for row in reader.by_ref() {
            rows += 1;
            if let Row::Quarantined(q) = row {
                // Messages stay bounded whatever the input: at most QUOTE_LIMIT quoted
                // characters, each shown escaped in at most 10 (`\\u{10ffff}`).
                assert!(q.to_string().len() < 10 * borderline_ingest::QUOTE_LIMIT + 400);
            }
        }
        let failed = reader.take_error().is_some();
        let report = reader.report();
        assert!(report.balanced());
        assert!(failed || report.read == rows);
    }
});
