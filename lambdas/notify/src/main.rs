//! The notify Lambda: tells subscribers of stage and schedule changes, reminds them before their
//! slots, and answers `/refresh` with the chat's status.
//!
//! Configuration: `LOADSHED_TABLE`, `TELEGRAM_BOT_TOKEN`, optional `TELEGRAM_API_BASE_URL` and
//! `TELEGRAM_PAID_BROADCAST_RATE` (paid broadcasts up to that many messages a second; 0: off). Each
//! chat chooses its reminder lead with `/settings` (15 minutes until it does).

use std::sync::Arc;

use loadshed_core::clock::SystemClock;
use loadshed_core::runtime;
use loadshed_core::tasks::{NotifyConfig, NotifyTask};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let paid_rate = runtime::paid_broadcast_rate_from_env()?;
    // Loaded once and shared by every AWS client of the process.
    let aws = runtime::load_config().await;
    let telegram = Arc::new(runtime::telegram_from_env(runtime::SecretReader::new(
        &aws,
    ))?);
    let store = Arc::new(runtime::store_from_env(&aws)?);
    // Each chat's reminder lead is its own (`/settings`, 15 minutes unless it chose).
    let task = NotifyTask::new(
        store,
        telegram,
        Arc::new(SystemClock),
        NotifyConfig::default().with_paid_broadcast_rate(paid_rate),
    );
    runtime::run_task_within(|payload, left| task.handle_within(payload, left)).await
}
