//! The Lambda service, locally: each invocation runs the function's handler in-process, is killed
//! at the function's `Timeout` from the template, and can be killed early (a crashed instance).
//! The workflow engine, the stream event source mappings and the schedules all invoke through it,
//! so they see function errors, timeouts and crashes the way they would on AWS.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asl::{TaskCall, TaskFailure, TaskInvoker};
use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::tasks::InProcessTasks;
use super::template::FunctionSpec;

/// What Step Functions reports for an invocation that did not return: Lambda calls a timeout or a
/// crashed runtime an unhandled error, and Step Functions names it `Lambda.Unknown`.
pub const UNHANDLED_ERROR: &str = "Lambda.Unknown";

/// Why an invocation produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The handler returned an error (its `errorType` and message).
    Function(TaskFailure),
    /// Killed at the function's deadline.
    TimedOut { after: Duration },
    /// The instance died mid-invocation.
    Crashed,
}

impl InvokeError {
    /// The failure as Step Functions reports it to a Task state.
    pub fn as_task_failure(&self) -> TaskFailure {
        match self {
            InvokeError::Function(failure) => failure.clone(),
            InvokeError::TimedOut { after } => TaskFailure {
                error: UNHANDLED_ERROR.to_owned(),
                cause: Some(
                    json!({"errorMessage": format!("Task timed out after {:.2} seconds", after.as_secs_f64())})
                        .to_string(),
                ),
            },
            InvokeError::Crashed => TaskFailure {
                error: UNHANDLED_ERROR.to_owned(),
                cause: Some(
                    json!({"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited with error: signal: killed"})
                        .to_string(),
                ),
            },
        }
    }
}

tokio::task_local! {
    /// The running invocation's own kill switch, for code running inside it.
    static CURRENT: Arc<Notify>;
}

/// Kills the invocation this is called from, as if its instance died right now; false when not
/// called from inside an invocation (or from a task the invocation spawned).
pub fn crash_current_invocation() -> bool {
    CURRENT.try_with(|switch| switch.notify_one()).is_ok()
}

/// Counts of what happened to invocations, per function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationCounts {
    pub invocations: usize,
    pub function_errors: usize,
    pub timeouts: usize,
    pub crashes: usize,
}

pub struct Lambdas {
    tasks: InProcessTasks,
    timeouts: HashMap<String, Duration>,
    counts: Mutex<HashMap<String, InvocationCounts>>,
    in_flight: AtomicUsize,
}

impl Lambdas {
    /// The functions of the template, run by `tasks`.
    pub fn new(tasks: InProcessTasks, functions: &[FunctionSpec]) -> Self {
        Lambdas {
            tasks,
            timeouts: functions
                .iter()
                .map(|f| (f.name.clone(), f.timeout))
                .collect(),
            counts: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
        }
    }

    pub fn counts(&self) -> HashMap<String, InvocationCounts> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Invocations running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// One synchronous invocation of `function` (a name or an ARN ending in it).
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let name = function.rsplit(':').next().unwrap_or_default().to_owned();
        let timeout = self.timeouts.get(&name).copied();
        let _running = Running::new(&self.in_flight);
        let call = async {
            let handler = self.tasks.call(&name, payload, timeout);
            match timeout {
                Some(limit) => match tokio::time::timeout(limit, handler).await {
                    Ok(result) => result.map_err(InvokeError::Function),
                    Err(_) => Err(InvokeError::TimedOut { after: limit }),
                },
                None => handler.await.map_err(InvokeError::Function),
            }
        };
        let switch = Arc::new(Notify::new());
        let result = tokio::select! {
            result = CURRENT.scope(switch.clone(), call) => result,
            () = switch.notified() => Err(InvokeError::Crashed),
        };
        self.count(&name, &result);
        result
    }

    fn count(&self, name: &str, result: &Result<Value, InvokeError>) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let entry = counts.entry(name.to_owned()).or_default();
        entry.invocations += 1;
        match result {
            Ok(_) => {}
            Err(InvokeError::Function(_)) => entry.function_errors += 1,
            Err(InvokeError::TimedOut { .. }) => entry.timeouts += 1,
            Err(InvokeError::Crashed) => entry.crashes += 1,
        }
    }
}

/// The workflow engine's Task states, invoking through [`Lambdas`].
#[derive(Clone)]
pub struct EngineInvoker(pub Arc<Lambdas>);

#[async_trait]
impl TaskInvoker for EngineInvoker {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        self.0
            .invoke(&call.resource, call.input)
            .await
            .map_err(|error| error.as_task_failure())
    }
}

/// Counts an invocation as running until it returns or its caller drops it.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Running(counter)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
