//! What people are told follows each area's forecast: announced stages, what is news and what is
//! not, Cape Town's own stage, reminders at each chat's own lead, and areas under retired ids.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod task_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{BotToken, TelegramClient};
use loadshed_core::clock::{Clock, ManualClock, ZONE};
use loadshed_core::domain::{
    Area, ChatId, ChatSettings, Foresight, ReminderLead, Schedule, Slot, StageChange, Timeline,
    Timelines,
};
use loadshed_core::notify::PacingLimits;
use loadshed_core::ports::{
    ChatSettingsStore, ScheduleStore, StageStore, StageWrite, SubscriptionStore,
};
use loadshed_core::tasks::{NotifyConfig, NotifyTask, StageOutcome, WorkflowState};
use serde_json::{Value, json};
use task_support::{bertiburg, date, stage};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

struct World {
    telegram: MockServer,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    task: NotifyTask,
}

fn today() -> NaiveDate {
    date(2026, 12, 6)
}

fn tomorrow() -> NaiveDate {
    date(2026, 12, 7)
}

fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, minute, 0)
        .and_then(|t| t.and_local_timezone(ZONE).single())
        .expect("local time")
        .with_timezone(&Utc)
}

fn kenilworth() -> Area {
    Area::sepush(
        "za_wc_kenilworth_7",
        "Kenilworth",
        "City of Cape Town, Western Cape",
    )
}

fn timelines(national: Timeline, cape_town: Timeline) -> Timelines {
    Timelines {
        national,
        cape_town: Some(cape_town),
    }
}

fn announced(current: u8, changes: &[(DateTime<Utc>, u8)]) -> Timeline {
    Timeline::new(
        stage(current),
        changes
            .iter()
            .map(|&(starts_at, n)| StageChange {
                starts_at,
                stage: stage(n),
            })
            .collect(),
        Foresight::Announced,
    )
}

/// "No loadshedding now; Stage 4 tomorrow from 06:00 to 22:00".
fn stage_four_tomorrow(end_hour: u32) -> Timeline {
    announced(
        0,
        &[
            (local(tomorrow(), 6, 0), 4),
            (local(tomorrow(), end_hour, 0), 0),
        ],
    )
}

/// Chat 1 follows Bertiburg (national), chat 2 Kenilworth (Cape Town), chat 3 both. No
/// loadshedding anywhere; Bertiburg's stage-4 slots and Kenilworth's stage-2 slots are stored.
async fn world(now: DateTime<Utc>) -> World {
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
        })))
        .mount(&telegram)
        .await;
    let clock = Arc::new(ManualClock::new(now));
    let store = Arc::new(MemoryStore::new());
    for (chat, area) in [
        (1, bertiburg()),
        (2, kenilworth()),
        (3, bertiburg()),
        (3, kenilworth()),
    ] {
        store
            .subscribe(ChatId(chat), &area, now)
            .await
            .expect("subscribe");
    }
    let slots = |area: &Area, n: u8, texts: &[&str]| {
        Schedule::from_days(
            area.id.clone(),
            stage(n),
            [today(), tomorrow()].map(|day| {
                (
                    day,
                    texts
                        .iter()
                        .map(|t| Slot::parse_on(day, t).expect("slot"))
                        .collect(),
                )
            }),
        )
    };
    for schedule in [
        slots(
            &bertiburg(),
            4,
            &["04:00 - 06:30", "12:00 - 14:30", "20:00 - 22:30"],
        ),
        slots(&bertiburg(), 0, &[]),
        slots(&kenilworth(), 2, &["10:00 - 12:30"]),
        slots(&kenilworth(), 0, &[]),
    ] {
        store.put_schedule(&schedule, now).await.expect("schedule");
    }
    let quiet = timelines(announced(0, &[]), announced(0, &[]));
    store
        .put_stage(&quiet, None, now, None)
        .await
        .expect("stage");
    let client = TelegramClient::with_base_url(
        BotToken::new("123456:test-token").expect("token"),
        &telegram.uri(),
        Duration::from_secs(5),
    )
    .expect("client");
    let config = NotifyConfig {
        pacing: PacingLimits {
            overall_gap: Duration::from_millis(1),
            chat_gap: Duration::from_millis(1),
            group_gap: Duration::from_millis(1),
            paid_rate: 0,
        },
        ..NotifyConfig::default()
    };
    let task = NotifyTask::new(store.clone(), Arc::new(client), clock.clone(), config);
    World {
        telegram,
        store,
        clock,
        task,
    }
}

/// Stores `next` over what is stored, as the stage task does, and returns what a workflow's stage
/// task would report.
async fn store_change(w: &World, next: &Timelines) -> StageOutcome {
    let stored = w
        .store
        .current_stage()
        .await
        .expect("read")
        .expect("stored");
    let at = w.clock.now();
    match w
        .store
        .put_stage(next, Some(&stored.timelines()), at, Some(stored.version))
        .await
        .expect("write")
    {
        StageWrite::Written(written) => StageOutcome {
            stage: written.stage,
            previous: Some(stored.stage),
            changed: true,
            updated_at: written.updated_at,
        },
        StageWrite::Conflict => panic!("conflict"),
    }
}

async fn announce(w: &World, outcome: StageOutcome) {
    let state = WorkflowState {
        stage: Some(outcome),
        ..WorkflowState::default()
    };
    w.task
        .for_workflow(&state, "run-announce")
        .await
        .expect("notify");
}

/// (chat, text) of every message Telegram received, in order.
async fn sent(telegram: &MockServer) -> Vec<(i64, String)> {
    let requests: Vec<Request> = telegram.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("JSON body");
            (
                body["chat_id"].as_i64().expect("chat id"),
                body["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_announced_stage_is_news_only_for_the_chats_whose_outages_it_moves() {
    let w = world(local(today(), 9, 0)).await;
    let change = store_change(&w, &timelines(stage_four_tomorrow(22), announced(0, &[]))).await;
    announce(&w, change).await;
    let messages = sent(&w.telegram).await;
    let told: Vec<i64> = messages.iter().map(|(c, _)| *c).collect();
    // Kenilworth follows Cape Town, whose stage did not move: chat 2 hears nothing.
    assert_eq!(told, vec![1, 3], "{messages:#?}");
    let text = &messages[0].1;
    assert!(
        text.contains("No loadshedding now. Stage 4 from Mon 06:00 to 22:00."),
        "{text}"
    );
    assert!(text.contains("Tomorrow, Mon 7 Dec"), "{text}");
    assert!(text.contains("06:00–06:30 Stage 4"), "{text}");
    assert!(text.contains("12:00–14:30 Stage 4"), "{text}");
    assert!(text.contains("20:00–22:00 Stage 4"), "{text}");
    // Chat 3 sees Cape Town's own stage for Kenilworth.
    assert!(
        messages[1]
            .1
            .contains("City of Cape Town: <b>No loadshedding now.</b>"),
        "{}",
        messages[1].1
    );
}

#[tokio::test]
async fn a_revision_that_moves_no_outage_and_a_change_on_time_send_nothing() {
    let w = world(local(today(), 9, 0)).await;
    let first = store_change(&w, &timelines(stage_four_tomorrow(22), announced(0, &[]))).await;
    announce(&w, first).await;
    let after_first = sent(&w.telegram).await.len();
    assert_eq!(after_first, 2);

    // Revised: stage 4 now ends at 23:00 instead of 22:00. Bertiburg's 20:00-22:30 slot is no
    // longer cut at 22:00: that moves an outage, so it is news.
    w.clock.set(local(today(), 11, 0));
    let moved = store_change(&w, &timelines(stage_four_tomorrow(23), announced(0, &[]))).await;
    announce(&w, moved).await;
    assert_eq!(sent(&w.telegram).await.len(), after_first + 2);

    // Revised again, the end from 23:00 to 23:30: the 20:00-22:30 slot ends before either.
    w.clock.set(local(today(), 12, 0));
    let end = announced(
        0,
        &[(local(tomorrow(), 6, 0), 4), (local(tomorrow(), 23, 30), 0)],
    );
    let unmoved = store_change(&w, &timelines(end, announced(0, &[]))).await;
    announce(&w, unmoved).await;
    assert_eq!(sent(&w.telegram).await.len(), after_first + 2);

    // Tomorrow at 06:02 the source says "Stage 4 since 06:00, no loadshedding from 23:30": as
    // announced.
    w.clock.set(local(tomorrow(), 6, 2));
    let on_time = store_change(
        &w,
        &timelines(
            announced(4, &[(local(tomorrow(), 23, 30), 0)]).since(Some(local(tomorrow(), 6, 0))),
            announced(0, &[]),
        ),
    )
    .await;
    announce(&w, on_time).await;
    assert_eq!(
        sent(&w.telegram).await.len(),
        after_first + 2,
        "an announced change that arrives on time raises no second alarm"
    );

    // Cancelled at 09:00: the rest of the day's outages are gone, which is news.
    w.clock.set(local(tomorrow(), 9, 0));
    let cancelled = store_change(&w, &timelines(announced(0, &[]), announced(0, &[]))).await;
    announce(&w, cancelled).await;
    let messages = sent(&w.telegram).await;
    assert_eq!(messages.len(), after_first + 4);
    assert!(
        messages
            .last()
            .is_some_and(|(_, t)| t.contains("No loadshedding now")),
        "{messages:#?}"
    );
}

#[tokio::test]
async fn cape_towns_own_stage_moves_only_cape_town_areas() {
    let w = world(local(today(), 9, 0)).await;
    let change = store_change(&w, &timelines(announced(0, &[]), announced(2, &[]))).await;
    announce(&w, change).await;
    let messages = sent(&w.telegram).await;
    // Chats are planned page by page, area by area: the order across chats is no promise.
    let mut told: Vec<i64> = messages.iter().map(|(c, _)| *c).collect();
    told.sort_unstable();
    assert_eq!(told, vec![2, 3], "{messages:#?}");
    let text = &messages[0].1;
    assert!(
        text.contains("City of Cape Town: <b>Stage 2 now, until further notice.</b>"),
        "{text}"
    );
    assert!(text.contains("10:00–12:30 Stage 2 (Cape Town)"), "{text}");
}

#[tokio::test]
async fn reminders_come_at_each_chats_lead_even_when_the_stage_rises_at_the_slot() {
    // Stage 4 only from 12:00 tomorrow: the 12:00 slot's reminders are due before the stage rises.
    let w = world(local(today(), 9, 0)).await;
    let rising = timelines(
        announced(0, &[(local(tomorrow(), 12, 0), 4)]),
        announced(0, &[]),
    );
    store_change(&w, &rising).await;
    let lead = |minutes: u16| ChatSettings {
        reminder_lead: ReminderLead::try_from(minutes).expect("lead"),
    };
    // Chat 1: an hour ahead; chat 3: reminders off; chat 4 (new, Bertiburg): the default.
    w.store
        .put_chat_settings(ChatId(1), &lead(60), w.clock.now())
        .await
        .expect("settings");
    w.store
        .put_chat_settings(ChatId(3), &lead(0), w.clock.now())
        .await
        .expect("settings");
    w.store
        .subscribe(ChatId(4), &bertiburg(), w.clock.now())
        .await
        .expect("subscribe");

    w.clock.set(local(tomorrow(), 11, 0));
    let outcome = w.task.reminders().await.expect("reminders");
    let messages = sent(&w.telegram).await;
    assert_eq!(outcome.sent, 1, "{messages:#?}");
    assert_eq!(messages[0].0, 1);
    assert!(
        messages[0]
            .1
            .starts_with("⏰ Loadshedding in 60 minutes in <b>Bertiburg</b>"),
        "{}",
        messages[0].1
    );
    assert!(messages[0].1.contains("(Stage 4)"), "{}", messages[0].1);

    w.clock.set(local(tomorrow(), 11, 46));
    w.task.reminders().await.expect("reminders");
    let messages = sent(&w.telegram).await;
    let told: Vec<i64> = messages.iter().map(|(c, _)| *c).collect();
    assert_eq!(told, vec![1, 4], "chat 3 chose no reminders: {messages:#?}");
    assert!(messages[1].1.contains("in 14 minutes"), "{}", messages[1].1);

    // Nothing twice, whoever runs again.
    w.clock.set(local(tomorrow(), 11, 55));
    let again = w.task.reminders().await.expect("reminders");
    assert_eq!(again.sent, 0);
}

#[tokio::test]
async fn chats_of_a_retired_eskomsepush_id_are_told_once_and_stop_following_it() {
    let w = world(local(today(), 9, 0)).await;
    let retired = Area::sepush(
        "eskde-14-milnerton",
        "Milnerton (14)",
        "Eskom Direct, City of Cape Town",
    );
    w.store
        .subscribe(ChatId(9), &retired, w.clock.now())
        .await
        .expect("subscribe");
    w.task.reminders().await.expect("reminders");
    let messages = sent(&w.telegram).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].0, 9);
    assert!(
        messages[0].1.contains("/subscribe Milnerton (14)"),
        "{}",
        messages[0].1
    );
    assert!(w.store.areas_of(ChatId(9)).await.expect("areas").is_empty());
    w.clock.set(local(today(), 9, 5));
    w.task.reminders().await.expect("reminders");
    assert_eq!(sent(&w.telegram).await.len(), 1);
}
