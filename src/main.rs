//! `loadshed`: run the refresh workflow locally, validate and run ASL, on-call commands.

mod asl_cmd;
mod oncall;
mod refresh_cmd;
mod web_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "loadshed",
    version,
    about = "Loadshedding alerts: local workflow runner and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the refresh workflow on this machine: the real definition, the real task handlers, an
    /// in-memory store, and (with --offline) recorded upstream responses.
    Refresh(refresh_cmd::RefreshArgs),
    /// Serve the public web pages and calendar feeds on 127.0.0.1, from the offline demo or a
    /// --state file.
    Web(web_cmd::WebArgs),
    /// Validate and run Amazon States Language definitions offline.
    #[command(subcommand)]
    Asl(asl_cmd::AslCommand),
    /// Start an execution of the deployed refresh workflow; prints its ARN and console link.
    Start(oncall::StartArgs),
    /// Print an execution's history as it happens until it ends. Exit status: 0 succeeded,
    /// 1 failed, 3 timed out, 4 aborted, 2 when it cannot be followed.
    Follow(oncall::FollowArgs),
    /// Redrive a failed, timed-out or aborted execution from the state that failed.
    Redrive(oncall::RedriveArgs),
    /// Register the deployed webhook with Telegram and set the bot's command menu.
    SetWebhook(oncall::SetWebhookArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Diagnostics to stderr, quiet by default: stdout carries the run and the messages.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match cli.command {
        Command::Refresh(args) => refresh_cmd::run(args).await,
        Command::Web(args) => web_cmd::run(args).await,
        Command::Asl(cmd) => asl_cmd::run(cmd).await,
        Command::Start(args) => oncall::start(args).await,
        Command::Follow(args) => oncall::follow(args).await,
        Command::Redrive(args) => oncall::redrive(args).await,
        Command::SetWebhook(args) => oncall::set_webhook(args).await,
    }
}
