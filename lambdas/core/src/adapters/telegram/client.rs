use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::adapters::http::{
    ClientSetupError, HttpClient, HttpError, USER_AGENT, build_client, endpoint, parse_base_url,
};
use crate::domain::ChatId;
use crate::ports::{DeliveryKey, Message, Messenger, SendError, Sent};

use super::api::{
    AnswerCallbackQuery, BotCommand, BotUser, ChatInfo, ChatMemberInfo, ChatRef, EditMessageText,
    Envelope, GetChat, GetChatMember, SendMessage, SentMessage, SetMyCommands, SetWebhook,
};
use super::error::{TelegramError, classify};
use super::token::BotToken;

/// Where the real Bot API lives; tests and local runs point the client elsewhere.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// Long enough for a slow sendMessage, short enough that a hung call fails well within a Lambda
/// timeout and is retried.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A Bot API client. Cheap to clone (the connection pool is shared); build it once at start.
#[derive(Clone)]
pub struct TelegramClient {
    http: HttpClient,
    base_url: Url,
    token: BotToken,
    timeout: Duration,
}

impl fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramClient")
            .field("base_url", &self.base_url.as_str())
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TelegramClient {
    pub fn new(token: BotToken) -> Result<Self, ClientSetupError> {
        Self::with_base_url(token, DEFAULT_BASE_URL, DEFAULT_TIMEOUT)
    }

    /// `base_url` is the API root, e.g. `https://api.telegram.org` or a wiremock server's URI.
    pub fn with_base_url(
        token: BotToken,
        base_url: &str,
        timeout: Duration,
    ) -> Result<Self, ClientSetupError> {
        Ok(TelegramClient {
            // The token is in every path: the client follows no redirect away from the origin.
            http: build_client(timeout, USER_AGENT)?,
            base_url: parse_base_url(base_url)?,
            token,
            timeout,
        })
    }

    pub async fn send_message(
        &self,
        chat: ChatId,
        message: &Message,
    ) -> Result<Sent, TelegramError> {
        let sent: SentMessage = self
            .call("sendMessage", &SendMessage::new(chat, message))
            .await?;
        Ok(Sent {
            message_id: sent.message_id,
        })
    }

    /// `sendMessage` with `allow_paid_broadcast`: paced by the caller up to 1,000 a second, each
    /// message beyond the free 30 a second costing 0.1 Star.
    pub async fn send_paid_message(
        &self,
        chat: ChatId,
        message: &Message,
    ) -> Result<Sent, TelegramError> {
        let sent: SentMessage = self
            .call("sendMessage", &SendMessage::new(chat, message).paid())
            .await?;
        Ok(Sent {
            message_id: sent.message_id,
        })
    }

    /// Replaces the text (and keyboard) of a message the bot sent earlier.
    pub async fn edit_message_text(
        &self,
        chat: ChatId,
        message_id: i64,
        message: &Message,
    ) -> Result<(), TelegramError> {
        // The result is the edited Message, or `true` for inline messages; either way nothing we use.
        let _: serde_json::Value = self
            .call(
                "editMessageText",
                &EditMessageText::new(chat, message_id, message),
            )
            .await?;
        Ok(())
    }

    pub async fn answer_callback_query(
        &self,
        answer: &AnswerCallbackQuery,
    ) -> Result<(), TelegramError> {
        self.expect_true("answerCallbackQuery", answer).await
    }

    pub async fn set_webhook(&self, webhook: &SetWebhook) -> Result<(), TelegramError> {
        self.expect_true("setWebhook", webhook).await
    }

    pub async fn set_my_commands(&self, commands: &[BotCommand]) -> Result<(), TelegramError> {
        self.expect_true("setMyCommands", &SetMyCommands { commands })
            .await
    }

    pub async fn get_me(&self) -> Result<BotUser, TelegramError> {
        self.call("getMe", &serde_json::json!({})).await
    }

    /// `getChat`: the chat (a channel, say) as Telegram knows it to the bot.
    pub async fn get_chat(&self, chat: &ChatRef) -> Result<ChatInfo, TelegramError> {
        self.call("getChat", &GetChat { chat_id: chat }).await
    }

    /// `getChatMember`: `user`'s standing in `chat` (the bot's own, to know it may post there).
    pub async fn get_chat_member(
        &self,
        chat: ChatId,
        user: i64,
    ) -> Result<ChatMemberInfo, TelegramError> {
        self.call(
            "getChatMember",
            &GetChatMember {
                chat_id: chat.0,
                user_id: user,
            },
        )
        .await
    }

    /// Long polling (`loadshed serve`): the updates from `offset` on, waiting up to
    /// `timeout_seconds` for one to come. Each is returned as Telegram sent it, so one the
    /// webhook cannot read is still seen (and its `update_id` passed). The client's own timeout
    /// must exceed the wait.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout_seconds: u32,
        allowed_updates: &[&str],
    ) -> Result<Vec<serde_json::Value>, TelegramError> {
        let mut body = serde_json::json!({
            "timeout": timeout_seconds,
            "allowed_updates": allowed_updates,
        });
        if let Some(offset) = offset {
            body["offset"] = serde_json::json!(offset);
        }
        self.call("getUpdates", &body).await
    }

    /// Removes the webhook, so `getUpdates` may be used; pending updates are kept.
    pub async fn delete_webhook(&self) -> Result<(), TelegramError> {
        self.expect_true(
            "deleteWebhook",
            &serde_json::json!({"drop_pending_updates": false}),
        )
        .await
    }

    /// Performs a call given as a webhook reply body (`{"method": ..., parameters...}`): what
    /// Telegram does with a webhook's response, done by a poller that has no response to put it in.
    pub async fn perform(
        &self,
        reply: &serde_json::Value,
    ) -> Result<serde_json::Value, TelegramError> {
        let mut parameters = reply.clone();
        let method = parameters
            .as_object_mut()
            .and_then(|fields| fields.remove("method"))
            .and_then(|method| method.as_str().map(str::to_owned));
        let method: &'static str = match method.as_deref() {
            Some("sendMessage") => "sendMessage",
            Some("editMessageText") => "editMessageText",
            Some("answerCallbackQuery") => "answerCallbackQuery",
            other => {
                return Err(TelegramError::Unencodable {
                    method: "perform",
                    detail: format!("not a reply method the webhook makes: {other:?}"),
                });
            }
        };
        self.call(method, &parameters).await
    }

    async fn expect_true<B: Serialize + ?Sized>(
        &self,
        method: &'static str,
        body: &B,
    ) -> Result<(), TelegramError> {
        let done: bool = self.call(method, body).await?;
        if done {
            Ok(())
        } else {
            Err(TelegramError::Malformed {
                method,
                detail: "answered ok with result false".into(),
            })
        }
    }

    async fn call<B, T>(&self, method: &'static str, body: &B) -> Result<T, TelegramError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let url = endpoint(
            &self.base_url,
            &[&format!("bot{}", self.token.expose()), method],
        );
        let request = self
            .http
            .post(url)
            .json(body)
            .map_err(|e| TelegramError::Unencodable {
                method,
                detail: e.to_string(),
            })?;
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(method, e))?;
        let status = response.status;
        tracing::debug!(method, status = status.as_u16(), "Telegram answered");
        let bytes = response.body;
        match serde_json::from_slice::<Envelope<T>>(&bytes) {
            Ok(envelope) if envelope.ok && status.is_success() => {
                envelope.result.ok_or_else(|| TelegramError::Malformed {
                    method,
                    detail: "ok answer without a result".into(),
                })
            }
            Ok(envelope) => Err(classify(
                method,
                envelope.error_code.unwrap_or(status.as_u16()),
                envelope.description,
                envelope.parameters,
            )),
            Err(e) if status.is_success() => Err(TelegramError::Malformed {
                method,
                detail: e.to_string(),
            }),
            // A proxy's HTML error page, say: the status is all there is to go on.
            Err(_) => Err(classify(method, status.as_u16(), None, None)),
        }
    }

    fn transport_error(&self, method: &'static str, error: HttpError) -> TelegramError {
        match error {
            HttpError::Timeout(after) => TelegramError::Timeout { method, after },
            HttpError::TooLarge { .. } => TelegramError::Malformed {
                method,
                detail: error.to_string(),
            },
            other => TelegramError::Unavailable {
                method,
                // No error of the chain holds the URL; this is for a cause deep in it that might
                // quote the token anyway.
                detail: other.chain().replace(self.token.expose(), "<token>"),
            },
        }
    }
}

#[async_trait]
impl Messenger for TelegramClient {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        self.send_message(chat, message)
            .await
            .map_err(SendError::from)
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        _key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        self.send_paid_message(chat, message)
            .await
            .map_err(SendError::from)
    }
}
