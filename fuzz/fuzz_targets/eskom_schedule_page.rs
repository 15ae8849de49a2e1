//! Eskom's GetScheduleM HTML page, dated against a fixed "today".
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::eskom::parse_schedule_page;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    if let Some(today) = NaiveDate::from_ymd_opt(2026, 12, 1) {
        let _ = parse_schedule_page(&html, today);
    }
    // The year's end, where dates without a year roll over.
    if let Some(today) = NaiveDate::from_ymd_opt(2026, 12, 31) {
        let _ = parse_schedule_page(&html, today);
    }
});
