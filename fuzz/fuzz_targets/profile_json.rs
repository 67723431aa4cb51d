//! JSON profile files: any text gives a profile or a ProfileError, never a panic.
#![no_main]
use borderline_ingest::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Profile::from_json_str(text, "fuzz.json");
    }
});
