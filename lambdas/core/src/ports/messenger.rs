use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::DeliveryKey;
use crate::domain::ChatId;
use crate::errors::{ErrorName, Named};

/// How the receiving app reads `Message::text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// Telegram's HTML subset: `<b>`, `<i>`, `<s>`, ...; text must escape `<`, `>`, `&` and `"`.
    Html,
    /// Shown exactly as written.
    Plain,
}

/// One button under a message; a tap sends `callback_data` back to the bot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: String,
}

/// Telegram refuses callback data outside 1..=64 bytes, so a button that would be refused is never built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callback data must be 1 to {max} bytes, got {len}: {data:?}", max = InlineButton::CALLBACK_DATA_MAX_BYTES)]
pub struct InvalidCallbackData {
    pub data: String,
    pub len: usize,
}

impl InlineButton {
    pub const CALLBACK_DATA_MAX_BYTES: usize = 64;

    pub fn callback(
        text: impl Into<String>,
        callback_data: impl Into<String>,
    ) -> Result<Self, InvalidCallbackData> {
        let callback_data = callback_data.into();
        let len = callback_data.len();
        if len == 0 || len > Self::CALLBACK_DATA_MAX_BYTES {
            return Err(InvalidCallbackData {
                data: callback_data,
                len,
            });
        }
        Ok(InlineButton {
            text: text.into(),
            callback_data,
        })
    }
}

/// Rows of buttons attached to a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InlineKeyboard {
    pub rows: Vec<Vec<InlineButton>>,
}

impl InlineKeyboard {
    /// One button per row: the shape of a list of choices.
    pub fn column(buttons: impl IntoIterator<Item = InlineButton>) -> Self {
        InlineKeyboard {
            rows: buttons.into_iter().map(|b| vec![b]).collect(),
        }
    }

    /// All buttons on one row: the shape of a short set of options.
    pub fn row(buttons: impl IntoIterator<Item = InlineButton>) -> Self {
        InlineKeyboard {
            rows: vec![buttons.into_iter().collect()],
        }
    }
}

/// A message ready to send: text in a known format, within the platform's size limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub text: String,
    pub format: TextFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard: Option<InlineKeyboard>,
}

impl Message {
    /// `html` must already be escaped: build it with `notify::html`.
    pub fn html(html: impl Into<String>) -> Self {
        Message {
            text: html.into(),
            format: TextFormat::Html,
            keyboard: None,
        }
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            format: TextFormat::Plain,
            keyboard: None,
        }
    }

    pub fn with_keyboard(mut self, keyboard: InlineKeyboard) -> Self {
        self.keyboard = Some(keyboard);
        self
    }
}

/// A message the platform accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The platform's id of the message in its chat (for later edits).
    pub message_id: i64,
}

/// Why one message to one chat was not sent. The variants are what a sender must tell apart to act:
/// wait, drop the chat, follow it to its new id, report it, or give up on the whole run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Flood control: nothing may be sent for `retry_after`.
    #[error("rate limited: retry after {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// The bot was blocked or kicked, or the user deactivated: this chat will never receive again.
    #[error("chat unreachable: {reason}")]
    ChatUnreachable { reason: String },
    /// The group became a supergroup with a new id; nothing was sent to the old one.
    #[error("chat migrated to {to}")]
    ChatMigrated { to: ChatId },
    /// The platform refused this message for this chat (bad request, chat not found, ...).
    #[error("message refused ({status}): {reason}")]
    Rejected { status: u16, reason: String },
    /// The bot's credentials were refused: no message can be sent.
    #[error("bot token refused")]
    Unauthorized,
    /// The platform could not be reached, timed out, or failed on its side.
    #[error("messenger unavailable: {detail}")]
    Unavailable { detail: String },
}

impl Named for SendError {
    fn error_name(&self) -> ErrorName {
        match self {
            SendError::RateLimited { .. } | SendError::Unavailable { .. } => {
                ErrorName::TelegramUnavailable
            }
            SendError::Unauthorized => ErrorName::TelegramUnauthorized,
            // Per-chat refusals are permanent and concern the request, not the service: a retry of the
            // same message cannot succeed. A broadcast reports them per chat instead of failing.
            SendError::ChatUnreachable { .. }
            | SendError::ChatMigrated { .. }
            | SendError::Rejected { .. } => ErrorName::InvalidInput,
        }
    }
}

/// Sends one message to one chat.
#[async_trait]
pub trait Messenger: Send + Sync {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError>;

    /// Sends one delivery of a broadcast: `key` names the event it tells of (Telegram never sees it).
    /// Messengers that account for deliveries (the simulation, tests) override this.
    async fn send_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        let _ = key;
        self.send(chat, message).await
    }

    /// [`send_delivery`](Messenger::send_delivery) as a paid broadcast (Telegram's
    /// `allow_paid_broadcast`: beyond the free 30 a second, 0.1 Star a message). A messenger that
    /// cannot pay refuses it as Telegram refuses a bot without Stars ([`PAID_UNSUPPORTED`]), and
    /// the broadcaster carries on at the free rate: nothing is sent unpaid behind its back.
    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        let _ = (chat, key, message);
        Err(SendError::Rejected {
            status: 0,
            reason: PAID_UNSUPPORTED.to_owned(),
        })
    }
}

/// The refusal of a messenger without paid broadcasts.
pub const PAID_UNSUPPORTED: &str = "this messenger sends no paid broadcasts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_must_fit_telegrams_limit() {
        assert!(InlineButton::callback("ok", "sub:eskom:64106").is_ok());
        assert!(InlineButton::callback("ok", "x".repeat(64)).is_ok());
        let too_long = InlineButton::callback("no", "é".repeat(33));
        assert_eq!(too_long.map_err(|e| e.len), Err(66));
        assert!(InlineButton::callback("no", "").is_err());
    }

    #[test]
    fn only_service_failures_are_transient() {
        let transient = SendError::RateLimited {
            retry_after: Duration::from_secs(1),
        };
        assert!(transient.error_name().is_transient());
        assert_eq!(
            SendError::Unauthorized.error_name(),
            ErrorName::TelegramUnauthorized
        );
        let refused = SendError::ChatUnreachable {
            reason: "Forbidden: bot was blocked by the user".into(),
        };
        assert!(!refused.error_name().is_transient());
    }
}
