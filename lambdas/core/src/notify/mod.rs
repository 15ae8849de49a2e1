//! Telling subscribers: the message texts ([`render`], in Telegram HTML built with [`html`]) and the
//! paced, idempotent [`Broadcaster`] that sends them through the [`Messenger`](crate::ports::Messenger).
//! Which messages go to whom is the notify task's decision; this module only words and delivers them.

mod broadcast;
mod confirmations;
mod forecasts;
pub mod html;
mod pacing;
pub mod render;

pub use broadcast::{
    BroadcastConfig, BroadcastError, BroadcastReport, Broadcaster, FailedDelivery, Freshness,
    Migration, Outgoing, Run, by_chat, is_paid_refusal,
};
pub use forecasts::Forecasts;
pub use pacing::{Fare, MAX_PAID_RATE, Pacer, PacingLimits, Slot};
