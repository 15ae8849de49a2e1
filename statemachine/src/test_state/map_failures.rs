//! `stateConfiguration.mapIterationFailureCount`: a mocked Map run as if that many of its iterations failed. The
//! mocked result holds one entry per iteration, so it gives the number of iterations. Against the state's
//! `ToleratedFailureCount` / `ToleratedFailurePercentage`, too many failures fail the Map with
//! `States.ExceedToleratedFailureThreshold`, which then meets the state's Retry and Catch like any error. A Map
//! that sets no tolerance is not failed by simulated iterations (AWS answers such a call `SUCCEEDED` with the
//! mocked result).

use serde_json::{Value, json};

use super::{Rejection, render_jsonata};
use crate::TaskFailure;
use crate::exec::{EXCEEDED_THRESHOLD_CAUSE, exceeds_tolerance};
use crate::model::retry::names;
use crate::path::{ReferencePath, Scope};

/// A Map's numeric field (`MaxConcurrency`, `ToleratedFailureCount`, `ToleratedFailurePercentage`): a number, a
/// JSONata expression, or the JSONPath `<field>Path` over the input; `None` when unset or not a number.
pub(super) fn limit(
    state: &serde_json::Map<String, Value>,
    field: &str,
    input: &Value,
    context: &Value,
) -> Option<Value> {
    if let Some(value) = state.get(field) {
        let mut states = json!({"input": input});
        if !context.is_null() {
            states["context"] = context.clone();
        }
        return render_jsonata(value, &states).ok().filter(Value::is_number);
    }
    let path = state.get(&format!("{field}Path"))?.as_str()?;
    ReferencePath::parse(path)
        .ok()?
        .evaluate(&Scope::new(input).with_context(context))
        .ok()
        .filter(Value::is_number)
}

/// The failure the simulated failed iterations cause, if they exceed what the Map tolerates.
pub(super) fn threshold_failure(
    state: &serde_json::Map<String, Value>,
    input: &Value,
    context: &Value,
    answer: &Result<Value, TaskFailure>,
    failed: u64,
) -> Result<Option<TaskFailure>, Rejection> {
    // An `errorOutput` mock fails the Map itself; there are no iterations to count.
    let Ok(Value::Array(results)) = answer else {
        return Ok(None);
    };
    let total = results.len();
    let failed = usize::try_from(failed).unwrap_or(usize::MAX);
    if failed > total {
        return Err(Rejection::validation(
            "Map iteration failure count must be less than or equal to the number of Map iterations",
        ));
    }
    let number = |field| limit(state, field, input, context).and_then(|v| v.as_f64());
    let count = number("ToleratedFailureCount");
    let percentage = number("ToleratedFailurePercentage");
    if count.is_none() && percentage.is_none() {
        return Ok(None);
    }
    Ok(
        exceeds_tolerance(failed, total, count, percentage).then(|| {
            TaskFailure::new(
                names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                EXCEEDED_THRESHOLD_CAUSE,
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(fields: Value) -> serde_json::Map<String, Value> {
        let mut state = json!({"Type": "Map"});
        if let (Value::Object(state), Value::Object(fields)) = (&mut state, fields) {
            state.extend(fields);
        }
        state.as_object().cloned().unwrap_or_default()
    }

    fn failure(fields: Value, failed: u64) -> Result<Option<String>, Rejection> {
        let answer = Ok(json!([1, 2, 3, 4]));
        threshold_failure(
            &map(fields),
            &json!({"n": 1}),
            &Value::Null,
            &answer,
            failed,
        )
        .map(|f| f.map(|f| f.error))
    }

    #[test]
    fn failures_over_the_tolerated_count_or_percentage_fail_the_map() {
        let exceeded = Ok(Some("States.ExceedToleratedFailureThreshold".to_owned()));
        assert_eq!(failure(json!({"ToleratedFailureCount": 1}), 1), Ok(None));
        assert_eq!(failure(json!({"ToleratedFailureCount": 1}), 2), exceeded);
        assert_eq!(
            failure(json!({"ToleratedFailurePercentage": 50}), 2),
            Ok(None)
        );
        assert_eq!(
            failure(json!({"ToleratedFailurePercentage": 50}), 3),
            exceeded
        );
        assert_eq!(
            failure(json!({"ToleratedFailureCountPath": "$.n"}), 2),
            exceeded
        );
        assert_eq!(
            failure(
                json!({"QueryLanguage": "JSONata", "ToleratedFailureCount": "{% $states.input.n %}"}),
                2
            ),
            exceeded
        );
    }

    #[test]
    fn without_a_tolerance_simulated_failures_change_nothing() {
        assert_eq!(failure(json!({}), 4), Ok(None));
    }

    #[test]
    fn more_failures_than_iterations_is_refused() {
        assert_eq!(
            failure(json!({"ToleratedFailureCount": 1}), 5).map_err(|r| r.message),
            Err("Map iteration failure count must be less than or equal to the number of Map iterations".to_owned())
        );
    }
}
