//! Evaluating a Lambda event-source `FilterCriteria` pattern (EventBridge pattern syntax) against an
//! event, for the subset our template uses: nested objects and arrays of exact values.
//!
//! The local event source mappings filter every record with it, and `tests/infra_template.rs`
//! checks the template's filters against real DynamoDB items with it.
//!
//! Written here because Lambda applies filters inside the service, and the only evaluator in the
//! AWS SDKs is EventBridge's `TestEventPattern`, a call to a real account; no kept Rust crate
//! evaluates EventBridge patterns. Anything outside the subset (prefix, numeric, exists,
//! anything-but, ...) is refused with an error rather than guessed, so a richer filter in the
//! template fails the local run and the template test until the matcher learns it.

use serde_json::Value;

/// A pattern using syntax outside the subset this matcher knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported filter pattern: {0}")]
pub struct Unsupported(pub String);

/// Checks that `pattern` stays within the subset, without an event to match.
pub fn check(pattern: &Value) -> Result<(), Unsupported> {
    let Value::Object(fields) = pattern else {
        return Err(Unsupported(format!(
            "a pattern must be an object, got {pattern}"
        )));
    };
    for (key, wanted) in fields {
        match wanted {
            Value::Object(_) => check(wanted)?,
            Value::Array(values) => {
                leaf_matches(key, values, &Value::Null)?;
            }
            other => {
                return Err(Unsupported(format!(
                    "{key}: a pattern leaf must be an array of values, got {other}"
                )));
            }
        }
    }
    Ok(())
}

/// True when `event` matches `pattern`: every key of the pattern is present in the event, nested
/// objects match recursively, and at a leaf the event's value equals one of the pattern's values
/// (or, for an array in the event, one of its elements does).
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, Unsupported> {
    let Value::Object(fields) = pattern else {
        return Err(Unsupported(format!(
            "a pattern must be an object, got {pattern}"
        )));
    };
    for (key, wanted) in fields {
        let Some(actual) = event.get(key) else {
            return Ok(false);
        };
        let matched = match wanted {
            Value::Object(_) => matches(wanted, actual)?,
            Value::Array(values) => leaf_matches(key, values, actual)?,
            other => {
                return Err(Unsupported(format!(
                    "{key}: a pattern leaf must be an array of values, got {other}"
                )));
            }
        };
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

fn leaf_matches(key: &str, values: &[Value], actual: &Value) -> Result<bool, Unsupported> {
    if let Some(rule) = values.iter().find(|v| v.is_object() || v.is_array()) {
        return Err(Unsupported(format!(
            "{key}: content filter {rule} is not supported by this matcher"
        )));
    }
    Ok(match actual {
        Value::Array(elements) => elements.iter().any(|e| values.contains(e)),
        Value::Object(_) => false,
        scalar => values.contains(scalar),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn exact_values_in_nested_objects() {
        let pattern = json!({"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"entity": {"S": ["stage"]}}}});
        let record = |name: &str, entity: &str| json!({"eventName": name, "dynamodb": {"NewImage": {"entity": {"S": entity}, "PK": {"S": "X"}}}});
        assert_eq!(matches(&pattern, &record("MODIFY", "stage")), Ok(true));
        assert_eq!(matches(&pattern, &record("INSERT", "stage")), Ok(true));
        assert_eq!(matches(&pattern, &record("REMOVE", "stage")), Ok(false));
        assert_eq!(matches(&pattern, &record("MODIFY", "schedule")), Ok(false));
        assert_eq!(
            matches(&pattern, &json!({"eventName": "MODIFY", "dynamodb": {}})),
            Ok(false)
        );
        assert_eq!(
            matches(&json!({"k": ["a"]}), &json!({"k": ["b", "a"]})),
            Ok(true)
        );
    }

    #[test]
    fn content_filters_are_refused() {
        assert!(matches(&json!({"k": [{"prefix": "a"}]}), &json!({"k": "abc"})).is_err());
        assert!(matches(&json!({"k": "a"}), &json!({"k": "a"})).is_err());
        assert!(matches(&json!(["a"]), &json!({"k": "a"})).is_err());
    }
}
