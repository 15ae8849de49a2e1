//! `StartExecution` against a real Step Functions API (moto's server, started by
//! `scripts/with-moto`), alone and behind the webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod webhook_support;

use std::sync::Arc;

use aws_sdk_sfn::Client;
use loadshed_core::adapters::memory_store::MemoryStore;
use loadshed_core::adapters::step_functions::{StepFunctionsStarter, client};
use loadshed_core::clock::{Clock, ManualClock};
use loadshed_core::domain::ChatId;
use loadshed_core::ports::{
    ExecutionName, StartOutcome, SubscriptionStore, WorkflowError, WorkflowStarter,
};
use loadshed_core::webhook::{Endpoint, Webhook, WebhookPorts, WebhookSecret, WebhookSettings};
use webhook_support::{
    BOT, FakeSearch, PRIVATE, RecordingAnswers, RecordingMessenger, SECRET, bertiburg,
    message_update, telegram_request,
};

const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";

fn endpoint() -> String {
    std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no Step Functions-compatible server to test against: \
             run `make test`, or `scripts/with-moto cargo test -p loadshed-core --test webhook_step_functions`"
        )
    })
}

/// A state machine of its own per test, so tests never see each other's executions. moto neither
/// validates nor runs the definition; any valid one will do.
async fn state_machine(sfn: &Client, name: &str) -> String {
    let unique = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let created = sfn
        .create_state_machine()
        .name(unique)
        .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/loadshed-refresh")
        .send()
        .await
        .expect("create the state machine in moto");
    created.state_machine_arn().to_owned()
}

async fn executions(sfn: &Client, arn: &str) -> Vec<(String, String)> {
    let listed = sfn
        .list_executions()
        .state_machine_arn(arn)
        .send()
        .await
        .expect("list executions");
    let mut found = Vec::new();
    for execution in listed.executions() {
        let described = sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .expect("describe execution");
        found.push((
            execution.name().to_owned(),
            described.input().unwrap_or_default().to_owned(),
        ));
    }
    found
}

/// The SDK's client: the tests' own, to create state machines and look at executions.
async fn sdk() -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .load()
        .await;
    Client::new(&config)
}

/// The starter the webhook uses, on moto.
async fn starter(arn: &str) -> StepFunctionsStarter {
    let config = loadshed_core::adapters::aws::load_config().await;
    StepFunctionsStarter::new(client(&config, Some(&endpoint())), arn)
}

fn name(text: &str) -> ExecutionName {
    ExecutionName::new(text).expect("valid name")
}

#[tokio::test]
async fn the_same_name_and_input_twice_is_one_execution() {
    let sfn = sdk().await;
    let arn = state_machine(&sfn, "same-twice").await;
    let starter = starter(&arn).await;
    let input =
        r#"{"source":"telegram","chat_id":1,"message_id":2,"update_id":3,"areas":["eskom:64106"]}"#;

    let first = starter
        .start(&name("tg-3"), input)
        .await
        .expect("first start");
    let second = starter
        .start(&name("tg-3"), input)
        .await
        .expect("second start");
    let StartOutcome::Started { execution_arn } = &first else {
        panic!("the first start must start: {first:?}");
    };
    assert!(execution_arn.ends_with(":tg-3"), "{execution_arn}");
    // Step Functions answers an identical repeat with the same running execution.
    assert_eq!(second, first);
    assert_eq!(
        executions(&sfn, &arn).await,
        vec![("tg-3".to_owned(), input.to_owned())]
    );
}

#[tokio::test]
async fn another_input_under_a_taken_name_is_already_started() {
    let sfn = sdk().await;
    let arn = state_machine(&sfn, "other-input").await;
    let starter = starter(&arn).await;
    let input = r#"{"areas":["eskom:64106"]}"#;
    starter.start(&name("tg-7"), input).await.expect("start");

    let changed = starter
        .start(&name("tg-7"), r#"{"areas":["eskom:64106","eskom:9811"]}"#)
        .await
        .expect("a taken name is not an error");
    assert_eq!(changed, StartOutcome::AlreadyExists);
    assert_eq!(
        executions(&sfn, &arn).await,
        vec![("tg-7".to_owned(), input.to_owned())]
    );
}

#[tokio::test]
async fn a_finished_execution_keeps_its_name() {
    let sfn = sdk().await;
    let arn = state_machine(&sfn, "finished").await;
    let starter = starter(&arn).await;
    let StartOutcome::Started { execution_arn } =
        starter.start(&name("tg-8"), "{}").await.expect("start")
    else {
        panic!("must start");
    };
    sfn.stop_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .expect("stop");
    let again = starter
        .start(&name("tg-8"), "{}")
        .await
        .expect("not an error");
    assert_eq!(again, StartOutcome::AlreadyExists);
    assert_eq!(executions(&sfn, &arn).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_state_machine_is_a_permanent_failure() {
    let starter =
        starter("arn:aws:states:af-south-1:123456789012:stateMachine:no-such-machine").await;
    let err = starter
        .start(&name("tg-9"), "{}")
        .await
        .expect_err("must fail");
    assert!(matches!(err, WorkflowError::Rejected { .. }), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn an_unreachable_service_is_a_transient_failure() {
    // A port nobody listens on: connection refused on every attempt.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let config = loadshed_core::adapters::aws::load_config().await;
    let sfn = client(&config, Some(&format!("http://127.0.0.1:{port}")));
    let starter = StepFunctionsStarter::new(
        sfn,
        "arn:aws:states:af-south-1:123456789012:stateMachine:refresh",
    );
    let err = starter
        .start(&name("tg-10"), "{}")
        .await
        .expect_err("must fail");
    assert!(matches!(err, WorkflowError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refresh_delivered_three_times_starts_one_execution() {
    let sfn = sdk().await;
    let arn = state_machine(&sfn, "webhook").await;
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::at_local(2026, 12, 1, 18, 0).expect("time"));
    store
        .subscribe(ChatId(PRIVATE), &bertiburg(), clock.now())
        .await
        .expect("subscribe");
    let webhook = Webhook::new(
        WebhookSettings::new(BOT),
        WebhookPorts {
            clock,
            store,
            search: Arc::new(FakeSearch::default()),
            workflow: Arc::new(starter(&arn).await),
            messenger: Arc::new(RecordingMessenger::default()),
            answers: Arc::new(RecordingAnswers::default()),
            channels: Arc::new(webhook_support::FakeChannels::default()),
        },
    );
    let endpoint = Endpoint::new(WebhookSecret::new(SECRET).expect("secret"), webhook);
    let update = message_update(777001, PRIVATE, 5, "/refresh").to_string();
    for _ in 0..3 {
        let response = endpoint.serve(&telegram_request(update.clone())).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.body().contains("Refreshing"),
            "{}",
            response.body()
        );
    }
    assert_eq!(
        executions(&sfn, &arn).await,
        vec![(
            "tg-777001".to_owned(),
            format!(
                r#"{{"source":"telegram","chat_id":{PRIVATE},"message_id":5,"update_id":777001,"areas":["eskom:64106"]}}"#
            )
        )]
    );
}
