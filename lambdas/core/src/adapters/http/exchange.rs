//! One exchange with an upstream: the request, the redirects it is allowed, and the whole answer
//! read to at most [`MAX_BODY_BYTES`], all within the request's timeout.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use http::StatusCode;
use http::header::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};

use super::redirect;
use super::request::Request;
use crate::adapters::shared_connector;

/// The most of an answer any upstream body is read to, in bytes. The largest real answers (Eskom's
/// schedule pages) are tens of KiB; our functions have 128 MB, and a hostile or broken server
/// must not be able to fill it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An upstream answer, read in full.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A request that produced no complete answer. No variant holds the URL (Telegram's has the
/// token in its path), nor does any error beneath one: neither the SDK connector's errors nor
/// hyper's beneath them name a URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, the headers and the whole body together took longer than the request's timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The answer's `Content-Length`, or what arrived of it, is over [`MAX_BODY_BYTES`].
    #[error("answer larger than {limit} bytes, not read")]
    TooLarge { limit: usize },
    /// Connecting or sending failed (refused, reset, DNS, TLS, the connector's connect timeout) or
    /// the answer's head was unreadable.
    #[error("error sending request")]
    Send(#[source] ConnectorError),
    /// The connection failed or broke while the body was read.
    #[error("error reading the answer's body")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the request URL is not a URI hyper can send")]
    Uri(#[source] http::uri::InvalidUri),
    /// The request or its answer could not be carried between `http` and the SDK's own request
    /// and response types (an invalid header, say): the same request fails every time.
    #[error("the request or answer could not be converted for the connector")]
    Convert(#[source] aws_smithy_runtime_api::http::HttpError),
}

impl HttpError {
    /// The message of this error and of every error beneath it, e.g. "error sending request:
    /// client error (Connect): tcp connect error: Connection refused (os error 111)".
    pub fn chain(&self) -> String {
        error_chain(self)
    }
}

/// An error's message and its sources', joined by `: `.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

/// Sends `request`, following the redirects [`redirect::next_request`] allows, and reads the final
/// answer whole. The timeout covers all of it, as reqwest's did: a server that sends its headers
/// at once and then trickles the body must not hold the function longer than one slow answer.
pub async fn send(request: Request) -> Result<Response, HttpError> {
    let timeout = request.timeout;
    match tokio::time::timeout(timeout, exchange(request)).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::Timeout(timeout)),
    }
}

async fn exchange(mut request: Request) -> Result<Response, HttpError> {
    let connector = shared_connector::shared();
    let origin = request.url.origin();
    let mut followed = 0;
    loop {
        let response = connector
            .call(request.to_connector()?)
            .await
            .map_err(HttpError::Send)?
            .try_into_http1x()
            .map_err(HttpError::Convert)?;
        let status = response.status();
        match redirect::next_request(&request, status, response.headers(), &origin, followed) {
            // The redirect's own body is dropped unread, and its connection with it.
            Some(next) => {
                followed += 1;
                request = next;
            }
            None => {
                let (parts, body) = response.into_parts();
                let body = read_capped(body, MAX_BODY_BYTES).await?;
                return Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                });
            }
        }
    }
}

/// `body` in full, unless it is longer than `limit`: refused by its `Content-Length` before
/// anything is read (hyper's size hint is exactly that header, and `SdkBody` passes it on), else
/// once what arrived is over.
pub(crate) async fn read_capped(body: SdkBody, limit: usize) -> Result<Bytes, HttpError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(HttpError::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(HttpError::TooLarge { limit }),
        Err(error) => Err(HttpError::Body(error)),
    }
}
