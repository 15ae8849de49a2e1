//! Input and output processing shared by the state types, and the AWS wording of the errors it raises.

use std::time::Duration;

use serde_json::Value;

use super::failure::{At, Failure};
use crate::model::{IoPath, ResultPath, Template};
use crate::path::Scope;

/// AWS's payload size quota: 256 KiB of UTF-8 JSON.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

pub(crate) fn apply_input_path(
    at: At<'_>,
    path: &IoPath,
    scope: &Scope<'_>,
) -> Result<Value, Failure> {
    match path {
        IoPath::Root => Ok(scope.input.clone()),
        IoPath::Null => Ok(Value::Object(serde_json::Map::new())),
        IoPath::Path(p) => p
            .evaluate(scope)
            .map_err(|e| at.invalid_path(p.as_str(), &e)),
    }
}

/// `OutputPath` on a value the state owns, so `$` needs no copy.
pub(crate) fn apply_output_path(
    at: At<'_>,
    path: &IoPath,
    output: Value,
    scope: &Scope<'_>,
) -> Result<Value, Failure> {
    match path {
        IoPath::Root => Ok(output),
        IoPath::Null => Ok(Value::Object(serde_json::Map::new())),
        IoPath::Path(p) => {
            let scope = Scope {
                input: &output,
                ..*scope
            };
            p.evaluate(&scope)
                .map_err(|e| at.invalid_path(p.as_str(), &e))
        }
    }
}

pub(crate) fn apply_result_path(
    at: At<'_>,
    path: &ResultPath,
    raw_input: Value,
    result: Value,
) -> Result<Value, Failure> {
    match path {
        ResultPath::Root => Ok(result),
        ResultPath::Discard => Ok(raw_input),
        ResultPath::Path(p) => p
            .insert(raw_input, result)
            .map_err(|e| at.invalid_path(p.as_str(), &e)),
    }
}

pub(crate) fn render(at: At<'_>, template: &Template, scope: &Scope<'_>) -> Result<Value, Failure> {
    template
        .render(scope)
        .map_err(|e| at.render_error(e, scope.input))
}

/// Whether `value` serialises to more than `limit` bytes. It counts an upper-bound estimate (escapes aside) and stops
/// as soon as the budget runs out, so small payloads cost little and huge ones are not serialised just to be measured.
pub(crate) fn exceeds_size(value: &Value, limit: usize) -> bool {
    /// Takes `cost` out of the budget; true when it does not fit.
    fn spend(budget: &mut usize, cost: usize) -> bool {
        match budget.checked_sub(cost) {
            Some(left) => {
                *budget = left;
                false
            }
            None => true,
        }
    }
    fn over(value: &Value, budget: &mut usize) -> bool {
        match value {
            Value::Null | Value::Bool(_) => spend(budget, 5),
            Value::Number(_) => spend(budget, 8),
            Value::String(s) => spend(budget, s.len() + 2),
            Value::Array(items) => {
                spend(budget, items.len() + 2) || items.iter().any(|item| over(item, budget))
            }
            Value::Object(map) => {
                spend(budget, map.len() + 2)
                    || map
                        .iter()
                        .any(|(key, item)| spend(budget, key.len() + 3) || over(item, budget))
            }
        }
    }
    let mut budget = limit;
    over(value, &mut budget)
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn size_limit_is_checked_without_serialising() {
        let limit = MAX_PAYLOAD_BYTES;
        assert!(!exceeds_size(&json!({"a": "x".repeat(limit - 100)}), limit));
        assert!(exceeds_size(&json!({"a": "x".repeat(limit)}), limit));
        assert!(exceeds_size(
            &json!([["x".repeat(limit / 2)], {"b": "y".repeat(limit / 2)}]),
            limit
        ));
        assert!(!exceeds_size(&json!([1, true, null, "s"]), 64));
    }
}
