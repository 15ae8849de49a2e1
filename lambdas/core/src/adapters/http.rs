//! What the upstream adapters share about HTTP: one reqwest client for the process (rustls, the
//! system's roots, `HTTPS_PROXY`/`NO_PROXY` honoured), requests with a timeout over the whole
//! exchange and a User-Agent, a redirect policy that keeps every request on its origin, a capped
//! body read, and transport failures and HTTP statuses turned into [`UpstreamError`]s.

mod redirect;
mod request;

use std::sync::OnceLock;
use std::time::Duration;

use chrono::DateTime;
use http::header::{DATE, HeaderMap, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use url::Url;

use crate::errors::UpstreamError;

pub use redirect::MAX_REDIRECTS;
pub use request::{HttpError, MAX_BODY_BYTES, Request, Response, error_chain};

/// What our own requests call themselves (Telegram, EskomSePush). Eskom's site gets a browser's
/// instead (`EskomConfig::BROWSER_USER_AGENT`): its firewall turns other clients away.
pub const USER_AGENT: &str = concat!("loadshed/", env!("CARGO_PKG_VERSION"));

/// How long opening a connection (TCP and TLS) may take. Upstream answers come from Eskom,
/// EskomSePush and Telegram, each a few round trips away; a connection that takes longer than
/// this is one the retry on the next invocation does better with.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

static SHARED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();

/// The process's one client (its connection pool, TLS configuration and root certificates),
/// built on the first request that needs it: building loads the system's root certificates, a
/// cost an invocation that calls nobody (the web function's, most of the webhook's) should not
/// pay on a cold start. Every adapter's requests share it, whatever their timeout or User-Agent.
pub(crate) fn shared() -> Result<&'static reqwest::Client, HttpError> {
    SHARED
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(redirect::policy())
                .build()
                .map_err(|error| error_chain(&error))
        })
        .as_ref()
        .map_err(|detail| HttpError::Client(detail.clone()))
}

/// Setting up an adapter failed; nothing was sent anywhere.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("{url:?} is not a usable base URL: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("{service} needs an API token and none was configured")]
    MissingToken { service: &'static str },
    #[error("the {service} API token is not a valid header value")]
    InvalidToken { service: &'static str },
    #[error("{0:?} is not a valid User-Agent")]
    InvalidUserAgent(String),
}

/// An adapter's HTTP client: every request it starts gives up after `timeout` (connecting and
/// reading the whole answer included), names `user_agent`, and follows a redirect only to the same
/// scheme, host and port (`redirect`): safe for requests that carry a secret (EskomSePush's `Token`
/// header, Telegram's token in the path). Cheap to clone: the reqwest client behind it is the
/// process's one ([`shared`]).
#[derive(Debug, Clone)]
pub struct HttpClient {
    timeout: Duration,
    user_agent: HeaderValue,
}

impl HttpClient {
    pub fn get(&self, url: Url) -> Request {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: Url) -> Request {
        self.request(Method::POST, url)
    }

    pub fn request(&self, method: Method, url: Url) -> Request {
        Request::new(method, url, self.timeout, self.user_agent.clone())
    }
}

/// A client whose every request gives up after `timeout`, naming `user_agent` ([`HttpClient`]).
pub fn build_client(timeout: Duration, user_agent: &str) -> Result<HttpClient, ClientSetupError> {
    let user_agent = HeaderValue::from_str(user_agent)
        .map_err(|_| ClientSetupError::InvalidUserAgent(user_agent.to_owned()))?;
    Ok(HttpClient {
        timeout,
        user_agent,
    })
}

/// Parses a configured base URL, refusing one that paths cannot be appended to (e.g. `mailto:`), at
/// construction rather than at the first request.
pub fn parse_base_url(text: &str) -> Result<Url, ClientSetupError> {
    let invalid = |reason: String| ClientSetupError::BaseUrl {
        url: text.to_owned(),
        reason,
    };
    let url = Url::parse(text).map_err(|e| invalid(e.to_string()))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("not an http(s) URL".to_owned()));
    }
    Ok(url)
}

/// `base` with `segments` appended, each percent-encoded as one path segment.
///
/// `Url::join` would resolve a relative reference instead, dropping the last segment of a base URL
/// without a trailing slash, so segments are appended explicitly.
pub fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// An upstream answer, read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// How long upstream asked us to wait (`Retry-After` as seconds or as an HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }
}

/// Sends `request` and reads the whole body; transport failures become typed errors.
pub async fn send(service: &'static str, request: Request) -> Result<Answer, UpstreamError> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(service, e))?;
    // Upstreams send UTF-8; anything else is replaced rather than refused, as reqwest's `text()` does.
    let body = String::from_utf8_lossy(&response.body).into_owned();
    tracing::debug!(
        service,
        status = response.status.as_u16(),
        bytes = body.len(),
        "upstream answered"
    );
    Ok(Answer {
        status: response.status,
        headers: response.headers,
        body,
    })
}

/// A request that never produced a complete answer: it timed out, the connection failed or
/// dropped (transient), or the answer was over [`MAX_BODY_BYTES`] (malformed, and not retried).
/// A client that could not be built (no TLS configuration) is unavailable too: a person must look
/// if it persists, but nothing upstream is wrong.
pub fn transport_error(service: &'static str, error: HttpError) -> UpstreamError {
    match error {
        HttpError::Timeout(after) => UpstreamError::Timeout { service, after },
        HttpError::TooLarge { .. } => UpstreamError::Malformed {
            service,
            detail: error.to_string(),
        },
        // The chain names no URL: ours adds nothing but length to every log line.
        other => UpstreamError::Unavailable {
            service,
            detail: other.chain(),
        },
    }
}

/// The errors every upstream shares for a status that is not a success: refused credentials, rate
/// limits, server failures. `None` for a success; adapters check their own special cases (quota,
/// unknown area) before falling back to this.
pub fn status_error(service: &'static str, answer: &Answer) -> Option<UpstreamError> {
    let status = answer.status;
    if status.is_success() {
        return None;
    }
    let error = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized { service },
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
            service,
            retry_after: answer.retry_after(),
        },
        // Gateways answer 408 and 504 when upstream itself was too slow; the next try may be quicker.
        StatusCode::REQUEST_TIMEOUT => UpstreamError::Unavailable {
            service,
            detail: format!("HTTP {status}"),
        },
        s if s.is_server_error() => UpstreamError::Unavailable {
            service,
            detail: format!("HTTP {status}"),
        },
        _ => UpstreamError::Malformed {
            service,
            detail: format!("unexpected HTTP {status}: {}", excerpt(&answer.body)),
        },
    };
    Some(error)
}

/// `Retry-After` is either delay-seconds or an HTTP date; a date is measured against the answer's own
/// `Date` header so no clock is needed (and none can disagree with the server's).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let now = headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())?;
    (at - now).to_std().ok()
}

/// The start of a body, for error messages: enough to recognise it, never a whole page.
/// Reads only as far as the excerpt needs: a body can be up to the read cap, and collapsing all of it
/// to keep 120 characters made every rejected body cost its whole length twice (seen profiling the fuzz targets).
pub fn excerpt(body: &str) -> String {
    const MAX_CHARS: usize = 120;
    let mut cut = String::new();
    let mut chars = 0;
    let words = body.split_whitespace();
    for (index, word) in words.enumerate() {
        let separator = (index > 0).then_some(' ');
        for c in separator.into_iter().chain(word.chars()) {
            if chars == MAX_CHARS {
                cut.push('…');
                return cut;
            }
            cut.push(c);
            chars += 1;
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;

    fn headers(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, " 120 ")])),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&headers(&[
                (RETRY_AFTER, "Wed, 21 Oct 2015 07:28:30 GMT"),
                (DATE, "Wed, 21 Oct 2015 07:28:00 GMT"),
            ])),
            Some(Duration::from_secs(30))
        );
        // A date without the server's Date cannot be measured; a date in the past means no wait asked.
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:30 GMT")])),
            None
        );
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn endpoint_appends_segments_with_or_without_trailing_slash() {
        let with = Url::parse("http://127.0.0.1:9/LoadShedding/").expect("url");
        let without = Url::parse("http://127.0.0.1:9/LoadShedding").expect("url");
        for base in [with, without] {
            assert_eq!(
                endpoint(&base, &["GetScheduleM", "64106", "2", "9", "0"]).as_str(),
                "http://127.0.0.1:9/LoadShedding/GetScheduleM/64106/2/9/0"
            );
        }
        let odd = Url::parse("http://h/a/").expect("url");
        assert_eq!(endpoint(&odd, &["x y/z"]).as_str(), "http://h/a/x%20y%2Fz");
    }

    #[test]
    fn rejects_base_urls_that_are_not_http() {
        for bad in ["mailto:someone@example.com", "not a url", "ftp://host/dir/"] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
    }

    #[test]
    fn excerpt_collapses_whitespace_and_cuts_long_bodies() {
        assert_eq!(excerpt("  <html>\n\n  <body> "), "<html> <body>");
        let long = "x".repeat(500);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 121);
        assert!(cut.ends_with('…'));
        // Exactly the limit once collapsed: whole, without a mark; one more character cuts it.
        let words = format!("{}  \n {}", "a".repeat(60), "b".repeat(59));
        assert_eq!(
            excerpt(&words),
            format!("{} {}", "a".repeat(60), "b".repeat(59))
        );
        let over = format!("{words} c");
        assert_eq!(
            excerpt(&over),
            format!("{} {}…", "a".repeat(60), "b".repeat(59))
        );
    }
}
