//! EventBridge Scheduler, locally: each `Type: ScheduleV2` event of the template fires its function
//! with its Input at the times its expression names, in the schedule's time zone.
//!
//! Scheduler invokes Lambda asynchronously, so a firing never waits for the previous one, and a
//! function error is retried by Lambda's asynchronous invocation: twice, about one and then two
//! minutes later. An invocation that fails all three times is dropped (the template configures no
//! on-failure destination for asynchronous invocations); the local run lists it as a dead letter so
//! it is never silent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use super::clock::TokioClock;
use super::lambda::Lambdas;
use super::streams::{DeadLetter, DeadLetters};
use super::template::ScheduleSource;

/// Lambda's asynchronous retries: the pause before each.
const ASYNC_RETRIES: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

pub struct ScheduleRunner {
    pub source: ScheduleSource,
    pub function: String,
    pub lambdas: Arc<Lambdas>,
    pub dead_letters: Arc<DeadLetters>,
    pub clock: TokioClock,
}

impl ScheduleRunner {
    /// Fires until `until` (tokio time); each firing runs on its own task.
    pub fn start(self, until: Instant) -> JoinHandle<()> {
        tokio::spawn(self.run(until))
    }

    async fn run(self, until: Instant) {
        let runner = Arc::new(self);
        let mut after = runner.clock.utc_now();
        while let Some(next) = runner
            .source
            .expression
            .next_after(after, runner.source.timezone)
        {
            let at = runner.clock.instant(next);
            if at > until {
                break;
            }
            sleep_until(at).await;
            after = next;
            let runner = runner.clone();
            tokio::spawn(async move { runner.fire(runner.source.input.clone()).await });
        }
    }

    /// One asynchronous invocation with Lambda's retries.
    pub async fn fire(&self, input: Value) {
        let mut last_error = None;
        for pause in std::iter::once(Duration::ZERO).chain(ASYNC_RETRIES) {
            sleep(pause).await;
            match self.lambdas.invoke(&self.function, input.clone()).await {
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(schedule = %self.source.id, ?error, "scheduled invocation failed");
                    last_error = Some(error);
                }
            }
        }
        let reason = match last_error {
            Some(error) => format!(
                "asynchronous invocation failed 3 times: {}",
                error.as_task_failure().error
            ),
            None => "asynchronous invocation failed".to_owned(),
        };
        self.dead_letters.push(DeadLetter {
            source: self.source.id.clone(),
            reason,
            records: Vec::new(),
            at: self.clock.utc_now().to_rfc3339(),
        });
    }
}
