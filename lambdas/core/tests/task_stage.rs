//! The stage task against scripted upstream readings and the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod task_support;

use std::sync::Arc;

use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use loadshed_core::ports::StageStore;
use loadshed_core::tasks::{StageOutcome, StageTask, TaskError};
use serde_json::json;
use task_support::{ScriptedStage, stage};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time"))
}

fn task(
    readings: Vec<Result<loadshed_core::domain::Stage, UpstreamError>>,
    store: Arc<MemoryStore>,
) -> StageTask {
    StageTask::new(Arc::new(ScriptedStage::new(readings)), store, clock())
}

#[tokio::test]
async fn first_reading_is_a_change_then_the_same_reading_is_not() {
    let store = Arc::new(MemoryStore::new());
    let task = task(vec![Ok(stage(2)), Ok(stage(2))], store.clone());
    let first = task.poll().await.expect("first poll");
    assert!(first.changed);
    assert_eq!((first.stage, first.previous), (stage(2), None));
    let second = task.poll().await.expect("second poll");
    assert!(!second.changed);
    assert_eq!(second.previous, Some(stage(2)));
    assert_eq!(
        second.updated_at, first.updated_at,
        "an unchanged stage is not rewritten"
    );
    let stored = store.current_stage().await.expect("read").expect("stored");
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn flapping_readings_are_errors_and_never_change_the_stage() {
    let store = Arc::new(MemoryStore::new());
    let flap = || UpstreamError::InvalidReading {
        service: "Eskom",
        reading: "-1".into(),
    };
    let task = task(vec![Ok(stage(4)), Err(flap()), Ok(stage(4))], store.clone());
    task.poll().await.expect("first poll");
    let error = task.poll().await.expect_err("a flap is an error");
    assert_eq!(error.error_name(), ErrorName::StageReadingInvalid);
    assert!(error.error_name().is_transient());
    let third = task.poll().await.expect("third poll");
    assert!(!third.changed, "stage 4 -> flap -> stage 4 is no change");
    assert_eq!(
        store.current_stage().await.expect("read").map(|s| s.stage),
        Some(stage(4))
    );
}

#[tokio::test]
async fn a_new_stage_reports_the_previous_one() {
    let store = Arc::new(MemoryStore::new());
    let task = task(vec![Ok(stage(2)), Ok(stage(6)), Ok(stage(0))], store);
    task.poll().await.expect("poll");
    let up = task.poll().await.expect("poll");
    assert_eq!(
        (up.stage, up.previous, up.changed),
        (stage(6), Some(stage(2)), true)
    );
    let off = task.poll().await.expect("poll");
    assert_eq!(
        (off.stage, off.previous, off.changed),
        (stage(0), Some(stage(6)), true)
    );
}

#[tokio::test]
async fn two_pollers_racing_report_one_change() {
    let store = Arc::new(MemoryStore::new());
    let a = task(vec![Ok(stage(5))], store.clone());
    let b = task(vec![Ok(stage(5))], store.clone());
    let (ra, rb) = tokio::join!(a.poll(), b.poll());
    let changes = [ra.expect("a"), rb.expect("b")]
        .iter()
        .filter(|o| o.changed)
        .count();
    assert_eq!(changes, 1);
    assert_eq!(
        store
            .current_stage()
            .await
            .expect("read")
            .map(|s| s.version),
        Some(1)
    );
}

#[tokio::test]
async fn accepts_every_invocation_shape_it_supports() {
    let shapes = [
        json!({"trigger": "schedule"}),
        json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-28T10:00:00Z", "region": "af-south-1",
            "resources": [], "detail": {}
        }),
        json!({"workflow": {}, "execution_id": "console-1"}),
    ];
    let store = Arc::new(MemoryStore::new());
    let task = task(vec![Ok(stage(1)), Ok(stage(1)), Ok(stage(1))], store);
    for shape in shapes {
        let value = task.handle(shape.clone()).await.expect("accepted");
        let outcome: StageOutcome = serde_json::from_value(value).expect("a stage outcome");
        assert_eq!(outcome.stage, stage(1), "{shape}");
    }
}

#[tokio::test]
async fn streams_and_unknown_shapes_are_invalid_input() {
    let store = Arc::new(MemoryStore::new());
    let task = task(vec![], store);
    for payload in [
        json!({"Records": []}),
        json!({}),
        json!("stage"),
        json!({"workflow": 1, "execution_id": "x"}),
    ] {
        let error = task.handle(payload.clone()).await.expect_err("rejected");
        assert!(
            matches!(error, TaskError::InvalidInput(_)),
            "{payload}: {error}"
        );
        assert_eq!(error.error_name(), ErrorName::InvalidInput);
    }
}

/// The in-memory store with a step run before each stage read: how a test holds a poller up or
/// learns that the stored stage is being read.
struct HookedStore {
    inner: MemoryStore,
    before_read: Box<dyn Fn() -> futures::future::BoxFuture<'static, ()> + Send + Sync>,
}

#[async_trait::async_trait]
impl StageStore for HookedStore {
    async fn current_stage(
        &self,
    ) -> Result<Option<loadshed_core::ports::StoredStage>, loadshed_core::errors::StoreError> {
        (self.before_read)().await;
        self.inner.current_stage().await
    }
    async fn put_stage(
        &self,
        timelines: &loadshed_core::domain::Timelines,
        replaced: Option<&loadshed_core::domain::Timelines>,
        at: chrono::DateTime<chrono::Utc>,
        expected: Option<u64>,
    ) -> Result<loadshed_core::ports::StageWrite, loadshed_core::errors::StoreError> {
        self.inner
            .put_stage(timelines, replaced, at, expected)
            .await
    }
    async fn stage_refresh(
        &self,
    ) -> Result<Option<loadshed_core::ports::StageRefresh>, loadshed_core::errors::StoreError> {
        self.inner.stage_refresh().await
    }
    async fn put_stage_refresh(
        &self,
        marker: &loadshed_core::ports::StageRefresh,
    ) -> Result<bool, loadshed_core::errors::StoreError> {
        self.inner.put_stage_refresh(marker).await
    }
}

#[tokio::test]
async fn a_slower_pollers_older_reading_never_overwrites_a_newer_one() {
    // The first stage read (the slow poller's) waits until it is let go.
    let gate = Arc::new(tokio::sync::Notify::new());
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let store = Arc::new(HookedStore {
        inner: MemoryStore::new(),
        before_read: Box::new({
            let gate = gate.clone();
            move || {
                let gate = gate.clone();
                let first = first.swap(false, std::sync::atomic::Ordering::SeqCst);
                Box::pin(async move {
                    if first {
                        gate.notified().await;
                    }
                })
            }
        }),
    });
    let clock = clock();
    store
        .inner
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage(2)),
            None,
            clock.now(),
            None,
        )
        .await
        .expect("stage 2 stored");
    // Poller A reads stage 4 first, then stalls before it reaches the store.
    let slow = StageTask::new(
        Arc::new(ScriptedStage::new([Ok(stage(4))])),
        store.clone(),
        clock.clone(),
    );
    let slow_poll = tokio::spawn(async move { slow.poll().await });
    tokio::task::yield_now().await;
    // Poller B reads stage 5 a minute later and stores it.
    clock.advance(chrono::Duration::minutes(1));
    let fast = StageTask::new(
        Arc::new(ScriptedStage::new([Ok(stage(5))])),
        store.clone(),
        clock.clone(),
    );
    let fast_outcome = fast.poll().await.expect("fast poll");
    assert!(fast_outcome.changed);
    // A wakes up with its older reading: it must not write it.
    gate.notify_one();
    let slow_outcome = slow_poll.await.expect("task").expect("slow poll");
    assert!(!slow_outcome.changed, "{slow_outcome:?}");
    assert_eq!(slow_outcome.stage, stage(5));
    let stored = store
        .inner
        .current_stage()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.stage, stage(5));
}

/// A source whose reading waits until the store has been asked for the stored stage.
struct WaitsForTheStore(Arc<tokio::sync::Notify>);

#[async_trait::async_trait]
impl loadshed_core::ports::StageSource for WaitsForTheStore {
    async fn timelines(&self) -> Result<loadshed_core::domain::Timelines, UpstreamError> {
        self.0.notified().await;
        Ok(loadshed_core::domain::Timelines::national_only(stage(3)))
    }
}

#[tokio::test]
async fn the_stored_stage_is_read_while_upstream_is_asked() {
    // Sequential reads would leave the source waiting for a store read that only comes after it.
    let read = Arc::new(tokio::sync::Notify::new());
    let task = StageTask::new(
        Arc::new(WaitsForTheStore(read.clone())),
        Arc::new(HookedStore {
            inner: MemoryStore::new(),
            before_read: Box::new(move || {
                read.notify_one();
                Box::pin(async {})
            }),
        }),
        clock(),
    );
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), task.poll())
        .await
        .expect("the upstream reading and the stored stage's read overlap")
        .expect("poll");
    assert!(outcome.changed);
    assert_eq!((outcome.stage, outcome.previous), (stage(3), None));
}
