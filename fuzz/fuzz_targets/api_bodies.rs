//! Request bodies of the HTTP service: the first byte picks the endpoint's request type, the
//! rest is the body; parsing and validation give a value or a problem status (4xx), never a
//! panic or a 5xx.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    if let Err(status) = borderline_server::parse_request_body(kind, body) {
        assert!(
            (400..500).contains(&status),
            "request body rejected with {status}"
        );
    }
});
