//! Starting a Lambda binary against a local Runtime API, to see whether its start-up accepts an
//! environment: a binary that is missing configuration exits before it asks for an invocation.

use std::time::Duration;

use crate::support::runtime_api::{PATIENCE, RuntimeApi};

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
    let api = RuntimeApi::serving(None).await;
    let mut child = api.spawn(binary_name, env);
    let exited = tokio::time::timeout(PATIENCE, async {
        loop {
            if api.asked_for_invocation().await {
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
    match exited {
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
