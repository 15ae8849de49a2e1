//! `mock.fieldValidationMode`: TestState checks a mocked Task result against the output shape of the service
//! operation the Task calls before it uses it. `STRICT` (the default) checks the type and limits of every field
//! the model knows and that required fields are present; `PRESENT` checks only the fields the mock has; `NONE`
//! checks nothing. Fields the model does not know pass in every mode, as AWS lets them pass.
//!
//! The shapes are data (`output_shapes.json`, written from botocore's service models by
//! `statemachine/tools/output_shapes.py`) for the operations listed there; a Task calling anything else (a Lambda
//! function ARN, an activity, `.waitForTaskToken`, an aws-sdk operation outside the list) keeps its mock unchecked.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Rejection;

/// One shape of the model, as the data file has it.
#[derive(Debug, Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    r#enum: Vec<String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    members: BTreeMap<String, String>,
    /// A list's element shape.
    #[serde(default)]
    member: Option<String>,
    /// A map's value shape.
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Model {
    /// Resource after `arn:<partition>:states:::` -> its output shape.
    operations: BTreeMap<String, String>,
    shapes: BTreeMap<String, Shape>,
}

static MODEL: LazyLock<Result<Model, String>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("output_shapes.json")).map_err(|e| e.to_string())
});

/// How much of a mocked result TestState checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Present,
    None,
}

fn mode(mock: &Value) -> Result<Mode, Rejection> {
    match mock.get("fieldValidationMode") {
        None | Some(Value::Null) => Ok(Mode::Strict),
        Some(Value::String(mode)) if mode == "STRICT" => Ok(Mode::Strict),
        Some(Value::String(mode)) if mode == "PRESENT" => Ok(Mode::Present),
        Some(Value::String(mode)) if mode == "NONE" => Ok(Mode::None),
        Some(other) => Err(Rejection::validation(format!(
            "1 validation error detected: Value '{}' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]",
            other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned)
        ))),
    }
}

/// Checks `mock.fieldValidationMode` alone: the API takes only `STRICT`, `PRESENT` or `NONE`, whatever is mocked.
pub(super) fn check_mode(mock: &Value) -> Result<(), Rejection> {
    mode(mock).map(|_| ())
}

/// The operation a Task's `Resource` calls, as the model names it (`lambda:invoke`, `aws-sdk:kms:encrypt`, ...).
fn operation(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    rest.strip_prefix("states:::")
}

/// Checks the mocked `result` of the Task `state` as the request's `mock.fieldValidationMode` asks.
pub(super) fn check(
    state: &Map<String, Value>,
    mock: &Value,
    result: &Value,
) -> Result<(), Rejection> {
    let mode = mode(mock)?;
    if mode == Mode::None {
        return Ok(());
    }
    let Some(operation) = state
        .get("Resource")
        .and_then(Value::as_str)
        .and_then(operation)
    else {
        return Ok(());
    };
    let model = MODEL.as_ref().map_err(|e| Rejection {
        code: "InternalServerError",
        message: format!("the bundled service output shapes do not parse: {e}"),
    })?;
    let Some(top) = model.operations.get(operation) else {
        return Ok(());
    };
    let checker = Checker { model, mode };
    checker.value(top, "", result).map_err(|problem| {
        Rejection::validation(format!("Mock result schema validation error: {problem}"))
    })
}

struct Checker<'m> {
    model: &'m Model,
    mode: Mode,
}

impl Checker<'_> {
    /// Checks `value` against the shape named `shape`; `field` names it in messages (a list element or map value
    /// goes by its list's or map's field).
    fn value(&self, shape: &str, field: &str, value: &Value) -> Result<(), String> {
        let Some(shape) = self.model.shapes.get(shape) else {
            return Err(format!("the model has no shape '{shape}'"));
        };
        let wrong = |expected: &str| Err(format!("Field '{field}' must be {expected}"));
        match shape.kind.as_str() {
            "json" => Ok(()),
            "structure" => {
                let Value::Object(members) = value else {
                    return wrong("an object");
                };
                self.structure(shape, members)
            }
            "list" => {
                let Value::Array(items) = value else {
                    return wrong("an array");
                };
                length(shape, field, items.len())?;
                let element = shape.member.as_deref().unwrap_or("json");
                items
                    .iter()
                    .try_for_each(|item| self.value(element, field, item))
            }
            "map" => {
                let Value::Object(entries) = value else {
                    return wrong("an object");
                };
                length(shape, field, entries.len())?;
                let values = shape.value.as_deref().unwrap_or("json");
                entries
                    .values()
                    .try_for_each(|entry| self.value(values, field, entry))
            }
            "string" => {
                let Value::String(text) = value else {
                    return wrong("a string");
                };
                length(shape, field, text.chars().count())?;
                if !shape.r#enum.is_empty() && !shape.r#enum.contains(text) {
                    return Err(format!("Field '{field}' is not an expected value"));
                }
                Ok(())
            }
            // Blobs travel base64-encoded; their limits count the bytes.
            "blob" => {
                let Value::String(text) = value else {
                    return wrong("a string");
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_or(text.len(), |decoded| decoded.len());
                length(shape, field, bytes)
            }
            "timestamp" => match value {
                Value::String(_) => Ok(()),
                _ => wrong("a string"),
            },
            "boolean" => match value {
                Value::Bool(_) => Ok(()),
                _ => wrong("a boolean"),
            },
            "integer" | "long" | "double" | "float" => {
                let Some(number) = value.as_f64() else {
                    return wrong("a number");
                };
                if matches!(shape.kind.as_str(), "integer" | "long") && number.fract() != 0.0 {
                    return wrong("an integer");
                }
                if shape.min.is_some_and(|min| number < min) {
                    return Err(format!("Field '{field}' is less than the minimum value"));
                }
                if shape.max.is_some_and(|max| number > max) {
                    return Err(format!("Field '{field}' exceeds the maximum value"));
                }
                Ok(())
            }
            other => Err(format!("the model's shape type '{other}' is not known")),
        }
    }

    fn structure(&self, shape: &Shape, members: &Map<String, Value>) -> Result<(), String> {
        if self.mode == Mode::Strict
            && let Some(missing) = shape
                .required
                .iter()
                .find(|name| members.get(*name).is_none_or(Value::is_null))
        {
            return Err(format!("Required field '{missing}' is missing"));
        }
        for (name, value) in members {
            // A field the model does not know, or an explicit null, passes as AWS lets it pass.
            let Some(member) = shape.members.get(name) else {
                continue;
            };
            if !value.is_null() {
                self.value(member, name, value)?;
            }
        }
        Ok(())
    }
}

/// A string's, blob's, list's or map's size against the shape's length limits.
fn length(shape: &Shape, field: &str, size: usize) -> Result<(), String> {
    // Sizes are far below 2^52, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let size = size as f64;
    if shape.min.is_some_and(|min| size < min) {
        return Err(format!(
            "Field '{field}' is smaller than the minimum length"
        ));
    }
    if shape.max.is_some_and(|max| size > max) {
        return Err(format!("Field '{field}' exceeds the maximum length"));
    }
    Ok(())
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

    fn verdict(resource: &str, mode: Option<&str>, result: Value) -> String {
        let mock = match mode {
            Some(mode) => json!({"fieldValidationMode": mode}),
            None => json!({}),
        };
        match check(&task(resource), &mock, &result) {
            Ok(()) => "accepted".to_owned(),
            Err(rejection) => rejection
                .message
                .replace("Mock result schema validation error: ", ""),
        }
    }

    #[test]
    fn the_bundled_model_parses_and_every_shape_it_names_exists() {
        let model = MODEL.as_ref().expect("output_shapes.json parses");
        let names = model
            .operations
            .values()
            .chain(model.shapes.values().flat_map(|s| {
                s.members
                    .values()
                    .chain(s.member.iter())
                    .chain(s.value.iter())
            }));
        for name in names {
            assert!(model.shapes.contains_key(name), "missing shape {name}");
        }
    }

    #[test]
    fn strict_checks_types_limits_enums_and_required_fields() {
        let sfn = "arn:aws:states:::states:startExecution";
        assert_eq!(
            verdict(sfn, None, json!({})),
            "Required field 'ExecutionArn' is missing"
        );
        assert_eq!(
            verdict(sfn, None, json!({"ExecutionArn": "a", "StartDate": 1})),
            "Field 'StartDate' must be a string"
        );
        assert_eq!(
            verdict(
                sfn,
                None,
                json!({"ExecutionArn": "a", "StartDate": "2025-12-03T00:34:15Z"})
            ),
            "accepted"
        );
        let lambda = "arn:aws:states:::aws-sdk:lambda:getFunction";
        assert_eq!(
            verdict(lambda, None, json!({"Configuration": {"MemorySize": 127}})),
            "Field 'MemorySize' is less than the minimum value"
        );
        assert_eq!(
            verdict(
                lambda,
                None,
                json!({"Configuration": {"MemorySize": 128.5}})
            ),
            "Field 'MemorySize' must be an integer"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::aws-sdk:s3:getObject",
                None,
                json!({"StorageClass": "Papyrus"})
            ),
            "Field 'StorageClass' is not an expected value"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::aws-sdk:kms:encrypt",
                None,
                json!({"CiphertextBlob": ""})
            ),
            "Field 'CiphertextBlob' is smaller than the minimum length"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::events:putEvents",
                None,
                json!({"Entries": [{"EventId": "e"}, {"EventId": 7}]})
            ),
            "Field 'EventId' must be a string"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::dynamodb:getItem",
                None,
                json!({"Item": {"pk": {"S": "a"}, "n": {"N": 1}}})
            ),
            "Field 'N' must be a string"
        );
    }

    #[test]
    fn present_skips_missing_fields_and_none_checks_nothing() {
        let sfn = "arn:aws:states:::states:startExecution";
        assert_eq!(verdict(sfn, Some("PRESENT"), json!({})), "accepted");
        assert_eq!(
            verdict(sfn, Some("PRESENT"), json!({"ExecutionArn": 1})),
            "Field 'ExecutionArn' must be a string"
        );
        assert_eq!(
            verdict(sfn, Some("NONE"), json!({"ExecutionArn": 1})),
            "accepted"
        );
        assert!(verdict(sfn, Some("LOOSE"), json!({})).contains("enum value set"));
    }

    #[test]
    fn unknown_fields_and_unmodelled_resources_pass() {
        assert_eq!(
            verdict(
                "arn:aws:states:::events:putEvents",
                None,
                json!({"random": "json"})
            ),
            "accepted"
        );
        assert_eq!(
            verdict(
                "arn:aws:lambda:us-east-1:1:function:f",
                None,
                json!({"StatusCode": "x"})
            ),
            "accepted"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::lambda:invoke",
                None,
                json!({"Payload": {"any": ["json"]}})
            ),
            "accepted"
        );
        assert_eq!(
            verdict(
                "arn:aws:states:::lambda:invoke",
                None,
                json!({"StatusCode": "200"})
            ),
            "Field 'StatusCode' must be a number"
        );
    }
}
