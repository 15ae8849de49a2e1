//! `loadshed simulate`: the whole system for a scripted stretch of virtual time; prints a JSON
//! summary and fails when any chat was told something twice, not at all, or what it should not hear.

use std::process::ExitCode;
use std::time::Duration;

use loadshed::simulate::{self, SimConfig};

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Subscribed chats (each follows one to three areas).
    #[arg(long, default_value_t = 200)]
    chats: usize,
    /// Areas.
    #[arg(long, default_value_t = 20)]
    areas: usize,
    /// Seed of the script (stage changes, revisions, who asks, Telegram's refusals).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Virtual hours the script runs for.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=72))]
    hours: u32,
    /// Telegram's time per call, in milliseconds.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// The notify function's paid broadcast rate (`TELEGRAM_PAID_BROADCAST_RATE`): messages a
    /// second, up to Telegram's 1,000; 0 keeps the free 30.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    paid_broadcast_rate: u32,
}

pub fn run(args: SimulateArgs) -> ExitCode {
    let config = SimConfig {
        chats: args.chats,
        areas: args.areas,
        seed: args.seed,
        hours: args.hours,
        latency: Duration::from_millis(args.latency_ms),
        paid_rate: args.paid_broadcast_rate,
    };
    // Virtual time: tokio's clock is paused and jumps ahead whenever every task waits on a timer.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadshed simulate: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    match runtime.block_on(simulate::run(config)) {
        Ok(summary) => {
            let mut json = serde_json::to_value(&summary).unwrap_or_default();
            if let Some(fields) = json.as_object_mut() {
                fields.insert(
                    "real_seconds".to_owned(),
                    serde_json::json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
                );
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            );
            if summary.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("loadshed simulate: {error}");
            ExitCode::from(2)
        }
    }
}
