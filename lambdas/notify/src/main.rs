//! The notify Lambda: tells subscribers of stage and schedule changes, reminds them before their
//! slots, and answers `/refresh` with the chat's status.
//!
//! Configuration: `LOADSHED_TABLE`, `TELEGRAM_BOT_TOKEN`, optional `REMINDER_LEAD_MINUTES` (15),
//! optional `TELEGRAM_API_BASE_URL`.

use std::sync::Arc;

use chrono::Duration;
use loadshed_core::clock::SystemClock;
use loadshed_core::runtime::{self, env};
use loadshed_core::tasks::{NotifyConfig, NotifyTask};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let telegram = Arc::new(runtime::telegram_from_env()?);
    let store = Arc::new(runtime::store_from_env().await?);
    let config = NotifyConfig {
        reminder_lead: Duration::minutes(env::parsed_or("REMINDER_LEAD_MINUTES", 15)?),
        ..NotifyConfig::default()
    };
    let task = NotifyTask::new(store, telegram, Arc::new(SystemClock), config);
    runtime::run_task_within(|payload, left| task.handle_within(payload, left)).await
}
