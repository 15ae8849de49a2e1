//! Task states: parameters, the invocation with its timeout, retries, result processing and catch.

use std::time::Duration;

use futures::future::{Either, select};
use serde_json::{Map, Value};

use super::failure::At;
use super::failure::Failure;
use super::io::{MAX_PAYLOAD_BYTES, apply_input_path, exceeds_size, render};
use super::result::ResultFields;
use super::retry::{RetryState, catch};
use super::state::details;
use super::state::{Outcome, StateRun, Thread};
use super::task::{Integration, TaskCall, lambda_invoke_result};
use crate::model::retry::names;
use crate::model::{TaskState, TemplateField};

pub(crate) async fn run<'m>(
    thread: &mut Thread,
    s: &'m TaskState,
    raw: Value,
    sr: &StateRun<'_>,
) -> Result<Outcome<'m>, Failure> {
    let at = sr.at();
    let integration = Integration::of(&s.resource);
    let mut retry = RetryState::new(&s.retry);
    loop {
        let context = sr.context(&thread.run, Some(retry.retry_count), None);
        let attempt = attempt(
            thread,
            s,
            &integration,
            &raw,
            &context,
            retry.retry_count,
            at,
        )
        .await;
        match attempt {
            Ok(result) => {
                let fields = ResultFields {
                    next: s.transition.next.as_deref(),
                    result_selector: s.result_selector.as_ref(),
                    result_path: &s.result_path,
                    output_path: &s.output_path,
                    assign: s.assign.as_ref(),
                };
                return fields.apply(thread, raw, result, &context, at);
            }
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

/// `TimeoutSeconds` and friends: a positive whole number of seconds that fits a Java `long`, as AWS reads it. Anything
/// else (a fraction, `1e20`, zero) is `States.Runtime`, never a panic.
pub(crate) fn seconds_field(at: At<'_>, field: &str, value: &Value) -> Result<Duration, Failure> {
    value
        .as_i64()
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s.unsigned_abs()))
        .ok_or_else(|| {
            at.runtime(format!(
                "{field} must be a positive integer that fits a long, got {value}"
            ))
        })
}

async fn attempt(
    thread: &mut Thread,
    s: &TaskState,
    integration: &Integration,
    raw: &Value,
    context: &Value,
    retry_count: u32,
    at: At<'_>,
) -> Result<Value, Failure> {
    let effective = apply_input_path(at, &s.input_path, &thread.scope(raw, context))?;
    let timeout = match (&s.timeout_seconds, &s.timeout_seconds_path) {
        (Some(value), _) => Some(seconds_field(at, "TimeoutSeconds", value)?),
        (None, Some(path)) => {
            let value = path
                .0
                .evaluate(&thread.scope(&effective, context))
                .map_err(|e| at.invalid_path(path.0.as_str(), &e))?;
            Some(seconds_field(at, "TimeoutSecondsPath", &value)?)
        }
        (None, None) => None,
    };
    let parameters = match &s.parameters {
        Some(TemplateField(template)) => render(at, template, &thread.scope(&effective, context))?,
        None => effective,
    };
    invoke(thread, s, integration, parameters, timeout, retry_count, at).await
}

/// Calls the task with its parameters (JSONPath `Parameters` or JSONata `Arguments`), records the task events and
/// applies the timeout.
pub(crate) async fn invoke(
    thread: &mut Thread,
    s: &TaskState,
    integration: &Integration,
    parameters: Value,
    timeout: Option<Duration>,
    retry_count: u32,
    at: At<'_>,
) -> Result<Value, Failure> {
    let (resource, input) = match integration {
        Integration::LambdaInvoke => {
            let function = parameters
                .get("FunctionName")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    at.runtime(
                        "The lambda:invoke integration needs a string Parameters.FunctionName",
                    )
                })?;
            let payload = parameters
                .get("Payload")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            (function.to_owned(), payload)
        }
        _ => (s.resource.clone(), parameters.clone()),
    };
    let is_lambda_function = *integration == Integration::LambdaFunction;
    let (resource_type, resource_name) = integration.resource_type_and_name();
    let prefix = if is_lambda_function {
        "LambdaFunction"
    } else {
        "Task"
    };
    let region = thread.run.region.clone();
    thread.record(&format!("{prefix}Scheduled"), || {
        if is_lambda_function {
            details([
                ("resource", Value::String(s.resource.clone())),
                ("input", Value::String(input.to_string())),
            ])
        } else {
            details([
                ("resourceType", Value::String(resource_type.to_owned())),
                ("resource", Value::String(resource_name.to_owned())),
                ("region", Value::String(region)),
                ("parameters", Value::String(parameters.to_string())),
            ])
        }
    });
    let task_details = |extra: Vec<(&str, Value)>| -> Map<String, Value> {
        let mut map = Map::new();
        if !is_lambda_function {
            map.insert(
                "resourceType".to_owned(),
                Value::String(resource_type.to_owned()),
            );
            map.insert(
                "resource".to_owned(),
                Value::String(resource_name.to_owned()),
            );
        }
        map.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        map
    };
    thread.record(&format!("{prefix}Started"), || task_details(Vec::new()));

    let call = TaskCall {
        resource,
        integration: integration.clone(),
        state_name: at.state.to_owned(),
        input,
        attempt: retry_count,
        execution_name: thread.run.execution_name.clone(),
    };
    let invocation = Box::pin(thread.run.invoke(call));
    let outcome = match timeout {
        None => Some(invocation.await),
        Some(limit) => match select(invocation, Box::pin(thread.run.sleep(limit))).await {
            Either::Left((result, _)) => Some(result),
            Either::Right(((), _)) => None,
        },
    };
    let failed = |thread: &mut Thread, failure: Failure| {
        thread.record(&format!("{prefix}Failed"), || {
            task_details(vec![
                (
                    "error",
                    failure.error.clone().map_or(Value::Null, Value::String),
                ),
                (
                    "cause",
                    failure.cause.clone().map_or(Value::Null, Value::String),
                ),
            ])
        });
        Err(failure)
    };
    match outcome {
        None => {
            let failure = Failure::new(names::TIMEOUT, None);
            thread.record(&format!("{prefix}TimedOut"), || {
                task_details(vec![("error", Value::from(names::TIMEOUT))])
            });
            Err(failure)
        }
        Some(Err(task_failure)) => failed(
            thread,
            Failure {
                error: Some(task_failure.error),
                cause: task_failure.cause,
            },
        ),
        Some(Ok(response)) => {
            let result = match integration {
                // An invoker that answers with Lambda's whole Invoke response (a recording, a real SDK call)
                // is taken as it is; one that answers with the function's payload gets AWS's envelope around it.
                Integration::LambdaInvoke if is_invoke_response(&response) => response,
                Integration::LambdaInvoke => {
                    lambda_invoke_result(response, &uuid::Uuid::new_v4().to_string())
                }
                _ => response,
            };
            if exceeds_size(&result, MAX_PAYLOAD_BYTES) {
                let who = if is_lambda_function {
                    s.resource.as_str()
                } else {
                    resource_type
                };
                return failed(thread, at.data_limit(who));
            }
            thread.record(&format!("{prefix}Succeeded"), || {
                task_details(vec![("output", Value::String(result.to_string()))])
            });
            Ok(result)
        }
    }
}

/// Whether a `lambda:invoke` answer is already the integration's envelope rather than the function's payload.
fn is_invoke_response(response: &Value) -> bool {
    ["Payload", "StatusCode", "SdkHttpMetadata"]
        .iter()
        .all(|key| response.get(key).is_some())
}
