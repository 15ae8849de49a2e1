use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::{Area, Schedule, Stage, Timelines};
use crate::errors::UpstreamError;

/// Where the stage timelines come from (Eskom's GetStatus: the national stage of the moment;
/// EskomSePush's /status: national and Cape Town, each with its announced changes).
#[async_trait]
pub trait StageSource: Send + Sync {
    async fn timelines(&self) -> Result<Timelines, UpstreamError>;
}

/// Where an area's outage slots come from.
#[async_trait]
pub trait ScheduleSource: Send + Sync {
    /// The area's schedule at each of `stages`, from `today` on, one per stage asked (a source that
    /// answers every stage at once may return more). Stage 0 is what happens whatever the stage:
    /// load-reduction slots and upstream's own events, where the source knows them; without them,
    /// an empty schedule. `today` anchors dates that upstream writes without a year.
    async fn schedules(
        &self,
        area: &Area,
        stages: &[Stage],
        today: NaiveDate,
    ) -> Result<Vec<Schedule>, UpstreamError>;
}

/// Finding areas by name, for `/subscribe`.
#[async_trait]
pub trait AreaSearch: Send + Sync {
    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Area>, UpstreamError>;
}
