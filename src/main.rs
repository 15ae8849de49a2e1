//! `loadshed`: run the refresh workflow locally, validate and run ASL, on-call commands.

mod asl_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "loadshed", version, about = "Loadshedding alerts: local workflow runner and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate and run Amazon States Language definitions offline.
    #[command(subcommand)]
    Asl(asl_cmd::AslCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Asl(cmd) => asl_cmd::run(cmd).await,
    }
}
