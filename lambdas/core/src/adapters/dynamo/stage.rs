//! The national stage: one item, written conditionally on its version.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_dynamo::AttributeValue;
use serde_json::json;

use super::DynamoStore;
use super::call_errors::conditional;
use super::items::{STAGE_UPDATED_AT_MS, decode, stage_item, stage_refresh_item};
use super::keys::{self, Key};
use super::wire;
use crate::domain::Timelines;
use crate::errors::StoreError;
use crate::ports::{StageRefresh, StageStore, StageWrite, StoredStage};

#[async_trait]
impl StageStore for DynamoStore {
    async fn current_stage(&self) -> Result<Option<StoredStage>, StoreError> {
        self.get_item(&Key::stage())
            .await?
            .map(decode::<StoredStage>)
            .transpose()
    }

    async fn stage_refresh(&self) -> Result<Option<StageRefresh>, StoreError> {
        self.get_item(&Key::stage_refresh())
            .await?
            .map(decode::<StageRefresh>)
            .transpose()
    }

    async fn put_stage_refresh(&self, marker: &StageRefresh) -> Result<bool, StoreError> {
        let millis = marker.stage_updated_at.timestamp_millis().to_string();
        let item = stage_refresh_item(marker)?;
        let input = json!({
            "Item": wire::item(&item),
            "ConditionExpression": "attribute_not_exists(#pk) OR #changed < :changed",
            "ExpressionAttributeNames":
                wire::names(&[("#pk", keys::PK), ("#changed", STAGE_UPDATED_AT_MS)]),
            "ExpressionAttributeValues": wire::values(&[(":changed", AttributeValue::N(millis))]),
        });
        conditional("PutItem (stage refresh)", self.call("PutItem", input).await)
    }

    async fn put_stage(
        &self,
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        let written = StoredStage::next(timelines, replaced, at, expected);
        let stage = written.stage;
        let item = wire::item(&stage_item(&written)?);
        let input = match expected {
            None => json!({
                "Item": item,
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": wire::names(&[("#pk", keys::PK)]),
            }),
            Some(version) => json!({
                "Item": item,
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": wire::names(&[("#version", "version")]),
                "ExpressionAttributeValues":
                    wire::values(&[(":expected", AttributeValue::N(version.to_string()))]),
            }),
        };
        if conditional("PutItem (stage)", self.call("PutItem", input).await)? {
            Ok(StageWrite::Written(written))
        } else {
            tracing::info!(%stage, ?expected, "stage write lost to another writer");
            Ok(StageWrite::Conflict)
        }
    }
}
