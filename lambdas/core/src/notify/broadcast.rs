//! Sends a batch of messages through a [`Messenger`]: concurrently, paced to Telegram's limits,
//! retried within bounds, within the invocation's deadline, and exactly once per chat and event
//! through the [`DeliveryLedger`], whichever run (workflow, stream record, retry, redelivery) carries
//! the event.
//!
//! # Claim before send
//!
//! Each message is *claimed* in the ledger (a conditional write naming this run and a lease) before
//! it is sent, and *confirmed* (a delivered entry) right after Telegram accepted it. A run that finds
//! a delivered entry skips the message; one that finds another run's live claim leaves it to that
//! run; a claim whose owner died is taken over once its lease ends (or at once by a retry of the
//! same run, which carries the same owner name).
//!
//! One window remains, and cannot be closed because Telegram has no idempotency key: a message that
//! Telegram accepted whose confirmation is lost (the process dies, or the store fails, between the
//! send's answer and the confirming write) is sent again by the run that takes the claim over: at
//! once by a retry of the same run, otherwise when the lease (`BroadcastConfig::claim_lease`, 90 s)
//! ends. Confirmations are written in groups ([`Confirmations`]): the window is the group write in
//! flight and the confirmation's own, two store round trips (~20 ms) where a write each was one.
//! Claims are written one by one, each before its send. A run the store stops sends nothing more:
//! a message waiting for its slot gives its claim back, as its send could not be confirmed.
//!
//! # Pacing and concurrency
//!
//! Up to `concurrency` chats are served at once, each chat's messages in order; every send takes a
//! slot from the process-wide [`Pacer`], so ledger round trips overlap with other chats' sends and
//! never serialise them. A 429 pauses that chat only.
//!
//! # Paid broadcasts
//!
//! When the pacer pays (`TELEGRAM_PAID_BROADCAST_RATE`), a send the free budget cannot carry goes
//! with `allow_paid_broadcast` ([`Messenger::send_paid_delivery`]). Telegram answering a paid send
//! with a 429, or refusing it for want of Stars (a 400 about paid broadcasts or Stars), drops the
//! rest of the run to the free rate: logged, reported in [`BroadcastReport::paid_fallback`], and
//! the message is tried again at the free rate under the same claim (a refused send was not
//! delivered, so nothing is sent twice).
//!
//! # Superseded news
//!
//! A run may carry a [`Freshness`] check: a message it says is no longer current (a newer stage
//! change was stored since it was planned, and the chat's forecast differs under it) is not
//! sent, and is counted in [`BroadcastReport::superseded`]: the newer announcement tells the chat.
//!
//! # Deadline
//!
//! No send is started whose slot falls after the deadline less `deadline_margin`; what is left is
//! counted in [`BroadcastReport::remaining`] and the next run resumes it from the ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{StreamExt, stream};
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep, sleep_until};

use crate::backoff::Backoff;
use crate::clock::Clock;
use crate::domain::ChatId;
use crate::errors::{ErrorName, Named, StoreError};
use crate::ports::{
    Claim, DeliveryKey, DeliveryLedger, Message, Messenger, SendError, SubscriptionStore,
};

use super::confirmations::Confirmations;
use super::pacing::{Fare, Pacer};

/// One message for one chat, under the key that makes it idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub key: DeliveryKey,
    pub message: Message,
}

impl Outgoing {
    pub fn new(chat: ChatId, id: impl Into<String>, message: Message) -> Self {
        Outgoing {
            key: DeliveryKey {
                chat,
                message: id.into(),
            },
            message,
        }
    }

    /// The parts of one rendered text, keyed `id#1`, `id#2`, ...: each part is recorded on its own, so
    /// a rerun resumes after the last part sent. Use this for every text that may split (all of
    /// `render` but the reminder), even when it did not, so keys stay stable when it one day does.
    pub fn parts(chat: ChatId, id: &str, parts: Vec<Message>) -> Vec<Outgoing> {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, message)| Outgoing::new(chat, format!("{id}#{}", i + 1), message))
            .collect()
    }

    pub fn chat(&self) -> ChatId {
        self.key.chat
    }
}

/// The longest pause between two tries of one send, however many tries `max_attempts` allows.
const MAX_SEND_BACKOFF: Duration = Duration::from_secs(8);

/// A confirmation is tried this often, a moment apart: until it is written, the message is the one
/// a takeover would send twice, so it is worth a short wait but not the run's.
const CONFIRM_ATTEMPTS: u32 = 3;
const CONFIRM_BACKOFF: Backoff =
    Backoff::new(Duration::from_millis(100), Duration::from_millis(400));

#[derive(Debug, Clone)]
pub struct BroadcastConfig {
    /// Tries per message for rate limits and transient failures before the run leaves it to the next.
    pub max_attempts: u32,
    /// A flood-control pause longer than this leaves the message to the next run rather than holding
    /// its claim (and a concurrency slot) that long.
    pub max_retry_after: Duration,
    /// The longest first pause after a transient failure; the ceiling doubles with each attempt
    /// and each pause is drawn below it (full jitter: 128 chats failing at once do not come back
    /// at once).
    pub backoff: Duration,
    /// How long the ledger keeps a delivery: longer than any retry or redelivery can come.
    pub ledger_ttl: chrono::Duration,
    /// How long a claim holds off other runs: longer than a claimed message can wait for its slot
    /// and its send (`concurrency` slots ahead, a flood-control pause, a slow Telegram answer).
    pub claim_lease: chrono::Duration,
    /// Chats served at once.
    pub concurrency: usize,
    /// Chats served at once while the run may pay (paid broadcasts on): enough to keep the paid
    /// rate while Telegram answers slowly. A run that drops to the free rate goes back to
    /// `concurrency`, so no claim waits longer for its slot than at the free rate.
    pub paid_concurrency: usize,
    /// No send starts later than this before the deadline: room for one slow send and its
    /// confirmation before the invocation is cut off.
    pub deadline_margin: Duration,
}

impl Default for BroadcastConfig {
    fn default() -> Self {
        BroadcastConfig {
            max_attempts: 4,
            max_retry_after: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
            ledger_ttl: chrono::Duration::days(7),
            claim_lease: chrono::Duration::seconds(90),
            concurrency: 128,
            paid_concurrency: 128,
            deadline_margin: Duration::from_secs(15),
        }
    }
}

/// A message Telegram refused for its chat (not retried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedDelivery {
    pub chat: ChatId,
    pub message: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub from: ChatId,
    pub to: ChatId,
}

/// What a broadcast did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BroadcastReport {
    /// Messages planned: given to the run (a run cut off by its deadline plans no further).
    pub planned: usize,
    pub sent: usize,
    /// Found in the ledger: sent by an earlier or another run.
    pub already_delivered: usize,
    /// Claimed by another live run, which sends them (or its retry does).
    pub held_elsewhere: usize,
    /// Not sent by this run: out of time, or Telegram kept failing. The next run resumes them.
    pub remaining: usize,
    pub failed: Vec<FailedDelivery>,
    /// Chats that blocked the bot or are gone; their subscriptions were removed.
    pub removed_chats: Vec<ChatId>,
    /// Messages not sent because their chat was removed.
    pub dropped: usize,
    pub migrated_chats: Vec<Migration>,
    /// Sent as paid broadcasts (0.1 Star each).
    pub paid: usize,
    /// Why the run dropped to the free rate, if it did.
    pub paid_fallback: Option<String>,
    /// Not sent because a newer announcement replaced them ([`Freshness`]).
    pub superseded: usize,
}

impl BroadcastReport {
    fn absorb(&mut self, other: BroadcastReport) {
        self.planned += other.planned;
        self.sent += other.sent;
        self.already_delivered += other.already_delivered;
        self.held_elsewhere += other.held_elsewhere;
        self.remaining += other.remaining;
        self.failed.extend(other.failed);
        self.removed_chats.extend(other.removed_chats);
        self.dropped += other.dropped;
        self.migrated_chats.extend(other.migrated_chats);
        self.paid += other.paid;
        self.superseded += other.superseded;
        if self.paid_fallback.is_none() {
            self.paid_fallback = other.paid_fallback;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    /// Nothing could be sent: Telegram failed every try. `report` is the work done so far.
    #[error("Telegram unavailable while sending to chat {chat}: {detail}")]
    TelegramUnavailable {
        chat: ChatId,
        detail: String,
        report: Box<BroadcastReport>,
    },
    #[error("Telegram refused the bot token")]
    TelegramUnauthorized { report: Box<BroadcastReport> },
    #[error("broadcast stopped by the store: {source}")]
    Store {
        #[source]
        source: StoreError,
        report: Box<BroadcastReport>,
    },
}

impl BroadcastError {
    pub fn report(&self) -> &BroadcastReport {
        match self {
            BroadcastError::TelegramUnavailable { report, .. }
            | BroadcastError::TelegramUnauthorized { report }
            | BroadcastError::Store { report, .. } => report,
        }
    }
}

impl Named for BroadcastError {
    fn error_name(&self) -> ErrorName {
        match self {
            BroadcastError::TelegramUnavailable { .. } => ErrorName::TelegramUnavailable,
            BroadcastError::TelegramUnauthorized { .. } => ErrorName::TelegramUnauthorized,
            BroadcastError::Store { source, .. } => source.error_name(),
        }
    }
}

/// Why the whole run must stop.
#[derive(Debug)]
enum Stop {
    Unauthorized,
    Store(StoreError),
}

/// Whether a planned message still tells the current state when its turn comes.
#[async_trait::async_trait]
pub trait Freshness: Send + Sync {
    /// False when `outgoing` would tell its chat a stale state that a newer message tells it
    /// instead: it is then not sent (counted superseded).
    async fn is_current(&self, outgoing: &Outgoing) -> Result<bool, StoreError>;
}

/// What became of one message.
enum Outcome {
    Sent,
    /// Sent with `allow_paid_broadcast`.
    SentPaid,
    Superseded,
    AlreadyDelivered,
    HeldElsewhere,
    Refused(String),
    ChatRemoved,
    /// Left for the next run: out of time, or Telegram kept failing (the detail says which).
    Left(Option<String>),
}

/// Who sends, until when.
#[derive(Debug, Clone)]
pub struct Run {
    /// Names this run's claims. A retry of the same work must use the same owner (the execution
    /// name, the stream record's event id), so it takes its own claims back at once.
    pub owner: String,
    /// When the invocation is cut off; `None`: no deadline.
    pub deadline: Option<Instant>,
    /// Checked before each message is claimed; `None`: every message stays current.
    pub freshness: Option<Arc<dyn Freshness>>,
    /// Goes before the runs that are not (reminders: worth nothing once their outage began);
    /// see the pacer's "Reminders first".
    pub urgent: bool,
}

impl std::fmt::Debug for dyn Freshness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Freshness")
    }
}

impl Run {
    pub fn new(owner: impl Into<String>) -> Self {
        Run {
            owner: owner.into(),
            deadline: None,
            freshness: None,
            urgent: false,
        }
    }

    /// This run goes first: while it sends, other runs start no new message.
    pub fn urgent(mut self) -> Self {
        self.urgent = true;
        self
    }

    pub fn with_freshness(mut self, freshness: Option<Arc<dyn Freshness>>) -> Self {
        self.freshness = freshness;
        self
    }

    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }
}

pub struct Broadcaster<'a> {
    messenger: &'a dyn Messenger,
    ledger: &'a dyn DeliveryLedger,
    subscriptions: &'a dyn SubscriptionStore,
    clock: &'a dyn Clock,
    pacer: Arc<Pacer>,
    config: BroadcastConfig,
}

/// Shared by the chats of one run.
struct RunState<'r> {
    run: &'r Run,
    /// No send starts after this.
    cutoff: Option<Instant>,
    stopped: AtomicBool,
    stop: Mutex<Option<Stop>>,
    /// The last Telegram failure, for the error when nothing could be sent.
    last_unavailable: Mutex<Option<(ChatId, String)>>,
    /// Whether sends beyond the free budget may still be paid for: false once Telegram refused a
    /// paid send, for the rest of the run.
    may_pay: AtomicBool,
    /// Why the run dropped to the free rate.
    fallback: Mutex<Option<String>>,
    /// Chats served at once: a chat takes one before its first claim and holds it to its end.
    permits: tokio::sync::Semaphore,
    /// Permits beyond the free rate's `concurrency`, given up when the run drops to it.
    paid_extra: usize,
    /// Permits still to give up: a chat finishing while some are owed forgets its own.
    owed: std::sync::atomic::AtomicUsize,
    /// The run's confirmations, written in groups.
    confirmations: Confirmations<'r>,
}

impl RunState<'_> {
    /// The whole run stops (the first reason is the one reported).
    async fn stop_with(&self, stop: Stop) {
        self.stopped.store(true, Ordering::SeqCst);
        let mut slot = self.stop.lock().await;
        if slot.is_none() {
            *slot = Some(stop);
        }
    }

    fn may_pay(&self) -> bool {
        self.may_pay.load(Ordering::SeqCst)
    }

    /// Telegram refused a paid send: the rest of the run goes at the free rate.
    async fn drop_to_free(&self, chat: ChatId, reason: String) {
        if self.may_pay.swap(false, Ordering::SeqCst) {
            tracing::warn!(%chat, %reason, owner = %self.run.owner, "paid broadcast refused: the rest of this run goes at the free rate");
            // Fewer chats at once: free permits go now, those in use as their chats finish.
            let gone = self.permits.forget_permits(self.paid_extra);
            self.owed.store(self.paid_extra - gone, Ordering::SeqCst);
            *self.fallback.lock().await = Some(reason);
        }
    }
}

impl<'a> Broadcaster<'a> {
    pub fn new(
        messenger: &'a dyn Messenger,
        ledger: &'a dyn DeliveryLedger,
        subscriptions: &'a dyn SubscriptionStore,
        clock: &'a dyn Clock,
        pacer: Arc<Pacer>,
        config: BroadcastConfig,
    ) -> Self {
        Broadcaster {
            messenger,
            ledger,
            subscriptions,
            clock,
            pacer,
            config,
        }
    }

    /// Sends `batch` as `run`. Messages to one chat go in batch order; chats are served
    /// concurrently, paced by the shared pacer.
    pub async fn send(
        &self,
        batch: Vec<Outgoing>,
        run: &Run,
    ) -> Result<BroadcastReport, BroadcastError> {
        // Every chat of a batch is planned already: each one past the cutoff counts as remaining.
        self.send_stream(stream::iter(by_chat(batch).into_iter().map(Ok)), run, false)
            .await
    }

    /// Sends the chats `planned` yields as `run`: each item is one chat's messages, in order (a
    /// chat must come once). The stream is read only as chats are served (`concurrency` at a
    /// time), so a planner reading subscribers page by page holds a page, not every chat. Once
    /// the deadline's cutoff has passed, no further chat is read: what was read and not sent is
    /// `remaining`, and the next run plans the rest. An error of the planner stops the run as a
    /// store error would.
    pub async fn send_planned<S>(
        &self,
        planned: S,
        run: &Run,
    ) -> Result<BroadcastReport, BroadcastError>
    where
        S: futures::Stream<Item = Result<Vec<Outgoing>, StoreError>> + Send,
    {
        self.send_stream(planned, run, true).await
    }

    /// `stop_reading`: read no further chat once the run is out of time or stopped.
    async fn send_stream<S>(
        &self,
        planned: S,
        run: &Run,
        stop_reading: bool,
    ) -> Result<BroadcastReport, BroadcastError>
    where
        S: futures::Stream<Item = Result<Vec<Outgoing>, StoreError>> + Send,
    {
        let state = RunState {
            run,
            cutoff: run
                .deadline
                .map(|d| d.checked_sub(self.config.deadline_margin).unwrap_or(d)),
            stopped: AtomicBool::new(false),
            stop: Mutex::new(None),
            last_unavailable: Mutex::new(None),
            may_pay: AtomicBool::new(self.pacer.pays()),
            fallback: Mutex::new(None),
            permits: tokio::sync::Semaphore::new(self.width()),
            paid_extra: self.width() - self.config.concurrency.max(1),
            owed: std::sync::atomic::AtomicUsize::new(0),
            confirmations: Confirmations::new(self.ledger, self.clock, self.config.ledger_ttl),
        };
        let state = &state;
        // Held while this run sends: the other runs wait (see the pacer's "Reminders first").
        let _urgent = run.urgent.then(|| self.pacer.urgent_run());
        // Messages read from the planner once the run was out of time or stopped: not served.
        let unserved = std::sync::atomic::AtomicUsize::new(0);
        let reports: Vec<BroadcastReport> = planned
            .take_while(|chat| {
                // No further chat is read once the run is out of time or stopped; the one just
                // read counts as remaining, the rest are left for the next run to plan.
                let over = stop_reading
                    && (state.stopped.load(Ordering::SeqCst)
                        || state.cutoff.is_some_and(|cutoff| Instant::now() >= cutoff));
                if over && let Ok(messages) = chat {
                    unserved.fetch_add(messages.len(), Ordering::SeqCst);
                }
                futures::future::ready(!over)
            })
            .map(|chat| async move {
                match chat {
                    Ok(messages) => {
                        let planned = messages.len();
                        let Some(chat) = messages.first().map(Outgoing::chat) else {
                            return BroadcastReport::default();
                        };
                        let mut report = self.serve_chat(chat, messages, state).await;
                        report.planned = planned;
                        report
                    }
                    Err(error) => {
                        state.stop_with(Stop::Store(error)).await;
                        BroadcastReport::default()
                    }
                }
            })
            .buffer_unordered(self.width())
            .collect()
            .await;
        let mut report = BroadcastReport::default();
        for one in reports {
            report.absorb(one);
        }
        report.paid_fallback = state.fallback.lock().await.take();
        let unserved = unserved.load(Ordering::SeqCst);
        report.planned += unserved;
        report.remaining += unserved;
        let stop = state.stop.lock().await.take();
        let unavailable = state.last_unavailable.lock().await.take();
        let error = match (stop, unavailable) {
            (Some(Stop::Unauthorized), _) => Some(BroadcastError::TelegramUnauthorized {
                report: Box::new(report.clone()),
            }),
            (Some(Stop::Store(source)), _) => Some(BroadcastError::Store {
                source,
                report: Box::new(report.clone()),
            }),
            // Some progress is a success that reports what is left; none is Telegram's failure.
            (None, Some((chat, detail))) if report.sent == 0 => {
                Some(BroadcastError::TelegramUnavailable {
                    chat,
                    detail,
                    report: Box::new(report.clone()),
                })
            }
            _ => None,
        };
        match error {
            Some(error) => {
                tracing::error!(error = %error, sent = error.report().sent, remaining = error.report().remaining, "broadcast stopped");
                Err(error)
            }
            None => {
                tracing::info!(
                    sent = report.sent,
                    already_delivered = report.already_delivered,
                    held_elsewhere = report.held_elsewhere,
                    remaining = report.remaining,
                    paid = report.paid,
                    superseded = report.superseded,
                    paid_fallback = report.paid_fallback.as_deref().unwrap_or(""),
                    failed = report.failed.len(),
                    removed_chats = report.removed_chats.len(),
                    migrated_chats = report.migrated_chats.len(),
                    "broadcast done"
                );
                Ok(report)
            }
        }
    }

    /// Chats served at once at most: more while the run may pay.
    fn width(&self) -> usize {
        let free = self.config.concurrency.max(1);
        match self.pacer.pays() {
            true => self.config.paid_concurrency.max(free),
            false => free,
        }
    }

    /// One chat's messages, in order. `target` follows the chat if it migrates.
    async fn serve_chat(
        &self,
        chat: ChatId,
        messages: Vec<Outgoing>,
        state: &RunState<'_>,
    ) -> BroadcastReport {
        // The semaphore is never closed; without a permit the chat is served all the same.
        let permit = state.permits.acquire().await.ok();
        let report = self.serve_chat_messages(chat, messages, state).await;
        if let Some(permit) = permit
            && state
                .owed
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            permit.forget();
        }
        report
    }

    async fn serve_chat_messages(
        &self,
        chat: ChatId,
        messages: Vec<Outgoing>,
        state: &RunState<'_>,
    ) -> BroadcastReport {
        let mut report = BroadcastReport::default();
        let mut target = chat;
        let total = messages.len();
        // The event whose parts another run holds: it sends them, this run skips them.
        let mut held: Option<String> = None;
        // The event whose first part was superseded: its later parts are too.
        let mut retired: Option<String> = None;
        for (done, outgoing) in messages.into_iter().enumerate() {
            let left = total - done;
            if state.stopped.load(Ordering::SeqCst) {
                report.remaining += left;
                break;
            }
            if held.as_deref() == Some(event_of(&outgoing.key.message)) {
                report.held_elsewhere += 1;
                continue;
            }
            if retired.as_deref() == Some(event_of(&outgoing.key.message)) {
                report.superseded += 1;
                continue;
            }
            match self
                .deliver(&outgoing, &mut target, state, &mut report)
                .await
            {
                Ok(Outcome::Sent) => report.sent += 1,
                Ok(Outcome::SentPaid) => {
                    report.sent += 1;
                    report.paid += 1;
                }
                Ok(Outcome::Superseded) => {
                    report.superseded += 1;
                    retired = Some(event_of(&outgoing.key.message).to_owned());
                }
                Ok(Outcome::AlreadyDelivered) => report.already_delivered += 1,
                Ok(Outcome::HeldElsewhere) => {
                    // The holder sends this event's later parts too; sending them here could
                    // overtake the part it is sending. The chat's other events (say, the status
                    // a `/refresh` asked for) are no one else's: they still go from here.
                    report.held_elsewhere += 1;
                    held = Some(event_of(&outgoing.key.message).to_owned());
                }
                Ok(Outcome::Refused(reason)) => {
                    tracing::warn!(chat = %target, message = %outgoing.key.message, %reason, "message refused");
                    report.failed.push(FailedDelivery {
                        chat: target,
                        message: outgoing.key.message.clone(),
                        reason,
                    });
                }
                Ok(Outcome::ChatRemoved) => {
                    report.dropped += left - 1;
                    break;
                }
                Ok(Outcome::Left(detail)) => {
                    if let Some(detail) = detail {
                        *state.last_unavailable.lock().await = Some((target, detail));
                    }
                    report.remaining += left;
                    break;
                }
                Err(stop) => {
                    state.stop_with(stop).await;
                    report.remaining += left;
                    break;
                }
            }
        }
        report
    }

    /// Claims, paces, sends and confirms one message to `target` (which it updates when the chat
    /// migrates), with its retries.
    async fn deliver(
        &self,
        outgoing: &Outgoing,
        target: &mut ChatId,
        state: &RunState<'_>,
        report: &mut BroadcastReport,
    ) -> Result<Outcome, Stop> {
        let key = &outgoing.key;
        let owner = state.run.owner.as_str();
        let mut attempts = 0;
        let mut migrated = false;
        let mut claimed = false;
        loop {
            if state.cutoff.is_some_and(|cutoff| Instant::now() >= cutoff) {
                return Ok(Outcome::Left(None));
            }
            // Reminders first at the free rate; a message already claimed goes on (its lease would
            // run out). A run that may pay does not wait: the paid rate carries both, and holding
            // it back would only make its news later.
            if !claimed
                && !state.run.urgent
                && !state.may_pay()
                && !self.pacer.yield_to_urgent(state.cutoff).await
            {
                return Ok(Outcome::Left(None));
            }
            if let Some(freshness) = &state.run.freshness
                && !freshness.is_current(outgoing).await.map_err(Stop::Store)?
            {
                // Our own claim from an earlier attempt of this message, if any, is given up.
                if claimed {
                    self.release(key, owner).await?;
                } else if self
                    .ledger
                    .was_delivered(key, self.clock.now())
                    .await
                    .map_err(Stop::Store)?
                {
                    // An earlier run told the chat before the newer change came: it was not kept
                    // back, so it is not counted superseded (a read, only for stale news).
                    return Ok(Outcome::AlreadyDelivered);
                }
                return Ok(Outcome::Superseded);
            }
            let now = self.clock.now();
            match self
                .ledger
                .claim_delivery(key, owner, now, now + self.config.claim_lease)
                .await
                .map_err(Stop::Store)?
            {
                Claim::Claimed => claimed = true,
                Claim::Delivered => return Ok(Outcome::AlreadyDelivered),
                Claim::HeldBy { .. } => return Ok(Outcome::HeldElsewhere),
            }
            let Some(slot) = self
                .pacer
                .reserve_slot(*target, state.cutoff, state.may_pay())
            else {
                self.release(key, owner).await?;
                return Ok(Outcome::Left(None));
            };
            sleep_until(slot.at).await;
            if state.stopped.load(Ordering::SeqCst) {
                // The run stopped while this message waited for its slot (the store failing,
                // say): a send now could not be confirmed, so it would be sent again by the run
                // that takes the claim over. Left for the next run instead.
                self.release(key, owner).await?;
                return Ok(Outcome::Left(None));
            }
            let fare = self.pacer.start(state.may_pay()).await;
            attempts += 1;
            let sent = match fare {
                Fare::Free => {
                    self.messenger
                        .send_delivery(*target, key, &outgoing.message)
                        .await
                }
                Fare::Paid => {
                    self.messenger
                        .send_paid_delivery(*target, key, &outgoing.message)
                        .await
                }
            };
            let failure = match sent {
                Ok(_) => {
                    self.confirm(key, state).await?;
                    if *target != key.chat {
                        // Also under the new id: a run planned after the move skips it too.
                        self.confirm(&migrated_key(key, *target), state).await?;
                    }
                    return Ok(match fare {
                        Fare::Free => Outcome::Sent,
                        Fare::Paid => Outcome::SentPaid,
                    });
                }
                Err(failure) => failure,
            };
            match failure {
                SendError::Rejected { status, reason }
                    if fare == Fare::Paid && is_paid_refusal(status, &reason) =>
                {
                    // Not sent: the same claim carries the message again, at the free rate. The
                    // refusal is no attempt of the message's own.
                    state
                        .drop_to_free(*target, format!("{status}: {reason}"))
                        .await;
                    attempts -= 1;
                }
                SendError::RateLimited { retry_after } => {
                    if fare == Fare::Paid {
                        state
                            .drop_to_free(
                                *target,
                                format!(
                                    "429 on a paid send (retry after {}s)",
                                    retry_after.as_secs()
                                ),
                            )
                            .await;
                    }
                    self.pacer.pause_chat(*target, retry_after);
                    if retry_after > self.config.max_retry_after
                        || attempts >= self.config.max_attempts
                    {
                        self.release(key, owner).await?;
                        return Ok(Outcome::Left(Some(format!(
                            "still rate limited after {attempts} attempts (retry after {}s)",
                            retry_after.as_secs()
                        ))));
                    }
                    tracing::warn!(chat = %target, retry_after_s = retry_after.as_secs(), "flood control: pausing this chat");
                }
                SendError::Unavailable { detail } => {
                    if attempts >= self.config.max_attempts {
                        self.release(key, owner).await?;
                        return Ok(Outcome::Left(Some(format!(
                            "{detail} (after {attempts} attempts)"
                        ))));
                    }
                    let pause = Backoff::new(self.config.backoff, MAX_SEND_BACKOFF).pause(attempts);
                    tracing::warn!(chat = %target, %detail, pause_ms = pause.as_millis() as u64, "send failed, retrying");
                    sleep(pause).await;
                }
                SendError::Unauthorized => {
                    self.release(key, owner).await?;
                    return Err(Stop::Unauthorized);
                }
                SendError::ChatUnreachable { reason } => {
                    let removed = self
                        .subscriptions
                        .remove_chat(*target)
                        .await
                        .map_err(Stop::Store)?;
                    tracing::info!(chat = %target, %reason, subscriptions = removed, "chat unreachable: subscriptions removed");
                    report.removed_chats.push(*target);
                    // Dealt with: no later run should try this chat's message again.
                    self.confirm(key, state).await?;
                    return Ok(Outcome::ChatRemoved);
                }
                SendError::ChatMigrated { to } if !migrated => {
                    let moved = self
                        .subscriptions
                        .move_chat(*target, to, self.clock.now())
                        .await
                        .map_err(Stop::Store)?;
                    tracing::info!(from = %target, %to, subscriptions = moved, "chat migrated: following it");
                    report.migrated_chats.push(Migration { from: *target, to });
                    *target = to;
                    migrated = true;
                    if self
                        .ledger
                        .was_delivered(&migrated_key(key, to), self.clock.now())
                        .await
                        .map_err(Stop::Store)?
                    {
                        self.confirm(key, state).await?;
                        return Ok(Outcome::AlreadyDelivered);
                    }
                }
                SendError::ChatMigrated { to } => {
                    self.confirm(key, state).await?;
                    return Ok(Outcome::Refused(format!(
                        "chat migrated again, to {to}, right after a migration"
                    )));
                }
                SendError::Rejected { status, reason } => {
                    // Telegram will not take this message however often it is sent: dealt with.
                    self.confirm(key, state).await?;
                    return Ok(Outcome::Refused(format!("{status}: {reason}")));
                }
            }
        }
    }

    /// Marks the delivery done, in the run's next group of confirmations. A failed write is
    /// retried briefly: until it succeeds, the message is the one that a takeover would send twice.
    async fn confirm(&self, key: &DeliveryKey, state: &RunState<'_>) -> Result<(), Stop> {
        let mut last = None;
        for attempt in 0..CONFIRM_ATTEMPTS {
            if attempt > 0 {
                sleep(CONFIRM_BACKOFF.pause(attempt)).await;
            }
            match state.confirmations.confirm(key).await {
                Ok(()) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
        let error = last.unwrap_or_else(|| StoreError::Unavailable("confirm failed".to_owned()));
        tracing::error!(chat = %key.chat, message = %key.message, %error, "sent but not confirmed: a takeover will send it again");
        Err(Stop::Store(error))
    }

    async fn release(&self, key: &DeliveryKey, owner: &str) -> Result<(), Stop> {
        self.ledger
            .release_delivery(key, owner)
            .await
            .map_err(Stop::Store)
    }
}

/// Telegram refusing a paid send as such (too few Stars on the bot's balance, paid broadcasts not
/// enabled for the bot), not the message: a 400 whose description names paid broadcasts or Stars.
/// The Bot API documents no error code for it, so the description is all there is to go on.
pub fn is_paid_refusal(status: u16, reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    matches!(status, 0 | 400 | 402)
        && (reason.contains("paid broadcast")
            || reason.contains("paid_broadcast")
            || reason.contains("stars")
            || reason.contains("balance_too_low"))
}

/// `batch` as one list a chat, chats in the order of their first message, each chat's messages
/// in batch order.
pub fn by_chat(batch: Vec<Outgoing>) -> Vec<Vec<Outgoing>> {
    let mut chats: Vec<Vec<Outgoing>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for outgoing in batch {
        let i = *index.entry(outgoing.chat()).or_insert_with(|| {
            chats.push(Vec::new());
            chats.len() - 1
        });
        chats[i].push(outgoing);
    }
    chats
}

/// The same delivery, to the chat a group migrated to.
fn migrated_key(key: &DeliveryKey, to: ChatId) -> DeliveryKey {
    DeliveryKey {
        chat: to,
        message: key.message.clone(),
    }
}

/// The event a delivery key's message names: the key without its `#<part>`.
fn event_of(message: &str) -> &str {
    message.split_once('#').map_or(message, |(event, _)| event)
}
