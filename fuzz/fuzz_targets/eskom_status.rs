//! Eskom's GetStatus body (a bare number, or whatever the site or its firewall sends instead).
#![no_main]

use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::eskom::{is_not_supplied, is_request_rejected, parse_status};

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let _ = parse_status(&body);
    let _ = is_request_rejected(&body);
    let _ = is_not_supplied(&body);
});
