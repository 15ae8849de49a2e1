//! Mocks of Map and Parallel states. TestState does not run a Map's iterations or a Parallel's branches: the mock
//! stands for what they produced, so AWS checks that it has the shape the state would produce, and that a mocked
//! error names the sub-state it came from. The rules and the sentences they follow, from the developer guide's
//! "Testing state machines with TestState API" (`test-state-isolation.html`):
//!
//! - Map: "When testing a Map state, the mocked result must represent the output of the entire Map state. The mock
//!   result must be a valid JSON array or JSON object depending on your Map state configuration." Without a
//!   `ResultWriter` a Map's result is the array of its iterations' results (AWS's recorded answer to anything else:
//!   `Mocked result must be an array.`); with one it is the writer's result object.
//! - Parallel: "When testing a Parallel state, the mocked result must be a JSON array with one element for each
//!   branch, in the same order as the branches appear in the definition."
//! - Errors: "When mocking errors for Map or Parallel states, you must specify which sub-state caused the error
//!   using the `stateConfiguration.errorCausedByState` parameter."

use serde_json::{Map, Value};

use super::Rejection;

/// AWS's recorded answer to a mocked Map result that is not an array (Map without `ResultWriter`).
pub(super) const MAP_RESULT_NOT_ARRAY: &str = "Mocked result must be an array.";
/// A Map with a `ResultWriter` mocked with anything but the writer's result object. Not recorded from AWS: our
/// wording, shaped like the recorded array message.
pub(super) const MAP_WRITER_RESULT_NOT_OBJECT: &str = "Mocked result must be an object: a Map state with a ResultWriter returns the ResultWriter's result.";

fn state_type(state: &Map<String, Value>) -> &str {
    state
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Checks the mocked `result` of a Map or Parallel `state` against the shape the state produces; other states pass.
pub(super) fn check_result(state: &Map<String, Value>, result: &Value) -> Result<(), Rejection> {
    match state_type(state) {
        "Map" if state.contains_key("ResultWriter") && !result.is_object() => {
            return Err(Rejection::validation(MAP_WRITER_RESULT_NOT_OBJECT));
        }
        "Map" if !state.contains_key("ResultWriter") && !result.is_array() => {
            return Err(Rejection::validation(MAP_RESULT_NOT_ARRAY));
        }
        "Parallel" => {
            let Value::Array(results) = result else {
                return Err(Rejection::validation(
                    "Mocked result must be an array: a Parallel state returns one element per branch.",
                ));
            };
            let branches = state
                .get("Branches")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if results.len() != branches {
                return Err(Rejection::validation(format!(
                    "Mocked result must have one element per branch: the Parallel state has {branches} branches, the mocked result has {} elements.",
                    results.len()
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks `stateConfiguration.errorCausedByState` for the state under test: a mocked error of a Map or Parallel
/// needs it, and it must name a state inside the Map's item processor or the Parallel's branches.
pub(super) fn check_error_source(
    state: &Map<String, Value>,
    mocks_an_error: bool,
    caused_by: Option<&Value>,
) -> Result<(), Rejection> {
    let kind = state_type(state);
    if !matches!(kind, "Map" | "Parallel") {
        return Ok(());
    }
    let Some(caused_by) = caused_by.filter(|v| !v.is_null()) else {
        if mocks_an_error {
            return Err(Rejection::validation(format!(
                "An error mocked for a {kind} state needs stateConfiguration.errorCausedByState: the name of the state inside the {kind} state that caused it."
            )));
        }
        return Ok(());
    };
    let name = caused_by.as_str().unwrap_or_default();
    if name.is_empty() || !holds_state(state, name) {
        return Err(Rejection::validation(format!(
            "stateConfiguration.errorCausedByState '{name}' is not a state inside the {kind} state."
        )));
    }
    Ok(())
}

/// Whether `name` is a state of the Map's item processor or of a Parallel's branches, at any depth.
fn holds_state(state: &Map<String, Value>, name: &str) -> bool {
    nested_machines(state)
        .filter_map(|machine| machine.get("States").and_then(Value::as_object))
        .any(|states| {
            states.contains_key(name)
                || states
                    .values()
                    .filter_map(Value::as_object)
                    .any(|inner| holds_state(inner, name))
        })
}

/// The machines nested in a state: a Map's `ItemProcessor` (or the older `Iterator`), a Parallel's `Branches`.
pub(super) fn nested_machines(state: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    ["ItemProcessor", "Iterator"]
        .into_iter()
        .filter_map(|k| state.get(k))
        .chain(
            state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn state(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn parallel(branches: usize) -> Map<String, Value> {
        let branch = json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}});
        state(json!({"Type": "Parallel", "Branches": vec![branch; branches], "End": true}))
    }

    fn message(result: Result<(), Rejection>) -> String {
        result.err().map(|r| r.message).unwrap_or_default()
    }

    /// "When testing a Parallel state, the mocked result must be a JSON array with one element for each branch, in
    /// the same order as the branches appear in the definition." (developer guide, Testing Parallel states)
    #[test]
    fn a_parallel_result_is_an_array_with_one_element_per_branch() {
        assert_eq!(
            check_result(&parallel(2), &json!([{"a": 1}, {"b": 2}])),
            Ok(())
        );
        assert!(
            message(check_result(&parallel(2), &json!({"a": 1})))
                .starts_with("Mocked result must be an array")
        );
        assert!(
            message(check_result(&parallel(2), &json!("[1, 2]")))
                .starts_with("Mocked result must be an array")
        );
        for wrong in [json!([]), json!([1]), json!([1, 2, 3])] {
            let why = message(check_result(&parallel(2), &wrong));
            assert!(why.contains("has 2 branches"), "{wrong}: {why}");
        }
    }

    /// "When testing a Map state, the mocked result must represent the output of the entire Map state. The mock
    /// result must be a valid JSON array or JSON object depending on your Map state configuration." (developer
    /// guide, Testing a Map state)
    #[test]
    fn a_map_result_is_an_array_or_with_a_result_writer_the_writers_object() {
        let map = state(json!({"Type": "Map", "End": true}));
        assert_eq!(check_result(&map, &json!([1, 2])), Ok(()));
        assert_eq!(
            message(check_result(&map, &json!({"a": 1}))),
            MAP_RESULT_NOT_ARRAY
        );
        let writer = state(json!({"Type": "Map", "End": true,
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}}));
        let written = json!({"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:m/r:1",
            "ResultWriterDetails": {"Bucket": "b", "Key": "p/manifest.json"}});
        assert_eq!(check_result(&writer, &written), Ok(()));
        for wrong in [json!([1, 2]), json!("x"), json!(3)] {
            assert_eq!(
                message(check_result(&writer, &wrong)),
                MAP_WRITER_RESULT_NOT_OBJECT,
                "{wrong}"
            );
        }
    }

    /// "When mocking errors for Map or Parallel states, you must specify which sub-state caused the error using the
    /// `stateConfiguration.errorCausedByState` parameter." (developer guide, Specifying error source with
    /// errorCausedByState)
    #[test]
    fn a_mocked_map_or_parallel_error_names_a_sub_state_it_came_from() {
        let map = state(
            json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Outer", "States": {
            "Outer": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": true}}}]}}}}),
        );
        assert_eq!(
            check_error_source(&map, true, Some(&json!("Outer"))),
            Ok(())
        );
        assert_eq!(
            check_error_source(&map, true, Some(&json!("Inner"))),
            Ok(())
        );
        assert!(
            message(check_error_source(&map, true, None))
                .contains("needs stateConfiguration.errorCausedByState")
        );
        assert!(
            message(check_error_source(&map, true, Some(&json!("Elsewhere"))))
                .contains("'Elsewhere' is not a state inside the Map state")
        );
        assert!(
            message(check_error_source(
                &parallel(1),
                false,
                Some(&json!("Nope"))
            ))
            .contains("inside the Parallel state")
        );
        assert_eq!(
            check_error_source(&parallel(1), true, Some(&json!("B"))),
            Ok(())
        );
        // A result mock needs no error source; other states are not asked for one.
        assert_eq!(check_error_source(&map, false, None), Ok(()));
        let task = state(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
        );
        assert_eq!(check_error_source(&task, true, None), Ok(()));
    }
}
