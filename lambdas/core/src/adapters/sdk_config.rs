//! The AWS configuration every AWS client of a process is built from (`super::aws_json`, and the
//! CLI's SDK clients), loaded once.
//!
//! Loading it resolves the region and credential chains and makes an HTTPS client (its TLS
//! configuration and connection pool); doing that once per process instead of once per service
//! client shortens every cold start of a function that talks to several services, and lets their
//! calls share connections. Clients set their own timeouts and retries on top of it.
//!
//! With the feature `aws-profiles` (the CLI) it is aws-config's standard chain: environment,
//! profiles, SSO, web identity, IMDS. Without it (the Lambda functions) it is read from the
//! environment Lambda sets ([`lambda_env_config`](super::lambda_env_config)).

use std::time::Duration;

use aws_types::SdkConfig;
use aws_types::sdk_config::{RetryConfig, TimeoutConfig};
use tokio::sync::OnceCell;

static SHARED: OnceCell<SdkConfig> = OnceCell::const_new();

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(super::shared_connector::CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// The process's AWS configuration, loaded on first use. Makes no network call: credentials and
/// endpoints are resolved on the first request. Bounded timeouts and a few retries unless a
/// client sets its own.
pub async fn shared() -> &'static SdkConfig {
    SHARED.get_or_init(load).await
}

#[cfg(feature = "aws-profiles")]
async fn load() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await
}

#[cfg(not(feature = "aws-profiles"))]
async fn load() -> SdkConfig {
    super::lambda_env_config::sdk_config(timeouts(), retries())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_caller_gets_the_same_configuration() {
        let first: *const SdkConfig = shared().await;
        let second: *const SdkConfig = shared().await;
        assert_eq!(first, second);
        let timeouts = shared().await.timeout_config().expect("timeouts are set");
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(2)));
    }
}
