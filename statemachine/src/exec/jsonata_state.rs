//! States in JSONata mode (`"QueryLanguage": "JSONata"`): `Arguments`, `Output`, `Assign`, `Condition`, `Items`,
//! `ItemSelector`, and `{% %}` in `Seconds`, `Timestamp`, `TimeoutSeconds`, `HeartbeatSeconds`, `MaxConcurrency`,
//! `ToleratedFailure*`, `Error` and `Cause`, with `$states.input`, `.result`, `.errorOutput` (Catch only) and
//! `.context`. Errors are `States.QueryEvaluationError` with AWS's recorded wording.
//!
//! Fields are read from the state as written (`StateNode::raw`): in JSONata mode every string may be an expression,
//! so there is nothing to compile ahead beyond the syntax check the validator (like AWS) already made.

use std::time::Duration;

use serde_json::{Map, Value};

use super::failure::At;
use super::failure::Failure;
use super::io::wait_seconds;
use super::retry::RetryState;
use super::state::details;
use super::state::{Outcome, StateRun, Thread};
use super::task::Integration;
use super::{choice, parallel, task_state};
use crate::jsonata::{self, Bindings, JsonataError};
use crate::model::retry::{error_matches, names};
use crate::model::{Catcher, Retrier, State, StateNode};

/// Evaluates expressions of one state against one `$states` and the thread's variables.
struct Eval<'a> {
    at: At<'a>,
    thread: &'a Thread,
    states: Value,
}

impl<'a> Eval<'a> {
    fn new(
        thread: &'a Thread,
        at: At<'a>,
        input: &Value,
        context: &Value,
        extra: Option<(&str, &Value)>,
    ) -> Self {
        let mut states = Map::new();
        states.insert("input".to_owned(), input.clone());
        states.insert("context".to_owned(), context.clone());
        if let Some((name, value)) = extra {
            states.insert(name.to_owned(), value.clone());
        }
        Eval {
            at,
            thread,
            states: Value::Object(states),
        }
    }

    /// A string that is `{% expression %}` is evaluated; any other value is itself.
    fn value(&self, value: &Value, field: &str) -> Result<Value, Failure> {
        let Some(body) = value.as_str().and_then(jsonata::body) else {
            return Ok(value.clone());
        };
        let bindings = Bindings {
            states: &self.states,
            variables: self.thread.vars.visible(),
        };
        let query_error = |detail: String| {
            self.at.fail(
                names::QUERY_EVALUATION_ERROR,
                format!(
                    "The JSONata expression '{body}' specified for the field '{field}' {detail}"
                ),
            )
        };
        match jsonata::evaluate(body, &bindings) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(query_error("returned nothing (undefined).".to_owned())),
            Err(JsonataError::Unsupported) => Err(query_error(
                "returned an unsupported result type.".to_owned(),
            )),
            Err(JsonataError::Evaluation(message) | JsonataError::Syntax(message)) => Err(
                query_error(format!("threw an error during evaluation. {message}")),
            ),
        }
    }

    /// Any JSON whose strings may be expressions, at any depth (`Arguments`, `Output`, `ItemSelector`).
    fn template(&self, value: &Value, field: &str) -> Result<Value, Failure> {
        match value {
            Value::String(_) => self.value(value, field),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.template(item, &format!("{field}/{i}")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, item) in map {
                    out.insert(key.clone(), self.template(item, &format!("{field}/{key}"))?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// `field` of `raw` evaluated, or `default` when the state does not write it.
    fn field_or(&self, raw: &Value, field: &str, default: &Value) -> Result<Value, Failure> {
        match raw.get(field) {
            Some(value) => self.template(value, field),
            None => Ok(default.clone()),
        }
    }

    fn assign(&self, raw: &Value) -> Result<Option<Map<String, Value>>, Failure> {
        let Some(assign) = raw.get("Assign") else {
            return Ok(None);
        };
        match self.template(assign, "Assign")? {
            Value::Object(map) => Ok(Some(map)),
            _ => Err(self.at.runtime("Assign must be a JSON object")),
        }
    }

    /// A field that must come out a number (`MaxConcurrency`, `ToleratedFailureCount`, ...).
    fn number(&self, raw: &Value, field: &str) -> Result<Option<f64>, Failure> {
        let Some(value) = raw.get(field) else {
            return Ok(None);
        };
        let value = self.value(value, field)?;
        value
            .as_f64()
            .filter(|n| *n >= 0.0)
            .map(Some)
            .ok_or_else(|| {
                unexpected_type(self.at, value_text(raw, field), field, "number", &value)
            })
    }
}

/// The expression as AWS quotes it in messages.
fn value_text<'v>(raw: &'v Value, field: &str) -> &'v str {
    raw.get(field)
        .and_then(Value::as_str)
        .map(|text| jsonata::body(text).unwrap_or(text))
        .unwrap_or_default()
}

fn unexpected_type(at: At<'_>, body: &str, field: &str, expected: &str, value: &Value) -> Failure {
    at.fail(
        names::QUERY_EVALUATION_ERROR,
        format!(
            "The JSONata expression '{body}' specified for the field '{field}' returned an unexpected result type. \
             Expected '{expected}', but was '{}' for value: {value}",
            jsonata::type_name(value)
        ),
    )
}

/// Runs one JSONata state.
pub(crate) async fn run<'m>(
    thread: &mut Thread,
    node: &'m StateNode,
    input: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let raw = &node.raw;
    match &node.state {
        State::Pass(s) => {
            let context = sr.context(&thread.run, None, None);
            let ev = Eval::new(thread, at, &input, &context, None);
            Ok(Outcome {
                next: s.transition.next.as_deref(),
                output: ev.field_or(raw, "Output", &input)?,
                assigned: ev.assign(raw)?,
            })
        }
        State::Succeed(_) => {
            let context = sr.context(&thread.run, None, None);
            let ev = Eval::new(thread, at, &input, &context, None);
            Ok(Outcome {
                next: None,
                output: ev.field_or(raw, "Output", &input)?,
                assigned: None,
            })
        }
        State::Fail(_) => {
            let context = sr.context(&thread.run, None, None);
            let ev = Eval::new(thread, at, &input, &context, None);
            let text = |field: &str| -> Result<Option<String>, Failure> {
                Ok(match raw.get(field) {
                    None => None,
                    Some(value) => Some(match ev.value(value, field)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    }),
                })
            };
            Err(Failure {
                error: text("Error")?,
                cause: text("Cause")?,
            })
        }
        State::Choice(s) => choose(thread, s, raw, input, sr),
        State::Wait(s) => {
            let context = sr.context(&thread.run, None, None);
            let delay = {
                let ev = Eval::new(thread, at, &input, &context, None);
                wait_delay(&ev, raw, thread)?
            };
            thread.run.sleep(delay).await;
            let ev = Eval::new(thread, at, &input, &context, None);
            Ok(Outcome {
                next: s.transition.next.as_deref(),
                output: ev.field_or(raw, "Output", &input)?,
                assigned: ev.assign(raw)?,
            })
        }
        State::Task(s) => {
            let next = s.transition.next.as_deref();
            with_retry(thread, node, (&s.retry, &s.catch), next, input, sr).await
        }
        State::Parallel(s) => {
            let next = s.transition.next.as_deref();
            with_retry(thread, node, (&s.retry, &s.catch), next, input, sr).await
        }
        State::Map(s) => {
            let next = s.transition.next.as_deref();
            with_retry(thread, node, (&s.retry, &s.catch), next, input, sr).await
        }
    }
}

fn choose<'m>(
    thread: &Thread,
    s: &'m crate::model::ChoiceState,
    raw: &Value,
    input: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let context = sr.context(&thread.run, None, None);
    let ev = Eval::new(thread, at, &input, &context, None);
    let mut chosen: Option<(&'m str, &Value)> = None;
    for (index, rule) in s.choices.iter().enumerate() {
        let rule_raw = &raw["Choices"][index];
        let condition = rule_raw.get("Condition").unwrap_or(&Value::Null);
        let verdict = ev.value(condition, "Condition")?;
        match verdict {
            Value::Bool(true) => {
                chosen = Some((rule.next.as_str(), rule_raw));
                break;
            }
            Value::Bool(false) => {}
            other => {
                return Err(unexpected_type(
                    at,
                    value_text(rule_raw, "Condition"),
                    "Condition",
                    "boolean",
                    &other,
                ));
            }
        }
    }
    let (next, rule_raw) = match (chosen, &s.default) {
        (Some((next, rule_raw)), _) => (next, Some(rule_raw)),
        (None, Some(default)) => (default.as_str(), None),
        (None, None) => {
            return Err(Failure::new(
                names::NO_CHOICE_MATCHED,
                Some("No Matches!".to_owned()),
            ));
        }
    };
    // The state's Assign applies whichever way it goes; a matched rule's own Assign and Output add to or replace it.
    let mut assigned = ev.assign(raw)?;
    let mut output = ev.field_or(raw, "Output", &input)?;
    if let Some(rule_raw) = rule_raw {
        if let Some(rule_assigned) = ev.assign(rule_raw)? {
            assigned.get_or_insert_with(Map::new).extend(rule_assigned);
        }
        if rule_raw.get("Output").is_some() {
            output = ev.field_or(rule_raw, "Output", &input)?;
        }
    }
    Ok(Outcome {
        next: Some(next),
        output,
        assigned,
    })
}

fn wait_delay(ev: &Eval<'_>, raw: &Value, thread: &Thread) -> Result<Duration, Failure> {
    if let Some(seconds) = raw.get("Seconds") {
        let value = ev.value(seconds, "Seconds")?;
        return wait_seconds(ev.at, "Seconds", None, &value);
    }
    let Some(timestamp) = raw.get("Timestamp") else {
        return Err(ev.at.runtime("A Wait state needs Seconds or Timestamp"));
    };
    let value = ev.value(timestamp, "Timestamp")?;
    let until = value.as_str().and_then(choice::parse_timestamp).ok_or_else(|| {
        let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        ev.at.fail(
            names::QUERY_EVALUATION_ERROR,
            format!(
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {shown}"
            ),
        )
    })?;
    Ok((until.with_timezone(&chrono::Utc) - thread.run.clock.now())
        .to_std()
        .unwrap_or(Duration::ZERO))
}

/// Task, Parallel and Map: attempts with Retry, then `Output` and `Assign` over `$states.result`, or a Catch.
async fn with_retry<'m>(
    thread: &mut Thread,
    node: &'m StateNode,
    (retriers, catchers): (&'m [Retrier], &'m [Catcher]),
    next: Option<&'m str>,
    input: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let raw = &node.raw;
    let mut retry = RetryState::new(retriers);
    loop {
        let context = sr.context(&thread.run, Some(retry.retry_count), None);
        let outcome = match attempt(thread, node, &input, &context, retry.retry_count, sr).await {
            Ok(result) => {
                let ev = Eval::new(thread, at, &input, &context, Some(("result", &result)));
                ev.field_or(raw, "Output", &result).and_then(|output| {
                    Ok(Outcome {
                        next,
                        output,
                        assigned: ev.assign(raw)?,
                    })
                })
            }
            Err(failure) => Err(failure),
        };
        let failure = match outcome {
            Ok(outcome) => return Ok(outcome),
            Err(failure) => failure,
        };
        if let Some(delay) = retry.next_delay(retriers, &failure, thread.run.jitter) {
            thread.run.sleep(delay).await;
            continue;
        }
        return catch(thread, at, catchers, raw, failure, &input, &context);
    }
}

/// The first catcher whose `ErrorEquals` matches: its `Output` (default: the `{Error, Cause}` object) and `Assign`
/// see `$states.errorOutput`.
fn catch<'m>(
    thread: &Thread,
    at: At<'_>,
    catchers: &'m [Catcher],
    raw: &Value,
    failure: Failure,
    input: &Value,
    context: &Value,
) -> Result<Outcome<'m>, Failure> {
    let error = failure.error.as_deref().unwrap_or_default();
    let Some(index) = catchers
        .iter()
        .position(|c| error_matches(&c.error_equals, error))
    else {
        return Err(failure);
    };
    let error_output = failure.as_catch_output();
    let catcher_raw = &raw["Catch"][index];
    let ev = Eval::new(
        thread,
        at,
        input,
        context,
        Some(("errorOutput", &error_output)),
    );
    Ok(Outcome {
        next: Some(&catchers[index].next),
        output: ev.field_or(catcher_raw, "Output", &error_output)?,
        assigned: ev.assign(catcher_raw)?,
    })
}

/// One attempt of a Task, Parallel or Map state: its result before `Output`.
async fn attempt(
    thread: &mut Thread,
    node: &StateNode,
    input: &Value,
    context: &Value,
    retry_count: u32,
    sr: &StateRun<'_>,
) -> Result<Value, Failure> {
    let at = sr.at();
    let raw = &node.raw;
    match &node.state {
        State::Task(s) => {
            let (arguments, timeout) = {
                let ev = Eval::new(thread, at, input, context, None);
                let arguments = ev.field_or(raw, "Arguments", input)?;
                let timeout = match raw.get("TimeoutSeconds") {
                    Some(value) => Some(task_state::seconds_field(
                        at,
                        "TimeoutSeconds",
                        &ev.value(value, "TimeoutSeconds")?,
                    )?),
                    None => None,
                };
                if let Some(value) = raw.get("HeartbeatSeconds") {
                    // Heartbeats only matter to activities and callbacks, which invokers answer at once; the
                    // value is still evaluated and checked as AWS does.
                    task_state::seconds_field(
                        at,
                        "HeartbeatSeconds",
                        &ev.value(value, "HeartbeatSeconds")?,
                    )?;
                }
                (arguments, timeout)
            };
            let integration = Integration::of(&s.resource);
            task_state::invoke(thread, s, &integration, arguments, timeout, retry_count, at).await
        }
        State::Parallel(s) => {
            let arguments =
                Eval::new(thread, at, input, context, None).field_or(raw, "Arguments", input)?;
            parallel::run_branches(thread, s, arguments).await
        }
        State::Map(s) => {
            let (inputs, max_concurrency, tolerance) = {
                let ev = Eval::new(thread, at, input, context, None);
                let items = match raw.get("Items") {
                    Some(items) => {
                        let value = ev.template(items, "Items")?;
                        match value {
                            Value::Array(items) => items,
                            other => {
                                return Err(unexpected_type(
                                    at,
                                    value_text(raw, "Items"),
                                    "Items",
                                    "array",
                                    &other,
                                ));
                            }
                        }
                    }
                    None => match input {
                        Value::Array(items) => items.clone(),
                        other => {
                            return Err(at.fail(
                                names::QUERY_EVALUATION_ERROR,
                                format!("Map state input must be an array but was: {other}"),
                            ));
                        }
                    },
                };
                let inputs = match raw.get("ItemSelector") {
                    None => items,
                    Some(selector) => {
                        let mut item_context = context.clone();
                        let mut inputs = Vec::with_capacity(items.len());
                        for (index, item) in items.into_iter().enumerate() {
                            if let Value::Object(map) = &mut item_context {
                                let item =
                                    details([("Index", Value::from(index)), ("Value", item)]);
                                map.insert(
                                    "Map".to_owned(),
                                    Value::Object(details([("Item", Value::Object(item))])),
                                );
                            }
                            let ev = Eval::new(thread, at, input, &item_context, None);
                            inputs.push(ev.template(selector, "ItemSelector")?);
                        }
                        inputs
                    }
                };
                let tolerance = (
                    ev.number(raw, "ToleratedFailureCount")?,
                    ev.number(raw, "ToleratedFailurePercentage")?,
                );
                (inputs, ev.number(raw, "MaxConcurrency")?, tolerance)
            };
            let distributed = ["ItemReader", "ItemBatcher", "ResultWriter"];
            if let Some(field) = distributed.iter().find(|f| raw.get(**f).is_some()) {
                return Err(at.runtime(format!(
                    "{field} (distributed Map) is not supported by this engine"
                )));
            }
            parallel::run_iterations(thread, s, inputs, max_concurrency, tolerance, sr).await
        }
        _ => Err(at.runtime("only Task, Parallel and Map states make attempts")),
    }
}
