//! Starting the refresh workflow on AWS Step Functions (`StartExecution`, aws-sdk-sfn): the one
//! call the webhook (`/refresh`) and the CLI (`loadshed start`) share.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;

use super::aws::{AwsFailure, SdkConfig};
use crate::ports::{ExecutionName, StartOutcome, WorkflowError, WorkflowStarter};

/// A Step Functions client for starting executions from a request that is waiting on the answer
/// (the webhook has to answer Telegram): short timeouts, a few quick attempts. `endpoint_url`
/// points it at a compatible server (moto in tests). Makes no network call.
pub fn client(config: &SdkConfig, endpoint_url: Option<&str>) -> aws_sdk_sfn::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(super::aws::CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build();
    // The webhook answers Telegram after this: pauses of up to 0.2 s and 0.4 s, not the
    // standard 1 s and 2 s.
    let retries = super::aws::retries_from(config, Duration::from_millis(200));
    let mut builder = aws_sdk_sfn::config::Builder::from(config)
        .timeout_config(timeouts)
        .retry_config(retries);
    if let Some(endpoint) = endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_sfn::Client::from_conf(builder.build())
}

/// Starts an execution of `state_machine_arn` named `name` (AWS picks one when `None`) with
/// `input`, and answers its ARN; an execution of that name that already exists is
/// [`StartOutcome::AlreadyExists`].
pub async fn start_execution(
    client: &aws_sdk_sfn::Client,
    state_machine_arn: &str,
    name: Option<&str>,
    input: &str,
) -> Result<StartOutcome, WorkflowError> {
    let started = client
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .set_name(name.map(str::to_owned))
        .input(input)
        .send()
        .await;
    match started {
        Ok(answer) => Ok(StartOutcome::Started {
            execution_arn: answer.execution_arn,
        }),
        Err(error) => {
            if let Some(StartExecutionError::ExecutionAlreadyExists(_)) = error.as_service_error() {
                return Ok(StartOutcome::AlreadyExists);
            }
            Err(classify(&AwsFailure::from_sdk(&error)))
        }
    }
}

/// Starts executions of one state machine. Build it once at start and share it.
#[derive(Debug)]
pub struct StepFunctionsStarter {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl StepFunctionsStarter {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
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
        start_execution(
            &self.client,
            &self.state_machine_arn,
            Some(name.as_str()),
            input,
        )
        .await
    }
}

/// Codes of StartExecution's own errors that retrying may cure (throttling and AWS's own failures
/// are transient for every operation: [`AwsFailure::is_transient`]).
const TRANSIENT_START_CODES: &[&str] = &["ExecutionLimitExceeded", "KmsThrottlingException"];

fn classify(failure: &AwsFailure) -> WorkflowError {
    let detail = failure.to_string();
    match failure.code() {
        Some(code) if TRANSIENT_START_CODES.contains(&code) => {
            WorkflowError::Unavailable { detail }
        }
        // Timeouts, dropped connections and 5xx answers: the next attempt may well succeed. A
        // request that cannot be built, and every other code (InvalidArn,
        // StateMachineDoesNotExist, InvalidExecutionInput, ...), fails the same way every time.
        _ if failure.is_transient() => WorkflowError::Unavailable { detail },
        _ => WorkflowError::Rejected { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_throttling_are_unavailable_and_bad_requests_rejected() {
        let failure = |code: Option<&str>, transient| AwsFailure::new(code, transient, "x");
        for (code, transient) in [
            (Some("ExecutionLimitExceeded"), false),
            (Some("ThrottlingException"), true),
            (None, true),
        ] {
            assert!(matches!(
                classify(&failure(code, transient)),
                WorkflowError::Unavailable { .. }
            ));
        }
        for code in [
            "InvalidArn",
            "StateMachineDoesNotExist",
            "InvalidExecutionInput",
        ] {
            assert!(matches!(
                classify(&failure(Some(code), false)),
                WorkflowError::Rejected { .. }
            ));
        }
    }
}
