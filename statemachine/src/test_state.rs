//! The TestState API offline: one state run once against a request in the API's JSON shape, answered in the API's
//! response shape (`output`, `error`, `cause`, `inspectionData`, `nextState`, `status`).
//!
//! TestState runs a single attempt: a matching retrier with attempts left makes the status `RETRIABLE` (nothing is
//! retried), a matching catcher makes it `CAUGHT_ERROR` with the catcher's output and `Next`. So the state runs first
//! with neither Retry nor Catch; only if it fails, is not retriable and a catcher matches, it runs again with its
//! catchers to produce the caught output. Tasks, Maps and Parallels run against the request's `mock` (a result is
//! returned as the state's result, an `errorOutput` raised as its error); this engine never calls AWS.

mod constraints;
mod context;
mod flow_mocks;
mod map_failures;
mod mock_schema;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::model::retry::error_matches;
use crate::model::{IoPath, ResultPath, StateMachine, TemplateField};
use crate::path::Scope;
use crate::{
    ExecutionOptions, ExecutionStatus, Executor, TaskCall, TaskFailure, TaskInvoker, VirtualClock,
};

/// A request AWS rejects: `{"Error": {"Code", "Message"}}` on the wire.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    fn validation(message: impl Into<String>) -> Self {
        Rejection {
            code: "ValidationException",
            message: message.into(),
        }
    }

    fn invalid_definition(message: impl Into<String>) -> Self {
        Rejection {
            code: "InvalidDefinition",
            message: message.into(),
        }
    }

    /// The error body AWS sends.
    pub fn to_json(&self) -> Value {
        json!({"Error": {"Code": self.code, "Message": self.message}})
    }
}

/// The resource a mocked Task, Map or Parallel becomes for its one run: the mock answers it, its result untouched.
const MOCK_RESOURCE: &str = "arn:aws:states:::loadshed:testState.mock";
/// The name TestState gives a state sent on its own (AWS: `$states.context.State.Name` is `"StateName"`).
const LONE_STATE_NAME: &str = "StateName";

/// Answers the mocked call.
struct MockAnswer(Result<Value, TaskFailure>);

#[async_trait]
impl TaskInvoker for MockAnswer {
    async fn invoke(&self, _call: TaskCall) -> Result<Value, TaskFailure> {
        self.0.clone()
    }
}

fn json_field(request: &Value, field: &str) -> Result<Option<Value>, Rejection> {
    match request.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => serde_json::from_str(text).map(Some).map_err(|e| {
            Rejection::validation(format!("Invalid {field}: it is not valid JSON ({e})"))
        }),
        Some(other) => Ok(Some(other.clone())),
    }
}

/// Runs the TestState request `request` (the API's JSON shape; string fields hold JSON text).
pub async fn test_state(request: &Value) -> Result<Value, Rejection> {
    constraints::check(request)?;
    let definition_text = request
        .get("definition")
        .and_then(Value::as_str)
        .ok_or_else(|| Rejection::validation("definition is required"))?;
    let definition: Value = serde_json::from_str(definition_text).map_err(|e| {
        Rejection::invalid_definition(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"
        ))
    })?;
    let Picked {
        name,
        mut state,
        machine_language,
        inside_map,
    } = pick_state(&definition, request)?;
    if let Some(language) = machine_language
        && state.get("QueryLanguage").is_none()
    {
        state.insert("QueryLanguage".to_owned(), Value::String(language));
    }
    let state_type = state
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mock = mock_answer(request, &state_type)?;
    if let (Some(Ok(result)), "Task") = (&mock, state_type.as_str()) {
        mock_schema::check(&state, &request["mock"], result)?;
    }
    let given_context = json_field(request, "context")?;
    if given_context.is_some() && mock.is_none() {
        return Err(Rejection::validation(context::WITHOUT_MOCK));
    }
    let given_context = given_context
        .map(|given| context::checked(given, &state))
        .transpose()?;
    let input = json_field(request, "input")?.unwrap_or_else(|| json!({}));
    let variables = match json_field(request, "variables")? {
        Some(Value::Object(map)) => map,
        Some(_) => return Err(Rejection::validation("variables must be a JSON object")),
        None => Map::new(),
    };
    check_definition(&name, &state)?;
    if let Some(Ok(result)) = &mock {
        flow_mocks::check_result(&state, result)?;
    }
    flow_mocks::check_error_source(
        &state,
        matches!(mock, Some(Err(_))),
        request.pointer("/stateConfiguration/errorCausedByState"),
    )?;
    let level = request
        .get("inspectionLevel")
        .and_then(Value::as_str)
        .unwrap_or("INFO");
    let retry_count = request
        .pointer("/stateConfiguration/retrierRetryCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);

    let next = state.get("Next").cloned();
    let retriers = state.remove("Retry");
    let catchers = state.remove("Catch");
    let mocked = matches!(state_type.as_str(), "Task" | "Map" | "Parallel");
    let original = state.clone();
    if mocked {
        if mock.is_none() && state_type != "Task" {
            return Err(Rejection::invalid_definition(
                "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
            ));
        }
        if mock.is_none() {
            return Err(Rejection::validation(task_without_mock(&state)));
        }
        state = as_mocked_task(state);
    }
    let mut answer = mock.unwrap_or(Ok(Value::Null));
    let role_arn = request.get("roleArn").and_then(Value::as_str);
    let started = chrono::Utc::now();
    // One context object for the run and for the inspection data: the request's, or the one TestState makes.
    let context = given_context
        .unwrap_or_else(|| context::generated(&name, &input, role_arn, started, inside_map));
    let setup = RunSetup {
        input: &input,
        variables: &variables,
        role_arn,
        context: &context,
        started,
    };
    let context_value = Value::Object(context.clone());
    if let Some(failed) = request
        .pointer("/stateConfiguration/mapIterationFailureCount")
        .filter(|v| !v.is_null())
    {
        let failed = failed.as_u64().ok_or_else(|| {
            Rejection::validation("Map iteration failure count must be a non-negative integer")
        })?;
        if state_type != "Map" {
            return Err(Rejection::validation(
                "Map iteration failure count can only be set for a Map state",
            ));
        }
        if let Some(failure) =
            map_failures::threshold_failure(&original, &input, &context_value, &answer, failed)?
        {
            answer = Err(failure);
        }
    }
    if state_type == "Map"
        && answer.is_ok()
        && let Some(failure) = map_items_failure(&name, &original, &setup).await?
    {
        answer = Err(failure);
    }
    let first = run_once(&name, &state, &setup, answer.clone()).await?;
    let mut response = Map::new();
    if level != "INFO" {
        response.insert(
            "inspectionData".to_owned(),
            inspection(&original, &input, &context_value, &answer),
        );
    }
    match first.status {
        ExecutionStatus::Succeeded => {
            response.insert("status".to_owned(), json!("SUCCEEDED"));
            let output = first.output.unwrap_or(Value::Null);
            response.insert("output".to_owned(), Value::String(output.to_string()));
            if let Some(next) = next.filter(|_| state_type != "Choice") {
                response.insert("nextState".to_owned(), next);
            }
            if state_type == "Choice"
                && let Some(chosen) = chosen_next(&first.history, &state)
            {
                response.insert("nextState".to_owned(), chosen);
            }
        }
        _ => {
            let error = first.error.clone().unwrap_or_default();
            if let Some(cause) = &first.cause {
                response.insert("cause".to_owned(), Value::String(cause.clone()));
            }
            response.insert("error".to_owned(), Value::String(error.clone()));
            let retriable = retriers
                .as_ref()
                .and_then(Value::as_array)
                .and_then(|list| {
                    list.iter().enumerate().find(|(_, r)| {
                        let equals: Vec<String> =
                            serde_json::from_value(r["ErrorEquals"].clone()).unwrap_or_default();
                        error_matches(&equals, &error)
                    })
                });
            let catcher = catchers
                .as_ref()
                .and_then(Value::as_array)
                .and_then(|list| {
                    list.iter().enumerate().find(|(_, c)| {
                        let equals: Vec<String> =
                            serde_json::from_value(c["ErrorEquals"].clone()).unwrap_or_default();
                        error_matches(&equals, &error)
                    })
                })
                .map(|(i, c)| (i, c.clone()));
            match (retriable, catcher) {
                (Some((index, retrier)), _)
                    if retry_count < retrier["MaxAttempts"].as_u64().unwrap_or(3) =>
                {
                    response.insert("status".to_owned(), json!("RETRIABLE"));
                    if let Some(Value::Object(data)) = response.get_mut("inspectionData") {
                        let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
                        let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
                        let exponent = i32::try_from(retry_count).unwrap_or(i32::MAX);
                        data.insert(
                            "errorDetails".to_owned(),
                            json!({"retryIndex": index, "retryBackoffIntervalSeconds": interval * rate.powi(exponent)}),
                        );
                    }
                }
                (_, Some((catch_index, catcher))) => {
                    response.insert("status".to_owned(), json!("CAUGHT_ERROR"));
                    let caught = run_caught(&name, &state, &catcher, &setup, answer).await?;
                    response.insert("output".to_owned(), Value::String(caught.to_string()));
                    response.insert("nextState".to_owned(), catcher["Next"].clone());
                    if let Some(Value::Object(data)) = response.get_mut("inspectionData") {
                        data.insert(
                            "errorDetails".to_owned(),
                            json!({"catchIndex": catch_index}),
                        );
                    }
                }
                (retriable, None) => {
                    response.insert("status".to_owned(), json!("FAILED"));
                    if let (Some((index, _)), Some(Value::Object(data))) =
                        (retriable, response.get_mut("inspectionData"))
                    {
                        data.insert("errorDetails".to_owned(), json!({"retryIndex": index}));
                    }
                }
            }
        }
    }
    Ok(Value::Object(response))
}

/// The state to test.
struct Picked {
    name: String,
    state: Map<String, Value>,
    /// The `QueryLanguage` of the machine the state came from.
    machine_language: Option<String>,
    /// The state runs in a Map's iteration (`stateName` picked it from inside an item processor).
    inside_map: bool,
}

/// The state to test: the definition itself, or the one `stateName` picks from a whole machine.
fn pick_state(definition: &Value, request: &Value) -> Result<Picked, Rejection> {
    let state_name = request.get("stateName").and_then(Value::as_str);
    if let Some(states) = definition.get("States").and_then(Value::as_object) {
        let name = state_name
            .map(str::to_owned)
            .or_else(|| definition["StartAt"].as_str().map(str::to_owned))
            .ok_or_else(|| Rejection::validation("State not found in definition"))?;
        let (state, inside_map) = find_state(states, &name, false)
            .ok_or_else(|| Rejection::validation("State not found in definition"))?;
        let machine_language = definition
            .get("QueryLanguage")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(Picked {
            name,
            state,
            machine_language,
            inside_map,
        });
    }
    let state = definition
        .as_object()
        .filter(|s| s.contains_key("Type"))
        .cloned()
        .ok_or_else(|| {
            Rejection::invalid_definition(
                "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: a state needs a Type'",
            )
        })?;
    Ok(Picked {
        name: LONE_STATE_NAME.to_owned(),
        state,
        machine_language: None,
        inside_map: false,
    })
}

/// A state by name, at the top level or inside a Map's processor or a Parallel's branches, and whether it is
/// inside a Map (`in_map`: the machine `states` belong to is already a Map's item processor).
fn find_state(
    states: &Map<String, Value>,
    name: &str,
    in_map: bool,
) -> Option<(Map<String, Value>, bool)> {
    if let Some(state) = states.get(name).and_then(Value::as_object) {
        return Some((state.clone(), in_map));
    }
    states
        .values()
        .filter_map(Value::as_object)
        .find_map(|state| {
            let into_map = in_map || state.get("Type").and_then(Value::as_str) == Some("Map");
            flow_mocks::nested_machines(state)
                .filter_map(|machine| machine.get("States").and_then(Value::as_object))
                .find_map(|inner| find_state(inner, name, into_map))
        })
}

/// Why a Task cannot run without a mock here. AWS's developer guide: "Mocking is necessary if you need to test the
/// following state types or service integration patterns - Map, Parallel, Activity, .sync service integrations and
/// waitForTaskToken service integrations." Other Tasks would call the service, which this engine never does.
fn task_without_mock(state: &Map<String, Value>) -> String {
    let resource = state
        .get("Resource")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let pattern = if resource.contains(":activity:") {
        Some("an Activity")
    } else if resource.ends_with(".sync") || resource.contains(".sync:") {
        Some("a .sync")
    } else if resource.ends_with(".waitForTaskToken") {
        Some("a .waitForTaskToken")
    } else {
        None
    };
    match pattern {
        Some(pattern) => format!(
            "TestState only supports {pattern} Task when a mock is specified (mock.result or mock.errorOutput)"
        ),
        None => "loadshed runs TestState offline: a Task, Map or Parallel state needs a mock (result or errorOutput)"
            .to_owned(),
    }
}

fn mock_answer(
    request: &Value,
    state_type: &str,
) -> Result<Option<Result<Value, TaskFailure>>, Rejection> {
    let Some(mock) = request.get("mock").filter(|m| !m.is_null()) else {
        return Ok(None);
    };
    let result = mock.get("result");
    let error_output = mock.get("errorOutput");
    if result.is_some() && error_output.is_some() {
        return Err(Rejection::validation(
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ));
    }
    if !matches!(state_type, "Task" | "Map" | "Parallel") {
        return Err(Rejection::validation(format!(
            "State type '{state_type}' is not supported when a mock is specified"
        )));
    }
    // An API constraint on the request, whatever the mock holds (an error output, a Map's or Parallel's result).
    mock_schema::check_mode(mock)?;
    if request.get("revealSecrets").and_then(Value::as_bool) == Some(true) {
        return Err(Rejection::validation(
            "TestState does not support RevealSecrets when a mock is specified.",
        ));
    }
    if let Some(result) = result {
        let text = result.as_str().unwrap_or_default();
        let value: Value = serde_json::from_str(text)
            .map_err(|_| Rejection::validation("Mocked result must be valid JSON"))?;
        return Ok(Some(Ok(value)));
    }
    let error_output = error_output.cloned().unwrap_or_default();
    Ok(Some(Err(TaskFailure {
        error: error_output["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        cause: error_output["cause"].as_str().map(str::to_owned),
    })))
}

/// AWS validates the state as the one state of a machine before it runs it.
fn check_definition(name: &str, state: &Map<String, Value>) -> Result<(), Rejection> {
    let mut lone = state.clone();
    lone.remove("Next");
    lone.insert("End".to_owned(), Value::Bool(true));
    if matches!(
        lone.get("Type").and_then(Value::as_str),
        Some("Succeed" | "Fail" | "Choice")
    ) {
        lone.remove("End");
    }
    let machine = json!({"StartAt": name, "States": {name: lone}});
    let report = crate::validate::validate(&machine, &crate::validate::Options::default());
    // Choice targets and Next point outside the lone state; those checks do not apply to TestState.
    let problem = report
        .errors()
        .find(|d| d.code.to_string() != "MISSING_TRANSITION_TARGET");
    match problem {
        Some(d) => Err(Rejection::invalid_definition(format!(
            "Invalid State Machine Definition: '{}: {} at {}'",
            d.code,
            d.message,
            d.location.as_deref().unwrap_or("/")
        ))),
        None => Ok(()),
    }
}

/// A Map or Parallel under a mock keeps only what acts on its result; a Task calls the mock.
fn as_mocked_task(mut state: Map<String, Value>) -> Map<String, Value> {
    let keep = [
        "Comment",
        "QueryLanguage",
        "InputPath",
        "OutputPath",
        "ResultPath",
        "ResultSelector",
        "Output",
        "Assign",
        "Next",
        "End",
        "Arguments",
        "Parameters",
        "TimeoutSeconds",
        "HeartbeatSeconds",
    ];
    let was_task = state.get("Type").and_then(Value::as_str) == Some("Task");
    state.retain(|k, _| {
        keep.contains(&k.as_str())
            && (was_task || !matches!(k.as_str(), "Arguments" | "Parameters"))
    });
    state.insert("Type".to_owned(), json!("Task"));
    state.insert("Resource".to_owned(), json!(MOCK_RESOURCE));
    state
}

/// The state alone: `Next` goes to a final Succeed, so the execution's output is the state's output.
fn lone_machine(name: &str, state: &Map<String, Value>) -> Value {
    let mut state = state.clone();
    let mut states = Map::new();
    if state.contains_key("Next") {
        state.insert("Next".to_owned(), json!("__TestStateNext"));
        states.insert(
            "__TestStateNext".to_owned(),
            json!({"Type": "Succeed", "QueryLanguage": "JSONPath"}),
        );
    }
    if let Some(Value::Array(choices)) = state.get_mut("Choices") {
        for (i, choice) in choices.iter_mut().enumerate() {
            let target = format!("__TestStateChoice{i}");
            choice["Next"] = json!(target);
            states.insert(
                target,
                json!({"Type": "Succeed", "QueryLanguage": "JSONPath"}),
            );
        }
    }
    if state.contains_key("Default") {
        state.insert("Default".to_owned(), json!("__TestStateDefault"));
        states.insert(
            "__TestStateDefault".to_owned(),
            json!({"Type": "Succeed", "QueryLanguage": "JSONPath"}),
        );
    }
    states.insert(name.to_owned(), Value::Object(state));
    json!({"StartAt": name, "States": states})
}

/// What the run needs besides the state: input, variables and the role the request names.
struct RunSetup<'a> {
    input: &'a Value,
    variables: &'a Map<String, Value>,
    role_arn: Option<&'a str>,
    /// The whole context object: the request's `context`, or the one TestState makes.
    context: &'a Map<String, Value>,
    /// When the execution starts (the virtual clock's first reading).
    started: chrono::DateTime<chrono::Utc>,
}

async fn execute(
    machine: &Value,
    setup: &RunSetup<'_>,
    answer: Result<Value, TaskFailure>,
) -> Result<crate::Execution, Rejection> {
    execute_with(machine, setup, answer, crate::exec::MAX_HISTORY_EVENTS).await
}

async fn execute_with(
    machine: &Value,
    setup: &RunSetup<'_>,
    answer: Result<Value, TaskFailure>,
    max_history_events: u64,
) -> Result<crate::Execution, Rejection> {
    let machine = StateMachine::from_value(machine).map_err(|e| {
        Rejection::invalid_definition(format!("Invalid State Machine Definition: '{e}'"))
    })?;
    let executor = Executor::new(machine, Arc::new(MockAnswer(answer)))
        .with_clock(VirtualClock::starting_at(setup.started))
        .with_options(ExecutionOptions {
            state_machine_name: "TestStateMachine".to_owned(),
            variables: setup.variables.clone(),
            // The role's account is the caller's; TestState runs as an Express execution.
            account: context::account(setup.role_arn).to_owned(),
            region: context::REGION.to_owned(),
            role_arn: setup.role_arn.map(str::to_owned),
            express: true,
            context: Some(setup.context.clone()),
            max_history_events,
            ..ExecutionOptions::default()
        });
    Ok(executor.execute(setup.input.clone()).await)
}

async fn run_once(
    name: &str,
    state: &Map<String, Value>,
    setup: &RunSetup<'_>,
    answer: Result<Value, TaskFailure>,
) -> Result<crate::Execution, Rejection> {
    execute(&lone_machine(name, state), setup, answer).await
}

/// A mocked Map still reads its items: the error it meets doing so (`ItemsPath` or `Items` not an array, a bad
/// `ItemSelector`, `MaxConcurrency` or tolerance), found by running the Map over a processor that only passes each
/// item on. Items from an `ItemReader` come from S3 and are the mock's business.
async fn map_items_failure(
    name: &str,
    map: &Map<String, Value>,
    setup: &RunSetup<'_>,
) -> Result<Option<TaskFailure>, Rejection> {
    if map.contains_key("ItemReader") {
        return Ok(None);
    }
    let context = Value::Object(setup.context.clone());
    if let Some(failure) = items_not_array(map, setup.input, &context) {
        return Ok(Some(failure));
    }
    let mut probe = map.clone();
    probe.retain(|k, _| {
        matches!(
            k.as_str(),
            "Type"
                | "QueryLanguage"
                | "InputPath"
                | "ItemsPath"
                | "Items"
                | "ItemSelector"
                | "Parameters"
                | "MaxConcurrency"
                | "MaxConcurrencyPath"
                | "ToleratedFailureCount"
                | "ToleratedFailureCountPath"
                | "ToleratedFailurePercentage"
                | "ToleratedFailurePercentagePath"
        )
    });
    probe.insert(
        "ItemProcessor".to_owned(),
        json!({"StartAt": "__TestStateItem", "States": {"__TestStateItem": {"Type": "Pass", "End": true}}}),
    );
    probe.insert("End".to_owned(), Value::Bool(true));
    // Pass-only iterations always end, so the probe needs no history quota of its own.
    let execution = execute_with(
        &lone_machine(name, &probe),
        setup,
        Ok(Value::Null),
        u64::MAX,
    )
    .await?;
    Ok(match execution.status {
        ExecutionStatus::Succeeded => None,
        _ => Some(TaskFailure {
            error: execution.error.unwrap_or_default(),
            cause: execution.cause,
        }),
    })
}

/// A JSONPath Map whose `ItemsPath` (`$` when absent) reads something other than an array fails with AWS's own
/// cause, `Reference path "<path>" must point to array.`, the path as written; the path may read the context
/// object (`$$.Execution.Input`). `None` when the items are an array or the path does not resolve (the probe run
/// then reports that error).
fn items_not_array(
    map: &Map<String, Value>,
    input: &Value,
    context: &Value,
) -> Option<TaskFailure> {
    if map.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        return None;
    }
    let effective = after_input_path(map, input, context)?;
    let path = map.get("ItemsPath").and_then(Value::as_str).unwrap_or("$");
    let items = crate::path::ReferencePath::parse(path)
        .ok()?
        .evaluate(&Scope::new(&effective).with_context(context))
        .ok()?;
    (!items.is_array()).then(|| {
        TaskFailure::new(
            crate::model::retry::names::RUNTIME,
            format!("Reference path \"{path}\" must point to array."),
        )
    })
}

/// The state's input after its JSONPath `InputPath` (`null` gives `{}`); `None` when the path does not resolve.
fn after_input_path(state: &Map<String, Value>, input: &Value, context: &Value) -> Option<Value> {
    match state.get("InputPath") {
        None => Some(input.clone()),
        Some(Value::Null) => Some(json!({})),
        Some(path) => match serde_json::from_value::<IoPath>(path.clone()).ok()? {
            IoPath::Path(p) => p.evaluate(&Scope::new(input).with_context(context)).ok(),
            IoPath::Root => Some(input.clone()),
            IoPath::Null => Some(json!({})),
        },
    }
}

/// The output of the state when `catcher` catches its error.
async fn run_caught(
    name: &str,
    state: &Map<String, Value>,
    catcher: &Value,
    setup: &RunSetup<'_>,
    answer: Result<Value, TaskFailure>,
) -> Result<Value, Rejection> {
    let mut state = state.clone();
    let mut catcher = catcher.clone();
    catcher["Next"] = json!("__TestStateCaught");
    state.insert("Catch".to_owned(), Value::Array(vec![catcher]));
    let mut machine = lone_machine(name, &state);
    machine["States"]["__TestStateCaught"] =
        json!({"Type": "Succeed", "QueryLanguage": "JSONPath"});
    let execution = execute(&machine, setup, answer).await?;
    Ok(execution.output.unwrap_or(Value::Null))
}

/// Where a Choice went: the target the run reached, mapped back to the rule's (or the default's) `Next`.
fn chosen_next(history: &[crate::HistoryEvent], state: &Map<String, Value>) -> Option<Value> {
    let reached = history
        .iter()
        .filter_map(|e| e.state_name())
        .find(|n| n.starts_with("__TestState"))?;
    if reached == "__TestStateDefault" {
        return state.get("Default").cloned();
    }
    let index: usize = reached.strip_prefix("__TestStateChoice")?.parse().ok()?;
    state.get("Choices")?.get(index)?.get("Next").cloned()
}

/// `inspectionData` for DEBUG and TRACE: the data after each JSONPath processing step, or after `Arguments`.
/// `context` is the context object the state runs with.
fn inspection(
    state: &Map<String, Value>,
    input: &Value,
    context: &Value,
    answer: &Result<Value, TaskFailure>,
) -> Value {
    let mut data = Map::new();
    let text = |v: &Value| Value::String(v.to_string());
    data.insert("input".to_owned(), text(input));
    let state_type = state
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mocked = matches!(state_type, "Task" | "Map" | "Parallel");
    let jsonata = state.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
    if state_type == "Map" {
        // AWS reports the Map's limits (0: unlimited); for JSONPath also the steps up to the items and after the
        // (mocked) result.
        let number = |field: &str| map_failures::limit(state, field, input, context);
        data.insert(
            "maxConcurrency".to_owned(),
            number("MaxConcurrency").unwrap_or_else(|| json!(0)),
        );
        for field in ["ToleratedFailureCount", "ToleratedFailurePercentage"] {
            if let Some(value) = number(field) {
                let key = format!("{}{}", field[..1].to_lowercase(), &field[1..]);
                data.insert(key, value);
            }
        }
        if jsonata {
            return Value::Object(data);
        }
    }
    let scope = |value| Scope::new(value).with_context(context);
    if jsonata {
        if let Some(arguments) = state.get("Arguments").filter(|_| state_type == "Task") {
            let states = json!({"input": input});
            if let Ok(value) = render_jsonata(arguments, &states) {
                data.insert("afterArguments".to_owned(), text(&value));
            }
        }
        if let (true, Ok(result)) = (state_type == "Task", answer) {
            data.insert("result".to_owned(), text(result));
        }
        return Value::Object(data);
    }
    let Some(after_input) = after_input_path(state, input, context) else {
        return Value::Object(data);
    };
    let with_result = state_type == "Pass" && state.contains_key("Result");
    if state_type != "Parallel" && !with_result {
        data.insert("afterInputPath".to_owned(), text(&after_input));
    }
    if state_type == "Map" {
        let items = match state.get("ItemsPath").and_then(Value::as_str) {
            Some(path) => crate::path::ReferencePath::parse(path)
                .ok()
                .and_then(|p| p.evaluate(&scope(&after_input)).ok()),
            None => Some(after_input.clone()),
        };
        let Some(items) = items else {
            return Value::Object(data);
        };
        data.insert("afterItemsPath".to_owned(), text(&items));
    }
    if !matches!(state_type, "Pass" | "Task" | "Parallel" | "Map") {
        return Value::Object(data);
    }
    let after_parameters = match state.get("Parameters").filter(|_| state_type != "Map") {
        Some(parameters) => match serde_json::from_value::<TemplateField>(parameters.clone()) {
            Ok(TemplateField(template)) => template.render(&scope(&after_input)).ok(),
            Err(_) => None,
        },
        None => Some(after_input.clone()),
    };
    let Some(after_parameters) = after_parameters else {
        return Value::Object(data);
    };
    if !matches!(state_type, "Parallel" | "Map") && !with_result {
        data.insert("afterParameters".to_owned(), text(&after_parameters));
    }
    let result = match (state_type, mocked) {
        (_, true) => match answer {
            Ok(result) => result.clone(),
            Err(_) => return Value::Object(data),
        },
        ("Pass", _) => state.get("Result").cloned().unwrap_or(after_parameters),
        _ => return Value::Object(data),
    };
    if state_type == "Task" || with_result {
        data.insert("result".to_owned(), text(&result));
    }
    let selected = match state.get("ResultSelector") {
        Some(selector) => match serde_json::from_value::<TemplateField>(selector.clone()) {
            Ok(TemplateField(template)) => template
                .render(&scope(&result))
                .unwrap_or_else(|_| result.clone()),
            Err(_) => result,
        },
        None => result,
    };
    data.insert("afterResultSelector".to_owned(), text(&selected));
    let after_result_path = match state.get("ResultPath") {
        None => Some(selected),
        Some(Value::Null) => Some(input.clone()),
        Some(path) => serde_json::from_value::<ResultPath>(path.clone())
            .ok()
            .and_then(|p| match p {
                ResultPath::Root => Some(selected),
                ResultPath::Discard => Some(input.clone()),
                ResultPath::Path(p) => p.insert(input.clone(), selected).ok(),
            }),
    };
    if let Some(after) = after_result_path {
        data.insert("afterResultPath".to_owned(), text(&after));
    }
    Value::Object(data)
}

fn render_jsonata(value: &Value, states: &Value) -> Result<Value, crate::jsonata::JsonataError> {
    match value {
        Value::String(text) => match crate::jsonata::body(text) {
            Some(body) => crate::jsonata::evaluate(
                body,
                &crate::jsonata::Bindings {
                    states,
                    variables: vec![],
                },
            )
            .map(|v| v.unwrap_or(Value::Null)),
            None => Ok(value.clone()),
        },
        Value::Array(items) => items
            .iter()
            .map(|item| render_jsonata(item, states))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), render_jsonata(v, states)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(request: Value) -> Value {
        test_state(&request)
            .await
            .unwrap_or_else(|rejection| rejection.to_json())
    }

    #[tokio::test]
    async fn a_mocked_map_still_fails_on_items_that_are_not_an_array() {
        let map = json!({"Type": "Map", "ItemsPath": "$.items", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        let request = |state: &Value, input: &str| json!({"definition": state.to_string(), "input": input, "mock": {"result": "[1, 2]"}});
        let ok = answer(request(&map, r#"{"items": [1, 2]}"#)).await;
        assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
        assert_eq!(ok["output"], "[1,2]");
        let failed = answer(request(&map, r#"{"items": {"a": 1}}"#)).await;
        assert_eq!(failed["status"], "FAILED", "{failed}");
        assert_eq!(failed["error"], "States.Runtime");
        let mut caught = map.clone();
        caught["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]);
        // A runtime error: no catcher takes it, States.ALL included (as on AWS).
        let uncaught = answer(request(&caught, r#"{"items": 3}"#)).await;
        assert_eq!(uncaught["status"], "FAILED", "{uncaught}");
        // JSONata's `Items` error is a States.QueryEvaluationError, which a catcher does take.
        let jsonata = json!({"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.items %}",
            "End": true, "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handle"}],
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        let caught = answer(request(&jsonata, r#"{"items": 3}"#)).await;
        assert_eq!(caught["status"], "CAUGHT_ERROR", "{caught}");
        assert_eq!(caught["error"], "States.QueryEvaluationError");
        assert_eq!(caught["nextState"], "Handle");
    }

    #[tokio::test]
    async fn the_given_context_is_the_context_object_for_the_run_and_the_inspection() {
        let state = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"Name.$": "$$.Execution.Name"}, "ResultSelector": {"State.$": "$$.State.Name"},
            "End": true});
        let response = answer(json!({
            "definition": state.to_string(),
            "input": "{}",
            "inspectionLevel": "DEBUG",
            "mock": {"result": "{}"},
            "context": r#"{"Execution": {"Name": "exec-1"}, "State": {"Name": "Given"}}"#,
        }))
        .await;
        assert_eq!(response["status"], "SUCCEEDED", "{response}");
        assert_eq!(response["output"], r#"{"State":"Given"}"#);
        assert_eq!(
            response["inspectionData"]["afterParameters"],
            r#"{"Name":"exec-1"}"#
        );
        assert_eq!(
            response["inspectionData"]["afterResultSelector"],
            r#"{"State":"Given"}"#
        );
    }

    #[tokio::test]
    async fn without_a_given_context_the_run_and_the_inspection_share_the_generated_one() {
        let state = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "ResultSelector": {"Name.$": "$$.Execution.Name", "Role.$": "$$.Execution.RoleArn",
                "State.$": "$$.State.Name"},
            "End": true});
        let response = answer(json!({
            "definition": state.to_string(),
            "inspectionLevel": "DEBUG",
            "mock": {"result": "{}"},
        }))
        .await;
        assert_eq!(response["status"], "SUCCEEDED", "{response}");
        let output: Value =
            serde_json::from_str(response["output"].as_str().unwrap_or_default()).expect("JSON");
        assert_eq!(output["State"], "StateName");
        assert_eq!(
            output["Role"],
            Value::Null,
            "no roleArn: RoleArn is null, as on AWS"
        );
        assert!(
            output["Name"].as_str().is_some_and(|n| n.len() == 36),
            "{output}"
        );
        assert_eq!(
            response["inspectionData"]["afterResultSelector"],
            response["output"]
        );
    }

    #[tokio::test]
    async fn a_mocked_result_failing_its_output_shape_is_refused() {
        let state = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": true});
        let response = answer(json!({
            "definition": state.to_string(),
            "mock": {"result": r#"{"ExecutionArn": 1}"#, "fieldValidationMode": "PRESENT"},
        }))
        .await;
        assert_eq!(
            response["Error"]["Message"],
            "Mock result schema validation error: Field 'ExecutionArn' must be a string"
        );
    }
}
