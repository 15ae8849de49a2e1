//! Amazon States Language: validate and execute AWS Step Functions definitions offline.
//!
//! This crate knows nothing of loadshed; it is a generic, async ASL toolkit:
//! - [`path`] and [`intrinsic`]: JSONPath and intrinsic functions as ASL defines them;
//! - [`model`]: a typed definition loaded with serde;
//! - [`exec`]: an async executor over a [`TaskInvoker`] and a [`Clock`] (real or virtual time), recording an AWS-style
//!   history;
//! - [`mock`]: Step Functions Local `MockConfigFile` support as a ready-made [`TaskInvoker`].
//!
//! ```
//! use asl::{ExecutionStatus, Executor, StateMachine, TaskCall, TaskFailure, TaskInvoker, VirtualClock};
//! use async_trait::async_trait;
//! use serde_json::{Value, json};
//!
//! /// Runs every Task state in-process.
//! struct Greeter;
//!
//! #[async_trait]
//! impl TaskInvoker for Greeter {
//!     async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
//!         let name = call.input["name"].as_str().ok_or_else(|| TaskFailure::new("Greeter.NoName", "name is missing"))?;
//!         Ok(json!({ "greeting": format!("Sawubona, {name}") }))
//!     }
//! }
//!
//! let machine = StateMachine::from_json(r#"{
//!   "StartAt": "Greet",
//!   "States": {
//!     "Greet": {"Type": "Task", "Resource": "arn:aws:lambda:af-south-1:123456789012:function:greet",
//!               "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 60}], "Next": "Nap"},
//!     "Nap": {"Type": "Wait", "Seconds": 3600, "End": true}
//!   }
//! }"#)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! // Virtual time: the hour of Wait takes no real time.
//! let executor = Executor::new(machine, Greeter).with_clock(VirtualClock::new());
//! let execution = runtime.block_on(executor.execute(json!({"name": "Thandi"})));
//! assert_eq!(execution.status, ExecutionStatus::Succeeded);
//! assert_eq!(execution.output, Some(json!({"greeting": "Sawubona, Thandi"})));
//! assert_eq!(execution.history.last().map(|e| e.event_type.as_str()), Some("ExecutionSucceeded"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod exec;
pub mod intrinsic;
pub mod jsonata;
pub mod mock;
pub mod model;
pub mod path;
pub mod test_state;
pub mod validate;

pub use exec::{
    Clock, Execution, ExecutionOptions, ExecutionStatus, Executor, HistoryEvent, HistoryListener,
    Integration, JitterDraw, SystemClock, TaskCall, TaskFailure, TaskInvoker, VirtualClock,
};
pub use model::{ModelError, StateMachine};
