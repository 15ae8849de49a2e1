use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::{Area, Schedule, Stage};
use crate::errors::UpstreamError;

/// Where the national stage comes from (Eskom's GetStatus, or EskomSePush's /status).
#[async_trait]
pub trait StageSource: Send + Sync {
    async fn current_stage(&self) -> Result<Stage, UpstreamError>;
}

/// Where an area's outage slots come from.
#[async_trait]
pub trait ScheduleSource: Send + Sync {
    /// The area's schedule at `stage` (1..=8) from `today` on. `today` anchors dates that upstream
    /// writes without a year.
    async fn schedule(
        &self,
        area: &Area,
        stage: Stage,
        today: NaiveDate,
    ) -> Result<Schedule, UpstreamError>;
}

/// Finding areas by name, for `/subscribe`.
#[async_trait]
pub trait AreaSearch: Send + Sync {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError>;
}
