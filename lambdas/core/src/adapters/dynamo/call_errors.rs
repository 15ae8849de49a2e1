//! From failed DynamoDB calls to [`StoreError`]: a missing table or refused credentials is
//! `Misconfigured` and a request DynamoDB refuses as such (a key or item over its size limits) is
//! `Invalid` (retrying cannot help either way); every other failure to get an answer from DynamoDB
//! (throttling, timeouts, connection and service errors) is `Unavailable`, which the workflow
//! retries. Conditional-check failures are not errors at all: each call site turns them into its
//! answer.

use serde_json::Value;

use crate::adapters::aws_json::CallError;
use crate::errors::StoreError;

/// Error codes that mean the store is set up wrong, not that it is busy.
const MISCONFIGURED: &[&str] = &[
    "ResourceNotFoundException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
];

/// Error codes that mean this request can never succeed, however often it is sent: a key over
/// 2,048 (partition) or 1,024 (sort) bytes, an item over 400 KB, a malformed expression.
const INVALID: &[&str] = &["ValidationException", "SerializationException"];

/// The code of a failed condition on PutItem, UpdateItem and DeleteItem.
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

pub(super) fn store_error(operation: &'static str, error: CallError) -> StoreError {
    let code = error.code().unwrap_or("no error code").to_owned();
    tracing::warn!(operation, code, %error, "DynamoDB call failed");
    let message = format!("DynamoDB {operation} failed: {error}");
    if MISCONFIGURED.contains(&code.as_str()) {
        return StoreError::Misconfigured(message);
    }
    if INVALID.contains(&code.as_str()) {
        return StoreError::Invalid(message);
    }
    match error {
        // No credentials, no region, an endpoint that is not a URL: the deployment must change.
        CallError::Credentials(_) | CallError::Request(_) => StoreError::Misconfigured(message),
        _ => StoreError::Unavailable(message),
    }
}

/// A conditional write's answer: `true` when it wrote, `false` when its condition did not hold
/// (not an error: each caller turns it into its own answer), or the failure.
pub(super) fn conditional(
    operation: &'static str,
    result: Result<Value, CallError>,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some(CONDITION_FAILED) => Ok(false),
        Err(error) => Err(store_error(operation, error)),
    }
}

/// Whether a failed TransactWriteItems was cancelled only because of the condition on item
/// `index` (the other reasons being `None`); anything else, such as a conflicting transaction,
/// stays an error.
pub(super) fn cancelled_by_condition(error: &CallError, index: usize) -> bool {
    let Some(service) = error.service() else {
        return false;
    };
    if !service.is("TransactionCanceledException") {
        return false;
    }
    let Some(reasons) = service
        .body
        .get("CancellationReasons")
        .and_then(Value::as_array)
    else {
        return false;
    };
    let failed: Vec<(usize, &str)> = reasons
        .iter()
        .enumerate()
        .filter_map(|(i, reason)| {
            reason
                .get("Code")
                .and_then(Value::as_str)
                .map(|code| (i, code))
        })
        .filter(|(_, code)| *code != "None")
        .collect();
    failed == [(index, "ConditionalCheckFailed")]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::aws_json::ServiceError;
    use http::StatusCode;

    fn service(body: &str) -> CallError {
        ServiceError::from_answer(StatusCode::BAD_REQUEST, None, body.as_bytes()).into()
    }

    #[test]
    fn codes_decide_the_store_error() {
        let error = |body| store_error("PutItem", service(body));
        assert!(matches!(
            error(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}"#
            ),
            StoreError::Misconfigured(_)
        ));
        assert!(matches!(
            error(
                r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"key too long"}"#
            ),
            StoreError::Invalid(_)
        ));
        assert!(matches!(
            error(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}"#
            ),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            store_error("GetItem", CallError::Credentials("none".into())),
            StoreError::Misconfigured(_)
        ));
        assert!(matches!(
            store_error("GetItem", CallError::Transport("reset".into())),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn only_the_named_condition_cancels_quietly() {
        let cancelled = |reasons: &str| {
            service(&format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":{reasons}}}"#
            ))
        };
        let by_first =
            cancelled(r#"[{"Code":"ConditionalCheckFailed"},{"Code":"None"},{"Code":"None"}]"#);
        assert!(cancelled_by_condition(&by_first, 0));
        assert!(!cancelled_by_condition(&by_first, 1));
        let conflict =
            cancelled(r#"[{"Code":"ConditionalCheckFailed"},{"Code":"TransactionConflict"}]"#);
        assert!(!cancelled_by_condition(&conflict, 0));
        assert!(!cancelled_by_condition(
            &service(r#"{"__type":"ThrottlingException"}"#),
            0
        ));
    }
}
