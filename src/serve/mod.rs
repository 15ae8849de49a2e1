//! `loadshed serve`: the whole bot on one machine, on the real clock, with a durable store.
//!
//! The same parts as the local system ([`crate::local`]): the refresh definition run by the engine
//! (started by the webhook's `/refresh`), the template's schedules, the store's change feed through
//! the template's event source mappings, all invoking the task handlers through one
//! [`Lambdas`](crate::local::lambda::Lambdas). What serve adds: Telegram by long polling
//! ([`poller`]), the SQLite store (`loadshed-sqlite`) whose change feed is durable and
//! checkpointed once consumed ([`checkpoint`]), and a clean stop.

pub mod checkpoint;
pub mod poller;
pub mod system;

pub use poller::{Poller, PollerSettings};
pub use system::{ServeSystem, SystemOptions};
