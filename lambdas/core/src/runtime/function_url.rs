//! A function behind a Lambda Function URL (the webhook, the web pages): the invocation payload
//! (payload format 2.0) becomes the `http::Request` the function answers, and its
//! `http::Response` the payload Lambda turns back into HTTP.
//!
//! lambda_http does this too, but it brings character-set tables and every API Gateway and ALB
//! shape, and it rejects a payload of another shape with a Rust type name as `errorType`. A
//! Function URL has one shape, so the conversion is these few lines over `aws_lambda_events`' types,
//! and any other payload is our `InvalidInput`.

use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response};
use serde_json::Value;

use crate::tasks::TaskError;

/// The HTTP request a Function URL invocation carries. Anything that is not a Function URL event
/// (a test event from the console, a stream batch sent to the wrong function) is `InvalidInput`.
pub fn request_of(payload: Value) -> Result<Request<Vec<u8>>, TaskError> {
    let event: LambdaFunctionUrlRequest = serde_json::from_value(payload).map_err(|e| {
        TaskError::invalid_input(format!(
            "this function takes Lambda Function URL requests (payload format 2.0): {e}"
        ))
    })?;
    let method = match event.request_context.http.method.as_deref() {
        Some(method) => Method::from_bytes(method.as_bytes())
            .map_err(|_| TaskError::invalid_input(format!("{method:?} is not an HTTP method")))?,
        None => {
            return Err(TaskError::invalid_input(
                "the Function URL request has no requestContext.http.method",
            ));
        }
    };
    let body = match event.body {
        None => Vec::new(),
        Some(body) if event.is_base64_encoded => STANDARD
            .decode(body.as_bytes())
            .map_err(|e| TaskError::invalid_input(format!("the body is not base64: {e}")))?,
        Some(body) => body.into_bytes(),
    };
    let path = event.raw_path.unwrap_or_else(|| "/".to_owned());
    let uri = match event.raw_query_string.as_deref() {
        None | Some("") => path,
        Some(query) => format!("{path}?{query}"),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    // A path Lambda accepted but `http` cannot parse changes nothing the endpoint looks at.
    if let Ok(uri) = uri.parse() {
        *request.uri_mut() = uri;
    }
    *request.headers_mut() = event.headers;
    // A Function URL moves the request's cookies out of the headers; they go back as one `Cookie`.
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty())
        && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
    {
        request.headers_mut().insert(COOKIE, value);
    }
    Ok(request)
}

/// What Lambda sends back as the HTTP response. Our bodies are text (JSON, HTML, iCalendar or empty).
pub fn response_of(response: Response<String>) -> LambdaFunctionUrlResponse {
    let (parts, body) = response.into_parts();
    let mut answer = LambdaFunctionUrlResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    // The payload has one value per header name: repeated headers are joined with ", " (RFC 9110
    // 5.3), except `Set-Cookie`, which cannot be joined and has a field of its own.
    for name in parts.headers.keys() {
        let values = parts.headers.get_all(name).iter();
        if name == SET_COOKIE {
            answer
                .cookies
                .extend(values.filter_map(|v| v.to_str().ok().map(str::to_owned)));
            continue;
        }
        let joined = values
            .map(HeaderValue::as_bytes)
            .collect::<Vec<_>>()
            .join(&b", "[..]);
        if let Ok(value) = HeaderValue::from_bytes(&joined) {
            answer.headers.insert(name.clone(), value);
        }
    }
    answer.body = (!body.is_empty()).then_some(body);
    answer.is_base64_encoded = false;
    answer
}

#[cfg(test)]
mod tests {
    use http::StatusCode;
    use serde_json::json;

    use super::*;
    use crate::errors::{ErrorName, Named};

    fn event(method: &str, body: &str, base64: bool) -> Value {
        json!({
            "version": "2.0",
            "rawPath": "/hook",
            "rawQueryString": "a=1",
            "headers": {"content-type": "application/json", "x-telegram-bot-api-secret-token": "s"},
            "requestContext": {"http": {"method": method, "path": "/hook"}, "timeEpoch": 1},
            "body": body,
            "isBase64Encoded": base64
        })
    }

    #[test]
    fn a_function_url_event_becomes_the_request_it_carries() {
        let request = request_of(event("POST", "{\"update_id\":1}", false)).expect("request");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/hook?a=1");
        assert_eq!(request.body(), b"{\"update_id\":1}");
        assert_eq!(request.headers()["x-telegram-bot-api-secret-token"], "s");
    }

    #[test]
    fn a_base64_body_is_decoded() {
        let request = request_of(event("POST", "eyJ1cGRhdGVfaWQiOjF9", true)).expect("request");
        assert_eq!(request.body(), b"{\"update_id\":1}");
        let bad = request_of(event("POST", "not base64!", true)).expect_err("refused");
        assert_eq!(bad.error_name(), ErrorName::InvalidInput);
    }

    #[test]
    fn other_payloads_are_invalid_input() {
        for payload in [
            json!({"unexpected": "shape"}),
            json!({"Records": []}),
            json!([]),
            json!(null),
            json!("text"),
            event("NOT A METHOD", "", false),
        ] {
            let error = request_of(payload.clone()).expect_err("refused");
            assert_eq!(error.error_name(), ErrorName::InvalidInput, "{payload}");
        }
    }

    #[test]
    fn the_response_keeps_status_headers_and_body() {
        let mut response = Response::new("{\"method\":\"sendMessage\"}".to_owned());
        *response.status_mut() = StatusCode::CREATED;
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        let answer = serde_json::to_value(response_of(response)).expect("JSON");
        assert_eq!(answer["statusCode"], 201);
        assert_eq!(answer["headers"]["content-type"], "application/json");
        assert_eq!(answer["body"], "{\"method\":\"sendMessage\"}");
        assert_eq!(answer["isBase64Encoded"], false);
        let empty = response_of(Response::new(String::new()));
        assert_eq!(empty.body, None);
    }

    #[test]
    fn repeated_headers_are_joined_and_cookies_have_their_own_field() {
        let mut response = Response::new(String::new());
        let headers = response.headers_mut();
        headers.append("vary", HeaderValue::from_static("accept"));
        headers.append("vary", HeaderValue::from_static("accept-encoding"));
        headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        let answer = response_of(response);
        assert_eq!(answer.headers["vary"], "accept, accept-encoding");
        assert!(answer.headers.get(SET_COOKIE).is_none());
        assert_eq!(answer.cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn the_request_cookies_become_one_cookie_header() {
        let mut payload = event("GET", "", false);
        payload["cookies"] = json!(["a=1", "b=2"]);
        let request = request_of(payload).expect("request");
        assert_eq!(request.headers()[COOKIE], "a=1; b=2");
    }
}
