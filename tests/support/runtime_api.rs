//! The Lambda binaries against a local Lambda Runtime API (wiremock): what a binary does at start-up
//! and what it posts back for an invocation.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API: &str = "/2018-06-01/runtime";
const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// Every wait in these tests is bounded: a binary that hangs fails its test instead of CI.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The workspace's binaries sit beside this test's `deps/` directory; `make test` builds them
/// (`cargo build --workspace --bins`) before running the tests.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`, which `make test` does)",
        path.display()
    );
    path
}

/// A Runtime API that serves one invocation (or, with `None`, keeps the binary waiting for one).
pub struct RuntimeApi {
    server: MockServer,
}

impl RuntimeApi {
    pub async fn serving(event: Option<Value>) -> Self {
        let server = MockServer::start().await;
        let next = match event {
            Some(event) => ResponseTemplate::new(200)
                .insert_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                .insert_header("Lambda-Runtime-Deadline-Ms", "4102444800000")
                .insert_header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:af-south-1:123456789012:function:test",
                )
                .set_body_json(event),
            None => ResponseTemplate::new(200).set_delay(Duration::from_secs(120)),
        };
        Mock::given(method("GET"))
            .and(path(NEXT))
            .respond_with(next)
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(format!(
                "^{API}/(invocation/req-1/(response|error)|init/error)$"
            )))
            .respond_with(ResponseTemplate::new(202))
            .mount(&server)
            .await;
        RuntimeApi { server }
    }

    /// Starts `binary_name` with exactly `env`, plus what the Lambda service itself sets.
    pub fn spawn(&self, binary_name: &str, env: &[(String, String)]) -> Child {
        let address = self.server.address();
        Command::new(binary(binary_name))
            .env_clear()
            .envs(lambda_service_env(binary_name))
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("{}:{}", address.ip(), address.port()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the binary")
    }

    /// Whether the binary has asked for an invocation: its start-up accepted its configuration.
    pub async fn asked_for_invocation(&self) -> bool {
        self.requests().await.iter().any(|r| r.url.path() == NEXT)
    }

    /// What the binary posted back (response, invocation error or init error), waiting for it.
    pub async fn posted(&self) -> Posted {
        let request = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(post) = self
                    .requests()
                    .await
                    .into_iter()
                    .find(|r| r.method.as_str() == "POST")
                {
                    break post;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the binary answered its invocation within 30 s");
        let kind = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Posted {
            kind,
            body: serde_json::from_slice(&request.body).expect("a JSON body"),
        }
    }

    async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// What a binary sent back: `kind` is `response` or `error`.
#[derive(Debug)]
pub struct Posted {
    pub kind: String,
    pub body: Value,
}

/// Variables the Lambda service sets, which lambda_runtime needs at start, and dummy credentials.
fn lambda_service_env(function_name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_REGION", "af-south-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `(name, value)` pairs as owned strings.
pub fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
