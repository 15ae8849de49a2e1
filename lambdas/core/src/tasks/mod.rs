//! The task handlers the Lambda binaries and the local workflow runner share.

mod error;
mod failure;
mod invocation;
pub mod notify;
pub mod schedule;
pub mod stage;
pub mod stream;
mod superseded;

pub use error::TaskError;
pub use invocation::{
    AreaFailure, Invocation, ScheduleInput, ScheduleOutcome, ScheduleTrigger, StageOutcome,
    WorkflowError, WorkflowInvocation, WorkflowState,
};
pub use notify::{NotifyConfig, NotifyOutcome, NotifyTask};
pub use schedule::ScheduleTask;
pub use stage::StageTask;
