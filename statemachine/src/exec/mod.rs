//! The asynchronous executor.

mod choice;
pub mod clock;
mod failure;
pub mod history;
mod interpreter;
mod io;
mod jsonata_state;
mod options;
mod parallel;
mod result;
mod retry;
mod state;
pub mod task;
mod task_state;
mod vars;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use failure::Failure;
use state::{Run, RunParts};

use crate::model::StateMachine;
use crate::model::retry::names;
pub use clock::{Clock, SystemClock, VirtualClock};
pub use history::{HistoryEvent, HistoryListener};
pub use options::{ExecutionOptions, JitterDraw, MAX_HISTORY_EVENTS};
pub(crate) use parallel::{EXCEEDED_THRESHOLD_CAUSE, exceeds_tolerance};
pub use task::{Integration, TaskCall, TaskFailure, TaskInvoker};

/// The final status of an execution, spelled as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
}

impl ExecutionStatus {
    /// The status as AWS writes it: `SUCCEEDED`, `FAILED`, `TIMED_OUT`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
        }
    }
}

/// What an execution ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub status: ExecutionStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEvent>,
}

/// Runs executions of one state machine.
#[derive(Clone)]
pub struct Executor {
    machine: Arc<StateMachine>,
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    listener: Option<Arc<dyn HistoryListener>>,
    options: ExecutionOptions,
}

impl Executor {
    /// An executor on real time; see [`Executor::with_clock`] for virtual time.
    pub fn new(machine: StateMachine, invoker: impl TaskInvoker + 'static) -> Self {
        Executor {
            machine: Arc::new(machine),
            invoker: Arc::new(invoker),
            clock: Arc::new(SystemClock),
            listener: None,
            options: ExecutionOptions::default(),
        }
    }

    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn with_listener(mut self, listener: impl HistoryListener + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    pub fn with_options(mut self, options: ExecutionOptions) -> Self {
        self.options = options;
        self
    }

    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }

    /// Runs one execution to its end.
    pub async fn execute(&self, input: Value) -> Execution {
        let run = Arc::new(Run::new(
            RunParts {
                invoker: self.invoker.clone(),
                clock: self.clock.clone(),
                listener: self.listener.clone(),
                options: &self.options,
            },
            &input,
        ));
        let started = run.record(
            0,
            "ExecutionStarted",
            state::details([
                ("input", Value::String(input.to_string())),
                ("roleArn", Value::String(run.role_arn.clone())),
            ]),
        );
        let machine = self.machine.clone();
        let clock = self.clock.clone();
        let variables = self.options.variables.clone();
        let body = {
            let run = run.clone();
            async move {
                let mut thread = state::Thread::new(run, started, interpreter::run_machine);
                thread.vars.assign(variables);
                let result = interpreter::run_machine(&mut thread, &machine, input).await;
                (result, thread.prev)
            }
        };
        let timeout = self.machine.timeout_seconds;
        let timed_body = {
            let run = run.clone();
            async move {
                // The execution ends early when its TimeoutSeconds elapses or its history is full; the interpreter
                // yields after every state, so both are noticed even in a loop that never waits.
                let stop = async {
                    let timed_out = async {
                        match timeout {
                            Some(seconds) => {
                                run.sleep(std::time::Duration::from_secs(seconds)).await;
                            }
                            None => futures::future::pending::<()>().await,
                        }
                    };
                    let history_full = run.history_full.notified();
                    match futures::future::select(Box::pin(timed_out), Box::pin(history_full)).await
                    {
                        futures::future::Either::Left(_) => Stop::TimedOut,
                        futures::future::Either::Right(_) => Stop::HistoryFull,
                    }
                };
                match futures::future::select(Box::pin(body), Box::pin(stop)).await {
                    futures::future::Either::Left((out, _)) => Ok(out),
                    futures::future::Either::Right((stop, _)) => Err(stop),
                }
            }
        };
        let may_advance = {
            let run = run.clone();
            Box::new(move || run.may_advance_virtual_time())
        };
        let mut outcome = clock::DriveWithClock::new(timed_body, clock, may_advance).await;
        if run.is_history_full() {
            // Events past the quota were dropped: whatever the body did after that, AWS fails the execution.
            outcome = Err(Stop::HistoryFull);
        }
        let (status, output, error, cause) = match outcome {
            Ok((Ok(output), prev)) => {
                run.record(
                    prev,
                    "ExecutionSucceeded",
                    state::details([("output", Value::String(output.to_string()))]),
                );
                (ExecutionStatus::Succeeded, Some(output), None, None)
            }
            Ok((Err(failure), prev)) => {
                run.record(prev, "ExecutionFailed", failure.details());
                (ExecutionStatus::Failed, None, failure.error, failure.cause)
            }
            Err(Stop::HistoryFull) => {
                let failure = Failure::new(
                    names::RUNTIME,
                    Some(format!(
                        "The execution reached the maximum number of history events ({}).",
                        run.history_limit
                    )),
                );
                let prev = run.last_id();
                run.record(prev, "ExecutionFailed", failure.details());
                (ExecutionStatus::Failed, None, failure.error, failure.cause)
            }
            Err(Stop::TimedOut) => {
                let failure = Failure::new(names::TIMEOUT, None);
                let prev = run.last_id();
                run.record(prev, "ExecutionTimedOut", failure.details());
                (
                    ExecutionStatus::TimedOut,
                    None,
                    failure.error,
                    failure.cause,
                )
            }
        };
        tracing::debug!(
            execution = %run.execution_name,
            status = ?status,
            error = error.as_deref().unwrap_or_default(),
            "execution ended"
        );
        let history = std::mem::take(
            &mut *run
                .history
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        Execution {
            status,
            output,
            error,
            cause,
            history,
        }
    }
}

/// Why an execution ended before its states did.
enum Stop {
    TimedOut,
    HistoryFull,
}

#[cfg(test)]
mod tests;
