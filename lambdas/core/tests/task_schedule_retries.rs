//! The schedule task's retries, time budget and staleness: a retry refetches only what failed, a
//! run nobody reads fails (naming the areas) so it is retried, an invocation stops in time, and
//! areas without a good fetch for too long are counted for the alarm.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod task_support;

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, Schedule, Stage};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::{ScheduleSource, StageStore, SubscriptionStore};
use loadshed_core::tasks::{ScheduleOutcome, ScheduleTask};
use serde_json::json;
use task_support::{ScriptedSchedules, bertiburg, date, milnerton, stage};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time"))
}

fn two_days() -> Vec<(NaiveDate, Vec<&'static str>)> {
    vec![
        (date(2026, 11, 28), vec!["08:00 - 10:30"]),
        (date(2026, 11, 29), vec!["16:00 - 18:30"]),
    ]
}

fn unavailable() -> UpstreamError {
    UpstreamError::Unavailable {
        service: "Eskom",
        detail: "503".into(),
    }
}

async fn store_with_two_areas(clock: &ManualClock) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for (chat, area) in [(1, bertiburg()), (2, milnerton())] {
        store
            .subscribe(ChatId(chat), &area, clock.now())
            .await
            .expect("subscribe");
    }
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(2)),
            None,
            clock.now(),
            None,
        )
        .await
        .expect("stage");
    store
}

fn workflow_payload(execution: &str) -> serde_json::Value {
    json!({"workflow": {"source": "console"}, "execution_id": execution})
}

#[tokio::test]
async fn a_retry_of_the_same_execution_fetches_only_the_failed_areas() {
    let clock = clock();
    let store = store_with_two_areas(&clock).await;
    let first = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .failing(&milnerton(), unavailable),
    );
    let task = ScheduleTask::new(first.clone(), store.clone(), clock.clone());
    let outcome: ScheduleOutcome = serde_json::from_value(
        task.handle(workflow_payload("tg-1"))
            .await
            .expect("partial"),
    )
    .expect("outcome");
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].area, milnerton().id);
    assert_eq!(first.calls(), 2);

    // The retry (same execution, same input) asks upstream for the failed area only.
    clock.advance(Duration::seconds(30));
    let second = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(second.clone(), store.clone(), clock.clone());
    let outcome: ScheduleOutcome =
        serde_json::from_value(task.handle(workflow_payload("tg-1")).await.expect("retry"))
            .expect("outcome");
    assert_eq!(second.calls(), 1, "only the failed area was fetched again");
    assert!(outcome.failed.is_empty());
    assert_eq!(outcome.changed, vec![milnerton().id]);
    assert_eq!(outcome.unchanged, vec![bertiburg().id]);

    // Another execution is a new run: everything is fetched.
    let third = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let task = ScheduleTask::new(third.clone(), store, clock);
    task.handle(workflow_payload("tg-2"))
        .await
        .expect("new run");
    assert_eq!(third.calls(), 2);
}

#[tokio::test]
async fn a_scheduled_run_with_a_transient_failure_fails_naming_the_areas() {
    let clock = clock();
    let store = store_with_two_areas(&clock).await;
    let source = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .failing(&milnerton(), unavailable),
    );
    let task = ScheduleTask::new(source, store.clone(), clock.clone());
    let error = task
        .handle(json!({"trigger": "schedule"}))
        .await
        .expect_err("retried");
    assert_eq!(error.error_name(), ErrorName::UpstreamUnavailable);
    assert!(error.error_name().is_transient());
    assert!(
        error.to_string().contains(milnerton().id.as_str()),
        "{error}"
    );
    assert!(error.to_string().contains("1 of 2 areas failed"), "{error}");

    // Its retry skips the area done; a permanent failure alone does not ask for a retry.
    let retry = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .failing(&milnerton(), || UpstreamError::AreaNotFound {
                service: "Eskom",
                area: "gone".into(),
            }),
    );
    let task = ScheduleTask::new(retry.clone(), store, clock);
    let value = task
        .handle(json!({"trigger": "schedule"}))
        .await
        .expect("permanent failures are reported, not retried");
    let outcome: ScheduleOutcome = serde_json::from_value(value).expect("outcome");
    assert_eq!(retry.calls(), 1);
    assert_eq!(outcome.failed[0].error, ErrorName::AreaNotFound);
}

/// One area answers at once, the other only after a minute.
struct OneSlowArea;

#[async_trait]
impl ScheduleSource for OneSlowArea {
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

impl OneSlowArea {
    async fn schedule_at(
        &self,
        area: &Area,
        stage: Stage,
        today: NaiveDate,
    ) -> Result<Schedule, UpstreamError> {
        if area.id == milnerton().id {
            tokio::time::sleep(StdDuration::from_secs(60)).await;
        }
        Ok(Schedule::from_days(
            area.id.clone(),
            stage,
            [(today, Vec::new())],
        ))
    }
}

#[tokio::test(start_paused = true)]
async fn an_invocation_stops_at_its_time_budget_and_names_what_it_did_not_finish() {
    let clock = clock();
    let store = store_with_two_areas(&clock).await;
    let task = ScheduleTask::new(Arc::new(OneSlowArea), store, clock)
        .with_time_budget(StdDuration::from_secs(20));
    let started = tokio::time::Instant::now();
    let outcome: ScheduleOutcome = serde_json::from_value(
        task.handle(workflow_payload("tg-9"))
            .await
            .expect("partial"),
    )
    .expect("outcome");
    assert!(
        started.elapsed() <= StdDuration::from_secs(21),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(outcome.changed, vec![bertiburg().id]);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].area, milnerton().id);
    assert_eq!(outcome.failed[0].error, ErrorName::UpstreamTimeout);
    assert!(
        outcome.failed[0].message.contains("time budget"),
        "{}",
        outcome.failed[0].message
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        let mut bytes = self.0.lock().expect("lock");
        String::from_utf8(std::mem::take(&mut *bytes)).expect("utf-8")
    }
}

#[tokio::test]
async fn areas_without_a_good_fetch_past_the_threshold_are_counted() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let clock = clock();
    let store = store_with_two_areas(&clock).await;
    let working = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .with(&milnerton(), two_days()),
    );
    let failing = Arc::new(
        ScriptedSchedules::new()
            .with(&bertiburg(), two_days())
            .failing(&milnerton(), unavailable),
    );
    let threshold = Duration::hours(36);
    let good = ScheduleTask::new(working, store.clone(), clock.clone()).with_stale_after(threshold);
    let bad = ScheduleTask::new(failing, store, clock.clone()).with_stale_after(threshold);

    good.refresh_all().await.expect("all good");
    assert!(logs.take().contains("stale_areas=0"));
    // A failure soon after a good fetch is not stale yet...
    clock.advance(Duration::hours(12));
    bad.refresh_all().await.expect("partial");
    assert!(logs.take().contains("stale_areas=0"));
    // ...but past the threshold it is, and it is named.
    clock.advance(Duration::hours(25));
    bad.refresh_all().await.expect("partial");
    let logged = logs.take();
    assert!(logged.contains("stale_areas=1"), "{logged}");
    assert!(logged.contains(milnerton().id.as_str()), "{logged}");
}
