// Owned by the validator work (issue 5): `loadshed asl validate`.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs) -> ExitCode {
    ExitCode::from(2)
}
