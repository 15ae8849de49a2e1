//! The Lambda binaries against a local Lambda Runtime API: what reaches the Runtime API when an
//! invocation fails is our catalogue name, never a Rust type name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod support;

use loadshed_core::errors::ErrorName;
use serde_json::{Value, json};
use support::runtime_api::{Posted, RuntimeApi, vars};

/// Every Lambda binary the stack deploys.
const FUNCTIONS: [&str; 5] = [
    "loadshed-stage",
    "loadshed-schedule",
    "loadshed-notify",
    "loadshed-webhook",
    "loadshed-web",
];

/// Serves one invocation with `payload` and returns what the binary posted back.
async fn invoke(binary_name: &str, payload: Value) -> Posted {
    let api = RuntimeApi::serving(Some(payload)).await;
    let env = vars(&[
        ("LOADSHED_TABLE", "loadshed-test"),
        ("TELEGRAM_BOT_TOKEN", "123:test-token"),
        // Nothing listens here: a handler that reached upstream would fail, not hang.
        ("ESKOM_BASE_URL", "http://127.0.0.1:9/"),
        ("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/"),
        // The webhook's own configuration; the tasks ignore it.
        ("BOT_USERNAME", "loadshed_bot"),
        (
            "STATE_MACHINE_ARN",
            "arn:aws:states:af-south-1:123456789012:stateMachine:refresh",
        ),
        ("TELEGRAM_WEBHOOK_SECRET", "runtime-test_secret"),
    ]);
    let mut child = api.spawn(binary_name, &env);
    let posted = api.posted().await;
    child.kill().await.ok();
    posted
}

#[tokio::test]
async fn invalid_payloads_are_reported_as_invalid_input_by_every_task() {
    for binary_name in ["loadshed-stage", "loadshed-schedule", "loadshed-notify"] {
        let posted = invoke(binary_name, json!({"unexpected": "shape"})).await;
        assert_eq!(posted.kind, "error", "{binary_name}");
        assert_eq!(
            posted.body["errorType"], "InvalidInput",
            "{binary_name}: {}",
            posted.body
        );
        assert!(
            posted.body["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("workflow")),
            "{binary_name}: the message names the accepted shapes: {}",
            posted.body
        );
    }
}

#[tokio::test]
async fn upstream_failures_carry_their_catalogue_name() {
    let posted = invoke("loadshed-stage", json!({"trigger": "schedule"})).await;
    assert_eq!(posted.kind, "error");
    assert_eq!(
        posted.body["errorType"], "UpstreamUnavailable",
        "{}",
        posted.body
    );
}

/// A Function URL request, which only the webhook and the web function take.
fn function_url_request() -> Value {
    json!({
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/"}, "timeEpoch": 1},
        "body": "{}",
        "isBase64Encoded": false
    })
}

/// A DynamoDB Streams batch, which only schedule and notify take.
fn stream_batch() -> Value {
    json!({"Records": [{"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "awsRegion": "af-south-1", "dynamodb": {"Keys": {}, "NewImage": {}}}]})
}

#[tokio::test]
async fn every_function_answers_a_foreign_payload_with_a_catalogue_name() {
    for binary_name in FUNCTIONS {
        let mut payloads = vec![
            json!({"unexpected": "shape"}),
            json!([]),
            json!(null),
            json!("text"),
            json!(42),
        ];
        match binary_name {
            "loadshed-webhook" | "loadshed-web" => {
                payloads.extend([stream_batch(), json!({"trigger": "schedule"})])
            }
            _ => payloads.push(function_url_request()),
        }
        for payload in payloads {
            let posted = invoke(binary_name, payload.clone()).await;
            assert_eq!(
                posted.kind, "error",
                "{binary_name} {payload}: {}",
                posted.body
            );
            let name = posted.body["errorType"].as_str().unwrap_or_default();
            assert!(
                ErrorName::from_name(name).is_some(),
                "{binary_name} {payload}: errorType {name:?} is not in the catalogue"
            );
            assert_eq!(
                name, "InvalidInput",
                "{binary_name} {payload}: {}",
                posted.body
            );
        }
    }
}

/// A Function URL request for the web function: `method` on `raw_path`.
fn web_request(method: &str, raw_path: &str) -> Value {
    json!({
        "version": "2.0",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": "pages.example"},
        "requestContext": {"http": {"method": method, "path": raw_path}, "timeEpoch": 1},
        "isBase64Encoded": false
    })
}

#[tokio::test]
async fn the_web_function_answers_function_url_requests_with_http_responses() {
    // Neither answer reads the store (nothing listens at the table's endpoint).
    let posted = invoke("loadshed-web", web_request("POST", "/")).await;
    assert_eq!(posted.kind, "response", "{}", posted.body);
    assert_eq!(posted.body["statusCode"], 405, "{}", posted.body);
    assert_eq!(
        posted.body["headers"]["allow"], "GET, HEAD",
        "{}",
        posted.body
    );

    let posted = invoke("loadshed-web", web_request("GET", "/no/such/page")).await;
    assert_eq!(posted.kind, "response", "{}", posted.body);
    assert_eq!(posted.body["statusCode"], 404, "{}", posted.body);
    assert!(
        posted.body["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/html")),
        "{}",
        posted.body
    );
}
