//! The national stage: one item, written conditionally on its version.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::items::{STAGE_UPDATED_AT_MS, decode, stage_item, stage_refresh_item};
use super::keys::{self, Key};
use super::sdk_errors::conditional_put;
use crate::domain::Stage;
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
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #changed < :changed")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#changed", STAGE_UPDATED_AT_MS)
            .expression_attribute_values(":changed", AttributeValue::N(millis))
            .send()
            .await;
        conditional_put("PutItem (stage refresh)", result)
    }

    async fn put_stage(
        &self,
        stage: Stage,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        let written = StoredStage {
            stage,
            updated_at: at,
            version: expected.map_or(1, |v| v + 1),
        };
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(stage_item(&written)?));
        let request = match expected {
            None => request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
            Some(version) => request
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", AttributeValue::N(version.to_string())),
        };
        if conditional_put("PutItem (stage)", request.send().await)? {
            Ok(StageWrite::Written(written))
        } else {
            tracing::info!(%stage, ?expected, "stage write lost to another writer");
            Ok(StageWrite::Conflict)
        }
    }
}
