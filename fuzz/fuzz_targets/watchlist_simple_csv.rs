//! Watchlist loader `load_simple_csv`: any bytes give a list (with load issues) or an error, never a panic.
#![no_main]
use borderline_screening::loaders::{load_simple_csv, Source};
use borderline_screening::ListMeta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = Source::from_bytes("fuzz", data) else {
        return;
    };
    let meta = ListMeta {
        key: "fuzz".into(),
        title: "fuzz".into(),
        date: "2024-01-01".into(),
        source: "fuzz".into(),
    };
    let _ = load_simple_csv(meta, &src);
});
