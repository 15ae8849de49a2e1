//! EskomSePush v3.1's bodies and quota headers: /status (and its timelines), /area and /schedule (and
//! the schedules built from them), /areas_search, and the x-ratelimit-* headers.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::sepush::{
    Quota, parse_area, parse_areas_search, parse_schedule, parse_status,
};
use loadshed_core::domain::{Area, AreaId, Stage};

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    if let Ok(status) = parse_status(&body) {
        let _ = status.timelines();
    }
    let area = Area::sepush("za_fz_fuzz_0000", "Fuzz", "City of Cape Town, Western Cape");
    if let Ok(report) = parse_area(&body) {
        for n in [0, 1, 4, 8] {
            if let Ok(stage) = Stage::new(n) {
                let _ = report.schedule(AreaId::new("esp:fuzz"), stage);
            }
        }
        let _ = report.schedules(&area, &[Stage::NONE]);
        let _ = report.followed_loadshedding();
        if let Ok(schedule) = parse_schedule(&body) {
            let _ = report.clone().with_schedule(schedule).schedules(&area, &[]);
        }
    }
    if let Ok(schedule) = parse_schedule(&body) {
        let _ = schedule.days.len();
    }
    if let Ok(areas) = parse_areas_search(&body) {
        assert!(areas.iter().all(|a| a.is_within_limits()));
    }
    // The same bytes as each quota header's value, then split in four.
    let mut headers = HeaderMap::new();
    let quarter = data.len() / 4;
    let names = [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
    ];
    for (index, name) in names.iter().enumerate() {
        let part = &data[index * quarter..(index + 1) * quarter];
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.insert(*name, value);
        }
    }
    if let Some(quota) = Quota::from_headers(&headers) {
        let _ = quota.has_reset(chrono::Utc::now());
    }
});
