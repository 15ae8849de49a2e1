//! Calls to AWS services that speak the JSON protocols (DynamoDB, SSM, Step Functions): a JSON
//! body, signed with SigV4 (aws-sigv4), sent through the process's one connector
//! ([`super::shared_connector`]), retried with backoff when the failure may pass.
//!
//! Why not the SDK's service clients: each one links its generated operations, serializers and
//! error types, and the first one links the SDK's orchestrator (interceptors, endpoint rules,
//! retry partitions, identity cache, checksums): in the schedule function's x86_64 `.text`,
//! aws-sdk-dynamodb 289 KiB, aws-sdk-ssm 148 KiB, aws-smithy-runtime 163 KiB, aws-runtime 46 KiB,
//! aws-smithy-json 43 KiB (`cargo bloat --release --crates`), the largest part of every
//! function after std and TLS. The functions use eight operations of three services, whose wire
//! format is a JSON object each way; what the SDK adds around them, and this module keeps, is
//! signing (aws-sigv4, the SDK's own crate), endpoints ([`service`]), the standard retry strategy
//! ([`retry`]) and error codes ([`error`]). README.md "Size and cold start" has the figures.
//!
//! The CLI builds the same clients on aws-config's credential chain (feature `aws-profiles`);
//! tests point them at moto.

pub mod error;
mod retry;
pub mod service;
mod signing;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use http::header::{CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper::body::Bytes;
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

pub use error::{CallError, ServiceError};
pub use retry::CallPolicy;
pub use service::Service;

use super::http::{error_chain as chain, read_capped};
use super::shared_connector;

/// The most of an AWS answer that is read, in bytes: a DynamoDB page is at most 1 MB of item data,
/// a little more as JSON.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Credentials are fetched again this long before they expire (a signed request must reach AWS
/// while they are still valid).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// A client of one service: where it is, in which region, with which credentials and policy.
/// Cheap to share behind an `Arc`; building it makes no network call.
pub struct AwsJsonClient {
    service: &'static Service,
    region: Option<String>,
    endpoint: Result<Url, String>,
    credentials: Option<SharedCredentialsProvider>,
    cached: Mutex<Option<Credentials>>,
    policy: CallPolicy,
}

impl std::fmt::Debug for AwsJsonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsJsonClient")
            .field("service", &self.service.service_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AwsJsonClient {
    /// A client of `service` with `config`'s region and credentials, at `endpoint` if given (else
    /// as [`Service::endpoint`] resolves it). A missing region or credentials, or an unusable
    /// endpoint, fail each call with [`CallError::Request`] or [`CallError::Credentials`].
    pub fn new(
        service: &'static Service,
        config: &SdkConfig,
        endpoint: Option<&str>,
        policy: CallPolicy,
    ) -> Self {
        let region = config.region().map(|region| region.as_ref().to_owned());
        let endpoint = match &region {
            Some(region) => service.endpoint(endpoint, config, region),
            None => Err("no AWS region is configured (AWS_REGION)".to_owned()),
        };
        let credentials = config.credentials_provider();
        AwsJsonClient {
            service,
            region,
            endpoint,
            credentials,
            cached: Mutex::new(None),
            policy,
        }
    }

    pub fn service(&self) -> &'static Service {
        self.service
    }

    pub fn endpoint(&self) -> Result<&Url, &str> {
        self.endpoint.as_ref().map_err(String::as_str)
    }

    /// Calls `operation` (e.g. `PutItem`) with `input` and returns the answer's JSON object,
    /// retrying transient failures as [`CallPolicy`] says, all within its operation timeout.
    pub async fn call(&self, operation: &str, input: &Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(input)
            .map(Bytes::from)
            .map_err(|error| CallError::Request(error.to_string()))?;
        let limit = self.policy.operation_timeout;
        match tokio::time::timeout(limit, self.attempts(operation, &body)).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout(limit)),
        }
    }

    async fn attempts(&self, operation: &str, body: &Bytes) -> Result<Value, CallError> {
        let mut attempt = 1;
        loop {
            let limit = self.policy.attempt_timeout;
            let result = match tokio::time::timeout(limit, self.attempt(operation, body)).await {
                Ok(result) => result,
                Err(_) => Err(CallError::Timeout(limit)),
            };
            match result {
                Err(error) if error.is_transient() && attempt < self.policy.max_attempts => {
                    let pause = self.policy.backoff(attempt);
                    tracing::debug!(
                        service = self.service.service_id,
                        operation,
                        attempt,
                        ?pause,
                        %error,
                        "AWS call failed, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn attempt(&self, operation: &str, body: &Bytes) -> Result<Value, CallError> {
        let endpoint = self
            .endpoint
            .as_ref()
            .map_err(|e| CallError::Request(e.clone()))?;
        let region = self.region.as_deref().unwrap_or_default();
        let credentials = self.credentials().await?;
        let request = self.request(endpoint, operation, body)?;
        let request = signing::sign(
            request,
            &credentials,
            region,
            self.service.signing_name,
            SystemTime::now(),
        )?;
        let request = HttpRequest::try_from(request.map(SdkBody::from))
            .map_err(|error| CallError::Request(error.to_string()))?;
        let response = shared_connector::shared()
            .call(request)
            .await
            .map_err(|error| CallError::Transport(chain(&error)))?;
        let status = http::StatusCode::from_u16(response.status().as_u16())
            .map_err(|error| CallError::Transport(error.to_string()))?;
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_owned);
        let answer = read_capped(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|error| CallError::Transport(error.chain()))?;
        if !status.is_success() {
            return Err(ServiceError::from_answer(status, error_type.as_deref(), &answer).into());
        }
        match serde_json::from_slice::<Value>(&answer) {
            Ok(value @ Value::Object(_)) => Ok(value),
            // Some operations answer an empty body where they have nothing to say.
            _ if answer.iter().all(u8::is_ascii_whitespace) => {
                Ok(Value::Object(Default::default()))
            }
            Ok(other) => Err(CallError::Decode {
                status,
                detail: format!("a JSON object was expected, not {other}"),
            }),
            Err(error) => Err(CallError::Decode {
                status,
                detail: error.to_string(),
            }),
        }
    }

    fn request(
        &self,
        endpoint: &Url,
        operation: &str,
        body: &Bytes,
    ) -> Result<http::Request<Bytes>, CallError> {
        let invalid = |error: http::Error| CallError::Request(error.to_string());
        // The host signed is the host sent: set here rather than left to the connector.
        let host = match endpoint.port() {
            Some(port) => format!("{}:{port}", endpoint.host_str().unwrap_or_default()),
            None => endpoint.host_str().unwrap_or_default().to_owned(),
        };
        http::Request::post(endpoint.as_str())
            .header(HOST, host)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static(self.service.content_type),
            )
            .header(
                "x-amz-target",
                format!("{}.{operation}", self.service.target_prefix),
            )
            .header(USER_AGENT, concat!("loadshed/", env!("CARGO_PKG_VERSION")))
            // A reference-counted copy: every attempt sends the one buffer.
            .body(body.clone())
            .map_err(invalid)
    }

    /// The provider's credentials, kept until shortly before they expire (aws-config's chain,
    /// which the CLI uses, would otherwise read profiles or call SSO on every request).
    async fn credentials(&self) -> Result<Credentials, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            let fresh = credentials.expiry().is_none_or(|expiry| {
                expiry
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > REFRESH_BEFORE_EXPIRY)
            });
            if fresh {
                return Ok(credentials.clone());
            }
        }
        let provider = self.credentials.as_ref().ok_or_else(|| {
            CallError::Credentials("no credentials provider is configured".to_owned())
        })?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|error| CallError::Credentials(chain(&error)))?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_credential_types::provider::future;
    use aws_types::region::Region;

    use super::*;

    /// Hands out credentials expiring `lifetime` from now, counting the calls.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = self.lifetime.map(|lifetime| SystemTime::now() + lifetime);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                "AKID", "secret", None, expiry, "test",
            )))
        }
    }

    fn client(lifetime: Option<Duration>) -> (AwsJsonClient, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let config = SdkConfig::builder()
            .region(Region::new("af-south-1"))
            .credentials_provider(SharedCredentialsProvider::new(Counting {
                calls: calls.clone(),
                lifetime,
            }))
            .build();
        let client = AwsJsonClient::new(&service::SSM, &config, None, CallPolicy::default());
        (client, calls)
    }

    #[tokio::test]
    async fn credentials_are_fetched_once_while_they_last() {
        for lifetime in [None, Some(Duration::from_secs(3600))] {
            let (client, calls) = client(lifetime);
            for _ in 0..3 {
                client.credentials().await.expect("credentials");
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1, "lifetime {lifetime:?}");
        }
    }

    #[tokio::test]
    async fn credentials_about_to_expire_are_fetched_again() {
        let (client, calls) = client(Some(Duration::from_secs(60)));
        client.credentials().await.expect("credentials");
        client.credentials().await.expect("credentials");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "60 s left is under the refresh margin"
        );
    }

    #[test]
    fn the_regional_endpoint_is_resolved_at_construction() {
        let (client, _) = client(None);
        assert_eq!(
            client.endpoint().map(Url::as_str),
            Ok("https://ssm.af-south-1.amazonaws.com/")
        );
    }
}
