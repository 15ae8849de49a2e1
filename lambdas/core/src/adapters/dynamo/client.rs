//! Building the DynamoDB client: on the process's AWS configuration (the environment Lambda sets,
//! or aws-config's chain in the CLI), with an optional endpoint for moto or DynamoDB Local, and
//! bounded timeouts so a dead endpoint becomes `StoreUnavailable` in seconds rather than a Lambda
//! timeout. Connections open within the shared connector's connect timeout
//! (`crate::adapters::shared_connector::CONNECT_TIMEOUT`).

use std::time::Duration;

use crate::adapters::aws_json::{AwsJsonClient, CallPolicy, service};
use crate::adapters::sdk_config;

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
    /// Attempts per call, the first included, with backoff between them.
    pub max_attempts: u32,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            endpoint_url: None,
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

    fn policy(&self) -> CallPolicy {
        CallPolicy {
            max_attempts: self.max_attempts,
            attempt_timeout: self.attempt_timeout,
            operation_timeout: self.operation_timeout,
            // DynamoDB's own SDKs start their backoff at 25 ms rather than the standard 1 s: its
            // throttling passes in milliseconds, and the functions' deadline is near.
            initial_backoff: Duration::from_millis(25),
        }
    }
}

/// A client on the process's shared AWS configuration ([`sdk_config::shared`]) with these
/// settings. Makes no network call: credentials are read on the first request.
pub async fn client(settings: &ClientSettings) -> AwsJsonClient {
    AwsJsonClient::new(
        &service::DYNAMODB,
        sdk_config::shared().await,
        settings.endpoint_url.as_deref(),
        settings.policy(),
    )
}
