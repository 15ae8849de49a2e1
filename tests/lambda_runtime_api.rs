//! The task binaries against a local Lambda Runtime API: what reaches the Runtime API when an
//! invocation fails is our catalogue name, never a Rust type name.

mod support;

use serde_json::{Value, json};
use support::runtime_api::{Posted, RuntimeApi, vars};

/// Serves one invocation with `payload` and returns what the binary posted back.
async fn invoke(binary_name: &str, payload: Value) -> Posted {
    let api = RuntimeApi::serving(Some(payload)).await;
    let env = vars(&[
        ("LOADSHED_TABLE", "loadshed-test"),
        ("TELEGRAM_BOT_TOKEN", "123:test-token"),
        // Nothing listens here: a handler that reached upstream would fail, not hang.
        ("ESKOM_BASE_URL", "http://127.0.0.1:9/"),
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
