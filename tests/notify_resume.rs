//! A broadcast longer than the notify Lambda's timeout, through the real definition and handlers in
//! the engine, on virtual time: each Notify stops before its deadline, the definition loops back,
//! and every chat hears of the change exactly once, paced to Telegram's limits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asl::{ExecutionStatus, Executor};
use async_trait::async_trait;
use chrono::NaiveDate;
use loadshed::local::{self, REFRESH_DEFINITION};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, Schedule, Slot, Stage};
use loadshed_core::errors::UpstreamError;
use loadshed_core::ports::{
    AreaSearch, DeliveryKey, Message, Messenger, ScheduleSource, SendError, Sent, StageSource,
    StageStore, SubscriptionStore,
};
use loadshed_core::runtime::Upstream;
use loadshed_core::tasks::NotifyConfig;
use serde_json::json;
use tokio::time::Instant;

struct FixedStage(Stage);

#[async_trait]
impl StageSource for FixedStage {
    async fn timelines(&self) -> Result<loadshed_core::domain::Timelines, UpstreamError> {
        self.reading()
            .await
            .map(loadshed_core::domain::Timelines::national_only)
    }
}

impl FixedStage {
    async fn reading(&self) -> Result<Stage, UpstreamError> {
        Ok(self.0)
    }
}

struct OneSlotADay;

#[async_trait]
impl ScheduleSource for OneSlotADay {
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError> {
        let mut schedules = Vec::with_capacity(stages.len());
        for &stage in stages {
            // Stage 0 (load reduction, events) is nothing this fake knows of.
            if !stage.is_loadshedding() {
                schedules.push(Schedule::no_loadshedding(area.id.clone(), [today]));
                continue;
            }
            schedules.push(self.schedule_at(area, stage, today).await?);
        }
        Ok(schedules)
    }
}

impl OneSlotADay {
    async fn schedule_at(
        &self,
        area: &Area,
        stage: Stage,
        today: NaiveDate,
    ) -> Result<Schedule, UpstreamError> {
        let slot = Slot::parse_on(today, "18:00 - 20:30").expect("slot");
        Ok(Schedule::from_days(
            area.id.clone(),
            stage,
            [(today, vec![slot])],
        ))
    }
}

struct NoSearch;

#[async_trait]
impl AreaSearch for NoSearch {
    async fn search(&self, _text: &str, _limit: usize) -> Result<Vec<Area>, UpstreamError> {
        Ok(Vec::new())
    }
}

/// Telegram as seen from an AWS region: every call answered after `latency`.
struct SlowTelegram {
    latency: Duration,
    sends: Mutex<Vec<(Instant, ChatId, String)>>,
}

#[async_trait]
impl Messenger for SlowTelegram {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        self.send_delivery(
            chat,
            &DeliveryKey {
                chat,
                message: String::new(),
            },
            message,
        )
        .await
    }

    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        _message: &Message,
    ) -> Result<Sent, SendError> {
        self.sends
            .lock()
            .expect("lock")
            .push((Instant::now(), chat, key.message.clone()));
        tokio::time::sleep(self.latency).await;
        Ok(Sent { message_id: 1 })
    }
}

#[tokio::test(start_paused = true)]
async fn a_thirty_thousand_chat_broadcast_outlasts_one_notify_and_the_workflow_resumes_it() {
    // 30,000 messages at 29/s take 1,034 s: longer than one 900 s invocation.
    const CHATS: i64 = 30_000;
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 9, 0).expect("time"));
    let store = Arc::new(MemoryStore::new());
    let area = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
    for chat in 1..=CHATS {
        store
            .subscribe(ChatId(chat), &area, clock.now())
            .await
            .expect("subscribe");
    }
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(2).expect("stage")),
            None,
            clock.now(),
            None,
        )
        .await
        .expect("stage 2 stored");
    let upstream = Upstream {
        stage: Arc::new(FixedStage(Stage::new(4).expect("stage"))),
        schedules: Arc::new(OneSlotADay),
        search: Arc::new(NoSearch),
        provider: "test",
    };
    let telegram = Arc::new(SlowTelegram {
        latency: Duration::from_millis(100),
        sends: Mutex::default(),
    });
    let tasks = local::in_process_tasks(
        store.clone(),
        &upstream,
        telegram.clone(),
        clock.clone(),
        NotifyConfig::default(),
    );
    let machine = local::refresh_machine(REFRESH_DEFINITION).expect("definition");
    let start = Instant::now();
    let execution = Executor::new(machine, tasks)
        .with_options(local::execution_options("resume-30000"))
        .execute(json!({"source": "console"}))
        .await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        execution.error,
        execution.cause
    );
    let notify_runs = execution
        .history
        .iter()
        .filter(|e| {
            e.event_type == "TaskStateEntered"
                && e.details.get("name").and_then(|n| n.as_str()) == Some("Notify")
        })
        .count();
    assert!(
        notify_runs >= 2,
        "30,000 messages at 30/s outlast one 900 s invocation: {notify_runs} Notify runs"
    );

    let sends = telegram.sends.lock().expect("lock").clone();
    let mut per_chat: HashMap<ChatId, usize> = HashMap::new();
    for (_, chat, key) in &sends {
        assert!(key.starts_with("stage:4@"), "{key}");
        *per_chat.entry(*chat).or_default() += 1;
    }
    assert_eq!(per_chat.len(), CHATS as usize, "every chat told");
    assert!(per_chat.values().all(|n| *n == 1), "a chat was told twice");
    let times: Vec<Instant> = sends.iter().map(|(at, _, _)| *at).collect();
    let mut busiest = 0;
    for (i, at) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|later| later.duration_since(*at) < Duration::from_secs(1))
            .count();
        busiest = busiest.max(in_window);
    }
    assert!(busiest <= 30, "{busiest} sends in one second");
    // About 1,030 s of sending at 29/s, plus the loop's pause and the planning.
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(1100),
        "the broadcast took {elapsed:?} of virtual time"
    );
}
