//! The choreography on one machine: the embedded store's change feed, the template's event sources
//! as the local system reads them, and the stream pumps' retry and dead-letter behaviour, all on
//! tokio's paused clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::dynamodb::EventRecord;
use chrono::{NaiveDate, TimeZone, Utc};
use loadshed::local::clock::TokioClock;
use loadshed::local::system::{LocalSystem, SystemPorts};
use loadshed::local::template::{self, TEMPLATE, TemplateError};
use loadshed::local::{cron::Cron, filter};
use loadshed::simulate::area;
use loadshed::simulate::fakes::{ScriptedUpstream, SimTelegram, TelegramBehaviour};
use loadshed_core::adapters::dynamo::{schedule_from_image, stage_from_image};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::Clock;
use loadshed_core::domain::{Area, ChatId, Schedule, Stage};
use loadshed_core::errors::UpstreamError;
use loadshed_core::ports::{
    DeliveryKey, DeliveryLedger, Leases, ScheduleSource, ScheduleStore, StageStore,
    SubscriptionStore,
};
use loadshed_core::tasks::NotifyConfig;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0)
        .single()
        .expect("time")
}

fn drain(feed: &mut UnboundedReceiver<EventRecord>) -> Vec<EventRecord> {
    let mut records = Vec::new();
    while let Ok(record) = feed.try_recv() {
        records.push(record);
    }
    records
}

fn entity(record: &EventRecord) -> String {
    let image = if record.event_name == "REMOVE" {
        &record.change.old_image
    } else {
        &record.change.new_image
    };
    match image.get("entity") {
        Some(serde_dynamo::AttributeValue::S(entity)) => entity.clone(),
        other => panic!("no entity in {record:?}: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn every_change_is_one_record_with_the_images_the_dynamodb_adapter_writes() {
    let clock = Arc::new(TokioClock::starting_at(start()));
    let (store, mut feed) = MemoryStore::new().with_change_feed(clock.clone());
    let now = clock.now();
    let stage = Stage::new(4).expect("stage");

    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage),
            None,
            now,
            None,
        )
        .await
        .expect("put");
    let first = drain(&mut feed);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].event_name, "INSERT");
    assert!(first[0].change.old_image.is_empty());
    let stored = stage_from_image(first[0].change.new_image.clone()).expect("decodes");
    assert_eq!((stored.stage, stored.version), (stage, 1));

    let six = Stage::new(6).expect("stage");
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(six),
            None,
            now,
            Some(1),
        )
        .await
        .expect("put");
    // A lost conditional write changes nothing, so it is no record.
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(six),
            None,
            now,
            Some(1),
        )
        .await
        .expect("put");
    let second = drain(&mut feed);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].event_name, "MODIFY");
    let old = stage_from_image(second[0].change.old_image.clone()).expect("old image");
    let new = stage_from_image(second[0].change.new_image.clone()).expect("new image");
    assert_eq!((old.stage, new.stage, new.version), (stage, six, 2));

    let bertiburg = area(1);
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let schedule = Schedule::from_days(bertiburg.id.clone(), six, [(day, vec![])]);
    assert!(store.put_schedule(&schedule, now).await.expect("put"));
    assert!(!store.put_schedule(&schedule, now).await.expect("put"));
    let schedules = drain(&mut feed);
    assert_eq!(schedules.len(), 1, "an unchanged schedule writes nothing");
    assert_eq!(
        schedule_from_image(schedules[0].change.new_image.clone()).expect("decodes"),
        schedule
    );

    store
        .subscribe(ChatId(7), &bertiburg, now)
        .await
        .expect("sub");
    store
        .subscribe(ChatId(7), &bertiburg, now)
        .await
        .expect("sub");
    let subscribed = drain(&mut feed);
    let mut entities: Vec<String> = subscribed.iter().map(entity).collect();
    entities.sort();
    assert_eq!(entities, ["area", "subscriber", "subscription"]);
    assert!(subscribed.iter().all(|r| r.event_name == "INSERT"));

    let key = DeliveryKey {
        chat: ChatId(7),
        message: "stage:6@x#1".into(),
    };
    store
        .record_delivery(&key, now, now + chrono::Duration::days(1))
        .await
        .expect("ledger");
    store
        .try_claim("refresh:7", now, now + chrono::Duration::minutes(1))
        .await
        .expect("lease");
    store.remove_chat(ChatId(7)).await.expect("remove");
    let rest = drain(&mut feed);
    let names: Vec<(String, String)> = rest
        .iter()
        .map(|r| (r.event_name.clone(), entity(r)))
        .collect();
    assert_eq!(names[0], ("INSERT".into(), "delivery".into()));
    assert_eq!(names[1], ("INSERT".into(), "lease".into()));
    assert_eq!(names[2..].len(), 3);
    assert!(names[2..].iter().all(|(name, _)| name == "REMOVE"));

    let sequence: Vec<u128> = [first, second, schedules, subscribed, rest]
        .concat()
        .iter()
        .map(|r| {
            r.change
                .sequence_number
                .as_deref()
                .expect("sequence")
                .parse()
                .expect("number")
        })
        .collect();
    assert!(
        sequence.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers grow: {sequence:?}"
    );
}

#[tokio::test]
async fn a_store_without_a_feed_writes_as_before() {
    let store = MemoryStore::new();
    let now = start();
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(2).expect("stage")),
            None,
            now,
            None,
        )
        .await
        .expect("put");
    assert_eq!(
        store
            .current_stage()
            .await
            .expect("read")
            .map(|s| s.version),
        Some(1)
    );
}

#[test]
fn the_template_gives_each_task_its_timeout_streams_and_schedules() {
    let functions = template::functions(TEMPLATE).expect("the template reads");
    let by_name = |name: &str| {
        functions
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let schedule = by_name("loadshed-schedule");
    assert_eq!(schedule.timeout, Duration::from_secs(120));
    let stream = &schedule.streams[0];
    assert_eq!(stream.id, "ScheduleFunction.StageChanged");
    assert_eq!(
        (stream.batch_size, stream.batching_window),
        (10, Duration::from_secs(1))
    );
    assert_eq!(stream.max_retry_attempts, Some(3));
    assert_eq!(stream.max_record_age, Some(Duration::from_secs(3600)));
    assert!(stream.bisect_on_error && stream.partial_batch_response);
    let stage_record =
        json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "stage"}}}});
    let lease_record =
        json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "lease"}}}});
    assert_eq!(stream.passes(&stage_record), Ok(true));
    assert_eq!(stream.passes(&lease_record), Ok(false));

    let notify = by_name("loadshed-notify");
    assert_eq!(notify.timeout, Duration::from_secs(900));
    assert!(!notify.streams.is_empty());
    let stage = by_name("loadshed-stage");
    let poll = stage
        .schedules
        .iter()
        .find(|s| s.id == "StageFunction.PollStage")
        .expect("the stage poll");
    assert_eq!(poll.input, json!({"trigger": "schedule"}));
    let next = poll.expression.next_after(start(), poll.timezone);
    assert_eq!(next, Some(start() + chrono::Duration::minutes(10)));
    assert!(by_name("loadshed-webhook").streams.is_empty());
}

#[test]
fn a_filter_or_schedule_the_local_run_cannot_honour_is_refused_up_front() {
    let prefix = TEMPLATE.replace(r#"{"S": ["stage"]}"#, r#"{"S": [{"prefix": "sta"}]}"#);
    assert_ne!(prefix, TEMPLATE, "the template filters on the stage entity");
    match template::functions(&prefix) {
        Err(TemplateError::Filter { at, .. }) => assert!(at.contains("StageChanged"), "{at}"),
        other => panic!("expected a filter error, got {other:?}"),
    }
    let weekday = TEMPLATE.replace("cron(0 5 * * ? *)", "cron(0 5 ? * MON-FRI *)");
    assert!(matches!(
        template::functions(&weekday),
        Err(TemplateError::Schedule { .. })
    ));
    assert!(filter::check(&json!({"a": [{"exists": true}]})).is_err());
    assert!(Cron::parse("cron(0/5 * * * ? *)").is_ok());
}

/// Eskom's schedule pages down for good: every schedule refresh fails.
struct SchedulesDown;

#[async_trait]
impl ScheduleSource for SchedulesDown {
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

impl SchedulesDown {
    async fn schedule_at(
        &self,
        _area: &Area,
        _stage: Stage,
        _today: NaiveDate,
    ) -> Result<Schedule, UpstreamError> {
        Err(UpstreamError::Unavailable {
            service: "Eskom",
            detail: "503".into(),
        })
    }
}

fn stage_two() -> loadshed_core::domain::Timelines {
    loadshed_core::domain::Timelines::national_only(Stage::new(2).expect("stage"))
}

async fn system_with(
    schedules: Arc<dyn ScheduleSource>,
    telegram: TelegramBehaviour,
) -> (LocalSystem, Arc<SimTelegram>) {
    let clock = TokioClock::starting_at(start());
    let areas: Vec<Area> = (0..2).map(area).collect();
    let upstream = Arc::new(ScriptedUpstream::new(
        areas.clone(),
        stage_two(),
        Duration::from_millis(10),
        clock,
    ));
    let telegram = Arc::new(SimTelegram::new(clock, 1, telegram));
    let store = MemoryStore::new();
    for (i, area) in areas.iter().enumerate() {
        store
            .subscribe(ChatId(i as i64 + 1), area, start())
            .await
            .expect("subscribe");
    }
    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(2).expect("stage")),
            None,
            start(),
            None,
        )
        .await
        .expect("stage");
    let system = LocalSystem::start(
        store,
        SystemPorts {
            stage: upstream.clone(),
            schedules,
            search: upstream.clone(),
            messenger: telegram.clone(),
            answers: telegram.clone(),
            channels: telegram.clone(),
            notify: NotifyConfig::default(),
            bot_username: "loadshed_bot".into(),
        },
        clock,
        // No schedules: the test drives the stream alone.
        Instant::now(),
        Vec::new(),
    )
    .expect("the system starts");
    (system, telegram)
}

fn quick() -> TelegramBehaviour {
    TelegramBehaviour {
        latency: Duration::from_millis(100),
        rate_limit: 0.0,
        server_error: 0.0,
    }
}

#[tokio::test(start_paused = true)]
async fn a_record_that_keeps_failing_is_retried_as_the_mapping_says_then_dead_lettered() {
    let (system, _) = system_with(Arc::new(SchedulesDown), quick()).await;
    let now = system.clock.utc_now();
    system
        .store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(5).expect("stage")),
            None,
            now,
            Some(1),
        )
        .await
        .expect("stage change");
    assert!(
        system
            .settle(
                Duration::from_secs(1),
                Instant::now() + Duration::from_secs(600)
            )
            .await
    );
    let counts = system.lambdas.counts();
    // The first try and MaximumRetryAttempts (3) retries.
    assert_eq!(counts["loadshed-schedule"].invocations, 4, "{counts:?}");
    let dlq = system.dead_letters.all();
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert_eq!(dlq[0].source, "ScheduleFunction.StageChanged");
    assert_eq!(dlq[0].records.len(), 1);
    assert!(
        dlq[0].reason.contains("retries exhausted"),
        "{}",
        dlq[0].reason
    );
}

#[tokio::test(start_paused = true)]
async fn a_stage_change_flows_from_the_store_through_both_mappings_to_telegram() {
    let areas: Vec<Area> = (0..2).map(area).collect();
    let upstream = Arc::new(ScriptedUpstream::new(
        areas,
        stage_two(),
        Duration::from_millis(10),
        TokioClock::starting_at(start()),
    ));
    let (system, telegram) = system_with(upstream, quick()).await;
    system
        .store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(4).expect("stage")),
            None,
            system.clock.utc_now(),
            Some(1),
        )
        .await
        .expect("stage change");
    assert!(
        system
            .settle(
                Duration::from_secs(1),
                Instant::now() + Duration::from_secs(600)
            )
            .await
    );
    let counts = system.lambdas.counts();
    assert!(counts["loadshed-schedule"].invocations >= 1, "{counts:?}");
    assert!(counts["loadshed-notify"].invocations >= 1, "{counts:?}");
    let told: Vec<i64> = telegram.log().delivered.iter().map(|d| d.chat.0).collect();
    assert!(
        told.contains(&1) && told.contains(&2),
        "both subscribers heard: {told:?}"
    );
    assert!(system.dead_letters.all().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_invocation_past_its_timeout_is_killed_and_the_batch_retried() {
    // Telegram hangs longer than the notify function's 900 s timeout.
    let slow = TelegramBehaviour {
        latency: Duration::from_secs(1000),
        ..quick()
    };
    let areas: Vec<Area> = (0..2).map(area).collect();
    let upstream = Arc::new(ScriptedUpstream::new(
        areas,
        stage_two(),
        Duration::from_millis(10),
        TokioClock::starting_at(start()),
    ));
    let (system, _) = system_with(upstream, slow).await;
    system
        .store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(Stage::new(4).expect("stage")),
            None,
            system.clock.utc_now(),
            Some(1),
        )
        .await
        .expect("stage change");
    system
        .settle(
            Duration::from_secs(5),
            Instant::now() + Duration::from_secs(4 * 3600),
        )
        .await;
    let notify = &system.lambdas.counts()["loadshed-notify"];
    assert!(notify.timeouts >= 1, "{notify:?}");
    assert!(
        system
            .dead_letters
            .all()
            .iter()
            .any(|d| d.reason.contains("timed out")),
        "{:?}",
        system.dead_letters.all()
    );
}
