//! Schedules: one item per area and stage, under the area's partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue as Sdk;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::call_errors::conditional;
use super::convert::to_sdk;
use super::items::{SCHEDULE_DIGEST, decode, schedule_digest, schedule_item};
use super::keys::{self, Key};
use crate::domain::{AreaId, Schedule, Stage};
use crate::errors::StoreError;
use crate::ports::ScheduleStore;

#[async_trait]
impl ScheduleStore for DynamoStore {
    async fn schedule(&self, area: &AreaId, stage: Stage) -> Result<Option<Schedule>, StoreError> {
        self.get_item(&Key::schedule(area, stage))
            .await?
            .map(decode::<Schedule>)
            .transpose()
    }

    async fn put_schedule(
        &self,
        schedule: &Schedule,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let digest = schedule_digest(schedule)?;
        let item = schedule_item(schedule, &digest, at)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .condition_expression("attribute_not_exists(#pk) OR #digest <> :digest")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#digest", SCHEDULE_DIGEST)
            .expression_attribute_values(":digest", Sdk::S(digest))
            .send()
            .await;
        conditional("PutItem (schedule)", result)
    }
}
