//! A run's confirmations, written in groups ([`DeliveryLedger::confirm_deliveries`]): at 1,000
//! messages a second, one write per confirmation is half the ledger's requests.
//!
//! Group commit: a confirmation is queued, and whichever waiting chat finds no write in flight
//! writes what is queued (up to [`GROUP`]) in one call. Nothing waits for a group to fill: at a low
//! rate each group is a single key, written at once; at a high rate the confirmations that come
//! during one write go together in the next, so groups grow with the rate and the store's latency.
//! A confirmation waits at most for the write in flight and its own: two round trips (a
//! BatchWriteItem of 25 is one, ~10 ms in DynamoDB) instead of one.
//!
//! Hand-written rather than a batching crate's background task: the run's chats are futures of one
//! task over a borrowed ledger, so the writer is a waiting chat, not a spawned task that would need
//! the ledger `'static`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Notify, oneshot};

use crate::clock::Clock;
use crate::errors::StoreError;
use crate::ports::{DeliveryKey, DeliveryLedger};

/// The most keys one write carries: four BatchWriteItem calls of 25, sent at once.
pub(super) const GROUP: usize = 100;

type Answer = oneshot::Sender<Result<(), StoreError>>;

pub(super) struct Confirmations<'a> {
    ledger: &'a dyn DeliveryLedger,
    clock: &'a dyn Clock,
    ttl: chrono::Duration,
    queue: Mutex<Vec<(DeliveryKey, Answer)>>,
    /// A write is in flight.
    writing: AtomicBool,
    /// Wakes the waiting chats when a write ends, so one of them writes what is queued.
    written: Notify,
}

impl<'a> Confirmations<'a> {
    pub(super) fn new(
        ledger: &'a dyn DeliveryLedger,
        clock: &'a dyn Clock,
        ttl: chrono::Duration,
    ) -> Self {
        Confirmations {
            ledger,
            clock,
            ttl,
            queue: Mutex::new(Vec::new()),
            writing: AtomicBool::new(false),
            written: Notify::new(),
        }
    }

    /// Confirms `key` (delivered from now until the ledger's TTL) in the next group written;
    /// returns once that write succeeded, or with its error (the caller may try again: the write
    /// is an unconditional put).
    pub(super) async fn confirm(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        let (answer, mut answered) = oneshot::channel();
        self.lock_queue().push((key.clone(), answer));
        loop {
            // Registered before looking, so the end of a write in flight is not missed.
            let woken = self.written.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if !self.writing.swap(true, Ordering::SeqCst) {
                let _writer = Writer(self);
                self.write_group().await;
            }
            match answered.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return Err(abandoned()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            tokio::select! {
                result = &mut answered => return result.unwrap_or_else(|_| Err(abandoned())),
                () = &mut woken => {}
            }
        }
    }

    /// Writes the oldest queued keys (at most [`GROUP`]) and answers each.
    async fn write_group(&self) {
        let group: Vec<(DeliveryKey, Answer)> = {
            let mut queue = self.lock_queue();
            let take = queue.len().min(GROUP);
            queue.drain(..take).collect()
        };
        if group.is_empty() {
            return;
        }
        let keys: Vec<DeliveryKey> = group.iter().map(|(key, _)| key.clone()).collect();
        let at = self.clock.now();
        let result = self
            .ledger
            .confirm_deliveries(&keys, at, at + self.ttl)
            .await;
        for (_, answer) in group {
            // A dropped receiver is a chat no longer waiting (its run was dropped): nothing to tell.
            let _ = answer.send(result.clone());
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<(DeliveryKey, Answer)>> {
        // Held only to push or drain, never across an await: a poisoned lock still holds a
        // consistent queue.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Ends a write, also when the writing chat's future is dropped mid-write (its group's senders
/// are dropped with it, so their chats get [`abandoned`], not a hang): the next waiting chat
/// writes.
struct Writer<'w, 'a>(&'w Confirmations<'a>);

impl Drop for Writer<'_, '_> {
    fn drop(&mut self) {
        self.0.writing.store(false, Ordering::SeqCst);
        self.0.written.notify_waiters();
    }
}

/// The write carrying a confirmation went away unanswered.
fn abandoned() -> StoreError {
    StoreError::Unavailable("the write carrying this confirmation was abandoned".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a failed expectation is its failure.

    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use tokio::time::Instant;

    use super::*;
    use crate::adapters::memory_store::MemoryStore;
    use crate::clock::ManualClock;
    use crate::domain::ChatId;
    use crate::ports::Claim;

    /// The memory ledger answering group writes after 10 ms; the first one never answers when
    /// `hang_first`.
    struct Ledger {
        store: MemoryStore,
        hang_first: bool,
        groups: Mutex<Vec<usize>>,
    }

    #[async_trait]
    impl DeliveryLedger for Ledger {
        async fn claim_delivery(
            &self,
            key: &DeliveryKey,
            owner: &str,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
        ) -> Result<Claim, StoreError> {
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
            self.store.confirm_delivery(key, at, expires_at).await
        }
        async fn confirm_deliveries(
            &self,
            keys: &[DeliveryKey],
            at: DateTime<Utc>,
            expires_at: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            let first = {
                let mut groups = self.groups.lock().unwrap();
                groups.push(keys.len());
                groups.len() == 1
            };
            if first && self.hang_first {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.store.confirm_deliveries(keys, at, expires_at).await
        }
        async fn release_delivery(&self, key: &DeliveryKey, owner: &str) -> Result<(), StoreError> {
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

    fn ledger(hang_first: bool) -> Ledger {
        Ledger {
            store: MemoryStore::new(),
            hang_first,
            groups: Mutex::new(Vec::new()),
        }
    }

    fn key(chat: i64) -> DeliveryKey {
        DeliveryKey {
            chat: ChatId(chat),
            message: "stage:6@t#1".into(),
        }
    }

    fn clock() -> ManualClock {
        ManualClock::at_local(2026, 11, 28, 10, 0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_confirmation_is_written_at_once_not_held_for_a_group() {
        let (ledger, clock) = (ledger(false), clock());
        let confirmations = Confirmations::new(&ledger, &clock, chrono::Duration::days(7));
        let start = Instant::now();
        confirmations.confirm(&key(1)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        assert!(
            ledger
                .store
                .was_delivered(&key(1), clock.now())
                .await
                .unwrap()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn confirmations_during_a_write_go_together_in_the_next() {
        let (ledger, clock) = (ledger(false), clock());
        let confirmations = Confirmations::new(&ledger, &clock, chrono::Duration::days(7));
        let confirmations = &confirmations;
        let results = futures::future::join_all(
            (1..=250).map(|chat| async move { confirmations.confirm(&key(chat)).await }),
        )
        .await;
        assert!(results.iter().all(Result::is_ok));
        // The first alone (no write was in flight), then the rest in groups of at most 100.
        assert_eq!(*ledger.groups.lock().unwrap(), vec![1, 100, 100, 49]);
        for chat in 1..=250 {
            assert!(
                ledger
                    .store
                    .was_delivered(&key(chat), clock.now())
                    .await
                    .unwrap()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_writer_dropped_mid_write_does_not_hold_up_the_next_confirmations() {
        let (ledger, clock) = (ledger(true), clock());
        let confirmations = Confirmations::new(&ledger, &clock, chrono::Duration::days(7));
        let confirmations = &confirmations;
        // Chat 1 writes first, and its write never ends: its future is dropped (a run cut off).
        let first = key(1);
        let writer = tokio::time::timeout(Duration::from_millis(50), confirmations.confirm(&first));
        let waiting = async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            confirmations.confirm(&key(2)).await
        };
        let (cut, second) = tokio::join!(writer, waiting);
        assert!(cut.is_err(), "the hanging write should have been cut off");
        // Chat 2 was queued while chat 1 wrote: the next write carries it, no hang.
        second.unwrap();
        assert!(
            ledger
                .store
                .was_delivered(&key(2), clock.now())
                .await
                .unwrap()
        );
        assert!(
            !ledger
                .store
                .was_delivered(&key(1), clock.now())
                .await
                .unwrap()
        );
        assert_eq!(*ledger.groups.lock().unwrap(), vec![1, 1]);
    }
}
