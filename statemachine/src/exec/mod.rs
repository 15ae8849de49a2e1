//! The asynchronous executor.

mod choice;
pub mod clock;
pub mod history;
mod interpreter;
mod io;
mod jsonata_state;
mod parallel;
mod result;
mod retry;
pub mod task;
mod task_state;
mod vars;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::StateMachine;
use crate::model::retry::names;
pub use clock::{Clock, SystemClock, VirtualClock};
pub use history::{HistoryEvent, HistoryListener};
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

/// Names that show up in the context object (`$$.Execution.Id`, `$$.StateMachine.Name`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionOptions {
    pub state_machine_name: String,
    /// Defaults to a random UUID per execution.
    pub execution_name: Option<String>,
    pub region: String,
    pub account: String,
    pub role_arn: Option<String>,
    /// An Express workflow: execution ARNs read `:express:` and the context object has no `RedriveCount`
    /// (Express executions cannot be redriven). TestState reports its context this way.
    pub express: bool,
    /// Keep every history event in [`Execution::history`]. Listeners get events either way.
    pub record_history: bool,
    /// How FULL jitter draws retry delays; `JitterDraw::Random` unless a test pins it.
    pub jitter: JitterDraw,
    /// AWS's hard quota of history events per execution ([`MAX_HISTORY_EVENTS`]); an execution that would need
    /// more fails with event number `max_history_events` as AWS fails it.
    pub max_history_events: u64,
    /// Workflow variables defined before the first state runs (TestState's `variables`).
    pub variables: Map<String, Value>,
}

/// AWS's hard quota: 25,000 events in one execution's history.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// How a `JitterStrategy: FULL` retrier picks its delay in `[0, backoff]`: at random, as AWS does,
/// or at a fixed fraction of the backoff, so that a test can assert exact delays.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum JitterDraw {
    #[default]
    Random,
    /// `0.0` (no wait) to `1.0` (the whole backoff).
    Fraction(f64),
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            state_machine_name: "StateMachine".to_owned(),
            execution_name: None,
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
            role_arn: None,
            record_history: true,
            jitter: JitterDraw::Random,
            max_history_events: MAX_HISTORY_EVENTS,
            variables: Map::new(),
            express: false,
        }
    }
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
        let run = Arc::new(Run::new(self, &input));
        let started = run.record(
            0,
            "ExecutionStarted",
            details([
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
                let mut thread = interpreter::Thread::new(run, started);
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
                    details([("output", Value::String(output.to_string()))]),
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

/// An error travelling up through states: what Retry and Catch match on, and what a failed execution reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Failure {
    pub fn new(error: &str, cause: Option<String>) -> Self {
        Failure {
            error: Some(error.to_owned()),
            cause,
        }
    }

    fn details(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(error) = &self.error {
            map.insert("error".to_owned(), Value::String(error.clone()));
        }
        if let Some(cause) = &self.cause {
            map.insert("cause".to_owned(), Value::String(cause.clone()));
        }
        map
    }

    /// The `{"Error", "Cause"}` object a catcher passes on.
    pub fn as_catch_output(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "Error".to_owned(),
            self.error.clone().map_or(Value::Null, Value::String),
        );
        if let Some(cause) = &self.cause {
            map.insert("Cause".to_owned(), Value::String(cause.clone()));
        }
        Value::Object(map)
    }
}

pub(crate) fn details<const N: usize>(fields: [(&str, Value); N]) -> Map<String, Value> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// What one execution shares across its states, branches and iterations.
pub(crate) struct Run {
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    listener: Option<Arc<dyn HistoryListener>>,
    record_history: bool,
    pub(crate) jitter: JitterDraw,
    history: Mutex<Vec<HistoryEvent>>,
    next_id: AtomicU64,
    /// The history quota, and a signal raised once an event past it was refused.
    history_limit: u64,
    history_full: tokio::sync::Notify,
    history_overflowed: AtomicBool,
    /// The executor's own sleeps (Wait, retry back-off, timeouts) currently pending.
    engine_sleeps: AtomicUsize,
    /// Task invocations currently in flight.
    invocations: AtomicUsize,
    execution_name: String,
    role_arn: String,
    region: String,
    /// `$$.Execution` and `$$.StateMachine`.
    execution_context: Value,
    state_machine_context: Value,
}

impl Run {
    fn new(executor: &Executor, input: &Value) -> Self {
        let options = &executor.options;
        let execution_name = options
            .execution_name
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let role_arn = options.role_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/StepFunctions-{}-role",
                options.account, options.state_machine_name
            )
        });
        let machine_arn = format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            options.region, options.account, options.state_machine_name
        );
        let kind = if options.express {
            "express"
        } else {
            "execution"
        };
        let execution_arn = format!(
            "arn:aws:states:{}:{}:{kind}:{}:{}",
            options.region, options.account, options.state_machine_name, execution_name
        );
        let start = executor.clock.now();
        let mut execution_context = json!({
            "Id": execution_arn,
            "Input": input,
            "StartTime": timestamp(start),
            "Name": execution_name,
            "RoleArn": role_arn,
            "RedriveCount": 0
        });
        if options.express
            && let Value::Object(map) = &mut execution_context
        {
            map.remove("RedriveCount");
        }
        Run {
            invoker: executor.invoker.clone(),
            clock: executor.clock.clone(),
            listener: executor.listener.clone(),
            record_history: options.record_history,
            jitter: options.jitter,
            history: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            history_limit: options.max_history_events.max(2),
            history_full: tokio::sync::Notify::new(),
            history_overflowed: AtomicBool::new(false),
            engine_sleeps: AtomicUsize::new(0),
            invocations: AtomicUsize::new(0),
            execution_context,
            state_machine_context: json!({"Id": machine_arn, "Name": options.state_machine_name}),
            execution_name,
            role_arn,
            region: options.region.clone(),
        }
    }

    /// Appends an event and returns its id. The last slot of the history quota is kept for the execution's own end
    /// (as AWS keeps event 25,000); an event that does not fit is dropped and ends the execution.
    pub fn record(&self, previous: u64, event_type: &str, details: Map<String, Value>) -> u64 {
        let ends_execution = matches!(
            event_type,
            "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut"
        );
        if !ends_execution && self.next_id.load(Ordering::Relaxed) >= self.history_limit {
            if !self.history_overflowed.swap(true, Ordering::SeqCst) {
                // notify_one keeps a permit, so the signal is not lost if nobody waits yet.
                self.history_full.notify_one();
            }
            return self.last_id();
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if self.record_history || self.listener.is_some() {
            let event = HistoryEvent {
                id,
                previous_event_id: previous,
                timestamp: self.clock.now(),
                event_type: event_type.to_owned(),
                details,
            };
            if let Some(listener) = &self.listener {
                listener.on_event(&event);
            }
            if self.record_history {
                self.history
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(event);
            }
        }
        id
    }

    /// Whether events are kept or listened to; when not, callers skip building their details.
    pub fn wants_details(&self) -> bool {
        self.record_history || self.listener.is_some()
    }

    /// A sleep of the executor's own (Wait, back-off, timeouts), counted so virtual time can tell it apart from an
    /// invoker's.
    pub async fn sleep(&self, duration: std::time::Duration) {
        let _pending = Counted::enter(&self.engine_sleeps);
        self.clock.sleep(duration).await;
    }

    /// Runs a task invocation, counted as in flight while it runs.
    pub async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        let _in_flight = Counted::enter(&self.invocations);
        self.invoker.invoke(call).await
    }

    /// Virtual time may jump ahead when no invocation is in flight, or when something besides the executor's own
    /// timers sleeps on the clock (an invoker simulating latency). Otherwise an invocation is waiting on real work.
    fn may_advance_virtual_time(&self) -> bool {
        self.invocations.load(Ordering::SeqCst) == 0
            || self.clock.pending_sleeps() > self.engine_sleeps.load(Ordering::SeqCst)
    }

    fn is_history_full(&self) -> bool {
        self.history_overflowed.load(Ordering::SeqCst)
    }

    fn last_id(&self) -> u64 {
        self.next_id.load(Ordering::Relaxed).saturating_sub(1)
    }
}

/// Counts something as pending for as long as the guard lives.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Counted(counter)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
