//! The AWS side shared by every AWS client: the process's configuration, loaded once in each
//! binary's `main` with aws-config (as the Lambda runtime's own examples load it), and what a
//! failed SDK call means for us (transient or not, and its error code).
//!
//! aws-config's standard chain reads the region and credentials Lambda puts in the environment
//! (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...), profiles and SSO on a person's machine, and endpoint
//! overrides (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`) for moto. Loading it makes no
//! network call when the environment names a region, as Lambda's always does: credentials and
//! endpoints are resolved on the first request.

use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What every SDK answer is: the SDK crates all name the same smithy response type.
pub type HttpResponse = aws_sdk_dynamodb::config::http::HttpResponse;

/// How long opening a connection may take for any AWS call.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounded timeouts, unless a client sets its own: a dead endpoint costs seconds, never the Lambda
/// deadline. Retries are left to the configuration: the SDK's standard mode (3 attempts,
/// exponential backoff with full jitter, the retry quota) unless `AWS_MAX_ATTEMPTS`,
/// `AWS_RETRY_MODE` or a profile say otherwise.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// The retries of `config` (the SDK's standard ones unless the environment or a profile chose),
/// with the first pause at most `initial_backoff`: for clients whose callers are waiting.
pub fn retries_from(config: &SdkConfig, initial_backoff: Duration) -> RetryConfig {
    config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::standard)
        .with_initial_backoff(initial_backoff)
}

/// The process's AWS configuration. Call it once, in `main`, and hand the result to every client.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .load()
        .await
}

/// Error codes that a retry may cure, for any service: the SDKs' own throttling and transient
/// lists (their standard retry strategy retries them before we see them; these are what is left
/// once its attempts are spent).
const TRANSIENT_CODES: &[&str] = &[
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

/// A failed SDK call, reduced to what the adapters decide on: the service's error code (when the
/// service answered with one), whether the same call may succeed later, and the whole message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AwsFailure {
    code: Option<String>,
    transient: bool,
    message: String,
}

impl AwsFailure {
    /// From the SDK's error: a service error by its code (and 5xx status); timeouts, failures to
    /// connect or send (missing credentials among them: the SDK reports them as a failed dispatch)
    /// and unreadable answers are transient; a request the SDK could not build, or one refused as
    /// a user error (a bad endpoint URL, say), is not.
    pub fn from_sdk<E>(error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = error.code().map(str::to_owned);
        let transient = match error {
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || code
                        .as_deref()
                        .is_some_and(|code| TRANSIENT_CODES.contains(&code))
            }
            SdkError::TimeoutError(_) => true,
            SdkError::DispatchFailure(failure) => !failure.is_user(),
            // An answer the SDK could not read (a proxy's or load balancer's page, a body cut
            // short): AWS's own answers always parse, so the next attempt may well get one.
            SdkError::ResponseError(_) => true,
            SdkError::ConstructionFailure(_) => false,
            _ => false,
        };
        AwsFailure {
            code,
            transient,
            message: DisplayErrorContext(error).to_string(),
        }
    }

    /// The service's error code, e.g. `ConditionalCheckFailedException`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn is(&self, code: &str) -> bool {
        self.code() == Some(code)
    }

    /// Whether the same call, sent again later, may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// For tests of the mappings built on this.
    pub fn new(code: Option<&str>, transient: bool, message: impl Into<String>) -> Self {
        AwsFailure {
            code: code.map(str::to_owned),
            transient,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_configuration_has_bounded_timeouts_and_retries() {
        let config = load_config().await;
        let timeouts = config.timeout_config().expect("timeouts are set");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(8)));
        let retries = retries_from(&config, Duration::from_millis(25));
        assert_eq!(retries.initial_backoff(), Duration::from_millis(25));
        assert!(retries.max_attempts() >= 1);
    }
}
