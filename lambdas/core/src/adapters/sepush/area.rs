//! `/area?id=`: an area's published slots per stage for the coming days, and its `events` (the
//! outages EskomSePush expects, from the announced stages).

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use crate::clock::ZONE;
use crate::domain::{Area, AreaId, Basis, Cause, Outage, Schedule, Slot, Stage};
use crate::errors::UpstreamError;

use super::malformed;

/// Everything `/area` says about an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaReport {
    pub name: String,
    pub region: String,
    pub days: Vec<AreaDay>,
    /// Expected outages, soonest first.
    pub events: Vec<AreaEvent>,
}

/// One published day: the slots at each stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaDay {
    pub date: NaiveDate,
    /// `stages[n - 1]` holds the slots at stage n.
    pub stages: Vec<Vec<Slot>>,
}

/// An outage EskomSePush expects, e.g. 20:00 to 00:30 the next day, note "Stage 6".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaEvent {
    pub slot: Slot,
    pub note: String,
}

impl AreaEvent {
    /// Whether the note says load reduction ("Load Reduction", any case).
    pub fn is_load_reduction(&self) -> bool {
        self.note
            .trim()
            .to_ascii_lowercase()
            .starts_with("load reduction")
    }

    /// The stage the note names ("Stage 6"), if it names one.
    pub fn stage(&self) -> Option<Stage> {
        self.note
            .trim()
            .strip_prefix("Stage")
            .and_then(|n| n.trim().parse().ok())
    }
}

impl AreaReport {
    /// The area's schedules at each of `stages`: stage 0 carries the events (as upstream's own
    /// forecast, each caused by the area's authority's stage or by load reduction).
    pub fn schedules(&self, area: &Area, stages: &[Stage]) -> Result<Vec<Schedule>, UpstreamError> {
        stages
            .iter()
            .map(|&stage| match stage.is_loadshedding() {
                true => self.schedule(area.id.clone(), stage),
                false => Ok(self.whatever_the_stage(area)),
            })
            .collect()
    }

    /// The stage-0 schedule: no rota slots (v2's `/area` lists load reduction only as events), and
    /// the events as upstream's forecast. An event whose note names neither a stage nor load
    /// reduction is left out and logged: we cannot say what causes it.
    fn whatever_the_stage(&self, area: &Area) -> Schedule {
        let authority = area.authority();
        let events = self
            .events
            .iter()
            .filter_map(|event| {
                let cause = match (event.stage(), event.is_load_reduction()) {
                    (Some(stage), _) => Cause::Stage { stage, authority },
                    (None, true) => Cause::LoadReduction,
                    (None, false) => {
                        tracing::warn!(area = %area.id, note = %event.note, "event with an unknown note left out");
                        return None;
                    }
                };
                Some(Outage {
                    slot: event.slot,
                    cause,
                    basis: Basis::Upstream,
                })
            })
            .collect();
        Schedule::no_loadshedding(area.id.clone(), self.days.iter().map(|d| d.date))
            .with_events(events)
    }

    /// The area's schedule at `stage` over the published days. A day that lists fewer stages than
    /// asked for is [`UpstreamError::Malformed`]: calling it free would tell people the lights stay on
    /// when we do not know.
    pub fn schedule(&self, area: AreaId, stage: Stage) -> Result<Schedule, UpstreamError> {
        if !stage.is_loadshedding() {
            return Ok(Schedule::no_loadshedding(
                area,
                self.days.iter().map(|d| d.date),
            ));
        }
        let index = usize::from(stage.number() - 1);
        let days = self
            .days
            .iter()
            .map(|day| {
                day.stages
                    .get(index)
                    .map(|slots| (day.date, slots.clone()))
                    .ok_or_else(|| UpstreamError::Malformed {
                        service: super::SERVICE,
                        detail: format!(
                            "{area} on {} lists {} stages, not stage {}",
                            day.date,
                            day.stages.len(),
                            stage.number()
                        ),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Schedule::from_days(area, stage, days))
    }
}

#[derive(Debug, Deserialize)]
struct AreaBody {
    #[serde(default)]
    events: Vec<EventBody>,
    info: InfoBody,
    schedule: ScheduleBody,
}

#[derive(Debug, Deserialize)]
struct EventBody {
    start: String,
    end: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
struct InfoBody {
    name: String,
    #[serde(default)]
    region: String,
}

#[derive(Debug, Deserialize)]
struct ScheduleBody {
    days: Vec<DayBody>,
}

#[derive(Debug, Deserialize)]
struct DayBody {
    date: String,
    stages: Vec<Vec<String>>,
}

/// Reads `/area`; every date, slot and event must be readable or the whole answer is
/// [`UpstreamError::Malformed`].
pub fn parse_area(body: &str) -> Result<AreaReport, UpstreamError> {
    let parsed: AreaBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/area is not an area ({e})"), body))?;
    let days = parsed
        .schedule
        .days
        .iter()
        .map(|day| read_day(day, body))
        .collect::<Result<Vec<_>, _>>()?;
    let mut events = parsed
        .events
        .iter()
        .map(|event| {
            let start = read_time(&event.start, body)?;
            let end = read_time(&event.end, body)?;
            let slot = Slot::new(start, end)
                .map_err(|e| malformed(format!("event {}: {e}", event.start), body))?;
            Ok(AreaEvent {
                slot,
                note: event.note.clone(),
            })
        })
        .collect::<Result<Vec<_>, UpstreamError>>()?;
    events.sort_by_key(|e| e.slot);
    Ok(AreaReport {
        name: parsed.info.name,
        region: parsed.info.region,
        days,
        events,
    })
}

fn read_day(day: &DayBody, body: &str) -> Result<AreaDay, UpstreamError> {
    let date = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
        .map_err(|e| malformed(format!("{:?} is not a date ({e})", day.date), body))?;
    let stages = day
        .stages
        .iter()
        .map(|slots| {
            slots
                .iter()
                .map(|text| Slot::parse_on(date, text))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed(format!("{date}: {e}"), body))?;
    Ok(AreaDay { date, stages })
}

fn read_time(text: &str, body: &str) -> Result<DateTime<chrono_tz::Tz>, UpstreamError> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&ZONE))
        .map_err(|e| malformed(format!("{text:?} is not a timestamp ({e})"), body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{ErrorName, Named};

    const BODY: &str = r#"{
      "events": [{"end": "2026-12-02T00:30:00+02:00", "note": "Stage 5", "start": "2026-12-01T22:00:00+02:00"}],
      "info": {"name": "Bertiburg (3)", "region": "Eskom Direct, Swartland, Western Cape"},
      "schedule": {"days": [
        {"date": "2026-12-01", "name": "Tuesday", "stages": [[], ["22:00-00:30"], ["14:00-16:30", "22:00-00:30"]]},
        {"date": "2026-12-02", "name": "Wednesday", "stages": [["00:00-02:30"], ["00:00-02:30", "08:00-10:30"], ["00:00-02:30", "08:00-10:30"]]}
      ], "source": "https://loadshedding.eskom.co.za/"}
    }"#;

    #[test]
    fn reads_days_per_stage_and_events() {
        let report = parse_area(BODY).expect("area");
        assert_eq!(report.name, "Bertiburg (3)");
        assert_eq!(report.days.len(), 2);
        assert_eq!(report.days[0].stages.len(), 3);
        assert_eq!(report.events.len(), 1);
        assert_eq!(report.events[0].stage().map(Stage::number), Some(5));
        assert_eq!(report.events[0].slot.to_string(), "22:00-00:30");
    }

    #[test]
    fn schedule_picks_the_stage_and_merges_across_midnight() {
        let report = parse_area(BODY).expect("area");
        let area = AreaId::new("esp:x");
        let stage = |n| Stage::new(n).expect("stage");
        let one = report.schedule(area.clone(), stage(1)).expect("stage 1");
        let texts: Vec<String> = one.slots().iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["00:00-02:30"]);
        assert!(one.day(report.days[0].date).expect("covered").is_free());
        let two = report.schedule(area.clone(), stage(2)).expect("stage 2");
        let texts: Vec<String> = two.slots().iter().map(ToString::to_string).collect();
        // 22:00-00:30 on the 1st and 00:00-02:30 on the 2nd are one outage.
        assert_eq!(texts, ["22:00-02:30", "08:00-10:30"]);
        let none = report.schedule(area.clone(), Stage::NONE).expect("stage 0");
        assert_eq!(none.days().filter(|d| d.is_free()).count(), 2);
        assert_eq!(
            report.schedule(area, stage(4)).map_err(|e| e.error_name()),
            Err(ErrorName::UpstreamMalformed)
        );
    }

    #[test]
    fn unreadable_parts_are_malformed() {
        for body in [
            BODY.replace("2026-12-01\", \"name", "01/12/2026\", \"name"),
            BODY.replace("[\"22:00-00:30\"]", "[\"late\"]"),
            BODY.replace(
                "\"start\": \"2026-12-01T22:00:00+02:00\"",
                "\"start\": \"2026-12-02T01:00:00+02:00\"",
            ),
            BODY.replace("\"info\"", "\"about\""),
            "[]".to_owned(),
        ] {
            assert_eq!(
                parse_area(&body).map_err(|e| e.error_name()),
                Err(ErrorName::UpstreamMalformed),
                "{body}"
            );
        }
    }
}
