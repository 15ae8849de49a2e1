//! From SDK errors to [`StoreError`]: a missing table or refused credentials is `Misconfigured`
//! and a request DynamoDB refuses as such (a key or item over its size limits) is `Invalid`
//! (retrying cannot help either way); every other failure to get an answer from DynamoDB (throttling,
//! timeouts, connection and service errors) is `Unavailable`, which the workflow retries.
//! Conditional-check failures are not errors at all: each call site turns them into its answer.

use std::error::Error;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::CancellationReason;

use crate::errors::StoreError;

/// Error codes that mean the store is set up wrong, not that it is busy.
const MISCONFIGURED: &[&str] = &[
    "ResourceNotFoundException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];

/// Error codes that mean this request can never succeed, however often it is sent: a key over
/// 2,048 (partition) or 1,024 (sort) bytes, an item over 400 KB, a malformed expression.
const INVALID: &[&str] = &["ValidationException", "SerializationException"];

pub(super) fn store_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = error.code().unwrap_or("no error code").to_owned();
    let detail = DisplayErrorContext(&error).to_string();
    tracing::warn!(operation, code, detail, "DynamoDB call failed");
    let message = format!("DynamoDB {operation} failed ({code}): {detail}");
    if MISCONFIGURED.contains(&code.as_str()) {
        StoreError::Misconfigured(message)
    } else if INVALID.contains(&code.as_str()) {
        StoreError::Invalid(message)
    } else {
        StoreError::Unavailable(message)
    }
}

/// A conditional PutItem's answer: `true` when it wrote, `false` when its condition did not hold
/// (not an error: each caller turns it into its own answer), or the failure.
pub(super) fn conditional_put<R>(
    operation: &'static str,
    result: Result<PutItemOutput, SdkError<PutItemError, R>>,
) -> Result<bool, StoreError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            Ok(false)
        }
        Err(error) => Err(store_error(operation, error)),
    }
}

/// Whether a cancelled transaction failed only because of the condition on item `index` (the other
/// reasons being `None`); anything else, such as a conflicting transaction, stays an error.
pub(super) fn cancelled_by_condition(reasons: &[CancellationReason], index: usize) -> bool {
    let failed: Vec<(usize, &str)> = reasons
        .iter()
        .enumerate()
        .filter_map(|(i, reason)| reason.code().map(|code| (i, code)))
        .filter(|(_, code)| *code != "None")
        .collect();
    failed == [(index, "ConditionalCheckFailed")]
}

/// The SDK checks required fields when building a request; we always set them, so this is a bug in
/// this adapter, surfaced as an error rather than a panic.
pub(super) fn request_bug(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(format!("cannot build a DynamoDB request: {error}"))
}
