//! What an AWS JSON-protocol call can fail with, and which failures a retry may cure.

use std::time::Duration;

use http::StatusCode;
use serde_json::Value;

/// A call that got no usable answer. Every variant says whether sending it again may succeed
/// ([`CallError::is_transient`]); the adapters turn it into their own port's error.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error (`__type`), e.g. `ConditionalCheckFailedException`.
    /// Boxed: the answer's body makes it much larger than the other variants.
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// No credentials to sign with (the function's role is missing, a profile is broken).
    #[error("no AWS credentials: {0}")]
    Credentials(String),
    /// The request could not be signed or built: the same request fails every time.
    #[error("cannot build the request: {0}")]
    Request(String),
    /// Connecting, sending or reading failed (refused, reset, DNS, TLS, a broken body).
    #[error("no answer: {0}")]
    Transport(String),
    /// One attempt or the whole call (retries included) took longer than allowed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A success status with a body that is not a JSON object.
    #[error("unreadable answer ({status}): {detail}")]
    Decode { status: StatusCode, detail: String },
}

impl From<ServiceError> for CallError {
    fn from(error: ServiceError) -> Self {
        CallError::Service(Box::new(error))
    }
}

impl CallError {
    /// Whether the same request, sent again later, may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Service(error) => error.is_transient(),
            CallError::Transport(_) | CallError::Timeout(_) => true,
            // A proxy or load balancer answering for the service sends such pages; AWS does not.
            CallError::Decode { status, .. } => status.is_server_error(),
            CallError::Credentials(_) | CallError::Request(_) => false,
        }
    }

    /// The service's error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service(error) => Some(&error.code),
            _ => None,
        }
    }

    /// The service error, when the service answered with one.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            CallError::Service(error) => Some(error),
            _ => None,
        }
    }
}

/// An error answer: its code (the shape name of `__type`, without namespace), message, HTTP
/// status and the whole body (some errors carry more, e.g. DynamoDB's `CancellationReasons`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    pub status: StatusCode,
    pub body: Value,
}

/// Codes AWS's SDKs retry (their standard retry strategy's throttling and transient lists), for
/// any JSON-protocol service.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "KMSThrottlingException",
];

impl ServiceError {
    /// Reads an error answer. The code is `__type` (or the `x-amzn-ErrorType` header's value)
    /// without its namespace (`com.amazonaws.dynamodb.v20120810#`) or any `:` suffix, as the
    /// JSON protocols specify; an answer without one is named after its status.
    pub fn from_answer(status: StatusCode, header_type: Option<&str>, body: &[u8]) -> Self {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let raw = body
            .get("__type")
            .and_then(Value::as_str)
            .or(header_type)
            .unwrap_or_default();
        let code = sanitize_code(raw);
        let code = if code.is_empty() {
            format!("HTTP{}", status.as_u16())
        } else {
            code.to_owned()
        };
        let message = ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|key| body.get(key).and_then(Value::as_str))
            .unwrap_or("no message")
            .to_owned();
        ServiceError {
            code,
            message,
            status,
            body,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.status.is_server_error() || RETRYABLE_CODES.contains(&self.code.as_str())
    }

    /// Whether the code is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

/// `aws.protocols#awsJson1_0` error type: drop what follows a `:` and what precedes a `#`.
fn sanitize_code(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or_default();
    raw.rsplit('#').next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_shape_name() {
        let error = ServiceError::from_answer(
            StatusCode::BAD_REQUEST,
            None,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
        );
        assert_eq!(error.code, "ConditionalCheckFailedException");
        assert_eq!(error.message, "The conditional request failed");
        assert!(!error.is_transient());
    }

    #[test]
    fn a_header_type_with_a_suffix_is_sanitized() {
        let error = ServiceError::from_answer(
            StatusCode::BAD_REQUEST,
            Some("ThrottlingException:http://internal.amazon.com/coral/"),
            b"{}",
        );
        assert_eq!(error.code, "ThrottlingException");
        assert!(error.is_transient());
    }

    #[test]
    fn an_answer_without_a_type_is_named_by_its_status() {
        let error = ServiceError::from_answer(StatusCode::BAD_GATEWAY, None, b"<html>bad gateway");
        assert_eq!(error.code, "HTTP502");
        assert_eq!(error.body, Value::Null);
        assert!(error.is_transient(), "5xx is transient");
        let error = ServiceError::from_answer(StatusCode::FORBIDDEN, None, b"");
        assert!(!error.is_transient());
    }

    #[test]
    fn transport_failures_are_transient_and_request_bugs_are_not() {
        assert!(CallError::Transport("reset".into()).is_transient());
        assert!(CallError::Timeout(Duration::from_secs(1)).is_transient());
        assert!(!CallError::Request("bad header".into()).is_transient());
        assert!(!CallError::Credentials("none".into()).is_transient());
    }
}
