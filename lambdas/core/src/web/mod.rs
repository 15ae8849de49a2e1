//! The public web site: a page with the stage and the followed areas, a page per area with its
//! slots, and a calendar feed per area. Read-only on the store; no HTTP framework, no AWS: the web
//! Lambda and `loadshed web` hand it `http` requests.
//!
//! Layers, outside in: [`WebSite`] (method, target, store reads, caching headers), and the pure
//! parts it uses: [`route`] (which page a target names), [`view`] (what a page shows), [`pages`]
//! (HTML) and [`feed`] (iCalendar). Addresses are [`crate::site`]'s, shared with the bot.

pub mod feed;
mod handler;
pub mod pages;
pub mod route;
pub mod view;

pub use handler::{FEED_CACHE, PAGE_CACHE, WebSettings, WebSite, WebStore};

#[cfg(test)]
mod tests;
