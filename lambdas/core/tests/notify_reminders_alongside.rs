//! A broadcast longer than the reminder period sends the reminders that fall due meanwhile, first:
//! on AWS the notify function's reserved concurrency of 1 throttles the scheduled reminder
//! invocation while the broadcast holds the function.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod recorder_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, Schedule, Slot, Stage, Timelines};
use loadshed_core::notify::PacingLimits;
use loadshed_core::ports::{ScheduleStore, StageStore, StageWrite, SubscriptionStore};
use loadshed_core::tasks::{NotifyConfig, NotifyOutcome, NotifyTask, StageOutcome, WorkflowState};
use serde_json::json;

use recorder_support::Recorder;

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

#[tokio::test(start_paused = true)]
async fn a_long_broadcast_sends_the_reminders_due_meanwhile_first() {
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 7, 50).expect("time"));
    let store = Arc::new(MemoryStore::new());
    let now = clock.now();
    let crowded = Area::eskom(1, "Crowdville", "Swartland", "Western Cape", 9, 0);
    let reminded = Area::eskom(2, "Soonton", "Swartland", "Western Cape", 9, 0);
    for chat in 1..=400 {
        store
            .subscribe(ChatId(chat), &crowded, now)
            .await
            .expect("subscribe");
    }
    store
        .subscribe(ChatId(1000), &reminded, now)
        .await
        .expect("subscribe");
    // Soonton is off at 08:00 at stage 4: within chat 1000's default 15-minute lead.
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let schedule = Schedule::from_days(
        reminded.id.clone(),
        stage(4),
        [(
            today,
            vec![Slot::parse_on(today, "08:00 - 10:30").expect("slot")],
        )],
    );
    store.put_schedule(&schedule, now).await.expect("schedule");
    let two = Timelines::national_only(stage(2));
    store
        .put_stage(&two, None, now, None)
        .await
        .expect("stage 2");
    let updated_at = match store
        .put_stage(
            &Timelines::national_only(stage(4)),
            Some(&two),
            now,
            Some(1),
        )
        .await
        .expect("stage 4")
    {
        StageWrite::Written(stored) => stored.updated_at,
        other => panic!("{other:?}"),
    };
    let telegram = Arc::new(Recorder::default());
    // One message a second: the announcement to 401 chats takes almost seven minutes.
    let mut config = NotifyConfig {
        pacing: PacingLimits {
            overall_gap: Duration::from_secs(1),
            chat_gap: Duration::from_millis(1),
            group_gap: Duration::from_millis(1),
            paid_rate: 0,
        },
        ..NotifyConfig::default()
    };
    // Four chats at once: the news lines up four seconds of sends ahead, as 128 chats line up
    // 4.4 s at Telegram's free rate.
    config.broadcast.concurrency = 4;
    let task = NotifyTask::new(store.clone(), telegram.clone(), clock.clone(), config);
    let state = WorkflowState {
        stage: Some(StageOutcome {
            stage: stage(4),
            previous: Some(stage(2)),
            changed: true,
            updated_at,
        }),
        ..WorkflowState::default()
    };
    let payload = json!({"workflow": state, "execution_id": "long-broadcast"});
    let started = tokio::time::Instant::now();
    let answer = task
        .handle_within(payload, Some(Duration::from_secs(900)))
        .await
        .expect("the broadcast");
    let outcome: NotifyOutcome = serde_json::from_value(answer).expect("outcome");
    assert_eq!(outcome.remaining, 0, "{outcome:?}");
    assert!(
        started.elapsed() > Duration::from_secs(300),
        "longer than a period"
    );

    let delivered = telegram.delivered.lock().expect("lock").clone();
    let announcements = delivered
        .iter()
        .filter(|(_, key)| key.starts_with("stage:4@"))
        .count();
    assert_eq!(announcements, 401, "every chat told of stage 4 once");
    let reminder = delivered
        .iter()
        .position(|(chat, key)| *chat == ChatId(1000) && key.starts_with("reminder:eskom:2:"))
        .expect("the reminder went out during the broadcast");
    assert_eq!(
        delivered
            .iter()
            .filter(|(_, key)| key.starts_with("reminder:"))
            .count(),
        1,
        "one reminder, once: {delivered:?}"
    );
    // After one period (about 300 of the announcements) and the few lined up before it, well
    // before the broadcast's end.
    assert!(
        (295..310).contains(&reminder),
        "reminder sent as message {reminder} of {}",
        delivered.len()
    );
}
