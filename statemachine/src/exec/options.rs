//! How an execution is set up: names in the context object, history, jitter, limits.

use serde_json::{Map, Value};

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
    /// The context object given whole (TestState's `context`): `$$` and `$states.context` are exactly this object,
    /// with nothing of the engine's own added but `Map.Item` inside a Map iteration.
    pub context: Option<Map<String, Value>>,
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
            context: None,
        }
    }
}
