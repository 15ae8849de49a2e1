//! The process's one hyper client, built on its first upstream request.
//!
//! Building it loads the system's root certificates and sets up a connection pool, which every
//! adapter of a process (Eskom, EskomSePush, Telegram) can share, so a process pays for it once, on
//! its first upstream request: a function answering an invocation without any upstream call never
//! does. Timeouts and the User-Agent go on each request instead ([`super::HttpClient`]).

use std::sync::{Arc, OnceLock};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::{ClientConfig, RootCertStore};

/// http and https over HTTP/1.1, which Eskom, EskomSePush and Telegram all answer.
pub type SharedClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

static SHARED: OnceLock<SharedClient> = OnceLock::new();

/// The TLS configuration could not be built; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[error("the TLS set-up failed")]
pub struct TlsSetupError(#[source] rustls::Error);

pub fn shared() -> Result<&'static SharedClient, TlsSetupError> {
    if let Some(client) = SHARED.get() {
        return Ok(client);
    }
    let built = build()?;
    // Two tasks racing here build two clients and keep the first: harmless, and only at start.
    Ok(SHARED.get_or_init(|| built))
}

fn build() -> Result<SharedClient, TlsSetupError> {
    let mut tcp = HttpConnector::new();
    // The connector refuses https URLs unless told the TLS layer above handles them.
    tcp.enforce_http(false);
    // Requests are small and answered at once: Nagle's delay would only add latency (reqwest's default too).
    tcp.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    let mut builder = Client::builder(TokioExecutor::new());
    // Without a timer the pool never expires an idle connection (as the SDK's client sets it).
    builder.pool_timer(TokioTimer::new());
    Ok(builder.build(https))
}

/// rustls with aws-lc (the provider the AWS SDK's client links already) and the system's roots,
/// as the SDK's client loads them. A system without any usable root is warned about rather than
/// refused: http requests still work, and https ones fail with a certificate error each.
fn tls_config() -> Result<ClientConfig, TlsSetupError> {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::warn!(%error, "a root certificate source could not be read");
    }
    let mut roots = RootCertStore::empty();
    let (valid, invalid) = roots.add_parsable_certificates(loaded.certs);
    if valid == 0 {
        tracing::warn!(
            invalid,
            "no usable root certificate: https requests will fail"
        );
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
