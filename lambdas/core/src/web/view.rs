//! What a page shows, worked out from what is stored and the time: no HTML here, so the pages and
//! the feed show the same facts and tests can check them directly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::clock::ZONE;
use crate::domain::{Area, Schedule, Slot, Stage};
use crate::ports::StoredStage;

/// How many days an area page lists: today, tomorrow and the seven days after today.
pub const DAYS_SHOWN: u32 = 8;

/// One listed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayView {
    pub date: NaiveDate,
    /// `None`: the schedule does not speak for this day (not published, or not fetched yet).
    pub slots: Option<Vec<Slot>>,
}

/// The next thing that happens to the lights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// An outage is on now; it ends at `slot.end`.
    EndsIn { slot: Slot, left: Duration },
    /// The next outage starts at `slot.start`.
    StartsIn { slot: Slot, left: Duration },
}

/// Everything an area page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaView {
    pub area: Area,
    pub stage: Option<StoredStage>,
    pub days: Vec<DayView>,
    pub next: Option<Next>,
    pub now: DateTime<Tz>,
}

impl AreaView {
    /// `schedule` is the stored one at the stored stage (none is needed at stage 0).
    pub fn new(
        area: Area,
        stage: Option<StoredStage>,
        schedule: Option<&Schedule>,
        now: DateTime<Utc>,
    ) -> Self {
        let now = now.with_timezone(&ZONE);
        let today = now.date_naive();
        let current = stage.as_ref().map(|s| s.stage);
        // A schedule stored for another stage says nothing about this one.
        let schedule = schedule.filter(|s| Some(s.stage) == current);
        let days = (0..DAYS_SHOWN)
            .filter_map(|n| today.checked_add_days(chrono::Days::new(u64::from(n))))
            .map(|date| DayView {
                date,
                slots: day_slots(current, schedule, date),
            })
            .collect();
        let next = schedule.and_then(|s| next(s.slots(), now.with_timezone(&Utc)));
        AreaView {
            area,
            stage,
            days,
            next,
            now,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

fn day_slots(
    stage: Option<Stage>,
    schedule: Option<&Schedule>,
    date: NaiveDate,
) -> Option<Vec<Slot>> {
    match (stage, schedule.and_then(|s| s.day(date))) {
        (_, Some(day)) => Some(day.slots),
        // Stage 0 needs no schedule to know there are no outages.
        (Some(stage), None) if !stage.is_loadshedding() => Some(Vec::new()),
        _ => None,
    }
}

/// The slot on now, or else the next to start.
pub fn next(slots: &[Slot], now: DateTime<Utc>) -> Option<Next> {
    let slot = *slots.iter().find(|s| s.end.with_timezone(&Utc) > now)?;
    let start = slot.start.with_timezone(&Utc);
    Some(if start <= now {
        Next::EndsIn {
            slot,
            left: slot.end.with_timezone(&Utc) - now,
        }
    } else {
        Next::StartsIn {
            slot,
            left: start - now,
        }
    })
}

/// The slots a calendar feed lists: every published one that has not ended.
pub fn upcoming(schedule: &Schedule, now: DateTime<Utc>) -> impl Iterator<Item = &Slot> {
    schedule
        .slots()
        .iter()
        .filter(move |s| s.end.with_timezone(&Utc) > now)
}

/// `2 h 05 min`, `45 min`, `3 h`; whole minutes rounded up, so "in 1 min" never means "now".
pub fn duration_text(duration: Duration) -> String {
    let minutes = (duration.num_seconds() + 59).div_euclid(60).max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::AreaId;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    fn stage(n: u8) -> StoredStage {
        StoredStage {
            stage: Stage::new(n).expect("stage"),
            updated_at: DateTime::parse_from_rfc3339("2026-12-01T06:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            version: 3,
        }
    }

    fn area() -> Area {
        Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
    }

    fn schedule(n: u8) -> Schedule {
        let slot = |d, t| Slot::parse_on(date(d), t).expect("slot");
        Schedule::from_days(
            AreaId::new("eskom:64106"),
            Stage::new(n).expect("stage"),
            [
                (
                    date(1),
                    vec![slot(1, "08:00 - 10:30"), slot(1, "22:00 - 00:30")],
                ),
                (date(2), vec![slot(2, "16:00 - 18:30")]),
                (date(3), vec![]),
            ],
        )
    }

    #[test]
    fn days_from_today_with_unknown_days_marked() {
        let clock = ManualClock::at_local(2026, 12, 1, 9, 0).expect("time");
        let view = AreaView::new(area(), Some(stage(4)), Some(&schedule(4)), clock.now());
        assert_eq!(view.days.len(), DAYS_SHOWN as usize);
        assert_eq!(view.days[0].date, date(1));
        assert_eq!(view.days[0].slots.as_ref().map(Vec::len), Some(2));
        // The slot across midnight shows on the 2nd too.
        assert_eq!(view.days[1].slots.as_ref().map(Vec::len), Some(2));
        assert_eq!(view.days[2].slots, Some(vec![]));
        assert_eq!(view.days[3].slots, None);
        match view.next {
            Some(Next::EndsIn { slot, left }) => {
                assert_eq!(slot.start.to_rfc3339(), "2026-12-01T08:00:00+02:00");
                assert_eq!(left, Duration::minutes(90));
            }
            other => panic!("expected the 08:00 slot on now, got {other:?}"),
        }
    }

    #[test]
    fn next_start_and_nothing_after_the_last_slot() {
        let clock = ManualClock::at_local(2026, 12, 1, 10, 30).expect("time");
        let view = AreaView::new(area(), Some(stage(4)), Some(&schedule(4)), clock.now());
        match view.next {
            Some(Next::StartsIn { slot, left }) => {
                assert_eq!(slot.start.to_rfc3339(), "2026-12-01T22:00:00+02:00");
                assert_eq!(left, Duration::hours(11) + Duration::minutes(30));
            }
            other => panic!("expected the 22:00 slot next, got {other:?}"),
        }
        clock.set(
            DateTime::parse_from_rfc3339("2026-12-02T16:30:00Z")
                .expect("time")
                .with_timezone(&Utc),
        );
        assert_eq!(next(schedule(4).slots(), clock.now()), None);
        assert_eq!(upcoming(&schedule(4), clock.now()).count(), 0);
    }

    #[test]
    fn another_stages_schedule_and_stage_zero() {
        let clock = ManualClock::at_local(2026, 12, 1, 9, 0).expect("time");
        let view = AreaView::new(area(), Some(stage(6)), Some(&schedule(4)), clock.now());
        assert!(view.days.iter().all(|d| d.slots.is_none()));
        assert_eq!(view.next, None);
        let free = AreaView::new(area(), Some(stage(0)), None, clock.now());
        assert!(free.days.iter().all(|d| d.slots == Some(vec![])));
        let unknown = AreaView::new(area(), None, None, clock.now());
        assert!(unknown.days.iter().all(|d| d.slots.is_none()));
    }

    #[test]
    fn durations_round_up_to_whole_minutes() {
        assert_eq!(duration_text(Duration::seconds(1)), "1 min");
        assert_eq!(duration_text(Duration::minutes(60)), "1 h");
        assert_eq!(duration_text(Duration::minutes(125)), "2 h 05 min");
        assert_eq!(duration_text(Duration::seconds(-5)), "0 min");
    }
}
