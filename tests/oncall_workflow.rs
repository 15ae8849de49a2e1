//! `loadshed start`, `follow` and `redrive` against moto's Step Functions (`scripts/with-moto`).
//!
//! moto neither runs nor validates definitions: an execution stays RUNNING and its history is
//! canned (a short successful run; a failed one on a server started with
//! `SF_EXECUTION_HISTORY_TYPE=FAILURE`, which these tests start for themselves). moto has no
//! RedriveExecution, so the redrive that goes through is checked against a wiremock stand-in
//! speaking the Step Functions protocol.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod oncall_support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use oncall_support::{aws, cli, moto_endpoint, stack, stderr, stdout, unique};
use serde_json::{Value, json};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DEFINITION: &str = include_str!("../statemachine/refresh.asl.json");

/// A state machine with the real definition (placeholders filled with function ARNs).
async fn state_machine(endpoint: &str) -> String {
    let definition = DEFINITION
        .replace(
            "${StageFunctionArn}",
            "arn:aws:lambda:af-south-1:123456789012:function:stage",
        )
        .replace(
            "${ScheduleFunctionArn}",
            "arn:aws:lambda:af-south-1:123456789012:function:schedule",
        )
        .replace(
            "${NotifyFunctionArn}",
            "arn:aws:lambda:af-south-1:123456789012:function:notify",
        );
    aws_sdk_sfn::Client::new(&aws(endpoint).await)
        .create_state_machine()
        .name(unique("refresh"))
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/loadshed-test")
        .send()
        .await
        .expect("create the state machine")
        .state_machine_arn()
        .to_owned()
}

async fn execution(endpoint: &str, state_machine_arn: &str) -> String {
    aws_sdk_sfn::Client::new(&aws(endpoint).await)
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .input("{}")
        .send()
        .await
        .expect("start an execution")
        .execution_arn()
        .to_owned()
}

#[tokio::test]
async fn start_prints_the_execution_arn_and_its_console_link() {
    let endpoint = moto_endpoint();
    let machine = state_machine(&endpoint).await;
    let name = unique("oncall");
    let input = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/statemachine/events/console-force.json"
    );
    let output = cli(
        &endpoint,
        &[
            "start",
            "--state-machine-arn",
            &machine,
            "--name",
            &name,
            "--input",
            &format!("@{input}"),
        ],
        &[],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let mut lines = printed.lines();
    let arn = lines.next().expect("the ARN line");
    assert!(arn.starts_with("arn:aws:states:af-south-1:"), "{arn}");
    assert!(arn.ends_with(&format!(":{name}")), "{arn}");
    let link = lines.next().expect("the console link line");
    assert!(
        link.starts_with("https://af-south-1.console.aws.amazon.com/states/home?region=af-south-1#/v2/executions/details/")
            && link.ends_with(arn),
        "{link}"
    );

    let described = aws_sdk_sfn::Client::new(&aws(&endpoint).await)
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("the execution exists");
    let sent: Value =
        serde_json::from_str(described.input().unwrap_or_default()).expect("JSON input");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(input).expect("read")).expect("JSON");
    assert_eq!(sent, file);
}

#[tokio::test]
async fn start_finds_the_state_machine_in_the_stack_outputs() {
    let endpoint = moto_endpoint();
    let machine = state_machine(&endpoint).await;
    let stack = stack(&endpoint, &[("StateMachineArn", &machine)], &[]).await;
    let output = cli(&endpoint, &["start", "--stack", &stack], &[]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let machine_name = machine.rsplit(':').next().expect("name");
    let arn = stdout(&output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        arn.contains(&format!(":execution:{machine_name}:")),
        "{arn}"
    );
}

#[tokio::test]
async fn start_refuses_an_input_the_workflow_would_refuse_and_starts_nothing() {
    let endpoint = moto_endpoint();
    let machine = state_machine(&endpoint).await;
    let output = cli(
        &endpoint,
        &[
            "start",
            "--state-machine-arn",
            &machine,
            "--input",
            r#"{"chatid": 42}"#,
        ],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("chatid"), "{}", stderr(&output));
    let executions = aws_sdk_sfn::Client::new(&aws(&endpoint).await)
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .expect("list executions");
    assert!(executions.executions().is_empty());
}

#[tokio::test]
async fn start_without_a_state_machine_says_how_to_give_one() {
    let endpoint = moto_endpoint();
    let output = cli(&endpoint, &["start", "--stack", "no-such-stack"], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("--state-machine-arn") && error.contains("LOADSHED_STATE_MACHINE_ARN"),
        "{error}"
    );
}

#[tokio::test]
async fn follow_prints_the_history_of_a_successful_execution_and_exits_0() {
    let endpoint = moto_endpoint();
    let machine = state_machine(&endpoint).await;
    let arn = execution(&endpoint, &machine).await;
    let output = cli(&endpoint, &["follow", &arn, "--interval", "1"], &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    let kinds: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ],
        "{printed}"
    );
    assert!(
        printed
            .lines()
            .last()
            .is_some_and(|l| l == "execution SUCCEEDED"),
        "{printed}"
    );
}

#[tokio::test]
async fn redrive_refuses_an_execution_that_has_not_failed() {
    let endpoint = moto_endpoint();
    let machine = state_machine(&endpoint).await;
    let arn = execution(&endpoint, &machine).await;
    let output = cli(&endpoint, &["redrive", &arn], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("is RUNNING") && error.contains("only FAILED"),
        "{error}"
    );
}

#[tokio::test]
async fn follow_exits_1_on_a_failed_execution_and_shows_the_error() {
    let moto = FailingMoto::start().await;
    let machine = state_machine(&moto.endpoint).await;
    let arn = execution(&moto.endpoint, &machine).await;
    let output = cli(&moto.endpoint, &["follow", &arn, "--interval", "1"], &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(
        printed.contains("ExecutionFailed  AnError: An error occurred!"),
        "{printed}"
    );
    assert!(printed.ends_with("execution FAILED\n"), "{printed}");
}

#[tokio::test]
async fn follow_of_an_unknown_execution_is_a_command_error() {
    let endpoint = moto_endpoint();
    let output = cli(
        &endpoint,
        &[
            "follow",
            "arn:aws:states:af-south-1:123456789012:execution:nope:nope",
        ],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("DescribeExecution"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn redrive_sends_a_failed_execution_back_and_says_how_to_follow_it() {
    let arn = "arn:aws:states:af-south-1:123456789012:execution:refresh:tg-42-1";
    let sfn = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "AWSStepFunctions.DescribeExecution"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "executionArn": arn,
            "stateMachineArn": "arn:aws:states:af-south-1:123456789012:stateMachine:refresh",
            "status": "FAILED",
            "startDate": 1796000000.0
        })))
        .mount(&sfn)
        .await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "AWSStepFunctions.RedriveExecution"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"redriveDate": 1796000100.0})),
        )
        .expect(1)
        .mount(&sfn)
        .await;
    let output = cli(&sfn.uri(), &["redrive", arn], &[]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("redriven at 2026-"),
        "{}",
        stdout(&output)
    );
    assert!(stderr(&output).contains(&format!("loadshed follow {arn}")));
    let redrive = sfn
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|v| v == "AWSStepFunctions.RedriveExecution")
        })
        .expect("a RedriveExecution request");
    let body: Value = serde_json::from_slice(&redrive.body).expect("JSON body");
    assert_eq!(body["executionArn"], arn);
}

/// A moto server of this test's own whose executions all fail (its canned FAILURE history).
struct FailingMoto {
    endpoint: String,
    child: tokio::process::Child,
}

impl FailingMoto {
    async fn start() -> FailingMoto {
        let moto = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/.venv/bin/moto_server"
                ))
            });
        assert!(
            moto.exists(),
            "{} is missing: `make tools` installs moto into .venv",
            moto.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = tokio::process::Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("SF_EXECUTION_HISTORY_TYPE", "FAILURE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto");
        let endpoint = format!("http://127.0.0.1:{port}");
        tokio::time::timeout(Duration::from_secs(30), async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("moto listens within 30 s");
        FailingMoto { endpoint, child }
    }
}

impl Drop for FailingMoto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
