use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AreaId, Outage, Slot, Stage};

/// An area's outages at one stage over the days upstream published.
///
/// Slots are kept as one sorted list, with back-to-back and overlapping slots merged (16:00-18:30 and
/// 18:30-20:30 is one outage to the people sitting in the dark, even across midnight). `dates` lists
/// every day the schedule speaks for, so a covered day without slots is an explicit "no loadshedding"
/// day, and a day outside `dates` is unknown.
///
/// The stage-0 schedule holds what happens whatever the stage: its slots are the area's load
/// reduction, and it carries upstream's own forecast for the area (`events`) where upstream gives
/// one (EskomSePush does; Eskom's site does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub area_id: AreaId,
    pub stage: Stage,
    dates: Vec<NaiveDate>,
    slots: Vec<Slot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    events: Vec<Outage>,
}

/// One day of a schedule: the slots that touch it (a slot across midnight shows on both days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub slots: Vec<Slot>,
}

impl Day {
    pub fn is_free(&self) -> bool {
        self.slots.is_empty()
    }
}

impl Schedule {
    /// Builds a schedule from per-day slot lists as upstream publishes them.
    pub fn from_days(
        area_id: AreaId,
        stage: Stage,
        days: impl IntoIterator<Item = (NaiveDate, Vec<Slot>)>,
    ) -> Self {
        let mut dates = BTreeSet::new();
        let mut slots = Vec::new();
        for (date, day_slots) in days {
            dates.insert(date);
            slots.extend(day_slots);
        }
        Schedule {
            area_id,
            stage,
            dates: dates.into_iter().collect(),
            slots: merge(slots),
            events: Vec::new(),
        }
    }

    /// Upstream's own forecast for the area (sorted), kept with the stage-0 schedule.
    pub fn with_events(mut self, mut events: Vec<Outage>) -> Self {
        events.sort();
        events.dedup();
        self.events = events;
        self
    }

    pub fn events(&self) -> &[Outage] {
        &self.events
    }

    /// Stage 0: every covered day is free.
    pub fn no_loadshedding(area_id: AreaId, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        Schedule::from_days(
            area_id,
            Stage::NONE,
            dates.into_iter().map(|d| (d, Vec::new())),
        )
    }

    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.dates.binary_search(&date).is_ok()
    }

    /// The day's slots, or `None` when the schedule does not speak for that day.
    pub fn day(&self, date: NaiveDate) -> Option<Day> {
        self.covers(date).then(|| Day {
            date,
            slots: self
                .slots
                .iter()
                .filter(|s| s.touches(date))
                .copied()
                .collect(),
        })
    }

    pub fn days(&self) -> impl Iterator<Item = Day> + '_ {
        self.dates.iter().filter_map(|&date| self.day(date))
    }

    /// A short, stable digest of the whole schedule (area, stage, days and slots): equal schedules
    /// have equal fingerprints, so it names "this version of the schedule" in keys and conditions.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.area_id.as_str());
        hasher.update([0, self.stage.number()]);
        for date in &self.dates {
            hasher.update(date.to_string());
            hasher.update([0]);
        }
        for slot in &self.slots {
            hasher.update(slot.start.to_rfc3339());
            hasher.update(slot.end.to_rfc3339());
            hasher.update([0]);
        }
        for event in &self.events {
            hasher.update(event.slot.start.to_rfc3339());
            hasher.update(event.slot.end.to_rfc3339());
            hasher.update(event.cause.to_string());
            hasher.update([1]);
        }
        hex::encode(&hasher.finalize()[..16])
    }

    /// Whether the outages from `from` on differ: what people would notice. Days before `from` and
    /// the sliding end of upstream's window are not a change.
    pub fn differs_from(&self, other: &Schedule, from: NaiveDate) -> bool {
        if self.stage != other.stage {
            return true;
        }
        let events_ahead = |schedule: &Schedule| -> Vec<Outage> {
            schedule
                .events
                .iter()
                .filter(|event| event.slot.end.date_naive() >= from)
                .copied()
                .collect()
        };
        if events_ahead(self) != events_ahead(other) {
            return true;
        }
        self.dates
            .iter()
            .filter(|&&d| d >= from && other.covers(d))
            .any(|&d| self.day(d) != other.day(d))
    }
}

/// Sorts and merges slots that overlap or meet end to start.
fn merge(mut slots: Vec<Slot>) -> Vec<Slot> {
    slots.sort();
    let mut merged: Vec<Slot> = Vec::with_capacity(slots.len());
    for slot in slots {
        match merged.last_mut() {
            Some(last) if slot.start <= last.end => {
                if slot.end > last.end {
                    last.end = slot.end;
                }
            }
            _ => merged.push(slot),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("valid date")
    }

    fn slot(d: u32, text: &str) -> Slot {
        Slot::parse_on(date(d), text).expect("valid slot")
    }

    fn area() -> AreaId {
        AreaId::new("eskom:1")
    }

    fn stage(n: u8) -> Stage {
        Stage::new(n).expect("valid stage")
    }

    #[test]
    fn merges_back_to_back_and_overlapping_slots() {
        let schedule = Schedule::from_days(
            area(),
            stage(6),
            [(
                date(1),
                vec![
                    slot(1, "18:30 - 20:30"),
                    slot(1, "16:00 - 18:30"),
                    slot(1, "20:00 - 22:30"),
                    slot(1, "08:00 - 10:30"),
                ],
            )],
        );
        let texts: Vec<String> = schedule.slots().iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["08:00-10:30", "16:00-22:30"]);
    }

    #[test]
    fn merges_across_midnight_and_shows_on_both_days() {
        let schedule = Schedule::from_days(
            area(),
            stage(4),
            [
                (date(1), vec![slot(1, "22:00 - 24:00")]),
                (
                    date(2),
                    vec![slot(2, "00:00 - 02:30"), slot(2, "10:00 - 12:30")],
                ),
            ],
        );
        assert_eq!(schedule.slots().len(), 2);
        let first = schedule.slots()[0];
        assert_eq!(first.start.to_rfc3339(), "2026-12-01T22:00:00+02:00");
        assert_eq!(first.end.to_rfc3339(), "2026-12-02T02:30:00+02:00");
        let day2 = schedule.day(date(2)).expect("covered");
        assert_eq!(day2.slots.len(), 2);
        assert_eq!(schedule.day(date(1)).expect("covered").slots, vec![first]);
    }

    #[test]
    fn free_days_are_explicit_and_unknown_days_are_none() {
        let schedule = Schedule::from_days(
            area(),
            stage(2),
            [(date(1), vec![slot(1, "08:00 - 10:30")]), (date(2), vec![])],
        );
        assert!(!schedule.day(date(1)).expect("covered").is_free());
        assert!(schedule.day(date(2)).expect("covered").is_free());
        assert_eq!(schedule.day(date(3)), None);
        let none = Schedule::no_loadshedding(area(), [date(5), date(6)]);
        assert!(none.days().all(|d| d.is_free()));
        assert_eq!(none.days().count(), 2);
    }

    #[test]
    fn sliding_window_is_not_a_change_but_new_slots_are() {
        let old = Schedule::from_days(
            area(),
            stage(2),
            [
                (date(1), vec![slot(1, "08:00 - 10:30")]),
                (date(2), vec![slot(2, "16:00 - 18:30")]),
            ],
        );
        let slid = Schedule::from_days(
            area(),
            stage(2),
            [
                (date(2), vec![slot(2, "16:00 - 18:30")]),
                (date(3), vec![slot(3, "00:00 - 02:30")]),
            ],
        );
        assert!(!slid.differs_from(&old, date(2)));
        let moved = Schedule::from_days(
            area(),
            stage(2),
            [(date(2), vec![slot(2, "18:00 - 20:30")])],
        );
        assert!(moved.differs_from(&old, date(2)));
        let other_stage = Schedule::from_days(
            area(),
            stage(3),
            [(date(2), vec![slot(2, "16:00 - 18:30")])],
        );
        assert!(other_stage.differs_from(&old, date(2)));
    }

    #[test]
    fn fingerprints_tell_schedules_apart() {
        let a = Schedule::from_days(
            area(),
            stage(2),
            [(date(1), vec![slot(1, "08:00 - 10:30")])],
        );
        let same = Schedule::from_days(
            area(),
            stage(2),
            [(date(1), vec![slot(1, "08:00 - 10:30")])],
        );
        let moved = Schedule::from_days(
            area(),
            stage(2),
            [(date(1), vec![slot(1, "08:30 - 10:30")])],
        );
        let other_stage = Schedule::from_days(
            area(),
            stage(3),
            [(date(1), vec![slot(1, "08:00 - 10:30")])],
        );
        let longer = Schedule::from_days(
            area(),
            stage(2),
            [(date(1), vec![slot(1, "08:00 - 10:30")]), (date(2), vec![])],
        );
        assert_eq!(a.fingerprint(), same.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        for other in [moved, other_stage, longer] {
            assert_ne!(a.fingerprint(), other.fingerprint());
        }
    }

    #[test]
    fn round_trips_through_json() {
        let schedule = Schedule::from_days(
            area(),
            stage(1),
            [(date(31), vec![slot(31, "22:00 - 00:30")])],
        );
        let json = serde_json::to_string(&schedule).expect("serialize");
        let back: Schedule = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, schedule);
    }
}
