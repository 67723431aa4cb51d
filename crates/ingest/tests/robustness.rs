//! Hostile and unfamiliar input (issue 14): real line numbers on truncated gzip, bounded quoting,
//! clear profile errors and a hint for the generic layout.

use borderline_ingest::{
    DeclarationReader, IngestError, Profile, ProfileError, Row, SourceFormat, QUOTE_LIMIT,
};
use std::io::Write;

const GENERIC_HEADER: &str =
    "declaration_id,date,importer,hs_code,origin_country,net_mass_kg,customs_value,currency";

fn generic_rows(n: usize) -> String {
    let mut s = format!("{GENERIC_HEADER}\n");
    for i in 0..n {
        s.push_str(&format!("D{i},2024-03-01,IMP{i},610910,CN,12.5,1000,USD\n"));
    }
    s
}

#[test]
fn a_truncated_gzip_input_reports_the_line_it_stopped_at() {
    let text = generic_rows(5000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("compress");
    let bytes = gz.finish().expect("compress");
    let truncated = &bytes[..bytes.len() * 2 / 3];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.csv.gz");
    std::fs::write(&path, truncated).expect("write");
    let mut reader = DeclarationReader::open(&path, Profile::generic()).expect("open");
    let accepted = reader
        .by_ref()
        .filter(|r| matches!(r, Row::Accepted(_)))
        .count() as u64;
    let err = reader.take_error().expect("truncation is an error");
    match &err {
        IngestError::Read { line, .. } => {
            assert!(*line > 1, "{err}");
            // The header is line 1, so the failing line follows the last accepted row.
            assert_eq!(*line, accepted + 2, "{err}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(!err.to_string().contains("line 0"), "{err}");
}

#[test]
fn a_truncated_gzip_json_lines_input_reports_its_line() {
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!(
            "{{\"declaration_id\":\"D{i}\",\"date\":\"2024-03-01\",\"importer\":\"I\",\"hs_code\":\"610910\",\"origin_country\":\"CN\",\"net_mass_kg\":1,\"customs_value\":2}}\n"
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("compress");
    let bytes = gz.finish().expect("compress");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let mut reader = DeclarationReader::open(&path, Profile::generic()).expect("open");
    let read = reader.by_ref().count() as u64;
    let err = reader.take_error().expect("truncation is an error");
    let IngestError::Read { line, .. } = err else {
        panic!("unexpected error {err}")
    };
    assert!(line >= read && line > 0);
}

fn read_generic(text: &str) -> Vec<Row> {
    let mut reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        "big.csv",
        SourceFormat::Csv,
        Profile::generic(),
    )
    .expect("usable");
    reader.by_ref().collect()
}

#[test]
fn huge_values_are_quoted_only_as_a_bounded_prefix() {
    let huge = "9".repeat(1_000_000) + "x";
    let text = format!(
        "{GENERIC_HEADER}\nD1,2024-03-01,I,610910,CN,{huge},1000,USD\nD2,{huge},I,610910,CN,1,1,USD\n"
    );
    let rows = read_generic(&text);
    let mut fields = Vec::new();
    for row in &rows {
        let Row::Quarantined(q) = row else {
            panic!("accepted a huge value")
        };
        let shown = q.to_string();
        assert!(shown.len() < QUOTE_LIMIT + 200, "{} chars", shown.len());
        assert!(
            shown.contains("big.csv") && shown.contains("line "),
            "{shown}"
        );
        assert!(shown.contains("more bytes"), "{shown}");
        fields.push((q.line, q.field.clone()));
    }
    assert_eq!(
        fields,
        vec![(2, "net_mass_kg".to_string()), (3, "date".to_string())]
    );
}

#[test]
fn a_huge_header_is_quoted_only_as_a_bounded_prefix() {
    let text = format!("{}\n1\n", "x".repeat(1_000_000));
    let err = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(text.into_bytes())),
        "h.csv",
        SourceFormat::Csv,
        Profile::generic(),
    )
    .err()
    .expect("missing columns");
    let shown = err.to_string();
    assert!(shown.len() < 2000, "{} chars", shown.len());
}

#[test]
fn a_missing_profile_file_is_reported_as_not_found() {
    let err = Profile::resolve("/no/such/dir/profile.json").expect_err("missing");
    assert!(matches!(err, ProfileError::NotFound(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "profile file not found: /no/such/dir/profile.json"
    );
    let err = Profile::resolve("broker.json").expect_err("missing");
    assert_eq!(err.to_string(), "profile file not found: broker.json");
    // A bare word is still an unknown profile name.
    assert!(matches!(
        Profile::resolve("koreaa"),
        Err(ProfileError::Unknown(_))
    ));
}

#[test]
fn a_generic_file_read_with_the_default_profile_gets_a_hint() {
    let text = generic_rows(2);
    let open = |profile| {
        DeclarationReader::from_reader(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "g.csv",
            SourceFormat::Csv,
            profile,
        )
    };
    let err = open(Profile::korea_customs()).err().expect("wrong layout");
    assert!(err.to_string().contains("--profile generic"), "{err}");
    assert!(open(Profile::generic()).is_ok());
    // Another layout gets no such hint.
    let other = "a,b,c\n1,2,3\n";
    let err = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(other.as_bytes().to_vec())),
        "o.csv",
        SourceFormat::Csv,
        Profile::korea_customs(),
    )
    .err()
    .expect("wrong layout");
    assert!(!err.to_string().contains("--profile generic"), "{err}");
}

#[test]
fn an_unparsable_constant_default_is_a_profile_error() {
    let columns = r#""columns": {"declaration_id": "id", "date": "d", "importer": "i", "hs_code": "hs", "origin_country": "o", "customs_value": "v"}"#;
    let bad = format!(r#"{{"name": "b", {columns}, "defaults": {{"net_mass_kg": "heavy"}}}}"#);
    let err = Profile::from_json_str(&bad, "b.json").expect_err("bad default");
    assert!(
        matches!(&err, ProfileError::BadDefault { field, .. } if field.name() == "net_mass_kg"),
        "{err}"
    );
    assert!(err.to_string().contains("not a number"), "{err}");
    for (field, value) in [
        ("date", "yesterday"),
        ("origin_country", "Korea!"),
        ("hs_code", "12"),
        ("fraud", "maybe"),
    ] {
        let text = format!(r#"{{{columns}, "defaults": {{"{field}": "{value}"}}}}"#);
        assert!(
            Profile::from_json_str(&text, "p.json").is_err(),
            "{field}={value} accepted"
        );
    }
    let good = format!(
        r#"{{{columns}, "defaults": {{"net_mass_kg": "1.5", "currency": "USD", "critical_level": "1"}}}}"#
    );
    let profile = Profile::from_json_str(&good, "g.json").expect("good defaults");
    assert_eq!(profile.defaults.len(), 3);
}

/// Fuzzing regression (`ingest_jsonl`, crash-16d47f30...): a value of 214 DEL characters is
/// quoted as its first `QUOTE_LIMIT` characters, each escaped (`\u{7f}`, up to 10 shown
/// characters for one input character), so the message is bounded by 10 x `QUOTE_LIMIT` plus
/// the file, line and field, not by `QUOTE_LIMIT` itself; the row is quarantined naming its
/// field.
#[test]
fn escaped_control_characters_keep_the_quote_bounded() {
    let value = format!("610....{}.88 ", "\u{7f}".repeat(214));
    let line = format!(
        "{{\"declaration_id\":\"D1\",\"date\":\"2024-03-01\",\"hs_code\":\"{value}\",\"girice\":2}}\n"
    );
    let mut reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(line.into_bytes())),
        "fuzz.jsonl",
        SourceFormat::JsonLines,
        Profile::generic(),
    )
    .expect("usable");
    let rows: Vec<Row> = reader.by_ref().collect();
    let Some(Row::Quarantined(q)) = rows.first() else {
        panic!("quarantined: {rows:?}")
    };
    let shown = q.to_string();
    assert!(shown.contains("fuzz.jsonl, line 1, field"), "{shown}");
    assert!(
        shown.len() < 10 * QUOTE_LIMIT + 400,
        "{} chars",
        shown.len()
    );
    assert!(
        !shown.contains(&"\u{7f}".repeat(2)),
        "control characters are escaped"
    );
}
