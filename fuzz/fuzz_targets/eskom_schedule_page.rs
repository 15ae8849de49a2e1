//! Eskom's GetScheduleM HTML page, dated against a fixed "today".
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::eskom::parse_schedule_page;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    // One parse per input (parsing the page is what costs): an odd length reads it on the year's last
    // day, where year-less dates roll over into January, an even one on 1 December.
    let day = if data.len() % 2 == 1 { 31 } else { 1 };
    if let Some(today) = NaiveDate::from_ymd_opt(2026, 12, day) {
        let _ = parse_schedule_page(&html, today);
    }
});
