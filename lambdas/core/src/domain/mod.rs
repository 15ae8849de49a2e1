//! The loadshedding domain: stages, areas, outage slots and schedules. No I/O, no AWS, no HTTP.

mod area;
mod chat;
mod schedule;
mod slot;
mod stage;

pub use area::{Area, AreaHandle, AreaId};
pub use chat::ChatId;
pub use schedule::{Day, Schedule};
pub use slot::{InvalidSlot, Slot};
pub use stage::{InvalidStage, Stage};
