//! Smoke checks from moto's Step Functions tests (`../shared/conformance/asl/moto`): the assertions in
//! `manifest.json` that do not need AWS services besides the engine, restated here as Rust checks.
//! moto's expectations are written by its developers, not recorded on AWS, so these stay a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::Path;

use asl::{
    Execution, ExecutionStatus, Executor, StateMachine, TaskCall, TaskFailure, TaskInvoker,
    VirtualClock,
};
use async_trait::async_trait;
use serde_json::{Value, json};

const MOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/asl/moto"
);

struct NoTasks;

#[async_trait]
impl TaskInvoker for NoTasks {
    async fn invoke(&self, call: TaskCall) -> Result<Value, TaskFailure> {
        Err(TaskFailure::new("Test.UnexpectedTask", call.state_name))
    }
}

async fn run(template: &str, input: Value) -> Execution {
    let dir = Path::new(MOTO).join("definitions");
    assert!(
        dir.is_dir(),
        "the moto corpus folder {} is missing: this test needs ../shared (present in CI) next to the checkout",
        dir.display()
    );
    let path = dir.join(template);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let machine =
        StateMachine::from_json(&text).unwrap_or_else(|e| panic!("{template} does not load: {e}"));
    Executor::new(machine, NoTasks)
        .with_clock(VirtualClock::new())
        .execute(input)
        .await
}

fn types(execution: &Execution) -> Vec<&str> {
    execution
        .history
        .iter()
        .map(|e| e.event_type.as_str())
        .collect()
}

#[tokio::test]
async fn choice_hit_and_miss() {
    let hit = run("choice_state_singleton.json", json!({"type": "Public"})).await;
    assert_eq!(hit.status, ExecutionStatus::Succeeded);
    assert_eq!(hit.output, Some(json!({"type": "Public"})));
    let miss = run("choice_state_singleton.json", json!({"type": "Private"})).await;
    assert_eq!(miss.status, ExecutionStatus::Failed);
    assert_eq!(miss.cause.as_deref(), Some("No Matches!"));
}

#[tokio::test]
async fn parallel_states_history_has_twenty_events() {
    let execution = run("parallel_states.json", json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output,
        Some(json!([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]))
    );
    assert_eq!(execution.history.len(), 20);
    for expected in [
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateExited",
    ] {
        assert!(types(&execution).contains(&expected), "{expected} missing");
    }
}

#[tokio::test]
async fn parallel_catch_history_has_nine_events() {
    let execution = run("parallel_states_catch.json", json!({})).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output.as_ref().map(|o| o["Cause"].clone()),
        Some(json!("Cause description"))
    );
    assert_eq!(execution.history.len(), 9, "{:?}", types(&execution));
    assert!(types(&execution).contains(&"ParallelStateFailed"));
}

#[tokio::test]
async fn parallel_failure_and_branch_order() {
    let failed = run("parallel_fail.json", json!({})).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("FailureType"));
    let ordered = run("parallel_states_order.json", json!({})).await;
    assert_eq!(
        ordered.output,
        Some(json!([{"branch": 0}, {"branch": 1}, {"branch": 2}, {"branch": 3}]))
    );
}

#[tokio::test]
async fn simple_failure_state_history() {
    let execution = run("failure.json", json!({})).await;
    assert_eq!(execution.error.as_deref(), Some("DefaultStateError"));
    assert_eq!(execution.cause.as_deref(), Some("No Matches!"));
    assert_eq!(
        types(&execution),
        vec!["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(execution.history[0].details["input"], json!("{}"));
}
