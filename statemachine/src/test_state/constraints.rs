//! The API reference's constraints on the request members that mocks and the state configuration use, checked
//! before anything runs, as AWS's request validation does (a `ValidationException` in AWS's "1 validation error
//! detected" form; the values of sensitive members, `mock.result` and `context`, are not echoed):
//!
//! - `MockInput.result`: "Length Constraints: Maximum length of 262144."
//! - `context`: "Length Constraints: Maximum length of 262144."
//! - `TestStateConfiguration.errorCausedByState`: "Length Constraints: Minimum length of 1. Maximum length of 80."
//! - `TestStateConfiguration.mapItemReaderData`: "Length Constraints: Maximum length of 262144."
//! - `TestStateConfiguration.mapIterationFailureCount` and `retrierRetryCount`: "Type: Integer", "Valid Range:
//!   Minimum value of 0."
//!
//! No AWS-recorded call breaks one of these, so the sentences are in AWS's usual form but not copied from a
//! recording.

use serde_json::Value;

use super::Rejection;

/// The largest `mock.result`, `context` or `mapItemReaderData` the API takes, in characters.
const MAX_TEXT: usize = 262_144;
/// The longest state name (`errorCausedByState`).
const MAX_STATE_NAME: usize = 80;

fn violated(value: Option<&str>, member: &str, constraint: &str) -> Rejection {
    let value = value.map_or_else(
        || "*** Sensitive Data Redacted ***".to_owned(),
        str::to_owned,
    );
    Rejection::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must {constraint}"
    ))
}

fn text_length(
    request: &Value,
    pointer: &str,
    member: &str,
    sensitive: bool,
    range: (usize, usize),
) -> Result<(), Rejection> {
    let Some(text) = request.pointer(pointer).and_then(Value::as_str) else {
        return Ok(());
    };
    let length = text.chars().count();
    let shown = (!sensitive).then_some(text);
    if length < range.0 {
        return Err(violated(
            shown,
            member,
            &format!("have length greater than or equal to {}", range.0),
        ));
    }
    if length > range.1 {
        return Err(violated(
            shown,
            member,
            &format!("have length less than or equal to {}", range.1),
        ));
    }
    Ok(())
}

fn non_negative_integer(request: &Value, pointer: &str, member: &str) -> Result<(), Rejection> {
    match request.pointer(pointer) {
        None | Some(Value::Null) => Ok(()),
        Some(value) if value.is_u64() => Ok(()),
        Some(value) if value.is_i64() => Err(violated(
            Some(&value.to_string()),
            member,
            "have value greater than or equal to 0",
        )),
        Some(value) => Err(violated(Some(&value.to_string()), member, "be an integer")),
    }
}

/// Checks the request's mock and state configuration members against the API's constraints.
pub(super) fn check(request: &Value) -> Result<(), Rejection> {
    text_length(request, "/mock/result", "mock.result", true, (0, MAX_TEXT))?;
    text_length(request, "/context", "context", true, (0, MAX_TEXT))?;
    text_length(
        request,
        "/stateConfiguration/errorCausedByState",
        "stateConfiguration.errorCausedByState",
        false,
        (1, MAX_STATE_NAME),
    )?;
    text_length(
        request,
        "/stateConfiguration/mapItemReaderData",
        "stateConfiguration.mapItemReaderData",
        false,
        (0, MAX_TEXT),
    )?;
    non_negative_integer(
        request,
        "/stateConfiguration/mapIterationFailureCount",
        "stateConfiguration.mapIterationFailureCount",
    )?;
    non_negative_integer(
        request,
        "/stateConfiguration/retrierRetryCount",
        "stateConfiguration.retrierRetryCount",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(request: Value) -> String {
        check(&request).err().map(|r| r.message).unwrap_or_default()
    }

    /// MockInput, `result`: "Length Constraints: Maximum length of 262144." API reference, `context`: the same.
    #[test]
    fn a_mocked_result_or_context_longer_than_262144_characters_is_refused() {
        let longest = format!("\"{}\"", "a".repeat(MAX_TEXT - 2));
        assert_eq!(
            check(&json!({"mock": {"result": longest}, "context": longest})),
            Ok(())
        );
        let longer = format!("\"{}\"", "a".repeat(MAX_TEXT - 1));
        assert_eq!(
            message(json!({"mock": {"result": longer}})),
            "1 validation error detected: Value '*** Sensitive Data Redacted ***' at 'mock.result' failed to satisfy constraint: Member must have length less than or equal to 262144"
        );
        assert!(message(json!({"context": longer})).contains("at 'context'"));
    }

    /// TestStateConfiguration, `mapIterationFailureCount` and `retrierRetryCount`: "Type: Integer", "Valid Range:
    /// Minimum value of 0."; `errorCausedByState`: "Minimum length of 1. Maximum length of 80."
    #[test]
    fn state_configuration_counts_are_non_negative_integers_and_state_names_1_to_80_long() {
        assert_eq!(
            check(
                &json!({"stateConfiguration": {"retrierRetryCount": 0, "mapIterationFailureCount": 3,
                "errorCausedByState": "S"}})
            ),
            Ok(())
        );
        assert_eq!(
            message(json!({"stateConfiguration": {"retrierRetryCount": -1}})),
            "1 validation error detected: Value '-1' at 'stateConfiguration.retrierRetryCount' failed to satisfy constraint: Member must have value greater than or equal to 0"
        );
        assert!(
            message(json!({"stateConfiguration": {"mapIterationFailureCount": 1.5}}))
                .ends_with("Member must be an integer")
        );
        assert!(
            message(json!({"stateConfiguration": {"errorCausedByState": ""}}))
                .ends_with("Member must have length greater than or equal to 1")
        );
        assert!(
            message(json!({"stateConfiguration": {"errorCausedByState": "x".repeat(81)}}))
                .ends_with("Member must have length less than or equal to 80")
        );
    }
}
