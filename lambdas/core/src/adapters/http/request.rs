//! The request an adapter builds before sending it (method, URL, headers, an optional JSON body
//! and the time it may take), and the exchange: sent with the process's client, the whole answer
//! read to at most [`MAX_BODY_BYTES`], all within the request's timeout.

use std::fmt;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, StatusCode};
use serde::Serialize;
use url::Url;

/// The most of an answer any upstream body is read to, in bytes. The largest real answers (Eskom's
/// schedule pages) are tens of KiB; our functions have 128 MB, and a hostile or broken server
/// must not be able to fill it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An upstream answer, read in full.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A request that produced no complete answer. No variant holds the URL (Telegram's has the
/// token in its path): reqwest's errors are kept without theirs.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, the headers and the whole body together took longer than the request's timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The answer's `Content-Length`, or what arrived of it, is over [`MAX_BODY_BYTES`].
    #[error("answer larger than {limit} bytes, not read")]
    TooLarge { limit: usize },
    /// Connecting or sending failed (refused, reset, DNS, TLS, the connect timeout) or the
    /// answer's head was unreadable.
    #[error("error sending request")]
    Send(#[source] reqwest::Error),
    /// The connection failed or broke while the body was read.
    #[error("error reading the answer's body")]
    Body(#[source] reqwest::Error),
    /// The process's client could not be built (its TLS configuration, say).
    #[error("the HTTP client cannot be built: {0}")]
    Client(String),
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

/// A request to send with [`Request::send`]. Built by [`super::HttpClient`], which sets its timeout
/// and User-Agent.
#[derive(Clone)]
pub struct Request {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    pub(super) timeout: Duration,
}

impl Request {
    pub(super) fn new(
        method: Method,
        mut url: Url,
        timeout: Duration,
        user_agent: HeaderValue,
    ) -> Self {
        // A fragment is never sent.
        url.set_fragment(None);
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, user_agent);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        Request {
            method,
            url,
            headers,
            body: Vec::new(),
            timeout,
        }
    }

    /// Appends `pairs` to the URL's query, each name and value percent-encoded.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        if !pairs.is_empty() {
            self.url.query_pairs_mut().extend_pairs(pairs);
        }
        self
    }

    /// Sets `name` (replacing any value it had). Mark a secret's value sensitive
    /// (`HeaderValue::set_sensitive`): it is then left out of this request's `Debug` output.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// `body` as JSON, with `Content-Type: application/json`. Fails only for a value JSON cannot hold
    /// (a map whose keys are not strings, say): the same value fails every time.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, serde_json::Error> {
        self.body = serde_json::to_vec(body)?;
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(self)
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Sends the request, follows same-origin redirects and reads the whole answer, all within
    /// the timeout. The timeout covers the body too: a server that sends its headers at once and
    /// then trickles the body must not hold the function longer than one slow answer.
    pub async fn send(self) -> Result<Response, HttpError> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.exchange()).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout(timeout)),
        }
    }

    async fn exchange(self) -> Result<Response, HttpError> {
        let timeout = self.timeout;
        let failed = |error: reqwest::Error, wrap: fn(reqwest::Error) -> HttpError| {
            if error.is_timeout() {
                HttpError::Timeout(timeout)
            } else {
                wrap(error.without_url())
            }
        };
        let response = super::shared()?
            .request(self.method, self.url)
            .headers(self.headers)
            .body(self.body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|error| failed(error, HttpError::Send))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(|error| match error {
                Capped::TooLarge => HttpError::TooLarge {
                    limit: MAX_BODY_BYTES,
                },
                Capped::Failed(error) => failed(error, HttpError::Body),
            })?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

enum Capped {
    TooLarge,
    Failed(reqwest::Error),
}

/// The body in full, unless it is longer than `limit`: refused by its `Content-Length` before
/// anything is read, else as soon as what arrived is over (the rest is never read).
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Capped> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(Capped::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Capped::Failed)? {
        if body.len() + chunk.len() > limit {
            return Err(Capped::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Without the URL's path and query: Telegram's token is in the path.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("origin", &self.url.origin().ascii_serialization())
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> Request {
        Request::new(
            Method::GET,
            Url::parse(url).expect("url"),
            Duration::from_secs(1),
            HeaderValue::from_static("loadshed-test"),
        )
    }

    #[test]
    fn query_pairs_are_percent_encoded_and_none_leaves_no_question_mark() {
        let built = request("http://h/p").query(&[("text", "Sea Point & co"), ("id", "a/b")]);
        assert_eq!(
            built.url().as_str(),
            "http://h/p?text=Sea+Point+%26+co&id=a%2Fb"
        );
        assert_eq!(
            request("http://h/p").query(&[]).url().as_str(),
            "http://h/p"
        );
    }

    #[test]
    fn every_request_names_its_user_agent_and_a_json_body_its_type() {
        let built = request("http://h/p#frag")
            .json(&serde_json::json!({"a": 1}))
            .expect("encodes");
        assert_eq!(built.headers()[USER_AGENT], "loadshed-test");
        assert_eq!(built.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(&built.body[..], br#"{"a":1}"#);
        assert_eq!(
            built.url().as_str(),
            "http://h/p",
            "the fragment is not sent"
        );
    }

    #[test]
    fn a_map_json_cannot_hold_is_an_error() {
        let mut map = std::collections::BTreeMap::new();
        map.insert((1, 2), "v");
        assert!(request("http://h/").json(&map).is_err());
    }

    #[test]
    fn debug_shows_neither_path_nor_sensitive_values() {
        let mut token = HeaderValue::from_static("s3cret");
        token.set_sensitive(true);
        let built = request("http://h/botS3CRET/sendMessage?q=1")
            .header(HeaderName::from_static("token"), token);
        let shown = format!("{built:?}");
        assert!(!shown.contains("S3CRET"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("http://h"), "{shown}");
    }
}
