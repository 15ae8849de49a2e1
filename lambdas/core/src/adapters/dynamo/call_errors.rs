//! From failed DynamoDB calls to [`StoreError`], by the SDK's error metadata: a missing table or
//! refused credentials is `Misconfigured` and a request DynamoDB refuses as such (a key or item
//! over its size limits) is `Invalid` (retrying cannot help either way); every other failure to get
//! an answer from DynamoDB (throttling, timeouts, connection and service errors, once the SDK's
//! own retries are spent) is `Unavailable`, which the workflow retries. Conditional-check failures
//! are not errors at all: each call site turns them into its answer.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

use crate::adapters::aws::{AwsFailure, HttpResponse};
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

/// A failed call of `operation` as a [`StoreError`].
pub(super) fn store_error<E>(
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    from_failure(operation, &AwsFailure::from_sdk(&error))
}

pub(super) fn from_failure(operation: &'static str, failure: &AwsFailure) -> StoreError {
    let code = failure.code().unwrap_or("no error code");
    tracing::warn!(operation, code, error = %failure, "DynamoDB call failed");
    let message = format!("DynamoDB {operation} failed: {failure}");
    if MISCONFIGURED.contains(&code) {
        StoreError::Misconfigured(message)
    } else if INVALID.contains(&code) {
        StoreError::Invalid(message)
    } else if failure.is_transient() || failure.code().is_some() {
        // A service error of a code not listed above (an unknown one) is treated as AWS's
        // trouble, as before: the workflow retries it and alarms if it persists.
        StoreError::Unavailable(message)
    } else {
        // No answer from the service and none will come: a request the SDK cannot build (no
        // region, an endpoint that is not a URL): the deployment must change.
        StoreError::Misconfigured(message)
    }
}

/// A conditional write's answer: `true` when it wrote, `false` when its condition did not hold
/// (not an error: each caller turns it into its own answer), or the failure.
pub(super) fn conditional<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some(CONDITION_FAILED) => Ok(false),
        Err(error) => Err(store_error(operation, error)),
    }
}

/// Whether a TransactWriteItems cancelled with `reasons` (one per item, in order) was cancelled
/// only because of the condition on item `index`, every other reason being `None`; anything else,
/// such as a conflicting transaction (`TransactionConflict`), stays an error.
pub(super) fn cancelled_by_condition(reasons: &[CancellationReason], index: usize) -> bool {
    let failed: Vec<(usize, &str)> = reasons
        .iter()
        .enumerate()
        .filter_map(|(i, reason)| reason.code().map(|code| (i, code)))
        .filter(|(_, code)| *code != "None")
        .collect();
    failed == [(index, "ConditionalCheckFailed")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, transient: bool) -> AwsFailure {
        AwsFailure::new(Some(code), transient, code)
    }

    #[test]
    fn codes_decide_the_store_error() {
        let error = |failure: AwsFailure| from_failure("PutItem", &failure);
        assert!(matches!(
            error(service("ResourceNotFoundException", false)),
            StoreError::Misconfigured(_)
        ));
        assert!(matches!(
            error(service("ValidationException", false)),
            StoreError::Invalid(_)
        ));
        assert!(matches!(
            error(service("ProvisionedThroughputExceededException", true)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            error(AwsFailure::new(None, true, "connection refused")),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            error(AwsFailure::new(None, false, "no region")),
            StoreError::Misconfigured(_)
        ));
    }

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    #[test]
    fn only_the_named_condition_cancels_quietly() {
        let by_first = reasons(&["ConditionalCheckFailed", "None", "None"]);
        assert!(cancelled_by_condition(&by_first, 0));
        assert!(!cancelled_by_condition(&by_first, 1));
        let conflict = reasons(&["ConditionalCheckFailed", "TransactionConflict"]);
        assert!(!cancelled_by_condition(&conflict, 0));
        assert!(!cancelled_by_condition(&reasons(&[]), 0));
    }
}
