//! The stage Lambda: reads the national stage and stores it when it changed.
//!
//! Configuration: `LOADSHED_TABLE`, optional `ESKOMSEPUSH_TOKEN` (Eskom's own site without it),
//! optional `ESKOM_BASE_URL` / `ESKOMSEPUSH_BASE_URL`.

use std::sync::Arc;

use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, Upstream};
use loadshed_core::tasks::StageTask;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    // Loaded once and shared by every AWS client of the process.
    let aws = runtime::load_config().await;
    let upstream = Upstream::from_env(runtime::SecretReader::new(&aws))?;
    let store = Arc::new(runtime::store_from_env(&aws)?);
    let task = StageTask::new(upstream.stage, store, Arc::new(SystemClock));
    runtime::run_task(|payload| task.handle(payload)).await
}
