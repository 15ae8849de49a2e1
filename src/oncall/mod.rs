//! On-call commands against the deployed stack: start the refresh workflow, follow an execution as
//! it happens, redrive a failed one, and register the webhook with Telegram.
//!
//! AWS access is the standard configuration (profile, environment, SSO); `AWS_ENDPOINT_URL` points
//! every client at another server, which is how the tests reach moto.

mod aws;
mod follow;
mod history;
mod redrive;
mod set_webhook;
mod stack;
mod start;

use std::process::ExitCode;

pub use follow::FollowArgs;
pub use redrive::RedriveArgs;
pub use set_webhook::SetWebhookArgs;
pub(crate) use set_webhook::menu;
pub use start::StartArgs;

/// The stack `make deploy` creates, unless `--stack` or `LOADSHED_STACK` names another.
pub const DEFAULT_STACK: &str = "loadshed";

/// Exit status when the command itself could not do its job (bad arguments, AWS refused, ...), as
/// opposed to an execution that ended badly (see `follow`).
const EXIT_ERROR: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum OncallError {
    #[error(
        "no state machine given: pass --state-machine-arn, set LOADSHED_STATE_MACHINE_ARN, or deploy the stack \
         ({0})"
    )]
    NoStateMachine(String),
    #[error("the execution input {0}")]
    Input(String),
    #[error("{operation}: {detail}")]
    Aws {
        operation: &'static str,
        detail: String,
    },
    #[error("stack {stack} has no output {key}; is it the loadshed stack, fully deployed?")]
    MissingOutput { stack: String, key: &'static str },
    #[error(
        "execution {arn} is {status}; only FAILED, TIMED_OUT or ABORTED executions can be redriven \
         (start a new one with `loadshed start` instead)"
    )]
    NotRedrivable { arn: String, status: String },
    #[error(transparent)]
    Config(#[from] loadshed_core::runtime::ConfigError),
    #[error(transparent)]
    Secret(#[from] loadshed_core::runtime::secrets::SecretError),
    #[error("Telegram: {0}")]
    Telegram(String),
}

/// Prints the error and turns it into the exit status for command errors.
fn fail(error: OncallError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_ERROR)
}

pub async fn start(args: StartArgs) -> ExitCode {
    start::run(args)
        .await
        .map_or_else(fail, |()| ExitCode::SUCCESS)
}

pub async fn follow(args: FollowArgs) -> ExitCode {
    follow::run(args).await.unwrap_or_else(fail)
}

pub async fn redrive(args: RedriveArgs) -> ExitCode {
    redrive::run(args)
        .await
        .map_or_else(fail, |()| ExitCode::SUCCESS)
}

pub async fn set_webhook(args: SetWebhookArgs) -> ExitCode {
    set_webhook::run(args)
        .await
        .map_or_else(fail, |()| ExitCode::SUCCESS)
}
