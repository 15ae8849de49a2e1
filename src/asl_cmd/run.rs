// Owned by the engine work (issue 5): `loadshed asl run`.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub async fn run(_args: RunArgs) -> ExitCode {
    ExitCode::from(2)
}
