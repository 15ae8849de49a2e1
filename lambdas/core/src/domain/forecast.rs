//! An area's forecast: the outages ahead within a horizon, each with its cause and basis.
//!
//! Two ways to know them, and both are used:
//! - **computed**: the timeline of the area's authority applied to the area's slots at each stage.
//!   A slot counts where its stage holds: it is clipped to its stage's window, and a piece shorter
//!   than [`MIN_PIECE`] is dropped (a stage that starts at 22:10 does not cut a 20:00-22:30 slot
//!   for twenty minutes: the rota's slots are the unit operators switch by). Load-reduction slots
//!   count whatever the stage.
//! - **upstream's own** (EskomSePush's `events`): authoritative within the span they cover (the
//!   first event's start to the last one's end); the computed outages fill the rest of the horizon.
//!
//! Where both speak, they are compared and every difference is counted and logged: the computed
//! forecast is what we fall back on, so it has to stay right.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{
    Area, AreaId, Authority, Basis, Cause, Foresight, Outage, Schedule, Slot, Stage, Timeline,
    Timelines,
};
use crate::clock::ZONE;

/// The shortest piece of a clipped slot that counts as an outage. EskomSePush's integration uses
/// the same default (its users asked for it: "a ten-minute outage at the edge of a stage change
/// never happens").
pub const MIN_PIECE: Duration = Duration::minutes(30);

/// The days a forecast speaks for, in local time: from `from` (midnight) to `until` (midnight).
///
/// Days rather than "from now": two runs on the same day build the same forecast, so the
/// messages keyed by it are the same event in both modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub from: DateTime<Tz>,
    pub until: DateTime<Tz>,
}

impl Horizon {
    /// Today and tomorrow: what the messages show.
    pub const DAYS: u64 = 2;

    /// `days` local days from the start of `first`.
    pub fn days(first: NaiveDate, days: u64) -> Self {
        let last = first + chrono::Days::new(days);
        Horizon {
            from: midnight(first),
            until: midnight(last),
        }
    }

    /// Today and tomorrow, seen at `now`.
    pub fn ahead(now: DateTime<Utc>) -> Self {
        Horizon::days(now.with_timezone(&ZONE).date_naive(), Self::DAYS)
    }

    fn overlaps(&self, slot: &Slot) -> bool {
        slot.start < self.until && slot.end > self.from
    }

    pub fn dates(&self) -> Vec<NaiveDate> {
        self.from
            .date_naive()
            .iter_days()
            .take_while(|date| *date < self.until.date_naive())
            .collect()
    }
}

/// Local midnight at the start of `date`. South Africa has kept UTC+2 without daylight saving since
/// 1944, so every midnight exists; should a zone rule ever skip one, the UTC+2 instant stands in.
fn midnight(date: NaiveDate) -> DateTime<Tz> {
    let naive = date.and_time(chrono::NaiveTime::MIN);
    naive
        .and_local_timezone(ZONE)
        .earliest()
        .unwrap_or_else(|| (naive - Duration::hours(2)).and_utc().with_timezone(&ZONE))
}

/// The stages whose slots `area`'s forecast under `timelines` reads: stage 0 (load reduction and
/// upstream's events) and every stage its authority's timeline holds, now or announced.
pub fn stages_needed(area: &Area, timelines: &Timelines) -> std::collections::BTreeSet<Stage> {
    let mut stages = timelines.of(area.authority()).stages();
    stages.insert(Stage::NONE);
    stages
}

/// What an area's outages are made of: its slots at each stage we have (stage 0: load reduction
/// and upstream's events).
pub type Rota<'a> = BTreeMap<Stage, &'a Schedule>;

/// An area's outages within a horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub area_id: AreaId,
    pub authority: Authority,
    /// Whether the authority's own timeline is known (a Cape Town area on Eskom's site is shown the
    /// national stage, and told so).
    pub authority_known: bool,
    /// The authority's timeline as seen at the forecast's time.
    pub timeline: Timeline,
    pub horizon: Horizon,
    /// In order of start.
    pub outages: Vec<Outage>,
    /// Stages the timeline holds within the horizon whose slots for this area are not stored yet.
    pub unknown_stages: Vec<Stage>,
    /// Days of the horizon with a stage holding whose slots for that day are not known (not
    /// stored, or not published that far ahead): their outages may be incomplete.
    pub unknown_days: Vec<NaiveDate>,
    /// Outages on which the computation and upstream's events disagree (within the events' span).
    pub disagreements: usize,
}

impl Forecast {
    /// Builds the forecast of `area` at `now` over `horizon`.
    pub fn build(
        area: &Area,
        timelines: &Timelines,
        rota: &Rota<'_>,
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Forecast {
        let authority = area.authority();
        let timeline = timelines.of(authority).as_of(now);
        let (computed, unknown_stages) = computed(&timeline, authority, rota, horizon);
        let events: Vec<Outage> = rota
            .get(&Stage::NONE)
            .map(|schedule| schedule.events().to_vec())
            .unwrap_or_default();
        let unknown_days = unknown_days(&timeline, rota, horizon);
        let (outages, disagreements) = with_events(computed, events, horizon);
        if disagreements > 0 {
            tracing::info!(
                area = %area.id,
                disagreements,
                "upstream's events and the computed forecast disagree; the events win"
            );
        }
        Forecast {
            area_id: area.id.clone(),
            authority,
            authority_known: timelines.knows(authority),
            timeline,
            horizon,
            outages,
            unknown_stages,
            unknown_days,
            disagreements,
        }
    }

    /// Whether every outage of local `date` is known.
    pub fn knows(&self, date: NaiveDate) -> bool {
        self.unknown_days.binary_search(&date).is_err()
    }

    /// Whether the timeline can see ahead (false: only the stage of the moment is known).
    pub fn sees_ahead(&self) -> bool {
        self.timeline.foresight == Foresight::Announced
    }

    /// The outages not over at `now`.
    pub fn ahead(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Outage> {
        self.outages.iter().filter(move |o| !o.slot.is_over(now))
    }

    /// The outages touching local `date`.
    pub fn on(&self, date: NaiveDate) -> impl Iterator<Item = &Outage> {
        self.outages.iter().filter(move |o| o.slot.touches(date))
    }

    /// Identifies what people are told: the outages and the authority's stage. Two forecasts with
    /// the same fingerprint read the same.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(self.area_id.as_str());
        hasher.update([0, self.timeline.current.number()]);
        hasher.update(self.horizon.from.to_rfc3339());
        for outage in &self.outages {
            hasher.update(outage.slot.start.to_rfc3339());
            hasher.update(outage.slot.end.to_rfc3339());
            hasher.update(outage.cause.to_string());
            hasher.update([0]);
        }
        hex::encode(&hasher.finalize()[..16])
    }

    /// Whether someone told `other` would be told something different by `self`: another stage now,
    /// or other outages from `now` on.
    pub fn differs_from(&self, other: &Forecast, now: DateTime<Utc>) -> bool {
        self.timeline.current != other.timeline.current
            || self.ahead(now).ne(other.ahead(now))
            || self.unknown_stages != other.unknown_stages
    }
}

/// The timeline applied to the slots, plus load reduction. Returns the outages and the stages whose
/// slots are missing.
fn computed(
    timeline: &Timeline,
    authority: Authority,
    rota: &Rota<'_>,
    horizon: Horizon,
) -> (Vec<Outage>, Vec<Stage>) {
    let mut outages = Vec::new();
    let mut unknown = Vec::new();
    for window in timeline.windows() {
        if !window.stage.is_loadshedding() {
            continue;
        }
        let start = window.start.map(|t| t.with_timezone(&ZONE));
        let end = window.end.map(|t| t.with_timezone(&ZONE));
        let in_horizon =
            start.is_none_or(|s| s < horizon.until) && end.is_none_or(|e| e > horizon.from);
        if !in_horizon {
            continue;
        }
        let Some(schedule) = rota.get(&window.stage) else {
            unknown.push(window.stage);
            continue;
        };
        for slot in schedule.slots() {
            let piece_start = start.map_or(slot.start, |s| s.max(slot.start));
            let piece_end = end.map_or(slot.end, |e| e.min(slot.end));
            let Ok(piece) = Slot::new(piece_start, piece_end) else {
                continue;
            };
            if piece.duration() >= MIN_PIECE && horizon.overlaps(&piece) {
                outages.push(Outage {
                    slot: piece,
                    cause: Cause::Stage {
                        stage: window.stage,
                        authority,
                    },
                    basis: Basis::Rota,
                });
            }
        }
    }
    if let Some(reduction) = rota.get(&Stage::NONE) {
        outages.extend(
            reduction
                .slots()
                .iter()
                .filter(|slot| horizon.overlaps(slot))
                .map(|&slot| Outage {
                    slot,
                    cause: Cause::LoadReduction,
                    basis: Basis::Rota,
                }),
        );
    }
    outages.sort();
    unknown.sort();
    unknown.dedup();
    (outages, unknown)
}

/// The horizon's days on which a loadshedding window holds whose stage has no stored slots for
/// that day.
fn unknown_days(timeline: &Timeline, rota: &Rota<'_>, horizon: Horizon) -> Vec<NaiveDate> {
    let windows = timeline.windows();
    horizon
        .dates()
        .into_iter()
        .filter(|&date| {
            let day = Horizon::days(date, 1);
            windows.iter().any(|window| {
                let touches = window.start.is_none_or(|s| s < day.until)
                    && window.end.is_none_or(|e| e > day.from);
                touches
                    && window.stage.is_loadshedding()
                    && rota
                        .get(&window.stage)
                        .is_none_or(|schedule| !schedule.covers(date))
            })
        })
        .collect()
}

/// Upstream's events replace the computed outages within the span the events cover; the rest of
/// the horizon keeps the computed ones. Also counts where the two disagree within that span.
fn with_events(
    computed: Vec<Outage>,
    events: Vec<Outage>,
    horizon: Horizon,
) -> (Vec<Outage>, usize) {
    let (Some(first), Some(last)) = (
        events.iter().map(|e| e.slot.start).min(),
        events.iter().map(|e| e.slot.end).max(),
    ) else {
        return (computed, 0);
    };
    let within_span = |slot: &Slot| slot.start < last && slot.end > first;
    let same = |a: &Outage, b: &Outage| a.slot == b.slot && a.cause == b.cause;
    let (inside, outside): (Vec<Outage>, Vec<Outage>) =
        computed.into_iter().partition(|o| within_span(&o.slot));
    let events: Vec<Outage> = events
        .into_iter()
        .filter(|e| horizon.overlaps(&e.slot))
        .collect();
    let inside: Vec<Outage> = inside
        .into_iter()
        .filter(|o| horizon.overlaps(&o.slot))
        .collect();
    let disagreements = inside
        .iter()
        .filter(|c| !events.iter().any(|e| same(c, e)))
        .count()
        + events
            .iter()
            .filter(|e| !inside.iter().any(|c| same(c, e)))
            .count();
    let mut outages = outside;
    outages.extend(events);
    outages.sort();
    (outages, disagreements)
}

/// The disagreement between a computed forecast and upstream's events, for tests and tools: the
/// computed outages within the events' span, against the events.
pub fn computed_within_events(
    area: &Area,
    timelines: &Timelines,
    rota: &Rota<'_>,
    now: DateTime<Utc>,
) -> (Vec<Outage>, Vec<Outage>) {
    let events: Vec<Outage> = rota
        .get(&Stage::NONE)
        .map(|s| s.events().to_vec())
        .unwrap_or_default();
    let (Some(first), Some(last)) = (
        events.iter().map(|e| e.slot.start).min(),
        events.iter().map(|e| e.slot.end).max(),
    ) else {
        return (Vec::new(), events);
    };
    let horizon = Horizon {
        from: first,
        until: last,
    };
    let authority = area.authority();
    let timeline = timelines.of(authority).as_of(now);
    let (computed, _) = computed(&timeline, authority, rota, horizon);
    let within: Vec<Outage> = computed
        .into_iter()
        .filter(|o| o.slot.start >= first && o.slot.end <= last)
        .collect();
    (within, events)
}

#[cfg(test)]
mod tests;
