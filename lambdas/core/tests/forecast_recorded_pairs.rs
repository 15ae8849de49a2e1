//! The outside oracle for the forecast: EskomSePush's own `events` for an area, recorded together with
//! the `/status` of the same day (`../shared/fixtures/upstream/`, see SOURCES.md there). Read with the
//! adapter's public parsers, the recorded timelines applied to the recorded slots must give exactly
//! the recorded events (slots and causes) within the span the events cover.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use loadshed_core::adapters::sepush::{AreaReport, StatusReport, parse_area, parse_status};
use loadshed_core::domain::forecast::{Rota, computed_within_events};
use loadshed_core::domain::{Area, Authority, Cause, Outage, Schedule, Slot, Timelines};
use pretty_assertions::assert_eq;

/// `lambdas/core` is two folders below the checkout, and `shared/` sits beside the checkout.
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/upstream"
);

fn corpus() -> PathBuf {
    let dir = Path::new(CORPUS);
    assert!(
        dir.is_dir(),
        "the upstream capture corpus is absent: no folder {} (shared/fixtures/upstream beside the \
         checkout; CI provides it). This test reads it and cannot pass without it.",
        dir.display()
    );
    dir.to_path_buf()
}

fn capture(name: &str) -> String {
    let file = corpus().join(name);
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read capture {}: {e}", file.display()))
}

/// Outages as compared: where and why (the basis differs by design: upstream's, or computed).
type Compared = Vec<(Slot, Cause)>;

/// One recorded pair, read.
struct Recorded {
    status: StatusReport,
    report: AreaReport,
    area: Area,
}

fn recorded(status_file: &str, area_file: &str, area_id: &str) -> Recorded {
    let status = parse_status(&capture(status_file)).expect(status_file);
    let report = parse_area(&capture(area_file)).expect(area_file);
    let area = Area::sepush(area_id, report.name.clone(), report.region.clone());
    Recorded {
        status,
        report,
        area,
    }
}

impl Recorded {
    /// No later than the capture: the latest stage change the status answer reports seeing.
    fn seen_at(&self) -> DateTime<Utc> {
        std::iter::once(&self.status.national)
            .chain(self.status.cape_town.as_ref())
            .filter_map(|entry| entry.updated)
            .max()
            .map(|t| t.with_timezone(&Utc))
            .expect("the status says when it last changed")
    }

    fn schedules(&self, area: &Area) -> Vec<Schedule> {
        self.report
            .schedules(area, &[])
            .expect("the area's schedules")
    }

    /// The computed outages within the events' span, and the events, as (slot, cause).
    fn compare(&self, area: &Area, timelines: &Timelines) -> (Compared, Compared) {
        let schedules = self.schedules(area);
        let rota: Rota = schedules
            .iter()
            .map(|s| (s.stage, s))
            .collect::<BTreeMap<_, _>>();
        let (computed, events) = computed_within_events(area, timelines, &rota, self.seen_at());
        let plain = |outages: Vec<Outage>| -> Compared {
            outages.into_iter().map(|o| (o.slot, o.cause)).collect()
        };
        (plain(computed), plain(events))
    }
}

fn texts(outages: &[(Slot, Cause)]) -> Vec<String> {
    outages
        .iter()
        .map(|(slot, cause)| format!("{} {slot} {cause}", slot.start.format("%d")))
        .collect()
}

#[test]
fn radiokop_on_17_october_2022_the_national_timeline_gives_its_one_event() {
    let pair = recorded(
        "sepush_v2_status_2022-10-17.json",
        "sepush_v2_area_jhbcitypower2-11-radiokop_2022-10-17.json",
        "jhbcitypower2-11-radiokop",
    );
    assert_eq!(pair.area.region, "JHB City Power");
    assert_eq!(pair.area.authority(), Authority::National);
    let (computed, events) = pair.compare(&pair.area, &pair.status.timelines());
    assert_eq!(texts(&events), ["18 20:00-22:30 Stage 2"]);
    assert_eq!(texts(&computed), texts(&events));
    assert_eq!(computed, events);
}

#[test]
fn milnerton_on_21_october_2022_follows_the_national_stage_3_not_cape_towns() {
    let pair = recorded(
        "sepush_v2_status_2022-10-21.json",
        "sepush_v2_area_eskde-14-milnerton_2022-10-21.json",
        "eskde-14-milnertoncityofcapetownwesterncape",
    );
    // Milnerton (14) is in Cape Town but Eskom supplies it directly.
    assert_eq!(
        pair.area.region,
        "Eskom Direct, City of Cape Town, Western Cape"
    );
    assert_eq!(pair.area.authority(), Authority::National);
    let timelines = pair.status.timelines();
    assert!(
        timelines.knows(Authority::CapeTown),
        "Cape Town ran its own stages then"
    );
    let (computed, events) = pair.compare(&pair.area, &timelines);
    assert_eq!(
        texts(&events),
        ["22 08:00-10:30 Stage 3", "22 16:00-18:30 Stage 3"]
    );
    assert_eq!(texts(&computed), texts(&events));
    assert_eq!(computed, events);

    // The oracle tells authorities apart: the same slots on Cape Town's timeline (stage 1 from
    // 06:00, 3 from 14:00 on the 22nd) would drop the morning outage.
    let as_if_the_city = Area::sepush(
        "eskde-14-milnertoncityofcapetownwesterncape",
        "Milnerton (14)",
        "City of Cape Town, Western Cape",
    );
    assert_eq!(as_if_the_city.authority(), Authority::CapeTown);
    let (computed, events) = pair.compare(&as_if_the_city, &timelines);
    assert_eq!(texts(&computed), ["22 16:00-18:30 Stage 3 (Cape Town)"]);
    assert_ne!(computed, events);
}
