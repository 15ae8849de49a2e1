//! The task binaries against a local Lambda Runtime API: what reaches the Runtime API when an
//! invocation fails is our catalogue name, never a Rust type name.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API: &str = "/2018-06-01/runtime";

/// The task binaries sit beside this test's `deps/` directory; `cargo test --workspace` builds them.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build --workspace`, which `make test` does)",
        path.display()
    );
    path
}

/// Serves one invocation with `payload`, runs the binary, and returns what it posted back.
async fn invoke(binary_name: &str, payload: Value) -> (String, Value) {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/invocation/next")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                .insert_header("Lambda-Runtime-Deadline-Ms", "4102444800000")
                .insert_header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:af-south-1:123456789012:function:test",
                )
                .set_body_json(payload),
        )
        .up_to_n_times(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!(
            "^{API}/invocation/req-1/(response|error)$"
        )))
        .respond_with(ResponseTemplate::new(202))
        .mount(&api)
        .await;

    let address = api.address();
    let mut child = tokio::process::Command::new(binary(binary_name))
        .env_clear()
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("{}:{}", address.ip(), address.port()),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", binary_name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "af-south-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("LOADSHED_TABLE", "loadshed-test")
        .env("TELEGRAM_BOT_TOKEN", "123:test-token")
        // Nothing listens here: a handler that reached upstream would fail, not hang.
        .env("ESKOM_BASE_URL", "http://127.0.0.1:9/")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the binary");

    let posted = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let requests = api.received_requests().await.unwrap_or_default();
            if let Some(post) = requests.iter().find(|r| r.method.as_str() == "POST") {
                break post.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the binary answered the invocation within 30 s");
    child.kill().await.ok();
    let kind = posted
        .url
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::from_slice(&posted.body).expect("JSON body");
    (kind, body)
}

#[tokio::test]
async fn invalid_payloads_are_reported_as_invalid_input_by_every_task() {
    for binary_name in ["loadshed-stage", "loadshed-schedule", "loadshed-notify"] {
        let (kind, body) = invoke(binary_name, json!({"unexpected": "shape"})).await;
        assert_eq!(kind, "error", "{binary_name}");
        assert_eq!(body["errorType"], "InvalidInput", "{binary_name}: {body}");
        assert!(
            body["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("workflow")),
            "{binary_name}: the message names the accepted shapes: {body}"
        );
    }
}

#[tokio::test]
async fn upstream_failures_carry_their_catalogue_name() {
    let (kind, body) = invoke("loadshed-stage", json!({"trigger": "schedule"})).await;
    assert_eq!(kind, "error");
    assert_eq!(body["errorType"], "UpstreamUnavailable", "{body}");
    assert!(
        !body["errorType"]
            .as_str()
            .unwrap_or_default()
            .contains("::")
    );
}
