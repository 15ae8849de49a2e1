//! What one execution shares across its states, branches and iterations (`Run`), one line of control (`Thread`), the
//! state being run (`StateRun`) and how it ended (`Outcome`). Every state kind depends on this module; the interpreter
//! sits on top and hands nested machines (Parallel branches, Map iterations) back to itself through
//! `Thread::nested`, so no state kind imports the interpreter.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::clock::Clock;
use super::failure::{At, Failure};
use super::history::{HistoryEvent, HistoryListener};
use super::io::render;
use super::options::{ExecutionOptions, JitterDraw};
use super::task::{TaskCall, TaskFailure, TaskInvoker};
use super::vars::Vars;
use crate::model::{StateMachine, TemplateField};
use crate::path::Scope;

/// Runs a nested machine (a Parallel branch, a Map iteration): the interpreter's `run_machine`.
pub(crate) type Nested =
    for<'a> fn(&'a mut Thread, &'a StateMachine, Value) -> BoxFuture<'a, Result<Value, Failure>>;

pub(crate) fn details<const N: usize>(fields: [(&str, Value); N]) -> Map<String, Value> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// What one execution shares across its states, branches and iterations.
pub(crate) struct Run {
    pub(crate) invoker: Arc<dyn TaskInvoker>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) listener: Option<Arc<dyn HistoryListener>>,
    pub(crate) record_history: bool,
    pub(crate) jitter: JitterDraw,
    pub(crate) history: Mutex<Vec<HistoryEvent>>,
    pub(crate) next_id: AtomicU64,
    /// The history quota, and a signal raised once an event past it was refused.
    pub(crate) history_limit: u64,
    pub(crate) history_full: tokio::sync::Notify,
    pub(crate) history_overflowed: AtomicBool,
    /// The executor's own sleeps (Wait, retry back-off, timeouts) currently pending.
    pub(crate) engine_sleeps: AtomicUsize,
    /// Task invocations currently in flight.
    pub(crate) invocations: AtomicUsize,
    pub(crate) execution_name: String,
    pub(crate) role_arn: String,
    pub(crate) region: String,
    /// `$$.Execution` and `$$.StateMachine`.
    pub(crate) execution_context: Value,
    pub(crate) state_machine_context: Value,
    /// The whole context object, when the caller gives it (TestState's `context`).
    pub(crate) given_context: Option<Map<String, Value>>,
}

/// What an execution runs with: the executor's collaborators and options.
pub(crate) struct RunParts<'a> {
    pub invoker: Arc<dyn TaskInvoker>,
    pub clock: Arc<dyn Clock>,
    pub listener: Option<Arc<dyn HistoryListener>>,
    pub options: &'a ExecutionOptions,
}

impl Run {
    pub(crate) fn new(parts: RunParts<'_>, input: &Value) -> Self {
        let options = parts.options;
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
        let start = parts.clock.now();
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
            invoker: parts.invoker,
            clock: parts.clock,
            listener: parts.listener,
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
            given_context: options.context.clone(),
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
    pub(crate) fn may_advance_virtual_time(&self) -> bool {
        self.invocations.load(Ordering::SeqCst) == 0
            || self.clock.pending_sleeps() > self.engine_sleeps.load(Ordering::SeqCst)
    }

    pub(crate) fn is_history_full(&self) -> bool {
        self.history_overflowed.load(Ordering::SeqCst)
    }

    pub(crate) fn last_id(&self) -> u64 {
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

/// One line of control: the top-level machine, a Parallel branch or a Map iteration.
pub(crate) struct Thread {
    pub run: Arc<Run>,
    pub vars: Vars,
    /// The id of the last event this thread recorded, which AWS records as the next event's `previousEventId`.
    pub prev: u64,
    /// How a Parallel branch or Map iteration of this thread is run.
    pub nested: Nested,
}

impl Thread {
    pub fn new(run: Arc<Run>, prev: u64, nested: Nested) -> Self {
        Thread {
            run,
            vars: Vars::default(),
            prev,
            nested,
        }
    }

    /// A thread for a branch or iteration of this one, in the variable scope `vars`, after event `prev`.
    pub fn child(&self, vars: Vars, prev: u64) -> Self {
        Thread {
            run: self.run.clone(),
            vars,
            prev,
            nested: self.nested,
        }
    }

    /// Records an event after this thread's previous one; `details` is only built when someone will see it.
    pub fn record(
        &mut self,
        event_type: &str,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        let details = if self.run.wants_details() {
            details()
        } else {
            Map::new()
        };
        let id = self.run.record(self.prev, event_type, details);
        self.prev = id;
        id
    }

    pub fn scope<'a>(&'a self, input: &'a Value, context: &'a Value) -> Scope<'a> {
        Scope {
            input,
            context,
            variables: &self.vars,
        }
    }
}

/// Facts about the state being run.
pub(crate) struct StateRun<'a> {
    pub name: &'a str,
    pub entered_id: u64,
    pub entered_time: DateTime<Utc>,
    pub mentions_context: bool,
}

impl StateRun<'_> {
    pub fn at(&self) -> At<'_> {
        At {
            state: self.name,
            entered_id: self.entered_id,
        }
    }

    /// The context object `$$`, or `null` when no field of the state refers to it (building it copies the
    /// execution input).
    pub fn context(
        &self,
        run: &Run,
        retry_count: Option<u32>,
        map_item: Option<(usize, &Value)>,
    ) -> Value {
        if !self.mentions_context {
            return Value::Null;
        }
        if let Some(given) = &run.given_context {
            let mut context = given.clone();
            if let Some((index, value)) = map_item {
                insert_map_item(&mut context, index, value);
            }
            return Value::Object(context);
        }
        let mut state = Map::new();
        state.insert("Name".to_owned(), Value::String(self.name.to_owned()));
        state.insert(
            "EnteredTime".to_owned(),
            Value::String(timestamp(self.entered_time)),
        );
        if let Some(count) = retry_count {
            state.insert("RetryCount".to_owned(), Value::from(count));
        }
        let mut context = Map::new();
        context.insert("Execution".to_owned(), run.execution_context.clone());
        context.insert("StateMachine".to_owned(), run.state_machine_context.clone());
        context.insert("State".to_owned(), Value::Object(state));
        if let Some((index, value)) = map_item {
            insert_map_item(&mut context, index, value);
        }
        Value::Object(context)
    }
}

/// `$$.Map.Item` inside a Map iteration.
fn insert_map_item(context: &mut Map<String, Value>, index: usize, value: &Value) {
    let item = details([("Index", Value::from(index)), ("Value", value.clone())]);
    context.insert(
        "Map".to_owned(),
        Value::Object(details([("Item", Value::Object(item))])),
    );
}

/// How a state ended: where to go (none at the end of the machine), its output, and the variables it assigns.
pub(crate) struct Outcome<'m> {
    pub next: Option<&'m str>,
    pub output: Value,
    pub assigned: Option<Map<String, Value>>,
}

/// Evaluates an `Assign` block against the previous variable values; the caller applies it after the state.
pub(crate) fn evaluate_assign(
    at: At<'_>,
    assign: Option<&TemplateField>,
    scope: &Scope<'_>,
) -> Result<Option<Map<String, Value>>, Failure> {
    let Some(TemplateField(template)) = assign else {
        return Ok(None);
    };
    match render(at, template, scope)? {
        Value::Object(map) => Ok(Some(map)),
        _ => Err(at.runtime("Assign must be a JSON object")),
    }
}
