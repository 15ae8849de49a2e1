//! Building the DynamoDB client: from the standard AWS configuration (environment, profile, Lambda
//! role), with an optional endpoint for moto or DynamoDB Local, and bounded timeouts so a dead
//! endpoint becomes `StoreUnavailable` in seconds rather than a Lambda timeout.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_types::sdk_config::{RetryConfig, TimeoutConfig};

use crate::adapters::sdk_config;

/// How to reach DynamoDB.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// e.g. `http://127.0.0.1:5000` for moto. `None` leaves the endpoint to the SDK, which resolves
    /// the real regional one, or honours `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    pub connect_timeout: Duration,
    /// Per attempt; a retry gets a fresh one.
    pub attempt_timeout: Duration,
    /// For the whole call, retries included.
    pub operation_timeout: Duration,
    /// Attempts per call, the first included; the SDK backs off between them.
    pub max_attempts: u32,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            endpoint_url: None,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(15),
            max_attempts: 3,
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

/// A client on the process's shared AWS configuration ([`sdk_config::shared`]) with these
/// settings. Makes no network call: credentials and the endpoint are resolved on the first request.
pub async fn client(settings: &ClientSettings) -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk_config::shared().await)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
    if let Some(url) = &settings.endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}
