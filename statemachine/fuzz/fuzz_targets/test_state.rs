//! Bytes -> TestState request -> response or rejection: the request's own parsers (definition, `context`, `mock`
//! against the service output shapes, `stateConfiguration`) see whatever a caller sends. Runs are bounded by the
//! engine's history quota; time is virtual.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let _ = runtime.block_on(asl::test_state::test_state(&request));
});
