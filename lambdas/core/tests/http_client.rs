//! The upstream adapters' HTTP client (`adapters::http`) against local servers: wiremock for whole
//! answers, a raw TCP server for answers wiremock cannot give (a body that stalls, one without a
//! `Content-Length`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::time::Duration;

use loadshed_core::adapters::http::{
    self, HttpClient, HttpError, MAX_BODY_BYTES, MAX_REDIRECTS, build_client,
};
use loadshed_core::errors::{ErrorName, Named, UpstreamError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(timeout: Duration) -> HttpClient {
    build_client(timeout, "loadshed-test/1").expect("valid user agent")
}

fn url(base: &str, rest: &str) -> Url {
    Url::parse(&format!("{base}{rest}")).expect("url")
}

fn redirect_to(location: &str) -> ResponseTemplate {
    ResponseTemplate::new(302).insert_header("Location", location)
}

#[tokio::test]
async fn sends_the_user_agent_the_encoded_query_and_a_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bot/send"))
        .and(query_param("text", "Sea Point & Bo-Kaap"))
        .and(header("user-agent", "loadshed-test/1"))
        .and(header("content-type", "application/json"))
        .and(body_json(serde_json::json!({"chat_id": 7})))
        .respond_with(ResponseTemplate::new(201).set_body_string("done"))
        .expect(1)
        .mount(&server)
        .await;
    let request = client(Duration::from_secs(5))
        .post(url(&server.uri(), "/bot/send"))
        .query(&[("text", "Sea Point & Bo-Kaap")])
        .json(&serde_json::json!({"chat_id": 7}))
        .expect("encodes");
    assert!(
        request
            .url()
            .as_str()
            .ends_with("?text=Sea+Point+%26+Bo-Kaap")
    );
    let response = request.send().await.expect("answered");
    assert_eq!(response.status.as_u16(), 201);
    assert_eq!(&response.body[..], b"done");
}

#[tokio::test]
async fn a_redirect_on_the_same_origin_is_followed_relative_or_not() {
    let server = MockServer::start().await;
    Mock::given(path("/first"))
        .respond_with(redirect_to("second"))
        .mount(&server)
        .await;
    Mock::given(path("/second"))
        .respond_with(redirect_to(&format!("{}/third", server.uri())))
        .mount(&server)
        .await;
    Mock::given(path("/third"))
        .respond_with(ResponseTemplate::new(200).set_body_string("arrived"))
        .mount(&server)
        .await;
    let response = client(Duration::from_secs(5))
        .get(url(&server.uri(), "/first"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(&response.body[..], b"arrived");
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_returned_as_it_is() {
    let elsewhere = MockServer::start().await;
    Mock::given(path("/stolen"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/stolen", elsewhere.uri()).as_str())
                .set_body_string("moved"),
        )
        .mount(&server)
        .await;
    let response = client(Duration::from_secs(5))
        .get(url(&server.uri(), "/start"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status.as_u16(), 307);
    assert_eq!(&response.body[..], b"moved");
    let received = elsewhere.received_requests().await.unwrap_or_default();
    assert!(
        received.is_empty(),
        "the other origin was asked: {received:?}"
    );
}

/// `/hop/0` redirects to `/hop/1`, and so on up to `/hop/{hops}`, which answers 200.
async fn chain_of(hops: usize) -> MockServer {
    let server = MockServer::start().await;
    for hop in 0..hops {
        Mock::given(path(format!("/hop/{hop}")))
            .respond_with(redirect_to(&format!("/hop/{}", hop + 1)))
            .mount(&server)
            .await;
    }
    Mock::given(path(format!("/hop/{hops}")))
        .respond_with(ResponseTemplate::new(200).set_body_string("end"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn five_redirects_are_followed_and_a_sixth_is_not() {
    let five = chain_of(MAX_REDIRECTS).await;
    let response = client(Duration::from_secs(5))
        .get(url(&five.uri(), "/hop/0"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status.as_u16(), 200);

    let six = chain_of(MAX_REDIRECTS + 1).await;
    let response = client(Duration::from_secs(5))
        .get(url(&six.uri(), "/hop/0"))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        response.status.as_u16(),
        302,
        "the sixth redirect is the answer"
    );
    let asked: Vec<String> = six
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(asked.len(), MAX_REDIRECTS + 1, "{asked:?}");
    assert!(!asked.contains(&format!("/hop/{}", MAX_REDIRECTS + 1)));
}

/// A server on a local port that answers every connection with `head` (status line and headers),
/// then `body`, and then keeps the connection open without sending anything more.
async fn raw_server(head: String, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (head, body) = (head.clone(), body.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                if socket.write_all(head.as_bytes()).await.is_err()
                    || socket.write_all(&body).await.is_err()
                {
                    return;
                }
                // Holds the connection open: the client must give up on its own.
                tokio::time::sleep(Duration::from_secs(60)).await;
                drop(socket);
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_content_length_over_the_cap_is_refused_before_reading() {
    // The body never comes: reading it would run into the timeout instead.
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY_BYTES + 1
    );
    let base = raw_server(head, Vec::new()).await;
    let error = client(Duration::from_secs(30))
        .get(url(&base, "/big"))
        .send()
        .await
        .expect_err("too large");
    assert!(
        matches!(error, HttpError::TooLarge { limit } if limit == MAX_BODY_BYTES),
        "{error:?}"
    );
    let upstream = http::transport_error("Test", error);
    assert_eq!(upstream.error_name(), ErrorName::UpstreamMalformed);
    assert!(upstream.to_string().contains("larger than"), "{upstream}");
}

#[tokio::test]
async fn a_streamed_body_over_the_cap_is_refused_once_over() {
    // Chunked, so there is no length to check first; more than the cap in 64 KiB chunks, and then
    // the body stays open: the client must stop on what arrived, not wait for the end.
    let chunk = vec![b'x'; 64 * 1024];
    let mut body = Vec::new();
    for _ in 0..(MAX_BODY_BYTES / chunk.len() + 1) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    let base = raw_server(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned(),
        body,
    )
    .await;
    let error = client(Duration::from_secs(30))
        .get(url(&base, "/stream"))
        .send()
        .await
        .expect_err("too large");
    assert!(matches!(error, HttpError::TooLarge { .. }), "{error:?}");
}

#[tokio::test]
async fn a_body_that_stalls_times_out() {
    let base = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_owned(),
        b"the first few bytes".to_vec(),
    )
    .await;
    let timeout = Duration::from_millis(300);
    let error = client(timeout)
        .get(url(&base, "/slow"))
        .send()
        .await
        .expect_err("times out");
    assert!(
        matches!(error, HttpError::Timeout(after) if after == timeout),
        "{error:?}"
    );
    let upstream = http::transport_error("Test", error);
    assert!(
        matches!(upstream, UpstreamError::Timeout { after, .. } if after == timeout),
        "{upstream:?}"
    );
    assert!(upstream.error_name().is_transient());
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_without_the_url() {
    // A port that was just free: nothing listens on it once the listener is dropped.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let error = client(Duration::from_secs(5))
        .get(url(&format!("http://127.0.0.1:{port}"), "/secret-path"))
        .send()
        .await
        .expect_err("refused");
    assert!(matches!(error, HttpError::Send(_)), "{error:?}");
    let upstream = http::transport_error("Test", error);
    let UpstreamError::Unavailable { detail, .. } = &upstream else {
        panic!("expected Unavailable, got {upstream:?}");
    };
    assert!(detail.to_lowercase().contains("refused"), "{detail}");
    assert!(!detail.contains("secret-path"), "{detail}");
    assert!(!detail.contains(&port.to_string()), "{detail}");
    assert!(upstream.error_name().is_transient());
}
