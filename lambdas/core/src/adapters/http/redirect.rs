//! Which redirects are followed: only to the request's own scheme, host and port, at most
//! [`MAX_REDIRECTS`] times.
//!
//! EskomSePush's requests carry a `Token` header and Telegram's carry the bot token in the path: a
//! redirect elsewhere would hand the secret to whoever the `Location` names, or send it in clear
//! over http. A refused redirect is returned as the 3xx answer it is. One policy for every request
//! lets the process keep one client; the Eskom site needs no other (its captured answers in
//! ../shared/fixtures/upstream are all direct 200s).

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LOCATION};
use http::{Method, StatusCode};
use hyper::body::Bytes;
use url::{Origin, Url};

use super::request::Request;

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// The request to send next after an answer of `status` with `headers`, or `None` when that answer
/// is the one to return: not a redirect, a redirect without a usable `Location`, one away from
/// `origin` (the first request's), or one more than [`MAX_REDIRECTS`] after `followed` of them.
pub fn next_request(
    request: &Request,
    status: StatusCode,
    headers: &HeaderMap,
    origin: &Origin,
    followed: usize,
) -> Option<Request> {
    let keeps_method = match status {
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER => false,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        _ => return None,
    };
    let target = location(&request.url, headers)?;
    if target.origin() != *origin {
        tracing::warn!(
            to_host = target.host_str().unwrap_or_default(),
            "redirect away from the origin refused"
        );
        return None;
    }
    if followed >= MAX_REDIRECTS {
        tracing::warn!(followed, "redirect refused: too many on one request");
        return None;
    }
    let mut next = request.clone();
    next.url = target;
    // As browsers (and reqwest) do: 303 always, and 301/302 after a POST, become a GET without the
    // body; 307 and 308 repeat the request as it was.
    let becomes_get = !keeps_method
        && (status == StatusCode::SEE_OTHER && next.method != Method::HEAD
            || next.method == Method::POST);
    if becomes_get {
        next.method = Method::GET;
        next.body = Bytes::new();
        next.headers.remove(CONTENT_TYPE);
        next.headers.remove(CONTENT_LENGTH);
    }
    Some(next)
}

/// The answer's `Location`, resolved against the URL it answered (it may be relative).
fn location(current: &Url, headers: &HeaderMap) -> Option<Url> {
    let value = headers.get(LOCATION)?.to_str().ok()?;
    let mut target = current.join(value).ok()?;
    target.set_fragment(None);
    Some(target)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::HeaderValue;

    use super::*;

    fn request(method: Method, url: &str) -> Request {
        Request::new(
            method,
            Url::parse(url).expect("url"),
            Duration::from_secs(1),
            HeaderValue::from_static("loadshed-test"),
        )
    }

    fn to(location: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            LOCATION,
            HeaderValue::from_str(location).expect("header value"),
        );
        headers
    }

    fn next(request: &Request, status: u16, location: &str, followed: usize) -> Option<Request> {
        let origin = request.url.origin();
        let status = StatusCode::from_u16(status).expect("status");
        next_request(request, status, &to(location), &origin, followed)
    }

    #[test]
    fn relative_and_absolute_locations_on_the_same_origin_are_followed() {
        let get = request(Method::GET, "http://h:8080/LoadShedding/GetStatus?x=1");
        let relative = next(&get, 302, "../moved/here", 0).expect("followed");
        assert_eq!(relative.url.as_str(), "http://h:8080/moved/here");
        let absolute = next(&get, 301, "http://h:8080/a#frag", 0).expect("followed");
        assert_eq!(absolute.url.as_str(), "http://h:8080/a");
        // The default port is the same origin as no port.
        let https = request(Method::GET, "https://h/a");
        assert!(next(&https, 308, "https://h:443/b", 0).is_some());
    }

    #[test]
    fn another_scheme_host_or_port_is_refused() {
        let get = request(Method::GET, "https://h/a");
        for elsewhere in [
            "http://h/a",
            "https://other/a",
            "https://h:8443/a",
            "ftp://h/a",
        ] {
            assert!(next(&get, 302, elsewhere, 0).is_none(), "{elsewhere}");
        }
    }

    #[test]
    fn the_sixth_redirect_is_refused() {
        let get = request(Method::GET, "http://h/a");
        assert!(next(&get, 302, "/b", MAX_REDIRECTS - 1).is_some());
        assert!(next(&get, 302, "/b", MAX_REDIRECTS).is_none());
    }

    #[test]
    fn only_redirect_statuses_with_a_location_are_followed() {
        let get = request(Method::GET, "http://h/a");
        for status in [200, 300, 304, 305, 404] {
            assert!(next(&get, status, "/b", 0).is_none(), "{status}");
        }
        let origin = get.url.origin();
        assert!(next_request(&get, StatusCode::FOUND, &HeaderMap::new(), &origin, 0).is_none());
    }

    #[test]
    fn a_post_keeps_its_body_only_through_307_and_308() {
        let post = request(Method::POST, "http://h/bot/sendMessage")
            .json(&serde_json::json!({"text": "hi"}))
            .expect("encodes");
        for status in [307, 308] {
            let again = next(&post, status, "/elsewhere", 0).expect("followed");
            assert_eq!(again.method, Method::POST);
            assert_eq!(again.body, post.body);
            assert!(again.headers.contains_key(CONTENT_TYPE));
        }
        for status in [301, 302, 303] {
            let get = next(&post, status, "/elsewhere", 0).expect("followed");
            assert_eq!(get.method, Method::GET, "{status}");
            assert!(get.body.is_empty());
            assert!(!get.headers.contains_key(CONTENT_TYPE));
        }
        let head = request(Method::HEAD, "http://h/a");
        assert_eq!(
            next(&head, 303, "/b", 0).expect("followed").method,
            Method::HEAD
        );
    }
}
