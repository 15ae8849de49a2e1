//! Schedules: one item per area and stage, under the area's partition.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;
use serde_json::json;

use super::DynamoStore;
use super::call_errors::conditional;
use super::items::{SCHEDULE_DIGEST, decode, schedule_digest, schedule_item};
use super::keys::{self, Key};
use super::wire;
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
        let input = json!({
            "Item": wire::item(&item),
            "ConditionExpression": "attribute_not_exists(#pk) OR #digest <> :digest",
            "ExpressionAttributeNames":
                wire::names(&[("#pk", keys::PK), ("#digest", SCHEDULE_DIGEST)]),
            "ExpressionAttributeValues": wire::values(&[(":digest", AttributeValue::S(digest))]),
        });
        conditional("PutItem (schedule)", self.call("PutItem", input).await)
    }
}
