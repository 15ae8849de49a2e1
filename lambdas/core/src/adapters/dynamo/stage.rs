//! The national stage: one item, written conditionally on its version.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue as Sdk;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::call_errors::conditional;
use super::convert::to_sdk;
use super::items::{STAGE_UPDATED_AT_MS, decode, stage_item, stage_refresh_item};
use super::keys::{self, Key};
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
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .condition_expression("attribute_not_exists(#pk) OR #changed < :changed")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#changed", STAGE_UPDATED_AT_MS)
            .expression_attribute_values(":changed", Sdk::N(millis))
            .send()
            .await;
        conditional("PutItem (stage refresh)", result)
    }

    async fn put_stage(
        &self,
        timelines: &Timelines,
        replaced: Option<&Timelines>,
        at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<StageWrite, StoreError> {
        // The item this write replaces, for its history (`StoredStage::over`): one consistent read
        // more per stage change (a few a day). The write stays conditional on the version, so an
        // item changed between this read and the write is never overwritten with a stale history.
        let old = self.current_stage().await?;
        if old.as_ref().map(|s| s.version) != expected {
            tracing::info!(?expected, "stage write lost to another writer");
            return Ok(StageWrite::Conflict);
        }
        let written = StoredStage::next(timelines, replaced, at, expected).over(old.as_ref());
        let stage = written.stage;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(stage_item(&written)?)));
        let put = match expected {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
            Some(version) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", Sdk::N(version.to_string())),
        };
        if conditional("PutItem (stage)", put.send().await)? {
            Ok(StageWrite::Written(written))
        } else {
            tracing::info!(%stage, ?expected, "stage write lost to another writer");
            Ok(StageWrite::Conflict)
        }
    }
}
