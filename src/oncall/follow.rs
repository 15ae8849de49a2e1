//! `loadshed follow ARN`: prints an execution's history as it happens, until it ends; the exit
//! status tells how it ended.

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_sfn::types::HistoryEvent;

use super::history::{self, Outcome};
use super::{OncallError, aws};

#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    /// The execution's ARN, as `loadshed start` prints it.
    arn: String,
    /// Seconds between polls.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    interval: u64,
}

pub async fn run(args: FollowArgs) -> Result<ExitCode, OncallError> {
    let sfn = aws::step_functions().await;
    let mut last_printed = 0;
    loop {
        // The status first: when it says the execution ended, the history read after it is
        // complete.
        let described = sfn
            .describe_execution()
            .execution_arn(&args.arn)
            .send()
            .await
            .map_err(|e| aws::error("DescribeExecution", e))?;
        let mut ended = None;
        for event in full_history(&sfn, &args.arn).await? {
            if event.id() > last_printed {
                println!("{}", history::line(&event));
                last_printed = event.id();
                ended = Outcome::of_event(&event).or(ended);
            }
        }
        if let Some(outcome) = ended.or_else(|| Outcome::of_status(described.status())) {
            println!("execution {}", outcome.name());
            return Ok(outcome.exit_code());
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
}

/// Every event so far, oldest first. The whole history is read on each poll because the API has
/// no "events after id N": a pagination token is only good for the pages that existed when it was
/// issued. Our executions have a few dozen events.
async fn full_history(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
) -> Result<Vec<HistoryEvent>, OncallError> {
    sfn.get_execution_history()
        .execution_arn(arn)
        .include_execution_data(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws::error("GetExecutionHistory", e))
}
