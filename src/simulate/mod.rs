//! `loadshed simulate`: the whole system on one machine for a scripted, seeded stretch of virtual
//! time, against a scripted Eskom and a Telegram that is slow and sometimes refuses, and a count of
//! what every chat was told against what it should have been.
//!
//! The script: stage changes up and down (each picked up by the template's stage poll, the first by
//! two polls at once), some read as they happen, some announced ahead (kept, revised or cancelled),
//! the City of Cape Town's own stage for its areas, load reduction in some areas, chats with
//! their own reminder lead, upstream schedule revisions that a subscriber's `/refresh` brings in,
//! `/refresh`es from chats in the middle of each stage change, Telegram 429s and 5xx throughout, a
//! notify instance dying mid-broadcast at the second stage change, and Telegram slowing to a crawl
//! at the third (which pushes a broadcast towards its Lambda deadline).
//!
//! Runs on tokio's paused clock: call [`run`] on a current-thread runtime started paused.

pub mod fakes;
pub mod oracle;
pub mod script;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::domain::forecast::stages_needed;
use loadshed_core::domain::{Area, AreaId, ChatId, Foresight, Stage, Timeline, Timelines};
use loadshed_core::ports::{ChatSettingsStore, ScheduleStore, StageStore, SubscriptionStore};
use loadshed_core::tasks::NotifyConfig;
use loadshed_core::webhook::Update;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::{Instant, sleep, sleep_until};

use crate::local::lambda::InvocationCounts;
use crate::local::streams::DeadLetter;
use crate::local::system::{LocalSystem, SystemPorts};
use crate::local::{LocalError, clock};
use fakes::{ScriptedUpstream, SimTelegram, TelegramBehaviour};
use oracle::{Accounting, Observer};
use script::{Action, Script};

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub chats: usize,
    pub areas: usize,
    pub seed: u64,
    pub hours: u32,
    /// Telegram's time per call.
    pub latency: Duration,
    /// `TELEGRAM_PAID_BROADCAST_RATE` of the notify function (0: free rate only).
    pub paid_rate: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            chats: 200,
            areas: 20,
            seed: 1,
            hours: 6,
            latency: Duration::from_millis(100),
            paid_rate: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulation needs at least one chat and one area")]
    Empty,
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error("setting up the store: {0}")]
    Store(#[from] loadshed_core::errors::StoreError),
}

/// The summary `loadshed simulate` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub chats: usize,
    pub areas: usize,
    pub hours: u32,
    #[serde(flatten)]
    pub accounting: Accounting,
    pub rate: Rates,
    pub script: ScriptFigures,
    pub functions: BTreeMap<String, InvocationCounts>,
    pub executions: BTreeMap<String, usize>,
    pub dlq: Vec<DeadLetter>,
    /// Whether everything had finished when the simulation stopped waiting.
    pub settled: bool,
    pub virtual_end: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    /// Calls to Telegram in the busiest second, overall and to one chat.
    pub max_sends_in_1s: usize,
    pub max_to_one_chat_in_1s: usize,
    pub telegram_calls: usize,
    pub rate_limited: usize,
    pub server_errors: usize,
    /// The notify function's paid rate, and the paid broadcast messages Telegram delivered.
    pub paid_rate: u32,
    pub paid: usize,
    /// 0.1 Star per paid message.
    pub stars: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScriptFigures {
    pub stage_changes_scripted: usize,
    pub announcements: script::Announcements,
    pub cape_town_areas: usize,
    pub load_reduction_areas: usize,
    pub stage_changes_stored: usize,
    pub schedule_revisions: usize,
    pub refreshes_sent: usize,
    pub refreshes_started: usize,
    pub schedule_writes_in_stage_changes: usize,
    pub crashes: usize,
}

impl Summary {
    /// The run kept the promise: every chat told everything, once.
    /// Every chat told each thing once, and nothing else: an extra message about an event (a
    /// schedule write that its stage change's announcement already shows) is a failure too.
    pub fn passed(&self) -> bool {
        let total = &self.accounting.total;
        total.duplicates == 0 && total.missing == 0 && total.unexpected == 0
    }
}

/// The simulation starts at 06:00 in South Africa on 1 December 2026.
fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0)
        .single()
        .unwrap_or_default()
}

/// How long after the script's end the run waits for the system to finish its work.
const DRAIN: Duration = Duration::from_secs(3 * 3600);

pub async fn run(config: SimConfig) -> Result<Summary, SimError> {
    if config.chats == 0 || config.areas == 0 {
        return Err(SimError::Empty);
    }
    let start = start_time();
    let clock = clock::TokioClock::starting_at(start);
    let origin = Instant::now();
    let script = Script::new(&config, start);

    let initial = Timelines {
        national: Timeline::new(
            sim_stage(script.initial_stage)?,
            vec![],
            Foresight::Announced,
        ),
        cape_town: Some(Timeline::new(
            sim_stage(script.initial_cape_town)?,
            vec![],
            Foresight::Announced,
        )),
    };
    let upstream = Arc::new(ScriptedUpstream::new(
        script.areas.clone(),
        initial.clone(),
        Duration::from_millis(200),
        clock,
    ));
    let telegram = Arc::new(SimTelegram::new(
        clock,
        config.seed,
        TelegramBehaviour {
            latency: config.latency,
            rate_limit: 0.01,
            server_error: 0.005,
        },
    ));

    // What was true before the simulation: the timelines, every area's schedules for them,
    // subscriptions and reminder leads.
    let store = MemoryStore::new();
    let before = start - chrono::TimeDelta::days(1);
    store.put_stage(&initial, None, before, None).await?;
    let today = before
        .with_timezone(&loadshed_core::clock::ZONE)
        .date_naive();
    for area in &script.areas {
        for stage in stages_needed(area, &initial) {
            store
                .put_schedule(&upstream.published(&area.id, stage, today), before)
                .await?;
        }
    }
    for (chat, areas) in &script.subscriptions {
        for area in areas {
            store.subscribe(*chat, area, before).await?;
        }
    }
    for (chat, lead) in &script.leads {
        let settings = loadshed_core::domain::ChatSettings {
            reminder_lead: *lead,
        };
        store.put_chat_settings(*chat, &settings, before).await?;
    }

    let (observe, mut observed) = unbounded_channel();
    let until = origin + Duration::from_secs(u64::from(config.hours) * 3600);
    let system = LocalSystem::start(
        store,
        SystemPorts {
            stage: upstream.clone(),
            schedules: upstream.clone(),
            search: upstream.clone(),
            messenger: telegram.clone(),
            answers: telegram.clone(),
            channels: telegram.clone(),
            notify: NotifyConfig::default().with_paid_broadcast_rate(config.paid_rate),
            bot_username: "loadshed_bot".to_owned(),
        },
        clock,
        until,
        vec![observe],
    )?;

    let observer = Arc::new(Mutex::new(Observer::new(
        &script,
        store_snapshot_of(&initial, &script, &upstream, today, before),
        start,
    )));
    let observing = {
        let observer = observer.clone();
        tokio::spawn(async move {
            while let Some(record) = observed.recv().await {
                if let Ok(mut observer) = observer.lock() {
                    observer.observe(&record);
                }
            }
        })
    };

    let mut refreshes_sent = 0;
    let mut refreshes_started = 0;
    let normal = telegram.behaviour();
    for step in &script.actions {
        sleep_until(clock.instant(step.at)).await;
        match &step.action {
            Action::SetTimeline {
                authority,
                timeline,
            } => upstream.set_timeline(*authority, timeline.clone()),
            Action::Revise(area) => upstream.revise(area),
            Action::ExtraPoll(schedule) => {
                if let Some(runner) = system.schedule(schedule) {
                    let input = runner.source.input.clone();
                    tokio::spawn(async move { runner.fire(input).await });
                }
            }
            Action::Refresh { chat, update_id } => {
                refreshes_sent += 1;
                let before = system.starter.started();
                let update: Result<Update, _> =
                    serde_json::from_value(refresh_update(*chat, *update_id));
                let Ok(update) = update else { continue };
                if let Err(error) = system.webhook.handle(&update).await {
                    tracing::warn!(%error, "the webhook failed an update");
                }
                if system.starter.started() > before {
                    refreshes_started += 1;
                    if let Ok(mut observer) = observer.lock() {
                        observer.refresh_answered(
                            *chat,
                            &format!("tg-{update_id}"),
                            clock.utc_now(),
                        );
                    }
                }
            }
            Action::ArmCrash { after } => telegram.arm_crash(*after),
            Action::SlowTelegram { latency } => telegram.set_behaviour(TelegramBehaviour {
                latency: *latency,
                ..normal
            }),
            Action::NormalTelegram => telegram.set_behaviour(normal),
        }
    }
    sleep_until(until).await;
    let settled = system.settle(Duration::from_secs(10), until + DRAIN).await;
    let executions = system.starter.finish_all().await;
    // Let the observer read the last records.
    sleep(Duration::from_millis(1)).await;
    observing.abort();

    let log = telegram.log();
    let (events, may, stage_refreshes) = {
        let mut observer = observer.lock().unwrap_or_else(|p| p.into_inner());
        // Reminder runs after the last record still saw the last state.
        let now = clock.utc_now();
        observer.finish(
            now.min(start + chrono::TimeDelta::hours(i64::from(config.hours))),
            now,
        );
        (
            std::mem::take(&mut observer.events),
            std::mem::take(&mut observer.may),
            observer.stage_refreshes,
        )
    };
    let full_rate = NotifyConfig::default()
        .with_paid_broadcast_rate(config.paid_rate)
        .pacing
        .most_sends_per_second();
    // The reminder schedule fires until the script's end (`until`), on the five minutes.
    let script_end = start + chrono::TimeDelta::hours(i64::from(config.hours));
    let last_tick = DateTime::from_timestamp(script_end.timestamp().div_euclid(300) * 300, 0)
        .unwrap_or(script_end);
    let busy = oracle::Busy::new(&log.calls, full_rate as f64, last_tick);
    let accounting = oracle::account(&events, &may, &log.delivered, &busy);
    let (max_sends, max_chat) = oracle::peak_rates(&log.calls, 1000);
    let mut statuses = BTreeMap::new();
    for (_, execution) in &executions {
        *statuses
            .entry(execution.status.as_str().to_owned())
            .or_default() += 1;
    }
    Ok(Summary {
        seed: config.seed,
        chats: config.chats,
        areas: config.areas,
        hours: config.hours,
        accounting,
        rate: Rates {
            max_sends_in_1s: max_sends,
            max_to_one_chat_in_1s: max_chat,
            telegram_calls: log.calls.len(),
            rate_limited: log.rate_limited,
            server_errors: log.server_errors,
            paid_rate: config.paid_rate,
            paid: log.paid,
            stars: log.paid as f64 / 10.0,
        },
        script: ScriptFigures {
            stage_changes_scripted: script.stage_changes,
            announcements: script.announcements,
            cape_town_areas: script
                .areas
                .iter()
                .filter(|a| a.authority() == loadshed_core::domain::Authority::CapeTown)
                .count(),
            load_reduction_areas: script
                .areas
                .iter()
                .filter(|a| has_load_reduction(a))
                .count(),
            stage_changes_stored: events
                .iter()
                .filter(|e| e.key.starts_with("stage:"))
                .count(),
            schedule_revisions: script.revisions,
            refreshes_sent,
            refreshes_started,
            schedule_writes_in_stage_changes: stage_refreshes,
            crashes: log.crashes,
        },
        functions: system.lambdas.counts().into_iter().collect(),
        executions: statuses,
        dlq: system.dead_letters.all(),
        settled,
        virtual_end: clock.utc_now().to_rfc3339(),
    })
}

/// A `/refresh` typed in a private chat.
fn refresh_update(chat: ChatId, update_id: i64) -> serde_json::Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1_000_000,
            "date": 1_795_000_000,
            "chat": {"id": chat.0, "type": "private", "first_name": "Sim"},
            "from": {"id": chat.0, "is_bot": false, "first_name": "Sim"},
            "text": "/refresh",
            "entities": [{"offset": 0, "length": 8, "type": "bot_command"}]
        }
    })
}

/// The areas of a simulation: Eskom's `eskom:<1000 + i>`, and every fifth one a City of Cape Town
/// area from EskomSePush (`esp:za_wc_simtown_<i>`), which follows the City's own stage.
pub fn area(i: usize) -> Area {
    if i % 5 == 4 {
        return Area::sepush(
            format!("za_wc_simtown_{i}"),
            format!("Simtown {i}"),
            "City of Cape Town, Western Cape",
        );
    }
    Area::eskom(
        1000 + i as u64,
        format!("Simtown {i}"),
        "Simulated",
        "Gauteng",
        3,
        0,
    )
}

/// Every seventh area (from the fourth) has load reduction at peak hours.
pub fn has_load_reduction(area: &Area) -> bool {
    area.name
        .strip_prefix("Simtown ")
        .and_then(|i| i.parse::<usize>().ok())
        .is_some_and(|i| i % 7 == 3)
}

fn sim_stage(n: u8) -> Result<Stage, SimError> {
    Stage::new(n)
        .map_err(|e| SimError::Local(LocalError::Definition(format!("the script's stage: {e}"))))
}

/// The store as the simulation starts, as the observer must know it.
fn store_snapshot_of(
    timelines: &Timelines,
    script: &Script,
    upstream: &ScriptedUpstream,
    today: chrono::NaiveDate,
    at: DateTime<Utc>,
) -> oracle::Known {
    oracle::Known {
        stored: loadshed_core::ports::StoredStage::next(timelines, None, at, None),
        schedules: script
            .areas
            .iter()
            .flat_map(|area| {
                stages_needed(area, timelines)
                    .into_iter()
                    .map(|stage| upstream.published(&area.id, stage, today))
            })
            .collect(),
    }
}

/// Chats subscribed to each area, as the script made them.
pub type Subscribers = BTreeMap<AreaId, Vec<ChatId>>;
