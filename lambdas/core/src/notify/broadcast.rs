//! Sends a batch of messages through a [`Messenger`]: paced, retried within bounds, and idempotent
//! through the [`DeliveryLedger`], so a rerun after a crash or a Step Functions retry sends each
//! message once.
//!
//! Exactly once holds except in one window: a send that succeeded but whose ledger write failed (or
//! the process died in between) is sent again by the rerun. The record is written right after each
//! send, before the next one, to keep that window to a single message.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use serde::Serialize;
use tokio::time::sleep;

use crate::clock::Clock;
use crate::domain::ChatId;
use crate::errors::{ErrorName, Named, StoreError};
use crate::ports::{DeliveryKey, DeliveryLedger, Message, Messenger, SendError, SubscriptionStore};

use super::pacing::Pacer;

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

#[derive(Debug, Clone)]
pub struct BroadcastConfig {
    /// At most one message per this interval overall (1/30 s: Telegram's ~30 messages per second).
    pub overall_gap: Duration,
    /// At most one message per this interval to one chat. (Groups also have a limit of about 20 a
    /// minute; a notify run sends a group a few messages, and flood control covers the rest.)
    pub chat_gap: Duration,
    /// Tries per message for rate limits and transient failures before the broadcast gives up.
    pub max_attempts: u32,
    /// A flood-control pause longer than this fails the broadcast at once: better a Step Functions
    /// retry later than a Lambda sleeping towards its timeout.
    pub max_retry_after: Duration,
    /// First pause after a transient failure; doubles with each attempt.
    pub backoff: Duration,
    /// How long the ledger keeps a delivery: longer than any retry or redelivery can come.
    pub ledger_ttl: chrono::Duration,
}

impl Default for BroadcastConfig {
    fn default() -> Self {
        BroadcastConfig {
            overall_gap: Duration::from_millis(34),
            chat_gap: Duration::from_secs(1),
            max_attempts: 4,
            max_retry_after: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
            ledger_ttl: chrono::Duration::days(7),
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
    pub sent: usize,
    /// Found in the ledger: sent by an earlier run.
    pub already_delivered: usize,
    pub failed: Vec<FailedDelivery>,
    /// Chats that blocked the bot or are gone; their subscriptions were removed.
    pub removed_chats: Vec<ChatId>,
    /// Messages not sent because their chat was removed.
    pub dropped: usize,
    pub migrated_chats: Vec<Migration>,
}

#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    /// The run stopped; a retry skips what the ledger shows as sent. `report` is the work done so far.
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

/// Why the run must stop, before the partial report is attached.
enum Stop {
    Unavailable { chat: ChatId, detail: String },
    Unauthorized,
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Stop::Store(error)
    }
}

/// What became of one message.
enum Outcome {
    Sent,
    AlreadyDelivered,
    Refused(String),
    ChatRemoved,
}

pub struct Broadcaster<'a> {
    messenger: &'a dyn Messenger,
    ledger: &'a dyn DeliveryLedger,
    subscriptions: &'a dyn SubscriptionStore,
    clock: &'a dyn Clock,
    config: BroadcastConfig,
}

/// The messages still to send to one chat, in order. `target` follows the chat if it migrates.
struct ChatQueue {
    target: ChatId,
    messages: VecDeque<Outgoing>,
}

impl<'a> Broadcaster<'a> {
    pub fn new(
        messenger: &'a dyn Messenger,
        ledger: &'a dyn DeliveryLedger,
        subscriptions: &'a dyn SubscriptionStore,
        clock: &'a dyn Clock,
        config: BroadcastConfig,
    ) -> Self {
        Broadcaster {
            messenger,
            ledger,
            subscriptions,
            clock,
            config,
        }
    }

    /// Sends `batch`. Messages to one chat go in batch order; chats take turns, the one allowed
    /// soonest first, so a chat with several messages does not hold up the others.
    pub async fn send(&self, batch: Vec<Outgoing>) -> Result<BroadcastReport, BroadcastError> {
        let mut report = BroadcastReport::default();
        match self.run(batch, &mut report).await {
            Ok(()) => {
                tracing::info!(
                    sent = report.sent,
                    already_delivered = report.already_delivered,
                    failed = report.failed.len(),
                    removed_chats = report.removed_chats.len(),
                    migrated_chats = report.migrated_chats.len(),
                    "broadcast done"
                );
                Ok(report)
            }
            Err(stop) => {
                let report = Box::new(report);
                let error = match stop {
                    Stop::Unavailable { chat, detail } => BroadcastError::TelegramUnavailable {
                        chat,
                        detail,
                        report,
                    },
                    Stop::Unauthorized => BroadcastError::TelegramUnauthorized { report },
                    Stop::Store(source) => BroadcastError::Store { source, report },
                };
                tracing::error!(error = %error, sent = error.report().sent, "broadcast stopped");
                Err(error)
            }
        }
    }

    async fn run(&self, batch: Vec<Outgoing>, report: &mut BroadcastReport) -> Result<(), Stop> {
        let mut queues: Vec<ChatQueue> = Vec::new();
        let mut index: HashMap<ChatId, usize> = HashMap::new();
        for outgoing in batch {
            let chat = outgoing.chat();
            let i = *index.entry(chat).or_insert_with(|| {
                queues.push(ChatQueue {
                    target: chat,
                    messages: VecDeque::new(),
                });
                queues.len() - 1
            });
            queues[i].messages.push_back(outgoing);
        }

        let mut pacer = Pacer::new(self.config.overall_gap, self.config.chat_gap);
        // Earliest-allowed chat first; ties in order of first appearance.
        let start = tokio::time::Instant::now();
        let mut turns: BinaryHeap<Reverse<(tokio::time::Instant, usize)>> =
            (0..queues.len()).map(|i| Reverse((start, i))).collect();
        while let Some(Reverse((_, i))) = turns.pop() {
            let queue = &mut queues[i];
            let Some(outgoing) = queue.messages.pop_front() else {
                continue;
            };
            match self
                .deliver(&outgoing, &mut queue.target, &mut pacer, report)
                .await?
            {
                Outcome::Sent => report.sent += 1,
                Outcome::AlreadyDelivered => report.already_delivered += 1,
                Outcome::Refused(reason) => {
                    tracing::warn!(chat = %queue.target, message = %outgoing.key.message, %reason, "message refused");
                    report.failed.push(FailedDelivery {
                        chat: queue.target,
                        message: outgoing.key.message.clone(),
                        reason,
                    });
                }
                Outcome::ChatRemoved => {
                    report.dropped += queue.messages.len();
                    queue.messages.clear();
                }
            }
            if !queue.messages.is_empty() {
                turns.push(Reverse((pacer.chat_ready_at(queue.target), i)));
            }
        }
        Ok(())
    }

    /// Sends one message to `target` (which it updates when the chat migrates), with its retries.
    async fn deliver(
        &self,
        outgoing: &Outgoing,
        target: &mut ChatId,
        pacer: &mut Pacer,
        report: &mut BroadcastReport,
    ) -> Result<Outcome, Stop> {
        let original = &outgoing.key;
        let mut attempts = 0;
        let mut migrated = false;
        loop {
            let key = DeliveryKey {
                chat: *target,
                message: original.message.clone(),
            };
            let now = self.clock.now();
            if self.ledger.was_delivered(original, now).await?
                || (key != *original && self.ledger.was_delivered(&key, now).await?)
            {
                return Ok(Outcome::AlreadyDelivered);
            }
            attempts += 1;
            pacer.wait_turn(*target).await;
            let failure = match self
                .messenger
                .send_delivery(*target, &key, &outgoing.message)
                .await
            {
                Ok(_) => {
                    self.record(original).await?;
                    if key != *original {
                        self.record(&key).await?;
                    }
                    return Ok(Outcome::Sent);
                }
                Err(failure) => failure,
            };
            match failure {
                SendError::RateLimited { retry_after } => {
                    if retry_after > self.config.max_retry_after
                        || attempts >= self.config.max_attempts
                    {
                        return Err(Stop::Unavailable {
                            chat: *target,
                            detail: format!(
                                "still rate limited after {attempts} attempts (retry after {}s)",
                                retry_after.as_secs()
                            ),
                        });
                    }
                    tracing::warn!(chat = %target, retry_after_s = retry_after.as_secs(), "flood control: pausing");
                    pacer.pause_all_for(retry_after);
                }
                SendError::Unavailable { detail } => {
                    if attempts >= self.config.max_attempts {
                        return Err(Stop::Unavailable {
                            chat: *target,
                            detail: format!("{detail} (after {attempts} attempts)"),
                        });
                    }
                    let pause = self.config.backoff * 2u32.saturating_pow(attempts - 1);
                    tracing::warn!(chat = %target, %detail, pause_ms = pause.as_millis() as u64, "send failed, retrying");
                    sleep(pause).await;
                }
                SendError::Unauthorized => return Err(Stop::Unauthorized),
                SendError::ChatUnreachable { reason } => {
                    let removed = self.subscriptions.remove_chat(*target).await?;
                    tracing::info!(chat = %target, %reason, subscriptions = removed, "chat unreachable: subscriptions removed");
                    report.removed_chats.push(*target);
                    return Ok(Outcome::ChatRemoved);
                }
                SendError::ChatMigrated { to } if !migrated => {
                    let moved = self
                        .subscriptions
                        .move_chat(*target, to, self.clock.now())
                        .await?;
                    tracing::info!(from = %target, %to, subscriptions = moved, "chat migrated: following it");
                    report.migrated_chats.push(Migration { from: *target, to });
                    *target = to;
                    migrated = true;
                }
                SendError::ChatMigrated { to } => {
                    return Ok(Outcome::Refused(format!(
                        "chat migrated again, to {to}, right after a migration"
                    )));
                }
                SendError::Rejected { status, reason } => {
                    return Ok(Outcome::Refused(format!("{status}: {reason}")));
                }
            }
        }
    }

    async fn record(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        let at = self.clock.now();
        self.ledger
            .record_delivery(key, at, at + self.config.ledger_ttl)
            .await?;
        Ok(())
    }
}
