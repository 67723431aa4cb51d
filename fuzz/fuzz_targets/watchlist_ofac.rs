//! OFAC SDN CSV files (primary, alternate names, addresses, comments): the input is split on
//! NUL bytes into the four files, so one run exercises their joins too. Never a panic.
#![no_main]
use borderline_screening::loaders::{load_ofac, OfacFiles, Source};
use borderline_screening::ListMeta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let mut next = |name: &str| {
        parts
            .next()
            .and_then(|bytes| Source::from_bytes(name, bytes).ok())
    };
    let files = OfacFiles {
        primary: next("sdn.csv"),
        alt: next("alt.csv"),
        add: next("add.csv"),
        comments: next("sdn_comments.csv"),
    };
    let meta = ListMeta {
        key: "ofac_sdn".into(),
        title: "fuzz".into(),
        date: "2024-01-01".into(),
        source: "fuzz".into(),
    };
    let _ = load_ofac(meta, files);
});
