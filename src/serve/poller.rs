//! Telegram by long polling: each update through the webhook's own handler, its reply performed
//! with the Bot API, and the offset stored after each.
//!
//! Exactly once, as far as anyone can tell: the offset (the next update to ask for) is stored in
//! the store's database after each update, so a restart asks for nothing already handled. The one
//! gap, an update handled whose offset was not yet stored when the process died, is closed by the
//! delivery ledger: each reply is claimed under `reply:<update_id>` before it is sent and
//! confirmed after, and an update whose reply is confirmed is skipped outright. What remains is
//! the ledger's documented window: a reply Telegram accepted whose confirmation was not stored
//! (one SQLite commit) is sent again. Updates without a reply are handled again after such a
//! crash; every effect of the handler is idempotent (a subscription exists once, a `/refresh`
//! cooldown is held in the update's name).

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use loadshed_core::adapters::telegram::{TelegramClient, TelegramError};
use loadshed_core::backoff;
use loadshed_core::clock::Clock;
use loadshed_core::domain::ChatId;
use loadshed_core::errors::StoreError;
use loadshed_core::ports::{Claim, DeliveryKey, DeliveryLedger};
use loadshed_core::webhook::{ALLOWED_UPDATES, Update, Webhook};
use loadshed_sqlite::SqliteStore;
use serde_json::Value;
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

/// The counter holding the next update id to ask for.
pub const OFFSET: &str = "telegram_offset";

/// How long a reply's claim holds, as a notify delivery's does.
const REPLY_LEASE: TimeDelta = TimeDelta::seconds(90);
/// How long a sent reply is remembered: far longer than Telegram keeps an unconfirmed update (24 h).
const REPLY_KEPT: TimeDelta = TimeDelta::days(7);
/// Attempts at one reply when Telegram is briefly unavailable.
const REPLY_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct PollerSettings {
    /// How long one `getUpdates` waits for an update.
    pub poll_timeout: Duration,
    /// The longest pause after failures to reach Telegram or the store.
    pub max_backoff: Duration,
}

impl Default for PollerSettings {
    fn default() -> Self {
        PollerSettings {
            poll_timeout: Duration::from_secs(25),
            max_backoff: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("Telegram refused the bot token: {0}")]
    Unauthorized(TelegramError),
    #[error("the store: {0}")]
    Store(#[from] StoreError),
}

pub struct Poller {
    /// For `getUpdates`: its timeout exceeds the long poll's.
    pub polling: TelegramClient,
    /// For replies.
    pub telegram: TelegramClient,
    pub webhook: Webhook,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<dyn Clock>,
    pub settings: PollerSettings,
}

/// Why an update was left for the next poll.
enum Again {
    /// The store failed: nothing was stored as done, the update comes again.
    Store(StoreError),
    /// Telegram did not take the reply: it is claimed no more, the update comes again.
    Telegram(TelegramError),
}

impl Poller {
    /// Removes any webhook, then polls until `stop` turns true. An update being handled when it
    /// does is finished first; the rest of its batch is left to Telegram, which sends it again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), PollError> {
        let mut backoff = Backoff::new(self.settings.max_backoff);
        loop {
            let deleted = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
                deleted = self.polling.delete_webhook() => deleted,
            };
            match deleted {
                Ok(()) => break,
                Err(error @ TelegramError::Unauthorized { .. }) => {
                    return Err(PollError::Unauthorized(error));
                }
                Err(error) => {
                    warn!(%error, "deleteWebhook failed: trying again");
                    if backoff.pause(&mut stop).await {
                        return Ok(());
                    }
                }
            }
        }
        info!("polling Telegram for updates");
        let mut offset = self.store.counter(OFFSET).await?;
        let timeout = self.settings.poll_timeout.as_secs() as u32;
        while !*stop.borrow() {
            let polled = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                polled = self.polling.get_updates(offset, timeout, ALLOWED_UPDATES) => polled,
            };
            let updates = match polled {
                Ok(updates) => updates,
                Err(error @ TelegramError::Unauthorized { .. }) => {
                    return Err(PollError::Unauthorized(error));
                }
                Err(error) => {
                    // A 409 (a webhook set again, or another poller on this token) lands here too.
                    warn!(%error, "getUpdates failed: trying again");
                    if backoff.pause(&mut stop).await {
                        break;
                    }
                    continue;
                }
            };
            backoff.reset();
            for raw in updates {
                if *stop.borrow() {
                    break;
                }
                let Some(id) = raw.get("update_id").and_then(Value::as_i64) else {
                    error!("an update without an update_id: cannot be acknowledged, skipped");
                    continue;
                };
                // Telegram answers from `offset` on; anything older was handled already.
                if offset.is_some_and(|next| id < next) {
                    continue;
                }
                match self.handle(id, raw).await {
                    Ok(()) => {
                        self.store.set_counter(OFFSET, id + 1).await?;
                        offset = Some(id + 1);
                    }
                    Err(again) => {
                        match again {
                            Again::Store(error) => {
                                warn!(update_id = id, %error, "update not handled: the store failed")
                            }
                            Again::Telegram(error) => {
                                warn!(update_id = id, %error, "reply not sent: Telegram failed")
                            }
                        }
                        if backoff.pause(&mut stop).await {
                            return Ok(());
                        }
                        // Poll again from this update on.
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    async fn handle(&self, id: i64, raw: Value) -> Result<(), Again> {
        let key = reply_key(id);
        let now = self.clock.now();
        if self
            .store
            .was_delivered(&key, now)
            .await
            .map_err(Again::Store)?
        {
            info!(update_id = id, "update answered before a restart: skipped");
            return Ok(());
        }
        let update: Update = match serde_json::from_value(raw) {
            Ok(update) => update,
            Err(error) => {
                warn!(update_id = id, kind = ?error.classify(), "unreadable update ignored");
                return Ok(());
            }
        };
        let reply = match self.webhook.handle(&update).await {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                debug!(update_id = id, "update handled, no reply");
                return Ok(());
            }
            Err(error) => {
                return Err(Again::Store(match error {
                    loadshed_core::webhook::WebhookError::StoreUnavailable { source, .. } => source,
                }));
            }
        };
        let body = match reply.webhook_body() {
            Ok(body) => body,
            Err(error) => {
                error!(update_id = id, %error, "reply could not be encoded");
                return Ok(());
            }
        };
        let owner = format!("tg-update:{id}");
        let claim = self
            .store
            .claim_delivery(&key, &owner, now, now + REPLY_LEASE)
            .await
            .map_err(Again::Store)?;
        if claim != Claim::Claimed {
            info!(update_id = id, ?claim, "reply already sent or being sent");
            return Ok(());
        }
        match self.perform(&body).await {
            Ok(()) => {
                let at = self.clock.now();
                self.store
                    .confirm_delivery(&key, at, at + REPLY_KEPT)
                    .await
                    .map_err(Again::Store)?;
                info!(update_id = id, "update handled, reply sent");
                Ok(())
            }
            Err(error) if is_transient(&error) => {
                if let Err(release) = self.store.release_delivery(&key, &owner).await {
                    warn!(update_id = id, error = %release, "reply claim not released: it lapses");
                }
                Err(Again::Telegram(error))
            }
            Err(error) => {
                // The chat blocked the bot, or the call was refused: sending again cannot help.
                warn!(update_id = id, %error, "reply refused by Telegram: update done");
                if let Err(release) = self.store.release_delivery(&key, &owner).await {
                    warn!(update_id = id, error = %release, "reply claim not released: it lapses");
                }
                Ok(())
            }
        }
    }

    /// One reply, tried again while Telegram is briefly unavailable.
    async fn perform(&self, body: &Value) -> Result<(), TelegramError> {
        let mut attempt = 1;
        loop {
            match self.telegram.perform(body).await {
                Ok(_) => return Ok(()),
                Err(error) if attempt < REPLY_ATTEMPTS && is_transient(&error) => {
                    let pause = match &error {
                        TelegramError::RateLimited { retry_after, .. } => *retry_after,
                        _ => REPLY_BACKOFF.pause(attempt),
                    };
                    warn!(%error, attempt, "reply failed: trying again");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// The ledger key of the reply to update `id` (update ids are the bot's own, unique across chats).
pub fn reply_key(id: i64) -> DeliveryKey {
    DeliveryKey {
        chat: ChatId(0),
        message: format!("reply:{id}"),
    }
}

fn is_transient(error: &TelegramError) -> bool {
    matches!(
        error,
        TelegramError::RateLimited { .. }
            | TelegramError::Timeout { .. }
            | TelegramError::Unavailable { .. }
            | TelegramError::Malformed { .. }
    )
}

/// Pauses between replies that Telegram failed: from up to half a second, with jitter.
const REPLY_BACKOFF: backoff::Backoff =
    backoff::Backoff::new(Duration::from_millis(500), Duration::from_secs(5));

/// Pauses that double from up to one second up to a limit (the one backoff, `loadshed_core::backoff`),
/// cut short by a stop.
struct Backoff {
    backoff: backoff::Backoff,
    failures: u32,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Backoff {
            backoff: backoff::Backoff::new(Duration::from_secs(1), max),
            failures: 0,
        }
    }

    fn reset(&mut self) {
        self.failures = 0;
    }

    /// True when the stop came during the pause.
    async fn pause(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        self.failures = self.failures.saturating_add(1);
        let pause = self.backoff.pause(self.failures);
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => true,
            () = tokio::time::sleep(pause) => false,
        }
    }
}
