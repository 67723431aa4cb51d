//! The analyst rules language: any text parses or gives a SyntaxError (with line and column),
//! never a panic or stack overflow; a parsed rule set evaluates on a sample declaration.
#![no_main]
use borderline_governance::rules::{RuleSet, DECLARATION_FIELDS};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RuleSet::parse(text, DECLARATION_FIELDS) {
        Ok(rules) => {
            let empty: BTreeMap<String, borderline_governance::rules::Value<'static>> =
                BTreeMap::new();
            let _ = rules.evaluate(&empty);
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
        }
    }
});
