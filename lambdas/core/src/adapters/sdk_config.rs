//! The AWS configuration every SDK client of a process is built from, loaded once.
//!
//! Loading it resolves the region and credential chains and makes an HTTPS client (its TLS
//! configuration and connection pool); doing that once per process instead of once per service
//! client shortens every cold start of a function that talks to several services, and lets their
//! calls share connections. Clients set their own timeouts and retries on top of it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

static SHARED: OnceCell<SdkConfig> = OnceCell::const_new();

/// The process's AWS configuration, loaded on first use from the standard sources (environment,
/// profile, the Lambda role). Makes no network call: credentials and endpoints are resolved on the
/// first request. Bounded timeouts and a few retries unless a client sets its own.
pub async fn shared() -> &'static SdkConfig {
    SHARED
        .get_or_init(|| async {
            aws_config::defaults(BehaviorVersion::latest())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(2))
                        .operation_attempt_timeout(Duration::from_secs(3))
                        .operation_timeout(Duration::from_secs(8))
                        .build(),
                )
                .retry_config(RetryConfig::standard().with_max_attempts(3))
                .load()
                .await
        })
        .await
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
