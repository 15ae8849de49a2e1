//! When the news outruns the rate: a stage announcement still unsent to a chat when a newer stage
//! change is stored is retired for that chat if the newer change moves the chat's forecast (any of
//! its areas) away from what the announcement shows. The newer change's announcement tells that
//! chat (it goes to every chat whose forecast it moves), so the chat hears the current state once
//! instead of a stale message and then the fresh one. A chat whose forecast the newer change does
//! not move still gets the older announcement: what it shows is still true for that chat.
//!
//! The same holds for a schedule-change message (`schedule:<area>@<written_at>`): it shows the
//! area's new slots under the stage stored when it was planned; a newer stage change that moves
//! the chat's forecast is announced to the chat with the forecast as stored then, the new slots
//! included, so the schedule-change message is retired for that chat too.
//!
//! Checked before each announcement's first part is claimed (later parts follow their first), with
//! the stored stage read at most once a second, and each area's verdict kept for the stored
//! version: the only extra store reads are one per chat (its areas) while a newer change is
//! stored, i.e. only for the messages the rule is about.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::domain::{AreaId, Timelines};
use crate::errors::StoreError;
use crate::notify::{Forecasts, Freshness, Outgoing};
use crate::ports::{Store, StoredStage};

/// How long a read of the stored stage is trusted.
const REREAD_AFTER: Duration = Duration::from_secs(1);

/// The freshness of the messages a run planned under the stage stored at `updated_at`: one stage
/// announcement (e.g. `stage:4@<updated_at>`), or the run's schedule-change messages; they show
/// the forecast under `shown`.
pub struct StageFreshness {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    checks: Checked,
    updated_at: DateTime<Utc>,
    shown: Timelines,
    seen: Mutex<Seen>,
}

/// Which of a run's messages the rule is about (the others stay current).
enum Checked {
    /// One stage announcement.
    Announcement(String),
    /// Every schedule-change message.
    ScheduleChanges,
}

impl Checked {
    fn covers(&self, event: &str) -> bool {
        match self {
            Checked::Announcement(announcement) => event == announcement,
            Checked::ScheduleChanges => event.starts_with("schedule:"),
        }
    }
}

#[derive(Default)]
struct Seen {
    read_at: Option<Instant>,
    stored: Option<StoredStage>,
    /// Per area, whether the stored version moves its forecast from what was shown.
    moved: HashMap<AreaId, bool>,
    moved_for: u64,
}

impl StageFreshness {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        event: String,
        updated_at: DateTime<Utc>,
        shown: Timelines,
    ) -> Self {
        StageFreshness {
            store,
            clock,
            checks: Checked::Announcement(event),
            updated_at,
            shown,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// For the schedule-change messages of a run planned under `planned_under` (the stored stage
    /// as the run read it).
    pub fn schedule_changes(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        planned_under: &StoredStage,
    ) -> Self {
        StageFreshness {
            store,
            clock,
            checks: Checked::ScheduleChanges,
            updated_at: planned_under.updated_at,
            shown: planned_under.timelines(),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The stored stage, read again once `REREAD_AFTER` has passed.
    async fn stored(&self, seen: &mut Seen) -> Result<Option<StoredStage>, StoreError> {
        let now = Instant::now();
        if seen
            .read_at
            .is_none_or(|at| now.duration_since(at) >= REREAD_AFTER)
        {
            seen.stored = self.store.current_stage().await?;
            seen.read_at = Some(now);
        }
        Ok(seen.stored.clone())
    }
}

#[async_trait]
impl Freshness for StageFreshness {
    async fn is_current(&self, outgoing: &Outgoing) -> Result<bool, StoreError> {
        let message = outgoing.key.message.as_str();
        let (event, part) = message.split_once('#').unwrap_or((message, "1"));
        // Other messages of the run, and the later parts of one whose first part went out.
        if !self.checks.covers(event) || part != "1" {
            return Ok(true);
        }
        let stored = {
            let mut seen = self.seen.lock().await;
            match self.stored(&mut seen).await? {
                Some(stored) if stored.updated_at > self.updated_at => stored,
                _ => return Ok(true),
            }
        };
        let current = stored.timelines();
        let now = self.clock.now();
        // The chat's areas are read outside the lock: other chats' checks go on meanwhile.
        for area in self.store.areas_of(outgoing.chat()).await? {
            if area.has_retired_id() {
                continue;
            }
            let mut seen = self.seen.lock().await;
            if seen.moved_for != stored.version {
                seen.moved.clear();
                seen.moved_for = stored.version;
            }
            let moved = match seen.moved.get(&area.id) {
                Some(moved) => *moved,
                None => {
                    let forecasts = Forecasts::load(
                        self.store.as_ref(),
                        std::slice::from_ref(&area),
                        &[&current, &self.shown],
                        now,
                    )
                    .await?;
                    let moved = forecasts
                        .of(&area, &current)
                        .differs_from(&forecasts.of(&area, &self.shown), now);
                    seen.moved.insert(area.id.clone(), moved);
                    moved
                }
            };
            if moved {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::adapters::memory_store::MemoryStore;
    use crate::clock::ManualClock;
    use crate::domain::{Area, ChatId, Foresight, Schedule, Slot, Stage, Timeline};
    use crate::ports::{Message, ScheduleStore, StageStore, StageWrite, SubscriptionStore};

    fn stage(n: u8) -> Stage {
        Stage::new(n).expect("stage")
    }

    fn area(id: u64) -> Area {
        Area::eskom(id, format!("Area {id}"), "Swartland", "Western Cape", 9, 0)
    }

    async fn put_slots(
        store: &MemoryStore,
        area: &Area,
        stage: Stage,
        text: &str,
        now: DateTime<Utc>,
    ) {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let schedule = Schedule::from_days(
            area.id.clone(),
            stage,
            [(day, vec![Slot::parse_on(day, text).expect("slot")])],
        );
        store.put_schedule(&schedule, now).await.expect("schedule");
    }

    fn schedule_message(chat: i64, area: &Area) -> Outgoing {
        Outgoing::new(
            ChatId(chat),
            format!("schedule:{}@2026-12-01T06:00:00+00:00#1", area.id),
            Message::plain("new slots"),
        )
    }

    /// A schedule-change message planned under stage 2 gives way, for the chats whose forecast a
    /// newer stage change moves, to that change's announcement; other chats and other messages
    /// still get theirs.
    #[tokio::test(start_paused = true)]
    async fn a_schedule_change_gives_way_to_a_newer_stage_change_that_moves_the_chat() {
        let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 8, 0).expect("time"));
        let store = Arc::new(MemoryStore::new());
        let now = clock.now();
        // A national area, and one of the City of Cape Town (its own stage, which stays).
        let moved = area(1);
        let unmoved = Area::sepush("za_wc_capetown_sea_point", "Sea Point", "City of Cape Town");
        put_slots(&store, &moved, stage(2), "14:00 - 16:30", now).await;
        put_slots(&store, &moved, stage(4), "18:00 - 20:30", now).await;
        put_slots(&store, &unmoved, stage(2), "10:00 - 12:30", now).await;
        store.subscribe(ChatId(1), &moved, now).await.expect("sub");
        store
            .subscribe(ChatId(2), &unmoved, now)
            .await
            .expect("sub");
        let timelines = |national: u8| Timelines {
            national: Timeline::new(stage(national), vec![], Foresight::Announced),
            cape_town: Some(Timeline::new(stage(2), vec![], Foresight::Announced)),
        };
        let two = timelines(2);
        let planned_under = match store.put_stage(&two, None, now, None).await.expect("stage") {
            StageWrite::Written(stored) => stored,
            other => panic!("{other:?}"),
        };
        let freshness =
            StageFreshness::schedule_changes(store.clone(), clock.clone(), &planned_under);
        let status = Outgoing::new(ChatId(1), "status:run", Message::plain("status"));
        for message in [schedule_message(1, &moved), schedule_message(2, &unmoved)] {
            assert!(freshness.is_current(&message).await.expect("check"));
        }

        clock.advance(chrono::Duration::minutes(20));
        let four = timelines(4);
        store
            .put_stage(&four, Some(&two), clock.now(), Some(planned_under.version))
            .await
            .expect("newer stage");
        // The stored stage is read at most once a second.
        tokio::time::sleep(REREAD_AFTER).await;
        assert!(
            !freshness
                .is_current(&schedule_message(1, &moved))
                .await
                .expect("check"),
            "stage 4 moves chat 1's forecast: its announcement shows the new slots"
        );
        assert!(
            freshness
                .is_current(&schedule_message(2, &unmoved))
                .await
                .expect("check"),
            "national stage 4 does not move Cape Town's chat 2: no announcement tells it"
        );
        assert!(freshness.is_current(&status).await.expect("check"));
    }
}
