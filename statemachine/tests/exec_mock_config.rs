//! Mocked runs in AWS Step Functions Local's MockConfigFile format, through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use asl::mock::{MockConfig, MockError};
use asl::{ExecutionStatus, Executor, StateMachine, VirtualClock};
use serde_json::json;

const DEFINITION: &str = r#"{
  "StartAt": "Fetch",
  "States": {
    "Fetch": {
      "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "fetch", "Payload.$": "$"},
      "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 30, "MaxAttempts": 3}],
      "ResultSelector": {"body.$": "$.Payload.body", "retries.$": "$$.State.RetryCount"},
      "Next": "Store"
    },
    "Store": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:store", "End": true}
  }
}"#;

const MOCKS: &str = r#"{
  "StateMachines": {
    "Refresh": {
      "TestCases": {
        "HappyAfterThrottling": {"Fetch": "ThrottledTwice", "Store": "Stored"},
        "Broken": {"Fetch": "AlwaysFails", "Store": "Stored"},
        "NoStore": {"Fetch": "ThrottledTwice"}
      }
    }
  },
  "MockedResponses": {
    "ThrottledTwice": {
      "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
      "2": {"Return": {"StatusCode": 200, "Payload": {"body": "stage 4"}}}
    },
    "AlwaysFails": {"0": {"Throw": {"Error": "Upstream.Down", "Cause": "eskom is down"}}},
    "Stored": {"0": {"Return": {"stored": true}}}
  }
}"#;

async fn run(case: &str) -> asl::Execution {
    let config = MockConfig::from_json(MOCKS).expect("mock config parses");
    let invoker = config
        .invoker(Some("Refresh"), case)
        .expect("test case exists");
    let machine = StateMachine::from_json(DEFINITION).expect("definition loads");
    Executor::new(machine, invoker)
        .with_clock(VirtualClock::new())
        .execute(json!({"area": "x"}))
        .await
}

#[tokio::test]
async fn attempt_ranges_drive_retries_then_success() {
    let execution = run("HappyAfterThrottling").await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    assert_eq!(execution.output, Some(json!({"stored": true})));
    let fetch_attempts = execution
        .history
        .iter()
        .filter(|e| e.event_type == "TaskScheduled")
        .count();
    assert_eq!(fetch_attempts, 3);
    let store_input = execution
        .history
        .iter()
        .find(|e| e.event_type == "LambdaFunctionScheduled")
        .and_then(|e| e.json_detail("input"));
    assert_eq!(store_input, Some(json!({"body": "stage 4", "retries": 2})));
}

#[tokio::test]
async fn throw_fails_the_execution_with_the_mocked_error() {
    let execution = run("Broken").await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("Upstream.Down"));
    assert_eq!(execution.cause.as_deref(), Some("eskom is down"));
}

#[tokio::test]
async fn unmocked_task_states_are_named() {
    let config = MockConfig::from_json(MOCKS).unwrap();
    let invoker = config.invoker(Some("Refresh"), "NoStore").unwrap();
    let machine = StateMachine::from_json(DEFINITION).unwrap();
    assert_eq!(invoker.unmocked_states(&machine), vec!["Store".to_owned()]);
    let execution = run("NoStore").await;
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert!(execution.cause.unwrap().contains("'Store'"));
}

#[test]
fn configuration_errors_are_specific() {
    let config = MockConfig::from_json(MOCKS).unwrap();
    assert!(matches!(
        config.invoker(Some("Other"), "Broken"),
        Err(MockError::UnknownStateMachine(_))
    ));
    assert!(matches!(
        config.invoker(None, "Nope"),
        Err(MockError::UnknownTestCase { .. })
    ));
    let dangling = r#"{"StateMachines": {"M": {"TestCases": {"C": {"S": "Missing"}}}}, "MockedResponses": {}}"#;
    assert!(matches!(
        MockConfig::from_json(dangling).unwrap().invoker(None, "C"),
        Err(MockError::UnknownResponse { .. })
    ));
    let bad_key = r#"{"StateMachines": {"M": {"TestCases": {"C": {"S": "R"}}}}, "MockedResponses": {"R": {"x": {"Return": 1}}}}"#;
    assert!(matches!(
        MockConfig::from_json(bad_key).unwrap().invoker(None, "C"),
        Err(MockError::BadAttemptKey { .. })
    ));
}
