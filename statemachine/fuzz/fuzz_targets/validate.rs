//! Bytes -> definition -> validator and model loader: every input must get a verdict, never a panic, a stack
//! overflow or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = asl::validate::validate_str(text, &asl::validate::Options::default());
    let _ = asl::StateMachine::from_json(text);
});
