//! The outside world of a simulation, in-process and on tokio's clock: a scripted upstream
//! (stage, schedules, area search) and a Telegram that takes time, refuses with 429s and 5xx, and
//! records every message it accepted with its delivery key.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use loadshed_core::adapters::telegram::{
    AnswerCallbackQuery, ChatInfo, ChatMemberInfo, ChatRef, TelegramError,
};
use loadshed_core::domain::{
    Area, AreaId, Authority, ChatId, Schedule, Slot, Stage, Timeline, Timelines,
};
use loadshed_core::errors::UpstreamError;
use loadshed_core::ports::{
    AreaSearch, DeliveryKey, Message, Messenger, ScheduleSource, SendError, Sent, StageSource,
};
use loadshed_core::webhook::{CallbackAnswers, ChannelLookup};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::sleep;

use crate::local::clock::TokioClock;
use crate::local::lambda::crash_current_invocation;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere already failed the run; the data is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Upstream as the script has it: the national and Cape Town timelines (with their announced
/// changes, which take effect at their time as a real source's would), and each area's schedule
/// revision.
pub struct ScriptedUpstream {
    areas: Vec<Area>,
    latency: Duration,
    clock: TokioClock,
    state: Mutex<UpstreamState>,
}

struct UpstreamState {
    national: Timeline,
    cape_town: Timeline,
    revisions: HashMap<AreaId, u32>,
}

impl ScriptedUpstream {
    pub fn new(
        areas: Vec<Area>,
        timelines: Timelines,
        latency: Duration,
        clock: TokioClock,
    ) -> Self {
        let cape_town = timelines
            .cape_town
            .clone()
            .unwrap_or_else(|| timelines.national.clone());
        ScriptedUpstream {
            areas,
            latency,
            clock,
            state: Mutex::new(UpstreamState {
                national: timelines.national,
                cape_town,
                revisions: HashMap::new(),
            }),
        }
    }

    /// Upstream's timeline of `authority` becomes this. Like EskomSePush's `stage_updated`, the
    /// current stage's start is kept while it holds, and is now when it changes.
    pub fn set_timeline(&self, authority: Authority, timeline: Timeline) {
        let now = self.clock.utc_now();
        let mut state = lock(&self.state);
        let slot = match authority {
            Authority::National => &mut state.national,
            Authority::CapeTown => &mut state.cape_town,
        };
        let before = slot.as_of(now);
        let since = match before.current == timeline.current {
            true => before.since,
            false => Some(now),
        };
        *slot = timeline.since(since);
    }

    /// The timelines upstream answers at `now`: changes already begun are the current stage.
    pub fn timelines_at(&self, now: DateTime<Utc>) -> Timelines {
        let state = lock(&self.state);
        Timelines {
            national: state.national.as_of(now),
            cape_town: Some(state.cape_town.as_of(now)),
        }
    }

    /// Upstream publishes a revised schedule for `area` (at every stage).
    pub fn revise(&self, area: &AreaId) {
        *lock(&self.state).revisions.entry(area.clone()).or_default() += 1;
    }

    /// The schedule upstream publishes now for `area` at `stage` from `today`: three days, up to
    /// four two-hour slots a day, placed by a hash of the area, stage and revision. At stage 0 the
    /// area's load reduction: two peak-hour cuts a day for the areas that have it.
    pub fn published(&self, area: &AreaId, stage: Stage, today: NaiveDate) -> Schedule {
        let revision = lock(&self.state).revisions.get(area).copied().unwrap_or(0);
        let mut hasher = DefaultHasher::new();
        (area.as_str(), stage.number(), revision).hash(&mut hasher);
        let base = hasher.finish();
        let reduced = self
            .areas
            .iter()
            .any(|a| &a.id == area && super::has_load_reduction(a));
        let days = (0..3).map(|d| {
            let date = today + TimeDelta::days(d);
            let slots = if stage.is_loadshedding() {
                (0..u64::from(stage.number().min(4)))
                    .filter_map(|k| {
                        let hour = ((base >> (k * 5)) % 5 + k * 5 + d as u64 % 2) as u32;
                        let from = NaiveTime::from_hms_opt(hour, 0, 0)?;
                        let to = NaiveTime::from_hms_opt(hour + 2, 30, 0)?;
                        Slot::on(date, from, to).ok()
                    })
                    .collect()
            } else if reduced {
                // Morning and evening peaks, shifted by the area and revision.
                let shift = (base % 3) as u32;
                [(7 + shift, 9 + shift), (17 + shift % 2, 19 + shift % 2)]
                    .into_iter()
                    .filter_map(|(from, to)| {
                        Slot::on(
                            date,
                            NaiveTime::from_hms_opt(from, 30, 0)?,
                            NaiveTime::from_hms_opt(to, 30, 0)?,
                        )
                        .ok()
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (date, slots)
        });
        Schedule::from_days(area.clone(), stage, days)
    }
}

#[async_trait]
impl StageSource for ScriptedUpstream {
    async fn timelines(&self) -> Result<Timelines, UpstreamError> {
        sleep(self.latency).await;
        Ok(self.timelines_at(self.clock.utc_now()))
    }
}

#[async_trait]
impl ScheduleSource for ScriptedUpstream {
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        sleep(self.latency).await;
        Ok(stages
            .iter()
            .map(|&stage| self.published(&area.id, stage, today))
            .collect())
    }
}

#[async_trait]
impl AreaSearch for ScriptedUpstream {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError> {
        sleep(self.latency).await;
        let text = text.to_lowercase();
        Ok(self
            .areas
            .iter()
            .filter(|a| a.name.to_lowercase().contains(&text))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// Telegram's most paid broadcast messages in any second.
const PAID_LIMIT: usize = 1000;

/// A message Telegram accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub at: DateTime<Utc>,
    pub chat: ChatId,
    /// The delivery key's message part, e.g. `stage:4@...#1`; `None` for a message sent outside a
    /// broadcast (the webhook's multi-part replies).
    pub key: Option<String>,
}

/// How Telegram behaves; the script changes it as it goes.
#[derive(Debug, Clone, Copy)]
pub struct TelegramBehaviour {
    pub latency: Duration,
    /// Chance that a call is refused by flood control.
    pub rate_limit: f64,
    /// Chance that a call fails with a 5xx.
    pub server_error: f64,
}

pub struct SimTelegram {
    clock: TokioClock,
    state: Mutex<TelegramState>,
}

struct TelegramState {
    rng: StdRng,
    behaviour: TelegramBehaviour,
    crash_after: Option<usize>,
    calls: Vec<(DateTime<Utc>, ChatId)>,
    delivered: Vec<Delivered>,
    rate_limited: usize,
    server_errors: usize,
    crashes: usize,
    next_id: i64,
    /// Paid broadcast messages delivered.
    paid: usize,
    /// When the calls of the last second came (for the paid limit).
    recent: std::collections::VecDeque<DateTime<Utc>>,
}

/// What Telegram saw, for the summary.
#[derive(Debug, Clone, Default)]
pub struct TelegramLog {
    pub calls: Vec<(DateTime<Utc>, ChatId)>,
    pub delivered: Vec<Delivered>,
    pub rate_limited: usize,
    pub server_errors: usize,
    pub crashes: usize,
    pub paid: usize,
}

impl SimTelegram {
    pub fn new(clock: TokioClock, seed: u64, behaviour: TelegramBehaviour) -> Self {
        SimTelegram {
            clock,
            state: Mutex::new(TelegramState {
                rng: StdRng::seed_from_u64(seed ^ 0x7e1e_6a4d),
                behaviour,
                crash_after: None,
                calls: Vec::new(),
                delivered: Vec::new(),
                rate_limited: 0,
                server_errors: 0,
                crashes: 0,
                next_id: 0,
                paid: 0,
                recent: std::collections::VecDeque::new(),
            }),
        }
    }

    pub fn set_behaviour(&self, behaviour: TelegramBehaviour) {
        lock(&self.state).behaviour = behaviour;
    }

    pub fn behaviour(&self) -> TelegramBehaviour {
        lock(&self.state).behaviour
    }

    /// Once `after` more broadcast messages were delivered, the invocation making the next send
    /// dies as it starts it: its other sends in flight never reach Telegram, and what it claimed is
    /// left to the retries.
    pub fn arm_crash(&self, after: usize) {
        lock(&self.state).crash_after = Some(after);
    }

    pub fn log(&self) -> TelegramLog {
        let state = lock(&self.state);
        TelegramLog {
            calls: state.calls.clone(),
            delivered: state.delivered.clone(),
            rate_limited: state.rate_limited,
            server_errors: state.server_errors,
            crashes: state.crashes,
            paid: state.paid,
        }
    }

    async fn call(
        &self,
        chat: ChatId,
        key: Option<&DeliveryKey>,
        paid: bool,
    ) -> Result<Sent, SendError> {
        let (latency, crash) = {
            let mut state = lock(&self.state);
            let crash = key.is_some() && state.crash_after == Some(0);
            if crash {
                state.crash_after = None;
                state.crashes += 1;
            } else {
                let now = self.clock.utc_now();
                state.calls.push((now, chat));
            }
            (state.behaviour.latency, crash)
        };
        if crash {
            if !crash_current_invocation() {
                tracing::error!("a crash was due, but the send runs outside any invocation");
            }
            // The instance is gone: this call never goes out, nor returns to it.
            return std::future::pending().await;
        }
        sleep(latency).await;
        let mut state = lock(&self.state);
        let behaviour = state.behaviour;
        let roll: f64 = state.rng.random();
        let now = self.clock.utc_now();
        while state
            .recent
            .front()
            .is_some_and(|at| now - *at >= TimeDelta::seconds(1))
        {
            state.recent.pop_front();
        }
        state.recent.push_back(now);
        if paid {
            // A paid broadcast is exempt from the free limit's flood control up to 1,000 a second;
            // beyond that Telegram answers 429 (and the sender must drop to the free rate).
            if state.recent.len() > PAID_LIMIT {
                state.rate_limited += 1;
                return Err(SendError::RateLimited {
                    retry_after: Duration::from_secs(1),
                });
            }
        } else if roll < behaviour.rate_limit {
            state.rate_limited += 1;
            let retry_after = Duration::from_secs(state.rng.random_range(1..=3));
            return Err(SendError::RateLimited { retry_after });
        }
        if roll < behaviour.rate_limit + behaviour.server_error {
            state.server_errors += 1;
            return Err(SendError::Unavailable {
                detail: "502 Bad Gateway".to_owned(),
            });
        }
        let at = self.clock.utc_now();
        state.delivered.push(Delivered {
            at,
            chat,
            key: key.map(|k| k.message.clone()),
        });
        if key.is_some() {
            state.crash_after = state.crash_after.map(|n| n.saturating_sub(1));
        }
        if paid {
            state.paid += 1;
        }
        state.next_id += 1;
        Ok(Sent {
            message_id: state.next_id,
        })
    }
}

#[async_trait]
impl Messenger for SimTelegram {
    async fn send(&self, chat: ChatId, _message: &Message) -> Result<Sent, SendError> {
        self.call(chat, None, false).await
    }

    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        self.call(chat, Some(key), false).await
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        self.call(chat, Some(key), true).await
    }
}

/// The simulation links no channels (its webhook has no channel admins): any chat looked up is
/// one Telegram does not show the bot, as it answers for a chat the bot is not in.
#[async_trait]
impl ChannelLookup for SimTelegram {
    async fn chat(&self, _chat: &ChatRef) -> Result<ChatInfo, TelegramError> {
        Err(TelegramError::Forbidden {
            method: "getChat",
            description: "Bad Request: chat not found".into(),
        })
    }

    async fn bot_member(&self, _chat: ChatId) -> Result<ChatMemberInfo, TelegramError> {
        Err(TelegramError::Forbidden {
            method: "getChatMember",
            description: "Bad Request: chat not found".into(),
        })
    }
}

#[async_trait]
impl CallbackAnswers for SimTelegram {
    async fn answer(&self, _answer: &AnswerCallbackQuery) -> Result<(), TelegramError> {
        Ok(())
    }
}
