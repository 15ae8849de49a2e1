//! Adapters: the ports implemented for real services and for tests.

pub mod aws;
pub mod dynamo;
pub mod eskom;
pub mod http;
pub mod memory_store;
pub mod sepush;
pub mod step_functions;
pub mod telegram;
