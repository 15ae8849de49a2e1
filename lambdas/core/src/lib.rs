//! loadshed core: the domain, the ports handlers depend on, the adapters behind them, and the task
//! handlers that the Lambda binaries and the local CLI share.

pub mod adapters;
pub mod backoff;
pub mod clock;
pub mod domain;
pub mod errors;
pub mod notify;
pub mod ports;
pub mod runtime;
pub mod site;
pub mod tasks;
#[cfg(feature = "web")]
pub mod web;
pub mod webhook;
