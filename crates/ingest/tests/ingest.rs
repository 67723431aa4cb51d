//! Ingest specification: every row is accepted or quarantined with file, line, field and reason;
//! only unusable input is an error.

use borderline_ingest::{DeclarationReader, IngestError, Profile, Row, SourceFormat};
use proptest::prelude::*;

const HEADER: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud";
const GOOD: &str = "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0";

fn ingest(
    bytes: &[u8],
    format: SourceFormat,
    profile: Profile,
) -> Result<(Vec<Row>, borderline_ingest::IngestReport), IngestError> {
    let mut reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        "t.csv",
        format,
        profile,
    )?;
    let rows: Vec<Row> = reader.by_ref().collect();
    assert!(reader.take_error().is_none());
    Ok((rows, reader.report().clone()))
}

fn kcs(body: &str) -> (Vec<Row>, borderline_ingest::IngestReport) {
    ingest(
        format!("{HEADER}\n{body}").as_bytes(),
        SourceFormat::Csv,
        Profile::korea_customs(),
    )
    .expect("usable input")
}

fn quarantined(rows: &[Row]) -> Vec<&borderline_ingest::Quarantined> {
    rows.iter()
        .filter_map(|r| match r {
            Row::Quarantined(q) => Some(q),
            _ => None,
        })
        .collect()
}

#[test]
fn a_good_korea_customs_row_becomes_a_typed_declaration() {
    let (rows, report) = kcs(&format!("{GOOD}\n"));
    let Row::Accepted(d) = &rows[0] else {
        panic!("rejected: {rows:?}")
    };
    assert_eq!(d.declaration_id, "97061800");
    assert_eq!(d.hs_code.as_str(), "440890");
    assert_eq!(d.seller.as_deref(), Some("0VKY2BR"));
    assert_eq!(d.courier, None);
    assert_eq!(d.currency, "KRW");
    assert_eq!(d.net_mass_kg, Some(108.0));
    assert_eq!(
        d.outcome.map(|o| (o.fraud, o.critical_level)),
        Some((false, 0))
    );
    assert_eq!(
        (report.read, report.accepted, report.quarantined),
        (1, 1, 0)
    );
}

#[test]
fn bad_numbers_are_quarantined_with_line_and_field() {
    let body = format!(
        "{GOOD}\n{}\n",
        GOOD.replace("97061800", "2").replace("108.0", "12kg")
    );
    let (rows, report) = kcs(&body);
    let q = quarantined(&rows);
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].line, q[0].field.as_str()), (3, "net_mass_kg"));
    assert!(q[0].reason.contains("not a number"), "{}", q[0].reason);
    assert!(q[0]
        .to_string()
        .starts_with("t.csv, line 3, field net_mass_kg"));
    assert!(report.balanced());
}

#[test]
fn negative_values_missing_fields_and_bad_codes_are_quarantined() {
    let rows = [
        GOOD.replace("372254.4", "-5"),
        GOOD.replace("97061800,", ","),
        GOOD.replace("440890", "4408"),
        GOOD.replace("2020-01-01", "2020-13-01"),
        GOOD.replace(",0,0", ",0,2"),
        GOOD.replace(",BE,BE,", ",BE,B3,"),
    ];
    let (rows, report) = kcs(&(rows.join("\n") + "\n"));
    let fields: Vec<&str> = quarantined(&rows)
        .iter()
        .map(|q| q.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "customs_value",
            "declaration_id",
            "hs_code",
            "date",
            "critical_level",
            "origin_country"
        ]
    );
    assert_eq!(report.accepted, 0);
}

#[test]
fn invalid_utf8_is_quarantined_not_fatal() {
    let mut row = GOOD.as_bytes().to_vec();
    let pos = GOOD.find("ZZR1LT6").unwrap();
    row[pos] = 0xff;
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend_from_slice(&row);
    bytes.push(b'\n');
    bytes.extend_from_slice(format!("{}\n", GOOD.replace("97061800", "1")).as_bytes());
    let (rows, report) = ingest(&bytes, SourceFormat::Csv, Profile::korea_customs()).unwrap();
    let q = quarantined(&rows);
    assert_eq!(
        (q[0].field.as_str(), q[0].reason.as_str()),
        ("declarant", "invalid UTF-8")
    );
    assert_eq!((report.accepted, report.quarantined), (1, 1));
}

#[test]
fn an_invalid_byte_in_a_column_that_no_field_reads_leaves_the_row_accepted() {
    let mut bytes = format!("{HEADER},Remarks\n{GOOD},").into_bytes();
    bytes.extend_from_slice(b"caf\xe9\n");
    let (rows, report) = ingest(&bytes, SourceFormat::Csv, Profile::korea_customs()).unwrap();
    assert!(matches!(rows[0], Row::Accepted(_)), "{rows:?}");
    assert_eq!((report.accepted, report.quarantined), (1, 0));
}

#[test]
fn country_and_currency_codes_are_read_in_upper_case_and_hs_codes_without_separators() {
    let text = "declaration_id,date,importer,hs_code,origin_country,departure_country,net_mass_kg,customs_value,currency\n\
                D1,2020-01-01,IMP,8471.30,cn,De,1,2,usd\n\
                D2,2020-01-01,IMP,847130,CN,DE,1,2,EUR\n";
    let (rows, report) = ingest(text.as_bytes(), SourceFormat::Csv, Profile::generic()).unwrap();
    assert_eq!(report.accepted, 2, "{rows:?}");
    for (row, currency) in rows.iter().zip(["USD", "EUR"]) {
        let Row::Accepted(d) = row else {
            panic!("{row:?}")
        };
        assert_eq!(d.hs_code.as_str(), "847130");
        assert_eq!(d.origin_country, "CN");
        assert_eq!(d.departure_country.as_deref(), Some("DE"));
        assert_eq!(d.currency, currency);
    }
}

#[test]
fn quoted_commas_bom_and_crlf_are_read() {
    let row = GOOD.replace("ZZR1LT6", "\"ZZR,1LT6\"");
    let text = format!("\u{feff}{}\r\n{}\r\n", HEADER, row);
    let (rows, report) =
        ingest(text.as_bytes(), SourceFormat::Csv, Profile::korea_customs()).unwrap();
    let Row::Accepted(d) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(d.declarant, "ZZR,1LT6");
    assert_eq!(d.declaration_id, "97061800");
    assert_eq!(report.accepted, 1);
}

#[test]
fn wrong_field_count_is_a_row_problem() {
    let (rows, _) = kcs(&format!("{GOOD},extra\n"));
    assert_eq!(quarantined(&rows)[0].field, "row");
    assert!(quarantined(&rows)[0]
        .reason
        .contains("expected 22 fields, found 23"));
}

#[test]
fn empty_file_is_unusable_but_header_only_is_zero_rows() {
    assert!(matches!(
        ingest(b"", SourceFormat::Csv, Profile::korea_customs()),
        Err(IngestError::Empty { .. })
    ));
    let (rows, report) = kcs("");
    assert!(rows.is_empty());
    assert_eq!(
        (report.read, report.accepted, report.quarantined),
        (0, 0, 0)
    );
}

#[test]
fn missing_required_column_fails_with_a_clear_message() {
    let header = HEADER.replace("Importer ID", "Importer");
    let err = ingest(
        format!("{header}\n{GOOD}\n").as_bytes(),
        SourceFormat::Csv,
        Profile::korea_customs(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"Importer ID\" (importer)"), "{msg}");
    assert!(msg.contains("t.csv"), "{msg}");
}

#[test]
fn duplicate_declaration_ids_are_reported() {
    let (rows, report) = kcs(&format!("{GOOD}\n{GOOD}\n"));
    let q = quarantined(&rows);
    assert_eq!(report.duplicate_ids, 1);
    assert!(
        q[0].reason.contains("first seen on line 2"),
        "{}",
        q[0].reason
    );
}

/// Rows come out one at a time in file order, whatever the reader reads ahead (ids are checked
/// for duplicates in batches): every duplicate names its first line, next to it, across a
/// batch boundary, far behind it, or as the file's last row (without a final newline).
#[test]
fn duplicates_name_their_first_line_and_rows_keep_file_order_wherever_they_fall() {
    // Row k (0-based) is on line k + 2; its id is `D<k>` unless it repeats an earlier row's id.
    let repeats: &[(usize, usize)] = &[(1, 0), (16, 15), (17, 3), (31, 30), (40, 2), (49, 48)];
    let bad_mass = 20; // quarantined for its net mass: its id is not taken
    let mut ids: Vec<String> = (0..50).map(|k| format!("D{k}")).collect();
    for &(k, first) in repeats {
        ids[k] = ids[first].clone();
    }
    ids[21] = ids[bad_mass].clone(); // so row 21 is accepted
    let rows_text: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let row = GOOD.replacen("97061800", id, 1);
            if k == bad_mass {
                row.replace("108.0", "-1")
            } else {
                row
            }
        })
        .collect();
    let (rows, report) = kcs(&rows_text.join("\n"));
    assert_eq!(rows.len(), 50);
    assert_eq!(
        (report.read, report.accepted, report.quarantined),
        (50, 43, 7)
    );
    assert_eq!(report.duplicate_ids, 6);
    for (k, row) in rows.iter().enumerate() {
        let line = k as u64 + 2;
        let duplicate_of = repeats.iter().find(|(at, _)| *at == k).map(|r| r.1);
        match (row, duplicate_of) {
            (Row::Accepted(d), None) if k != bad_mass => assert_eq!(d.declaration_id, ids[k]),
            (Row::Quarantined(q), None) if k == bad_mass => {
                assert_eq!((q.line, q.field.as_str()), (line, "net_mass_kg"), "{q}")
            }
            (Row::Quarantined(q), Some(first)) => {
                assert_eq!((q.line, q.field.as_str()), (line, "declaration_id"), "{q}");
                assert_eq!(
                    q.reason,
                    format!(
                        "duplicate declaration id {} (first seen on line {})",
                        ids[k],
                        first + 2
                    )
                );
            }
            other => panic!("row {k} (line {line}): unexpected {other:?}"),
        }
    }
}

/// Without the duplicate check, repeated ids are all accepted, in file order.
#[test]
fn without_the_duplicate_check_every_row_comes_out_in_order() {
    let body: Vec<String> = (0..40)
        .map(|k| GOOD.replacen("97061800", &format!("D{}", k % 3), 1))
        .collect();
    let mut reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(format!(
            "{HEADER}\n{}\n",
            body.join("\n")
        ))),
        "t.csv",
        SourceFormat::Csv,
        Profile::korea_customs(),
    )
    .expect("usable input")
    .without_duplicate_check();
    let ids: Vec<String> = reader
        .by_ref()
        .map(|row| match row {
            Row::Accepted(d) => d.declaration_id.to_string(),
            Row::Quarantined(q) => panic!("{q}"),
        })
        .collect();
    let expected: Vec<String> = (0..40).map(|k| format!("D{}", k % 3)).collect();
    assert_eq!(ids, expected);
    assert_eq!(reader.report().duplicate_ids, 0);
}

#[test]
fn generic_layout_reads_json_lines_with_numbers_and_nulls() {
    let text = concat!(
        "{\"declaration_id\":\"A1\",\"date\":\"2024-03-05\",\"importer\":\"IMP\",\"hs_code\":\"030617\",",
        "\"origin_country\":\"vn\",\"net_mass_kg\":12.5,\"customs_value\":1000,\"currency\":\"usd\",",
        "\"description\":\"frozen shrimp\",\"seller\":null,\"fraud\":true}\n",
        "\n",
        "not json\n",
        "[1,2]\n"
    );
    let (rows, report) =
        ingest(text.as_bytes(), SourceFormat::JsonLines, Profile::generic()).unwrap();
    let Row::Accepted(d) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(
        (d.origin_country.as_str(), d.currency.as_str()),
        ("VN", "USD")
    );
    assert_eq!(d.description.as_deref(), Some("frozen shrimp"));
    assert_eq!(d.outcome.map(|o| o.critical_level), Some(1));
    let q = quarantined(&rows);
    assert_eq!(q.iter().map(|q| q.line).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(
        (report.read, report.accepted, report.quarantined),
        (3, 1, 2)
    );
}

#[test]
fn bundled_gzip_data_loads_completely() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/declarations/kcs_valid.csv.gz"
    );
    let (accepted, quarantined, report) =
        borderline_ingest::read_all(path, Profile::korea_customs()).unwrap();
    assert_eq!(report.read, 8134);
    assert_eq!(accepted.len() + quarantined.len(), 8134);
    assert!(quarantined.is_empty(), "{:?}", quarantined.first());
}

fn arb_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Z0-9]{1,8}",
        "-?[0-9]{1,6}(\\.[0-9]{1,3})?",
        "[0-9]{6}",
        Just("2020-05-01".to_string()),
        "[a-z\",\\n ]{0,6}",
        "\\PC{0,5}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Whatever the rows contain, the ingest accounts for each of them exactly once.
    #[test]
    fn accounting_always_balances(rows in prop::collection::vec(prop::collection::vec(arb_field(), 18..26), 0..20)) {
        let mut text = format!("{HEADER}\n");
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|c| if c.contains([',', '"', '\n']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() }).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        let (out, report) = ingest(text.as_bytes(), SourceFormat::Csv, Profile::korea_customs()).unwrap();
        prop_assert!(report.balanced());
        prop_assert_eq!(out.len() as u64, report.read);
        let accepted = out.iter().filter(|r| matches!(r, Row::Accepted(_))).count() as u64;
        prop_assert_eq!(accepted, report.accepted);
    }
}
