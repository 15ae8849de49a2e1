//! Starting the refresh workflow on AWS Step Functions (`StartExecution`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::http::HttpResponse;
use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_types::sdk_config::{RetryConfig, TimeoutConfig};

use crate::ports::{ExecutionName, StartOutcome, WorkflowError, WorkflowStarter};

/// A Step Functions client for starting executions from a request that is waiting on the answer
/// (the webhook has to answer Telegram): short timeouts, a few quick attempts. `endpoint_url`
/// points it at a compatible server (moto in tests). Makes no network call: credentials and the
/// endpoint are resolved on the first request.
pub async fn client(endpoint_url: Option<&str>) -> Client {
    let mut config = aws_sdk_sfn::config::Builder::from(super::sdk_config::shared().await)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

/// Starts executions of one state machine. Cheap to clone; build it once at start.
#[derive(Debug, Clone)]
pub struct StepFunctionsStarter {
    client: Client,
    state_machine_arn: String,
}

impl StepFunctionsStarter {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
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
        let sent = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name.as_str())
            .input(input)
            .send()
            .await;
        match sent {
            Ok(output) => Ok(StartOutcome::Started {
                execution_arn: output.execution_arn().to_owned(),
            }),
            Err(err) => classify(err),
        }
    }
}

/// Error codes AWS sends for throttling and its own failures that the SDK does not model for this
/// operation (they arrive as `Unhandled`).
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
];

fn classify(
    err: SdkError<StartExecutionError, HttpResponse>,
) -> Result<StartOutcome, WorkflowError> {
    let detail = DisplayErrorContext(&err).to_string();
    let transient = || {
        Err(WorkflowError::Unavailable {
            detail: detail.clone(),
        })
    };
    let permanent = || {
        Err(WorkflowError::Rejected {
            detail: detail.clone(),
        })
    };
    match &err {
        SdkError::ServiceError(context) => match context.err() {
            StartExecutionError::ExecutionAlreadyExists(_) => Ok(StartOutcome::AlreadyExists),
            StartExecutionError::ExecutionLimitExceeded(_)
            | StartExecutionError::KmsThrottlingException(_) => transient(),
            StartExecutionError::InvalidArn(_)
            | StartExecutionError::InvalidExecutionInput(_)
            | StartExecutionError::InvalidName(_)
            | StartExecutionError::KmsAccessDeniedException(_)
            | StartExecutionError::KmsInvalidStateException(_)
            | StartExecutionError::StateMachineDeleting(_)
            | StartExecutionError::StateMachineDoesNotExist(_)
            | StartExecutionError::ValidationException(_) => permanent(),
            other => {
                let code = other.code().unwrap_or_default();
                if TRANSIENT_CODES.contains(&code) || context.raw().status().is_server_error() {
                    transient()
                } else {
                    permanent()
                }
            }
        },
        // Nothing was sent: the request itself is wrong (missing region, bad endpoint, ...).
        SdkError::ConstructionFailure(_) => permanent(),
        // Timeouts, dropped connections and unreadable answers: the next attempt may well succeed.
        _ => transient(),
    }
}
