//! EskomSePush's bodies: /status, /area (and the schedule built from it), /areas_search, /api_allowance.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loadshed_core::adapters::sepush::{
    parse_allowance, parse_area, parse_areas_search, parse_status,
};
use loadshed_core::domain::{AreaId, Stage};

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let _ = parse_status(&body);
    if let Ok(report) = parse_area(&body) {
        for n in [1, 4, 8] {
            if let Ok(stage) = Stage::new(n) {
                let _ = report.schedule(AreaId::new("esp:fuzz"), stage);
            }
        }
    }
    if let Ok(areas) = parse_areas_search(&body) {
        assert!(areas.iter().all(|a| a.is_within_limits()));
    }
    let _ = parse_allowance(&body);
});
