//! The ledger at the paid rate (1,000 messages a second), on paused tokio time with a ledger that
//! answers after a store's latency: overlapping runs send each message once and lose none, the
//! confirmations go in groups, and a failing group write is retried or stops the run with the
//! catalogue's `StoreUnavailable`, never dropped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod recorder_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::ChatId;
use loadshed_core::errors::{ErrorName, Named, StoreError};
use loadshed_core::notify::{
    BroadcastConfig, BroadcastError, BroadcastReport, Broadcaster, Outgoing, Pacer, PacingLimits,
    Run,
};
use loadshed_core::ports::{Claim, DeliveryKey, DeliveryLedger, Message};
use recorder_support::Recorder as Telegram;
use tokio::time::Instant;

/// The in-memory ledger behind a store's round trips, noting each group of confirmations and
/// failing the first `failing_groups` of them (all of them with `usize::MAX`).
struct SlowLedger {
    store: MemoryStore,
    latency: Duration,
    failing_groups: Mutex<usize>,
    groups: Mutex<Vec<usize>>,
    single_confirms: Mutex<usize>,
}

impl SlowLedger {
    fn new(failing_groups: usize) -> Self {
        SlowLedger {
            store: MemoryStore::new(),
            latency: Duration::from_millis(10),
            failing_groups: Mutex::new(failing_groups),
            groups: Mutex::default(),
            single_confirms: Mutex::default(),
        }
    }

    fn groups(&self) -> Vec<usize> {
        self.groups.lock().expect("lock").clone()
    }
}

#[async_trait]
impl DeliveryLedger for SlowLedger {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        tokio::time::sleep(self.latency).await;
        self.store
            .claim_delivery(key, owner, now, lease_until)
            .await
    }

    async fn confirm_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        *self.single_confirms.lock().expect("lock") += 1;
        tokio::time::sleep(self.latency).await;
        self.store.confirm_delivery(key, at, expires_at).await
    }

    async fn confirm_deliveries(
        &self,
        keys: &[DeliveryKey],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tokio::time::sleep(self.latency).await;
        {
            let mut failing = self.failing_groups.lock().expect("lock");
            if *failing > 0 {
                *failing -= 1;
                return Err(StoreError::Unavailable("BatchWriteItem throttled".into()));
            }
        }
        self.groups.lock().expect("lock").push(keys.len());
        self.store.confirm_deliveries(keys, at, expires_at).await
    }

    async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
        tokio::time::sleep(self.latency).await;
        self.store.release_delivery(key, owner).await
    }

    async fn was_delivered(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.store.was_delivered(key, now).await
    }

    async fn record_delivery(
        &self,
        key: &DeliveryKey,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.store.record_delivery(key, at, expires_at).await
    }
}

fn clock() -> ManualClock {
    ManualClock::at_local(2026, 11, 28, 10, 0).expect("valid time")
}

const CHATS: i64 = 3000;

fn batch() -> Vec<Outgoing> {
    (1..=CHATS)
        .map(|chat| Outgoing::new(ChatId(chat), "stage:6@t#1", Message::plain("stage 6")))
        .collect()
}

/// One run at the paid rate of 1,000, as the notify process would make it (its own pacer).
async fn run(
    telegram: &Telegram,
    ledger: &SlowLedger,
    clock: &ManualClock,
    owner: &str,
) -> Result<BroadcastReport, BroadcastError> {
    let pacer = Arc::new(Pacer::new(PacingLimits::default().with_paid_rate(1000)));
    Broadcaster::new(
        telegram,
        ledger,
        &ledger.store,
        clock,
        pacer,
        BroadcastConfig {
            // As `NotifyConfig::with_paid_broadcast_rate` sets it at 1,000.
            paid_concurrency: 3000,
            ..BroadcastConfig::default()
        },
    )
    .send(batch(), &Run::new(owner))
    .await
}

/// The most of `times` within any one second.
fn busiest_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut end = 0;
    let mut busiest = 0;
    for (i, at) in times.iter().enumerate() {
        while end < times.len() && times[end].duration_since(*at) < Duration::from_secs(1) {
            end += 1;
        }
        busiest = busiest.max(end - i);
    }
    busiest
}

/// Every chat was told exactly once, by whichever telegram carried it.
fn each_chat_told_once(sends: &[(ChatId, String, Instant)]) {
    let mut told: HashMap<ChatId, usize> = HashMap::new();
    for (chat, _, _) in sends {
        *told.entry(*chat).or_default() += 1;
    }
    assert_eq!(told.len(), CHATS as usize, "a chat was not told");
    let twice: Vec<_> = told.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "chats told twice: {twice:?}");
}

async fn all_confirmed(ledger: &SlowLedger, clock: &ManualClock) {
    for outgoing in batch() {
        assert!(
            ledger
                .store
                .was_delivered(&outgoing.key, clock.now())
                .await
                .expect("read"),
            "{:?} not confirmed",
            outgoing.key
        );
    }
}

#[tokio::test(start_paused = true)]
async fn overlapping_runs_at_the_paid_rate_send_each_once_and_confirm_in_groups() {
    let ledger = SlowLedger::new(0);
    let clock = clock();
    let (workflow, stream) = (Telegram::default(), Telegram::default());
    let start = Instant::now();
    // The workflow's run and the stream record's run of the same event, at once.
    let (a, b) = tokio::join!(
        run(&workflow, &ledger, &clock, "workflow"),
        run(&stream, &ledger, &clock, "stream")
    );
    let took = start.elapsed();
    let (a, b) = (a.expect("workflow run"), b.expect("stream run"));
    let mut sends = workflow.sends();
    sends.extend(stream.sends());
    each_chat_told_once(&sends);
    for report in [&a, &b] {
        assert_eq!(report.remaining, 0, "{report:?}");
        assert_eq!(
            report.sent + report.already_delivered + report.held_elsewhere,
            CHATS as usize,
            "{report:?}"
        );
    }
    assert_eq!(a.sent + b.sent, CHATS as usize);
    for telegram in [&workflow, &stream] {
        let times: Vec<Instant> = telegram.sends().iter().map(|(_, _, at)| *at).collect();
        assert!(busiest_second(&times) <= 1000, "{}", busiest_second(&times));
    }
    // Each run keeps near the paid rate with a store round trip before and after every send.
    assert!(took < Duration::from_secs(4), "{took:?}");
    all_confirmed(&ledger, &clock).await;

    // Grouped: fewer writes than confirmations, and none one by one.
    let groups = ledger.groups();
    assert_eq!(groups.iter().sum::<usize>(), CHATS as usize);
    assert!(
        groups.len() < CHATS as usize / 5,
        "{} writes for {CHATS} confirmations",
        groups.len()
    );
    assert!(groups.iter().all(|n| *n <= 100), "{groups:?}");
    assert_eq!(*ledger.single_confirms.lock().expect("lock"), 0);

    // A stream record redelivered afterwards finds everything delivered and sends nothing.
    let late = Telegram::default();
    let report = run(&late, &ledger, &clock, "stream-again")
        .await
        .expect("redelivery");
    assert_eq!(report.already_delivered, CHATS as usize, "{report:?}");
    assert!(late.sends().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_group_write_failing_for_a_moment_is_tried_again_and_nothing_is_sent_twice() {
    // The first three group writes fail (throttled): their chats' confirmations are tried again.
    let ledger = SlowLedger::new(3);
    let clock = clock();
    let telegram = Telegram::default();
    let report = run(&telegram, &ledger, &clock, "workflow")
        .await
        .expect("run");
    assert_eq!((report.sent, report.remaining), (CHATS as usize, 0));
    each_chat_told_once(&telegram.sends());
    all_confirmed(&ledger, &clock).await;
    assert_eq!(*ledger.failing_groups.lock().expect("lock"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_store_that_keeps_failing_the_group_writes_stops_the_run_as_store_unavailable() {
    let ledger = SlowLedger::new(usize::MAX);
    let clock = clock();
    let telegram = Telegram::default();
    let error = run(&telegram, &ledger, &clock, "workflow")
        .await
        .expect_err("the confirmations cannot be written");
    assert_eq!(error.error_name(), ErrorName::StoreUnavailable);
    assert!(matches!(error, BroadcastError::Store { .. }), "{error:?}");
    let report = error.report();
    // Nothing counted sent that is not confirmed; nothing unaccounted for.
    assert_eq!(report.sent, 0, "{report:?}");
    assert_eq!(report.remaining, CHATS as usize, "{report:?}");
    // What went out unconfirmed is the documented window: its claims stay until their lease,
    // so a run of another owner leaves those messages alone meanwhile.
    let sent = telegram.sends();
    assert!(
        !sent.is_empty() && sent.len() < CHATS as usize,
        "{}",
        sent.len()
    );
    for (chat, message, _) in &sent {
        let key = DeliveryKey {
            chat: *chat,
            message: message.clone(),
        };
        assert!(matches!(
            ledger
                .store
                .claim_delivery(&key, "other", clock.now(), clock.now())
                .await
                .expect("claim"),
            Claim::HeldBy { .. }
        ));
    }
}
