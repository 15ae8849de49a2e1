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
