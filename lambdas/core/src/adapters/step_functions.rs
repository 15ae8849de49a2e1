//! Starting the refresh workflow on AWS Step Functions (`StartExecution`), through
//! [`AwsJsonClient`] (see `super::aws_json` for why not aws-sdk-sfn).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::aws_json::{AwsJsonClient, CallError, CallPolicy, service};
use crate::ports::{ExecutionName, StartOutcome, WorkflowError, WorkflowStarter};

/// A Step Functions client for starting executions from a request that is waiting on the answer
/// (the webhook has to answer Telegram): short timeouts, a few quick attempts. `endpoint_url`
/// points it at a compatible server (moto in tests). Makes no network call: credentials and the
/// endpoint are resolved on the first request.
pub async fn client(endpoint_url: Option<&str>) -> AwsJsonClient {
    let policy = CallPolicy {
        max_attempts: 3,
        attempt_timeout: Duration::from_secs(3),
        operation_timeout: Duration::from_secs(8),
        // The webhook answers Telegram after this: pauses of up to 0.2 s and 0.4 s, not the
        // standard 1 s and 2 s.
        initial_backoff: Duration::from_millis(200),
    };
    let config = super::sdk_config::shared().await;
    AwsJsonClient::new(&service::STEP_FUNCTIONS, config, endpoint_url, policy)
}

/// Starts executions of one state machine. Build it once at start and share it.
#[derive(Debug)]
pub struct StepFunctionsStarter {
    client: AwsJsonClient,
    state_machine_arn: String,
}

impl StepFunctionsStarter {
    pub fn new(client: AwsJsonClient, state_machine_arn: impl Into<String>) -> Self {
        StepFunctionsStarter {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }

    pub fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
    }
}

#[async_trait]
impl WorkflowStarter for StepFunctionsStarter {
    async fn start(
        &self,
        name: &ExecutionName,
        input: &str,
    ) -> Result<StartOutcome, WorkflowError> {
        let request = json!({
            "stateMachineArn": self.state_machine_arn,
            "name": name.as_str(),
            "input": input,
        });
        match self.client.call("StartExecution", &request).await {
            Ok(answer) => match answer.get("executionArn").and_then(Value::as_str) {
                Some(arn) => Ok(StartOutcome::Started {
                    execution_arn: arn.to_owned(),
                }),
                // Started, by all appearances, but unnamed: retrying the same name is safe.
                None => Err(WorkflowError::Unavailable {
                    detail: format!("StartExecution answered without an executionArn: {answer}"),
                }),
            },
            Err(error) => classify(error),
        }
    }
}

/// Codes of StartExecution's own errors that retrying may cure (throttling and AWS's own failures
/// are transient for every operation: [`CallError::is_transient`]).
const TRANSIENT_START_CODES: &[&str] = &["ExecutionLimitExceeded", "KmsThrottlingException"];

fn classify(error: CallError) -> Result<StartOutcome, WorkflowError> {
    let detail = error.to_string();
    match error.code() {
        Some("ExecutionAlreadyExists") => Ok(StartOutcome::AlreadyExists),
        Some(code) if TRANSIENT_START_CODES.contains(&code) => {
            Err(WorkflowError::Unavailable { detail })
        }
        // Timeouts, dropped connections and 5xx answers: the next attempt may well succeed. A
        // request that cannot be built or signed, and every other code (InvalidArn,
        // StateMachineDoesNotExist, InvalidExecutionInput, ...), fails the same way every time.
        _ if error.is_transient() => Err(WorkflowError::Unavailable { detail }),
        _ => Err(WorkflowError::Rejected { detail }),
    }
}
