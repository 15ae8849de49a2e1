//! `loadshed`: run the refresh workflow locally, validate and run ASL, on-call commands.

mod asl_cmd;
mod oncall;
mod refresh_cmd;
mod serve_cmd;
mod simulate_cmd;
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
    /// Run the whole system (workflow, schedules, streams, webhook) for a scripted, seeded stretch
    /// of virtual time against simulated Eskom and Telegram; print what every chat was told against
    /// what it should have been. Exit status 1 when a chat was told something twice, not at all,
    /// or what it should not hear.
    Simulate(simulate_cmd::SimulateArgs),
    /// Run the whole bot on this machine: Telegram by long polling, the schedules on the real
    /// clock, the store's change feed driving the tasks, a durable SQLite store in --data DIR.
    /// SIGTERM stops it cleanly (exit 0).
    Serve(serve_cmd::ServeArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Diagnostics to stderr, quiet by default: stdout carries the run and the messages.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let command = match cli.command {
        // Runs on its own runtime, whose clock is paused.
        Command::Simulate(args) => return simulate_cmd::run(args),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadshed: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(command))
}

async fn run(command: Command) -> ExitCode {
    match command {
        // Started by `main` on its own paused runtime, never here.
        Command::Simulate(_) => ExitCode::from(2),
        Command::Refresh(args) => refresh_cmd::run(args).await,
        Command::Serve(args) => serve_cmd::run(args).await,
        Command::Web(args) => web_cmd::run(args).await,
        Command::Asl(cmd) => asl_cmd::run(cmd).await,
        Command::Start(args) => oncall::start(args).await,
        Command::Follow(args) => oncall::follow(args).await,
        Command::Redrive(args) => oncall::redrive(args).await,
        Command::SetWebhook(args) => oncall::set_webhook(args).await,
    }
}
