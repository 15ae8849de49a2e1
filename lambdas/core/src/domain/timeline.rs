//! Stage timelines: the stage an authority runs now and the changes it has announced, each holding
//! until the next (the last until further notice).
//!
//! Two authorities set stages: Eskom for the country, and the City of Cape Town for the areas it
//! supplies itself (it buys power from Eskom and can shed less). Eskom announces its evening stages
//! and its changes hours ahead; a source that says only the stage of the moment (Eskom's own site)
//! gives a timeline whose [`Foresight`] says so.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Stage;

/// Who sets an area's stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// Eskom's national stage: every area Eskom or a municipality other than Cape Town supplies.
    National,
    /// The City of Cape Town's own stage, for the areas the City supplies.
    CapeTown,
}

impl Authority {
    /// Reads an area's supplier from its own description (municipality and region texts).
    ///
    /// Cape Town areas that Eskom supplies directly ("Eskom Direct, City of Cape Town") follow the
    /// national stage: only the City's own customers follow the City's. An area id's prefix is not
    /// consulted: EskomSePush's v3 ids (`za_wc_...`) no longer name the supplier.
    pub fn of_supplier(description: &str) -> Authority {
        let text = description.to_ascii_lowercase();
        // "City of Cape Town", "Cape Town" (a stand-in or an older answer may drop "City of"),
        // or a schedule id such as `capetown-5-...` folded into the text.
        let city = text.contains("cape town") || text.contains("capetown");
        let eskom_direct = text.contains("eskom direct") || text.contains("eskde");
        if city && !eskom_direct {
            Authority::CapeTown
        } else {
            Authority::National
        }
    }

    /// How people call it in a sentence: "Eskom", "the City of Cape Town".
    pub fn who(self) -> &'static str {
        match self {
            Authority::National => "Eskom",
            Authority::CapeTown => "the City of Cape Town",
        }
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Authority::National => "national",
            Authority::CapeTown => "Cape Town",
        })
    }
}

/// How far a timeline sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Foresight {
    /// The source tells the announced changes (EskomSePush's `next_stages`): no change listed
    /// means none announced.
    Announced,
    /// The source tells only the stage of the moment (Eskom's site): the stage holds only "until
    /// Eskom announces a change", which we cannot see.
    #[default]
    CurrentOnly,
}

/// One announced change: from `starts_at` the stage is `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StageChange {
    pub starts_at: DateTime<Utc>,
    pub stage: Stage,
}

/// An interval a stage holds: from `start` (none: since before we know) until `end` (none: until
/// further notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageWindow {
    pub stage: Stage,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl StageWindow {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|start| start <= at) && self.end.is_none_or(|end| at < end)
    }
}

/// One authority's stage now and its announced changes, soonest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timeline {
    pub current: Stage,
    /// Since when the current stage holds, where the source says (EskomSePush's `stage_updated`)
    /// or a folded change tells: a slot that began before it is cut there like any other window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default)]
    changes: Vec<StageChange>,
    #[serde(default)]
    pub foresight: Foresight,
}

impl Timeline {
    /// A timeline from a reading: changes are sorted, and a change to the stage already holding at
    /// its time is dropped (it changes nothing, and would make equal timelines compare unequal).
    pub fn new(current: Stage, changes: Vec<StageChange>, foresight: Foresight) -> Self {
        let mut changes = changes;
        changes.sort();
        // Two changes at the same instant: the last one listed for that instant wins, as a reader
        // of the list top to bottom would take it.
        changes.dedup_by(|later, earlier| {
            if later.starts_at == earlier.starts_at {
                *earlier = *later;
                true
            } else {
                false
            }
        });
        let mut kept: Vec<StageChange> = Vec::with_capacity(changes.len());
        let mut holding = current;
        for change in changes {
            if change.stage != holding {
                holding = change.stage;
                kept.push(change);
            }
        }
        Timeline {
            current,
            since: None,
            changes: kept,
            foresight,
        }
    }

    /// The same timeline, its current stage holding since `since`.
    pub fn since(mut self, since: Option<DateTime<Utc>>) -> Self {
        self.since = since;
        self
    }

    /// Only the stage of the moment, as Eskom's site gives it.
    pub fn current_only(current: Stage) -> Self {
        Timeline::new(current, Vec::new(), Foresight::CurrentOnly)
    }

    pub fn changes(&self) -> &[StageChange] {
        &self.changes
    }

    /// The stage holding at `at` by this timeline.
    pub fn stage_at(&self, at: DateTime<Utc>) -> Stage {
        self.changes
            .iter()
            .take_while(|change| change.starts_at <= at)
            .last()
            .map_or(self.current, |change| change.stage)
    }

    /// The timeline as seen at `now`: changes already begun are folded into the current stage. Two
    /// readings of the same announcements taken either side of a change's start compare equal.
    pub fn as_of(&self, now: DateTime<Utc>) -> Timeline {
        let folded = self
            .changes
            .iter()
            .take_while(|change| change.starts_at <= now)
            .last();
        Timeline {
            current: self.stage_at(now),
            since: folded.map_or(self.since, |change| Some(change.starts_at)),
            changes: self
                .changes
                .iter()
                .filter(|change| change.starts_at > now)
                .copied()
                .collect(),
            foresight: self.foresight,
        }
    }

    /// The windows each stage holds, in order; the first starts "since before we know".
    pub fn windows(&self) -> Vec<StageWindow> {
        let mut windows = Vec::with_capacity(self.changes.len() + 1);
        let mut start = self.since;
        let mut stage = self.current;
        for change in &self.changes {
            windows.push(StageWindow {
                stage,
                start,
                end: Some(change.starts_at),
            });
            start = Some(change.starts_at);
            stage = change.stage;
        }
        windows.push(StageWindow {
            stage,
            start,
            end: None,
        });
        windows
    }

    /// Every stage the timeline holds at some time (current and announced).
    pub fn stages(&self) -> BTreeSet<Stage> {
        std::iter::once(self.current)
            .chain(self.changes.iter().map(|change| change.stage))
            .collect()
    }

    /// The next announced change after `now`, if any.
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<StageChange> {
        self.changes
            .iter()
            .find(|change| change.starts_at > now)
            .copied()
    }
}

/// The timelines a stage reading gives: the national one, and Cape Town's where the source knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timelines {
    pub national: Timeline,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cape_town: Option<Timeline>,
}

impl Timelines {
    /// Only the national stage of the moment (Eskom's site).
    pub fn national_only(stage: Stage) -> Self {
        Timelines {
            national: Timeline::current_only(stage),
            cape_town: None,
        }
    }

    /// The timeline `authority` runs. Without a Cape Town reading (Eskom's site has none), Cape
    /// Town's areas are shown the national one: the City has never shed more than Eskom.
    pub fn of(&self, authority: Authority) -> &Timeline {
        match authority {
            Authority::National => &self.national,
            Authority::CapeTown => self.cape_town.as_ref().unwrap_or(&self.national),
        }
    }

    /// Whether `authority` has its own reading (false: it is shown the national timeline).
    pub fn knows(&self, authority: Authority) -> bool {
        match authority {
            Authority::National => true,
            Authority::CapeTown => self.cape_town.is_some(),
        }
    }

    pub fn as_of(&self, now: DateTime<Utc>) -> Timelines {
        Timelines {
            national: self.national.as_of(now),
            cape_town: self.cape_town.as_ref().map(|t| t.as_of(now)),
        }
    }

    /// Every stage either timeline holds at some time.
    pub fn stages(&self) -> BTreeSet<Stage> {
        let mut stages = self.national.stages();
        if let Some(cape_town) = &self.cape_town {
            stages.extend(cape_town.stages());
        }
        stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn stage(n: u8) -> Stage {
        Stage::new(n).expect("stage")
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0)
            .single()
            .expect("time")
    }

    fn change(hour: u32, n: u8) -> StageChange {
        StageChange {
            starts_at: at(hour),
            stage: stage(n),
        }
    }

    #[test]
    fn each_change_holds_until_the_next_and_the_last_until_further_notice() {
        let timeline = Timeline::new(
            stage(0),
            vec![change(14, 2), change(4, 4)],
            Foresight::Announced,
        );
        assert_eq!(timeline.stage_at(at(3)), stage(0));
        assert_eq!(timeline.stage_at(at(4)), stage(4));
        assert_eq!(timeline.stage_at(at(13)), stage(4));
        assert_eq!(timeline.stage_at(at(14)), stage(2));
        assert_eq!(timeline.stage_at(at(23)), stage(2));
        let windows = timeline.windows();
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0].start, None);
        assert_eq!(windows[1].stage, stage(4));
        assert_eq!(
            (windows[1].start, windows[1].end),
            (Some(at(4)), Some(at(14)))
        );
        assert_eq!(windows[2].end, None);
        assert!(windows[1].contains(at(4)) && !windows[1].contains(at(14)));
    }

    #[test]
    fn changes_to_the_stage_already_holding_are_dropped() {
        let timeline = Timeline::new(
            stage(2),
            vec![change(4, 2), change(6, 4), change(8, 4), change(10, 0)],
            Foresight::Announced,
        );
        assert_eq!(timeline.changes(), &[change(6, 4), change(10, 0)]);
        assert_eq!(
            timeline.stages().into_iter().collect::<Vec<_>>(),
            [stage(0), stage(2), stage(4)]
        );
    }

    #[test]
    fn a_change_that_arrives_on_time_leaves_the_timeline_as_it_was() {
        let announced = Timeline::new(
            stage(0),
            vec![change(4, 4), change(20, 0)],
            Foresight::Announced,
        );
        // At 04:00 the source says "stage 4 since 04:00, 0 from 20:00": the same timeline, seen later.
        let on_time =
            Timeline::new(stage(4), vec![change(20, 0)], Foresight::Announced).since(Some(at(4)));
        assert_eq!(announced.as_of(at(5)), on_time.as_of(at(5)));
        assert_ne!(announced.as_of(at(3)), on_time.as_of(at(3)));
        assert_eq!(announced.next_change(at(5)), Some(change(20, 0)));
    }

    #[test]
    fn cape_town_falls_back_to_national_only_without_its_own_reading() {
        let national = Timeline::current_only(stage(4));
        let mut timelines = Timelines {
            national: national.clone(),
            cape_town: None,
        };
        assert_eq!(timelines.of(Authority::CapeTown), &national);
        assert!(!timelines.knows(Authority::CapeTown));
        timelines.cape_town = Some(Timeline::new(stage(2), vec![], Foresight::Announced));
        assert_eq!(timelines.of(Authority::CapeTown).current, stage(2));
        assert_eq!(timelines.of(Authority::National).current, stage(4));
    }

    #[test]
    fn the_supplier_decides_the_authority_not_the_city_alone() {
        assert_eq!(
            Authority::of_supplier("City of Cape Town, Western Cape"),
            Authority::CapeTown
        );
        assert_eq!(
            Authority::of_supplier("Eskom Direct, City of Cape Town, Western Cape"),
            Authority::National
        );
        assert_eq!(
            Authority::of_supplier("JHB City Power"),
            Authority::National
        );
        assert_eq!(
            Authority::of_supplier("Drakenstein, Western Cape"),
            Authority::National
        );
        assert_eq!(
            Authority::of_supplier("Cape Town, Western Cape"),
            Authority::CapeTown
        );
        assert_eq!(
            Authority::of_supplier("Cape Winelands, Western Cape"),
            Authority::National
        );
    }

    #[test]
    fn round_trips_through_json_and_reads_a_bare_current_stage() {
        let timelines = Timelines {
            national: Timeline::new(stage(2), vec![change(16, 4)], Foresight::Announced),
            cape_town: Some(Timeline::new(stage(1), vec![], Foresight::Announced)),
        };
        let json = serde_json::to_string(&timelines).expect("serialize");
        let back: Timelines = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, timelines);
        let bare: Timeline = serde_json::from_str(r#"{"current": 3}"#).expect("bare");
        assert_eq!(bare, Timeline::current_only(stage(3)));
    }
}
