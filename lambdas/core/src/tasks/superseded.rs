//! When the news outruns the rate: a stage announcement still unsent to a chat when a newer stage
//! change is stored is retired for that chat if the newer change moves the chat's forecast (any of
//! its areas) away from what the announcement shows. The newer change's announcement tells that
//! chat (it goes to every chat whose forecast it moves), so the chat hears the current state once
//! instead of a stale message and then the fresh one. A chat whose forecast the newer change does
//! not move still gets the older announcement: what it shows is still true for that chat.
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

/// The freshness of one stage announcement (`event`, e.g. `stage:4@<updated_at>`), which shows
/// `shown` and tells of the change stored at `updated_at`.
pub struct StageFreshness {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    event: String,
    updated_at: DateTime<Utc>,
    shown: Timelines,
    seen: Mutex<Seen>,
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
            event,
            updated_at,
            shown,
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
        if event != self.event || part != "1" {
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
