//! What only the SQLite store has: its file (everything survives closing and opening it again),
//! and a change feed that is durable and numbers records across runs. Its feed must carry exactly
//! what the in-memory store's does, record for record.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::{Area, ChatId, ChatSettings, Schedule, Slot, Stage, Timelines};
use loadshed_core::ports::{
    ChatSettingsStore, Claim, DeliveryKey, DeliveryLedger, Leases, ScheduleStore, StageRefresh,
    StageStore, Store, SubscriptionStore,
};
use loadshed_sqlite::{DATABASE_FILE, SqliteStore, sequence_of};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("instant")
        + Duration::seconds(seconds)
        // Sub-second precision, so a value that only survives to the second is caught.
        + Duration::nanoseconds(123_456_789)
}

fn stage(n: u8) -> Stage {
    Stage::new(n).expect("stage")
}

fn bertiburg() -> Area {
    Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0)
}

fn ashton() -> Area {
    Area::eskom(9811, "Ashton", "Senqu", "Eastern Cape", 1, 538)
}

fn schedule(area: &Area, at_stage: Stage, slot: &str) -> Schedule {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    Schedule::from_days(
        area.id.clone(),
        at_stage,
        [(day, vec![Slot::parse_on(day, slot).expect("slot")])],
    )
}

fn key(chat: i64, message: &str) -> DeliveryKey {
    DeliveryKey {
        chat: ChatId(chat),
        message: message.to_owned(),
    }
}

/// One of every kind of write, including writes that change nothing (which must record nothing).
async fn script(store: &dyn Store) {
    let first = Timelines::national_only(stage(2));
    store
        .put_stage(&first, None, at(0), None)
        .await
        .expect("stage");
    let second = Timelines::national_only(stage(4));
    store
        .put_stage(&second, Some(&first), at(1), Some(1))
        .await
        .expect("stage");
    store
        .put_stage(&second, Some(&first), at(1), Some(1))
        .await
        .expect("conflict");
    let marker = StageRefresh {
        stage: stage(4),
        stage_updated_at: at(1),
        previous: Some(stage(2)),
        refreshed_at: at(2),
    };
    store.put_stage_refresh(&marker).await.expect("marker");
    store.put_stage_refresh(&marker).await.expect("again");
    let plan = schedule(&bertiburg(), stage(4), "08:00 - 10:30");
    store.put_schedule(&plan, at(3)).await.expect("schedule");
    store.put_schedule(&plan, at(4)).await.expect("unchanged");
    store
        .put_schedule(&schedule(&bertiburg(), stage(4), "10:00 - 12:30"), at(5))
        .await
        .expect("changed");
    store
        .subscribe(ChatId(42), &bertiburg(), at(6))
        .await
        .expect("sub");
    store
        .subscribe(ChatId(42), &bertiburg(), at(7))
        .await
        .expect("again");
    store
        .subscribe(ChatId(-7), &bertiburg(), at(8))
        .await
        .expect("sub");
    store
        .subscribe(ChatId(-7), &ashton(), at(9))
        .await
        .expect("sub");
    store
        .unsubscribe(ChatId(42), &bertiburg().id)
        .await
        .expect("unsub");
    store
        .move_chat(ChatId(-7), ChatId(-1007), at(10))
        .await
        .expect("move");
    store.remove_chat(ChatId(-1007)).await.expect("remove");
    store
        .put_chat_settings(ChatId(42), &ChatSettings::default(), at(11))
        .await
        .expect("settings");
    let sent = key(42, "stage:4");
    assert_eq!(
        store
            .claim_delivery(&sent, "wf:a", at(12), at(102))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    store
        .confirm_delivery(&sent, at(13), at(13 + 7 * 86_400))
        .await
        .expect("confirm");
    let dropped = key(-7, "stage:4");
    store
        .claim_delivery(&dropped, "wf:a", at(14), at(104))
        .await
        .expect("claim");
    store
        .release_delivery(&dropped, "wf:a")
        .await
        .expect("release");
    store
        .record_delivery(&key(5, "reminder"), at(15), at(3600))
        .await
        .expect("record");
    store
        .try_claim("refresh:42", at(16), at(76))
        .await
        .expect("lease");
    store
        .try_claim_for("refresh:5", "tg-update:9", at(17), at(77))
        .await
        .expect("lease");
    store
        .release("refresh:5", "tg-update:9")
        .await
        .expect("release");
    store
        .try_claim("refresh:42", at(100), at(160))
        .await
        .expect("expired, taken over");
    store
        .try_take("searches:42", 2, at(18), at(3600))
        .await
        .expect("take");
}

/// Records as JSON, for comparing and for showing a difference.
fn records(
    feed: &mut tokio::sync::mpsc::UnboundedReceiver<aws_lambda_events::dynamodb::EventRecord>,
) -> Vec<Value> {
    let mut all = Vec::new();
    while let Ok(record) = feed.try_recv() {
        all.push(serde_json::to_value(&record).expect("record as JSON"));
    }
    all
}

#[tokio::test]
async fn the_feed_carries_what_the_memory_feed_carries() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at(50)));
    let (memory, mut memory_feed) = MemoryStore::new().with_change_feed(clock.clone());
    script(&memory).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (sqlite, mut sqlite_feed) =
        SqliteStore::open_with_feed(dir.path().join(DATABASE_FILE), clock)
            .await
            .expect("open");
    script(&sqlite).await;

    let expected = records(&mut memory_feed);
    assert!(
        expected.len() > 20,
        "the script makes records of every kind: {}",
        expected.len()
    );
    assert_eq!(records(&mut sqlite_feed), expected);
}

#[tokio::test]
async fn everything_is_there_after_opening_the_file_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested").join(DATABASE_FILE);
    let written = SqliteStore::open(&path).await.expect("open");
    script(&written).await;
    let before = snapshot(&written).await;
    drop(written);

    let reopened = SqliteStore::open(&path).await.expect("open again");
    assert_eq!(snapshot(&reopened).await, before);
    assert!(before.contains("version: 2"), "{before}");
    // Counted takes survive too: the second of two allowed is taken, the third refused.
    assert!(
        reopened
            .try_take("searches:42", 2, at(19), at(3600))
            .await
            .expect("take")
    );
    assert!(
        !reopened
            .try_take("searches:42", 2, at(20), at(3600))
            .await
            .expect("take")
    );
}

/// What the store holds, read through the ports, as text.
async fn snapshot(store: &SqliteStore) -> String {
    let plan = store
        .schedule(&bertiburg().id, stage(4))
        .await
        .expect("schedule");
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.current_stage().await.expect("stage"),
        store.stage_refresh().await.expect("marker"),
        plan,
        store.subscribed_areas().await.expect("areas"),
        store.subscribers_of(&bertiburg().id).await.expect("subs"),
        store.chat_settings(ChatId(42)).await.expect("settings"),
        store
            .was_delivered(&key(42, "stage:4"), at(20))
            .await
            .expect("ledger"),
        store
            .was_delivered(&key(5, "reminder"), at(20))
            .await
            .expect("ledger"),
        store
            .is_claimed("refresh:42", at(120))
            .await
            .expect("lease"),
    )
}

#[tokio::test]
async fn unconsumed_records_come_again_and_numbers_go_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DATABASE_FILE);
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at(0)));

    let (store, mut feed) = SqliteStore::open_with_feed(&path, clock.clone())
        .await
        .expect("open");
    store
        .subscribe(ChatId(1), &bertiburg(), at(0))
        .await
        .expect("sub");
    store
        .subscribe(ChatId(2), &ashton(), at(1))
        .await
        .expect("sub");
    let first_run: Vec<_> = std::iter::from_fn(|| feed.try_recv().ok()).collect();
    assert_eq!(first_run.len(), 6, "three items per subscription");
    // The consumer got through the first subscription's records only, then the process died.
    let done = sequence_of(&first_run[2]).expect("sequence");
    store.checkpoint(done).await.expect("checkpoint");
    assert_eq!(store.unconsumed().await.expect("count"), 3);
    drop(store);
    drop(feed);

    let (store, mut feed) = SqliteStore::open_with_feed(&path, clock)
        .await
        .expect("open again");
    let again: Vec<_> = std::iter::from_fn(|| feed.try_recv().ok()).collect();
    // Compared as the pumps see them (JSON: the creation time in whole seconds, as DynamoDB gives it).
    let json = |records: &[aws_lambda_events::dynamodb::EventRecord]| {
        serde_json::to_value(records).expect("records as JSON")
    };
    assert_eq!(
        json(&again),
        json(&first_run[3..]),
        "the unconsumed records, as they were"
    );
    store
        .unsubscribe(ChatId(1), &bertiburg().id)
        .await
        .expect("unsub");
    let next = feed.try_recv().expect("a record for the new write");
    assert_eq!(
        sequence_of(&next),
        Some(sequence_of(&first_run[5]).expect("sequence") + 1),
        "numbering goes on from the last run's"
    );
    assert_ne!(next.event_id, first_run[0].event_id);
}

#[tokio::test]
async fn a_database_of_another_format_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DATABASE_FILE);
    let store = SqliteStore::open(&path).await.expect("open");
    store.set_counter("format", 99).await.expect("set");
    drop(store);
    let error = SqliteStore::open(&path).await.expect_err("refused");
    assert!(error.to_string().contains("format 99"), "{error}");
}
