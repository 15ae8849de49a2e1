//! `loadshed asl ...`: the `asl` crate's validator and executor on the command line.

mod run;
mod test_state;
mod validate;

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AslCommand {
    /// Validate definitions the way AWS's ValidateStateMachineDefinition does.
    Validate(validate::ValidateArgs),
    /// Execute a definition in-process and print status, output and history as JSON.
    Run(run::RunArgs),
    /// Test one state the way AWS's TestState API does, offline: `--cli-input-json FILE` as the AWS CLI takes it.
    TestState(test_state::TestStateArgs),
}

pub async fn run(cmd: AslCommand) -> ExitCode {
    match cmd {
        AslCommand::Validate(args) => validate::run(args),
        AslCommand::Run(args) => run::run(args).await,
        AslCommand::TestState(args) => test_state::run(args).await,
    }
}
