//! Eskom's FindSuburbs JSON list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::eskom::parse_suburbs;

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    if let Ok(areas) = parse_suburbs(&body) {
        // What a search offers must be storable.
        assert!(areas.iter().all(|a| a.is_within_limits()));
    }
});
