//! Wiring the Telegram Bot API client.

use crate::adapters::telegram::{BotToken, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, TelegramClient};

use super::env::{self, ConfigError};

pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
pub const TELEGRAM_API_BASE_URL: &str = "TELEGRAM_API_BASE_URL";

/// From `TELEGRAM_BOT_TOKEN` and the optional `TELEGRAM_API_BASE_URL`. Makes no network call.
pub fn telegram_from_env() -> Result<TelegramClient, ConfigError> {
    let token = env::required(TELEGRAM_BOT_TOKEN, "the bot token from @BotFather")?;
    let token = BotToken::new(token).map_err(|e| ConfigError::Invalid {
        name: TELEGRAM_BOT_TOKEN,
        reason: e.to_string(),
    })?;
    let base_url = env::optional(TELEGRAM_API_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    TelegramClient::with_base_url(token, &base_url, DEFAULT_TIMEOUT).map_err(|e| ConfigError::Client {
        what: "Telegram",
        reason: e.to_string(),
    })
}
