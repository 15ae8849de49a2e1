//! Adapters: the ports implemented for real services and for tests.

pub mod aws_json;
pub mod dynamo;
pub mod eskom;
pub mod http;
pub mod lambda_env_config;
pub mod memory_store;
pub mod sdk_config;
pub mod sepush;
pub mod shared_connector;
pub mod step_functions;
pub mod telegram;
