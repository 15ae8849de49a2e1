//! The state loop, and the simple state types (Pass, Choice, Wait, Succeed, Fail).

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::failure::Failure;
use super::io::{
    self, MAX_PAYLOAD_BYTES, apply_input_path, apply_output_path, apply_result_path, render,
    wait_seconds,
};
use super::state::{Outcome, StateRun, Thread, details, evaluate_assign};
use super::{choice, jsonata_state, parallel, task_state};
use crate::model::retry::names;
use crate::model::{
    ChoiceState, FailState, PassState, QueryLanguage, State, StateMachine, StateNode, SucceedState,
    Template, TemplateField, WaitState,
};

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
        return jsonata_state::run(thread, node, input, sr).await;
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
