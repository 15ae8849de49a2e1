//! The state loop, and the simple state types (Pass, Choice, Wait, Succeed, Fail).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::io::{
    self, At, MAX_PAYLOAD_BYTES, apply_input_path, apply_output_path, apply_result_path, render,
};
use super::vars::Vars;
use super::{Failure, Run, choice, details, parallel, task_state, timestamp};
use crate::model::retry::names;
use crate::model::{
    ChoiceState, FailState, PassState, QueryLanguage, State, StateMachine, StateNode, SucceedState,
    Template, TemplateField, WaitState,
};
use crate::path::Scope;

/// One line of control: the top-level machine, a Parallel branch or a Map iteration.
pub(crate) struct Thread {
    pub run: Arc<Run>,
    pub vars: Vars,
    /// The id of the last event this thread recorded, which AWS records as the next event's `previousEventId`.
    pub prev: u64,
}

impl Thread {
    pub fn new(run: Arc<Run>, prev: u64) -> Self {
        Thread {
            run,
            vars: Vars::default(),
            prev,
        }
    }

    pub fn with_vars(run: Arc<Run>, vars: Vars, prev: u64) -> Self {
        Thread { run, vars, prev }
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
            let item = details([("Index", Value::from(index)), ("Value", value.clone())]);
            context.insert(
                "Map".to_owned(),
                Value::Object(details([("Item", Value::Object(item))])),
            );
        }
        Value::Object(context)
    }
}

/// How a state ended: where to go (none at the end of the machine), its output, and the variables it assigns.
pub(crate) struct Outcome<'m> {
    pub next: Option<&'m str>,
    pub output: Value,
    pub assigned: Option<Map<String, Value>>,
}

fn event_names(state: &State) -> (&'static str, &'static str) {
    match state {
        State::Pass(_) => ("PassStateEntered", "PassStateExited"),
        State::Task(_) => ("TaskStateEntered", "TaskStateExited"),
        State::Choice(_) => ("ChoiceStateEntered", "ChoiceStateExited"),
        State::Wait(_) => ("WaitStateEntered", "WaitStateExited"),
        State::Succeed(_) => ("SucceedStateEntered", "SucceedStateExited"),
        State::Fail(_) => ("FailStateEntered", "FailStateExited"),
        State::Parallel(_) => ("ParallelStateEntered", "ParallelStateExited"),
        State::Map(_) => ("MapStateEntered", "MapStateExited"),
    }
}

/// Runs a machine (or branch, or iteration) from `StartAt` to its end.
pub(crate) fn run_machine<'a>(
    thread: &'a mut Thread,
    machine: &'a StateMachine,
    input: Value,
) -> BoxFuture<'a, Result<Value, Failure>> {
    Box::pin(async move {
        let mut current: &str = &machine.start_at;
        let mut input = input;
        loop {
            let node = machine.states.get(current).ok_or_else(|| {
                Failure::new(
                    names::RUNTIME,
                    Some(format!("The state '{current}' is not defined")),
                )
            })?;
            tracing::trace!(state = current, "entering state");
            let (entered, exited) = event_names(&node.state);
            let entered_time = thread.run.clock.now();
            let entered_id = thread.record(entered, || {
                details([
                    ("name", Value::String(current.to_owned())),
                    ("input", Value::String(input.to_string())),
                ])
            });
            let state_run = StateRun {
                name: current,
                entered_id,
                entered_time,
                mentions_context: node.mentions_context,
            };
            let outcome = run_state(thread, node, input, &state_run).await?;
            if let Some(assigned) = &outcome.assigned {
                let assigned_text: Map<String, Value> = assigned
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                    .collect();
                thread.record(exited, || {
                    details([
                        ("name", Value::String(current.to_owned())),
                        ("output", Value::String(outcome.output.to_string())),
                        ("assignedVariables", Value::Object(assigned_text)),
                    ])
                });
            } else {
                thread.record(exited, || {
                    details([
                        ("name", Value::String(current.to_owned())),
                        ("output", Value::String(outcome.output.to_string())),
                    ])
                });
            }
            if let Some(assigned) = outcome.assigned {
                thread.vars.assign(assigned);
            }
            match outcome.next {
                Some(next) => {
                    current = next;
                    input = outcome.output;
                }
                None => return Ok(outcome.output),
            }
            super::clock::yield_now().await;
        }
    })
}

async fn run_state<'m>(
    thread: &mut Thread,
    node: &'m StateNode,
    input: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    if node.query_language == QueryLanguage::JSONata {
        return super::jsonata_state::run(thread, node, input, sr).await;
    }
    match &node.state {
        State::Pass(s) => pass(thread, s, input, sr),
        State::Task(s) => task_state::run(thread, s, input, sr).await,
        State::Choice(s) => choose(thread, s, input, sr),
        State::Wait(s) => wait(thread, s, input, sr).await,
        State::Succeed(s) => succeed(thread, s, input, sr),
        State::Fail(s) => Err(fail(thread, s, &input, sr)),
        State::Parallel(s) => parallel::run_parallel(thread, s, input, sr).await,
        State::Map(s) => parallel::run_map(thread, s, input, sr).await,
    }
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

fn transition_of(next: &Option<String>) -> Option<&str> {
    next.as_deref()
}

fn pass<'m>(
    thread: &Thread,
    s: &'m PassState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let effective = apply_input_path(at, &s.input_path, &thread.scope(&raw, &context))?;
    // With both, AWS's recorded TestState answers show `Result` winning over `Parameters`.
    let result = match (&s.parameters, &s.result) {
        (_, Some(result)) => result.clone(),
        (Some(TemplateField(template)), None) => {
            render(at, template, &thread.scope(&effective, &context))?
        }
        (None, None) => effective,
    };
    if io::exceeds_size(&result, MAX_PAYLOAD_BYTES) {
        return Err(at.data_limit(sr.name));
    }
    let assigned = evaluate_assign(at, s.assign.as_ref(), &thread.scope(&result, &context))?;
    let output = apply_result_path(at, &s.result_path, raw, result)?;
    let output = apply_output_path(
        at,
        &s.output_path,
        output,
        &thread.scope(&Value::Null, &context),
    )?;
    Ok(Outcome {
        next: transition_of(&s.transition.next),
        output,
        assigned,
    })
}

fn choose<'m>(
    thread: &Thread,
    s: &'m ChoiceState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let effective = apply_input_path(at, &s.input_path, &thread.scope(&raw, &context))?;
    let scope = thread.scope(&effective, &context);
    let mut chosen = None;
    for rule in &s.choices {
        if choice::evaluate(at, &rule.condition, &scope)? {
            chosen = Some((rule.next.as_str(), rule.assign.as_ref()));
            break;
        }
    }
    let (next, rule_assign) = match (chosen, &s.default) {
        (Some(found), _) => found,
        (None, Some(default)) => (default.as_str(), None),
        (None, None) => {
            return Err(Failure::new(
                names::NO_CHOICE_MATCHED,
                Some("No Matches!".to_owned()),
            ));
        }
    };
    // The state-level Assign applies whichever way the state goes; a matched rule's own Assign adds to it.
    let state_level = evaluate_assign(at, s.assign.as_ref(), &scope)?;
    let assigned = match (state_level, evaluate_assign(at, rule_assign, &scope)?) {
        (Some(mut state_level), Some(rule_level)) => {
            state_level.extend(rule_level);
            Some(state_level)
        }
        (state_level, rule_level) => state_level.or(rule_level),
    };
    let output = apply_output_path(
        at,
        &s.output_path,
        effective,
        &thread.scope(&Value::Null, &context),
    )?;
    Ok(Outcome {
        next: Some(next),
        output,
        assigned,
    })
}

async fn wait<'m>(
    thread: &Thread,
    s: &'m WaitState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let effective = apply_input_path(at, &s.input_path, &thread.scope(&raw, &context))?;
    let scope = thread.scope(&effective, &context);
    let clock = thread.run.clock.clone();
    let seconds_value = match (&s.seconds, &s.seconds_path) {
        (Some(v), _) => Some((v.clone(), "Seconds", None)),
        (None, Some(path)) => Some((
            path.0.evaluate(&scope).map_err(|_| {
                at.runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {}",
                    path.0.as_str()
                ))
            })?,
            "SecondsPath",
            Some(path.0.as_str()),
        )),
        (None, None) => None,
    };
    let delay = if let Some((value, field, path)) = seconds_value {
        wait_seconds(at, field, path, &value)?
    } else {
        let (text, field) = match (&s.timestamp, &s.timestamp_path) {
            (Some(v), _) => (v.clone(), None),
            (None, Some(path)) => (
                path.0
                    .evaluate(&scope)
                    .map_err(|e| at.invalid_path(path.0.as_str(), &e))?,
                Some(path.0.as_str()),
            ),
            (None, None) => {
                return Err(at.runtime(
                    "A Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
                ));
            }
        };
        let until = text.as_str().and_then(choice::parse_timestamp).ok_or_else(|| {
            let shown = text.as_str().map_or_else(|| text.to_string(), str::to_owned);
            match field {
                Some(path) => at.runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {path} == {shown}"
                )),
                None => at.runtime(format!("The Timestamp '{shown}' is not a valid ISO-8601 extended offset date-time")),
            }
        })?;
        (until.with_timezone(&Utc) - clock.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    thread.run.sleep(delay).await;
    let assigned = evaluate_assign(at, s.assign.as_ref(), &scope)?;
    let output = apply_output_path(
        at,
        &s.output_path,
        effective,
        &thread.scope(&Value::Null, &context),
    )?;
    Ok(Outcome {
        next: transition_of(&s.transition.next),
        output,
        assigned,
    })
}

/// AWS reads Wait seconds as a Java `long`: a fraction, a number past `i64::MAX` (`1e20`) or a negative number is
/// `States.Runtime`, never a panic.
pub(crate) fn wait_seconds(
    at: At<'_>,
    name: &str,
    path: Option<&str>,
    value: &Value,
) -> Result<Duration, Failure> {
    let shown = match path {
        Some(path) => format!("{path} == {value}"),
        None => value.to_string(),
    };
    // A literal fraction (`"Seconds": 0.05`) is accepted for sub-second tests; the validator rejects it as AWS does.
    if path.is_none()
        && let Some(fraction) = value.as_f64().filter(|s| s.fract() != 0.0 && *s >= 0.0)
        && let Ok(duration) = Duration::try_from_secs_f64(fraction)
    {
        return Ok(duration);
    }
    match value.as_i64() {
        Some(seconds) if seconds >= 0 => Ok(Duration::from_secs(seconds.unsigned_abs())),
        Some(_) => Err(at.runtime(format!(
            "The {name} parameter references a negative value: {shown}"
        ))),
        None => Err(at.runtime(format!(
            "The {name} parameter cannot be parsed as a long value: {shown}"
        ))),
    }
}

fn succeed<'m>(
    thread: &Thread,
    s: &'m SucceedState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let effective = apply_input_path(at, &s.input_path, &thread.scope(&raw, &context))?;
    let output = apply_output_path(
        at,
        &s.output_path,
        effective,
        &thread.scope(&Value::Null, &context),
    )?;
    Ok(Outcome {
        next: None,
        output,
        assigned: None,
    })
}

fn fail(thread: &Thread, s: &FailState, raw: &Value, sr: &StateRun<'_>) -> Failure {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let scope = thread.scope(raw, &context);
    let field = |literal: &Option<String>,
                 expression: Option<&Template>,
                 name: &str|
     -> Result<Option<String>, Failure> {
        if let Some(text) = literal {
            return Ok(Some(text.clone()));
        }
        let value = match expression {
            None => return Ok(None),
            Some(Template::Path { path, .. }) => path.evaluate(&scope).map_err(|_| {
                at.runtime(format!(
                    "The JSONPath '{path}' specified for the field '{name}' could not be found in the input '{raw}'"
                ))
            })?,
            Some(Template::Call { call, .. }) => call.evaluate(&scope).map_err(|e| at.fail(names::INTRINSIC_FAILURE, e))?,
            Some(other) => render(at, other, &scope)?,
        };
        Ok(Some(match value {
            Value::String(s) => s,
            other => other.to_string(),
        }))
    };
    let error = field(&s.error, s.error_path.as_ref().map(|e| &e.0), "ErrorPath");
    let cause = field(&s.cause, s.cause_path.as_ref().map(|e| &e.0), "CausePath");
    match (error, cause) {
        (Ok(error), Ok(cause)) => Failure { error, cause },
        (Err(failure), _) | (_, Err(failure)) => failure,
    }
}
