//! A stage announcement whose broadcast outlasts the next stage change: the runs that resume it
//! after the newer change is stored tell the same chats the first run planned for (those whose
//! forecast the older change moved), and the supersede rule retires it for the chats the newer
//! change moves. Against the in-memory store (a first run cut off by its deadline, then resumed) and
//! DynamoDB (moto's server: the first plan comes after the newer change, a slow run).
//!
//! The DynamoDB half needs `LOADSHED_TEST_AWS_ENDPOINT`:
//! `scripts/with-moto cargo test -p loadshed-core --test notify_resumed_after_newer`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod recorder_support;
// The store suite's helpers: this test uses only the stores.
#[allow(dead_code)]
mod store_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, Foresight, Stage, Timeline, Timelines};
use loadshed_core::notify::PacingLimits;
use loadshed_core::ports::{StageRefresh, StageWrite, Store};
use loadshed_core::tasks::stream::Change;
use loadshed_core::tasks::{NotifyConfig, NotifyOutcome, NotifyTask, StageOutcome, WorkflowState};
use serde_json::json;

use recorder_support::Recorder;

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn timelines(national: u8, cape_town: u8) -> Timelines {
    Timelines {
        national: Timeline::new(stage(national), vec![], Foresight::Announced),
        cape_town: Some(Timeline::new(
            stage(cape_town),
            vec![],
            Foresight::Announced,
        )),
    }
}

/// Follows the national stage.
fn eskom_area() -> Area {
    Area::eskom(81_001, "Nationalton", "Swartland", "Western Cape", 9, 0)
}

/// Follows the City of Cape Town's stage.
fn city_area() -> Area {
    Area::sepush(
        "za_wc_capetown_resumed_sea_point",
        "Sea Point",
        "City of Cape Town",
    )
}

/// Which group a chat is in: national only, the City only, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    National,
    City,
    Both,
}

fn group(chat: ChatId) -> Group {
    match chat.0.unsigned_abs() as i64 % 3 {
        0 => Group::National,
        1 => Group::City,
        _ => Group::Both,
    }
}

async fn write(
    store: &Arc<dyn Store>,
    written: &Timelines,
    replaced: Option<&Timelines>,
    at: DateTime<Utc>,
    expected: Option<u64>,
) -> DateTime<Utc> {
    match store
        .put_stage(written, replaced, at, expected)
        .await
        .expect("stage")
    {
        StageWrite::Written(stored) => stored.updated_at,
        other => panic!("{other:?}"),
    }
}

/// `per_group` chats in each [`Group`].
async fn resumed_after_a_newer_change(store: Arc<dyn Store>, per_group: i64, cut_off: bool) {
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 8, 0).expect("time"));
    for n in 1..=3 * per_group {
        let chat = ChatId(if n % 10 == 0 { -n } else { n });
        let areas = match group(chat) {
            Group::National => vec![eskom_area()],
            Group::City => vec![city_area()],
            Group::Both => vec![eskom_area(), city_area()],
        };
        for area in &areas {
            store
                .subscribe(chat, area, clock.now())
                .await
                .expect("subscribe");
        }
    }
    // Stage 2 everywhere; then the older change moves only the City (to 3); then the newer one only
    // the national stage (to 4).
    let (start, older, newer) = (timelines(2, 2), timelines(2, 3), timelines(4, 3));
    write(&store, &start, None, clock.now(), None).await;
    clock.advance(chrono::Duration::minutes(10));
    let older_at = write(&store, &older, Some(&start), clock.now(), Some(1)).await;
    let marker = StageRefresh {
        stage: stage(2),
        stage_updated_at: older_at,
        previous: Some(stage(2)),
        refreshed_at: clock.now(),
    };
    let telegram = Arc::new(Recorder::default());
    let config = NotifyConfig {
        pacing: PacingLimits {
            overall_gap: Duration::from_micros(100),
            chat_gap: Duration::from_millis(1),
            group_gap: Duration::from_millis(1),
            paid_rate: 0,
        },
        planning_page: 8,
        ..NotifyConfig::default()
    };
    let task = NotifyTask::new(store.clone(), telegram.clone(), clock.clone(), config);
    if cut_off {
        // The first run plans while the older change is current, and is cut off midway.
        let state = WorkflowState {
            stage: Some(StageOutcome {
                stage: stage(2),
                previous: Some(stage(2)),
                changed: true,
                updated_at: older_at,
            }),
            ..WorkflowState::default()
        };
        let payload = json!({"workflow": state, "execution_id": "resumed-1"});
        // The deadline less the broadcaster's 15 s margin leaves 100 ms of sends: about one
        // round of chats in flight, fewer than the older change moves.
        let answer = task
            .handle_within(payload, Some(Duration::from_millis(15_100)))
            .await
            .expect("the cut-off run");
        let outcome: NotifyOutcome = serde_json::from_value(answer).expect("outcome");
        assert!(outcome.remaining > 0, "{outcome:?}");
        assert!(outcome.sent > 0, "{outcome:?}");
    }
    let first_run: Vec<(ChatId, String)> = telegram.delivered.lock().expect("lock").clone();

    // The newer change is stored while the older announcement is still going out.
    clock.advance(chrono::Duration::minutes(30));
    write(&store, &newer, Some(&older), clock.now(), Some(2)).await;

    let mut superseded = 0;
    let mut runs = 0;
    loop {
        let outcome = task
            .on_change(Change::StageRefreshed(marker.clone()))
            .await
            .expect("run");
        superseded += outcome.superseded;
        runs += 1;
        if outcome.remaining == 0 {
            break;
        }
        assert!(runs < 5, "no progress: {outcome:?}");
    }

    let older_key = format!("stage:2@{}", older_at.to_rfc3339());
    let mut told: HashMap<ChatId, Vec<String>> = HashMap::new();
    for (chat, key) in telegram.delivered.lock().expect("lock").iter() {
        told.entry(*chat).or_default().push(key.clone());
    }
    let before_newer: Vec<ChatId> = first_run.iter().map(|(chat, _)| *chat).collect();
    let mut retired = 0;
    for n in 1..=3 * per_group {
        let chat = ChatId(if n % 10 == 0 { -n } else { n });
        let keys = told.get(&chat).cloned().unwrap_or_default();
        assert!(
            keys.iter().all(|k| k.starts_with(&older_key)),
            "chat {chat}: {keys:?}"
        );
        match group(chat) {
            // The older change did not move it: not told, by the first run or any resume.
            Group::National => assert!(keys.is_empty(), "chat {chat} told {keys:?}"),
            // Moved by the older change only: still true, told once.
            Group::City => assert_eq!(keys.len(), 1, "chat {chat} told {keys:?}"),
            // Moved by both: told once if the first run reached it, else retired for the newer one.
            Group::Both if before_newer.contains(&chat) => {
                assert_eq!(keys.len(), 1, "chat {chat} told {keys:?}")
            }
            Group::Both => {
                assert!(keys.is_empty(), "chat {chat} told {keys:?}");
                retired += 1;
            }
        }
    }
    assert!(
        retired > 0,
        "every chat was reached before the newer change"
    );
    // Runs count a retired announcement whenever they meet it, so each chat kept back at least once;
    // a chat the first run told is already delivered, never superseded: at most once a run per chat
    // kept back.
    assert!(superseded >= retired, "{superseded} < {retired}");
    assert!(
        superseded <= retired * runs,
        "{superseded} superseded for {retired} chats kept back in {runs} runs"
    );
}

#[tokio::test(start_paused = true)]
async fn memory_store_resumes_for_the_chats_the_older_change_moved() {
    resumed_after_a_newer_change(store_support::memory(), 300, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_plans_a_late_announcement_for_the_chats_its_change_moved() {
    // Real time against a server: no deadline cut (how far a run gets would depend on the
    // machine); the first plan comes after the newer change is stored.
    resumed_after_a_newer_change(store_support::dynamo_as_port().await, 8, false).await;
}
