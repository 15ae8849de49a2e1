//! The schedule task against scripted upstream schedules and the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod task_support;

use std::sync::Arc;

use aws_lambda_events::streams::DynamoDbEventResponse;
use chrono::NaiveDate;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{AreaId, ChatId, Stage};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::{ScheduleStore, StageStore, StageWrite, SubscriptionStore};
use loadshed_core::tasks::{ScheduleOutcome, ScheduleTask, StageOutcome, WorkflowState};
use serde_json::json;
use task_support::{
    ScriptedSchedules, bertiburg, date, milnerton, stage, stage_image, stream_record,
};

fn today() -> NaiveDate {
    date(2026, 11, 28)
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time"))
}

async fn store_with_subscribers() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    let now = clock().now();
    store
        .subscribe(ChatId(1), &bertiburg(), now)
        .await
        .expect("subscribe");
    store
        .subscribe(ChatId(2), &milnerton(), now)
        .await
        .expect("subscribe");
    store
}

fn two_days() -> Vec<(NaiveDate, Vec<&'static str>)> {
    vec![
        (today(), vec!["08:00 - 10:30"]),
        (date(2026, 11, 29), vec!["16:00 - 18:30"]),
    ]
}

fn workflow(stage_n: u8) -> WorkflowState {
    WorkflowState {
        stage: Some(StageOutcome {
            stage: stage(stage_n),
            previous: None,
            changed: true,
            updated_at: clock().now(),
        }),
        ..WorkflowState::default()
    }
}

#[tokio::test]
async fn one_area_failing_does_not_lose_the_others() {
    let store = store_with_subscribers().await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .failing(&milnerton(), || UpstreamError::QuotaExceeded {
                service: "EskomSePush",
                detail: "Quota Exceeded".into(),
            }),
    );
    let task = ScheduleTask::new(source, store.clone(), clock());
    let outcome = task
        .for_workflow(&workflow(2))
        .await
        .expect("partial success is success");
    assert_eq!(outcome.changed, vec![bertiburg().id]);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].area, milnerton().id);
    assert_eq!(outcome.failed[0].error, ErrorName::UpstreamQuotaExceeded);
    let stored = store
        .schedule(&bertiburg().id, stage(2))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.slots().len(), 2);
}

#[tokio::test]
async fn an_unchanged_schedule_is_reported_unchanged() {
    let store = store_with_subscribers().await;
    store
        .unsubscribe(ChatId(2), &milnerton().id)
        .await
        .expect("unsubscribe");
    let source = Arc::new(ScriptedSchedules::new().with(&bertiburg(), two_days()));
    let task = ScheduleTask::new(source.clone(), store, clock());
    assert_eq!(
        task.for_workflow(&workflow(3))
            .await
            .expect("first")
            .changed
            .len(),
        1
    );
    let again = task.for_workflow(&workflow(3)).await.expect("second");
    assert!(again.changed.is_empty());
    assert_eq!(again.unchanged, vec![bertiburg().id]);
    source.set(&bertiburg(), vec![(today(), vec!["10:00 - 12:30"])]);
    let moved = task.for_workflow(&workflow(3)).await.expect("third");
    assert_eq!(moved.changed, vec![bertiburg().id]);
}

#[tokio::test]
async fn stage_zero_asks_upstream_nothing_and_records_no_loadshedding() {
    let store = store_with_subscribers().await;
    let source = Arc::new(ScriptedSchedules::new());
    let task = ScheduleTask::new(source.clone(), store.clone(), clock());
    let outcome = task.for_workflow(&workflow(0)).await.expect("stage 0");
    assert_eq!(source.calls(), 0);
    assert_eq!(outcome.changed.len(), 2);
    let stored = store
        .schedule(&bertiburg().id, Stage::NONE)
        .await
        .expect("read")
        .expect("stored");
    let day = stored.day(today()).expect("today is covered");
    assert!(day.is_free());
    assert!(
        stored
            .day(date(2026, 11, 29))
            .expect("tomorrow is covered")
            .is_free()
    );
}

#[tokio::test]
async fn every_area_failing_fails_the_task_with_the_upstream_name() {
    let store = store_with_subscribers().await;
    let unavailable = || UpstreamError::Unavailable {
        service: "Eskom",
        detail: "503".into(),
    };
    let source = Arc::new(
        ScriptedSchedules::new()
            .failing(&bertiburg(), unavailable)
            .failing(&milnerton(), unavailable),
    );
    let task = ScheduleTask::new(source, store, clock());
    let error = task
        .for_workflow(&workflow(2))
        .await
        .expect_err("nothing worked");
    assert_eq!(error.error_name(), ErrorName::UpstreamUnavailable);
    assert!(error.to_string().contains("all 2 areas failed"), "{error}");
}

#[tokio::test]
async fn named_areas_and_a_chat_narrow_the_refresh() {
    let store = store_with_subscribers().await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(source, store, clock());
    let unchanged_stage = || {
        let mut state = workflow(2);
        if let Some(stage) = state.stage.as_mut() {
            stage.changed = false;
        }
        state
    };
    let mut by_chat = unchanged_stage();
    by_chat.chat_id = Some(ChatId(2));
    let outcome = task.for_workflow(&by_chat).await.expect("chat");
    assert_eq!(outcome.changed, vec![milnerton().id]);
    let mut named = unchanged_stage();
    named.areas = vec![bertiburg().id, AreaId::new("eskom:999")];
    let outcome = task.for_workflow(&named).await.expect("named");
    assert_eq!(outcome.unchanged, Vec::<AreaId>::new());
    assert_eq!(outcome.changed, vec![bertiburg().id]);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].error, ErrorName::AreaNotFound);
}

#[tokio::test]
async fn a_stage_change_refreshes_every_area_whoever_asked_and_marks_the_refresh() {
    let store = store_with_subscribers().await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let stored = store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(2)),
            None,
            clock().now(),
            None,
        )
        .await
        .expect("stage");
    let StageWrite::Written(stored) = stored else {
        panic!("first write conflicted")
    };
    let task = ScheduleTask::new(source, store.clone(), clock());
    let mut by_chat = workflow(2);
    by_chat.chat_id = Some(ChatId(2));
    let outcome = task.for_workflow(&by_chat).await.expect("chat");
    assert_eq!(outcome.changed, vec![bertiburg().id, milnerton().id]);
    let marker = store
        .stage_refresh()
        .await
        .expect("marker")
        .expect("written");
    assert_eq!(
        (marker.stage, marker.stage_updated_at),
        (stage(2), stored.updated_at)
    );
    // A second refresh of the same change leaves the marker as the first one wrote it.
    task.for_workflow(&by_chat).await.expect("again");
    assert_eq!(store.stage_refresh().await.expect("marker"), Some(marker));
}

#[tokio::test]
async fn without_a_stage_in_the_input_it_uses_the_stored_one() {
    let store = store_with_subscribers().await;
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(5)),
            None,
            clock().now(),
            None,
        )
        .await
        .expect("stage");
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(source, store, clock());
    let value = task
        .handle(json!({"workflow": {"source": "console"}, "execution_id": "console-1"}))
        .await
        .expect("workflow");
    let outcome: ScheduleOutcome = serde_json::from_value(value).expect("outcome");
    assert_eq!(outcome.stage, Some(stage(5)));
    assert_eq!(outcome.changed.len(), 2);
    let scheduled = task
        .handle(json!({"trigger": "schedule"}))
        .await
        .expect("schedule");
    let outcome: ScheduleOutcome = serde_json::from_value(scheduled).expect("outcome");
    assert_eq!(outcome.unchanged.len(), 2);
}

#[tokio::test]
async fn a_stream_batch_reports_the_first_bad_record_and_keeps_what_came_before() {
    let store = store_with_subscribers().await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(source.clone(), store.clone(), clock());
    let batch = json!({"Records": [
        stream_record("100", "MODIFY", stage_image(3, 2), stage_image(1, 1)),
        stream_record("200", "MODIFY", json!({"PK": {"S": "X"}, "SK": {"S": "Y"}}), json!({})),
        stream_record("300", "MODIFY", stage_image(4, 3), stage_image(3, 2)),
    ]});
    let value = task
        .handle(batch)
        .await
        .expect("a batch response, not an error");
    let response: DynamoDbEventResponse = serde_json::from_value(value).expect("batch response");
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![Some("200".to_owned())]);
    assert!(
        store
            .schedule(&bertiburg().id, stage(3))
            .await
            .expect("read")
            .is_some(),
        "record 100 was handled"
    );
    assert!(
        store
            .schedule(&bertiburg().id, stage(4))
            .await
            .expect("read")
            .is_none(),
        "record 300 waits for the retry from 200"
    );
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn a_clean_stream_batch_reports_no_failures() {
    let store = store_with_subscribers().await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(source, store, clock());
    let batch = json!({"Records": [stream_record("100", "INSERT", stage_image(2, 1), json!({}))]});
    let response: DynamoDbEventResponse =
        serde_json::from_value(task.handle(batch).await.expect("batch")).expect("batch response");
    assert!(response.batch_item_failures.is_empty());
}
