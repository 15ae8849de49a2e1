//! `adapters::aws_json` at its edges: a server that never answers costs one attempt timeout per
//! attempt and the call ends within its own timeout; the retries are really sent; moto's answers
//! (`scripts/with-moto`) come back as the service's error codes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_types::SdkConfig;
use loadshed_core::adapters::aws_json::{AwsJsonClient, CallError, CallPolicy, service};
use loadshed_core::adapters::lambda_env_config::sdk_config_from;
use serde_json::json;
use tokio::net::TcpListener;

fn config() -> SdkConfig {
    sdk_config_from(
        |name| match name {
            "AWS_REGION" => Some("af-south-1".to_owned()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("testing".to_owned()),
            _ => None,
        },
        aws_types::sdk_config::TimeoutConfig::disabled(),
        aws_types::sdk_config::RetryConfig::disabled(),
    )
}

/// Accepts connections, counts them, and never sends a byte.
async fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (format!("http://{address}"), accepted)
}

#[tokio::test]
async fn a_silent_server_costs_one_attempt_timeout_per_attempt() {
    let (endpoint, accepted) = silent_server().await;
    let policy = CallPolicy {
        max_attempts: 3,
        attempt_timeout: Duration::from_millis(200),
        operation_timeout: Duration::from_secs(10),
        initial_backoff: Duration::from_millis(1),
    };
    let client = AwsJsonClient::new(&service::DYNAMODB, &config(), Some(&endpoint), policy);
    let started = Instant::now();
    let error = client
        .call("GetItem", &json!({"TableName": "t"}))
        .await
        .expect_err("no answer");
    assert!(
        matches!(error, CallError::Timeout(limit) if limit == Duration::from_millis(200)),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "three attempts of 200 ms"
    );
    // A timed-out attempt's connection is not reused: each retry opened its own.
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_whole_call_ends_within_its_operation_timeout() {
    let (endpoint, accepted) = silent_server().await;
    let policy = CallPolicy {
        max_attempts: 10,
        attempt_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_millis(300),
        initial_backoff: Duration::from_millis(1),
    };
    let client = AwsJsonClient::new(&service::SSM, &config(), Some(&endpoint), policy);
    let error = client
        .call("GetParameter", &json!({"Name": "/x"}))
        .await
        .expect_err("no answer");
    assert!(
        matches!(error, CallError::Timeout(limit) if limit == Duration::from_millis(300)),
        "{error:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one attempt fitted");
}

#[tokio::test]
async fn without_a_region_nothing_is_sent() {
    let (endpoint, accepted) = silent_server().await;
    let config = sdk_config_from(
        |_| None,
        aws_types::sdk_config::TimeoutConfig::disabled(),
        aws_types::sdk_config::RetryConfig::disabled(),
    );
    let client = AwsJsonClient::new(
        &service::DYNAMODB,
        &config,
        Some(&endpoint),
        CallPolicy::default(),
    );
    let error = client
        .call("GetItem", &json!({}))
        .await
        .expect_err("no region");
    assert!(
        matches!(&error, CallError::Request(detail) if detail.contains("AWS_REGION")),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn moto_refusals_arrive_as_service_codes() {
    let endpoint = std::env::var("LOADSHED_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "LOADSHED_TEST_AWS_ENDPOINT is not set, so there is no moto server to test against: \
             run `make test`, or `scripts/with-moto cargo nextest run -p loadshed-core --test aws_json_calls`"
        )
    });
    let client = AwsJsonClient::new(
        &service::DYNAMODB,
        &config(),
        Some(&endpoint),
        CallPolicy::default(),
    );
    let error = client
        .call(
            "GetItem",
            &json!({"TableName": "loadshed-no-such-table", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}}),
        )
        .await
        .expect_err("no such table");
    let service = error.service().expect("a service error");
    assert_eq!(service.code, "ResourceNotFoundException", "{error}");
    assert_eq!(service.status.as_u16(), 400);
    assert!(!error.is_transient());
    let listed = client
        .call("ListTables", &json!({}))
        .await
        .expect("list tables");
    assert!(
        listed
            .get("TableNames")
            .is_some_and(|names| names.is_array()),
        "{listed}"
    );
}
