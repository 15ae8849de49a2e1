//! What a page shows, worked out from what is stored and the time: no HTML here, so the pages and
//! the feed show the same facts and tests can check them directly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::clock::ZONE;
use crate::domain::{Area, Forecast, Horizon, Outage};
use crate::ports::StoredStage;

/// How many days an area page lists: today, tomorrow and the seven days after today.
pub const DAYS_SHOWN: u32 = 8;

/// The days an area page and its feed speak for.
pub fn horizon(now: DateTime<Utc>) -> Horizon {
    Horizon::days(now.with_timezone(&ZONE).date_naive(), u64::from(DAYS_SHOWN))
}

/// One listed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayView {
    pub date: NaiveDate,
    /// The day's outages from the forecast.
    pub outages: Vec<Outage>,
    /// Whether the day is fully known: a stage holds on it whose slots for it are not stored
    /// (not published, or not fetched yet) makes it `false`.
    pub known: bool,
}

/// The next thing that happens to the lights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// An outage is on now; it ends at `outage.slot.end`.
    EndsIn { outage: Outage, left: Duration },
    /// The next outage starts at `outage.slot.start`.
    StartsIn { outage: Outage, left: Duration },
}

/// Everything an area page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaView {
    pub area: Area,
    pub stage: Option<StoredStage>,
    /// The area's authority's timeline in words ("No loadshedding now. Stage 4 from Mon 06:00 to
    /// 22:00."), when a stage is stored.
    pub timeline: Option<String>,
    pub days: Vec<DayView>,
    pub next: Option<Next>,
    pub now: DateTime<Tz>,
}

impl AreaView {
    /// `forecast` is the area's over [`horizon`].
    pub fn new(
        area: Area,
        stage: Option<StoredStage>,
        forecast: &Forecast,
        now: DateTime<Utc>,
    ) -> Self {
        let timeline = stage.as_ref().map(|_| {
            let sentence = crate::notify::render::timeline_sentence(&forecast.timeline, now);
            match forecast.authority {
                crate::domain::Authority::CapeTown if forecast.authority_known => {
                    format!("City of Cape Town: {sentence}")
                }
                _ => sentence,
            }
        });
        let days = forecast
            .horizon
            .dates()
            .into_iter()
            .map(|date| DayView {
                date,
                outages: forecast.on(date).copied().collect(),
                known: stage.is_some() && forecast.knows(date),
            })
            .collect();
        let next = next(&forecast.outages, now);
        AreaView {
            area,
            stage,
            timeline,
            days,
            next,
            now: now.with_timezone(&ZONE),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// The outage on now, or else the next to start.
pub fn next(outages: &[Outage], now: DateTime<Utc>) -> Option<Next> {
    let outage = *outages
        .iter()
        .find(|o| o.slot.end.with_timezone(&Utc) > now)?;
    let start = outage.slot.start.with_timezone(&Utc);
    Some(if start <= now {
        Next::EndsIn {
            outage,
            left: outage.slot.end.with_timezone(&Utc) - now,
        }
    } else {
        Next::StartsIn {
            outage,
            left: start - now,
        }
    })
}

/// The outages a calendar feed lists: every forecast one that has not ended.
pub fn upcoming(forecast: &Forecast, now: DateTime<Utc>) -> impl Iterator<Item = &Outage> {
    forecast
        .outages
        .iter()
        .filter(move |o| o.slot.end.with_timezone(&Utc) > now)
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::{AreaId, Rota, Schedule, Slot, Stage, Timelines};

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    fn stage(n: u8) -> StoredStage {
        let timelines = Timelines::national_only(Stage::new(n).expect("stage"));
        let at = DateTime::parse_from_rfc3339("2026-12-01T06:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        StoredStage::next(&timelines, None, at, Some(2))
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

    fn view(
        stored: Option<StoredStage>,
        schedule: Option<&Schedule>,
        now: DateTime<Utc>,
    ) -> AreaView {
        let timelines = stored.as_ref().map_or_else(
            || Timelines::national_only(Stage::NONE),
            StoredStage::timelines,
        );
        let rota: Rota = schedule
            .map(|s| (s.stage, s))
            .into_iter()
            .collect::<BTreeMap<_, _>>();
        let forecast = Forecast::build(&area(), &timelines, &rota, now, horizon(now));
        AreaView::new(area(), stored, &forecast, now)
    }

    #[test]
    fn days_from_today_with_unknown_days_marked() {
        let clock = ManualClock::at_local(2026, 12, 1, 9, 0).expect("time");
        let view = view(Some(stage(4)), Some(&schedule(4)), clock.now());
        assert_eq!(view.days.len(), DAYS_SHOWN as usize);
        assert_eq!(view.days[0].date, date(1));
        assert_eq!(view.days[0].outages.len(), 2);
        // The slot across midnight shows on the 2nd too.
        assert_eq!(view.days[1].outages.len(), 2);
        assert!(view.days[2].outages.is_empty() && view.days[2].known);
        assert!(!view.days[3].known);
        assert!(
            view.timeline
                .as_deref()
                .is_some_and(|t| t.starts_with("Stage 4 now"))
        );
        match view.next {
            Some(Next::EndsIn { outage, left }) => {
                assert_eq!(outage.slot.start.to_rfc3339(), "2026-12-01T08:00:00+02:00");
                assert_eq!(left, Duration::minutes(90));
            }
            other => panic!("expected the 08:00 slot on now, got {other:?}"),
        }
    }

    #[test]
    fn next_start_and_nothing_after_the_last_slot() {
        let clock = ManualClock::at_local(2026, 12, 1, 10, 30).expect("time");
        let view = view(Some(stage(4)), Some(&schedule(4)), clock.now());
        match view.next {
            Some(Next::StartsIn { outage, left }) => {
                assert_eq!(outage.slot.start.to_rfc3339(), "2026-12-01T22:00:00+02:00");
                assert_eq!(left, Duration::hours(11) + Duration::minutes(30));
            }
            other => panic!("expected the 22:00 slot next, got {other:?}"),
        }
        let later = DateTime::parse_from_rfc3339("2026-12-02T16:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let all: Vec<Outage> = view.days.iter().flat_map(|d| d.outages.clone()).collect();
        assert_eq!(next(&all, later), None);
    }

    #[test]
    fn another_stages_schedule_and_stage_zero() {
        let clock = ManualClock::at_local(2026, 12, 1, 9, 0).expect("time");
        let other = view(Some(stage(6)), Some(&schedule(4)), clock.now());
        assert!(other.days.iter().all(|d| !d.known && d.outages.is_empty()));
        assert_eq!(other.next, None);
        let free = view(Some(stage(0)), None, clock.now());
        assert!(free.days.iter().all(|d| d.known && d.outages.is_empty()));
        let unknown = view(None, None, clock.now());
        assert!(unknown.days.iter().all(|d| !d.known));
        assert_eq!(unknown.timeline, None);
    }

    #[test]
    fn durations_round_up_to_whole_minutes() {
        assert_eq!(duration_text(Duration::seconds(1)), "1 min");
        assert_eq!(duration_text(Duration::minutes(60)), "1 h");
        assert_eq!(duration_text(Duration::minutes(125)), "2 h 05 min");
        assert_eq!(duration_text(Duration::seconds(-5)), "0 min");
    }
}
