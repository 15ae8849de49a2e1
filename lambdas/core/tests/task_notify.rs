//! The notify task end to end within the crate: the in-memory store, the real Telegram client
//! against a wiremock Bot API, and a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod task_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::telegram::{BotToken, TelegramClient};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{ChatId, ChatSettings, ReminderLead, Schedule, Slot};
use loadshed_core::notify::PacingLimits;
use loadshed_core::ports::{ChatSettingsStore, ScheduleStore, StageStore, SubscriptionStore};
use loadshed_core::tasks::{
    NotifyConfig, NotifyOutcome, NotifyTask, ScheduleOutcome, StageOutcome, WorkflowError,
    WorkflowState,
};
use serde_json::{Value, json};
use task_support::{bertiburg, date, marker_image, milnerton, stage, stage_image, stream_record};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

struct World {
    telegram: MockServer,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    task: NotifyTask,
}

fn ok_response() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ok": true,
        "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    }))
}

/// Chat 1 follows Bertiburg, chat 2 Milnerton, chat 3 both. Stage 2 is stored with schedules.
async fn world() -> World {
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .respond_with(ok_response())
        .mount(&telegram)
        .await;
    let clock = Arc::new(ManualClock::at_local(2026, 11, 28, 7, 50).expect("valid time"));
    let store = Arc::new(MemoryStore::new());
    let now = clock.now();
    store
        .subscribe(ChatId(1), &bertiburg(), now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(2), &milnerton(), now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(3), &bertiburg(), now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(3), &milnerton(), now)
        .await
        .expect("subscribe");
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(2)),
            None,
            now,
            None,
        )
        .await
        .expect("stage");
    for (area, text) in [
        (bertiburg(), "08:00 - 10:30"),
        (milnerton(), "16:00 - 18:30"),
    ] {
        let today = date(2026, 11, 28);
        let schedule = Schedule::from_days(
            area.id.clone(),
            stage(2),
            [
                (today, vec![Slot::parse_on(today, text).expect("slot")]),
                (date(2026, 11, 29), vec![]),
            ],
        );
        store.put_schedule(&schedule, now).await.expect("schedule");
    }
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

fn chats(messages: &[(i64, String)]) -> Vec<i64> {
    let mut chats: Vec<i64> = messages.iter().map(|(c, _)| *c).collect();
    chats.sort_unstable();
    chats
}

fn stage_changed(at: DateTime<Utc>) -> StageOutcome {
    StageOutcome {
        stage: stage(2),
        previous: Some(stage(0)),
        changed: true,
        updated_at: at,
    }
}

/// A workflow run whose stage task saw no change (stage 2 stays) and whose schedule task reports
/// `schedule`.
fn schedule_only(at: DateTime<Utc>, schedule: ScheduleOutcome) -> WorkflowState {
    WorkflowState {
        stage: Some(StageOutcome {
            changed: false,
            ..stage_changed(at)
        }),
        schedule: Some(ScheduleOutcome {
            stage: Some(stage(2)),
            ..schedule
        }),
        ..WorkflowState::default()
    }
}

#[tokio::test]
async fn a_stage_change_reaches_every_subscriber_once_with_their_areas() {
    let w = world().await;
    let state = WorkflowState {
        stage: Some(stage_changed(w.clock.now())),
        ..WorkflowState::default()
    };
    let outcome = w.task.for_workflow(&state, "run-1").await.expect("notify");
    assert_eq!((outcome.planned, outcome.sent), (3, 3));
    let messages = sent(&w.telegram).await;
    assert_eq!(chats(&messages), vec![1, 2, 3]);
    let to_three = &messages.iter().find(|(c, _)| *c == 3).expect("chat 3").1;
    assert!(
        to_three.contains("Stage 2")
            && to_three.contains("Bertiburg")
            && to_three.contains("Milnerton")
    );
    assert!(
        to_three.contains("08:00") && to_three.contains("16:00"),
        "{to_three}"
    );

    // A Step Functions retry, or another execution carrying the same change, sends nothing again.
    let again = w
        .task
        .for_workflow(&state, "run-2")
        .await
        .expect("notify again");
    assert_eq!((again.sent, again.already_delivered), (0, 3));
    assert_eq!(sent(&w.telegram).await.len(), 3);
}

/// The stored stage's change as the orchestration reports it, and the marker's stream record.
async fn stored_change(w: &World) -> (WorkflowState, Value) {
    let stored = w
        .store
        .current_stage()
        .await
        .expect("read")
        .expect("stored");
    let state = WorkflowState {
        stage: Some(stage_changed(stored.updated_at)),
        ..WorkflowState::default()
    };
    let at = stored.updated_at.to_rfc3339();
    let marker = stream_record("1", "INSERT", marker_image(2, &at, &at), json!({}));
    (state, marker)
}

#[tokio::test]
async fn a_stream_record_of_the_same_change_is_not_announced_twice() {
    let w = world().await;
    let (state, marker) = stored_change(&w).await;
    w.task
        .for_workflow(&state, "run-1")
        .await
        .expect("orchestration");
    let response = w
        .task
        .handle(json!({"Records": [marker]}))
        .await
        .expect("choreography");
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(
        sent(&w.telegram).await.len(),
        3,
        "both modes, one message per chat"
    );
}

#[tokio::test]
async fn the_choreography_announces_a_stage_change_when_its_schedules_are_stored() {
    let w = world().await;
    let (_, marker) = stored_change(&w).await;
    // The stage item itself announces nothing: its schedules may not be fetched yet.
    let mut image = stage_image(2, 1);
    image["updated_at"] = json!({"S": w.clock.now().to_rfc3339()});
    let stage_record = stream_record("0", "MODIFY", image, stage_image(0, 0));
    w.task
        .handle(json!({"Records": [stage_record]}))
        .await
        .expect("stage record");
    assert!(sent(&w.telegram).await.is_empty());
    w.task
        .handle(json!({"Records": [marker]}))
        .await
        .expect("marker");
    let messages = sent(&w.telegram).await;
    assert_eq!(chats(&messages), vec![1, 2, 3]);
    assert!(messages.iter().all(|(_, text)| text.contains("Stage 2")));
}

#[tokio::test]
async fn both_modes_at_once_tell_each_chat_once() {
    let w = world().await;
    let (state, marker) = stored_change(&w).await;
    let batch = json!({"Records": [marker]});
    let (workflow, stream) =
        tokio::join!(w.task.for_workflow(&state, "run-1"), w.task.handle(batch));
    let workflow = workflow.expect("orchestration");
    stream.expect("choreography");
    assert_eq!(sent(&w.telegram).await.len(), 3);
    assert_eq!(
        workflow.sent + workflow.already_delivered + workflow.held_elsewhere,
        3
    );
}

/// A schedule record of Milnerton at stage 2 (one slot starting at `slot`), written at
/// `written_at`, with its image encoded as the store encodes a schedule.
fn milnerton_schedule_record(seq: &str, written_at: &str, slot: &str) -> Value {
    let today = date(2026, 11, 28);
    let schedule = Schedule::from_days(
        milnerton().id,
        stage(2),
        [(today, vec![Slot::parse_on(today, slot).expect("slot")])],
    );
    let item: serde_dynamo::Item = serde_dynamo::to_item(&schedule).expect("encode");
    let mut image = serde_json::to_value(&item).expect("image JSON");
    image["PK"] = json!({"S": "AREA#za_wc_milnerton_14"});
    image["SK"] = json!({"S": "SCHEDULE#2"});
    image["entity"] = json!({"S": "schedule"});
    image["updated_at"] = json!({"S": written_at});
    stream_record(seq, "MODIFY", image, json!({}))
}

/// When the stored stage changed.
async fn changed_at(w: &World) -> DateTime<Utc> {
    w.store
        .current_stage()
        .await
        .expect("read")
        .expect("stored")
        .updated_at
}

/// The marker of the stage change at `changed_at`, its refresh done at `refreshed_at`.
async fn mark_refreshed(w: &World, changed_at: DateTime<Utc>, refreshed_at: DateTime<Utc>) {
    w.store
        .put_stage_refresh(&loadshed_core::ports::StageRefresh {
            stage: stage(2),
            stage_updated_at: changed_at,
            previous: None,
            refreshed_at,
        })
        .await
        .expect("marker");
}

#[tokio::test]
async fn a_schedule_written_by_the_stage_changes_refresh_is_left_to_the_announcement() {
    let w = world().await;
    let changed_at = changed_at(&w).await;
    let at = |minutes: i64| (changed_at + chrono::Duration::minutes(minutes)).to_rfc3339();
    // The refresh is still going (no marker yet): the announcement to come covers it.
    let during = milnerton_schedule_record("5", &at(1), "16:00 - 18:30");
    let response = w
        .task
        .handle(json!({"Records": [during.clone()]}))
        .await
        .expect("during the refresh");
    assert_eq!(response["batchItemFailures"], json!([]));
    assert!(sent(&w.telegram).await.is_empty());
    mark_refreshed(&w, changed_at, changed_at + chrono::Duration::minutes(2)).await;
    // Written before the marker: still the announcement's.
    w.task
        .handle(json!({"Records": [during]}))
        .await
        .expect("redelivered");
    assert!(sent(&w.telegram).await.is_empty());
    // Written after it (an area fetched again later): news of its own.
    let later = milnerton_schedule_record("6", &at(30), "17:00 - 19:30");
    w.task
        .handle(json!({"Records": [later]}))
        .await
        .expect("later change");
    assert_eq!(chats(&sent(&w.telegram).await), vec![2, 3]);
}

/// A `/refresh` whose stage task saw no change because the poller had just stored it: the run's
/// schedule task wrote Milnerton at `written_at`, inside or after the change's refresh.
fn refresh_after_the_poller(w: &World, written_at: DateTime<Utc>) -> WorkflowState {
    schedule_only(
        w.clock.now(),
        ScheduleOutcome {
            changed: vec![milnerton().id],
            written_at: [(milnerton().id, written_at)].into_iter().collect(),
            ..ScheduleOutcome::default()
        },
    )
}

#[tokio::test]
async fn a_workflow_leaves_a_stage_changes_refresh_to_its_announcement_as_the_stream_does() {
    let w = world().await;
    let changed_at = changed_at(&w).await;
    let minutes = |m: i64| changed_at + chrono::Duration::minutes(m);
    // No marker yet: the change's refresh is going and its announcement will show Milnerton.
    let outcome = w
        .task
        .for_workflow(&refresh_after_the_poller(&w, minutes(1)), "tg-1")
        .await
        .expect("during the refresh");
    assert_eq!(outcome.sent, 0);
    mark_refreshed(&w, changed_at, minutes(2)).await;
    let outcome = w
        .task
        .for_workflow(&refresh_after_the_poller(&w, minutes(1)), "tg-2")
        .await
        .expect("written before the marker");
    assert_eq!(outcome.sent, 0);
    assert!(sent(&w.telegram).await.is_empty());
    // Written after the marker: a change of its own, to Milnerton's subscribers.
    let outcome = w
        .task
        .for_workflow(&refresh_after_the_poller(&w, minutes(5)), "tg-3")
        .await
        .expect("written after the marker");
    assert_eq!(outcome.sent, 2);
    assert_eq!(chats(&sent(&w.telegram).await), vec![2, 3]);
}

#[tokio::test]
async fn a_workflow_tells_no_schedule_of_a_stage_that_moved_on() {
    let w = world().await;
    w.clock.advance(chrono::Duration::minutes(90));
    let state = refresh_after_the_poller(&w, w.clock.now());
    // The poller stored stage 4 while the run fetched stage 2's slots.
    let stored = w
        .store
        .current_stage()
        .await
        .expect("read")
        .expect("stored");
    w.store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(4)),
            None,
            w.clock.now(),
            Some(stored.version),
        )
        .await
        .expect("newer stage");
    assert_eq!(
        w.store
            .current_stage()
            .await
            .expect("read")
            .map(|s| s.stage),
        Some(stage(4))
    );
    let outcome = w.task.for_workflow(&state, "tg-1").await.expect("notify");
    assert_eq!(outcome.sent, 0);
    assert!(sent(&w.telegram).await.is_empty());
}

#[tokio::test]
async fn without_a_marker_an_old_stage_change_no_longer_hides_schedule_changes() {
    // A table from before markers, or a change whose refresh never finished: an hour on, a
    // schedule change is news again, in both modes.
    let w = world().await;
    w.clock.advance(chrono::Duration::minutes(61));
    let now = w.clock.now();
    let record = milnerton_schedule_record("9", &now.to_rfc3339(), "16:00 - 18:30");
    let response = w
        .task
        .handle(json!({"Records": [record]}))
        .await
        .expect("stream");
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(chats(&sent(&w.telegram).await), vec![2, 3]);
    // The workflow that stored the same write agrees: the same event, already told.
    let outcome = w
        .task
        .for_workflow(&refresh_after_the_poller(&w, now), "tg-1")
        .await
        .expect("workflow");
    assert_eq!((outcome.sent, outcome.already_delivered), (0, 2));
}

#[tokio::test]
async fn a_stream_run_out_of_time_fails_its_record_and_the_redelivery_finishes() {
    let w = world().await;
    let (_, marker) = stored_change(&w).await;
    let batch = json!({"Records": [marker]});
    // Less time left than the margin: no send may start.
    let response = w
        .task
        .handle_within(batch.clone(), Some(Duration::from_secs(1)))
        .await
        .expect("stream");
    assert_eq!(response["batchItemFailures"][0]["itemIdentifier"], "1");
    assert!(sent(&w.telegram).await.is_empty());
    let response = w.task.handle(batch).await.expect("redelivery");
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(chats(&sent(&w.telegram).await), vec![1, 2, 3]);
}

#[tokio::test]
async fn a_schedule_change_goes_only_to_that_areas_subscribers() {
    let w = world().await;
    let state = schedule_only(
        w.clock.now(),
        ScheduleOutcome {
            changed: vec![milnerton().id],
            unchanged: vec![bertiburg().id],
            ..ScheduleOutcome::default()
        },
    );
    let outcome = w.task.for_workflow(&state, "run-1").await.expect("notify");
    assert_eq!(outcome.sent, 2);
    let messages = sent(&w.telegram).await;
    assert_eq!(chats(&messages), vec![2, 3]);
    assert!(
        messages
            .iter()
            .all(|(_, text)| text.contains("New times") && text.contains("Milnerton"))
    );
}

#[tokio::test]
async fn nothing_changed_sends_nothing_unless_a_chat_asked_or_force_is_set() {
    let w = world().await;
    let quiet = schedule_only(
        w.clock.now(),
        ScheduleOutcome {
            unchanged: vec![bertiburg().id, milnerton().id],
            ..ScheduleOutcome::default()
        },
    );
    let outcome = w
        .task
        .for_workflow(&quiet, "console-1")
        .await
        .expect("console {}");
    assert_eq!(outcome, NotifyOutcome::default());
    assert!(sent(&w.telegram).await.is_empty());

    let asked = WorkflowState {
        chat_id: Some(ChatId(3)),
        ..quiet.clone()
    };
    w.task
        .for_workflow(&asked, "tg-77")
        .await
        .expect("refresh from chat 3");
    let messages = sent(&w.telegram).await;
    assert_eq!(chats(&messages), vec![3]);
    assert!(messages[0].1.contains("Bertiburg") && messages[0].1.contains("Milnerton"));

    let forced = WorkflowState {
        force: true,
        ..quiet
    };
    let outcome = w
        .task
        .for_workflow(&forced, "console-2")
        .await
        .expect("force");
    assert_eq!(outcome.sent, 3);
    assert_eq!(chats(&sent(&w.telegram).await), vec![1, 2, 3, 3]);

    // Forcing again with nothing changed tells nobody anything twice.
    let again = w
        .task
        .for_workflow(&forced, "console-3")
        .await
        .expect("force again");
    assert_eq!((again.sent, again.already_delivered), (0, 3));
}

#[tokio::test]
async fn a_failed_run_tells_the_requesting_chat_in_plain_words() {
    let w = world().await;
    let failed = WorkflowState {
        chat_id: Some(ChatId(2)),
        error: Some(WorkflowError {
            error: "UpstreamQuotaExceeded".into(),
            cause: Some("EskomSePush quota exceeded: Quota Exceeded".into()),
        }),
        ..WorkflowState::default()
    };
    w.task.for_workflow(&failed, "tg-9").await.expect("report");
    let messages = sent(&w.telegram).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, 2);
    assert!(
        messages[0].1.contains("used up today's allowance"),
        "{}",
        messages[0].1
    );

    let from_console = WorkflowState {
        chat_id: None,
        ..failed
    };
    let outcome = w
        .task
        .for_workflow(&from_console, "console-3")
        .await
        .expect("report");
    assert_eq!(outcome.planned, 0);
}

#[tokio::test]
async fn reminders_go_out_once_within_the_lead_time() {
    let w = world().await;
    // 07:50: Bertiburg's 08:00 slot is 10 minutes away; Milnerton's 16:00 slot is hours away.
    let outcome: NotifyOutcome = serde_json::from_value(
        w.task
            .handle(json!({"trigger": "schedule"}))
            .await
            .expect("reminders"),
    )
    .expect("outcome");
    assert_eq!(outcome.sent, 2);
    let messages = sent(&w.telegram).await;
    assert_eq!(chats(&messages), vec![1, 3]);
    assert!(
        messages
            .iter()
            .all(|(_, t)| t.contains("10 minutes") && t.contains("Bertiburg"))
    );

    w.clock.advance(chrono::Duration::minutes(5));
    let again = w.task.reminders().await.expect("reminders again");
    assert_eq!((again.sent, again.already_delivered), (0, 2));

    w.clock.advance(chrono::Duration::hours(8));
    let afternoon = w.task.reminders().await.expect("afternoon reminders");
    assert_eq!(
        afternoon.sent, 2,
        "Milnerton's 16:00 slot for chats 2 and 3"
    );
}

#[tokio::test]
async fn a_blocked_chat_loses_its_subscriptions() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .and(wiremock::matchers::body_partial_json(json!({"chat_id": 1})))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"
        })))
        .with_priority(1)
        .mount(&w.telegram)
        .await;
    let state = WorkflowState {
        stage: Some(stage_changed(w.clock.now())),
        ..WorkflowState::default()
    };
    let outcome = w.task.for_workflow(&state, "run-1").await.expect("notify");
    assert_eq!(outcome.removed_chats, vec![ChatId(1)]);
    assert!(w.store.areas_of(ChatId(1)).await.expect("read").is_empty());
    assert_eq!(
        w.store.subscribers_of(&bertiburg().id).await.expect("read"),
        vec![ChatId(3)]
    );
}

#[tokio::test]
async fn a_reminder_crosses_midnight_into_the_new_year() {
    let w = world().await;
    w.clock.set(
        ManualClock::at_local(2026, 12, 31, 23, 50)
            .expect("valid time")
            .now(),
    );
    let new_year = date(2027, 1, 1);
    let schedule = Schedule::from_days(
        bertiburg().id,
        stage(2),
        [(
            new_year,
            vec![Slot::parse_on(new_year, "00:00 - 02:30").expect("slot")],
        )],
    );
    w.store
        .put_schedule(&schedule, w.clock.now())
        .await
        .expect("schedule");
    let outcome = w.task.reminders().await.expect("reminders");
    assert_eq!(outcome.sent, 2, "chats 1 and 3 follow Bertiburg");
    let messages = sent(&w.telegram).await;
    assert!(
        messages
            .iter()
            .all(|(_, t)| t.contains("10 minutes") && t.contains("00:00")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn reminders_go_soonest_outage_first() {
    let w = world().await;
    let now = w.clock.now();
    // Everyone is reminded an hour ahead; Milnerton's outage comes before Bertiburg's, though
    // Bertiburg is planned first (areas are read in id order).
    for chat in [1, 2, 3] {
        w.store
            .put_chat_settings(
                ChatId(chat),
                &ChatSettings {
                    reminder_lead: ReminderLead::try_from(60).expect("lead"),
                },
                now,
            )
            .await
            .expect("settings");
    }
    let today = date(2026, 11, 28);
    for (area, text) in [
        (bertiburg(), "08:30 - 11:00"),
        (milnerton(), "08:00 - 10:30"),
    ] {
        let schedule = Schedule::from_days(
            area.id.clone(),
            stage(2),
            [(today, vec![Slot::parse_on(today, text).expect("slot")])],
        );
        w.store
            .put_schedule(&schedule, now)
            .await
            .expect("schedule");
    }
    // One chat at a time, so the order of the sends is the order of the batch.
    let client = TelegramClient::with_base_url(
        BotToken::new("123456:test-token").expect("token"),
        &w.telegram.uri(),
        Duration::from_secs(5),
    )
    .expect("client");
    let mut config = NotifyConfig {
        pacing: PacingLimits {
            overall_gap: Duration::from_millis(1),
            chat_gap: Duration::from_millis(1),
            group_gap: Duration::from_millis(1),
            paid_rate: 0,
        },
        ..NotifyConfig::default()
    };
    config.broadcast.concurrency = 1;
    let task = NotifyTask::new(w.store.clone(), Arc::new(client), w.clock.clone(), config);
    let outcome = task.reminders().await.expect("reminders");
    assert_eq!(
        outcome.sent, 4,
        "chats 1 and 3 for Bertiburg, 2 and 3 for Milnerton"
    );
    let starts: Vec<&str> = sent(&w.telegram)
        .await
        .iter()
        .map(|(_, text)| {
            if text.contains("08:00") {
                "08:00"
            } else {
                "08:30"
            }
        })
        .collect();
    assert_eq!(starts.first(), Some(&"08:00"), "{starts:?}");
    assert!(starts.is_sorted(), "soonest outage first: {starts:?}");
}

// ---- Area channels ------------------------------------------------------------------------------

const CHANNEL: i64 = -1001987654321;

/// Links a channel to Bertiburg as `/channel` does: the channel subscribes, then the link is kept.
async fn link_channel(w: &World) {
    let now = w.clock.now();
    w.store
        .subscribe(ChatId(CHANNEL), &bertiburg(), now)
        .await
        .expect("subscribe");
    let link = loadshed_core::domain::ChannelLink::new(
        ChatId(CHANNEL),
        bertiburg().id,
        "Bertiburg power",
        Some("https://t.me/bertiburg_power".into()),
        77,
    );
    loadshed_core::ports::ChannelStore::link_channel(w.store.as_ref(), &link, now)
        .await
        .expect("link");
}

fn to_channel(messages: &[(i64, String)]) -> Vec<String> {
    messages
        .iter()
        .filter(|(chat, _)| *chat == CHANNEL)
        .map(|(_, text)| text.clone())
        .collect()
}

#[tokio::test]
async fn a_linked_channel_gets_each_event_once_even_when_runs_overlap() {
    let w = world().await;
    link_channel(&w).await;

    // The stage change, announced by both modes at once.
    let (state, marker) = stored_change(&w).await;
    let (workflow, stream) = tokio::join!(
        w.task.for_workflow(&state, "run-1"),
        w.task.handle(json!({"Records": [marker]}))
    );
    workflow.expect("orchestration");
    stream.expect("choreography");
    let posts = to_channel(&sent(&w.telegram).await);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].contains("Stage 2") && posts[0].contains("Bertiburg"));

    // A schedule change of its area, told by two overlapping executions.
    let changed = schedule_only(
        w.clock.now(),
        ScheduleOutcome {
            changed: vec![bertiburg().id],
            unchanged: vec![milnerton().id],
            ..ScheduleOutcome::default()
        },
    );
    let (first, second) = tokio::join!(
        w.task.for_workflow(&changed, "run-2"),
        w.task.for_workflow(&changed, "run-3")
    );
    first.expect("first run");
    second.expect("second run");
    let posts = to_channel(&sent(&w.telegram).await);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[1].contains("New times"), "{}", posts[1]);

    // Its reminder, at the default lead (the bot takes no /settings in a channel), from two
    // overlapping reminder runs.
    let (first, second) = tokio::join!(w.task.reminders(), w.task.reminders());
    first.expect("reminders");
    second.expect("reminders");
    let messages = sent(&w.telegram).await;
    let posts = to_channel(&messages);
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert!(posts[2].contains("10 minutes"), "{}", posts[2]);
    // The personal subscriptions are told as before, each once.
    for chat in [1, 3] {
        assert_eq!(
            messages.iter().filter(|(c, _)| *c == chat).count(),
            3,
            "chat {chat}: {messages:?}"
        );
    }
}

#[tokio::test]
async fn a_channel_that_removed_the_bot_is_unlinked() {
    let w = world().await;
    link_channel(&w).await;
    Mock::given(method("POST"))
        .and(path_regex("/bot[^/]+/sendMessage"))
        .and(wiremock::matchers::body_partial_json(
            json!({"chat_id": CHANNEL}),
        ))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403,
            "description": "Forbidden: bot is not a member of the channel chat"
        })))
        .with_priority(1)
        .mount(&w.telegram)
        .await;
    let state = WorkflowState {
        stage: Some(stage_changed(w.clock.now())),
        ..WorkflowState::default()
    };
    let outcome = w.task.for_workflow(&state, "run-1").await.expect("notify");
    assert_eq!(outcome.removed_chats, vec![ChatId(CHANNEL)]);
    assert!(
        loadshed_core::ports::ChannelStore::channels_of(w.store.as_ref(), &bertiburg().id)
            .await
            .expect("links")
            .is_empty()
    );
    assert_eq!(
        w.store.subscribers_of(&bertiburg().id).await.expect("read"),
        vec![ChatId(1), ChatId(3)]
    );
}
