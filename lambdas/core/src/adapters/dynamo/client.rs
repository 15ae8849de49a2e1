//! Building the DynamoDB client: on the process's AWS configuration, with an optional endpoint for
//! moto or DynamoDB Local, and bounded timeouts so a dead endpoint becomes `StoreUnavailable` in
//! seconds rather than a Lambda timeout. The SDK retries what may pass (throttling, 5xx,
//! timeouts, dropped connections) with its standard strategy: exponential backoff with full
//! jitter and the retry quota that stops a throttled function from multiplying its own load.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;

use crate::adapters::aws::SdkConfig;

/// How to reach DynamoDB.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// e.g. `http://127.0.0.1:5000` for moto. `None` leaves the endpoint to the configuration
    /// (`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`), else the real regional one.
    pub endpoint_url: Option<String>,
    /// Per attempt; a retry gets a fresh one.
    pub attempt_timeout: Duration,
    /// For the whole call, retries included.
    pub operation_timeout: Duration,
    /// Attempts per call, the first included, with backoff between them; `None` leaves it to the
    /// configuration (3, unless `AWS_MAX_ATTEMPTS` or a profile say otherwise).
    pub max_attempts: Option<u32>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            endpoint_url: None,
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(15),
            max_attempts: None,
        }
    }
}

impl ClientSettings {
    pub fn with_endpoint(endpoint_url: impl Into<String>) -> Self {
        ClientSettings {
            endpoint_url: Some(endpoint_url.into()),
            ..ClientSettings::default()
        }
    }
}

/// A client on `config` with these settings. Makes no network call.
pub fn client(config: &SdkConfig, settings: &ClientSettings) -> aws_sdk_dynamodb::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(crate::adapters::aws::CONNECT_TIMEOUT)
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.operation_timeout)
        .build();
    // DynamoDB's own SDKs start their backoff at 25 ms rather than the standard 1 s: its
    // throttling passes in milliseconds, and the functions' deadline is near.
    let mut retries = crate::adapters::aws::retries_from(config, Duration::from_millis(25));
    if let Some(attempts) = settings.max_attempts {
        retries = retries.with_max_attempts(attempts);
    }
    let mut builder = aws_sdk_dynamodb::config::Builder::from(config)
        .timeout_config(timeouts)
        .retry_config(retries);
    if let Some(endpoint) = &settings.endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}
