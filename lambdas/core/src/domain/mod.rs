//! The loadshedding domain: stages, areas, outage slots and schedules. No I/O, no AWS, no HTTP.

mod area;
mod channel;
mod chat;
pub mod forecast;
mod outage;
mod schedule;
mod settings;
mod slot;
mod stage;
mod timeline;

pub use area::{Area, AreaHandle, AreaId};
pub use channel::{ChannelAdmins, ChannelLink, InvalidChannelAdmins};
pub use chat::ChatId;
pub use forecast::{Forecast, Horizon, MIN_PIECE, Rota};
pub use outage::{Basis, Cause, Outage};
pub use schedule::{Day, Schedule};
pub use settings::{ChatSettings, InvalidReminderLead, ReminderLead};
pub use slot::{InvalidSlot, Slot};
pub use stage::{InvalidStage, Stage};
pub use timeline::{Authority, Foresight, StageChange, StageWindow, Timeline, Timelines};
