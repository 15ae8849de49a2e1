//! An area's calendar feed (RFC 5545), written with the `icalendar` crate, which escapes text values
//! and folds long lines as the RFC requires.
//!
//! The feed is a pure function of what is stored and of which slots have ended, so two requests
//! between changes get byte-identical feeds (and the same ETag): DTSTAMP is the stage's change
//! time, never "now". Times are UTC (`...Z`), which every calendar app reads without a VTIMEZONE.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};

use crate::domain::{Area, AreaId, Cause, Forecast, Slot, Stage};
use crate::ports::StoredStage;
use crate::site::SiteLinks;

use super::view::upcoming;

/// How often calendar apps should fetch the feed again: schedules change with the stage, which is
/// polled every ten minutes; an hour keeps phones current without hammering the function.
pub const REFRESH: &str = "PT1H";

/// The UID of the event for `slot` in `area`: the area and the slot's start, so a refresh that
/// keeps a slot (or only moves its end, as a stage change can) updates the event in calendar apps
/// instead of adding a second one.
pub fn uid(area: &AreaId, slot: &Slot) -> String {
    format!(
        "{}-{}@loadshed",
        slot.start.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ"),
        area
    )
}

/// The feed of `area`: one event per outage of its forecast that has not ended, the cause in the
/// summary.
pub fn feed(
    area: &Area,
    stage: Option<&StoredStage>,
    forecast: &Forecast,
    site: Option<&SiteLinks>,
    now: DateTime<Utc>,
) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//loadshed//area feed//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name(&format!("Loadshedding: {}", area.name))
        .description(&description(area, stage.map(|s| s.stage)))
        .append_property(Property::new("X-WR-TIMEZONE", "Africa/Johannesburg"))
        .append_property(
            Property::new("REFRESH-INTERVAL", REFRESH)
                .add_parameter("VALUE", "DURATION")
                .done(),
        )
        .append_property(Property::new("X-PUBLISHED-TTL", REFRESH));
    let Some(stored) = stage else {
        return calendar.to_string();
    };
    for outage in upcoming(forecast, now) {
        let slot = &outage.slot;
        let summary = match outage.cause {
            Cause::LoadReduction => format!("Load reduction: {}", area.name),
            Cause::Stage { .. } => format!("Loadshedding {}: {}", outage.cause, area.name),
        };
        let mut event = icalendar::Event::new();
        event
            .uid(&uid(&area.id, slot))
            .timestamp(stored.updated_at)
            .starts(slot.start.with_timezone(&Utc))
            .ends(slot.end.with_timezone(&Utc))
            .summary(&summary)
            .description(&format!(
                "{} outage in {} ({}), {}–{} South African time.",
                outage.cause,
                area.name,
                area.region,
                slot.start.format("%a %-d %b %H:%M"),
                slot.end.format("%H:%M")
            ))
            .status(EventStatus::Confirmed)
            .add_property("TRANSP", "OPAQUE");
        if let Some(site) = site {
            event.url(&site.area_page(&area.id));
        }
        calendar.push(event.done());
    }
    calendar.to_string()
}

fn description(area: &Area, stage: Option<Stage>) -> String {
    let now = match stage {
        Some(stage) if stage.is_loadshedding() => format!("currently {stage}"),
        Some(_) => "currently no loadshedding".to_owned(),
        None => "stage not known yet".to_owned(),
    };
    format!(
        "Loadshedding outages in {} ({}), {now}. Updated when the stage or the schedule changes.",
        area.name, area.region
    )
}
