//! The Telegram webhook: reads updates, answers commands, manages subscriptions and starts the
//! refresh workflow on `/refresh`.
//!
//! Layers, outside in: [`Endpoint`] (HTTP: secret, method, size, always-200 policy), [`Webhook`]
//! (one update to its reply and effects, through ports only), and the pure parts it uses:
//! [`update`] (what Telegram posts), [`command`] (`/cmd@Bot args`), [`callback`] (button data),
//! [`refresh`] (the workflow execution's name and input), [`reply`] (Bot API calls in the response).

mod bot_api;
pub mod callback;
pub mod channels;
pub mod command;
mod endpoint;
mod handler;
mod links;
pub mod refresh;
pub mod reply;
mod secret;
mod texts;
pub mod update;

pub use bot_api::CallbackAnswers;
pub use channels::ChannelLookup;
pub use endpoint::{Endpoint, MAX_BODY_BYTES, SECRET_HEADER};
pub use handler::{Webhook, WebhookError, WebhookPorts, WebhookSettings};
pub use reply::Reply;
pub use secret::{InvalidSecret, WebhookSecret};
pub use update::Update;

/// The kinds of update the handler reads: what `setWebhook` (and `getUpdates`) ask Telegram for.
pub const ALLOWED_UPDATES: &[&str] = &["message", "callback_query", "my_chat_member"];
