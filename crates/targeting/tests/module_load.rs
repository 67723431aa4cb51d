//! The fitted modules of a model read back as they were written, whichever order the
//! `module` entry of each object is in (written first, it is read without buffering the
//! module's tables; anywhere else, through a generic tree).

use borderline_ingest::{DeclarationReader, Profile, Row};
use borderline_targeting::modules::{ModuleSignal, Modules, ModulesConfig};

fn fitted() -> Modules {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reader = DeclarationReader::open(
        root.join("data/declarations/kcs_train.csv.gz"),
        Profile::korea_customs(),
    )
    .expect("the bundled training period");
    let history: Vec<_> = reader
        .take(5_000)
        .filter_map(|row| match row {
            Row::Accepted(d) => Some(d),
            Row::Quarantined(_) => None,
        })
        .collect();
    Modules::fit(
        &history,
        ModulesConfig {
            valuation: true,
            hs_divergence: true,
        },
    )
    .expect("modules fit")
}

#[test]
fn each_module_reads_back_as_written_with_its_name_first_or_last() {
    let modules = fitted();
    assert_eq!(modules.signals.len(), 2);
    for signal in &modules.signals {
        let written = serde_json::to_string(signal).expect("serialises");
        assert!(written.starts_with("{\"module\":"), "{}", &written[..40]);
        // Compared as JSON values: the HS signal's hash maps list their keys in any order.
        let expected = serde_json::to_value(signal).expect("a value");
        let same = |read: &ModuleSignal| serde_json::to_value(read).expect("a value") == expected;
        let streamed: ModuleSignal = serde_json::from_str(&written).expect("reads back");
        assert!(same(&streamed), "{} read back differs", &written[..40]);

        // The same object with its keys sorted: `module` is no longer first.
        let sorted = serde_json::to_string(&expected).expect("serialises");
        assert!(!sorted.starts_with("{\"module\":"), "{}", &sorted[..40]);
        let buffered: ModuleSignal = serde_json::from_str(&sorted).expect("reads back");
        assert!(same(&buffered), "{} read back differs", &sorted[..40]);
    }
    let whole = serde_json::to_string(&modules).expect("serialises");
    let read: Modules = serde_json::from_str(&whole).expect("reads back");
    assert!(read == modules, "the modules read back differ");
}

#[test]
fn an_unknown_or_missing_module_name_is_an_error_naming_it() {
    let unknown = serde_json::from_str::<ModuleSignal>(r#"{"module":"astrology","x":1}"#)
        .expect_err("no such module");
    assert!(unknown.to_string().contains("astrology"), "{unknown}");
    let missing =
        serde_json::from_str::<ModuleSignal>(r#"{"benchmarks":{}}"#).expect_err("no name");
    assert!(missing.to_string().contains("module"), "{missing}");
}
