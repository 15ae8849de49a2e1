//! Starting a Lambda binary against a local Runtime API, to see whether its start-up accepts an
//! environment: a binary that is missing configuration exits before it asks for an invocation.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// The workspace's binaries sit beside this test's `deps/` directory; `cargo build --workspace`
/// (which `make test` runs through nextest) builds them.
pub fn binary(name: &str) -> PathBuf {
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

/// How a start-up went.
#[derive(Debug)]
pub enum Start {
    /// The binary asked the Runtime API for its first invocation: its configuration was accepted.
    Ready,
    /// It exited first; `stderr` says why.
    Exited { status: String, stderr: String },
}

/// Runs `binary_name` with exactly `env` (plus what the Lambda service itself sets) until it asks
/// for an invocation or exits, within 30 s.
pub async fn start(binary_name: &str, env: &[(String, String)]) -> Start {
    let api = MockServer::start().await;
    // Never answered within the test: the binary waits for its invocation until it is killed.
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(120)))
        .mount(&api)
        .await;
    let address = api.address();
    let mut child = tokio::process::Command::new(binary(binary_name))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the binary");

    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let asked = api
                .received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .any(|r| r.url.path() == NEXT);
            if asked {
                return None;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!("{binary_name} neither asked for an invocation nor exited within 30 s")
    });

    match outcome {
        None => {
            child.kill().await.ok();
            Start::Ready
        }
        Some(status) => {
            let output = child.wait_with_output().await.expect("collect the output");
            Start::Exited {
                status: status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
    }
}
