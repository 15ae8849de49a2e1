//! Amazon States Language: validate and execute AWS Step Functions definitions offline.
//!
//! This crate knows nothing of loadshed; it is a generic, async ASL toolkit:
//! - [`path`] and [`intrinsic`]: JSONPath and intrinsic functions as ASL defines them;
//! - [`model`]: a typed definition loaded with serde;
//! - [`exec`]: an async executor over a [`TaskInvoker`] and a [`Clock`] (real or virtual time), recording an AWS-style
//!   history;
//! - [`mock`]: Step Functions Local `MockConfigFile` support as a ready-made [`TaskInvoker`].

pub mod exec;
pub mod intrinsic;
pub mod mock;
pub mod model;
pub mod path;
pub mod validate;

pub use exec::{
    Clock, Execution, ExecutionOptions, ExecutionStatus, Executor, HistoryEvent, HistoryListener, Integration,
    SystemClock, TaskCall, TaskFailure, TaskInvoker, VirtualClock,
};
pub use model::{ModelError, StateMachine};
