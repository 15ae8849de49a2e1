//! The process's one HTTP connector: the AWS SDK's own (`aws_smithy_http_client::Connector`, hyper
//! 1 with rustls on aws-lc and the system's root certificates), built on the first request that
//! needs it and shared by the AWS calls (`super::aws_json`), every upstream adapter
//! (`super::http`) and any SDK client built on the process's configuration
//! ([`SharedConnectorClient`]: the tests' own).
//!
//! Why one: with a hyper client of our own next to the SDK's, every function linked hyper's client
//! code twice (once for the SDK's body type, once for ours: 47 KiB of x86_64 .text in
//! `loadshed_core`), loaded and parsed the system's root certificates twice on a cold start (PEM
//! parsing is the largest CPU cost of one, by perf), and kept two connection pools. Measured on the
//! arm64 zips (`scripts/lambda-size --arch arm64 FUNCTION`, before -> after): stage 2,533,331 ->
//! 2,464,015 bytes (-69,316, -2.7%: under its 2,500,000 budget), notify 2,737,686 -> 2,667,388
//! (-70,298, -2.6%). README.md "Size and cold start" has the rest.
//!
//! The connector is built here rather than by the SDK per `HttpConnectorSettings`, so the connect
//! timeout is set on it once ([`CONNECT_TIMEOUT`], the SDK configuration's own); upstream
//! requests keep their whole-exchange timeout on top of it (`super::http::exchange`).

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// How long opening a connection (TCP and TLS) may take, for AWS and upstream requests alike: the
/// SDK configuration's connect timeout (`super::sdk_config`). Upstream answers come from Eskom,
/// EskomSePush and Telegram, each a few round trips away; a connection that takes longer than
/// this is one the retry on the next invocation does better with.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

static SHARED: OnceLock<SharedHttpConnector> = OnceLock::new();

/// The process's connector, built on the first call: that loads the system's root certificates
/// (cached for the process by aws-smithy-http-client) and sets up the connection pool, so a
/// function answering an invocation without any request never pays for it. Building cannot fail:
/// a system without usable roots is warned about by the SDK's client, and https requests then
/// fail with a certificate error each.
pub fn shared() -> SharedHttpConnector {
    SHARED.get_or_init(build).clone()
}

fn build() -> SharedHttpConnector {
    // The connect timeout needs a sleep implementation, given here: the builder's default exists
    // only when some crate turns on aws-smithy-async's `rt-tokio`, which the SDK crates did and
    // nothing in a function does now (without it, the first request panicked).
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build();
    let connector = Connector::builder()
        .connector_settings(settings)
        .sleep_impl(TokioSleep::new())
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build();
    SharedHttpConnector::new(connector)
}

/// The `HttpClient` of the functions' SDK configuration (`super::lambda_env_config`): it hands
/// every SDK client [`shared`], whatever settings it asks with, and only when the client sends
/// its first request. The SDK's own `Builder::build_https` client would instead build its TLS
/// configuration as each SDK client is constructed (`validate_base_client_config`, a cost on
/// every cold start, request or not) and one more connector per distinct timeout setting.
#[derive(Debug, Default, Clone, Copy)]
pub struct SharedConnectorClient;

impl HttpClient for SharedConnectorClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        shared()
    }

    /// What the SDK's hyper client names itself in the user agent's metrics, kept unchanged.
    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}
