//! The request an adapter builds before sending it: method, URL, headers, an optional JSON body and
//! the time it may take.

use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Uri};
use hyper::body::Bytes;
use serde::Serialize;
use url::Url;

use super::exchange::{self, HttpError, Response};

/// A request to send with [`Request::send`]. Built by [`super::HttpClient`], which sets its timeout
/// and User-Agent.
#[derive(Clone)]
pub struct Request {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
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
        // reqwest sent it by default: kept so every upstream, Eskom's firewall included, gets the
        // request it got before.
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        Request {
            method,
            url,
            headers,
            body: Bytes::new(),
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
        self.body = Bytes::from(serde_json::to_vec(body)?);
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
    /// the timeout (see [`exchange`]).
    pub async fn send(self) -> Result<Response, HttpError> {
        exchange::send(self).await
    }

    /// The `http` request for this one: a clone, since a redirect may need the body again.
    pub(super) fn to_http(&self) -> Result<http::Request<SdkBody>, HttpError> {
        let uri: Uri = self.url.as_str().parse().map_err(HttpError::Uri)?;
        let mut request = http::Request::new(SdkBody::from(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers.clone();
        Ok(request)
    }

    /// [`Self::to_http`] as the SDK connector's request type. Sensitive header values stay
    /// sensitive through the conversion: the SDK's `HeaderValue` keeps `http`'s, flag included.
    pub(super) fn to_connector(&self) -> Result<HttpRequest, HttpError> {
        HttpRequest::try_from(self.to_http()?).map_err(HttpError::Convert)
    }
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
        let sent = built.to_http().expect("valid uri");
        assert_eq!(sent.uri(), "http://h/p", "the fragment is not sent");
        assert_eq!(sent.headers()[USER_AGENT], "loadshed-test");
        let connector = built.to_connector().expect("converts");
        assert_eq!(connector.uri(), "http://h/p");
        assert_eq!(connector.headers().get(USER_AGENT), Some("loadshed-test"));
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
