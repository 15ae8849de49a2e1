//! A stage announcement planned page by page: more subscribers than a page, chats following one to
//! three areas, against the in-memory store and DynamoDB (moto's server): each chat is told once,
//! and a run cut off by its deadline is resumed by the next with nothing sent twice.
//!
//! The DynamoDB half needs `LOADSHED_TEST_AWS_ENDPOINT`:
//! `scripts/with-moto cargo test -p loadshed-core --test notify_paging`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod recorder_support;
// The store suite's helpers: this test uses only the stores.
#[allow(dead_code)]
mod store_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, Stage, Timelines};
use loadshed_core::notify::PacingLimits;
use loadshed_core::ports::{StageRefresh, Store};
use loadshed_core::tasks::stream::Change;
use loadshed_core::tasks::{NotifyConfig, NotifyOutcome, NotifyTask, StageOutcome, WorkflowState};
use serde_json::json;

use recorder_support::Recorder;

/// Chats and planning page: more than two pages in the busiest area.
struct Size {
    chats: i64,
    page: usize,
}

fn area(i: u64) -> Area {
    Area::eskom(
        70_000 + i,
        format!("Pagetown {i}"),
        "Simulated",
        "Gauteng",
        3,
        0,
    )
}

/// Chat n follows area 0 when even, area 1 when divisible by 3, area 2 otherwise or when
/// divisible by 7: one to three areas each. Groups (negative ids) among them.
async fn subscribed(store: &Arc<dyn Store>, clock: &ManualClock, chats: i64) {
    for n in 1..=chats {
        let chat = ChatId(if n % 10 == 0 { -n } else { n });
        let mut areas = Vec::new();
        if n % 2 == 0 {
            areas.push(area(0));
        }
        if n % 3 == 0 {
            areas.push(area(1));
        }
        if areas.is_empty() || n % 7 == 0 {
            areas.push(area(2));
        }
        for area in &areas {
            store
                .subscribe(chat, area, clock.now())
                .await
                .expect("subscribe");
        }
    }
}

async fn announce_to_everyone(store: Arc<dyn Store>, size: Size, cut_off: bool) {
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 8, 0).expect("time"));
    subscribed(&store, &clock, size.chats).await;
    let timelines = Timelines::national_only(Stage::new(4).expect("stage"));
    let written = store
        .put_stage(&timelines, None, clock.now(), None)
        .await
        .expect("stage");
    let updated_at = match written {
        loadshed_core::ports::StageWrite::Written(stored) => stored.updated_at,
        other => panic!("{other:?}"),
    };
    let marker = StageRefresh {
        stage: Stage::new(4).expect("stage"),
        stage_updated_at: updated_at,
        previous: Some(Stage::NONE),
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
        planning_page: size.page,
        ..NotifyConfig::default()
    };
    let task = NotifyTask::new(store.clone(), telegram.clone(), clock.clone(), config);

    let mut outcome = match cut_off {
        // A first run with too little time: cut off midway, it says what it left.
        true => {
            let state = WorkflowState {
                stage: Some(StageOutcome {
                    stage: Stage::new(4).expect("stage"),
                    previous: Some(Stage::NONE),
                    changed: true,
                    updated_at,
                }),
                ..WorkflowState::default()
            };
            let payload = json!({"workflow": state, "execution_id": "paging-1"});
            // The deadline less the broadcaster's 15 s margin leaves 300 ms of sends.
            let answer = task
                .handle_within(payload, Some(Duration::from_millis(15_300)))
                .await
                .expect("the cut-off run");
            let outcome: NotifyOutcome = serde_json::from_value(answer).expect("outcome");
            assert!(outcome.remaining > 0, "{outcome:?}");
            assert!(outcome.sent > 0, "{outcome:?}");
            outcome
        }
        false => NotifyOutcome {
            remaining: 1,
            ..NotifyOutcome::default()
        },
    };
    // The next runs (the stream's, with no deadline) resume from the ledger until nothing is left.
    let mut runs = 0;
    while outcome.remaining > 0 {
        outcome = task
            .on_change(Change::StageRefreshed(marker.clone()))
            .await
            .expect("run");
        runs += 1;
        assert!(runs < 5, "no progress: {outcome:?}");
    }
    let delivered = telegram.delivered.lock().expect("lock").clone();
    let mut per_chat: HashMap<ChatId, Vec<String>> = HashMap::new();
    for (chat, key) in delivered {
        per_chat.entry(chat).or_default().push(key);
    }
    assert_eq!(per_chat.len(), size.chats as usize, "every chat told");
    for (chat, keys) in &per_chat {
        assert_eq!(keys.len(), 1, "chat {chat} told {keys:?}");
        assert!(keys[0].starts_with("stage:4@"), "{keys:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn memory_store_plans_page_by_page_and_tells_each_chat_once() {
    let size = Size {
        chats: 700,
        page: 256,
    };
    announce_to_everyone(store_support::memory(), size, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_plans_page_by_page_and_tells_each_chat_once() {
    // Real time against a server: no deadline cut (how far a run gets would depend on the
    // machine), the whole announcement in one run.
    let size = Size { chats: 40, page: 6 };
    announce_to_everyone(store_support::dynamo_as_port().await, size, false).await;
}
