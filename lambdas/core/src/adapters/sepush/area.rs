//! `/area?id=` and `/schedule?id=`: an area's slots per stage and its load-reduction slots over the
//! coming days, and its `events` (the outages EskomSePush expects, from the announced stages).
//!
//! The two clients v3.1 is known from read `/area` differently (docs/SEPUSH_V3.1.md), so both
//! shapes are read, alone or together:
//! - v2's: `events` and `schedule.days[{date, stages: [["HH:MM-HH:MM", ...] per stage 1..8]}]`;
//! - v3.1's: a `schedules[{id, type, auto_enabled}]` list, each schedule fetched with
//!   `/schedule?id=`: `{events, schedule: {days: [{date, schedule: [{name: "Stage N" | "Load
//!   Reduction", slots: [{start, end}]}]}]}}`. A day of `/area` may also come in that shape.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use crate::clock::ZONE;
use crate::domain::{Area, AreaId, Basis, Cause, Outage, Schedule, Slot, Stage};
use crate::errors::UpstreamError;

use super::schedule_list::{ScheduleKind, ScheduleRef, ScheduleRefBody, followed, region_text};
use super::{SERVICE, malformed};

/// Everything `/area` (and the `/schedule` answers folded into it) says about an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaReport {
    /// Empty when the answer has no `info`.
    pub name: String,
    /// Built as for a search result ([`region_text`]); empty when the answer has no `info`.
    pub region: String,
    /// In date order.
    pub days: Vec<AreaDay>,
    /// Expected outages, soonest first.
    pub events: Vec<AreaEvent>,
    /// v3.1's list of the area's schedules (empty in v2's shape).
    pub schedules: Vec<ScheduleRef>,
}

/// One published day: the slots at each stage it lists, and its load-reduction slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaDay {
    pub date: NaiveDate,
    /// Stages the day does not list are unknown on it, not free.
    pub stages: BTreeMap<Stage, Vec<Slot>>,
    /// `None`: the day does not say (v2's shape never does); `Some(empty)`: none that day.
    pub load_reduction: Option<Vec<Slot>>,
}

/// What `/schedule?id=` says: days in the same form, and events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleReport {
    pub days: Vec<AreaDay>,
    pub events: Vec<AreaEvent>,
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
        squeeze(&self.note).starts_with("loadreduction")
    }

    /// The stage the note names ("Stage 6", "stage 6 (Cape Town)"), if it names one.
    pub fn stage(&self) -> Option<Stage> {
        let note = self.note.trim();
        let rest = note
            .get(..5)
            .filter(|head| head.eq_ignore_ascii_case("stage"))
            .and_then(|_| note.get(5..))?;
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

impl AreaReport {
    /// Whether any day lists slots per stage: without them the rota is in the `/schedule` answers.
    pub fn has_rota(&self) -> bool {
        self.days.iter().any(|day| !day.stages.is_empty())
    }

    /// The loadshedding schedule to fetch when the answer has no rota of its own.
    pub fn followed_loadshedding(&self) -> Option<&ScheduleRef> {
        followed(&self.schedules, &ScheduleKind::Loadshedding)
    }

    /// The load-reduction schedule to fetch, if the area has one.
    pub fn followed_load_reduction(&self) -> Option<&ScheduleRef> {
        followed(&self.schedules, &ScheduleKind::LoadReduction)
    }

    /// Whether some day says what its load reduction is (even none): then there is no need to
    /// fetch the load-reduction schedule.
    pub fn lists_load_reduction(&self) -> bool {
        self.days.iter().any(|day| day.load_reduction.is_some())
    }

    /// Folds a `/schedule` answer in: its days join the area's (same date: the slots of both), its
    /// events the area's.
    pub fn with_schedule(mut self, schedule: ScheduleReport) -> AreaReport {
        for day in schedule.days {
            match self.days.iter_mut().find(|d| d.date == day.date) {
                Some(known) => {
                    for (stage, slots) in day.stages {
                        known.stages.entry(stage).or_default().extend(slots);
                    }
                    if let Some(slots) = day.load_reduction {
                        known.load_reduction.get_or_insert_default().extend(slots);
                    }
                }
                None => self.days.push(day),
            }
        }
        self.days.sort_by_key(|d| d.date);
        self.events.extend(schedule.events);
        self.events.sort_by_key(|e| e.slot);
        self.events.dedup();
        self
    }

    /// The stages every published day lists (none without days).
    pub fn known_stages(&self) -> BTreeSet<Stage> {
        let mut days = self.days.iter();
        let Some(first) = days.next() else {
            return BTreeSet::new();
        };
        let mut known: BTreeSet<Stage> = first.stages.keys().copied().collect();
        for day in days {
            known.retain(|stage| day.stages.contains_key(stage));
        }
        known
    }

    /// The area's schedules: one per stage 1..=8 every day lists (one answer gives them all, so all
    /// are returned, asked or not), and the stage-0 schedule: the load-reduction slots, carrying
    /// the events as upstream's forecast. A loadshedding stage in `stages` that some day does not
    /// list is [`UpstreamError::Malformed`]: calling it free would tell people the lights stay on
    /// when we do not know.
    pub fn schedules(&self, area: &Area, stages: &[Stage]) -> Result<Vec<Schedule>, UpstreamError> {
        let known = self.known_stages();
        if let Some(&missing) = stages
            .iter()
            .find(|s| s.is_loadshedding() && !known.contains(s))
        {
            return Err(self.unlisted(&area.id, missing));
        }
        let mut schedules = vec![self.whatever_the_stage(area)];
        schedules.extend(
            known
                .into_iter()
                .map(|stage| self.rota_at(area.id.clone(), stage)),
        );
        Ok(schedules)
    }

    /// The stage-0 schedule: the load-reduction slots (none on a day that does not say: v2's shape
    /// lists load reduction only as events), and the events as upstream's forecast, each
    /// caused by the area's authority's stage or by load reduction. An event whose note names
    /// neither is left out and logged: we cannot say what causes it.
    fn whatever_the_stage(&self, area: &Area) -> Schedule {
        let authority = area.authority();
        let events = self
            .events
            .iter()
            .filter_map(|event| {
                let cause = match (event.stage(), event.is_load_reduction()) {
                    (Some(stage), _) if stage.is_loadshedding() => Cause::Stage { stage, authority },
                    (_, true) => Cause::LoadReduction,
                    _ => {
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
        self.load_reduction(area.id.clone()).with_events(events)
    }

    fn load_reduction(&self, area: AreaId) -> Schedule {
        Schedule::from_days(
            area,
            Stage::NONE,
            self.days
                .iter()
                .map(|day| (day.date, day.load_reduction.clone().unwrap_or_default())),
        )
    }

    fn rota_at(&self, area: AreaId, stage: Stage) -> Schedule {
        Schedule::from_days(
            area,
            stage,
            self.days.iter().map(|day| {
                (
                    day.date,
                    day.stages.get(&stage).cloned().unwrap_or_default(),
                )
            }),
        )
    }

    /// The area's schedule at `stage` over the published days (stage 0: load reduction, without
    /// the events). A stage some day does not list is [`UpstreamError::Malformed`].
    pub fn schedule(&self, area: AreaId, stage: Stage) -> Result<Schedule, UpstreamError> {
        if !stage.is_loadshedding() {
            return Ok(self.load_reduction(area));
        }
        if !self.known_stages().contains(&stage) {
            return Err(self.unlisted(&area, stage));
        }
        Ok(self.rota_at(area, stage))
    }

    fn unlisted(&self, area: &AreaId, stage: Stage) -> UpstreamError {
        let detail = match self.days.iter().find(|d| !d.stages.contains_key(&stage)) {
            Some(day) => format!(
                "{area} on {} lists {} stages, not stage {}",
                day.date,
                day.stages.len(),
                stage.number()
            ),
            None => format!(
                "{area} has no published days, so no stage {}",
                stage.number()
            ),
        };
        UpstreamError::Malformed {
            service: SERVICE,
            detail,
        }
    }
}

#[derive(Debug, Deserialize)]
struct AreaBody {
    #[serde(default)]
    events: Vec<EventBody>,
    #[serde(default)]
    info: Option<InfoBody>,
    #[serde(default)]
    schedule: Option<DaysBody>,
    #[serde(default)]
    schedules: Vec<ScheduleRefBody>,
}

#[derive(Debug, Deserialize)]
struct ScheduleBody {
    #[serde(default)]
    events: Vec<EventBody>,
    schedule: DaysBody,
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
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    municipality: Option<String>,
    #[serde(default)]
    province: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DaysBody {
    days: Vec<DayBody>,
}

#[derive(Debug, Deserialize)]
struct DayBody {
    date: String,
    /// v2: slot texts per stage, stage 1 first.
    #[serde(default)]
    stages: Option<Vec<Vec<SlotBody>>>,
    /// v3.1: named entries, "Stage N" or "Load Reduction".
    #[serde(default)]
    schedule: Option<Vec<NamedSlots>>,
}

#[derive(Debug, Deserialize)]
struct NamedSlots {
    name: String,
    #[serde(default)]
    slots: Vec<SlotBody>,
}

/// `{"start": "...+02:00", "end": "..."}` (v3.1) or `"HH:MM-HH:MM"` (v2).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SlotBody {
    Span { start: String, end: String },
    Text(String),
}

/// Reads `/area`; every date, slot and event must be readable or the whole answer is
/// [`UpstreamError::Malformed`], and so is an answer with neither days nor a schedules list.
pub fn parse_area(body: &str) -> Result<AreaReport, UpstreamError> {
    let parsed: AreaBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/area is not an area ({e})"), body))?;
    if parsed.schedule.is_none() && parsed.schedules.is_empty() {
        return Err(malformed(
            "/area gives neither its days (\"schedule\") nor its schedules (\"schedules\")".into(),
            body,
        ));
    }
    let schedules: Vec<ScheduleRef> = parsed.schedules.into_iter().map(Into::into).collect();
    let (name, region) = match &parsed.info {
        Some(info) => (
            info.name.clone(),
            region_text(
                &[
                    info.region.as_deref().unwrap_or_default(),
                    info.municipality.as_deref().unwrap_or_default(),
                    info.province.as_deref().unwrap_or_default(),
                ],
                &schedules,
            ),
        ),
        None => (String::new(), String::new()),
    };
    let days = match &parsed.schedule {
        Some(schedule) => read_days(schedule, body)?,
        None => Vec::new(),
    };
    Ok(AreaReport {
        name,
        region,
        days,
        events: read_events(&parsed.events, body)?,
        schedules,
    })
}

/// Reads `/schedule`; as strict as [`parse_area`].
pub fn parse_schedule(body: &str) -> Result<ScheduleReport, UpstreamError> {
    let parsed: ScheduleBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("/schedule is not a schedule ({e})"), body))?;
    Ok(ScheduleReport {
        days: read_days(&parsed.schedule, body)?,
        events: read_events(&parsed.events, body)?,
    })
}

fn read_events(events: &[EventBody], body: &str) -> Result<Vec<AreaEvent>, UpstreamError> {
    let mut events = events
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
    Ok(events)
}

fn read_days(days: &DaysBody, body: &str) -> Result<Vec<AreaDay>, UpstreamError> {
    let mut days = days
        .days
        .iter()
        .map(|day| read_day(day, body))
        .collect::<Result<Vec<_>, _>>()?;
    days.sort_by_key(|d| d.date);
    Ok(days)
}

fn read_day(day: &DayBody, body: &str) -> Result<AreaDay, UpstreamError> {
    let date = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
        .map_err(|e| malformed(format!("{:?} is not a date ({e})", day.date), body))?;
    let mut read = AreaDay {
        date,
        stages: BTreeMap::new(),
        load_reduction: None,
    };
    for (index, slots) in day.stages.iter().flatten().enumerate() {
        let stage = u8::try_from(index + 1)
            .ok()
            .and_then(|n| Stage::new(n).ok())
            .ok_or_else(|| malformed(format!("{date} lists more than 8 stages"), body))?;
        read.stages.insert(stage, read_slots(date, slots, body)?);
    }
    for entry in day.schedule.iter().flatten() {
        let slots = read_slots(date, &entry.slots, body)?;
        match read_name(&entry.name) {
            Ok(Named::Stage(stage)) if !stage.is_loadshedding() => {
                if !slots.is_empty() {
                    tracing::warn!(service = SERVICE, %date, "slots listed at stage 0 left out");
                }
            }
            Ok(Named::Stage(stage)) => read.stages.entry(stage).or_default().extend(slots),
            Ok(Named::LoadReduction) => read.load_reduction.get_or_insert_default().extend(slots),
            Ok(Named::Unknown) => {
                tracing::warn!(service = SERVICE, %date, name = %entry.name, "schedule entry with an unknown name left out");
            }
            Err(detail) => return Err(malformed(format!("{date}: {detail}"), body)),
        }
    }
    Ok(read)
}

/// What a v3.1 schedule entry's name says.
enum Named {
    /// "Stage N"; "Stage 0" (no loadshedding) has no slots to read.
    Stage(Stage),
    LoadReduction,
    Unknown,
}

fn read_name(name: &str) -> Result<Named, String> {
    let squeezed = squeeze(name);
    if squeezed.starts_with("loadreduction") {
        return Ok(Named::LoadReduction);
    }
    let Some(number) = squeezed.strip_prefix("stage") else {
        return Ok(Named::Unknown);
    };
    number
        .parse::<u8>()
        .ok()
        .and_then(|n| Stage::new(n).ok())
        .map(Named::Stage)
        .ok_or_else(|| format!("{name:?} names no stage"))
}

fn read_slots(date: NaiveDate, slots: &[SlotBody], body: &str) -> Result<Vec<Slot>, UpstreamError> {
    slots
        .iter()
        .map(|slot| match slot {
            SlotBody::Text(text) => {
                Slot::parse_on(date, text).map_err(|e| malformed(format!("{date}: {e}"), body))
            }
            SlotBody::Span { start, end } => {
                let start = read_time(start, body)?;
                let end = read_time(end, body)?;
                Slot::new(start, end).map_err(|e| malformed(format!("{date}: {e}"), body))
            }
        })
        .collect()
}

fn read_time(text: &str, body: &str) -> Result<DateTime<chrono_tz::Tz>, UpstreamError> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&ZONE))
        .map_err(|e| malformed(format!("{text:?} is not a timestamp ({e})"), body))
}

/// Lower case, letters and digits only: "Load Reduction" and "load_reduction" read alike.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests;
