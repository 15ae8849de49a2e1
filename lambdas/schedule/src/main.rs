//! The schedule Lambda: refreshes the outage slots of every subscribed area at the current stage.
//!
//! Configuration: `LOADSHED_TABLE`, optional `ESKOMSEPUSH_TOKEN` (needed for EskomSePush areas),
//! optional `ESKOM_BASE_URL` / `ESKOMSEPUSH_BASE_URL`, optional `STALE_SCHEDULE_HOURS` (default 36:
//! an area with no good fetch for longer is counted in the `stale_areas` the alarm watches).

use std::sync::Arc;

use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, Upstream, env};
use loadshed_core::tasks::ScheduleTask;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    // Loaded once and shared by every AWS client of the process.
    let aws = runtime::load_config().await;
    let upstream = Upstream::from_env(runtime::SecretReader::new(&aws))?;
    let store = Arc::new(runtime::store_from_env(&aws)?);
    let stale_hours: u32 = env::parsed_or(
        "STALE_SCHEDULE_HOURS",
        ScheduleTask::DEFAULT_STALE_AFTER_HOURS as u32,
    )?;
    let task = ScheduleTask::new(upstream.schedules, store, Arc::new(SystemClock))
        .with_stale_after(chrono::Duration::hours(i64::from(stale_hours)));
    runtime::run_task(|payload| task.handle(payload)).await
}
