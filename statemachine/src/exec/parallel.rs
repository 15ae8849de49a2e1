//! Parallel and Map states: nested machines run concurrently inside one execution.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::failure::At;
use super::failure::Failure;
use super::io::{apply_input_path, render};
use super::result::ResultFields;
use super::retry::{RetryState, catch};
use super::state::details;
use super::state::{Outcome, StateRun, Thread};
use super::vars::Vars;
use crate::model::retry::names;
use crate::model::{MapState, ParallelState, TemplateField};

/// Runs every branch on the same input, each in its own variable scope; the result is their outputs in order.
pub(crate) async fn run_branches(
    thread: &mut Thread,
    s: &ParallelState,
    input: Value,
) -> Result<Value, Failure> {
    let started = thread.record("ParallelStateStarted", Default::default);
    let outer = Arc::new(thread.vars.clone());
    let branches = s.branches.iter().map(|branch| {
        let mut child = thread.child(Vars::inner(&outer), started);
        let input = input.clone();
        async move { (child.nested)(&mut child, branch, input).await }
    });
    let result = futures::future::try_join_all(branches)
        .await
        .map(Value::Array);
    let event = if result.is_ok() {
        "ParallelStateSucceeded"
    } else {
        "ParallelStateFailed"
    };
    thread.record(event, Default::default);
    result
}

pub(crate) async fn run_parallel<'m>(
    thread: &mut Thread,
    s: &'m ParallelState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let fields = ResultFields {
        next: s.transition.next.as_deref(),
        result_selector: s.result_selector.as_ref(),
        result_path: &s.result_path,
        output_path: &s.output_path,
        assign: s.assign.as_ref(),
    };
    let context = sr.context(&thread.run, None, None);
    let mut retry = RetryState::new(&s.retry);
    loop {
        let attempt = async {
            let effective = apply_input_path(at, &s.input_path, &thread.scope(&raw, &context))?;
            match &s.parameters {
                Some(TemplateField(template)) => {
                    render(at, template, &thread.scope(&effective, &context))
                }
                None => Ok(effective),
            }
        }
        .await;
        let result = match attempt {
            Ok(input) => run_branches(thread, s, input).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(value) => return fields.apply(thread, raw, value, &context, at),
            Err(failure) => {
                if let Some(delay) = retry.next_delay(&s.retry, &failure, thread.run.jitter) {
                    thread.run.sleep(delay).await;
                    continue;
                }
                return catch(thread, at, &s.catch, failure, raw, &context);
            }
        }
    }
}

fn count_field(
    at: At<'_>,
    thread: &Thread,
    literal: &Option<Value>,
    path: Option<&crate::model::RefPath>,
    scope_input: &Value,
    context: &Value,
    field: &str,
) -> Result<Option<f64>, Failure> {
    let value = match (literal, path) {
        (Some(v), _) => v.clone(),
        (None, Some(p)) => {
            p.0.evaluate(&thread.scope(scope_input, context))
                .map_err(|e| at.invalid_path(p.0.as_str(), &e))?
        }
        (None, None) => return Ok(None),
    };
    value
        .as_f64()
        .filter(|n| *n >= 0.0)
        .map(Some)
        .ok_or_else(|| {
            at.runtime(format!(
                "{field} must be a non-negative number, got {value}"
            ))
        })
}

pub(crate) async fn run_map<'m>(
    thread: &mut Thread,
    s: &'m MapState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let fields = ResultFields {
        next: s.transition.next.as_deref(),
        result_selector: s.result_selector.as_ref(),
        result_path: &s.result_path,
        output_path: &s.output_path,
        assign: s.assign.as_ref(),
    };
    let distributed = [
        ("ItemReader", &s.item_reader),
        ("ItemBatcher", &s.item_batcher),
        ("ResultWriter", &s.result_writer),
    ];
    if let Some((field, _)) = distributed.iter().find(|(_, value)| value.is_some()) {
        return Err(at.runtime(format!(
            "{field} (distributed Map) is not supported by this engine"
        )));
    }
    let context = sr.context(&thread.run, None, None);
    let mut retry = RetryState::new(&s.retry);
    loop {
        let result = map_attempt(thread, s, &raw, &context, sr).await;
        match result {
            Ok(value) => return fields.apply(thread, raw, value, &context, at),
            Err(failure) => {
                if let Some(delay) = retry.next_delay(&s.retry, &failure, thread.run.jitter) {
                    thread.run.sleep(delay).await;
                    continue;
                }
                return catch(thread, at, &s.catch, failure, raw, &context);
            }
        }
    }
}

async fn map_attempt(
    thread: &mut Thread,
    s: &MapState,
    raw: &Value,
    context: &Value,
    sr: &StateRun<'_>,
) -> Result<Value, Failure> {
    let at = sr.at();
    let effective = apply_input_path(at, &s.input_path, &thread.scope(raw, context))?;
    let items = match &s.items_path {
        None => effective.clone(),
        Some(path) => path
            .0
            .evaluate(&thread.scope(&effective, context))
            .map_err(|e| at.invalid_path(path.0.as_str(), &e))?,
    };
    let Value::Array(items) = items else {
        return Err(at.runtime(format!(
            "The Map state's items must be a JSON array, got {items}"
        )));
    };
    let max_concurrency = count_field(
        at,
        thread,
        &s.max_concurrency,
        s.max_concurrency_path.as_ref(),
        &effective,
        context,
        "MaxConcurrency",
    )?;
    let tolerated_count = count_field(
        at,
        thread,
        &s.tolerated_failure_count,
        s.tolerated_failure_count_path.as_ref(),
        &effective,
        context,
        "ToleratedFailureCount",
    )?;
    let tolerated_percentage = count_field(
        at,
        thread,
        &s.tolerated_failure_percentage,
        s.tolerated_failure_percentage_path.as_ref(),
        &effective,
        context,
        "ToleratedFailurePercentage",
    )?;

    // Each iteration's input: the ItemSelector rendered with `$$.Map.Item`, or the item itself.
    let mut inputs = Vec::with_capacity(items.len());
    // The context object is built once and only its `Map.Item` changes per item: copying `$$.Execution.Input`
    // (often the items themselves) for every item would make large Maps quadratic.
    let mut item_context = match &s.item_selector {
        Some(t) if t.0.uses_context() => sr.context(&thread.run, None, Some((0, &Value::Null))),
        _ => Value::Null,
    };
    for (index, item) in items.into_iter().enumerate() {
        inputs.push(match &s.item_selector {
            None => item,
            Some(TemplateField(template)) => {
                if let Some(slot) = item_context.pointer_mut("/Map/Item") {
                    *slot = details([("Index", Value::from(index)), ("Value", item)]).into();
                }
                render(at, template, &thread.scope(&effective, &item_context))?
            }
        });
    }
    run_iterations(
        thread,
        s,
        inputs,
        max_concurrency,
        (tolerated_count, tolerated_percentage),
        sr,
    )
    .await
}

/// Runs the item processor over each prepared input (JSONPath `ItemSelector` or JSONata), with the concurrency and
/// failure tolerance the state asks for.
pub(crate) async fn run_iterations(
    thread: &mut Thread,
    s: &MapState,
    inputs: Vec<Value>,
    max_concurrency: Option<f64>,
    (tolerated_count, tolerated_percentage): (Option<f64>, Option<f64>),
    sr: &StateRun<'_>,
) -> Result<Value, Failure> {
    let length = inputs.len();
    let started = thread.record("MapStateStarted", || {
        details([("length", Value::from(length))])
    });
    let outer = Arc::new(thread.vars.clone());
    let name = sr.name;
    let processor = &s.item_processor;
    let parent = &*thread;
    let iterations = stream::iter(inputs.into_iter().enumerate()).map(|(index, input)| {
        let mut child = parent.child(Vars::inner(&outer), started);
        async move {
            let iteration = || {
                details([
                    ("name", Value::String(name.to_owned())),
                    ("index", Value::from(index)),
                ])
            };
            child.record("MapIterationStarted", iteration);
            let result = (child.nested)(&mut child, processor, input).await;
            let event = if result.is_ok() {
                "MapIterationSucceeded"
            } else {
                "MapIterationFailed"
            };
            child.record(event, iteration);
            result
        }
    });
    let concurrency = match max_concurrency {
        // The float comes from a JSON number already checked to be non-negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(n) if n >= 1.0 => n as usize,
        _ => length.max(1),
    };
    let iterations = iterations.buffered(concurrency);
    let outcome = if tolerated_count.is_none() && tolerated_percentage.is_none() {
        iterations.try_collect::<Vec<Value>>().await
    } else {
        tolerate(
            iterations.collect::<Vec<_>>().await,
            tolerated_count,
            tolerated_percentage,
        )
    };
    let event = if outcome.is_ok() {
        "MapStateSucceeded"
    } else {
        "MapStateFailed"
    };
    thread.record(event, Default::default);
    outcome.map(Value::Array)
}

/// The cause AWS gives `States.ExceedToleratedFailureThreshold`.
pub(crate) const EXCEEDED_THRESHOLD_CAUSE: &str =
    "The specified tolerated failure threshold was exceeded";

/// Whether `failed` of `total` iterations is more than a Map tolerates (`ToleratedFailureCount`, or
/// `ToleratedFailurePercentage` of the iterations; either one exceeded fails the Map).
pub(crate) fn exceeds_tolerance(
    failed: usize,
    total: usize,
    count: Option<f64>,
    percentage: Option<f64>,
) -> bool {
    // Iteration counts are far below 2^52, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let (failed_f, total_f) = (failed as f64, total as f64);
    let over_count = count.is_some_and(|c| failed_f > c);
    let over_percentage = percentage.is_some_and(|p| total > 0 && failed_f * 100.0 / total_f > p);
    over_count || over_percentage
}

/// With a failure tolerance, failed iterations yield their `{Error, Cause}` unless there are too many of them.
fn tolerate(
    results: Vec<Result<Value, Failure>>,
    count: Option<f64>,
    percentage: Option<f64>,
) -> Result<Vec<Value>, Failure> {
    let failed = results.iter().filter(|r| r.is_err()).count();
    if exceeds_tolerance(failed, results.len(), count, percentage) {
        return Err(Failure::new(
            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
            Some(EXCEEDED_THRESHOLD_CAUSE.to_owned()),
        ));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|failure| failure.as_catch_output()))
        .collect())
}
