//! Wiring the Telegram Bot API client.

use async_trait::async_trait;
use tokio::sync::OnceCell;
use tracing::error;

use crate::adapters::telegram::{BotToken, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, TelegramClient};
use crate::domain::ChatId;
use crate::ports::{DeliveryKey, Message, Messenger, SendError, Sent};

use super::env::{self, ConfigError};
use super::secrets::{SecretReader, SecretSource, SecretVar};

pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
pub const TELEGRAM_BOT_TOKEN_PARAMETER: &str = "TELEGRAM_BOT_TOKEN_PARAMETER";
pub const TELEGRAM_API_BASE_URL: &str = "TELEGRAM_API_BASE_URL";

/// The bot token: its value, or the SSM parameter holding it.
pub const BOT_TOKEN: SecretVar = SecretVar {
    name: TELEGRAM_BOT_TOKEN,
    parameter: TELEGRAM_BOT_TOKEN_PARAMETER,
    purpose: "the bot token from @BotFather (or, in TELEGRAM_BOT_TOKEN_PARAMETER, the SSM parameter holding it)",
};

/// The `secret_token` given to `setWebhook`, which Telegram sends back with every update: its
/// value, or the SSM parameter holding it. Read by the webhook and by `loadshed set-webhook`.
pub const WEBHOOK_SECRET: SecretVar = SecretVar {
    name: "TELEGRAM_WEBHOOK_SECRET",
    parameter: "TELEGRAM_WEBHOOK_SECRET_PARAMETER",
    purpose: "the setWebhook secret_token (or, in TELEGRAM_WEBHOOK_SECRET_PARAMETER, the SSM parameter holding it)",
};

/// From `TELEGRAM_BOT_TOKEN` or `TELEGRAM_BOT_TOKEN_PARAMETER`, and the optional
/// `TELEGRAM_API_BASE_URL`. Makes no network call: a token given as a value is checked now, one
/// in SSM is read with `secrets` on the first message.
pub fn telegram_from_env(secrets: SecretReader) -> Result<TelegramMessenger, ConfigError> {
    let token = BOT_TOKEN.required_source()?;
    let base_url =
        env::optional(TELEGRAM_API_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    TelegramMessenger::new(token, base_url, secrets)
}

/// The Telegram client, built on first use when its token lives in SSM.
#[derive(Debug)]
pub struct TelegramMessenger {
    token: SecretSource,
    base_url: String,
    secrets: SecretReader,
    client: OnceCell<TelegramClient>,
}

impl TelegramMessenger {
    /// A token given as a value is checked here, so a bad one fails the start.
    pub fn new(
        token: SecretSource,
        base_url: String,
        secrets: SecretReader,
    ) -> Result<Self, ConfigError> {
        let client = match token.value() {
            Some(value) => {
                let token = BotToken::new(value).map_err(|e| ConfigError::Invalid {
                    name: TELEGRAM_BOT_TOKEN,
                    reason: e.to_string(),
                })?;
                OnceCell::new_with(Some(client(token, &base_url)?))
            }
            None => OnceCell::new(),
        };
        Ok(TelegramMessenger {
            token,
            base_url,
            secrets,
            client,
        })
    }

    /// The client, reading the token from SSM the first time. Failures are not kept.
    pub async fn client(&self) -> Result<&TelegramClient, SendError> {
        self.client
            .get_or_try_init(|| async {
                let value = self.secrets.read(&self.token).await.map_err(|e| {
                    error!(error = %e, "cannot read the bot token");
                    match e.is_permanent() {
                        // No message can go out until the deployment is fixed.
                        true => SendError::Unauthorized,
                        false => SendError::Unavailable {
                            detail: e.to_string(),
                        },
                    }
                })?;
                let token = BotToken::new(value).map_err(|e| {
                    error!(error = %e, "the bot token in SSM is malformed");
                    SendError::Unauthorized
                })?;
                client(token, &self.base_url).map_err(|e| SendError::Unavailable {
                    detail: e.to_string(),
                })
            })
            .await
    }
}

fn client(token: BotToken, base_url: &str) -> Result<TelegramClient, ConfigError> {
    TelegramClient::with_base_url(token, base_url, DEFAULT_TIMEOUT).map_err(|e| {
        ConfigError::Client {
            what: "Telegram",
            reason: e.to_string(),
        }
    })
}

#[async_trait]
impl Messenger for TelegramMessenger {
    async fn send(&self, chat: ChatId, message: &Message) -> Result<Sent, SendError> {
        self.client().await?.send(chat, message).await
    }

    async fn send_paid_delivery(
        &self,
        chat: ChatId,
        key: &DeliveryKey,
        message: &Message,
    ) -> Result<Sent, SendError> {
        self.client()
            .await?
            .send_paid_delivery(chat, key, message)
            .await
    }
}
