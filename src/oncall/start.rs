//! `loadshed start`: starts an execution of the deployed refresh workflow and prints its ARN and
//! console link.

use loadshed_core::adapters::step_functions;
use loadshed_core::ports::StartOutcome;
use loadshed_core::tasks::WorkflowState;
use serde_json::Value;

use super::stack::{STATE_MACHINE_ARN, Stack};
use super::{DEFAULT_STACK, OncallError, aws};

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The execution input: JSON, or @FILE (e.g. @statemachine/events/console-force.json). It is
    /// checked against the workflow's input shape before anything starts.
    #[arg(long, default_value = "{}")]
    input: String,
    /// The execution's name: 1-80 letters, digits, '-' or '_', unique per state machine for 90
    /// days. AWS picks one when absent.
    #[arg(long)]
    name: Option<String>,
    /// The refresh state machine. Without it, the StateMachineArn output of --stack.
    #[arg(long, env = "LOADSHED_STATE_MACHINE_ARN")]
    state_machine_arn: Option<String>,
    /// The stack `make deploy` created.
    #[arg(long, env = "LOADSHED_STACK", default_value = DEFAULT_STACK)]
    stack: String,
}

pub async fn run(args: StartArgs) -> Result<(), OncallError> {
    let input = workflow_input(&args.input)?;
    let state_machine_arn = match args.state_machine_arn {
        Some(arn) => arn,
        None => Stack::describe(&args.stack)
            .await
            .map_err(|e| OncallError::NoStateMachine(e.to_string()))?
            .output(STATE_MACHINE_ARN)?
            .to_owned(),
    };
    // The one StartExecution, the webhook's own (`/refresh`).
    let client = aws::step_functions().await;
    let started =
        step_functions::start_execution(&client, &state_machine_arn, args.name.as_deref(), &input)
            .await
            .map_err(|e| OncallError::Aws {
                operation: "StartExecution",
                detail: e.to_string(),
            })?;
    let arn = match &started {
        StartOutcome::Started { execution_arn } => execution_arn.as_str(),
        StartOutcome::AlreadyExists => {
            return Err(OncallError::Aws {
                operation: "StartExecution",
                detail: format!(
                    "an execution named {} already exists",
                    args.name.as_deref().unwrap_or_default()
                ),
            });
        }
    };
    // The ARN alone on the first line, so scripts can take it: `arn=$(loadshed start | head -1)`.
    println!("{arn}");
    if let Some(link) = console_link(arn) {
        println!("{link}");
    }
    eprintln!("follow it with: loadshed follow {arn}");
    Ok(())
}

/// The input as sent to Step Functions: a JSON object the workflow accepts (the tasks read it as
/// `WorkflowState`, which refuses unknown fields, so a typo fails here and not in the first task).
fn workflow_input(arg: &str) -> Result<String, OncallError> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| OncallError::Input(format!("file {path} cannot be read: {e}")))?,
        None => arg.to_owned(),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| OncallError::Input(format!("is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(OncallError::Input(format!(
            "must be a JSON object, got {value}"
        )));
    }
    serde_json::from_value::<WorkflowState>(value.clone())
        .map_err(|e| OncallError::Input(format!("is not a workflow input: {e}")))?;
    Ok(value.to_string())
}

/// The execution's page in the Step Functions console, from the parts of its ARN
/// (`arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME`).
pub fn console_link(execution_arn: &str) -> Option<String> {
    let mut parts = execution_arn.split(':');
    let (Some("arn"), Some(partition), Some("states"), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let domain = match partition {
        "aws" => "console.aws.amazon.com",
        "aws-cn" => "console.amazonaws.cn",
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        _ => return None,
    };
    Some(format!(
        "https://{region}.{domain}/states/home?region={region}#/v2/executions/details/{execution_arn}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_before_anything_starts() {
        assert_eq!(workflow_input("{}").expect("empty object"), "{}");
        assert!(workflow_input(r#"{"chat_id": 42, "force": true}"#).is_ok());
        for bad in ["", "[1]", "42", r#"{"chatid": 42}"#, r#"{"force": "yes"}"#] {
            assert!(workflow_input(bad).is_err(), "{bad:?} was accepted");
        }
        let missing = workflow_input("@/nonexistent/input.json").expect_err("no such file");
        assert!(
            missing.to_string().contains("/nonexistent/input.json"),
            "{missing}"
        );
    }

    #[test]
    fn console_links_follow_the_partition() {
        let arn = "arn:aws:states:af-south-1:123456789012:execution:Refresh:run-1";
        assert_eq!(
            console_link(arn).as_deref(),
            Some(
                "https://af-south-1.console.aws.amazon.com/states/home?region=af-south-1#/v2/executions/details/\
                 arn:aws:states:af-south-1:123456789012:execution:Refresh:run-1"
            )
        );
        assert!(
            console_link("arn:aws-cn:states:cn-north-1:1:execution:m:n")
                .is_some_and(|l| l.contains("amazonaws.cn"))
        );
        assert_eq!(console_link("not an arn"), None);
    }
}
