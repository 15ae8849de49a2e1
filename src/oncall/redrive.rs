//! `loadshed redrive ARN`: restarts a failed execution from the state that failed, keeping what
//! the states before it did (Step Functions' RedriveExecution, for Standard workflows up to 14
//! days after they end).

use aws_sdk_sfn::types::ExecutionStatus;

use super::{OncallError, aws};

#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    /// The ARN of a FAILED, TIMED_OUT or ABORTED execution.
    arn: String,
}

pub async fn run(args: RedriveArgs) -> Result<(), OncallError> {
    let sfn = aws::step_functions().await;
    // Asked first so a running or succeeded execution gets our explanation, not the API's.
    let described = sfn
        .describe_execution()
        .execution_arn(&args.arn)
        .send()
        .await
        .map_err(|e| aws::error("DescribeExecution", e))?;
    let status = described.status();
    if !matches!(
        status,
        ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted
    ) {
        return Err(OncallError::NotRedrivable {
            arn: args.arn,
            status: status.as_str().to_owned(),
        });
    }
    let redriven = sfn
        .redrive_execution()
        .execution_arn(&args.arn)
        .send()
        .await
        .map_err(|e| aws::error("RedriveExecution", e))?;
    println!(
        "redriven at {}",
        redriven
            .redrive_date()
            .fmt(aws_sdk_sfn::primitives::DateTimeFormat::DateTime)
            .unwrap_or_default()
    );
    eprintln!("follow it with: loadshed follow {}", args.arn);
    Ok(())
}
