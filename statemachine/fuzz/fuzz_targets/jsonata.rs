//! Bytes -> JSONata expression -> syntax check and evaluation with AWS's bindings: an error, never a panic.
#![no_main]

use asl::jsonata::{Bindings, check_syntax, evaluate};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if check_syntax(text).is_err() {
        return;
    }
    let states = json!({"input": {"a": [1, 2, 3], "s": "text", "o": {"k": null}}, "context": {}});
    let x = json!(7);
    let _ = evaluate(
        text,
        &Bindings {
            states: &states,
            variables: vec![("x", &x)],
        },
    );
});
