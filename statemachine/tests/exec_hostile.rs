//! Hostile definitions: runaway loops, out-of-range numbers and deeply nested expressions end with AWS's error (or a
//! validation verdict), never a panic, a hang or a stack overflow.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::time::{Duration, Instant};

use asl::validate::{Options, validate_str};
use asl::{
    ExecutionOptions, ExecutionStatus, Executor, StateMachine, SystemClock, TaskCall, TaskFailure,
    TaskInvoker, VirtualClock,
};
use async_trait::async_trait;
use serde_json::{Value, json};

struct AlwaysFails;

#[async_trait]
impl TaskInvoker for AlwaysFails {
    async fn invoke(&self, _call: TaskCall) -> Result<Value, TaskFailure> {
        Err(TaskFailure::new("Boom", "always"))
    }
}

fn machine(definition: &Value) -> StateMachine {
    StateMachine::from_value(definition).expect("definition loads")
}

#[tokio::test]
async fn a_choice_looping_on_itself_ends_at_the_history_quota_as_aws_ends_it() {
    let definition = json!({"StartAt": "Spin", "States": {
        "Spin": {"Type": "Choice", "Choices": [
            {"Variable": "$.stop", "BooleanEquals": true, "Next": "Done"}], "Default": "Spin"},
        "Done": {"Type": "Succeed"}}});
    let execution = Executor::new(machine(&definition), AlwaysFails)
        .with_clock(VirtualClock::new())
        .execute(json!({"stop": false}))
        .await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        execution.cause.as_deref(),
        Some("The execution reached the maximum number of history events (25000).")
    );
    assert_eq!(execution.history.len(), 25_000);
    let last = execution.history.last().expect("events");
    assert_eq!(
        (last.id, last.event_type.as_str()),
        (25_000, "ExecutionFailed")
    );
}

#[tokio::test]
async fn an_execution_ending_exactly_at_the_quota_succeeds() {
    // ExecutionStarted, then Entered/Exited per Pass state, then ExecutionSucceeded: 2 + 2n events.
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}});
    let options = |limit| ExecutionOptions {
        max_history_events: limit,
        ..ExecutionOptions::default()
    };
    let run = |limit| {
        Executor::new(machine(&definition), AlwaysFails)
            .with_clock(VirtualClock::new())
            .with_options(options(limit))
    };
    let at_limit = run(6).execute(json!({})).await;
    assert_eq!(at_limit.status, ExecutionStatus::Succeeded);
    assert_eq!(at_limit.history.len(), 6);
    let over = run(5).execute(json!({})).await;
    assert_eq!(over.status, ExecutionStatus::Failed);
    assert_eq!(over.history.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_seconds_fires_in_a_busy_loop() {
    let definition = json!({"StartAt": "Spin", "TimeoutSeconds": 1, "States": {
        "Spin": {"Type": "Pass", "Next": "Spin"}}});
    let started = Instant::now();
    let execution = Executor::new(machine(&definition), AlwaysFails)
        .with_clock(SystemClock)
        .with_options(ExecutionOptions {
            max_history_events: u64::MAX,
            record_history: false,
            ..ExecutionOptions::default()
        })
        .execute(json!({}))
        .await;
    assert_eq!(execution.status, ExecutionStatus::TimedOut);
    assert_eq!(execution.error.as_deref(), Some("States.Timeout"));
    assert!(started.elapsed() < Duration::from_secs(30));
}

async fn run_virtual(definition: &Value, input: Value) -> asl::Execution {
    Executor::new(machine(definition), AlwaysFails)
        .with_clock(VirtualClock::new())
        .execute(input)
        .await
}

#[tokio::test]
async fn out_of_range_wait_seconds_are_states_runtime() {
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}});
    for (s, why) in [
        (
            json!(1e20),
            "cannot be parsed as a long value: $.s == 1e+20",
        ),
        (json!(1.5), "cannot be parsed as a long value: $.s == 1.5"),
        (json!(-3), "references a negative value: $.s == -3"),
        (json!("soon"), "cannot be parsed as a long value"),
    ] {
        let execution = run_virtual(&definition, json!({ "s": s })).await;
        assert_eq!(execution.status, ExecutionStatus::Failed, "{s}");
        assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
        let cause = execution.cause.unwrap_or_default();
        assert!(cause.contains(why), "{s}: {cause}");
    }
    // The largest long is a (very long) wait, not an overflow.
    let execution = run_virtual(&definition, json!({ "s": i64::MAX })).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn out_of_range_timeouts_and_far_timestamps_do_not_panic() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f",
              "TimeoutSecondsPath": "$.t", "End": true}}});
    for t in [json!(1e20), json!(0), json!(-1)] {
        let execution = run_virtual(&definition, json!({ "t": t })).await;
        assert_eq!(execution.status, ExecutionStatus::Failed, "{t}");
        assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    }
    let wait = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}});
    for t in [
        "+262142-12-31T23:59:59Z",
        "-262143-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        let execution = run_virtual(&wait, json!({ "t": t })).await;
        assert_ne!(execution.status, ExecutionStatus::TimedOut, "{t}");
    }
}

#[tokio::test]
async fn full_jitter_without_a_cap_survives_a_thousand_retries() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f",
              "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1100, "BackoffRate": 2.0,
                         "JitterStrategy": "FULL"}], "End": true}}});
    let execution = run_virtual(&definition, json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("Boom"));
}

fn nested_intrinsic(levels: usize) -> String {
    format!("{}1{}", "States.Array(".repeat(levels), ")".repeat(levels))
}

#[test]
fn deeply_nested_intrinsics_are_refused_with_a_clear_error() {
    let definition = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"x.$": nested_intrinsic(20_000)}, "End": true}}});
    let text = definition.to_string();
    assert!(text.len() > 250_000);
    let error = StateMachine::from_json(&text)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("nest more than 100 levels"), "{error}");
    let report = validate_str(&text, &Options::default());
    assert!(!report.is_ok());
    // Ten levels, which AWS documents as allowed, still load.
    let ok = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"x.$": nested_intrinsic(10)}, "End": true}}});
    StateMachine::from_value(&ok).expect("ten levels load");
}

#[test]
fn deeply_nested_jsonpath_filters_are_refused_with_a_clear_error() {
    let path = format!("$[?({}@.a == 1{})]", "(".repeat(20_000), ")".repeat(20_000));
    let definition = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": path, "End": true}}});
    let error = StateMachine::from_value(&definition)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("nest more than 100 levels"), "{error}");
    assert!(!validate_str(&definition.to_string(), &Options::default()).is_ok());
}

#[test]
fn deeply_nested_jsonata_gets_a_verdict() {
    let expression = format!("{{% {}1{} %}}", "(".repeat(20_000), ")".repeat(20_000));
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": expression, "End": true}}});
    let report = validate_str(&definition.to_string(), &Options::default());
    assert!(!report.is_ok());
}
