//! What the DynamoDB store sends when an answer is lost, against a DynamoDB stand-in (wiremock)
//! that fails the first attempt: moto does not honour `ClientRequestToken`, so what is checked is
//! what DynamoDB's idempotency rests on, the same token on every attempt of one commit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use chrono::{TimeZone, Utc};
use loadshed_core::adapters::dynamo::{ClientSettings, DynamoStore};
use loadshed_core::domain::{Area, AreaHandle, AreaId, ChatId};
use loadshed_core::errors::StoreError;
use loadshed_core::ports::SubscriptionStore;
use serde_json::{Value, json};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TRANSACT: &str = "DynamoDB_20120810.TransactWriteItems";

async fn store_on(server: &MockServer) -> DynamoStore {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("af-south-1"))
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
        .load()
        .await;
    DynamoStore::from_config(
        &config,
        "loadshed-retries",
        &ClientSettings::with_endpoint(server.uri()),
    )
}

fn area() -> Area {
    Area {
        id: AreaId::new("eskom:64106"),
        name: "Bertiburg".into(),
        region: "Cape Town".into(),
        handle: AreaHandle::EskomSePush {
            area_id: "capetown-7-bertiburg".into(),
        },
    }
}

fn lost_answer() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(json!({
        "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "message": "the answer was lost",
    }))
}

async fn tokens(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| {
            request
                .headers
                .get("x-amz-target")
                .is_some_and(|target| target == TRANSACT)
        })
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("a JSON request");
            body["ClientRequestToken"]
                .as_str()
                .expect("a ClientRequestToken")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_commit_sent_again_carries_the_token_of_the_first_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", TRANSACT))
        .respond_with(lost_answer())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", TRANSACT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let store = store_on(&server).await;
    let at = Utc
        .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("time");
    assert!(
        store
            .subscribe(ChatId(42), &area(), at)
            .await
            .expect("the retry's answer is the commit's"),
        "told subscribed, not already subscribed"
    );
    let sent = tokens(&server).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0], sent[1], "one commit, one token");
    assert!(!sent[0].is_empty() && sent[0].len() <= 36, "{sent:?}");

    // Another commit, even of the same subscription, is another request with a token of its own.
    assert!(store.subscribe(ChatId(42), &area(), at).await.expect("ok"));
    let sent = tokens(&server).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_ne!(sent[2], sent[0]);
}

#[tokio::test]
async fn a_commit_that_keeps_failing_is_unavailable_after_three_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", TRANSACT))
        .respond_with(lost_answer())
        .mount(&server)
        .await;
    let store = store_on(&server).await;
    match store.unsubscribe(ChatId(42), &area().id).await {
        Err(StoreError::Unavailable(detail)) => {
            assert!(detail.contains("InternalServerError"), "{detail}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let sent = tokens(&server).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.iter().all(|token| *token == sent[0]), "{sent:?}");
}
