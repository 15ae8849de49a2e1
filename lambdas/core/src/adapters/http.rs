//! What the upstream adapters share about HTTP: a client with timeouts and a User-Agent, sending a
//! request, and turning transport failures and HTTP statuses into [`UpstreamError`]s.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::DateTime;
use reqwest::header::{DATE, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use url::Url;

use crate::errors::UpstreamError;

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

/// An adapter's HTTP client: every request it starts gives up after `timeout` (connecting
/// included) and names `user_agent`. Cheap to clone. The process's `reqwest::Client` behind it
/// is built on the first request ([`shared_client`]), so a function answering an invocation
/// without any upstream call never pays for it.
#[derive(Debug, Clone)]
pub struct HttpClient {
    timeout: Duration,
    user_agent: HeaderValue,
}

impl HttpClient {
    pub fn get(&self, url: Url) -> Result<RequestBuilder, reqwest::Error> {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: Url) -> Result<RequestBuilder, reqwest::Error> {
        self.request(Method::POST, url)
    }

    /// Fails only when the process's client cannot be built (its TLS set-up failed): the caller
    /// reports that as it reports a transport failure.
    pub fn request(&self, method: Method, url: Url) -> Result<RequestBuilder, reqwest::Error> {
        Ok(shared_client()?
            .request(method, url)
            .timeout(self.timeout)
            .header(USER_AGENT, self.user_agent.clone()))
    }
}

/// The most of an answer any upstream body is read to, in bytes. The largest real answers (Eskom's
/// schedule pages) are tens of KiB; our functions have 128 MB, and a hostile or broken server
/// must not be able to fill it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// The process's one `reqwest::Client`: building one loads the TLS roots and sets up a connection
/// pool, which every adapter of a process (Eskom, EskomSePush, Telegram) can share, so a process
/// pays for it once, on its first upstream request. Timeouts and the User-Agent go on each request
/// instead ([`HttpClient`]).
static SHARED: OnceLock<Client> = OnceLock::new();

/// A client whose every request gives up after `timeout` (connecting included) and follows a
/// redirect only to the same scheme, host and port ([`same_origin_redirects`]): safe for requests
/// that carry a secret (EskomSePush's `Token` header, Telegram's token in the path).
pub fn build_client(timeout: Duration, user_agent: &str) -> Result<HttpClient, ClientSetupError> {
    let user_agent = HeaderValue::from_str(user_agent)
        .map_err(|_| ClientSetupError::InvalidUserAgent(user_agent.to_owned()))?;
    Ok(HttpClient {
        timeout,
        user_agent,
    })
}

fn shared_client() -> Result<Client, reqwest::Error> {
    if let Some(client) = SHARED.get() {
        return Ok(client.clone());
    }
    let built = Client::builder()
        .redirect(same_origin_redirects())
        .build()?;
    // Two threads racing here build two clients and keep the first: harmless, and only at start.
    Ok(SHARED.get_or_init(|| built).clone())
}

/// Follows a redirect only to the same scheme, host and port, at most [`MAX_REDIRECTS`] times.
/// reqwest drops only `Authorization`, `Cookie` and `Proxy-Authorization` on a cross-host
/// redirect, so any other redirect would hand a secret (EskomSePush's `Token` header, Telegram's
/// token in the path) to whoever the Location names, or send it in clear over http. A redirect
/// refused is returned as the 3xx answer it is. One policy for every request lets the process
/// keep one client; the Eskom site needs no other (its captured answers in
/// ../shared/fixtures/upstream are all direct 200s).
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            tracing::warn!(
                to_host = attempt.url().host_str().unwrap_or_default(),
                "redirect away from the origin refused"
            );
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// An answer's body, read to at most `limit` bytes: `Ok(None)` when it is longer (by its
/// `Content-Length` before reading anything, or by what arrived).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
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
pub async fn send(
    service: &'static str,
    timeout: Duration,
    request: RequestBuilder,
) -> Result<Answer, UpstreamError> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(service, timeout, e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|e| transport_error(service, timeout, e))?
        .ok_or_else(|| UpstreamError::Malformed {
            service,
            detail: format!("answer larger than {MAX_BODY_BYTES} bytes, not read"),
        })?;
    // Upstreams send UTF-8; anything else is replaced rather than refused, as `text()` would.
    let body = String::from_utf8_lossy(&body).into_owned();
    tracing::debug!(
        service,
        status = status.as_u16(),
        bytes = body.len(),
        "upstream answered"
    );
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// A request that never produced a complete answer: it timed out or the connection failed or dropped.
pub fn transport_error(
    service: &'static str,
    timeout: Duration,
    error: reqwest::Error,
) -> UpstreamError {
    if error.is_timeout() {
        UpstreamError::Timeout {
            service,
            after: timeout,
        }
    } else {
        // The URL is ours and adds nothing but length to every log line.
        let detail = error_chain(&error.without_url());
        UpstreamError::Unavailable { service, detail }
    }
}

/// The message of `error` and of every error beneath it, e.g. "error sending request: connection refused".
fn error_chain(error: &reqwest::Error) -> String {
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
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
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(reqwest::header::HeaderName, &'static str)]) -> HeaderMap {
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
