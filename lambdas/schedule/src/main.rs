//! The schedule Lambda: refreshes the outage slots of every subscribed area at the current stage.
//!
//! Configuration: `LOADSHED_TABLE`, optional `ESKOMSEPUSH_TOKEN` (needed for EskomSePush areas),
//! optional `ESKOM_BASE_URL` / `ESKOMSEPUSH_BASE_URL`.

use std::sync::Arc;

use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, Upstream};
use loadshed_core::tasks::ScheduleTask;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let upstream = Upstream::from_env()?;
    let store = Arc::new(runtime::store_from_env().await?);
    let task = ScheduleTask::new(upstream.schedules, store, Arc::new(SystemClock));
    runtime::run_task(|payload| task.handle(payload)).await
}
