//! The Telegram Bot API over HTTPS: the [`Messenger`](crate::ports::Messenger) the notify task sends
//! through, and the calls the webhook and `make set-webhook` need.
//!
//! The bot token is part of every request path (`/bot<token>/<method>`), so the URL is never logged,
//! never kept in an error and never printed by `Debug`.

mod api;
mod client;
mod error;
mod token;

pub use api::{
    AnswerCallbackQuery, BotCommand, BotUser, ChatInfo, ChatMemberInfo, ChatRef, EditMessageText,
    SendMessage, SetWebhook, webhook_reply,
};
pub use client::{DEFAULT_BASE_URL, DEFAULT_TIMEOUT, TelegramClient};
pub use error::TelegramError;
pub use token::{BotToken, InvalidToken};
