//! Another administration's conventions for dates and numbers: a JSON profile states them
//! (`date_format`, `decimal_separator`, `thousands_separator`), rows that follow them are read
//! exactly, and a value written otherwise is quarantined with its field and the convention it
//! broke, never read the other way. A `;` or tab export is read without being told.

use borderline_ingest::{DeclarationReader, Profile, ProfileError, Row, SourceFormat};
use chrono::NaiveDate;

const COLUMNS: &str = r#""columns": {"declaration_id": "Entry No", "date": "Entry Date",
    "importer": "Importer", "hs_code": "Commodity Code", "origin_country": "Origin",
    "net_mass_kg": "Net Mass (kg)", "customs_value": "Customs Value", "tax_rate": "Duty %",
    "fraud": "Finding", "critical_level": "Severity"}"#;

fn european() -> Profile {
    let text = format!(
        r#"{{"name": "eu-extract", {COLUMNS}, "defaults": {{"currency": "EUR"}},
            "date_format": "%d.%m.%Y", "decimal_separator": ",", "thousands_separator": "."}}"#
    );
    Profile::from_json_str(&text, "eu.json").expect("a usable profile")
}

fn read(text: &str, format: SourceFormat, profile: Profile) -> Vec<Row> {
    let reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        "extract",
        format,
        profile,
    )
    .expect("usable input");
    reader.collect()
}

const HEADER: &str =
    "Entry No;Entry Date;Importer;Commodity Code;Origin;Net Mass (kg);Customs Value;Duty %;Finding;Severity";

/// A European spreadsheet export: `;` between fields, because `,` is the decimal mark.
fn european_csv(rows: &[[&str; 10]]) -> String {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(&r.join(";"));
        text.push('\n');
    }
    text
}

#[test]
fn day_first_dates_and_decimal_commas_are_read_as_the_profile_says() {
    let text = european_csv(&[
        [
            "E1",
            "03.04.2021",
            "ACME",
            "6109.10",
            "CN",
            "1.234,5",
            "12.345.678,90",
            "12",
            "1",
            "2",
        ],
        [
            "E2",
            "31.12.2021",
            "ACME",
            "610910",
            "VN",
            "0,25",
            "999",
            "0,5",
            "0",
            "0",
        ],
    ]);
    let rows = read(&text, SourceFormat::Csv, european());
    let accepted: Vec<_> = rows
        .iter()
        .map(|r| match r {
            Row::Accepted(d) => d,
            Row::Quarantined(q) => panic!("quarantined: {q}"),
        })
        .collect();
    assert_eq!(accepted.len(), 2);
    let (a, b) = (accepted[0], accepted[1]);
    // The 3rd of April, not the 4th of March.
    assert_eq!(a.date, NaiveDate::from_ymd_opt(2021, 4, 3).expect("date"));
    assert_eq!(a.net_mass_kg, Some(1234.5));
    assert_eq!(a.customs_value, Some(12_345_678.9));
    assert_eq!(a.tax_rate, Some(12.0));
    assert_eq!(a.currency.as_str(), "EUR");
    let outcome = a.outcome.as_ref().expect("an inspection outcome");
    assert!(outcome.fraud);
    assert_eq!(outcome.critical_level, 2);
    assert_eq!(b.date, NaiveDate::from_ymd_opt(2021, 12, 31).expect("date"));
    assert_eq!(b.net_mass_kg, Some(0.25));
    assert_eq!(b.tax_rate, Some(0.5));
}

#[test]
fn json_numbers_and_quoted_numbers_of_one_file_read_alike() {
    let text = concat!(
        r#"{"Entry No": "J1", "Entry Date": "01.02.2021", "Importer": "ACME", "Commodity Code": "610910", "Origin": "CN", "Net Mass (kg)": 12.5, "Customs Value": "1.000,75"}"#,
        "\n",
        r#"{"Entry No": "J2", "Entry Date": "02.02.2021", "Importer": "ACME", "Commodity Code": "610910", "Origin": "CN", "Net Mass (kg)": "12,5", "Customs Value": 1000.75}"#,
        "\n"
    );
    let rows = read(text, SourceFormat::JsonLines, european());
    for row in &rows {
        match row {
            Row::Accepted(d) => {
                assert_eq!(d.net_mass_kg, Some(12.5), "{}", d.declaration_id);
                assert_eq!(d.customs_value, Some(1000.75), "{}", d.declaration_id);
            }
            Row::Quarantined(q) => panic!("quarantined: {q}"),
        }
    }
    assert_eq!(rows.len(), 2);
}

#[test]
fn a_value_written_another_way_is_quarantined_naming_field_and_convention() {
    let base = [
        "E1",
        "03.04.2021",
        "ACME",
        "610910",
        "CN",
        "10",
        "100",
        "",
        "",
        "",
    ];
    let with = |i: usize, v: &'static str| {
        let mut r = base;
        r[i] = v;
        r
    };
    // Each of these would be read wrongly (or 1,000 times off) by the other convention.
    let cases = [
        (with(1, "2021-04-03"), "date", "date_format %d.%m.%Y"),
        (with(5, "1.5"), "net_mass_kg", "1.234,5"),
        (with(6, "1,234.50"), "customs_value", "1.234,5"),
        (with(6, "12.34"), "customs_value", "1.234,5"),
        (with(6, "1.234.5"), "customs_value", "1.234,5"),
        (with(6, "-1.000"), "customs_value", "negative"),
    ];
    let rows: Vec<[&str; 10]> = cases.iter().map(|c| c.0).collect();
    let result = read(&european_csv(&rows), SourceFormat::Csv, european());
    assert_eq!(result.len(), cases.len(), "no row is dropped");
    for (row, (_, field, reason)) in result.iter().zip(&cases) {
        match row {
            Row::Quarantined(q) => {
                assert_eq!(q.field, *field, "{q}");
                assert!(q.reason.contains(reason), "{q}");
                assert!(q.line >= 2, "{q}");
            }
            Row::Accepted(d) => panic!("accepted {:?} for {field}", d),
        }
    }
}

#[test]
fn without_a_date_format_a_day_first_date_is_refused_with_the_way_out() {
    let text = "declaration_id,date,importer,hs_code,origin_country,net_mass_kg,customs_value\n\
                D1,03/04/2021,ACME,610910,CN,1,1\n";
    let rows = read(text, SourceFormat::Csv, Profile::generic());
    match rows.as_slice() {
        [Row::Quarantined(q)] => {
            assert_eq!(q.field, "date");
            assert!(q.reason.contains("date_format"), "{q}");
        }
        other => panic!("expected one quarantined row, got {}", other.len()),
    }
}

#[test]
fn a_profile_with_an_unusable_convention_is_refused_when_loaded() {
    let profile = |extra: &str| format!(r#"{{{COLUMNS}, {extra}}}"#);
    for (extra, says) in [
        (r#""date_format": "%d/%m""#, "day, month and year"),
        (r#""date_format": "%d/%m/%Q""#, "not a strftime pattern"),
        (r#""decimal_separator": ";""#, "decimal_separator"),
        (
            r#""decimal_separator": ",", "thousands_separator": ",""#,
            "thousands_separator",
        ),
        (r#""thousands_separator": "x""#, "thousands_separator"),
    ] {
        let err = Profile::from_json_str(&profile(extra), "p.json").expect_err(extra);
        assert!(
            matches!(err, ProfileError::BadFormat { .. }),
            "{extra}: {err}"
        );
        assert!(err.to_string().contains(says), "{extra}: {err}");
        assert!(err.to_string().contains("p.json"), "{err}");
    }
    // A misspelt key is an error, not a convention silently ignored.
    let err = Profile::from_json_str(&profile(r#""date_fromat": "%d.%m.%Y""#), "p.json")
        .expect_err("unknown key");
    assert!(err.to_string().contains("date_fromat"), "{err}");
}

#[test]
fn a_constant_default_is_checked_in_the_profiles_convention() {
    let text =
        format!(r#"{{{COLUMNS}, "decimal_separator": ",", "defaults": {{"tax_rate": "8,5"}}}}"#);
    let profile = Profile::from_json_str(&text, "p.json").expect("8,5 is a number here");
    assert_eq!(profile.defaults.len(), 1);
    let text =
        format!(r#"{{{COLUMNS}, "decimal_separator": ",", "defaults": {{"tax_rate": "8.5"}}}}"#);
    let err = Profile::from_json_str(&text, "p.json").expect_err("8.5 is not");
    assert!(
        matches!(&err, ProfileError::BadDefault { field, .. } if field.name() == "tax_rate"),
        "{err}"
    );
}

#[test]
fn a_semicolon_or_tab_export_is_read_without_naming_its_delimiter() {
    for sep in [";", "\t"] {
        let text = format!(
            "declaration_id{sep}date{sep}importer{sep}hs_code{sep}origin_country{sep}net_mass_kg{sep}customs_value\n\
             D1{sep}2021-04-03{sep}ACME, Ltd{sep}610910{sep}CN{sep}1.5{sep}100\n"
        );
        let rows = read(&text, SourceFormat::Csv, Profile::generic());
        match rows.as_slice() {
            [Row::Accepted(d)] => {
                assert_eq!(d.importer.as_str(), "ACME, Ltd", "{sep:?}");
                assert_eq!(d.net_mass_kg, Some(1.5));
            }
            _ => panic!("{sep:?}: not one accepted row"),
        }
    }
    // A profile that names the delimiter is obeyed even where the header would say otherwise.
    let piped = format!(r#"{{{COLUMNS}, "delimiter": "|"}}"#);
    let profile = Profile::from_json_str(&piped, "p.json").expect("| is a delimiter");
    assert_eq!(profile.delimiter, Some(b'|'));
    let err = Profile::from_json_str(&format!(r#"{{{COLUMNS}, "delimiter": "x"}}"#), "p.json")
        .expect_err("x is not");
    assert!(err.to_string().contains("delimiter"), "{err}");
}
