//! `loadshed simulate`: the whole system on one machine for a scripted, seeded stretch of virtual
//! time, against a scripted Eskom and a Telegram that is slow and sometimes refuses, and a count of
//! what every chat was told against what it should have been.
//!
//! The script: stage changes up and down (each picked up by the template's stage poll, the first by
//! two polls at once), upstream schedule revisions that a subscriber's `/refresh` brings in,
//! `/refresh`es from chats in the middle of each stage change, Telegram 429s and 5xx throughout, a
//! notify instance dying mid-broadcast at the second stage change, and Telegram slowing to a crawl
//! at the third (which pushes a broadcast towards its Lambda deadline).
//!
//! Runs on tokio's paused clock: call [`run`] on a current-thread runtime started paused.

pub mod fakes;
pub mod oracle;
mod script;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::domain::{Area, AreaId, ChatId, Stage};
use loadshed_core::ports::{ScheduleStore, StageStore, SubscriptionStore};
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
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            chats: 200,
            areas: 20,
            seed: 1,
            hours: 6,
            latency: Duration::from_millis(100),
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
}

#[derive(Debug, Clone, Serialize)]
pub struct ScriptFigures {
    pub stage_changes_scripted: usize,
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

    let upstream = Arc::new(ScriptedUpstream::new(
        script.areas.clone(),
        script.initial_stage,
        Duration::from_millis(200),
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

    // What was true before the simulation: the stage, every area's schedule at it, subscriptions.
    let store = MemoryStore::new();
    let before = start - chrono::TimeDelta::days(1);
    let initial = Stage::new(script.initial_stage)
        .map_err(|e| LocalError::Definition(format!("the script's initial stage: {e}")))?;
    store.put_stage(initial, before, None).await?;
    let today = before
        .with_timezone(&loadshed_core::clock::ZONE)
        .date_naive();
    for area in &script.areas {
        store
            .put_schedule(&upstream.published(&area.id, initial, today), before)
            .await?;
    }
    for (chat, areas) in &script.subscriptions {
        for area in areas {
            store.subscribe(*chat, area, before).await?;
        }
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
            notify: NotifyConfig::default(),
            bot_username: "loadshed_bot".to_owned(),
        },
        clock,
        until,
        vec![observe],
    )?;

    let observer = Arc::new(Mutex::new(Observer::new(
        script.subscribers(),
        Some(script.initial_stage),
        script.areas.iter().map(|a| a.id.clone()),
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
            Action::SetStage(stage) => upstream.set_stage(*stage),
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
    let (events, stage_refreshes) = {
        let mut observer = observer.lock().unwrap_or_else(|p| p.into_inner());
        (
            std::mem::take(&mut observer.events),
            observer.stage_refreshes,
        )
    };
    let accounting = oracle::account(&events, &log.delivered);
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
        },
        script: ScriptFigures {
            stage_changes_scripted: script.stage_changes,
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

/// The areas of a simulation: `eskom:<1000 + i>`.
pub fn area(i: usize) -> Area {
    Area::eskom(
        1000 + i as u64,
        format!("Simtown {i}"),
        "Simulated",
        "Gauteng",
        3,
        0,
    )
}

/// Chats subscribed to each area, as the script made them.
pub type Subscribers = BTreeMap<AreaId, Vec<ChatId>>;
