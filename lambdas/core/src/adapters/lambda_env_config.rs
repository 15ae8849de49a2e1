//! The AWS configuration of a Lambda function, read from the environment Lambda gives it.
//!
//! In Lambda the region and the role's credentials are environment variables (`AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); nothing else of aws-config's
//! chains (profile files, SSO, STS web identity, IMDS, the ECS container endpoint) ever answers
//! there. Linking aws-config for them cost every function aws-sdk-sts, the SSO and IMDS providers
//! and the profile parser (measured in README.md "Size and cold start"), so the functions build
//! their `SdkConfig` here from aws-types and aws-credential-types alone, while the CLI, run by
//! people with profiles and SSO, keeps aws-config (feature `aws-profiles`).
//!
//! Endpoints follow the same variables as aws-config (`AWS_ENDPOINT_URL_<SERVICE>`, then
//! `AWS_ENDPOINT_URL`), so a function runs against moto exactly as before.

use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::sdk_config::{RetryConfig, TimeoutConfig};
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use super::shared_connector::SharedConnectorClient;

/// What a variable lookup answers; the process environment in a function, a table in tests.
type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

fn process_env() -> Lookup {
    Arc::new(|name| std::env::var(name).ok())
}

/// A value that is set and not blank, trimmed (as aws-config reads these variables).
fn non_blank(lookup: &Lookup, name: &str) -> Option<String> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The process's AWS configuration (for its AWS clients, `super::aws_json`, and any SDK client
/// built on it): region, credentials and endpoints from the environment, and the process's one
/// connector (the SDK's own HTTPS client,
/// shared with the upstream adapters and built on the first request: [`SharedConnectorClient`]).
/// Makes no network call and reads no file.
pub fn sdk_config(timeouts: TimeoutConfig, retries: RetryConfig) -> SdkConfig {
    from_lookup(process_env(), timeouts, retries)
}

/// [`sdk_config`] with the variables read from `lookup` instead of the process environment
/// (tests: the environment of a test process is shared by every test in it).
pub fn sdk_config_from(
    lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    timeouts: TimeoutConfig,
    retries: RetryConfig,
) -> SdkConfig {
    from_lookup(Arc::new(lookup), timeouts, retries)
}

fn from_lookup(lookup: Lookup, timeouts: TimeoutConfig, retries: RetryConfig) -> SdkConfig {
    let region = non_blank(&lookup, "AWS_REGION")
        .or_else(|| non_blank(&lookup, "AWS_DEFAULT_REGION"))
        .map(Region::new);
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(EnvCredentials {
            lookup: lookup.clone(),
        }))
        .service_config(EnvEndpoints { lookup })
        .http_client(SharedHttpClient::new(SharedConnectorClient))
        .timeout_config(timeouts)
        .retry_config(retries)
        .build()
}

/// The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read
/// on each call as aws-config's `EnvironmentVariableCredentialsProvider` reads them. Written here
/// because that provider lives in aws-config, whose other providers are what this module leaves
/// out; the clients keep what it gives until it expires (`super::aws_json`).
#[derive(Clone)]
pub struct EnvCredentials {
    lookup: Lookup,
}

impl std::fmt::Debug for EnvCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvCredentials")
    }
}

impl EnvCredentials {
    /// Credentials from the process environment.
    pub fn new() -> Self {
        EnvCredentials {
            lookup: process_env(),
        }
    }

    fn credentials(&self) -> provider::Result {
        let access_key = non_blank(&self.lookup, "AWS_ACCESS_KEY_ID");
        let secret_key = non_blank(&self.lookup, "AWS_SECRET_ACCESS_KEY");
        let (Some(access_key), Some(secret_key)) = (access_key, secret_key) else {
            return Err(provider::error::CredentialsError::not_loaded(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set \
                 (Lambda sets them from the function's role)",
            ));
        };
        Ok(Credentials::new(
            access_key,
            secret_key,
            non_blank(&self.lookup, "AWS_SESSION_TOKEN"),
            None,
            "Environment",
        ))
    }
}

impl Default for EnvCredentials {
    fn default() -> Self {
        EnvCredentials::new()
    }
}

impl ProvideCredentials for EnvCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(self.credentials())
    }
}

/// Per-service settings from the environment: the endpoint of a service is
/// `AWS_ENDPOINT_URL_<SERVICE ID>` (upper case, spaces as `_`, e.g. `AWS_ENDPOINT_URL_DYNAMODB`),
/// else `AWS_ENDPOINT_URL`, as aws-config resolves it without a profile.
#[derive(Clone)]
struct EnvEndpoints {
    lookup: Lookup,
}

impl std::fmt::Debug for EnvEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvEndpoints")
    }
}

impl LoadServiceConfig for EnvEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_uppercase().replace(' ', "_");
        non_blank(&self.lookup, &format!("{}_{service}", key.env()))
            .or_else(|| non_blank(&self.lookup, key.env()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use aws_types::service_config::ServiceConfigKey;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> Lookup {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(move |name| map.get(name).cloned())
    }

    fn key(service_id: &'static str) -> ServiceConfigKey<'static> {
        ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .expect("a complete key")
    }

    #[tokio::test]
    async fn credentials_come_from_the_environment_with_an_optional_session_token() {
        let with_token = EnvCredentials {
            lookup: lookup(&[
                ("AWS_ACCESS_KEY_ID", " AKIDEXAMPLE "),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_SESSION_TOKEN", "token"),
            ]),
        };
        let credentials = with_token.provide_credentials().await.expect("credentials");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));

        let without_token = EnvCredentials {
            lookup: lookup(&[
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_SESSION_TOKEN", "  "),
            ]),
        };
        let credentials = without_token
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.session_token(), None);
    }

    #[tokio::test]
    async fn missing_or_blank_keys_are_a_credentials_error_naming_the_variables() {
        for pairs in [
            &[][..],
            &[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")][..],
            &[
                ("AWS_ACCESS_KEY_ID", ""),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ][..],
        ] {
            let provider = EnvCredentials {
                lookup: lookup(pairs),
            };
            let error = provider
                .provide_credentials()
                .await
                .expect_err("no credentials");
            let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&error));
            assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
        }
    }

    #[test]
    fn a_service_endpoint_wins_over_the_general_one() {
        let endpoints = EnvEndpoints {
            lookup: lookup(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:3"),
            ]),
        };
        assert_eq!(
            endpoints.load_config(key("DynamoDB")).as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(
            endpoints.load_config(key("Secrets Manager")).as_deref(),
            Some("http://127.0.0.1:3")
        );
        assert_eq!(
            endpoints.load_config(key("SSM")).as_deref(),
            Some("http://127.0.0.1:1")
        );
        let none = EnvEndpoints {
            lookup: lookup(&[]),
        };
        assert_eq!(none.load_config(key("DynamoDB")), None);
    }

    #[test]
    fn region_timeouts_and_retries_are_set() {
        let config = from_lookup(
            lookup(&[("AWS_DEFAULT_REGION", "eu-west-1")]),
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .build(),
            RetryConfig::standard().with_max_attempts(3),
        );
        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
        let config = from_lookup(
            lookup(&[
                ("AWS_REGION", "af-south-1"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
            ]),
            TimeoutConfig::builder().build(),
            RetryConfig::standard().with_max_attempts(3),
        );
        assert_eq!(config.region().map(Region::as_ref), Some("af-south-1"));
        assert_eq!(
            config.timeout_config().and_then(|t| t.connect_timeout()),
            None
        );
        assert_eq!(
            config.retry_config().map(RetryConfig::max_attempts),
            Some(3)
        );
        assert!(config.credentials_provider().is_some());
        assert!(config.http_client().is_some());
    }
}
