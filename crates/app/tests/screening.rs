//! Screening use cases at the application boundary (what `screen`, `screen compare` and the
//! service's screening endpoint get): names longer than `MAX_NAME_CHARS` are refused with a
//! message, never cut (a listed name could sit in the part left out) nor left to run.

use borderline_app::screening::{compare, screen_file, screen_party, Party};
use borderline_screening::{Entry, MatchConfig, Matcher, Schema, MAX_NAME_CHARS};

fn matcher() -> Matcher {
    let mut mahan = Entry::new("sdn", "1", Schema::Company, "MAHAN AIR");
    mahan.countries.push("IR".into());
    let mut es = vec![mahan];
    for j in 0..50 {
        es.push(Entry::new(
            "f",
            format!("{j}"),
            Schema::Company,
            format!("FILLER{j} TRADING LTD"),
        ));
    }
    Matcher::from_entries(es, MatchConfig::default())
}

fn party(name: String) -> Party {
    Party {
        name,
        ..Party::default()
    }
}

/// Issue 14: a 400,000-character name is refused with its length and the maximum; a name at
/// the maximum is screened, and a listed name within it is found.
#[test]
fn issue_14_names_over_the_maximum_length_are_refused_with_a_message() {
    let m = matcher();
    let long = format!("MAHAN AIR {}", "x".repeat(400_000));
    let err = screen_party(&m, &party(long.clone()), 10).expect_err("too long");
    let msg = err.to_string();
    assert!(
        msg.contains("400010 characters") && msg.contains(&format!("at most {MAX_NAME_CHARS}")),
        "{msg}"
    );
    let err = compare(&m, &long, "MAHAN AIR", Schema::Company).expect_err("too long");
    assert!(err.to_string().contains("400010 characters"), "{err}");

    // At the maximum: screened, the listed name found.
    let padded = format!("MAHAN AIR{}", " ".repeat(MAX_NAME_CHARS - 9));
    assert_eq!(padded.chars().count(), MAX_NAME_CHARS);
    let hits = screen_party(&m, &party(padded), 10).expect("screened");
    assert_eq!(hits.first().map(|h| h.entry_id.as_str()), Some("1"));

    // In a file, the over-long row is reported with the error; the others are screened.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("parties.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "p1", "name": long}),
            serde_json::json!({"id": "p2", "name": "Mahan Air"})
        ),
    )
    .expect("write");
    let mut out = Vec::new();
    let done = screen_file(&m, &input, &Party::default(), 5, &mut out).expect("screened");
    assert_eq!(done.screened, 2);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(lines[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("characters")));
    assert_eq!(lines[1]["hits"][0]["entry_id"], "1");
}
