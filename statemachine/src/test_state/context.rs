//! The request's `context`: a context object the caller supplies for the state under test. AWS checks it against the
//! context object's own fields before it runs anything, and then uses it as it is for `$$` and `$states.context`
//! (an empty `{}` makes `$$` an empty object; nothing of the generated context is merged in).

use serde_json::{Map, Value};

use super::Rejection;

/// What a context field holds.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Integer,
    /// `Execution.Input`: whatever the execution was started with.
    Any,
}

/// The context object's fields a caller may set, by section (AWS's context object reference). `Map` is refused
/// with its own message: TestState fills `$$.Map` itself inside an iteration.
const SECTIONS: &[(&str, &[(&str, Kind)])] = &[
    (
        "Execution",
        &[
            ("Id", Kind::String),
            ("Input", Kind::Any),
            ("Name", Kind::String),
            ("RoleArn", Kind::String),
            ("StartTime", Kind::String),
            ("RedriveCount", Kind::Integer),
            ("RedriveTime", Kind::String),
        ],
    ),
    (
        "State",
        &[
            ("EnteredTime", Kind::String),
            ("Name", Kind::String),
            ("RetryCount", Kind::Integer),
        ],
    ),
    (
        "StateMachine",
        &[("Id", Kind::String), ("Name", Kind::String)],
    ),
    ("Task", &[("Token", Kind::String)]),
];

/// AWS's API reference on `context`: "This field may only be specified if a mock is specified in the same
/// request." Not recorded from AWS: our wording.
pub(super) const WITHOUT_MOCK: &str =
    "A context object may only be specified if a mock is specified in the same request";

/// The context object TestState gives a state when the request sends none: an Express execution of a machine
/// named `TestStateMachine` under the caller's account (from `roleArn`), `RoleArn` null when no role is sent (as AWS
/// answers), the state entered when the execution started, on its first attempt. The sections and fields are the
/// ones AWS's recorded calls show: `Execution` {`Id`, `Input`, `Name`, `RoleArn`, `StartTime`}, `StateMachine`
/// {`Id`, `Name`}, `State` {`Name`, `EnteredTime`, `RetryCount`}, the execution id an
/// `arn:aws:states:<region>:<account>:express:<machine>:<name>` ARN ending in the execution's name.
///
/// A state inside a Map (`in_map`) also gets `Map.Item`, as the developer guide says: "When testing a state within a
/// Map state (using the `stateName` parameter) without providing a `context` parameter, TestState automatically
/// populates the Context object with default values", `$$.Map.Item.Index` = `0` (first iteration) and
/// `$$.Map.Item.Value` = your input value.
pub(super) fn generated(
    state_name: &str,
    input: &Value,
    role_arn: Option<&str>,
    started: chrono::DateTime<chrono::Utc>,
    in_map: bool,
) -> Map<String, Value> {
    let account = account(role_arn);
    let machine = "TestStateMachine";
    let execution = uuid::Uuid::new_v4().to_string();
    let time = Value::String(started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut context = Map::new();
    context.insert(
        "Execution".to_owned(),
        serde_json::json!({
            "Id": format!("arn:aws:states:{REGION}:{account}:express:{machine}:{execution}"),
            "Input": input,
            "Name": execution,
            "RoleArn": role_arn,
            "StartTime": time,
        }),
    );
    context.insert(
        "StateMachine".to_owned(),
        serde_json::json!({
            "Id": format!("arn:aws:states:{REGION}:{account}:stateMachine:{machine}"),
            "Name": machine,
        }),
    );
    context.insert(
        "State".to_owned(),
        serde_json::json!({"Name": state_name, "EnteredTime": time, "RetryCount": 0}),
    );
    if in_map {
        context.insert(
            "Map".to_owned(),
            serde_json::json!({"Item": {"Index": 0, "Value": input}}),
        );
    }
    context
}

/// The region TestState runs in offline.
pub(super) const REGION: &str = "us-east-1";

/// The caller's account: the one in the role ARN, else a stand-in.
pub(super) fn account(role_arn: Option<&str>) -> &str {
    role_arn
        .and_then(|arn| arn.split(':').nth(4))
        .filter(|account| !account.is_empty())
        .unwrap_or("123456789012")
}

fn invalid(detail: impl std::fmt::Display) -> Rejection {
    Rejection::validation(format!("Invalid Context object provided: {detail}"))
}

/// Checks the request's context object for the state `state` and returns it.
pub(super) fn checked(
    context: Value,
    state: &Map<String, Value>,
) -> Result<Map<String, Value>, Rejection> {
    let Value::Object(context) = context else {
        return Err(invalid("Context object must be an object"));
    };
    for (section, value) in &context {
        if section == "Map" {
            return Err(invalid(
                "'Map' field is not supported when mocking a Context object",
            ));
        }
        let Some((_, fields)) = SECTIONS.iter().find(|(name, _)| name == section) else {
            return Err(invalid(format_args!("Field '{section}' is not allowed")));
        };
        let Value::Object(members) = value else {
            return Err(invalid(format_args!("{section} must be an object")));
        };
        for (field, value) in members {
            let Some((_, kind)) = fields.iter().find(|(name, _)| name == field) else {
                return Err(invalid(format_args!("Field '{field}' is not allowed")));
            };
            let (fits, expected) = match kind {
                Kind::String => (value.is_string(), "a string"),
                Kind::Integer => (value.is_u64() || value.is_i64(), "an integer"),
                Kind::Any => (true, ""),
            };
            if !fits {
                return Err(invalid(format_args!(
                    "{section}.{field} must be {expected}"
                )));
            }
        }
    }
    if context.contains_key("Task") && !issues_task_token(state) {
        return Err(invalid(
            "Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern",
        ));
    }
    Ok(context)
}

/// A Task whose integration pattern has a task token in its context (`.sync`, `.sync:2`, `.waitForTaskToken`).
fn issues_task_token(state: &Map<String, Value>) -> bool {
    let resource = state
        .get("Resource")
        .and_then(Value::as_str)
        .unwrap_or_default();
    state.get("Type").and_then(Value::as_str) == Some("Task")
        && (resource.ends_with(".waitForTaskToken")
            || resource.ends_with(".sync")
            || resource.contains(".sync:"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn task(resource: &str) -> Map<String, Value> {
        json!({"Type": "Task", "Resource": resource})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn message(context: Value, state: &Map<String, Value>) -> String {
        match checked(context, state) {
            Ok(_) => "accepted".to_owned(),
            Err(rejection) => rejection.message,
        }
    }

    #[test]
    fn known_fields_pass_as_given() {
        let given = json!({"Execution": {"Id": "x", "Input": [1], "RedriveCount": 0}, "State": {}});
        let state = task("arn:aws:states:::lambda:invoke");
        assert_eq!(checked(given.clone(), &state).map(Value::Object), Ok(given));
    }

    #[test]
    fn unknown_map_and_mistyped_fields_are_refused() {
        let state = task("arn:aws:states:::lambda:invoke");
        assert_eq!(
            message(json!({"Pokedex": {}}), &state),
            "Invalid Context object provided: Field 'Pokedex' is not allowed"
        );
        assert_eq!(
            message(json!({"State": {"Colour": 1}}), &state),
            "Invalid Context object provided: Field 'Colour' is not allowed"
        );
        assert_eq!(
            message(json!({"Map": {}}), &state),
            "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"
        );
        assert_eq!(
            message(json!({"State": {"RetryCount": "0"}}), &state),
            "Invalid Context object provided: State.RetryCount must be an integer"
        );
        assert_eq!(
            message(json!({"Execution": "x"}), &state),
            "Invalid Context object provided: Execution must be an object"
        );
        assert_eq!(
            message(json!([]), &state),
            "Invalid Context object provided: Context object must be an object"
        );
    }

    #[test]
    fn a_task_token_needs_a_callback_or_sync_integration() {
        let token = json!({"Task": {"Token": "abc"}});
        assert!(message(token.clone(), &task("arn:aws:states:::lambda:invoke")).contains("'Task'"));
        for resource in [
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "arn:aws:states:::states:startExecution.sync",
            "arn:aws:states:::states:startExecution.sync:2",
        ] {
            assert_eq!(message(token.clone(), &task(resource)), "accepted");
        }
    }
}
